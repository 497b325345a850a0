"""Every constant of the judge, in one place, each with where it comes from (JUDGE.md explains them).

The judge measures how close a dance comes to the way people dance (DESIGN §6). Its constants are
of three kinds:

- **gate limits**: physical bounds no human dancer crosses, set with a margin over real dancing
  (every maximum at least 1/0.75 of the highest value the shared AIST++ slices and the other real
  captures reach, every minimum at most 1/1.5 of the lowest);
- **human references**: where a term's credit saturates, inside the range real dancers reach, so
  that being more beat-locked, smoother or stiller-footed than people earns nothing more;
- **weights** of the blend and the anti-gaming factors.

"Shared slices" below means the four AIST++ basic-movement slices of `shared/reference/real-dance`
(Break, Jazz ballet, Krump, LA hip-hop), measured with this judge at 30 fps. Changing any number
here changes what miners are paid for: bump `JUDGE_VERSION` with it.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "AIRBORNE_HEIGHT_M", "COARSE_LEVEL_MARGIN_Z", "CONTACT_HEIGHT_M", "CONTROL_PHASES", "DOUBLE_SLIDE_HUMAN", "DOUBLE_TIME_MIN_S",
    "DOUBLE_SLIDE_NONE", "DOUBLE_SLIDE_SPEED_M_S", "ENERGY_R_HUMAN", "ENERGY_SMOOTHING_SIGMA_S",
    "FOOT_LIFT_M", "FOOT_MOVING_M_S", "JERK_HUMAN_M_S3", "JUDGE_FPS", "JUDGE_VERSION", "LATENCY_HALF_S",
    "LATENCY_WEIGHT", "LOW_CREDIT", "MAX_ABS_POSITION_M", "MAX_AIRBORNE_S", "MAX_ANGULAR_SPEED_RAD_S",
    "MAX_BONE_STRETCH", "MAX_FPS", "MAX_JOINT_SPEED_M_S", "MAX_MEDIAN_JERK_M_S3", "MAX_PENETRATION_M",
    "MAX_ROOT_SPEED_M_S", "MAX_SKATE_RATIO", "MIN_DURATION_S", "MIN_ENERGY_VARIATION", "MIN_FPS",
    "MIN_FRAMES", "MIN_MOTION_BEATS", "MIN_POSE_MOTION_M", "MIN_REST_S", "MIN_SYNC_BEATS", "OFFBEAT_MARGIN_Z", "PENETRATION_PERCENTILE",
    "PFC_HALF_CREDIT", "PFC_HUMAN", "REALISM_FLOOR", "REALISM_HUMAN", "REPEAT_RESIDUAL_EXACT", "REPEAT_RESIDUAL_HUMAN",
    "REPLAY_MAX_SHIFT_S", "REPLAY_TOLERANCE_M", "SIMILARITY_PLATEAU_M", "SIMILARITY_SCALE_M",
    "SKATE_SPEED_M_S", "SPEED_PERCENTILE", "SYNC_CHANCE", "SYNC_HUMAN", "SYNC_LEVELS", "SYNC_LEVEL_TIE",
    "TELEPORT_SPEED_M_S", "TRAVEL_SMOOTHING_S", "VARIETY_LAGS_S", "WEIGHTS",
]

# Reported in every score (JSON, tables) and sent by validators in the protocol: two scores are
# comparable only under the same version. Major: what is measured changes; minor: a constant moves.
JUDGE_VERSION = "3.2"  # 3.2: the pose-change trait is each joint's RMS distance (was its mean distance); 3.1: the realism model learns real windows against procedural ones

# --- time base ------------------------------------------------------------------------------------
# Every gate and term is measured on the motion resampled to 30 fps (the rate of AIST++, EDGE and the
# papers' metrics, and of the protocol): finite differences, the jerk above all, grow with the frame
# rate (one real clip: jerk 481 at 30 fps, 3,171 at 120), so measuring at the file's own rate would
# make the verdict depend on how the dance was sampled instead of how it moves.
JUDGE_FPS = 30.0

# --- gates: frame rate, length, numbers -----------------------------------------------------------
# Film's 24 fps is the slowest rate at which motion still reads as motion and beats (0.1 s
# alignment) can be placed; motion capture rarely exceeds 240 fps. The validator asks for 30.
MIN_FPS = 24.0
MAX_FPS = 240.0
# At least one second: shorter answers cannot be judged for rhythm or dynamics.
MIN_DURATION_S = 1.0
# The fewest frames the motion gates can measure (jerk needs 4); fewer fail the duration gate.
MIN_FRAMES = 4
# Joint coordinates beyond 10 km from the origin are absurd (overflowed or corrupt numbers): such a
# motion fails the "finite" gate like NaN or inf does.
MAX_ABS_POSITION_M = 1e4

# --- gates: the body's physical limits (y up, metres, seconds; the floor at y = 0) ---------------
# The fastest human limb tips: a punch peaks near 10-12 m/s, a martial-arts kick's foot at 15-20 m/s
# for a frame or two. Real dancers reach 10.7 m/s (a modern-dance clip; the shared slices at most
# 6.5), 0.67 of this limit. Random poses jump 20-100 m/s.
MAX_JOINT_SPEED_M_S = 16.0
# The body as a whole (the pelvis): sprinters reach 10 m/s, dancers crossing a stage 4-5 m/s; the
# shared slices at most 1.6 (0.26 of the limit).
MAX_ROOT_SPEED_M_S = 6.0
# A teleport is one frame in which the root moves faster than a sprinter: 0.33 m in 1/30 s.
TELEPORT_SPEED_M_S = 10.0
# Joints turning faster than this (rad/s): a fast pirouette is about 3 turns/s (19 rad/s), wrist
# flicks are of the same order; 40 rad/s (6.4 turns/s) is beyond any sustained human rotation.
MAX_ANGULAR_SPEED_RAD_S = 40.0
# Jerk (third derivative of position, median frame, at 30 fps): a smooth 0.3 m arm swing at 2 Hz is
# ~600 m/s^3, real dancers' typical frame 20-481 (shared slices at most 384: 0.1 of the limit); the
# typical frame of noise is far above 4,000.
MAX_MEDIAN_JERK_M_S3 = 4000.0
# Penetration: the lowest foot joint (ankle or toe) more than 5 cm under the floor in more than 5%
# of the frames means the feet are inside the ground, not a toe joint's rounding.
MAX_PENETRATION_M = 0.05
PENETRATION_PERCENTILE = 95.0
# Floating: both feet higher than 15 cm counts as airborne; a 1 m standing jump (world class) stays
# in the air about 0.9 s, so airborne longer than 1 s at a stretch is floating (shared slices: 0.03 s).
AIRBORNE_HEIGHT_M = 0.15
MAX_AIRBORNE_S = 1.0
# Foot skating: a foot near the floor (within 5 cm of the clip's floor level) moving faster than
# 0.5 m/s horizontally is sliding. Real dancing with slides and swivels reaches 0.48 of the contact
# frames (the shared LA hip-hop slice; 0.69 of this limit); a gliding statue slides in all of them.
# Sliding below the limit costs quality (PFC) instead: a learned model's ordinary foot sliding is a
# flaw, not a cheat.
CONTACT_HEIGHT_M = 0.05
SKATE_SPEED_M_S = 0.5
MAX_SKATE_RATIO = 0.7
# Bones do not stretch: for motions given as joint positions, the bones' mean relative change of
# length from their median must stay under 15% in 99% of the frames (FK output keeps it at 0; a
# pose estimator's 1 cm of noise gives ~12%; joints moving independently give 30-50%).
MAX_BONE_STRETCH = 0.15
# A dance moves: the pose (joints relative to the pelvis) must deviate from its average by more than
# 2 cm RMS per joint. The stillest real dance, a jazz-ballet basic movement, moves 4.1 cm (2x the
# limit); a statue with sensor-like jitter stays in millimetres.
MIN_POSE_MOTION_M = 0.02
# Speeds and the rotation speed use a high percentile over frames so that one rounding glitch does
# not fail a clip.
SPEED_PERCENTILE = 99.0

# --- the blend -----------------------------------------------------------------------------------
# Renormalised over the terms that can be computed (no audio: no sync or energy; no reference dance:
# no similarity). Sync leads because following this song is what makes motion a dance to it; realism
# (a body that moves like a dancer's) comes next, because a beat-locked puppet collects every other
# term. Sync and variety also multiply the blend (anti-gaming factors), so their weights matter less.
WEIGHTS = {"sync": 0.30, "quality": 0.20, "variety": 0.10, "energy": 0.10, "realism": 0.20, "similarity": 0.10}

# --- sync: beat alignment to this song, chance-corrected (composite.beat_sync) ---------------------
# The credit rises linearly from SYNC_CHANCE to SYNC_HUMAN. Motion at an unrelated tempo (120 dances
# at 0.5-1.9x the song's tempo, 12-s clips, none within 6% of a simple ratio) reaches a
# chance-corrected alignment of 0.2 in 9 clips of 10 (mean 0.08; benchmarks/bench_judge_real.py):
# no credit up to there. Real dancers with music at their tempo reach 0.45-0.81 on the shared
# slices (best of 8 beat phases), and the literature's AIST++ ground truth has a BAS of 0.24 against
# 0.26 for EDGE's dances (EDGE, Tseng et al. 2023): people do not hit every beat, so hitting every
# beat earns nothing more than 0.4 does. The credit is also the anti-gaming factor: below full
# credit the whole blend shrinks in proportion.
SYNC_CHANCE = 0.2
SYNC_HUMAN = 0.35
# Fewer tracked beats than this: too little rhythm to judge, sync is left out. The same when the dance
# has fewer motion beats (hits: minima of its kinetic velocity) than MIN_MOTION_BEATS: two hits in a
# clip (the shared jazz-ballet slice has two in 5 s) land on a beat or not by chance, whatever the
# dancer did. Such slow, smooth motion is left to the realism model, which knows how fast people move.
MIN_SYNC_BEATS = 4
MIN_MOTION_BEATS = 4
# Metrical levels a dancer may follow, in beats per hit: every beat, every other beat (two phases),
# every fourth beat (the bar, four phases); each on the beat and on the off-beat (the "and" between
# beats, which break and hip-hop dancers hit, and which a tracker may take for the beat in a busy
# arrangement); and double time (every half beat, composite._levels). No level is finer than half a beat (jitter would
# hit it). Every level but the tracked beat itself must beat its own chance by a margin, in binomial
# standard errors of the chance level over the level's beats, so that the best of several levels
# does not lift noise.
SYNC_LEVELS = (1.0, 2.0, 4.0)
COARSE_LEVEL_MARGIN_Z = 2.0
# The off-beat (every off-beat) must beat its chance by one standard error: as much a level as the beat
# for a dancer, it is a second try at the same density of hits for noise.
OFFBEAT_MARGIN_Z = 1.0
# Double time only while half a beat is at least this long (beats of 100 BPM or slower): a faster
# half-beat grid leaves hits no room to miss it (the beat window is 0.1 s either side).
DOUBLE_TIME_MIN_S = 0.3
# Levels whose sync is within this of the best count as equal for `sync_level`, and the finest is
# reported (the credit is the best level's either way).
SYNC_LEVEL_TIE = 0.1
# The grid shifted by 1/8 .. 7/8 of a beat: what motion at an unrelated tempo gets (chance).
CONTROL_PHASES = np.arange(1, 8) / 8.0

# --- quality: feet (PFC, grip) and smoothness, each saturating at human level ---------------------
# PFC (EDGE's Physical Foot Contact): AIST++'s ground truth scores 1.33 (EDGE, Tseng et al. 2023), EDGE
# 1.54. At or below 1.33 a dance is as physical as people: full credit. Above it the credit falls as
# 1 / (1 + (PFC - 1.33) / 4.77): half at 6.1, the highest PFC of the real dances measured (shared
# slices 0.01-4.65).
PFC_HUMAN = 1.33
PFC_HALF_CREDIT = 6.1
# Grip: the fraction of frames in which both feet are on the floor and both slide faster than 0.2 m/s
# (pfc.both_feet_sliding). People keep one foot holding the floor: 0-1.3% on the shared slices (a2a's
# choreo 3-5%); a body gliding on planted feet 35-60%. Full credit up to 5%, none from 50%.
DOUBLE_SLIDE_SPEED_M_S = 0.2
DOUBLE_SLIDE_HUMAN = 0.05
DOUBLE_SLIDE_NONE = 0.5
# Smoothness: the median jerk of real dancers reaches 481 m/s^3 at 30 fps; up to 1,000 is full credit,
# falling linearly to 0 at the jerk gate.
JERK_HUMAN_M_S3 = 1000.0

# --- variety: a person repeating a move is dancing; a copy-paste loop is not -------------------------
# The repeat residual: the least, over lags of 0.5-4 s, of mean |pose(t + L) - pose(t)|^2 over twice
# the pose variance (root-relative poses; 1 for unrelated poses, 0 for an exact repeat). Real dancers
# repeating one basic movement with the music (shared Krump and LA hip-hop slices) never come below
# 0.083; a loop copied frame for frame is 0 (float rounding: < 1e-6). Full credit from 0.05, none at 0.01.
VARIETY_LAGS_S = (0.5, 4.0)
REPEAT_RESIDUAL_EXACT = 0.01
REPEAT_RESIDUAL_HUMAN = 0.05

# --- energy: the body's speed follows the music's loudness ---------------------------------------
# Both smoothed with a Gaussian of 1 s (phrase-level dynamics; the beat's own ripple, even at 60 BPM,
# is smoothed away), correlation r. No published figure exists for real dancers; a2a's choice: a
# clearly positive correlation (r >= 0.3) earns full credit, (1 + r) / 1.3 below. Left out when the
# smoothed loudness varies by less than 5% (a click track, a steady drone): nothing to follow.
ENERGY_SMOOTHING_SIGMA_S = 1.0
ENERGY_R_HUMAN = 0.3
MIN_ENERGY_VARIATION = 0.05

# --- realism: the realism model of real dance, body statistics (reported), kinetic statistics --------
# The body statistics (body_stats.py): a foot slower than 0.3 m/s rests (a planted foot's joints
# jitter by millimetres); a rest shorter than 0.1 s is the turning point of one movement; a foot whose
# lower joint is 2 cm above the floor has left it (over a planted foot it stays within millimetres).
FOOT_MOVING_M_S = 0.3
MIN_REST_S = 0.1
FOOT_LIFT_M = 0.02
# Travel is the pelvis's path averaged over 0.2 s: the sway of a weight shift is not travel.
TRAVEL_SMOOTHING_S = 0.2
# The realism model (realism.py, learned from real dance) gives each 2-s window a credit; a clip's is
# their mean. Real dancers never seen by the model (held-back CMU salsa takes, 12-s clips) reach
# 0.6-0.95, the model's own training clips about 1: from REALISM_HUMAN the term is full, below it it
# falls linearly to 0. The term also multiplies the blend, as REALISM_FLOOR + (1 - REALISM_FLOOR) x
# term: a body unlike people's keeps at most a fifth of the score it would have. Not less: the model
# knows a few genres from a few hundred seconds of capture, and a genre it has never seen can look
# unlike all of them (a jazz-ballet slice left out of the model gets 0), so realism alone never
# zeroes a dance that passes every gate. a2a's procedural `choreo` of 2026-12-06 gets under 0.01
# (tests/data/procedural), today's (issue 17, made more human) a median 0.02-0.06 since judge 3.1.
REALISM_HUMAN = 0.6
REALISM_FLOOR = 0.2
# With --reference-stats the realism term is also held to the kinetic statistics of the user's real
# dances: exp(-max(d - 1, 0) / 2), d the RMS z-score of the kinetic energies (within one standard
# deviation on average is fully realistic).

# --- similarity to a reference dance ---------------------------------------------------------------
# exp(-max(error, 0.10 m) / 0.25 m): closer than 10 cm earns nothing more, so copying never pays.
SIMILARITY_SCALE_M = 0.25
SIMILARITY_PLATEAU_M = 0.10
# Policy: references are secret. No generator reproduces a human capture to within 2 cm per joint,
# so an answer that close to the reference was obtained from the reference (a leak, a harvested
# public prompt): it is a replay and fails the `not_replayed` gate. Set by the validator; tests use
# this default. A replay may be delayed or advanced by up to 0.5 s (a 2-frame shift must not hide a copy).
REPLAY_TOLERANCE_M = 0.02
REPLAY_MAX_SHIFT_S = 0.5

# --- latency ---------------------------------------------------------------------------------------
# The score is multiplied by 0.9 + 0.1 / (1 + latency / 10 s): the fastest answer gains at most 10%.
LATENCY_WEIGHT = 0.1
LATENCY_HALF_S = 10.0

# --- explanations ----------------------------------------------------------------------------------
# A term or factor below this is named as a reason for a low score.
LOW_CREDIT = 0.6
