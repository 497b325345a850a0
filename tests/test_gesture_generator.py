"""The `orator` gesture generator: frame counts, determinism, strokes on the stressed syllables,
rest in pauses, planted feet, the judge's validity gates, hands in the gesture space, styles, files.

Voices are SpeechAnalysis objects built in code (support/speech.py) with known stresses and pauses;
the hands' timing is read as the gesture judge reads it (scoring/gesture_timing.py): a hand's beats
are its stroke ends (a stop of the wrist, relative to the pelvis, that the hand arrives at at least
as fast as it leaves), and EMAGE's beat consistency (scoring/gesture_metrics.py) scores the stresses
by their distance to the nearest one.
"""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pytest

from a2a_cli.errors import InputError
from a2a_cli.generation import available_generators, get_generator
from a2a_cli.generation.base import GestureGenerator, generator_task
from a2a_cli.generation.gesture import GESTURE_STYLE_NAMED, OratorGenerator
from a2a_cli.generation.gesture.performer import POST_HOLD_S, PREP_S, RETRACT_S
from a2a_cli.motion import Motion
from a2a_cli.motion import skeleton as sk
from a2a_cli.motion.formats import load_motion, save_motion
from a2a_cli.scoring import check_validity
from a2a_cli.scoring.gesture_metrics import beat_consistency
from a2a_cli.scoring.gesture_timing import distance_to_nearest, hand_speeds, hand_stops_each
from a2a_cli.style_names import GESTURE_STYLES
from support.speech import synthetic_speech

# Three kinds of voice: slow with long pauses and a flat pitch, everyday, fast and lively.
VOICES = {
    "calm": dict(syllable_rate_hz=3.2, stress_every=4.0, pause_s=(0.6, 2.0), animation=0.12),
    "conversational": dict(animation=0.5),
    "animated": dict(syllable_rate_hz=5.5, stress_every=2.2, pause_s=(0.2, 0.8), phrase_s=(2.5, 6.0), animation=0.92),
}


@cache
def voice(kind: str, seconds: float = 61.0, seed: int = 1):
    return synthetic_speech(seconds, seed=seed, **VOICES[kind])


def wrist_speeds(motion: Motion) -> np.ndarray:
    """The left and the right wrist's speed relative to the pelvis (2, T) in m/s, as the judge reads it."""
    return hand_speeds(motion.joints, motion.fps).T


@cache
def talk(kind: str, seconds: float = 61.0, seed: int = 1, style: str = "auto"):
    """(speech, motion, plan) of the orator for a voice."""
    speech = voice(kind, seconds, seed)
    generator = OratorGenerator(style)
    return speech, generator.generate(speech, seconds, seed), generator.plan(speech, seconds, seed)


def test_orator_is_registered_for_the_gesture_task():
    assert "orator" in available_generators("gesture") and "orator" not in available_generators("dance")
    assert generator_task("orator") == "gesture"
    assert isinstance(get_generator("orator"), GestureGenerator)
    assert tuple(GESTURE_STYLE_NAMED) == GESTURE_STYLES  # style_names.py is the one home of the names


@pytest.mark.parametrize("seconds", [1.0, 61.0, 61.37, 420.0])
def test_exact_frame_count_for_any_length(seconds):
    motion = OratorGenerator().generate(synthetic_speech(seconds, seed=2), seconds, 0)
    assert motion.n_frames == round(seconds * 30) and motion.fps == 30
    assert motion.poses.shape == (motion.n_frames, 24, 3) and motion.trans.shape == (motion.n_frames, 3)
    assert np.isfinite(motion.poses).all() and np.isfinite(motion.trans).all()


def test_a_duration_longer_than_the_speech_rests_at_the_end():
    speech = synthetic_speech(10.0, seed=3)
    motion = OratorGenerator().generate(speech, 15.0, 0)
    assert motion.n_frames == 450
    assert wrist_speeds(motion)[:, 12 * 30:].mean() < 0.02  # nothing to say: the hands rest


def test_silence_and_odd_readings_give_a_quiet_finite_speaker():
    # No speech at all, NaN loudness and animation: the speaker stands and rests, every number finite.
    speech = voice("conversational", 12.0)
    silent = dataclasses.replace(
        speech, voiced=np.zeros_like(speech.voiced), stress_times_s=np.zeros(0), stress_strength=np.zeros(0),
        loudness_db=np.full_like(speech.loudness_db, np.nan), pauses_s=np.array([[0.0, 12.0]]), animation=float("nan"))
    motion = OratorGenerator().generate(silent, 12.0, 0)
    assert motion.n_frames == 360 and np.isfinite(motion.poses).all() and np.isfinite(motion.trans).all()
    assert motion.meta["strokes"] == 0
    assert wrist_speeds(motion).mean() < 0.03


def test_same_seed_same_motion_other_seed_or_voice_different():
    speech = voice("conversational", 20.0)
    a, b = (OratorGenerator().generate(speech, 20.0, 7) for _ in range(2))
    assert np.array_equal(a.poses, b.poses) and np.array_equal(a.trans, b.trans)
    other_seed = OratorGenerator().generate(speech, 20.0, 8)
    other_voice = OratorGenerator().generate(voice("conversational", 20.0, seed=2), 20.0, 7)
    for other in (other_seed, other_voice):
        assert np.abs(other.joints - a.joints).max() > 0.1


def test_bad_styles_and_durations_are_input_errors():
    with pytest.raises(InputError, match="unknown gesture style"):
        OratorGenerator("hiphop")
    with pytest.raises(InputError):
        OratorGenerator().generate(voice("conversational", 20.0), 0.0, 0)


@pytest.mark.parametrize("kind", list(VOICES))
def test_strokes_end_on_their_stressed_syllables(kind):
    # Read as the judge reads hands (gesture_timing.hand_stops_each), on 61-s voices of seeds 1-3:
    # every planned stroke has a stop of its hand within 0.1 s of its stress (96-100 %), and the
    # hand's stroke ends (the stops it arrives at fast) lie within 0.1 s of one of its planned
    # strokes (88-100 %; seed 1: calm 1.00, conversational 1.00, animated 0.91). A stroke the judge
    # sees only as a stop (58-75 % are stroke ends) is one followed quickly by the next.
    speech, motion, plan = talk(kind)
    each = hand_stops_each(motion.joints, motion.fps)
    planned = [np.array(sorted(s.time_s for s in plan.strokes if (s.left, s.right)[h] is not None)) for h in range(2)]
    assert sum(p.size for p in planned) >= 10
    covered = np.concatenate([distance_to_nearest(planned[h], each[h][0]) <= 0.1 for h in range(2)])
    on_stroke = np.concatenate([distance_to_nearest(each[h][1], planned[h]) <= 0.1 for h in range(2)])
    assert covered.mean() >= 0.95 and on_stroke.size >= 0.5 * covered.size
    assert on_stroke.mean() >= 0.85, on_stroke.mean()
    stressed = set(np.round(speech.stress_times_s, 6))
    assert all(round(s.time_s, 6) in stressed for s in plan.strokes)  # strokes go on stresses only


def test_livelier_voices_stroke_more_of_their_stresses():
    shares = [len(talk(kind)[2].strokes) / voice(kind).stress_times_s.size for kind in VOICES]
    assert shares[0] < shares[1] < shares[2] and shares[2] > 0.65 and shares[0] > 0.3


@pytest.mark.parametrize("kind", list(VOICES))
def test_beat_consistency_with_its_own_stresses_beats_other_speech(kind):
    # BC (sigma 0.1 s) of the hands' stroke ends against their own voice's stresses is well above
    # the same gestures against another voice's stresses, the stresses shifted by 0.4 s, or random
    # times (61-s voices of seeds 1-3: 1.5-13 times as high, 0.16-0.29 above; seed 1: calm 0.26
    # against at most 0.02, conversational 0.31 against 0.12, animated 0.38 against 0.18).
    speech, motion, _ = talk(kind)
    beats = [strokes for _, strokes in hand_stops_each(motion.joints, motion.fps)]
    stresses = speech.stress_times_s
    own = beat_consistency(beats, stresses, 0.1)
    rng = np.random.default_rng(0)
    others = [beat_consistency(beats, voice(kind, seed=9).stress_times_s, 0.1),
              beat_consistency(beats, stresses + 0.4, 0.1),
              beat_consistency(beats, np.sort(rng.uniform(0.0, speech.duration_s, stresses.size)), 0.1)]
    assert own > 1.3 * max(others) and own > max(others) + 0.08, (own, others)
    assert beat_consistency(beats, stresses, 0.3) > beat_consistency(beats, voice(kind, seed=9).stress_times_s, 0.3)


@pytest.mark.parametrize("kind", ["calm", "conversational"])
def test_the_hands_are_still_in_pauses_and_rest_low_in_long_ones(kind):
    speech, motion, _ = talk(kind)
    speed = wrist_speeds(motion)
    joints = motion.joints
    speaking = np.zeros(speed.shape[1], bool)
    for start, end in speech.pauses_s:
        speaking[int(start * 30):int(end * 30)] = True
    speaking = ~speaking
    checked = 0
    for start, end in speech.pauses_s:
        if end - start < 0.7 or start < 0.5:
            continue
        # once a stroke just before the pause has been retracted, until the next one's preparation
        middle = slice(int((start + POST_HOLD_S + RETRACT_S) * 30), int((end - PREP_S) * 30))
        if middle.stop - middle.start < 3:
            continue
        checked += 1
        assert speed[:, middle].mean() < 0.3 * speed[:, speaking].mean(), (start, end)
        if end - start >= 1.6:  # a long pause: both hands down at rest, below the lower chest
            low = joints[middle, [sk.L_WRIST, sk.R_WRIST], 1] - joints[middle, sk.SPINE3, 1][:, None]
            assert (low < -0.12).mean() > 0.8, (start, end)
    assert checked >= 3


@pytest.mark.parametrize("kind", list(VOICES))
def test_feet_stay_planted_and_the_gates_pass(kind):
    speech, motion, _ = talk(kind)
    joints = motion.joints
    feet = joints[:, list(sk.FOOT_JOINTS)][..., [0, 2]]
    assert np.abs(feet - feet[:1]).max() < 1e-3  # no foot ever slides or steps
    assert joints[:, list(sk.FOOT_JOINTS), 1].min() > -0.01  # nor sinks into the floor
    root = joints[:, sk.PELVIS, [0, 2]]
    assert np.linalg.norm(root[-1] - root[0]) < 0.3 and np.abs(root - root[0]).max() < 0.3  # travel over a minute
    gates = check_validity(motion, expected_frames=round(61.0 * 30))
    assert all(g.passed for g in gates), [g for g in gates if not g.passed]


@pytest.mark.parametrize("kind", list(VOICES))
def test_the_hands_gesture_in_front_of_the_body(kind):
    speech, motion, plan = talk(kind)
    j = motion.joints
    wrists = j[:, [sk.L_WRIST, sk.R_WRIST]] - j[:, [sk.SPINE3]]  # relative to the chest (the body faces +z)
    assert wrists[..., 2].min() > -0.1  # never behind the back
    assert (j[:, [sk.L_WRIST, sk.R_WRIST], 1] < j[:, [sk.HEAD], 1]).all()  # never above the head
    assert (j[:, [sk.L_WRIST, sk.R_WRIST], 1] > j[:, [sk.PELVIS], 1] - 0.15).all()  # nor below the thighs
    at = np.round(np.array([s.time_s for s in plan.strokes]) * 30).astype(int)
    stroking = np.array([[s.left is not None, s.right is not None] for s in plan.strokes])
    ends = wrists[at][stroking]
    assert (ends[:, 2] > 0.12).all()  # every stroke ends in front of the chest
    assert (np.abs(ends[:, 1]) < 0.25).all()  # between the belly and the shoulders
    assert wrist_speeds(motion).max() < 4.0  # quick, not violent (m/s)


def test_no_two_strokes_look_alike_and_every_hand_takes_part():
    _, motion, plan = talk("animated")
    ends = np.array([np.concatenate([s.left if s.left is not None else np.zeros(3),
                                     s.right if s.right is not None else np.zeros(3)]) for s in plan.strokes])
    distance = np.linalg.norm(ends[:, None] - ends[None, :], axis=-1) + np.eye(len(ends))
    assert distance.min() > 1e-3  # no exact repeats
    hands = [("l" if s.left is not None else "") + ("r" if s.right is not None else "") for s in plan.strokes]
    assert {"l", "r", "lr"} <= set(hands)
    assert len({s.shape for s in plan.strokes}) >= 4


def test_styles_range_from_calm_to_animated_and_auto_reads_the_voice():
    speech = voice("conversational")
    path = {}
    for style in GESTURE_STYLES:
        _, motion, plan = talk("conversational", style=style)
        path[style] = wrist_speeds(motion).mean()
        assert motion.meta["style"] == style and motion.meta["style_chosen_by"] == "user"
    assert path["calm"] < path["conversational"] < path["animated"]
    assert path["animated"] > 1.6 * path["calm"]  # 1.70: calm strokes most stresses too, smaller (the judge's coverage)
    quiet = dataclasses.replace(speech, animation=0.05)
    lively = dataclasses.replace(speech, animation=0.95)
    calm_read, animated_read = (OratorGenerator().generate(s, 30.0, 1) for s in (quiet, lively))
    assert calm_read.meta["liveliness"] == 0.05 and animated_read.meta["style_chosen_by"] == "voice"
    assert wrist_speeds(calm_read).mean() < 0.6 * wrist_speeds(animated_read).mean()


@pytest.mark.parametrize("ext", [".npy", ".npz", ".bvh"])
def test_the_motion_is_written_and_read_back_in_every_format(tmp_path, ext):
    _, motion, _ = talk("conversational", 20.0)
    path = save_motion(motion, tmp_path / f"talk{ext}")
    back = load_motion(path)
    assert back.n_frames == motion.n_frames
    assert np.abs(back.joints - motion.joints).max() < 1e-3


def test_the_preview_shows_the_speaker_up_close(tmp_path):
    from a2a_cli.render import render_frame, render_preview

    _, motion, _ = talk("animated", 20.0)
    image = np.asarray(render_frame(motion, 100, size=(160, 120), framing="upper"))
    assert image.shape == (120, 160, 3)
    second = Motion(motion.poses[:30], motion.trans[:30], motion.fps)
    assert render_preview(second, tmp_path / "talk.gif", framing="upper").stat().st_size > 1000
