"""Four plain statistics of how a body dances, measured on joint positions against real dancers.

They say whether a dance moves like a person (legs that step, a body that travels), not whether
it is good: `a2a_cli.scoring` judges that. Each takes joint positions (T, 24, 3) in metres, SMPL
joint order, y up, at `fps` frames per second. The ranges real dancers span (10th-90th percentile
of 10-s windows of AIST++ and other real dances) are kept here with them, in `REAL_RANGES`.

- `root_travel_m_s`: the pelvis's horizontal path per second (m/s), its position smoothed over
  0.2 s first so that the sway of each step does not count as travel.
- `leg_arm_speed_ratio`: mean speed of knees, ankles and feet over the mean speed of elbows and
  wrists: about 0.1 for a dancer who only moves the arms, above 1 for one who only steps.
- `steps_per_s`: how often a foot that rests (slower than FOOT_REST_M_S for FOOT_REST_S) moves off
  (faster than FOOT_MOVING_M_S), both feet together, per second.
- `foot_moving_share`: the share of frames in which at least one foot moves faster than
  FOOT_MOVING_M_S.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from a2a_cli.motion import skeleton as sk

FOOT_MOVING_M_S = 0.3  # a foot faster than this is moving
FOOT_REST_M_S = 0.15  # a foot slower than this rests ...
FOOT_REST_S = 0.1  # ... when it stays that slow this long
ROOT_SMOOTHING_S = 0.2  # the pelvis's sway within a step is not travel
SPEED_SMOOTHING_S = 0.1  # joint speeds are taken over positions smoothed this much (tracking jitter)
LEG_JOINTS = (sk.L_KNEE, sk.R_KNEE, sk.L_ANKLE, sk.R_ANKLE, sk.L_FOOT, sk.R_FOOT)
ARM_JOINTS = (sk.L_ELBOW, sk.R_ELBOW, sk.L_WRIST, sk.R_WRIST)

# 10th-90th percentile of real dancers (issue 10's measurement), in the order of `dance_statistics`.
REAL_RANGES: dict[str, tuple[float, float]] = {
    "root_travel_m_s": (0.16, 0.79),
    "leg_arm_speed_ratio": (0.44, 1.03),
    "steps_per_s": (0.57, 1.72),
    "foot_moving_share": (0.14, 0.82),
}


def _smoothed(joints: np.ndarray, seconds: float, fps: float) -> np.ndarray:
    """Joint positions averaged over a window of `seconds` (at least one frame) along time."""
    size = max(int(round(seconds * fps)), 1)
    return uniform_filter1d(np.asarray(joints, dtype=np.float64), size, axis=0, mode="nearest")


def _speeds(joints: np.ndarray, fps: float) -> np.ndarray:
    """Per-frame speed (m/s) of every joint, (T-1, J), over lightly smoothed positions."""
    return np.linalg.norm(np.diff(_smoothed(joints, SPEED_SMOOTHING_S, fps), axis=0), axis=-1) * fps


def root_travel_m_s(joints: np.ndarray, fps: float = 30.0) -> float:
    """Horizontal path of the smoothed pelvis per second (m/s)."""
    root = _smoothed(joints[:, sk.PELVIS, [0, 2]], ROOT_SMOOTHING_S, fps)
    seconds = max(joints.shape[0] - 1, 1) / fps
    return float(np.linalg.norm(np.diff(root, axis=0), axis=-1).sum() / seconds)


def leg_arm_speed_ratio(joints: np.ndarray, fps: float = 30.0) -> float:
    """Mean speed of knees, ankles and feet over that of elbows and wrists."""
    speed = _speeds(joints, fps)
    return float(speed[:, LEG_JOINTS].mean() / max(speed[:, ARM_JOINTS].mean(), 1e-9))


def _foot_speeds(joints: np.ndarray, fps: float) -> np.ndarray:
    """(T-1, 2) speed of each foot, the faster of its ankle and its toe joint (heel or toe moving)."""
    speed = _speeds(joints, fps)
    return np.maximum(speed[:, [sk.L_ANKLE, sk.R_ANKLE]], speed[:, [sk.L_FOOT, sk.R_FOOT]])


def steps_per_s(joints: np.ndarray, fps: float = 30.0) -> float:
    """Steps per second: a foot at rest for FOOT_REST_S that then moves faster than FOOT_MOVING_M_S."""
    speed = _foot_speeds(joints, fps)
    rest_frames = max(int(round(FOOT_REST_S * fps)), 1)
    steps = 0
    for foot in speed.T:
        resting = 0
        armed = False  # has rested long enough since its last step
        for v in foot:
            if v < FOOT_REST_M_S:
                resting += 1
                armed = armed or resting >= rest_frames
            else:
                resting = 0
                if armed and v > FOOT_MOVING_M_S:
                    steps += 1
                    armed = False
    return steps / (max(joints.shape[0] - 1, 1) / fps)


def foot_moving_share(joints: np.ndarray, fps: float = 30.0) -> float:
    """Share of frames with at least one foot faster than FOOT_MOVING_M_S."""
    return float((_foot_speeds(joints, fps) > FOOT_MOVING_M_S).any(axis=1).mean())


def dance_statistics(joints: np.ndarray, fps: float = 30.0) -> dict[str, float]:
    """All four statistics of one dance, keyed as REAL_RANGES."""
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (sk.N_JOINTS, 3) or joints.shape[0] < 2:
        raise ValueError(f"joint positions must be (T >= 2, {sk.N_JOINTS}, 3), got {joints.shape}")
    return {
        "root_travel_m_s": root_travel_m_s(joints, fps),
        "leg_arm_speed_ratio": leg_arm_speed_ratio(joints, fps),
        "steps_per_s": steps_per_s(joints, fps),
        "foot_moving_share": foot_moving_share(joints, fps),
    }


def in_real_range(name: str, value: float) -> bool:
    """Whether `value` of statistic `name` lies inside the real dancers' 10th-90th percentile range."""
    lo, hi = REAL_RANGES[name]
    return lo <= value <= hi
