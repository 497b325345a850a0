"""Benchmark: a classifier two-sample test of 2-s windows, generated dance against real dance (issue 17).

A logistic regression (standardised features, balanced classes) learns to tell the 2-s windows of
one set of dances from those of real dancers; it is cross-validated by clip (StratifiedGroupKFold:
every window of a clip is in one fold, each fold holds clips of both sides), and its out-of-fold
scores give an AUC by rank (Mann-Whitney), averaged over 5 fold assignments. 0.5: the classifier cannot tell them apart; 1.0: every
window is told. Read per genre: real genres differ among themselves.

Sets tested (the rows):
- `library` and `choreo`: `get_generator(...)`, 20-s dances to 10 synthetic songs of 70-180 BPM, seed 0;
- `naive shuffle`: real salsa takes 1-10 cut into 1-2 s pieces, shuffled, set end to end (the root
  carried on horizontally) and joined by a 5-frame linear blend of joint positions, with no matching;
- `real salsa 1-10`: the CMU salsa takes the shipped library is made of.
Real references (the columns): CMU salsa takes 11 and 12 (held back from the realism model and the
library) and the four shared AIST++ slices (break, jazz ballet, krump, LA hip-hop; 5 s each).
Features: the judge's 20 window traits (`motion_traits.window_traits`), and those with 10 raw
speed and height summaries ("+raw").

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_realism_auc.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from a2a_cli.audio import analyze
from a2a_cli.examples import synth_genre_song, synth_song
from a2a_cli.generation import get_generator
from a2a_cli.motion.formats import load_motion
from a2a_cli.motion.grounding import FLOOR_PERCENTILE
from a2a_cli.motion.skeleton import FOOT_JOINTS, HEAD, L_ANKLE, L_WRIST, PELVIS, R_ANKLE, R_WRIST
from a2a_cli.scoring.motion_traits import window_size, window_starts, window_traits
from a2a_cli.scoring.constants import JUDGE_FPS
from a2a_cli.scoring.validity import at_judge_rate

SR = 22050
SECONDS = 20.0
REAL_DANCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "real-dance"
SALSA = REAL_DANCE / "cmu-salsa"
HELD_BACK = ("60_11", "61_11", "60_12", "61_12")  # held back from the realism model and the library
BLEND_FRAMES = 5
PIECE_S = (1.0, 2.0)
N_SHUFFLES = 10
FOLDS = 4
SPLITS = 5  # fold assignments tried; the AUC's mean and range over them are printed


def songs() -> list[np.ndarray]:
    """10 songs of 70-180 BPM: click-track songs and genre textures at chosen tempi."""
    out = [synth_song(bpm, SECONDS, SR, seed=5) for bpm in (70, 95, 120, 150, 180)]
    out += [synth_genre_song(name, SECONDS, SR, seed=6, bpm=bpm)
            for name, bpm in (("hiphop", 85), ("ballad", 75), ("house", 128), ("electro", 140), ("house", 174))]
    return out


def salsa(takes_held_back: bool) -> list[np.ndarray]:
    """(T, 24, 3) joints at the judge's rate of the held-back salsa takes, or of all the others."""
    paths = sorted(SALSA.glob("*_scaled.bvh"))
    chosen = [p for p in paths if (p.stem[:5] in HELD_BACK) == takes_held_back]
    return [at_judge_rate(load_motion(p)).joints for p in chosen]


def naive_shuffle(clips: list[np.ndarray], seconds: float, seed: int) -> np.ndarray:
    """`seconds` of random 1-2 s pieces of `clips` joined end to end with a linear blend, no matching.

    Each piece is moved horizontally so that its pelvis starts where the dance so far ends (else the
    root would jump metres); its facing is left as it was. The last `BLEND_FRAMES` frames of the dance
    so far and the first of the piece are cross-faded joint by joint.
    """
    rng = np.random.default_rng(seed)
    target = int(round(seconds * JUDGE_FPS))
    dance = None
    while dance is None or len(dance) < target:
        clip = clips[rng.integers(len(clips))]
        length = int(round(rng.uniform(*PIECE_S) * JUDGE_FPS))
        start = rng.integers(0, len(clip) - length)
        piece = clip[start:start + length].copy()
        if dance is None:
            dance = piece
            continue
        shift = dance[-1, PELVIS] - piece[0, PELVIS]
        piece[..., [0, 2]] += shift[[0, 2]]
        weight = np.linspace(0.0, 1.0, BLEND_FRAMES + 2)[1:-1, None, None]
        blend = (1 - weight) * dance[-BLEND_FRAMES:] + weight * piece[:BLEND_FRAMES]
        dance = np.concatenate([dance[:-BLEND_FRAMES], blend, piece[BLEND_FRAMES:]])
    return dance[:target]


def raw_summaries(joints: np.ndarray) -> np.ndarray:
    """(W, 10) per 2-s window: mean speed of pelvis, head, wrists, ankles; 90th-percentile speed of
    wrists and ankles; pelvis height above the floor, head and wrist height over the pelvis; mean
    joint acceleration (m/s^2). The windows are those of `window_traits`."""
    starts, size = window_starts(len(joints)), window_size(len(joints))
    floor = np.percentile(joints[:, list(FOOT_JOINTS), 1].min(axis=1), FLOOR_PERCENTILE)
    w = joints[starts[:, None] + np.arange(size)]  # (W, n, 24, 3)
    speed = np.linalg.norm(np.diff(w, axis=1), axis=-1) * JUDGE_FPS  # (W, n-1, 24)
    accel = np.linalg.norm(np.diff(w, 2, axis=1), axis=-1) * JUDGE_FPS ** 2
    wrists, ankles = speed[..., [L_WRIST, R_WRIST]], speed[..., [L_ANKLE, R_ANKLE]]
    height = w[..., 1]
    return np.stack([
        speed[..., PELVIS].mean(1), speed[..., HEAD].mean(1), wrists.mean((1, 2)), ankles.mean((1, 2)),
        np.percentile(wrists, 90, axis=(1, 2)), np.percentile(ankles, 90, axis=(1, 2)),
        (height[..., PELVIS] - floor).mean(1), (height[..., HEAD] - height[..., PELVIS]).mean(1),
        (height[..., [L_WRIST, R_WRIST]] - height[..., [PELVIS]]).mean((1, 2)), accel.mean((1, 2)),
    ], axis=1)


def features(clips: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per clip: (W, 20) window traits, and (W, 30) traits with the raw summaries."""
    traits = [np.nan_to_num(window_traits(c)) for c in clips]
    return traits, [np.hstack([t, raw_summaries(c)]) for t, c in zip(traits, clips)]


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve by rank (Mann-Whitney U / (n_pos * n_neg)); ties count half."""
    ranks = rankdata(scores)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def two_sample_auc(tested: list[np.ndarray], real: list[np.ndarray], seed: int) -> float:
    """Cross-validated AUC of a classifier telling the windows of `tested` clips from those of `real`
    clips (each a (W, F) feature array); folds by clip (assigned by `seed`), out-of-fold scores pooled."""
    x = np.vstack(tested + real)
    labels = np.concatenate([np.ones(len(f), bool) for f in tested] + [np.zeros(len(f), bool) for f in real])
    groups = np.concatenate([np.full(len(f), i) for i, f in enumerate(tested + real)])
    scores = np.zeros(len(x))
    folds = StratifiedGroupKFold(n_splits=min(FOLDS, len(tested), len(real)), shuffle=True, random_state=seed)
    for train, test in folds.split(x, labels, groups):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000))
        model.fit(x[train], labels[train])
        scores[test] = model.decision_function(x[test])
    return auc(scores, labels)


def main() -> None:
    started = time.perf_counter()
    held_back, library_takes = salsa(True), salsa(False)
    aist = [np.load(p).astype(np.float64) for p in sorted(REAL_DANCE.glob("*.npy"))]
    tested = {"real salsa 1-10": library_takes,
              "naive shuffle": [naive_shuffle(library_takes, SECONDS, seed) for seed in range(N_SHUFFLES)]}
    analysed = [analyze(y, SR) for y in songs()]
    for name in ("library", "choreo"):
        generator = get_generator(name)
        tested[name] = [at_judge_rate(generator.generate(a, a.duration_s, 0)).joints for a in analysed]
    tested = {name: tested[name] for name in ("library", "choreo", "naive shuffle", "real salsa 1-10")}

    references = {"held-back salsa": features(held_back), "AIST++": features(aist)}
    print(f"== classifier two-sample test, 2-s windows (hop 1 s), logistic regression, {FOLDS}-fold by clip ==")
    print(f"real: held-back salsa {len(held_back)} clips / {sum(len(f) for f in references['held-back salsa'][0])} windows; "
          f"AIST++ {len(aist)} clips / {sum(len(f) for f in references['AIST++'][0])} windows")
    header = f"{'tested':<18} {'clips':>5} {'windows':>7}" + "".join(
        f" {ref + ' ' + kind:>24}" for ref in references for kind in ("traits", "+raw"))
    print(header)
    for name, clips in tested.items():
        traits, full = features(clips)
        cells = []
        for ref_traits, ref_full in references.values():
            for x, ref in ((traits, ref_traits), (full, ref_full)):
                aucs = [two_sample_auc(x, ref, seed) for seed in range(SPLITS)]
                cells.append(f"{np.mean(aucs):.3f} ({min(aucs):.2f}-{max(aucs):.2f})")
        print(f"{name:<18} {len(clips):>5} {sum(len(f) for f in traits):>7}" + "".join(f" {c:>24}" for c in cells))
    print(f"(mean (range) over {SPLITS} fold assignments; AUC 0.5: indistinguishable, 1.0: every window told apart;"
          f" {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
