"""FID_k / FID_g and Dist_k / Dist_g against reference statistics (Bailando `metrics_new.py`).

As Bailando computes them: each feature column is normalised by the reference set's mean and
standard deviation (population std, plus 1e-10); FID is the Frechet distance between Gaussians
fitted to the normalised reference and candidate sets (sample covariance, N - 1); Dist is the mean
Euclidean distance over all pairs of a set's normalised features, a measure of diversity.

`ReferenceStats` keeps what scoring needs from a folder of real dances, so the folder itself is
only read once (`a2a score --build-reference DIR`); it is saved as a plain .npz (no pickles).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.scoring.clip_batch import ClipBatch
from a2a_cli.scoring.geometric import N_GEOMETRIC, geometric_features
from a2a_cli.scoring.kinetic import kinetic_features

__all__ = [
    "FEATURE_SETS", "FeatureStats", "MIN_SET_CLIPS", "N_KINETIC", "ReferenceStats", "build_reference_stats",
    "clip_features", "diversity", "fid", "frechet_distance", "set_metrics",
]

N_KINETIC = 72
MIN_SET_CLIPS = 2  # the fewest dances a set metric (FID, Dist) can be computed over
_NORM_EPS = 1e-10
_FORMAT_VERSION = 1
_MAX_FILE_BYTES = 2**20  # a stats file is about 60 KB (two covariance matrices, 72 and 32 wide)
_BATCH = 32  # clips per metric call: a 10-second batch stays within the L2 cache
FEATURE_SETS = {"kinetic": N_KINETIC, "geometric": N_GEOMETRIC}


@dataclass(frozen=True)
class FeatureStats:
    """One feature set of a reference: normalisation (mean, std of the raw features) and the
    Gaussian (mean, covariance) of the normalised features."""

    norm_mean: np.ndarray
    norm_std: np.ndarray
    mean: np.ndarray
    cov: np.ndarray

    @classmethod
    def of(cls, features: np.ndarray) -> "FeatureStats":
        """Statistics of a reference set of features (N, d), N >= 2."""
        features = _feature_matrix(features, min_rows=2)
        norm_mean, norm_std = features.mean(axis=0), features.std(axis=0)
        normalised = (features - norm_mean) / (norm_std + _NORM_EPS)
        return cls(norm_mean, norm_std, normalised.mean(axis=0), np.cov(normalised, rowvar=False))

    def normalise(self, features: np.ndarray) -> np.ndarray:
        """Features (N, D) or (D,) as z-scores against these statistics (Bailando's normalisation)."""
        return (_feature_matrix(features, min_rows=1) - self.norm_mean) / (self.norm_std + _NORM_EPS)


@dataclass(frozen=True)
class ReferenceStats:
    """Reference statistics for FID_k (kinetic) and FID_g (geometric), and how many clips made them."""

    kinetic: FeatureStats
    geometric: FeatureStats
    n_clips: int

    def save(self, path: str | os.PathLike) -> None:
        """Write an .npz atomically (a WorkError if it cannot be written)."""
        from a2a_cli.fileio import atomic_write

        arrays = {"format_version": np.int64(_FORMAT_VERSION), "n_clips": np.int64(self.n_clips)}
        for name in FEATURE_SETS:
            stats = getattr(self, name)
            for field in ("norm_mean", "norm_std", "mean", "cov"):
                arrays[f"{name}_{field}"] = np.asarray(getattr(stats, field), dtype=np.float64)
        atomic_write(path, lambda f: np.savez(f, **arrays))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ReferenceStats":
        """Read stats written by `save`; anything else is an InputError naming the file. Sizes are
        checked before anything is read: the file's, then each member's declared size and .npy
        header (motion.formats.read_npz_members), against what the statistics need."""
        from a2a_cli.motion.formats import read_npz_members

        try:
            with open(path, "rb") as f:
                if os.fstat(f.fileno()).st_size > _MAX_FILE_BYTES:
                    raise InputError(f"larger than any such file ({_MAX_FILE_BYTES // 1024} KiB at most)")
                data = f.read()
            arrays = read_npz_members(data, _member_caps(), what="a statistics file has 10")
        except (OSError, InputError) as e:
            raise InputError(f"cannot read reference statistics {path}: {e}") from None
        if not all(_one_integer(arrays.get(key)) for key in ("format_version", "n_clips")) or arrays["format_version"] != _FORMAT_VERSION:
            raise InputError(f"{path} is not a reference-statistics file (format version {_FORMAT_VERSION})")
        sets = {}
        for name, dim in FEATURE_SETS.items():
            shapes = {"norm_mean": (dim,), "norm_std": (dim,), "mean": (dim,), "cov": (dim, dim)}
            fields = {}
            for field, shape in shapes.items():
                value = arrays.get(f"{name}_{field}")
                if value is None or value.shape != shape or not np.isfinite(value).all():
                    raise InputError(f"{path}: {name}_{field} is missing, not finite or not of shape {shape}")
                fields[field] = value.astype(np.float64)
            sets[name] = FeatureStats(**fields)
        return cls(sets["kinetic"], sets["geometric"], int(arrays["n_clips"]))


def clip_features(clips: Iterable[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Kinetic (N, 72) and geometric (N, 32) features of clips of joint positions (T_i, 24, 3).

    Clips of equal length are computed together, a cache-sized batch at a time.
    """
    clips = [np.asarray(c) for c in clips]
    kinetic = np.empty((len(clips), N_KINETIC), dtype=np.float32)
    geometric = np.empty((len(clips), N_GEOMETRIC), dtype=np.float32)
    by_length: dict[tuple, list[int]] = {}
    for i, clip in enumerate(clips):
        by_length.setdefault(clip.shape, []).append(i)
    for indices in by_length.values():
        for lo in range(0, len(indices), _BATCH):
            part = indices[lo : lo + _BATCH]
            batch = ClipBatch.from_joints(np.stack([clips[i] for i in part]))
            kinetic[part] = kinetic_features(batch)
            geometric[part] = geometric_features(batch)
    return kinetic, geometric


def build_reference_stats(clips: Iterable[np.ndarray]) -> ReferenceStats:
    """Reference statistics from real dances, given as joint positions (T_i, 24, 3); needs >= 2."""
    kinetic, geometric = clip_features(clips)
    if len(kinetic) < 2:
        raise InputError(f"reference statistics need at least 2 dances, got {len(kinetic)}")
    return ReferenceStats(FeatureStats.of(kinetic), FeatureStats.of(geometric), len(kinetic))


def fid(features: np.ndarray, reference: FeatureStats) -> float:
    """FID of a candidate set of raw features (N, d), N >= 2, against a reference feature set."""
    normalised = reference.normalise(features)
    if len(normalised) < 2:
        raise InputError(f"FID needs at least 2 candidate clips, got {len(normalised)}")
    return frechet_distance(normalised.mean(axis=0), np.cov(normalised, rowvar=False), reference.mean, reference.cov)


def diversity(features: np.ndarray, reference: FeatureStats | None = None) -> float:
    """Dist: mean pairwise Euclidean distance of a set's features (N, d), normalised by the
    reference when one is given (as Bailando reports it). Fewer than 2 clips: 0."""
    x = reference.normalise(features) if reference is not None else _feature_matrix(features, min_rows=1)
    if len(x) < 2:
        return 0.0
    from scipy.spatial.distance import pdist

    return float(pdist(x).mean())


def set_metrics(clips: Sequence[np.ndarray], reference: ReferenceStats) -> dict[str, float]:
    """The literature's set metrics of a set of dances against real dances' statistics: FID_k, FID_g
    (Fréchet distance of the kinetic and geometric features) and Dist_k, Dist_g (their diversity).

    clips: joint positions (T, 24, 3) in metres of each dance, at least 2; reference: statistics from
    `build_reference_stats`. Raises InputError for fewer than 2 clips (a set needs a spread).
    """
    if len(clips) < MIN_SET_CLIPS:
        raise InputError(f"FID and Dist need at least {MIN_SET_CLIPS} scorable motions, got {len(clips)}")
    kinetic, geometric = clip_features(clips)
    return {"FID_k": fid(kinetic, reference.kinetic), "FID_g": fid(geometric, reference.geometric),
            "Dist_k": diversity(kinetic, reference.kinetic), "Dist_g": diversity(geometric, reference.geometric)}


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """|mu1 - mu2|^2 + tr(cov1) + tr(cov2) - 2 tr((cov1 cov2)^1/2), never negative.

    tr((cov1 cov2)^1/2) is taken as the sum of the square roots of the eigenvalues of
    cov1^1/2 cov2 cov1^1/2, which has the same eigenvalues but is symmetric: it stays real and
    exact when the covariances are singular (fewer clips than features), where scipy's sqrtm of
    the non-symmetric product returns complex noise that FID code then has to patch.
    """
    mu1, mu2 = np.asarray(mu1, dtype=np.float64), np.asarray(mu2, dtype=np.float64)
    cov1, cov2 = np.atleast_2d(cov1).astype(np.float64), np.atleast_2d(cov2).astype(np.float64)
    root1 = _psd_sqrt(cov1)
    middle = root1 @ cov2 @ root1
    eigen = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    tr_sqrt = np.sqrt(np.clip(eigen, 0.0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * tr_sqrt, 0.0))


def _psd_sqrt(cov: np.ndarray) -> np.ndarray:
    eigen, vectors = np.linalg.eigh((cov + cov.T) / 2.0)
    return (vectors * np.sqrt(np.clip(eigen, 0.0, None))) @ vectors.T


def _member_caps() -> dict[str, int]:
    """The most bytes of data each member of a stats file may hold: its float64 array, or one integer."""
    caps = {"format_version": 8, "n_clips": 8}
    for name, dim in FEATURE_SETS.items():
        caps.update({f"{name}_norm_mean": 8 * dim, f"{name}_norm_std": 8 * dim, f"{name}_mean": 8 * dim,
                     f"{name}_cov": 8 * dim * dim})
    return caps


def _one_integer(value: np.ndarray | None) -> bool:
    return value is not None and value.shape == () and value.dtype.kind in "iu"


def _feature_matrix(features: np.ndarray, min_rows: int) -> np.ndarray:
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) < min_rows:
        raise InputError(f"features must be (N, d) with N >= {min_rows}, got {x.shape}")
    return x
