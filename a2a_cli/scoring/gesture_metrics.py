"""The co-speech gesture literature's metrics, for SMPL-24 joint positions (metres, y up).

**Beat consistency (BC)**, EMAGE (Liu et al., CVPR 2024), as its evaluation code computes it
(PantoMatrix `emage_evaltools/mertic.py`, class `BC`, with `sigma=0.3, order=7` as its training
scripts build it):
- per joint, the speed from central differences (first-order differences at the two ends: exactly
  `np.gradient`), at 30 fps;
- a joint's motion beats are its speed's strict local minima over +-7 frames
  (`argrelextrema(v, np.less, order=7)`: 0.23 s either side), kept only where the speed exceeds 0.1
  of the joint's mean speed: a minimum while the joint is nearly still is not a beat;
- per joint, the mean over the audio beats of exp(-d^2 / (2 sigma^2)), sigma 0.3 s, d the distance
  to the joint's nearest motion beat (0 for a joint without one); BC is the mean over the upper-body
  joints, spine to wrists (EMAGE's `upper_body=[3, 6, 9, 12, ..., 21]`: the same indices in SMPL-24:
  spine 1-3, neck, collars, head, shoulders, elbows, wrists).

Where this differs from EMAGE's code, and why:
- EMAGE divides each joint's speed by its mean speed over the BEAT2 data set
  (`mean_vel_smplxflame_30.npy`) before the 0.1 threshold; there is no BEAT2 here, so the threshold
  is 0.1 of the joint's own mean speed over the clip (its code falls back to the clip's largest speed).
- EMAGE's audio beats are librosa onsets of the waveform: in speech, nearly every syllable (4-6 a
  second), so that with sigma 0.3 s any moving hand scores near 1. Here the audio beats are the
  stressed syllables (`SpeechAnalysis.stress_times_s`, pitch accents), where beat gestures' strokes
  land (McNeill 1992; Loehr 2004; Leonard and Cummins 2011), one every 0.5-1 s.
- EMAGE drops the first and last 2 s of each BEAT2 take; a clip here is judged whole.
- `sigma_s` and `order_s` are arguments, EMAGE's values the defaults. The gesture judge reports BC
  as EMAGE computes it and judges timing otherwise: by the hands' stroke ends on the stresses
  (gesture_timing.py), since BC's 13 joints and 0.3-s width barely tell a voice from another.

**L1 diversity (L1div)**, EMAGE's `L1div`: the mean over frames of the summed absolute deviation of
every coordinate from its mean over the clip (metres). Here on pelvis-relative joints, so that a
body travelling does not count as varied gesture.

**Mean jerk and mean acceleration**, the GENEA challenges' numerical evaluations
(genea-workshop/genea_numerical_evaluations, `calk_jerk_or_acceleration.py`): per joint, the mean
over frames of the norm of the third (second) finite difference of its position, times fps^3
(fps^2); then the mean over joints. Metres here (m/s^3, m/s^2); GENEA's scripts take positions in
whatever unit the motion files use.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from a2a_cli.motion.skeleton import (
    HEAD, L_COLLAR, L_ELBOW, L_SHOULDER, L_WRIST, NECK, PELVIS, R_COLLAR, R_ELBOW, R_SHOULDER, R_WRIST, SPINE1,
    SPINE2, SPINE3,
)

__all__ = [
    "BC_MIN_SPEED", "BC_ORDER_S", "BC_SIGMA_S", "UPPER_BODY", "beat_consistency", "gesture_beats", "joint_speeds",
    "l1_diversity", "local_minima", "mean_acceleration", "mean_jerk",
]

# EMAGE's BC(upper_body=[3, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]): spine to wrists.
UPPER_BODY = (SPINE1, SPINE2, SPINE3, NECK, L_COLLAR, R_COLLAR, HEAD, L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW,
              L_WRIST, R_WRIST)
BC_SIGMA_S = 0.3  # EMAGE's sigma (seconds)
BC_ORDER_S = 7 / 30  # EMAGE's order=7 frames at 30 fps, either side of a minimum
BC_MIN_SPEED = 0.1  # a beat's speed must exceed this fraction of the joint's mean speed


def joint_speeds(joints: np.ndarray, fps: float, which: Sequence[int] = UPPER_BODY) -> np.ndarray:
    """Speed (m/s) of the joints `which` at every frame, (T, len(which)), from central differences
    (np.gradient: first-order at the ends), as EMAGE's BC. joints: (T, 24, 3) metres, T >= 2."""
    positions = np.asarray(joints, dtype=np.float64)[:, list(which)]
    return np.linalg.norm(np.gradient(positions, 1.0 / fps, axis=0), axis=-1)


def local_minima(values: np.ndarray, order: int) -> np.ndarray:
    """Mask (T, ...) of the strict local minima along axis 0 over +-`order` samples, the edges
    compared with themselves: `scipy.signal.argrelextrema(values, np.less, order=order, axis=0)`
    as a mask (so the first and last sample never are one)."""
    values = np.asarray(values)
    padded = np.concatenate([np.repeat(values[:1], order, axis=0), values, np.repeat(values[-1:], order, axis=0)])
    n = values.shape[0]
    minimum = np.ones(values.shape, dtype=bool)
    for shift in range(1, order + 1):
        minimum &= (values < padded[order - shift : order - shift + n]) & (values < padded[order + shift : order + shift + n])
    return minimum


def gesture_beats(joints: np.ndarray, fps: float, which: Sequence[int] = UPPER_BODY,
                  order_s: float = BC_ORDER_S) -> list[np.ndarray]:
    """EMAGE's motion beats of each joint in `which`: times (s) of the speed's strict local minima
    over +-`order_s` seconds (EMAGE: 7 frames at 30 fps) where the speed exceeds BC_MIN_SPEED of the
    joint's mean (module doc). joints: (T, 24, 3) metres; fps: frames per second."""
    speed = joint_speeds(joints, fps, which)
    order = max(1, int(round(order_s * fps)))
    beats = local_minima(speed, order) & (speed > BC_MIN_SPEED * speed.mean(axis=0))
    return [np.flatnonzero(beats[:, j]) / fps for j in range(speed.shape[1])]


def beat_consistency(beats: Sequence[np.ndarray], audio_beats_s: np.ndarray, sigma_s: float = BC_SIGMA_S) -> np.ndarray:
    """EMAGE's BC of motion beats (one array of times per joint, `gesture_beats`) against audio beats.

    audio_beats_s: (m,) times in seconds, or (k, m) for k sets of audio beats at once (the null
    model's); sigma_s: the Gaussian's width in seconds. Returns BC per set, shape () or (k,): the mean
    over joints of each joint's mean over audio beats of exp(-d^2 / (2 sigma^2)); a joint without
    beats counts 0; no audio beat gives 0.
    """
    audio = np.atleast_1d(np.asarray(audio_beats_s, dtype=np.float64))
    if audio.shape[-1] == 0 or not beats:
        return np.zeros(audio.shape[:-1])
    flat = audio.reshape(-1, audio.shape[-1])
    total = np.zeros(flat.shape[0])
    for joint in beats:
        if joint.size == 0:
            continue
        right = np.searchsorted(joint, flat).clip(max=joint.size - 1)
        left = (right - 1).clip(min=0)
        d = np.minimum(np.abs(flat - joint[left]), np.abs(flat - joint[right]))
        total += np.exp(-(d * d) / (2 * sigma_s * sigma_s)).mean(axis=-1)
    return (total / len(beats)).reshape(audio.shape[:-1])


def l1_diversity(joints: np.ndarray) -> float:
    """EMAGE's L1div of one clip (T, 24, 3), pelvis-relative: mean over frames of sum over joints and
    axes of |x - mean over frames| (metres)."""
    x = np.asarray(joints, dtype=np.float64)
    x = x - x[:, PELVIS : PELVIS + 1]
    return float(np.abs(x - x.mean(axis=0)).sum() / max(len(x), 1))


def _mean_difference_norm(joints: np.ndarray, fps: float, order: int, which: Sequence[int] | None) -> float:
    x = np.asarray(joints, dtype=np.float64)
    if which is not None:
        x = x[:, list(which)]
    if len(x) <= order:
        return 0.0
    d = np.diff(x, n=order, axis=0)
    return float(np.linalg.norm(d, axis=-1).mean(axis=0).mean() * fps**order)


def mean_jerk(joints: np.ndarray, fps: float, which: Sequence[int] | None = None) -> float:
    """GENEA's average jerk (m/s^3) of one clip (T, 24, 3): per joint the mean norm of the third
    difference times fps^3, averaged over the joints `which` (all by default); 0 under 4 frames."""
    return _mean_difference_norm(joints, fps, 3, which)


def mean_acceleration(joints: np.ndarray, fps: float, which: Sequence[int] | None = None) -> float:
    """GENEA's average acceleration (m/s^2) of one clip (T, 24, 3), as `mean_jerk` with the second
    difference times fps^2; 0 under 3 frames."""
    return _mean_difference_norm(joints, fps, 2, which)
