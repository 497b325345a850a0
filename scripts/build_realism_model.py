"""Rebuild the judge's realism model from folders of real dance (a2a_cli/scoring/realism.py).

    python scripts/build_realism_model.py ../shared/reference/real-dance -o a2a_cli/scoring/data/realism_model.json \
        --procedural-traits tests/data/realism_procedural_traits.npz

Every motion file under the given folders (or the files given) is read as a2a reads it (AIST++
.pkl, AMASS .npz, BVH of any skeleton through the retarget, a2a .npy/.npz), cut into 2-s windows
and measured on the realism traits; genres (AIST++'s genre codes, else each file's folder) weigh
the same. `--hold-out` keeps files whose name matches a pattern out of the model, for testing on
them (the shipped model holds out `HELD_OUT`, which tests/test_realism.py scores). Each folder's
README.md (its data's source and licence) is credited in the model's `about`. Prints the time taken.
`--procedural-traits` also writes the procedural dances' traits (below), which the test of the
shipped model refits from (it re-dances a sample of them to check they are still choreo's).

The model's discriminant learns real windows against procedural ones, which this script makes
(`procedural_dances`): a2a's `choreo` in every style on `PROCEDURAL_TEMPI` synthetic songs with
`PROCEDURAL_SEEDS`, and `KNOB_VARIANTS` variants of it with its performer's knobs (`KNOBS`: the
drift's size and smoothing, pivots, timing lean, attitude, arm variation, pump, accent, weight shift,
dip) drawn at random, as a miner tuning `choreo` against the judge would turn them, and the
`TUNED_KNOBS` that such a tuning found against earlier fits. The tests judge
`choreo` on other songs, and the frozen `choreo` of judge 2.0 (tests/data/procedural), which the
model never sees.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from a2a_cli.fileio import atomic_path
from a2a_cli.motion.format_names import FORMATS, READ_ONLY_FORMATS
from a2a_cli.scoring.motion_traits import window_traits
from a2a_cli.scoring.realism import dance_traits, fit_realism_model

# The shipped model's held-back real clips: two whole salsa takes (both partners), never in training.
HELD_OUT = ("60_11_*", "61_11_*", "60_12_*", "61_12_*")
_SUFFIXES = {f".{name}" for name in FORMATS + READ_ONLY_FORMATS}
# The procedural dances the discriminant learns from: every choreo style on a song at each tempo
# (examples.synth_song, song seed 100 + its index, a beat offset of 0.05 s per index), each seed.
PROCEDURAL_TEMPI = (70, 84, 98, 112, 126, 140, 160, 180)
PROCEDURAL_SEEDS = (0, 1)
PROCEDURAL_SECONDS = 12.0
# The knobs of choreo's performer a variant draws (uniform in these ranges, "drift" scales every
# channel of DRIFT), KNOB_VARIANTS of them from KNOB_SEED, each danced in every style to one song.
KNOBS = {"drift": (0.2, 4.0), "DRIFT_FRAMES": (1, 25), "PIVOT_DEG": (0.0, 150.0), "PIVOT_PULL": (0.2, 0.95),
         "TIMING_LEAN": (0.0, 2.0), "ATTITUDE_DEG": (0.0, 30.0), "VARIATION_DEG": (0.0, 60.0), "MAX_PUMP": (0.0, 12.0),
         "ACCENT": (0.8, 1.8), "WEIGHT_ON_STEP": (0.5, 1.0), "MAX_DIP_M": (0.02, 0.4)}
KNOB_VARIANTS = 64
KNOB_SEED = 1000
# Settings that a hill climb of choreo's knobs against earlier fits of this model found (a miner's
# tuning: jittery drift, a weak pump, little timing lean), learned as well.
TUNED_KNOBS = (
    {"drift": 1.82, "PIVOT_DEG": 60.5, "TIMING_LEAN": 0.04, "ATTITUDE_DEG": 5.3, "VARIATION_DEG": 45.7, "MAX_PUMP": 2.19,
     "ACCENT": 0.99, "DRIFT_FRAMES": 2, "WEIGHT_ON_STEP": 0.95, "MAX_DIP_M": 0.19, "PIVOT_PULL": 0.82},
    {"drift": 1.65, "PIVOT_DEG": 45.4, "TIMING_LEAN": 0.06, "ATTITUDE_DEG": 4.9, "VARIATION_DEG": 34.4, "MAX_PUMP": 1.21,
     "ACCENT": 0.84, "DRIFT_FRAMES": 2, "WEIGHT_ON_STEP": 0.76, "MAX_DIP_M": 0.36, "PIVOT_PULL": 0.53},
    {"drift": 0.44, "PIVOT_DEG": 27.6, "TIMING_LEAN": 0.7, "ATTITUDE_DEG": 0.87, "VARIATION_DEG": 8.5, "MAX_PUMP": 1.39,
     "ACCENT": 1.67, "DRIFT_FRAMES": 2, "WEIGHT_ON_STEP": 0.64, "MAX_DIP_M": 0.19, "PIVOT_PULL": 0.51},
)
_SR = 22050


@contextlib.contextmanager
def choreo_knobs(knobs: dict[str, float]) -> Iterator[None]:
    """choreo's performer with `knobs` (names of `KNOBS`) set, restored on leaving."""
    from a2a_cli.generation.choreo import performer

    saved_drift = dict(performer.DRIFT)
    saved = {name: getattr(performer, name) for name in knobs if name != "drift"}
    try:
        performer.DRIFT.update({c: tuple(v * knobs.get("drift", 1.0) for v in values) for c, values in saved_drift.items()})
        for name in saved:
            setattr(performer, name, type(saved[name])(knobs[name]))
        yield
    finally:
        performer.DRIFT.update(saved_drift)
        for name, value in saved.items():
            setattr(performer, name, value)


def knob_variants(count: int = KNOB_VARIANTS, seed: int = KNOB_SEED) -> list[dict[str, float]]:
    """`count` random settings of choreo's `KNOBS`."""
    rng = np.random.default_rng(seed)
    return [{name: (int(rng.integers(lo, hi + 1)) if isinstance(lo, int) else float(rng.uniform(lo, hi)))
             for name, (lo, hi) in KNOBS.items()} for _ in range(count)]


def procedural_recipes() -> list[dict]:
    """Each procedural dance the discriminant learns from (module doc), in order: {"style": a choreo
    style, "song": its song's index in `PROCEDURAL_TEMPI`, "seed": the dance's seed, "knobs": the
    performer's `KNOBS` set for it ({}: choreo as it is)}."""
    from a2a_cli.generation.choreo import STYLES

    songs = range(len(PROCEDURAL_TEMPI))
    recipes = [{"style": style, "song": k, "seed": seed, "knobs": {}}
               for style in STYLES for k in songs for seed in PROCEDURAL_SEEDS]
    for k, knobs in enumerate(knob_variants() + list(TUNED_KNOBS)):
        recipes += [{"style": style, "song": (k + i) % len(songs), "seed": k, "knobs": knobs} for i, style in enumerate(STYLES)]
    return recipes


def procedural_dances(recipes: list[dict] | None = None) -> list[np.ndarray]:
    """(W, F) window traits of each of `recipes` (`procedural_recipes`; None: all of them) danced."""
    from a2a_cli.audio import analyze
    from a2a_cli.examples import synth_song
    from a2a_cli.generation.choreo import ChoreoGenerator

    recipes = procedural_recipes() if recipes is None else recipes
    songs = {k: analyze(synth_song(PROCEDURAL_TEMPI[k], PROCEDURAL_SECONDS, _SR, seed=100 + k, offset_s=0.05 * k), _SR)
             for k in sorted({recipe["song"] for recipe in recipes})}
    traits = []
    for recipe in recipes:
        with choreo_knobs(recipe["knobs"]):
            # the seed's first draw (generation.on_beat): choreo's own motion, whichever draw follows the beat best
            dance = ChoreoGenerator(recipe["style"], draws=1).generate(songs[recipe["song"]], PROCEDURAL_SECONDS, recipe["seed"])
        traits.append(window_traits(dance.joints))
    return traits


def save_procedural_traits(path: Path, recipes: list[dict], traits: list[np.ndarray]) -> None:
    """Write each recipe (JSON text) and its (W, F) window traits to `path` (.npz), for
    tests/test_realism.py to refit the model without dancing them all again."""
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, recipes=np.array([json.dumps(r, sort_keys=True) for r in recipes]),
                            windows=np.array([len(t) for t in traits]), traits=np.concatenate(traits))


def load_procedural_traits(path: Path) -> tuple[list[dict], list[np.ndarray]]:
    """(recipes, (W, F) window traits of each) as `save_procedural_traits` wrote them."""
    with np.load(path, allow_pickle=False) as stored:
        recipes = [json.loads(text) for text in stored["recipes"]]
        traits = np.split(stored["traits"], np.cumsum(stored["windows"])[:-1])
    return recipes, traits


def real_files(sources: list[Path], held_out: tuple[str, ...]) -> tuple[list[Path], list[Path]]:
    """(training files, held-out files) under `sources` (folders searched recursively, or files)."""
    files = []
    for source in sources:
        files += sorted(p for p in source.rglob("*") if p.suffix.lower() in _SUFFIXES) if source.is_dir() else [source]
    held = [p for p in files if any(fnmatch.fnmatch(p.name, pattern) for pattern in held_out)]
    return [p for p in files if p not in held], held


def credits(sources: list[Path]) -> dict[str, str]:
    """The first line of each source folder's README (title of the data, with its licence beside it)."""
    out = {}
    for source in sources:
        for readme in sorted((source if source.is_dir() else source.parent).rglob("README.md")):
            out[str(readme.parent.name)] = readme.read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="+", type=Path, help="folders or files of real dance")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the model file to write (JSON)")
    parser.add_argument("--hold-out", action="append", default=None,
                        help=f"file-name pattern kept out of the model (repeatable; default {' '.join(HELD_OUT)})")
    parser.add_argument("--procedural-traits", type=Path, default=None,
                        help="also write the procedural dances' window traits here (.npz; the shipped model's: "
                             "tests/data/realism_procedural_traits.npz)")
    args = parser.parse_args(argv)
    held_out = tuple(args.hold_out) if args.hold_out is not None else HELD_OUT
    started = time.perf_counter()
    train, held = real_files(args.sources, held_out)
    if not train:
        print("error: no real dance files found", file=sys.stderr)
        return 2
    recipes = procedural_recipes()
    procedural = procedural_dances(recipes)
    model = fit_realism_model(dance_traits(train), procedural, about={
        "built_by": "scripts/build_realism_model.py", "sources": credits(args.sources),
        "files": [p.name for p in train], "held_out": [p.name for p in held],
        "procedural": f"choreo, every style, {len(PROCEDURAL_TEMPI)} songs of {min(PROCEDURAL_TEMPI)}-"
                      f"{max(PROCEDURAL_TEMPI)} BPM x seeds {list(PROCEDURAL_SEEDS)}, and {KNOB_VARIANTS} random and "
                      f"{len(TUNED_KNOBS)} tuned settings of its knobs in every style, {PROCEDURAL_SECONDS:.0f} s each",
    })
    with atomic_path(args.output) as tmp:
        Path(tmp).write_text(model.to_json() + "\n", encoding="utf-8")
    if args.procedural_traits is not None:
        save_procedural_traits(args.procedural_traits, recipes, procedural)
    print(f"{args.output}: {model.about['windows']} windows of {len(train)} files in "
          f"{len(model.about['genres'])} genres ({len(held)} held out), against {model.about['procedural_windows']} "
          f"procedural windows, in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
