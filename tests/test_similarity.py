"""Reference similarity, the original subnet's reward reproduced by hand, and copy detection."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from a2a_cli.motion import Motion
from a2a_cli.motion.rotations import euler_to_matrix
from a2a_cli.motion.skeleton import L_COLLAR, R_COLLAR
from a2a_cli.scoring.similarity import aligned_joint_error, near_duplicate, original_subnet_score
from support.dances import REAL_TAKES, beat_frames_of, plausible_dance, real_take

N = 300
BEATS = beat_frames_of(120, 10)


@pytest.fixture(scope="module")
def dance():
    return plausible_dance(BEATS, N, seed=1)


def moved_and_turned(joints, yaw=1.0, shift=(3.0, 0.0, -2.0)):
    rot = euler_to_matrix(np.array([0.0, yaw, 0.0]), "XYZ")
    return joints @ rot.T + np.array(shift)


def test_aligned_error_ignores_position_and_heading(dance):
    assert aligned_joint_error(moved_and_turned(dance.joints), dance.joints) < 1e-5


def test_aligned_error_measures_an_offset(dance):
    raised = dance.joints + np.array([0.0, 0.1, 0.0], dtype=np.float32)
    assert aligned_joint_error(raised, dance.joints) == pytest.approx(0.1, abs=1e-5)
    other = plausible_dance(BEATS, N, seed=2)
    assert 0.05 < aligned_joint_error(other.joints, dance.joints) < 0.5


def test_original_subnet_reward_by_hand():
    ref = np.zeros((2, 24, 3))
    cand = ref + np.array([0.01, 0.02, 0.02])  # every joint 3 cm away in both frames
    cand[:, [L_COLLAR, R_COLLAR]] += 5.0  # the collars are not compared
    score = original_subnet_score(cand, ref, response_time_s=90.0)
    rmse = 22 * 3.0 / math.sqrt(3.0)
    assert score.rmse_cm == pytest.approx(rmse)
    assert score.correctness == pytest.approx(1 - rmse * 0.9 / 4000)
    assert score.speed == pytest.approx(1 / (1 + math.exp(-((1 - 90 / 180) - 0.5))))
    assert score.speed == pytest.approx(0.5)
    assert score.reward == pytest.approx(0.7 * score.correctness + 0.3 * 0.5)
    # unknown time counts as 120 s; a 1-frame answer is judged on one frame only
    one = original_subnet_score(cand[:1], ref)
    assert one.frames_compared == 1 and one.rmse_cm == pytest.approx(rmse)
    assert one.speed == pytest.approx(1 / (1 + math.exp(-((1 - 120 / 180) - 0.5))))
    far = original_subnet_score(ref + 10.0, ref)  # 1732 cm per joint * 22 joints > 4000
    assert far.correctness == 0.1
    assert original_subnet_score(ref[:0], ref).reward == 0.0


def test_original_reward_prefers_a_static_average_pose_to_a_real_dance():
    """The flaw a2a must not repeat: unaligned absolute positions reward standing still on the spot
    over a real dance that merely faces another way and stands half a metre aside. The reference is
    one real salsa dancer, the dance another (tests/data/real), the statue the reference dancer's
    average pose later in the take."""
    from a2a_cli.scoring import score_motion

    lead, follow = (real_take(name).joints for name in REAL_TAKES)
    reference = Motion.from_joints(lead[:N])
    other_dance = Motion.from_joints(moved_and_turned(follow[:N], np.pi / 2, (0.5, 0, 0)))
    static = Motion.from_joints(np.repeat(lead[N:].mean(axis=0, keepdims=True), N, axis=0))
    orig_dance = original_subnet_score(other_dance.joints, reference.joints).reward
    orig_static = original_subnet_score(static.joints, reference.joints).reward
    assert orig_static > orig_dance
    a2a_dance = score_motion(other_dance, None, reference=reference).validator_score
    a2a_static = score_motion(static, None, reference=reference).validator_score
    assert a2a_dance > 0.6 > a2a_static == 0.0


def test_near_duplicate_finds_copies_and_only_copies(dance):
    rng = np.random.default_rng(0)
    copy = moved_and_turned(dance.joints, yaw=2.0) + rng.normal(0, 0.005, dance.joints.shape)
    assert near_duplicate(copy, dance.joints)
    assert not near_duplicate(plausible_dance(BEATS, N, seed=2).joints, dance.joints)
    assert not near_duplicate(plausible_dance(beat_frames_of(100, 10), N, seed=1).joints, dance.joints)


def test_replay_distance_sees_through_moves_turns_lifts_and_delays(dance):
    from a2a_cli.scoring.similarity import REPLAY_TOLERANCE_M, replay_distance

    disguised = moved_and_turned(dance.joints, yaw=2.5, shift=(1.0, 0.04, 3.0))
    delayed = np.concatenate([disguised[:1].repeat(7, axis=0), disguised[:-7]])
    assert replay_distance(delayed, dance.joints) < 1e-3
    assert replay_distance(plausible_dance(BEATS, N, seed=2).joints, dance.joints) > 2.5 * REPLAY_TOLERANCE_M


# --- copies that are delayed, mirrored or re-timed (issue 18) --------------------------------------

PROCEDURAL = Path(__file__).resolve().parent / "data" / "procedural"
REAL_DANCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "real-dance"
SWAP = [0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10, 12, 14, 13, 15, 17, 16, 19, 18, 21, 20, 23, 22]


@pytest.fixture(scope="module")
def dances():
    """12 s of 30-fps joints of every frozen choreo dance (4 styles x 5 songs) and every AIST++ slice."""
    from a2a_cli.motion.formats import load_motion

    found = {}
    for path in sorted(PROCEDURAL.glob("*.npz")) + sorted(REAL_DANCE.glob("*.npy")):
        motion = load_motion(path)
        joints = motion.joints[:: int(round(motion.fps / 30))]
        if len(joints) >= 360:
            found[path.stem] = joints[:360]
    assert len(found) >= 20
    return found


def held_back(joints, frames: int):
    """Delayed by `frames` (the first pose held meanwhile, the end cut; negative: started later)."""
    padded = np.concatenate([np.repeat(joints[:1], max(frames, 0), 0), joints, np.repeat(joints[-1:], max(-frames, 0), 0)])
    return padded[: len(joints)] if frames >= 0 else padded[-frames:][: len(joints)]


def at_speed(joints, speed: float):
    """Played `speed` times as fast (the last pose held when it runs out), same length."""
    t = np.arange(len(joints)) * speed
    i = np.minimum(np.floor(t).astype(int), len(joints) - 2)
    w = np.clip(t - i, 0.0, 1.0)[:, None, None]
    return joints[i] * (1 - w) + joints[i + 1] * w


def mirrored(joints):
    out = joints[:, SWAP].copy()
    out[..., 0] *= -1.0
    return out


COPIES = {
    "delayed 2": lambda j: held_back(j, 2), "delayed 4": lambda j: held_back(j, 4), "delayed 15": lambda j: held_back(j, 15),
    "delayed 30": lambda j: held_back(j, 30), "delayed 60": lambda j: held_back(j, 60), "early 45": lambda j: held_back(j, -45),
    "mirrored": mirrored, "mirrored, delayed 30": lambda j: mirrored(held_back(j, 30)),
    "5% slower": lambda j: at_speed(j, 0.95), "5% faster": lambda j: at_speed(j, 1.05),
    "4% faster, delayed 45, mirrored": lambda j: mirrored(held_back(at_speed(j, 1.04), 45)),
    "moved, turned, delayed 15, 1 cm noise": lambda j: moved_and_turned(held_back(j, 15)) + np.random.default_rng(0).normal(0, 0.01, j.shape),
}


@pytest.mark.parametrize("change", list(COPIES))
def test_a_delayed_mirrored_or_retimed_copy_is_a_copy_and_the_fixed_fingerprint_misses_most(dances, change):
    from a2a_cli.scoring.similarity import copy_features, copy_matches

    for name in ("choreo_hiphop_122bpm", "choreo_popping_140bpm", "gLH_sBM_cAll_d18_mLH4_ch02_slice1"):
        if name not in dances:
            continue
        original, copy = dances[name], COPIES[change](dances[name]).astype(np.float32)
        (match,) = copy_matches(copy_features(copy, 30.0), copy_features(original, 30.0)[None])
        assert match.is_copy and match.matched >= 0.8 and match.distance_m < 0.025, (name, match)


def test_the_fixed_instant_fingerprint_alone_missed_delays_and_mirrors(dances):
    """Why the aligned comparison exists: the 64-instant fingerprint passes a delay of 4+ frames or a mirror."""
    original = dances["choreo_hiphop_122bpm"]
    assert all(not near_duplicate(COPIES[c](original), original) for c in ("delayed 4", "delayed 30", "mirrored"))


def test_different_dances_are_never_copies(dances):
    """Every pair of 20 frozen choreo dances (4 styles, 5 songs; the same seed for a song) and the AIST++
    slices: at most a third of one matches the other (flow and house share moves at 84 BPM)."""
    from a2a_cli.scoring.similarity import COPY_MIN_MATCHED, copy_features, copy_matches

    names = sorted(dances)
    features = np.stack([copy_features(dances[n], 30.0) for n in names])
    worst = 0.0
    for i, name in enumerate(names):
        others = np.delete(features, i, axis=0)
        matches = copy_matches(features[i], others)
        assert not any(m.is_copy for m in matches), (name, [(n, m) for n, m in zip(np.delete(names, i), matches) if m.is_copy])
        worst = max(worst, max(m.matched for m in matches))
    assert worst <= COPY_MIN_MATCHED - 0.15  # a margin under the line


def test_copy_features_ignore_where_the_dancer_stands_and_faces(dances):
    from a2a_cli.scoring.similarity import copy_features, mirrored_features

    joints = dances["choreo_flow_100bpm"]
    assert np.abs(copy_features(moved_and_turned(joints, yaw=2.5), 30.0) - copy_features(joints, 30.0)).max() < 1e-4
    assert np.abs(copy_features(mirrored(joints), 30.0) - mirrored_features(copy_features(joints, 30.0))).max() < 1e-4
    assert copy_features(joints, 30.0).shape == (120, 10, 3)  # 12 s at 10 samples a second, 10 joints


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), copies=st.lists(st.sampled_from(list(COPIES)), max_size=3), k=st.integers(1, 8))
def test_the_index_names_the_first_answer_that_copy_matches_calls_a_copy(dances, seed, copies, k):
    """The bound that spares most full comparisons never changes a verdict: among distinct dances,
    copies of the answer placed anywhere, CopyIndex.first_copy names the first copy_matches would."""
    from a2a_cli.scoring.similarity import CopyIndex, copy_features, copy_matches

    rng = np.random.default_rng(seed)
    names = sorted(dances)
    answer = dances[names[rng.integers(len(names))]]
    others = [dances[names[i]] for i in rng.choice(len(names), size=k)] + [COPIES[c](answer) for c in copies]
    others = [others[i] for i in rng.permutation(len(others))]
    features = np.stack([copy_features(o.astype(np.float32), 30.0) for o in others])
    mine = copy_features(answer, 30.0)
    expected = next((i for i, m in enumerate(copy_matches(mine, features)) if m.is_copy), None)
    index = CopyIndex(len(features))
    for f in features:
        index.add(f)
    assert index.first_copy(mine) == expected


# --- gesture answers: only the arms, only where a hand moves ---------------------------------------

@pytest.fixture(scope="module")
def orator_answers():
    """24 honest `orator` answers (seeds 0-23) to one 10-s synthetic voice (voice 2), 30-fps joints."""
    from a2a_cli.audio.speech import analyze_speech
    from a2a_cli.examples import synth_speech
    from a2a_cli.generation.gesture import OratorGenerator

    voice = synth_speech(10.0, 2)
    speech = analyze_speech(voice.samples, voice.sr)
    return [OratorGenerator().generate(speech, 10.0, seed).joints for seed in range(24)]


def test_honest_gesture_answers_to_one_voice_are_not_copies_but_the_dance_profile_calls_them_so(orator_answers):
    """The gesture profile calls 0 of 24 honest answers copies (each matches another in at most 2/3 of
    its moving windows); the dance profile, legs and resting arms included, calls 21 of 24."""
    from a2a_cli.scoring.similarity import DANCE_COPY, GESTURE_COPY, CopyIndex, copy_features

    called = {}
    for profile in (GESTURE_COPY, DANCE_COPY):
        index = CopyIndex(len(orator_answers), profile)
        called[profile] = 0
        for joints in orator_answers:
            features = copy_features(joints, 30.0, profile)
            called[profile] += index.first_copy(features) is not None
            index.add(features)
    assert called[GESTURE_COPY] == 0 and called[DANCE_COPY] >= 12, called


GESTURE_COPIES = {
    "exact": lambda j: j, "1 cm noise": lambda j: j + np.random.default_rng(1).normal(0, 0.01, j.shape),
    "delayed 6": lambda j: held_back(j, 6), "delayed 30": lambda j: held_back(j, 30), "mirrored": mirrored,
    "moved, turned, mirrored, delayed 15, 1 cm noise":
        lambda j: moved_and_turned(mirrored(held_back(j, 15))) + np.random.default_rng(2).normal(0, 0.01, j.shape),
}


@pytest.mark.parametrize("change", list(GESTURE_COPIES))
def test_a_copied_gesture_answer_is_a_copy(orator_answers, change):
    """Copies match 0.8-1 of the moving windows within 1.1 cm (answers 0-5; honest answers at most 2/3)."""
    from a2a_cli.scoring.similarity import GESTURE_COPY, CopyIndex, copy_features, copy_matches

    for original in orator_answers[:3]:
        copy = GESTURE_COPIES[change](original).astype(np.float32)
        features = copy_features(copy, 30.0, GESTURE_COPY)
        (match,) = copy_matches(features, copy_features(original, 30.0, GESTURE_COPY)[None], GESTURE_COPY)
        assert match.is_copy and match.matched >= 0.75 and match.distance_m < 0.015, (change, match)
        index = CopyIndex(2, GESTURE_COPY)
        index.add(copy_features(orator_answers[10], 30.0, GESTURE_COPY))
        index.add(copy_features(original, 30.0, GESTURE_COPY))
        assert index.first_copy(features) == 1


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), copies=st.lists(st.sampled_from(list(GESTURE_COPIES)), max_size=2), k=st.integers(1, 8))
def test_the_gesture_index_names_the_first_answer_that_copy_matches_calls_a_copy(orator_answers, seed, copies, k):
    """With the gesture profile too (only the windows where a hand moves count), the index's bound
    never changes a verdict: among honest answers and copies of the answer, placed anywhere."""
    from a2a_cli.scoring.similarity import GESTURE_COPY, CopyIndex, copy_features, copy_matches

    rng = np.random.default_rng(seed)
    answer = orator_answers[rng.integers(len(orator_answers))]
    others = [orator_answers[i] for i in rng.choice(len(orator_answers), size=k)] + [GESTURE_COPIES[c](answer) for c in copies]
    others = [others[i] for i in rng.permutation(len(others))]
    features = np.stack([copy_features(o.astype(np.float32), 30.0, GESTURE_COPY) for o in others])
    mine = copy_features(answer, 30.0, GESTURE_COPY)
    expected = next((i for i, m in enumerate(copy_matches(mine, features, GESTURE_COPY)) if m.is_copy), None)
    index = CopyIndex(len(features), GESTURE_COPY)
    for f in features:
        index.add(f)
    assert index.first_copy(mine) == expected
