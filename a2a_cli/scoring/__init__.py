"""Scoring: the metrics of the literature, physical validity gates, similarity, the validator score.

The names below are the judge's public API; the metric modules (beats, pfc, kinetic, geometric,
fid) are imported from their own modules.
"""

from a2a_cli.scoring.composite import JUDGE_VERSION, WEIGHTS, ScoreReport, score_motion, score_motions
from a2a_cli.scoring.gesture import GESTURE_JUDGE_VERSION, score_gesture, score_gestures
from a2a_cli.scoring.similarity import (
    aligned_joint_error, fingerprint_distance, motion_fingerprint, near_duplicate, original_subnet_score,
)
from a2a_cli.scoring.validity import Gate, check_validity

__all__ = [
    "GESTURE_JUDGE_VERSION", "JUDGE_VERSION", "WEIGHTS", "Gate", "ScoreReport", "aligned_joint_error", "check_validity", "fingerprint_distance",
    "motion_fingerprint", "near_duplicate", "original_subnet_score", "score_gesture", "score_gestures", "score_motion", "score_motions",
]
