"""The realism model: how likely a dance is under real human dancing, learned from real motion.

A dance is cut into windows (`motion_traits`: 2 s every 1 s) and each window is measured on the
twenty traits of `motion_traits.TRAITS` at once: pose, its spread, the timing of speeds and
stillness, coordination between limbs, balance, turning and footwork. The model knows, from real
dancers of several genres, two things about those traits:

- **each trait's real range**: its 2.5th-97.5th percentile over real windows, each genre weighing
  the same whatever its length, so a model learned mostly from one genre still keeps the others'
  ranges; a window is charged the squared distance by which it leaves a range, in units of that
  trait's robust spread (the real data's interquartile range / 1.349, a standard deviation for
  normal data);
- **where real windows lie together**: the distance from the window's standardised traits to the
  nearest real windows (the mean of the `NEIGHBOURS` nearest), beyond the distance within which 95%
  of real windows find their own neighbours (leave-one-genre-in, measured when fitting). This sees
  combinations no single range does (straight legs with still hands, a twist with no turn).

A window's unlikeness u is the sum of both charges (squared standard units); its credit is
exp(-u / 2 / `TOLERANCE`**2): 1 inside people's ranges and among their windows, about 0.6 one
standard unit outside one range, 0 far away. It never fails on strange input: non-finite traits
count as far outside. The clip's realism is the mean credit of its windows, and its reasons name the
traits that cost most, in words (`motion_traits.TRAITS`).

The fitted model ships as `data/realism_model.json` (versioned: `MODEL_VERSION` and the judge's
version); `scripts/build_realism_model.py` rebuilds it from folders of real dances.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.scoring.constants import JUDGE_FPS
from a2a_cli.scoring.motion_traits import HOP_S, TRAITS, WINDOW_S, trait_names, window_traits

__all__ = [
    "MODEL_VERSION", "NEIGHBOURS", "RANGE_QUANTILES", "TOLERANCE", "RealismModel", "RealismVerdict",
    "dance_traits", "fit_realism_model", "genre_of", "load_model", "shipped_model",
]

MODEL_VERSION = "1"
RANGE_QUANTILES = (0.025, 0.975)
NEIGHBOURS = 5
# A window one robust standard unit outside one real range keeps exp(-1/2 / TOLERANCE**2) of its credit.
TOLERANCE = 1.0
_MAX_REFERENCE_WINDOWS = 1500  # the neighbour search's real windows, spread evenly over genres
_SHIPPED = "data/realism_model.json"


@dataclass(frozen=True)
class RealismVerdict:
    """One clip's realism: `credit` in [0, 1] (mean window credit), `window_credits` (W,), and per
    trait its median value over the windows and its mean charge (`traits`, `charges`), for reasons."""

    credit: float
    window_credits: np.ndarray
    traits: dict[str, float]
    charges: dict[str, float]
    neighbour_charge: float

    def unlike_people(self, limit: int = 3, model: RealismModel | None = None) -> list[str]:
        """The traits that cost most credit, in words with the value and people's range, worst first."""
        model = model or shipped_model()
        worst = sorted(((c, name) for name, c in self.charges.items() if c > 0.5), reverse=True)[:limit]
        lines = []
        for _, name in worst:
            i = model.traits.index(name)
            trait = TRAITS[trait_names().index(name)]
            value = self.traits[name]
            words = trait.low if value < model.low[i] else trait.high
            unit = f" {trait.unit}" if trait.unit else ""
            lines.append(f"{words} ({name.replace('_', ' ')} {value:.2f}{unit}; people {model.low[i]:.2f}-{model.high[i]:.2f})")
        if not lines and self.neighbour_charge > 0.5:
            lines.append("each trait is in people's range, but not in a combination people move in")
        return lines


@dataclass(frozen=True)
class RealismModel:
    """The fitted model (module doc). Arrays have one entry per trait of `traits`.

    low, high: each trait's real range; scale: its robust spread; centre: its weighted median;
    reference: (N, F) standardised real windows for the neighbour search; radius: the neighbour
    distance within which 95% of real windows lie; about: provenance (sources, licences, counts).
    """

    traits: list[str]
    low: np.ndarray
    high: np.ndarray
    scale: np.ndarray
    centre: np.ndarray
    reference: np.ndarray
    radius: float
    about: dict = field(default_factory=dict)

    def charges(self, traits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(per-trait range charges (..., F), neighbour charge (...,)) for window traits (..., F)."""
        x = np.asarray(traits, dtype=np.float64)
        finite = np.isfinite(x)
        x = np.where(finite, x, self.centre)
        below = (self.low - x) / self.scale
        above = (x - self.high) / self.scale
        excess = np.maximum(np.maximum(below, above), 0.0)
        excess = np.where(finite, excess, 10.0)  # a trait that could not be measured is far outside
        z = (x - self.centre) / self.scale
        flat = z.reshape(-1, z.shape[-1])
        distance = _mean_nearest(flat, self.reference, NEIGHBOURS).reshape(z.shape[:-1])
        joint = np.maximum(distance / self.radius - 1.0, 0.0)
        return excess**2, joint**2

    def judge(self, joints: np.ndarray, fps: float = JUDGE_FPS) -> RealismVerdict:
        """The realism of one clip of joint positions (T, 24, 3), metres, y up, at the judge's rate."""
        return self.judge_traits(window_traits(joints, fps))

    def judge_traits(self, traits: np.ndarray) -> RealismVerdict:
        """The realism of one clip from its window traits (W, F) (`motion_traits.window_traits`)."""
        traits = np.asarray(traits, dtype=np.float64)
        if traits.shape[0] == 0:
            return RealismVerdict(0.0, np.zeros(0), {}, {}, 0.0)
        per_trait, joint = self.charges(traits)
        unlikeness = per_trait.sum(axis=-1) + joint
        credits = np.exp(-0.5 * unlikeness / TOLERANCE**2)
        return RealismVerdict(
            float(credits.mean()), credits,
            {name: float(v) for name, v in zip(self.traits, np.median(traits, axis=0))},
            {name: float(v) for name, v in zip(self.traits, per_trait.mean(axis=0))},
            float(joint.mean()),
        )

    def to_json(self) -> str:
        return json.dumps({
            "about": self.about, "model_version": MODEL_VERSION, "window_s": WINDOW_S, "hop_s": HOP_S,
            "fps": JUDGE_FPS, "traits": self.traits,
            "low": _rounded(self.low), "high": _rounded(self.high), "scale": _rounded(self.scale),
            "centre": _rounded(self.centre), "radius": round(float(self.radius), 6),
            "reference": [_rounded(row, 4) for row in self.reference],
        }, indent=1)

    @classmethod
    def from_json(cls, text: str, what: str = "realism model") -> RealismModel:
        try:
            data = json.loads(text)
            if data["traits"] != trait_names():
                raise InputError(f"{what} measures other traits ({len(data['traits'])}) than this a2a ({len(TRAITS)}): rebuild it")
            if data["window_s"] != WINDOW_S or data["hop_s"] != HOP_S or data["fps"] != JUDGE_FPS:
                raise InputError(f"{what} was fitted on other windows: rebuild it")
            arrays = {k: np.asarray(data[k], dtype=np.float64) for k in ("low", "high", "scale", "centre")}
            reference = np.asarray(data["reference"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"{what} is not an a2a realism model ({type(e).__name__}: {e})") from None
        n = len(TRAITS)
        if any(a.shape != (n,) for a in arrays.values()) or reference.ndim != 2 or reference.shape[1] != n or not len(reference):
            raise InputError(f"{what} has arrays of the wrong shape")
        if not all(np.isfinite(a).all() for a in (*arrays.values(), reference)) or np.any(arrays["scale"] <= 0):
            raise InputError(f"{what} holds non-finite numbers or a non-positive scale")
        return cls(list(data["traits"]), reference=reference, radius=float(data["radius"]),
                   about=dict(data.get("about", {})), **arrays)


def _rounded(values: np.ndarray, digits: int = 6) -> list[float]:
    return [round(float(v), digits) for v in values]


def _mean_nearest(points: np.ndarray, reference: np.ndarray, k: int) -> np.ndarray:
    """Mean Euclidean distance from each point (N, F) to its k nearest rows of reference (M, F)."""
    if len(points) == 0:
        return np.zeros(0)
    k = min(k, len(reference))
    d2 = (np.sum(points**2, axis=1)[:, None] - 2.0 * points @ reference.T + np.sum(reference**2, axis=1)[None])
    nearest = np.partition(np.maximum(d2, 0.0), k - 1, axis=1)[:, :k]
    return np.sqrt(nearest).mean(axis=1)


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Quantiles of each column of values (N, F) under row weights (N,), linear between sorted rows."""
    order = np.argsort(values, axis=0)
    sorted_values = np.take_along_axis(values, order, axis=0)
    cumulative = np.cumsum(weights[order], axis=0)
    cumulative = (cumulative - 0.5 * weights[order]) / weights.sum()
    return np.stack([[np.interp(q, cumulative[:, f], sorted_values[:, f]) for f in range(values.shape[1])]
                     for q in quantiles])


def fit_realism_model(traits_by_genre: Mapping[str, np.ndarray], about: dict | None = None,
                      seed: int = 0) -> RealismModel:
    """Fit the model to real window traits: {genre: (N_genre, F) window traits}.

    Each genre weighs the same in the ranges, spreads and neighbour set, whatever its length.
    `about` is stored as the model's provenance. Deterministic for a given input and `seed` (which
    picks the neighbour set's windows when there are more than `_MAX_REFERENCE_WINDOWS`).
    """
    groups = {g: np.asarray(t, dtype=np.float64) for g, t in traits_by_genre.items() if len(t)}
    if not groups:
        raise InputError("no real dance windows to learn realism from")
    values = np.concatenate(list(groups.values()))
    if not np.isfinite(values).all():
        raise InputError("real dance traits hold non-finite numbers (a broken file?)")
    weights = np.concatenate([np.full(len(t), 1.0 / len(t)) for t in groups.values()])
    low, q25, centre, q75, high = _weighted_quantiles(
        values, weights, (RANGE_QUANTILES[0], 0.25, 0.5, 0.75, RANGE_QUANTILES[1]))
    scale = np.maximum((q75 - q25) / 1.349, 1e-3 * np.maximum(np.abs(centre), 1.0))
    rng = np.random.default_rng(seed)
    per_genre = max(_MAX_REFERENCE_WINDOWS // len(groups), 1)
    picked = [t if len(t) <= per_genre else t[np.sort(rng.choice(len(t), per_genre, replace=False))]
              for t in groups.values()]
    reference = (np.concatenate(picked) - centre) / scale
    # Each reference window's distance to its other neighbours: how close real windows lie together.
    d2 = np.sum(reference**2, axis=1)[:, None] - 2.0 * reference @ reference.T + np.sum(reference**2, axis=1)[None]
    np.fill_diagonal(d2, np.inf)
    k = min(NEIGHBOURS, len(reference) - 1) if len(reference) > 1 else 1
    own = np.sqrt(np.maximum(np.partition(d2, k - 1, axis=1)[:, :k], 0.0)).mean(axis=1) if len(reference) > 1 else np.ones(1)
    radius = float(np.percentile(own, 95.0))
    info = dict(about or {})
    info.update(genres={g: int(len(t)) for g, t in groups.items()}, windows=int(len(values)))
    return RealismModel(trait_names(), low, high, scale, centre, reference, max(radius, 1e-6), info)


@cache
def shipped_model() -> RealismModel:
    """The model shipped with the package (data/realism_model.json)."""
    text = resources.files("a2a_cli.scoring").joinpath(_SHIPPED).read_text(encoding="utf-8")
    return RealismModel.from_json(text, "the shipped realism model")


def load_model(path: str | Path) -> RealismModel:
    """A realism model from a JSON file (`scripts/build_realism_model.py` writes them)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read realism model {path}: {e}") from None
    return RealismModel.from_json(text, f"realism model {path}")


_AISTPP_NAME = re.compile(r"^(g[A-Z]{2})_s[A-Z]{2}_")


def genre_of(path: str | Path) -> str:
    """A real dance file's genre for the model's weighting: AIST++'s genre code for AIST++ names
    (gBR_sBM_... is gBR), else the name of the folder that holds the file."""
    path = Path(path)
    match = _AISTPP_NAME.match(path.name)
    return match.group(1) if match else path.parent.name


def dance_traits(paths: Sequence[str | Path]) -> dict[str, np.ndarray]:
    """Window traits of real dance files, grouped by `genre_of`: {genre: (N, F)}.

    paths: motion files in any format a2a reads (AIST++ .pkl, AMASS .npz, BVH of any skeleton, a2a
    .npy/.npz); each is read with `load_motion` (grounded) and judged at 30 fps.
    """
    from a2a_cli.motion.formats import load_motion
    from a2a_cli.scoring.validity import at_judge_rate

    groups: dict[str, list[np.ndarray]] = {}
    for path in paths:
        joints = at_judge_rate(load_motion(path)).joints
        groups.setdefault(genre_of(path), []).append(window_traits(joints))
    return {genre: np.concatenate(parts) for genre, parts in groups.items()}
