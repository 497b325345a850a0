"""Similarity between dances: error to a reference dance, the original subnet's reward, copy detection.

Two dances to the same song can both be good and still differ by 20 cm per joint, so similarity to
one reference is only a small term of the validator score (composite.py), and a near-exact match
is treated as a replayed reference, not as a perfect answer (see `REPLAY_TOLERANCE_M` and
`replay_distance`, which a moved, lifted, turned, delayed or lightly noised copy cannot dodge).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from a2a_cli.motion.skeleton import (HEAD, L_ANKLE, L_COLLAR, L_ELBOW, L_HIP, L_KNEE, L_WRIST, N_JOINTS, PELVIS, R_ANKLE, R_COLLAR,
                                     R_ELBOW, R_HIP, R_KNEE, R_WRIST)
from a2a_cli.scoring.smoothing import gaussian_filter1d

from a2a_cli.scoring.constants import JUDGE_FPS, REPLAY_MAX_SHIFT_S, REPLAY_TOLERANCE_M  # the replay policy lives there
from a2a_cli.tasks import DANCE, GESTURE

__all__ = [
    "COPY_FPS", "COPY_JOINTS", "COPY_MAX_SHIFT_S", "COPY_MIN_MATCHED", "COPY_PROFILES", "COPY_TOLERANCE_M", "COPY_WINDOW_S",
    "CopyIndex", "CopyMatch", "CopyProfile", "DANCE_COPY", "DUPLICATE_TOLERANCE_M", "GESTURE_COPY", "FINGERPRINT_SAMPLES", "ORIGINAL_JOINTS", "ORIGINAL_RMSE_LIMIT_CM",
    "ORIGINAL_TIMEOUT_S", "ORIGINAL_UNKNOWN_TIME_S", "OriginalSubnetScore", "REPLAY_SMOOTHING_S", "align",
    "aligned_joint_error", "copy_features", "copy_matches", "fingerprint_distance", "mirrored_features", "motion_fingerprint",
    "near_duplicate", "original_subnet_score", "replay_distance",
]
# Jitter added to a copy is smoothed away before comparing (a dance hardly changes in 1/15 s).
REPLAY_SMOOTHING_S = 1.0 / 15.0
# Two fingerprints closer than this (after alignment and resampling) are the same dance: how a
# validator spots an answer repeated from an earlier prompt (answers to one prompt: `CopyIndex`).
DUPLICATE_TOLERANCE_M = 0.03
FINGERPRINT_SAMPLES = 64


def _heading(joints: np.ndarray) -> float:
    """Yaw (radians about y) of the hip line (left hip minus right hip) at the first frame."""
    hips = joints[0, L_HIP] - joints[0, R_HIP]
    return float(np.arctan2(-hips[2], hips[0]))


def align(joints: np.ndarray) -> np.ndarray:
    """Joints (T, 24, 3) with the root's frame-0 floor position at the origin and the hips facing +x.

    Height is kept: the floor is common to every motion, so floating stays visible in the error.
    """
    j = np.asarray(joints, dtype=np.float64)
    if j.shape[0] == 0:
        return j
    shifted = j - np.array([j[0, PELVIS, 0], 0.0, j[0, PELVIS, 2]])
    yaw = _heading(shifted)
    c, s = np.cos(-yaw), np.sin(-yaw)
    rot_y = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    return shifted @ rot_y.T


def aligned_joint_error(joints: np.ndarray, reference: np.ndarray) -> float:
    """Mean per-joint position error (m) after aligning both dances' root and heading at frame 0,
    over the frames both have (the frame-count gate judges length separately)."""
    n = min(len(joints), len(reference))
    if n == 0:
        return float("inf")
    diff = align(joints[:n]) - align(reference[:n])
    return float(np.linalg.norm(diff, axis=-1).mean())


def replay_distance(joints: np.ndarray, reference: np.ndarray, fps: float = JUDGE_FPS) -> float:
    """How far (m) an answer is from being a copy of the reference: the least, over time shifts of
    up to `REPLAY_MAX_SHIFT_S`, of the mean joint distance between the two dances' root-relative
    poses, smoothed over `REPLAY_SMOOTHING_S`, after the one turn about the vertical that fits best.

    Root-relative poses ignore where the root is at every frame (a lift, a slide, a new path);
    the fitted turn ignores a turned copy; the smoothing averages away added jitter (1 cm of noise
    on every joint adds under 1 cm here, while two different dances stay 10 cm or more apart).
    """
    a, b = (np.asarray(x, dtype=np.float64) for x in (joints, reference))
    if len(a) == 0 or len(b) == 0:
        return float("inf")
    sigma = REPLAY_SMOOTHING_S * fps
    a, b = (gaussian_filter1d(x - x[:, PELVIS : PELVIS + 1], sigma, axis=0) for x in (a, b))
    max_shift = min(int(round(REPLAY_MAX_SHIFT_S * fps)), min(len(a), len(b)) - 1)
    return min(_turned_distance(a[max(s, 0) :], b[max(-s, 0) :]) for s in range(-max_shift, max_shift + 1))


def _turned_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean joint distance between the overlapping frames of a and b after the yaw that best maps a
    onto b (least squares on the horizontal coordinates: the angle of sum(b_xz conj(a_xz)))."""
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    ax, az, bx, bz = a[..., 0], a[..., 2], b[..., 0], b[..., 2]
    yaw = np.arctan2(np.sum(az * bx - ax * bz), np.sum(ax * bx + az * bz))
    c, s = np.cos(yaw), np.sin(yaw)
    turned = np.stack([c * ax + s * az, a[..., 1], -s * ax + c * az], axis=-1)
    return float(np.linalg.norm(turned - b, axis=-1).mean())


# --- the original subnet's score, for comparison only -----------------------------------------

ORIGINAL_JOINTS = tuple(j for j in range(N_JOINTS) if j not in (L_COLLAR, R_COLLAR))
ORIGINAL_RMSE_LIMIT_CM = 4000.0
ORIGINAL_TIMEOUT_S = 180.0
ORIGINAL_UNKNOWN_TIME_S = 120.0


@dataclass(frozen=True)
class OriginalSubnetScore:
    rmse_cm: float
    correctness: float
    speed: float
    reward: float
    frames_compared: int

    def to_dict(self) -> dict:
        return asdict(self)


def original_subnet_score(joints: np.ndarray, reference: np.ndarray, response_time_s: float | None = None) -> OriginalSubnetScore:
    """The first A2A subnet's reward (shared/reference/original-subnet.md), reproduced to compare.

    22 joints (no collars), absolute positions in cm over the first min(frames) frames with no
    alignment; per joint the mean over frames of |d| / sqrt(3), summed over joints; correctness =
    1 - rmse * 0.9 / 4000 (0.1 beyond 4000); speed = sigmoid(0.5 - t / 180); reward = 0.7
    correctness + 0.3 speed; an empty answer scores 0. Its flaws are why a2a does not use it.
    """
    t = ORIGINAL_UNKNOWN_TIME_S if response_time_s is None else float(response_time_s)
    speed = float(1.0 / (1.0 + np.exp(-((1.0 - t / ORIGINAL_TIMEOUT_S) - 0.5))))
    n = min(len(joints), len(reference))
    if n == 0:
        return OriginalSubnetScore(float("inf"), 0.0, speed, 0.0, 0)
    keep = list(ORIGINAL_JOINTS)
    d_cm = (np.asarray(joints[:n, keep], np.float64) - np.asarray(reference[:n, keep], np.float64)) * 100.0
    rmse = float((np.linalg.norm(d_cm, axis=-1) / np.sqrt(3.0)).mean(axis=0).sum())
    correctness = 0.1 if rmse > ORIGINAL_RMSE_LIMIT_CM else 1.0 - rmse * 0.9 / ORIGINAL_RMSE_LIMIT_CM
    return OriginalSubnetScore(rmse, correctness, speed, 0.7 * correctness + 0.3 * speed, n)


# --- copy detection (the validator compares miners' answers to the same prompt) ---------------

def motion_fingerprint(joints: np.ndarray) -> np.ndarray:
    """A compact signature of a dance: aligned, root-relative joints at 64 evenly spaced instants.

    (64, 24, 3) float32, about 18 KB. Insensitive to where the dancer stands and faces, so a
    copy that was moved or turned is still recognised; float32 keeps copies with tiny added noise
    within tolerance.
    """
    j = align(joints)
    if j.shape[0] == 0:
        return np.zeros((FINGERPRINT_SAMPLES, N_JOINTS, 3), dtype=np.float32)
    j = j - j[:, PELVIS : PELVIS + 1] * np.array([1.0, 0.0, 1.0])
    t = np.linspace(0.0, j.shape[0] - 1, FINGERPRINT_SAMPLES)
    i = np.floor(t).astype(np.int64)
    i1 = np.minimum(i + 1, j.shape[0] - 1)
    w = (t - i)[:, None, None]
    return (j[i] * (1 - w) + j[i1] * w).astype(np.float32)


def fingerprint_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean joint distance (m) between two fingerprints: near 0 for a copy, ~0.1-0.3 m for two dances."""
    return float(np.linalg.norm(a.astype(np.float64) - b, axis=-1).mean())


def near_duplicate(a: np.ndarray, b: np.ndarray, tolerance_m: float = DUPLICATE_TOLERANCE_M) -> bool:
    """True when two dances (joints (T, 24, 3)) are the same dance, moved, turned or lightly noised.

    A validator scoring many answers keeps `motion_fingerprint`s and compares them with
    `fingerprint_distance` instead.
    """
    return fingerprint_distance(motion_fingerprint(a), motion_fingerprint(b)) < tolerance_m


# --- copies shifted, mirrored or sped up (the validator compares the answers to one prompt) -------
#
# A fingerprint at fixed instants misses a copy delayed by a few frames. Here each answer becomes
# its poses in its own body frame (pelvis over the origin, hips along x, height kept), smoothed and
# sampled at COPY_FPS, so that where the dancer stands and faces never matters; two answers are
# then compared window by window (COPY_WINDOW_S), each window at the time shift, within
# COPY_MAX_SHIFT_S, that fits it best, the shift changing by at most one sample from one window to
# the next (a copy sped up or slowed down by up to 1 / (COPY_FPS * COPY_WINDOW_S), 10 %), and the
# other answer also mirrored left for right. A copy is an answer whose windows match within
# COPY_TOLERANCE_M along one such path for at least COPY_MIN_MATCHED of its length: a delayed copy
# has a few windows with nothing to match at its start (what it was padded with), two different
# dances match at most a passing move. What is compared, within what and over which windows is the
# task's CopyProfile (COPY_PROFILES): the numbers above are the dance's; gesture compares the arms
# in the windows where a hand moves.

COPY_FPS = 10.0
COPY_WINDOW_S = 1.0
COPY_MAX_SHIFT_S = 2.5  # 60 frames at 30 fps, with room for a speed change's drift
COPY_TOLERANCE_M = 0.03  # root-mean-square joint distance of a window
COPY_MIN_MATCHED = 0.5
_HEADING_SMOOTHING_S = 0.25  # the facing direction is smoothed: 1 cm of noise on the hips must not turn the body
# The joints compared: the pelvis (its height), the head and the limbs' ends and middles, left then right.
COPY_JOINTS = (PELVIS, HEAD, L_ELBOW, L_WRIST, L_KNEE, L_ANKLE, R_ELBOW, R_WRIST, R_KNEE, R_ANKLE)


@dataclass(frozen=True)
class CopyProfile:
    """What copy detection compares for one task.

    joints: the joints compared (skeleton indices); mirror: for each of them, the index (into
    `joints`) of its left-for-right twin; pelvis_relative: positions relative to the pelvis in all
    three axes (True), or with the pelvis's height kept (a dancer's jumps and crouches count);
    moving_hands: indices (into `joints`) of the hands whose motion makes a window count, or () to
    count every window; moving_spread_m: a window counts when one of those hands' positions spreads
    (root-mean-square deviation from their mean over the window, summed over the axes) by more than
    this; tolerance_m: two windows match when their root-mean-square joint distance is under this;
    min_matched: an answer is a copy when at least this share of its counted windows match.
    """

    joints: tuple[int, ...]
    mirror: tuple[int, ...]
    pelvis_relative: bool = False
    moving_hands: tuple[int, ...] = ()
    moving_spread_m: float = 0.0
    tolerance_m: float = COPY_TOLERANCE_M
    min_matched: float = COPY_MIN_MATCHED


# Dance: the whole body, every window.
DANCE_COPY = CopyProfile(COPY_JOINTS, (0, 1, 6, 7, 8, 9, 2, 3, 4, 5))
# Gesture: standing speakers at rest look alike (the dance profile called 20-21 of 24 honest
# `orator` answers to one 10-s voice, different seeds, copies: their legs, trunks and resting arms
# match within 3 cm), so only the arms are compared, relative to the pelvis, and only in the
# windows where a hand moves (2 cm of spread in a second: a beat moves a wrist 10-30 cm; breathing
# and a weight shift under 1 cm). Within 2 cm, not 3: a window where one hand makes a short stroke
# and the other rests is mostly rest, and two speakers' strokes there differ by 2-3 cm on average,
# while a copy with 1 cm of noise on every joint stays within 1.3 cm. A copy must match at least
# 3/4 of those windows: honest answers to one voice strike the same stresses with a few shapes and
# match in up to 2/3 of them (48 orator answers to two 10-s voices), copies (noised, delayed up to
# 1 s, mirrored) in 0.8-1. Over 864 honest answers (8, 12 and 15 s; 4 voices; styles auto, calm and
# animated; 24 seeds each) 3 were called copies, all on 8-s voices with 4 moving windows, where
# orator made the same gestures for two seeds within 0.9-1.6 cm: as alike as a copy with noise.
GESTURE_COPY = CopyProfile((L_ELBOW, L_WRIST, R_ELBOW, R_WRIST), (2, 3, 0, 1), pelvis_relative=True,
                           moving_hands=(1, 3), moving_spread_m=0.02, tolerance_m=0.02, min_matched=0.75)
COPY_PROFILES = {DANCE: DANCE_COPY, GESTURE: GESTURE_COPY}  # task -> what its copy detection compares


@dataclass(frozen=True)
class CopyMatch:
    """How much of one answer another one copies: the fraction of its windows matched along the best
    path, the root-mean-square joint distance (m) of the matched windows, and the share that makes a
    copy (the profile's min_matched)."""

    matched: float
    distance_m: float
    min_matched: float = COPY_MIN_MATCHED

    @property
    def is_copy(self) -> bool:
        return self.matched >= self.min_matched


def copy_features(joints: np.ndarray, fps: float, profile: CopyProfile = DANCE_COPY) -> np.ndarray:
    """A motion as copy detection sees it: (n, len(profile.joints), 3) float32 positions of the
    profile's joints in the body's own frame at COPY_FPS (n = its duration times COPY_FPS), smoothed
    over one of those samples.

    joints: (T, 24, 3) positions in metres, y up, at `fps` frames per second; profile: the task's
    CopyProfile (COPY_PROFILES).
    """
    j = np.asarray(joints, dtype=np.float64)
    body = j - j[:, PELVIS : PELVIS + 1] * np.array([1.0, float(profile.pelvis_relative), 1.0])
    hips = j[:, L_HIP] - j[:, R_HIP]
    facing = gaussian_filter1d(np.stack([hips[:, 0], hips[:, 2]], axis=-1), _HEADING_SMOOTHING_S * fps, axis=0)
    facing /= np.maximum(np.linalg.norm(facing, axis=-1, keepdims=True), 1e-9)
    c, s = facing[:, 0:1], -facing[:, 1:2]  # rotate the hips onto +x about y
    x, z = body[..., 0], body[..., 2]
    body = np.stack([c * x - s * z, body[..., 1], s * x + c * z], axis=-1)
    body = gaussian_filter1d(body[:, list(profile.joints)], fps / COPY_FPS, axis=0)
    n = max(1, int(round(len(j) / fps * COPY_FPS)))
    t = np.minimum(np.arange(n) * fps / COPY_FPS, len(j) - 1)
    i = np.floor(t).astype(np.int64)
    i1 = np.minimum(i + 1, len(j) - 1)
    w = (t - i)[:, None, None]
    return (body[i] * (1 - w) + body[i1] * w).astype(np.float32)


def mirrored_features(features: np.ndarray, profile: CopyProfile = DANCE_COPY) -> np.ndarray:
    """`copy_features` of the motion mirrored left for right (joints swapped, the body's x negated)."""
    out = features[:, list(profile.mirror)].copy()
    out[..., 0] *= -1.0
    return out


def copy_matches(answer: np.ndarray, others: np.ndarray, profile: CopyProfile = DANCE_COPY) -> list[CopyMatch]:
    """How much `answer` copies each of `others`, as it is or mirrored: all `copy_features` of the
    same length n and profile, (n, J, 3) and (k, n, J, 3). All candidates at once: one matrix product
    and a dynamic programme over the windows (about 1 ms per candidate for 15-s answers)."""
    k = len(others)
    if k == 0:
        return []
    answer = np.asarray(answer, dtype=np.float32)
    both = _with_mirrors(np.asarray(others, dtype=np.float32), profile)
    results = _aligned(answer, both, _counted_windows(answer, profile), profile)
    return [max(results[2 * i], results[2 * i + 1], key=lambda r: (r.matched, -r.distance_m)) for i in range(k)]


class CopyIndex:
    """The answers to one prompt judged so far (`copy_features`, all of one length), kept ready for
    `first_copy`: each answer's sliding-window means and spreads are computed once, when it is added."""

    def __init__(self, capacity: int, profile: CopyProfile = DANCE_COPY):
        """capacity: the most answers that will be added (a step's replies); profile: the task's
        CopyProfile, the one their `copy_features` were made with."""
        self.capacity = int(capacity)
        self.profile = profile
        self._features: np.ndarray | None = None  # (2 * capacity, n, J, 3): each answer, then it mirrored, in turn
        self._stats: np.ndarray | None = None  # (2 * capacity, n - window + 1, 2 J 3): their windows' means and spreads
        self._norms: np.ndarray | None = None  # (2 * capacity, n - window + 1): the squared length of each row of _stats
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, features: np.ndarray) -> None:
        """Keep one more answer's `copy_features` ((n, J, 3))."""
        features = np.asarray(features, dtype=np.float32)
        if self._count >= self.capacity:
            raise ValueError(f"the index holds {self.capacity} answers")
        both = _with_mirrors(features[None], self.profile)
        stats = _sliding_stats(both)
        if self._features is None:
            self._features = np.empty((2 * self.capacity, *features.shape), np.float32)
            self._stats = np.empty((2 * self.capacity, *stats.shape[1:]))
            self._norms = np.empty((2 * self.capacity, stats.shape[1]))
        i = 2 * self._count
        self._features[i : i + 2] = both
        self._stats[i : i + 2] = stats
        self._norms[i : i + 2] = (stats**2).sum(axis=2)
        self._count += 1

    def first_copy(self, features: np.ndarray) -> int | None:
        """The index (in the order added) of the first answer that `features` copies (`CopyMatch.is_copy`,
        as it is or mirrored), or None: the verdict of `copy_matches`, cheaper. A window can only
        match at a shift where its means and spreads (per joint coordinate) are within
        the profile's tolerance of the other's (the root-mean-square distance of two windows is at least
        that of their means and spreads), so answers short of COPY_MIN_MATCHED such windows cannot
        be copies and are never compared in full."""
        k = self._count
        if k == 0:
            return None
        answer = np.asarray(features, dtype=np.float32)
        counted = _counted_windows(answer, self.profile)
        if not counted.any():
            return None
        hits = _window_bounds(answer, self._stats[: 2 * k], self._norms[: 2 * k], counted, self.profile.tolerance_m)
        candidates = np.flatnonzero((hits >= np.ceil(self.profile.min_matched * counted.sum() - 1e-9)).reshape(k, 2).any(axis=1))
        if len(candidates) == 0:
            return None
        rows = (2 * candidates[:, None] + np.arange(2)).reshape(-1)  # each candidate and its mirror
        results = _aligned(answer, self._features[rows], counted, self.profile)
        copied = [i for j, i in enumerate(candidates) if results[2 * j].is_copy or results[2 * j + 1].is_copy]
        return int(copied[0]) if copied else None


def _window() -> int:
    return max(1, int(round(COPY_WINDOW_S * COPY_FPS)))


def _counted_windows(answer: np.ndarray, profile: CopyProfile) -> np.ndarray:
    """Mask (windows,): the windows of `answer` ((n, J, 3) `copy_features`) that copy detection
    counts: every one, or (a profile with moving hands) those where a hand moves (CopyProfile)."""
    w = _window()
    windows = len(answer) // w
    if not profile.moving_hands:
        return np.ones(windows, dtype=bool)
    hands = answer[: windows * w, list(profile.moving_hands)].reshape(windows, w, len(profile.moving_hands), 3).astype(np.float64)
    spread = hands.std(axis=1).sum(axis=-1)  # (windows, hands): root-mean-square deviation, summed over the axes
    return spread.max(axis=1) > profile.moving_spread_m


def _with_mirrors(others: np.ndarray, profile: CopyProfile = DANCE_COPY) -> np.ndarray:
    """(2k, n, J, 3): `others`, each followed by itself mirrored (`mirrored_features`)."""
    both = np.stack([others, others[:, :, list(profile.mirror)] * np.array([-1.0, 1.0, 1.0], np.float32)], axis=1)
    return both.reshape(-1, *others.shape[1:])


def _sliding_stats(b: np.ndarray) -> np.ndarray:
    """(m, n - window + 1, 2 D): for each of `b` ((m, n, J, 3)) and each offset u, the mean and the
    spread (root-mean-square deviation) of every coordinate over samples [u, u + window)."""
    m, n, w = len(b), b.shape[1], _window()
    flat = b.reshape(m, n, -1).astype(np.float64)
    zeros = np.zeros((m, 1, flat.shape[2]))
    sums = np.concatenate([zeros, np.cumsum(flat, axis=1)], axis=1)
    squares = np.concatenate([zeros, np.cumsum(flat**2, axis=1)], axis=1)
    mean = (sums[:, w:] - sums[:, :-w]) / w
    spread = np.sqrt(np.maximum((squares[:, w:] - squares[:, :-w]) / w - mean**2, 0.0))
    return np.concatenate([mean, spread], axis=2)


def _window_bounds(a: np.ndarray, b_stats: np.ndarray, b_norms: np.ndarray, counted: np.ndarray, tolerance_m: float) -> np.ndarray:
    """For each answer whose `_sliding_stats` are `b_stats` ((m, n - window + 1, 2 D)), with their
    rows' squared lengths `b_norms`, how many of the `counted` windows (mask (windows,)) of `a`
    ((n, J, 3)) have a shift within COPY_MAX_SHIFT_S where the lower bound of their distance (from
    means and spreads) is under `tolerance_m`."""
    n, w = len(a), _window()
    windows = n // w
    if windows == 0 or len(b_stats) == 0:
        return np.zeros(len(b_stats), np.int64)
    a_windows = a[: windows * w].reshape(windows, w, -1).astype(np.float64)
    a_mean = a_windows.mean(axis=1)
    a_stats = np.concatenate([a_mean, np.sqrt(np.maximum((a_windows**2).mean(axis=1) - a_mean**2, 0.0))], axis=1)
    # |stats of a's window - stats of b at an offset| squared, for every (offset, window) at once
    products = (b_stats.reshape(-1, b_stats.shape[2]) @ a_stats.T).reshape(len(b_stats), -1, windows)
    gaps = b_norms[:, :, None] + (a_stats**2).sum(axis=1)[None, None, :] - 2.0 * products
    max_shift = min(int(round(COPY_MAX_SHIFT_S * COPY_FPS)), n - 1)
    starts = np.arange(windows)[:, None] * w + np.arange(-max_shift, max_shift + 1)[None, :]  # (windows, shifts)
    inside = (starts >= 0) & (starts <= n - w)
    bound = gaps[:, np.clip(starts, 0, n - w), np.arange(windows)[:, None]]  # (m, windows, shifts)
    bound = np.where(inside, bound / a.shape[1], np.inf)  # mean over joints
    return ((bound.min(axis=2) < tolerance_m**2) & counted).sum(axis=1)


def _aligned(answer: np.ndarray, b: np.ndarray, counted: np.ndarray, profile: CopyProfile) -> list[CopyMatch]:
    """The best monotone path of per-window shifts (see above) of each of `b` ((m, n, J, 3)) against
    `answer` ((n, J, 3)): how much of `answer`'s `counted` windows (mask (windows,)) it matches, and
    how closely (a window matches within the profile's tolerance). A window not counted costs nothing either
    way: the path passes it freely."""
    m, n, joints = len(b), len(answer), answer.shape[1]
    w = _window()
    windows = n // w
    if windows == 0:
        return [CopyMatch(0.0, float("inf"), profile.min_matched)] * m
    b = b.reshape(m, n, -1)
    a = answer.reshape(n, -1)
    max_shift = min(int(round(COPY_MAX_SHIFT_S * COPY_FPS)), n - 1)
    shifts = np.arange(-max_shift, max_shift + 1)
    t = np.arange(windows * w)
    u = t[:, None] + shifts[None, :]  # (frames, shifts): the sample of the other dance each sample of `answer` meets
    inside = (u >= 0) & (u < n)
    u = np.clip(u, 0, n - 1)
    gram = (b.reshape(m * n, -1) @ a[: len(t)].T).reshape(m, n, len(t))  # products of every pair of samples
    cross = gram[:, u, t[:, None]]  # (m, frames, shifts)
    b2 = np.einsum("knd,knd->kn", b, b)[:, u]
    a2 = np.einsum("nd,nd->n", a[: len(t)], a[: len(t)])[None, :, None]
    squared = np.maximum(a2 + b2 - 2.0 * cross, 0.0) / joints  # mean squared joint distance per sample
    squared = np.where(inside, squared, np.inf).reshape(m, windows, w, len(shifts)).mean(axis=2)
    miss = profile.tolerance_m**2
    cost = np.where(counted[None, :, None], np.minimum(squared, miss), 0.0)  # a window with nothing to match costs what a missed one does
    total = cost[:, 0].copy()
    came_from = np.zeros((m, windows, len(shifts)), np.int64)
    lanes = np.arange(len(shifts))
    for i in range(1, windows):
        options = np.stack([np.pad(total[:, :-1], ((0, 0), (1, 0)), constant_values=np.inf), total,
                            np.pad(total[:, 1:], ((0, 0), (0, 1)), constant_values=np.inf)])  # from shift -1, 0, +1
        step = options.argmin(axis=0)
        came_from[:, i] = lanes + step - 1
        total = np.take_along_axis(options, step[None], axis=0)[0] + cost[:, i]
    path = np.empty((m, windows), np.int64)
    path[:, -1] = total.argmin(axis=1)
    for i in range(windows - 1, 0, -1):
        path[:, i - 1] = came_from[np.arange(m), i, path[:, i]]
    along = np.take_along_axis(squared, path[:, :, None], axis=2)[:, :, 0]
    hit = (along < miss) & counted
    with np.errstate(invalid="ignore"):
        distance = np.sqrt(np.where(hit, along, 0.0).sum(axis=1) / hit.sum(axis=1))
    matched = hit.sum(axis=1) / max(int(counted.sum()), 1)
    return [CopyMatch(float(f), float(d) if h else float("inf"), profile.min_matched)
            for f, d, h in zip(matched, distance, hit.any(axis=1))]
