"""Every constant of the gesture judge (gesture.py), each with where it comes from; JUDGE.md
("Gesture judge 1.0") explains them for users.

The gesture judge shares the dance judge's time base (30 fps), physical gates and anti-loop measure
(constants.py); what is here is what a standing speaker changes. There is no capture of real
speakers in this repository yet: the human references below are a2a's choices, set from the motion
literature where it gives a figure and checked against a scripted speaker (support/gestures.py),
and say so. Changing any number here changes what gesture miners are paid for: bump
`GESTURE_JUDGE_VERSION` with it.
"""

from __future__ import annotations

__all__ = [
    "FOOT_SLIDE_HUMAN_M_S", "GESTURE_JERK_HUMAN_M_S3", "GESTURE_JERK_NONE_M_S3", "GESTURE_JUDGE_VERSION",
    "GESTURE_WEIGHTS", "L1DIV_HUMAN_M", "L1DIV_NONE_M", "MAX_FOOT_SLIDE_M_S", "MAX_TRAVEL_M", "MIN_HAND_MOTION_M",
    "MIN_PAUSE_FRAMES_S", "MIN_PAUSE_S", "MIN_TIMING_STRESSES", "NULL_DRAWS", "NULL_SEED", "REST_RATIO_HUMAN",
    "REST_RATIO_NONE", "REST_SETTLE_S", "STOP_PROMINENCE_M_S", "STOP_SMOOTHING_S", "STOP_WINDOW_S", "TIMING_CHANCE",
    "TIMING_HUMAN", "TIMING_MARGIN_Z", "TIMING_TOLERANCE_S",
]

# Reported in every gesture score (ScoreReport.judge_version). Major: what is measured changes;
# minor: a constant moves.
GESTURE_JUDGE_VERSION = "1.0"

# --- the blend ---------------------------------------------------------------------------------------
# Renormalised over the terms that can be computed (no speech: no timing, no rest). Timing leads: a
# gesture is co-speech when its strokes land on this voice's stresses; it also multiplies the blend.
GESTURE_WEIGHTS = {"timing": 0.35, "rest": 0.15, "variety": 0.2, "quality": 0.3}

# --- timing: the hands' strokes on this voice's stresses, against a null model -------------------------
# gesture_timing.py: the wrists' stops and stroke ends, their precision and recall on the stressed
# syllables, the F-measure of the two, chance-corrected. A stop: a minimum of a wrist's speed (relative
# to the pelvis, smoothed by a Gaussian of STOP_SMOOTHING_S: one frame, so that a corner of a sampled
# path is no stop) that the speed rises STOP_PROMINENCE_M_S above on both sides within STOP_WINDOW_S
# (scipy's peak prominence and wlen): a visible stop of a moving hand, not the tremor of one at rest
# (a hand at rest moves at a few cm/s; a beat stroke at 0.3-1.5 m/s). It counts on a stress within
# TIMING_TOLERANCE_S (the dance judge's 0.1 s, Bailando's 3 frames: a stroke's end is a sharp event, and
# with 0.3 s, EMAGE's width, nearly any moving hand is near every stress).
STOP_SMOOTHING_S = 1 / 30
STOP_PROMINENCE_M_S = 0.1
STOP_WINDOW_S = 0.8
TIMING_TOLERANCE_S = 0.1
# The null model: the same motion against NULL_DRAWS unrelated voices of the same rhythm, made from
# this voice's stresses by shuffling the intervals between them (the interval from the last stress
# back round to the first included) and starting them at a random time, wrapped around the clip.
# Seeded: the same answer always gets the same verdict.
NULL_DRAWS = 64
NULL_SEED = 0
# timing = (F - c - TIMING_MARGIN_Z x s) / (1 - c), c and s the null's mean and standard deviation of
# F: the share of what chance leaves that the motion takes, beyond what luck gives (a motion with
# stops everywhere has a high recall for any voice and chance precision; the margin keeps luck out).
# No credit up to TIMING_CHANCE, full from TIMING_HUMAN: a2a's choice between what the tricks and the
# speakers reach (JUDGE.md has the figures). On 12-s clips of 40 voices each, timing was 0.24-0.63 for
# orator on analysed synthetic speech (every style) and for the scripted speaker; against another
# voice at most 0.10 (orator) and 0.04 (the scripted speaker); random arm motion at most 0.04 and
# jittered rest poses at most 0.14 (their score under 0.2 with the rest of the blend). A margin of
# 2 deviations let one jittered pose in 40 reach 0.19: the null's F is skewed when stops are many.
TIMING_MARGIN_Z = 2.5
TIMING_CHANCE = 0.1
TIMING_HUMAN = 0.22
# Timing is left out when the voice has fewer stresses in the clip than this: two or three stresses
# land near some beat by chance.
MIN_TIMING_STRESSES = 6

# --- rest: calmer hands in the pauses than while speaking ----------------------------------------------
# Speakers retract their hands or hold them still when they stop talking (Kendon 2004: gesture units
# end in a rest position or a hold). The hands' speed (wrists, relative to the pelvis) in the pauses of
# at least MIN_PAUSE_S, leaving out REST_SETTLE_S at either end of each (a retraction after the last
# word, a preparation before the next, take about that long), over their speed while voiced. Full credit at or below REST_RATIO_HUMAN, none from REST_RATIO_NONE (moving as much in the
# pauses as while speaking). Left out when such pauses add up to less than MIN_PAUSE_FRAMES_S.
MIN_PAUSE_S = 0.7
REST_SETTLE_S = 0.3
MIN_PAUSE_FRAMES_S = 0.3
REST_RATIO_HUMAN = 0.5
REST_RATIO_NONE = 1.0

# --- variety: lively, and not a loop -------------------------------------------------------------------
# EMAGE's L1 diversity (gesture_metrics.l1_diversity, pelvis-relative, metres summed over 72
# coordinates): a speaker's rest pose with noise on it stays near 0; gesturing hands reach metres.
# No credit at L1DIV_NONE_M, full from L1DIV_HUMAN_M (a2a's choice: the scripted speaker reaches 1.1-1.9 on 12-s clips).
# The loop check is the dance judge's repeat residual (composite.repeat_residual) with its limits.
L1DIV_NONE_M = 0.2
L1DIV_HUMAN_M = 0.6

# --- quality: smooth, and feet that hold the floor ------------------------------------------------------
# GENEA's mean jerk (gesture_metrics.mean_jerk) of the upper body (spine to wrists), m/s^3 at 30 fps:
# full credit up to GESTURE_JERK_HUMAN_M_S3, none from GESTURE_JERK_NONE_M_S3. The scripted speaker's
# beat strokes reach 15-24; 0.02 rad of noise a frame on a speaker's rest pose about 1,500 (a2a's
# choice between them, with room for faster strokes than the fixture's).
GESTURE_JERK_HUMAN_M_S3 = 100.0
GESTURE_JERK_NONE_M_S3 = 500.0
# Feet: the mean horizontal speed of the feet while on the floor (m/s). Planted: 0 (a learned model's
# foot jitter a few cm/s); a shuffle step or two in a clip keeps it under 0.05. Full credit up to
# FOOT_SLIDE_HUMAN_M_S; the gate below.
FOOT_SLIDE_HUMAN_M_S = 0.03

# --- gates: a standing speaker ---------------------------------------------------------------------------
# Travel: the farthest the pelvis (its path averaged over 0.2 s, horizontal) gets from its median
# position, in metres. A speaker shifts weight by a few centimetres and may take a step; one who walks
# off travels metres. The goal for generated gestures is under 0.3 m over a minute.
MAX_TRAVEL_M = 0.5
# Skating: the feet's mean horizontal speed while on the floor (above), at most 0.1 m/s.
MAX_FOOT_SLIDE_M_S = 0.1
# Not static: the hands (wrists relative to the pelvis) must deviate from their mean position by more
# than 2 cm RMS over the clip (the dance judge's `moves` limit, on the hands: a speaker's legs and
# trunk hardly move, so the whole body's mean would call a gesturing speaker still).
MIN_HAND_MOTION_M = 0.02
