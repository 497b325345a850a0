"""The realism model: how likely a dance is under real human dancing, learned from real motion.

A dance is cut into windows (`motion_traits`: 2 s every 1 s) and each window is measured on the
twenty-one traits of `motion_traits.TRAITS` at once: pose, its spread, the timing of speeds and
stillness, coordination between limbs, balance, turning and footwork. Traits that cannot be negative
are read on a log scale (`Trait.log_floor`). The model is a density of real windows over all of them
together: a Gaussian with the real windows' mean and covariance, each genre weighing the same
whatever its length (so a model learned mostly from one genre still keeps the others), the
covariance shrunk by `SHRINKAGE` towards its diagonal (21 traits from a few hundred windows).
The covariance is what matters: a procedural dancer can put every trait inside people's range one by
one (straight legs, busy hands) and still combine them as nobody does; each trait alone is a short
list of statistics a generator can be tuned to, their joint density is not.

A window's unlikeness is its squared Mahalanobis distance d2 from the real windows; the real
windows' own `THRESHOLD_QUANTILE` of d2 is the threshold, and the density's credit is
exp(-max(d2 - threshold, 0) / `SOFTNESS`): full for 95% of real windows, falling smoothly and never
failing far from the data (non-finite traits count as very far).

A density of people alone can be fooled: a procedural dancer tuned against it lands inside it
(issue 17's `choreo` did). So the model also holds a discriminant (`Discriminant`): a ridge-
regularised logistic regression on the same transformed traits, trained on real windows (genres
weighing the same) against procedural windows (the build script makes them: `choreo` in every style
on songs of many tempi), each class weighing the same. Its logit s is the log-odds that a window is
real; the real windows' own 5th percentile of s is its threshold, and its credit
exp(-max(threshold - s, 0)) is the window's odds of being real over the threshold's odds, at most 1.
A window's credit is the product of both credits; the clip's realism is the mean credit of its
windows. Its reasons name the traits that add most to either shortfall, in words
(`motion_traits.TRAITS`), with the value and people's 5th-95th percentile.

The fitted model ships as `data/realism_model.json` (versioned: `MODEL_VERSION`);
`scripts/build_realism_model.py` rebuilds it from folders of real dances (AIST++, AMASS, any BVH).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.scoring.constants import JUDGE_FPS
from a2a_cli.scoring.motion_traits import HOP_S, TRAITS, WINDOW_S, trait_names, window_traits

__all__ = [
    "MODEL_VERSION", "RIDGE", "SHRINKAGE", "SOFTNESS", "THRESHOLD_QUANTILE", "Discriminant", "RealismModel",
    "RealismVerdict", "dance_traits", "fit_discriminant", "fit_realism_model", "genre_of", "load_model",
    "shipped_model", "transformed",
]

MODEL_VERSION = "3"  # 3: pose change as each joint's RMS distance from its window mean; 2: the discriminant against procedural dancing
SHRINKAGE = 0.2
THRESHOLD_QUANTILE = 0.95
# Squared standard units of unlikeness beyond the threshold per e-fold of credit: a window as far
# beyond people's 95th percentile as two traits two standard deviations off keeps exp(-1) of it.
SOFTNESS = 8.0
# The discriminant's ridge penalty on coefficients of standardised traits (each class's mean log-loss
# summed, plus RIDGE / 2 x their squared norm): chosen by held-out procedural families and real genres
# (JUDGE.md); weaker fits the training dances closer and leans harder on single traits.
RIDGE = 0.01
_REPORT_QUANTILES = (0.05, 0.95)
_SHIPPED = "data/realism_model.json"
_FAR = 1e6  # the unlikeness of a window whose traits could not be measured
_SPREAD_CLIP_WINDOWS = 11  # the windows of a 12-s answer


def transformed(traits: np.ndarray) -> np.ndarray:
    """Window traits (..., F) as the model reads them: log(value + log_floor) for the traits that
    have a floor (`Trait.log_floor`), the others as they are."""
    x = np.asarray(traits, dtype=np.float64)
    # every column through the log (a few microseconds less than picking the logged ones out and back)
    return np.where(_LOGGED, np.log(np.maximum(x, 0.0) + _LOG_FLOORS), x)


_LOGGED = np.array([trait.log_floor is not None for trait in TRAITS])  # the traits read on a log scale
_LOG_FLOORS = np.array([1.0 if trait.log_floor is None else max(trait.log_floor, 1e-3) for trait in TRAITS])  # 1: unused


class RealismVerdict(NamedTuple):
    """One clip's realism: `credit` in [0, 1] (mean window credit), `window_credits` (W,), each
    trait's median over the windows (`traits`, original units) and its mean share of the windows'
    unlikeness beyond the threshold (`shares`), one entry per trait of the model, for the reasons;
    `style` for the validator's per-miner variety. A named tuple: the judge makes one per answer."""

    credit: float
    window_credits: np.ndarray
    traits: list[float]
    shares: list[float]
    style: np.ndarray  # (F,) `RealismModel.style_vector` of the windows (empty for a clip of none)
    below: list[bool]  # per trait: its median below people's mean (on the model's scale)
    worst: list[int]  # the traits by share, largest first (equal shares: the later name first)

    def unlike_people(self, model: RealismModel, limit: int = 3) -> list[str]:
        """The traits that make the dance least like people, in words, worst first."""
        lines = []
        for i in self.worst[:limit]:
            if self.shares[i] <= 1.0:
                break
            low, high, name, unit, people = model.trait_words[i]
            lines.append(f"{low if self.below[i] else high} ({name} {self.traits[i]:.2f}{unit}; {people})")
        return lines


@dataclass(frozen=True)
class Discriminant:
    """The log-odds s that a window is real rather than procedural: s = x @ weights + bias for
    transformed traits x (..., F) (`transformed`); `threshold`: the real windows' own
    1 - `THRESHOLD_QUANTILE` quantile of s (5% of real windows fall below it)."""

    weights: np.ndarray
    bias: float
    threshold: float

    def logits(self, x: np.ndarray) -> np.ndarray:
        """s (...,) for transformed traits x (..., F)."""
        return np.asarray(x, dtype=np.float64) @ self.weights + self.bias


@dataclass(frozen=True)
class RealismModel:
    """The fitted model (module doc). Vectors have one entry per trait of `traits`.

    mean: (F,) the real windows' mean of the transformed traits; precision: (F, F) the inverse of
    their shrunk covariance; threshold: the real windows' `THRESHOLD_QUANTILE` of d2; low, high: each
    trait's real 5th-95th percentile in its own units (for reasons); real_spread: how far apart
    the styles of two real dances lie (`diversity`); about: provenance; discriminant: real against
    procedural windows (None in a model built without procedural dances: the density alone).
    """

    traits: list[str]
    mean: np.ndarray
    precision: np.ndarray
    threshold: float
    low: np.ndarray
    high: np.ndarray
    real_spread: float
    about: dict = field(default_factory=dict)
    discriminant: Discriminant | None = None

    def style_vector(self, traits: np.ndarray) -> np.ndarray:
        """One answer's style: the mean of its windows' transformed traits (W, F), whitened by the
        model's precision so that distances between styles are in real dancers' standard units. (F,)
        (`judge_batch` gives each clip's in its verdict.)"""
        return transformed(np.asarray(traits, dtype=np.float64)).mean(axis=0) @ self._whitening

    @cached_property
    def trait_words(self) -> list[tuple[str, str, str, str, str]]:
        """Per trait, the parts of its reason in words (`RealismVerdict.unlike_people`): what a value
        below people's means, what one above means, its name, its unit (with a space before it, or
        none) and people's 5th-95th percentile ("people 0.12-3.40")."""
        return [(trait.low, trait.high, name.replace("_", " "), f" {trait.unit}" if trait.unit else "",
                 f"people {low:.2f}-{high:.2f}") for trait, name, low, high in zip(TRAITS, self.traits, self.low.tolist(), self.high.tolist())]

    @cached_property
    def _whitening(self) -> np.ndarray:
        """The Cholesky factor of the precision: x @ it has unit covariance among real windows."""
        return np.linalg.cholesky(self.precision)

    def diversity(self, styles: np.ndarray) -> float:
        """How varied a miner's recent answers are next to real dancers: the median distance between
        two of its answers' styles (N, F) over `real_spread` (the same between 12-s clips of different
        real dances), at most 1. A miner whose every answer is the same kind of dance comes near 0."""
        styles = np.asarray(styles, dtype=np.float64)
        if len(styles) < 2:
            return 1.0
        distance = np.linalg.norm(styles[:, None] - styles[None], axis=-1)[np.triu_indices(len(styles), 1)]
        return float(min(np.median(distance) / self.real_spread, 1.0))

    def unlikeness(self, traits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(d2 (...,), each trait's share of it (..., F)) for window traits (..., F) in their own units.
        A trait's share is its deviation times the precision-weighted deviation: they sum to d2."""
        return self.unlikeness_transformed(transformed(traits))

    def unlikeness_transformed(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`unlikeness` of traits already `transformed` (..., F)."""
        x = np.asarray(x, dtype=np.float64)
        finite = np.isfinite(x).all(axis=-1)
        deviation = np.where(finite[..., None], x - self.mean, 0.0)
        weighted = deviation @ self.precision
        shares = deviation * weighted
        d2 = np.where(finite, shares.sum(axis=-1), _FAR)
        return d2, shares

    def credits(self, traits: np.ndarray) -> np.ndarray:
        """Each window's credit in [0, 1] (module doc) for window traits (..., F)."""
        return self.credits_transformed(transformed(traits))[0]

    def credits_transformed(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(each window's credit (...,), each trait's share of its shortfall (..., F)) for traits
        already `transformed` (..., F). Shares are in the density's units (squared standard units past
        its threshold; `SOFTNESS` of them per e-fold of credit), the discriminant's shortfall split
        among the traits that pull its logit below people's in proportion to their pull."""
        d2, shares = self.unlikeness_transformed(x)
        excess = np.maximum(d2 - self.threshold, 0.0)
        credits = np.exp(-excess / SOFTNESS)
        shares = shares * (excess / np.maximum(d2, 1e-9))[..., None]
        if self.discriminant is not None:
            finite = np.isfinite(x).all(axis=-1, keepdims=True)
            pull = np.where(finite, (x - self.mean) * self.discriminant.weights, 0.0)  # each trait's part of s
            shortfall = np.maximum(self.discriminant.threshold - self.discriminant.logits(self.mean) - pull.sum(axis=-1), 0.0)
            credits = credits * np.exp(-shortfall)  # a window that cannot be measured has no credit already
            against = np.maximum(-pull, 0.0)
            shares = shares + against * (SOFTNESS * shortfall / np.maximum(against.sum(axis=-1), 1e-12))[..., None]
        return credits, shares

    def judge(self, joints: np.ndarray, fps: float = JUDGE_FPS) -> RealismVerdict:
        """The realism of one clip of joint positions (T, 24, 3), metres, y up, at the judge's rate."""
        return self.judge_traits(window_traits(joints, fps))

    def judge_traits(self, traits: np.ndarray) -> RealismVerdict:
        """The realism of one clip from its window traits (W, F) (`motion_traits.window_traits`)."""
        return self.judge_batch(np.asarray(traits, dtype=np.float64)[None])[0]

    def judge_batch(self, traits: np.ndarray) -> list[RealismVerdict]:
        """The realism of each clip of a batch from their window traits (B, W, F), all at once."""
        traits = np.asarray(traits, dtype=np.float64)
        if traits.shape[1] == 0:
            return [RealismVerdict(0.0, np.zeros(0), [], [], np.zeros(0), [], []) for _ in range(len(traits))]
        x = transformed(traits)
        credits, shares = self.credits_transformed(x)  # (B, W), (B, W, F)
        medians = np.median(traits, axis=1)
        below = (transformed(medians) < self.mean).tolist()
        mean_shares = shares.mean(axis=1)
        # largest share first, equal shares by name (the later first): as sorting (share, name) pairs would
        worst = np.lexsort((np.broadcast_to(-self._name_rank, mean_shares.shape), -mean_shares), axis=-1).tolist()
        styles = x.mean(axis=1) @ self._whitening
        return [RealismVerdict(*clip) for clip in zip(credits.mean(axis=1).tolist(), credits, medians.tolist(), mean_shares.tolist(),
                                                      styles, below, worst)]

    @cached_property
    def _name_rank(self) -> np.ndarray:
        """Each trait's place among the traits' names in alphabetical order (F,)."""
        return np.argsort(np.argsort(self.traits))

    def to_json(self) -> str:
        return json.dumps({
            "about": self.about, "model_version": MODEL_VERSION, "window_s": WINDOW_S, "hop_s": HOP_S,
            "fps": JUDGE_FPS, "traits": self.traits, "log_floors": [t.log_floor for t in TRAITS],
            "mean": _rounded(self.mean), "precision": [_rounded(row) for row in self.precision],
            "threshold": round(float(self.threshold), 6), "low": _rounded(self.low), "high": _rounded(self.high),
            "real_spread": round(float(self.real_spread), 6),
            "discriminant": None if self.discriminant is None else {
                "weights": _rounded(self.discriminant.weights), "bias": round(float(self.discriminant.bias), 8),
                "threshold": round(float(self.discriminant.threshold), 8)},
        }, indent=1)

    @classmethod
    def from_json(cls, text: str, what: str = "realism model") -> RealismModel:
        try:
            data = json.loads(text)
            if data["traits"] != trait_names() or data["log_floors"] != [t.log_floor for t in TRAITS]:
                raise InputError(f"{what} measures other traits than this a2a: rebuild it (scripts/build_realism_model.py)")
            if data["window_s"] != WINDOW_S or data["hop_s"] != HOP_S or data["fps"] != JUDGE_FPS:
                raise InputError(f"{what} was fitted on other windows: rebuild it (scripts/build_realism_model.py)")
            vectors = {k: np.asarray(data[k], dtype=np.float64) for k in ("mean", "low", "high")}
            precision = np.asarray(data["precision"], dtype=np.float64)
            threshold = float(data["threshold"])
            real_spread = float(data["real_spread"])
            found = data.get("discriminant")
            discriminant = None if found is None else Discriminant(
                np.asarray(found["weights"], dtype=np.float64), float(found["bias"]), float(found["threshold"]))
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"{what} is not an a2a realism model ({type(e).__name__}: {e})") from None
        n = len(TRAITS)
        arrays = [*vectors.values(), precision]
        if discriminant is not None:
            arrays += [discriminant.weights, np.array([discriminant.bias, discriminant.threshold])]
        if any(v.shape != (n,) for v in vectors.values()) or precision.shape != (n, n) \
                or (discriminant is not None and discriminant.weights.shape != (n,)):
            raise InputError(f"{what} has arrays of the wrong shape")
        if not all(np.isfinite(a).all() for a in arrays) or not np.isfinite(threshold) \
                or not (np.isfinite(real_spread) and real_spread > 0):
            raise InputError(f"{what} holds non-finite numbers or a non-positive spread")
        return cls(list(data["traits"]), precision=precision, threshold=threshold, real_spread=real_spread,
                   about=dict(data.get("about", {})), discriminant=discriminant, **vectors)


def _rounded(values: np.ndarray, digits: int = 8) -> list[float]:
    return [float(f"{float(v):.{digits}g}") for v in values]


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Quantiles (Q, F) of each column of values (N, F) under row weights (N,), linear between rows."""
    order = np.argsort(values, axis=0)
    sorted_values = np.take_along_axis(values, order, axis=0)
    w = weights[order]
    cumulative = (np.cumsum(w, axis=0) - 0.5 * w) / weights.sum()
    return np.stack([[np.interp(q, cumulative[:, f], sorted_values[:, f]) for f in range(values.shape[1])]
                     for q in quantiles])


def fit_realism_model(clips_by_genre: Mapping[str, Sequence[np.ndarray]], procedural: Sequence[np.ndarray] = (),
                      about: dict | None = None) -> RealismModel:
    """Fit the model to real window traits: {genre: [(W, F) window traits of each clip]}, and its
    discriminant against `procedural`: [(W, F) window traits of each procedural clip] (none: a model
    of the density alone).

    Each genre weighs the same, whatever its length. Deterministic. `about` is stored as provenance.
    """
    clips_of = {g: [np.asarray(c, dtype=np.float64).reshape(-1, len(TRAITS)) for c in clips] for g, clips in clips_by_genre.items()}
    groups = {g: np.concatenate(clips) for g, clips in clips_of.items() if sum(len(c) for c in clips)}
    if not groups:
        raise InputError("no real dance windows to learn realism from")
    values = np.concatenate(list(groups.values()))
    if not np.isfinite(values).all():
        raise InputError("real dance traits hold non-finite numbers (a broken file?)")
    if len(values) <= len(TRAITS):
        raise InputError(f"{len(values)} real windows cannot fit a model of {len(TRAITS)} traits: give more real dance")
    weights = np.concatenate([np.full(len(t), 1.0 / len(t)) for t in groups.values()])
    weights /= weights.sum()
    x = transformed(values)
    mean = weights @ x
    centred = x - mean
    covariance = (centred * weights[:, None]).T @ centred
    covariance = (1.0 - SHRINKAGE) * covariance + SHRINKAGE * np.diag(np.diag(covariance))
    covariance += np.eye(len(TRAITS)) * 1e-9 * max(float(np.trace(covariance)), 1e-12)
    precision = np.linalg.inv(covariance)
    d2 = np.einsum("ij,jk,ik->i", centred, precision, centred)
    threshold = float(_weighted_quantiles(d2[:, None], weights, (THRESHOLD_QUANTILE,))[0, 0])
    low, high = _weighted_quantiles(values, weights, _REPORT_QUANTILES)
    info = dict(about or {})
    info.update(genres={g: int(len(t)) for g, t in groups.items()}, windows=int(len(values)))
    negatives = np.concatenate([np.asarray(c, dtype=np.float64).reshape(-1, len(TRAITS)) for c in procedural]) \
        if len(procedural) else np.zeros((0, len(TRAITS)))
    discriminant = None
    if len(negatives):
        info.update(procedural_windows=int(len(negatives)))
        discriminant = fit_discriminant(x, weights, transformed(negatives), mean, np.sqrt(np.diag(covariance)))
    model = RealismModel(trait_names(), mean, precision, threshold, low, high, 1.0, info, discriminant)
    return RealismModel(trait_names(), mean, precision, threshold, low, high,
                        _real_spread(model, [c for clips in clips_of.values() for c in clips]), info, discriminant)


def fit_discriminant(real: np.ndarray, real_weights: np.ndarray, procedural: np.ndarray, centre: np.ndarray,
                     scale: np.ndarray) -> Discriminant:
    """A logistic regression of real (N, F) against procedural (M, F) transformed window traits.

    real_weights (N,): each real window's weight (they sum to 1); each procedural window weighs 1/M,
    so the classes weigh the same. The traits are standardised by `centre` and `scale` (F,) (the
    real windows' mean and standard deviation) and the coefficients penalised by `RIDGE`; the result
    is given back in transformed units. Deterministic (L-BFGS from zero). Procedural traits that are
    not finite are left out."""
    from scipy.optimize import minimize

    procedural = procedural[np.isfinite(procedural).all(axis=1)]
    if not len(procedural):
        raise InputError("no procedural dance windows to learn from (broken traits?)")
    z = (np.concatenate([real, procedural]) - centre) / scale
    label = np.concatenate([np.ones(len(real)), np.zeros(len(procedural))])
    weight = np.concatenate([real_weights, np.full(len(procedural), 1.0 / len(procedural))])

    def loss(p: np.ndarray) -> tuple[float, np.ndarray]:
        s = z @ p[:-1] + p[-1]
        log_loss = np.where(label > 0, np.logaddexp(0.0, -s), np.logaddexp(0.0, s))
        residual = weight * (0.5 * (1.0 + np.tanh(0.5 * s)) - label)  # weight x (sigmoid(s) - label)
        value = float(weight @ log_loss) + 0.5 * RIDGE * float(p[:-1] @ p[:-1])
        return value, np.append(z.T @ residual + RIDGE * p[:-1], residual.sum())

    fitted = minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B", options={"gtol": 1e-10, "maxiter": 5000}).x
    weights = fitted[:-1] / scale
    bias = float(fitted[-1] - centre @ weights)
    logits = real @ weights + bias
    threshold = float(_weighted_quantiles(logits[:, None], real_weights, (1.0 - THRESHOLD_QUANTILE,))[0, 0])
    return Discriminant(weights, bias, threshold)


def _real_spread(model: RealismModel, clips: Sequence[np.ndarray]) -> float:
    """The median style distance between `_SPREAD_CLIP_WINDOWS`-window pieces of different real clips
    (a miner's answers are dances to different songs: compared with different dances, not with the
    next seconds of the same one). 1 when fewer than two clips are long enough."""
    styles, owner = [], []
    for i, clip in enumerate(clips):
        for start in range(0, len(clip) - _SPREAD_CLIP_WINDOWS + 1, _SPREAD_CLIP_WINDOWS):
            styles.append(model.style_vector(clip[start : start + _SPREAD_CLIP_WINDOWS]))
            owner.append(i)
    owner = np.asarray(owner)
    if len(set(owner.tolist())) < 2:
        return 1.0
    styles = np.asarray(styles)
    distance = np.linalg.norm(styles[:, None] - styles[None], axis=-1)
    return float(np.median(distance[owner[:, None] != owner[None]]))


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


def dance_traits(paths: Sequence[str | Path]) -> dict[str, list[np.ndarray]]:
    """Window traits of real dance files, grouped by `genre_of`: {genre: [(W, F) per file]}.

    paths: motion files in any format a2a reads (AIST++ .pkl, AMASS .npz, BVH of any skeleton, a2a
    .npy/.npz); each is read with `load_motion` (grounded) and judged at 30 fps.
    """
    from a2a_cli.motion.formats import load_motion
    from a2a_cli.scoring.validity import at_judge_rate

    groups: dict[str, list[np.ndarray]] = {}
    for path in paths:
        joints = at_judge_rate(load_motion(path)).joints
        groups.setdefault(genre_of(path), []).append(window_traits(joints))
    return groups
