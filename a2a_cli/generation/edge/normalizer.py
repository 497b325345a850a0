"""EDGE's motion normaliser: a per-channel min-max map of the 151-d motion vector onto [-1, 1].

Official checkpoints pickle a `dataset.preprocess.Normalizer` holding a `dataset.scaler.MinMaxScaler`
(EDGE's torch port of sklearn's scaler). These two classes are a2a's stand-ins for them: the
checkpoint loader maps exactly those two pickle names to these classes, and the pickle's BUILD
step fills their `__dict__` with the attributes listed below, so the attribute names are EDGE's.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["FEATURE_RANGE", "MinMaxScaler", "Normalizer"]

FEATURE_RANGE = (-1, 1)


class MinMaxScaler:
    """Min-max scaling of each channel to FEATURE_RANGE, clipped.

    Attributes (EDGE's, in its order): feature_range (tuple), copy, clip (bool), n_samples_seen_
    (int, frames fitted), scale_, min_, data_min_, data_max_, data_range_ (float32 (C,) tensors).
    """

    def __init__(self, data_min: Tensor, data_max: Tensor, n_samples_seen: int = 0):
        """`data_min`, `data_max` (C,): per-channel extremes of the training motion vectors."""
        data_min, data_max = data_min.float(), data_max.float()
        data_range = data_max - data_min
        safe_range = torch.where(data_range < 10 * torch.finfo(torch.float32).eps, torch.ones_like(data_range), data_range)
        self.feature_range = FEATURE_RANGE
        self.copy = True
        self.clip = True
        self.n_samples_seen_ = int(n_samples_seen)
        self.scale_ = (FEATURE_RANGE[1] - FEATURE_RANGE[0]) / safe_range
        self.min_ = FEATURE_RANGE[0] - data_min * self.scale_
        self.data_min_ = data_min
        self.data_max_ = data_max
        self.data_range_ = data_range

    def transform(self, x: Tensor) -> Tensor:
        """x (..., C) -> scaled and clipped to FEATURE_RANGE (a new tensor)."""
        return torch.clip(x * self.scale_.to(x.device) + self.min_.to(x.device), *self.feature_range)

    def inverse_transform(self, x: Tensor) -> Tensor:
        """x (..., C') scaled -> original units; C' < C uses the last C' channels' statistics, as EDGE."""
        c = x.shape[-1]
        return (x - self.min_[-c:].to(x.device)) / self.scale_[-c:].to(x.device)


class Normalizer:
    """EDGE's wrapper around the scaler; `normalize` for training, `unnormalize` for sampling."""

    def __init__(self, scaler: MinMaxScaler):
        self.scaler = scaler

    @classmethod
    def fit(cls, data: Tensor) -> "Normalizer":
        """Fit to motion vectors `data` (..., C), every leading dimension flattened into samples."""
        flat = data.reshape(-1, data.shape[-1])
        return cls(MinMaxScaler(flat.min(dim=0).values, flat.max(dim=0).values, flat.shape[0]))

    @classmethod
    def from_statistics(cls, data_min: Tensor, data_max: Tensor) -> "Normalizer":
        """A normaliser from per-feature minima and maxima (151,) of the training motion vectors."""
        return cls(MinMaxScaler(data_min, data_max))

    @property
    def channels(self) -> int:
        return int(self.scaler.scale_.shape[0])

    def normalize(self, x: Tensor) -> Tensor:
        """Motion vectors (..., C) -> [-1, 1]."""
        return self.scaler.transform(x)

    def unnormalize(self, x: Tensor) -> Tensor:
        """Model output (..., C) -> motion vectors; clipped to [-1, 1] first, as EDGE."""
        return self.scaler.inverse_transform(torch.clip(x, -1, 1))

    def check(self, channels: int, where: str) -> None:
        """ValueError unless the statistics are float (channels,) tensors (what a pickle filled in)."""
        scaler = getattr(self, "scaler", None)
        for name in ("scale_", "min_"):
            value = getattr(scaler, name, None)
            if not isinstance(value, Tensor) or tuple(value.shape) != (channels,) or not value.is_floating_point():
                raise ValueError(f"{where}: normaliser statistic {name} must be a float tensor of shape ({channels},)")
            if not bool(torch.isfinite(value).all()):
                raise ValueError(f"{where}: normaliser statistic {name} is not finite")
