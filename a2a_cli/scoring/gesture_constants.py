"""Every constant of the gesture judge (gesture.py), each with where it comes from; JUDGE.md
("Gesture judge 1.1") explains them for users.

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
    "MIN_PAUSE_FRAMES_S", "MIN_PAUSE_S", "MIN_TIMING_STRESSES", "NULL_DRAWS", "NULL_SD_FLOOR", "NULL_SEED",
    "REST_RATIO_HUMAN", "REST_RATIO_NONE", "REST_SETTLE_S", "STOP_PROMINENCE_M_S", "STOP_SMOOTHING_S", "STOP_WINDOW_S",
    "TIMING_EFFECT_FULL", "TIMING_EFFECT_NONE", "TIMING_TOLERANCE_S", "TIMING_Z_FULL", "TIMING_Z_NONE", "UNTIMED_SCORE_CAP",
]

# Reported in every gesture score (ScoreReport.judge_version). Major: what is measured changes;
# minor: a constant moves.
GESTURE_JUDGE_VERSION = "1.1"

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
# Seeded: the same answer always gets the same verdict. 512 draws (1.0: 64): the null's standard
# deviation, which the credit divides by, then varies by about 3 % between seeds instead of 9 %; with
# 64, 5 of 160 motions made for other 8-s voices drew a null narrow enough for credit above 0.2.
NULL_DRAWS = 512
NULL_SEED = 0
# Timing is judged by how significant the motion's F is against that null, z = (F - c) / s (c and s
# the null F's mean and standard deviation, s at least NULL_SD_FLOOR): no credit up to TIMING_Z_NONE,
# full from TIMING_Z_FULL. The null's spread is computed from this voice's own stresses, so a short
# clip needs a larger F for the same z and a long one a smaller: the credit is length-aware. Judge
# 1.0 asked for F - c - 2.5 s >= 0.22 (1 - c), an effect in units of F that an 8-s clip (s 0.15-0.2)
# often cannot show even with every stroke on a stress (orator scored 0.25-1.00 there, and timing
# was not judged at all below 6 stresses). Measured (orator on 40 analysed synthetic voices a length,
# 4 other voices each; the scripted speaker and its tricks on 20 voices; 512 draws): z of honest
# gesture 2.97-5.6 at 6 s (median 3.8), 3.7-5.4 at 8 s, 4.1-5.9 at 10 s, 4.4-6.2 at 12 s (the
# scripted speaker 2.5-4.2 at 6 s, 3.3-4.8 at 8 s); of orator against another voice at most 2.8 at
# 6 s and 3.05 at 8 s, and 3.3-4.3 for 1-2 % of pairs at 10-12 s (three or four strokes that all
# land on the other voice's stresses: as likely as that); of jittered and random gestures and the
# scripted speaker against another voice at most 3.07 (6 s) and 2.6 (8-12 s). The floor: a null
# without spread (no stroke near any stress) would divide by 0.
TIMING_Z_NONE = 3.0
TIMING_Z_FULL = 3.4
NULL_SD_FLOOR = 0.05
# ... and by its size, the share of what chance leaves that the motion takes, (F - c) / (1 - c): no
# credit up to TIMING_EFFECT_NONE, full from TIMING_EFFECT_FULL. Significance grows with the square
# root of the stresses, so on a long clip a motion that follows the voice only a little would be
# fully significant; honest gesture takes 0.47-0.93 of it (every length above), chance 0.
TIMING_EFFECT_NONE = 0.15
TIMING_EFFECT_FULL = 0.3
# The timing credit is the lesser of the two. It is not judged when the voice has fewer stresses in
# the clip than MIN_TIMING_STRESSES (with three, one stroke on a stress by luck is z 2.8: nothing
# tells timing from chance); the score is then capped at UNTIMED_SCORE_CAP, since nothing shows that
# the motion belongs to this voice. 6-s synthetic voices have 1-10 stresses (12 of 40 fewer than 4),
# 8-s ones 4-11.
MIN_TIMING_STRESSES = 4
UNTIMED_SCORE_CAP = 0.5

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
