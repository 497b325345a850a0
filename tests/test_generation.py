"""The choreo generator: frame counts, beats, feet, floor, speeds, determinism, vocabulary, sections.

Songs are synthesised with known beats (`examples.synth_song`) and analysed by the real audio
core. The 10-minute case uses an AudioAnalysis built directly (beats every 0.5 s, loudness that
changes every 16 bars) so that the test stays fast: the generator only reads those fields.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from a2a_cli.audio import AudioAnalysis, analyze
from a2a_cli.config import KEYS
from a2a_cli.errors import InputError
from a2a_cli.examples import beat_times, synth_song
from a2a_cli.generation import DEFAULT_MODEL, available_generators, get_generator, register
from a2a_cli.generation.choreo import ChoreoGenerator
from a2a_cli.generation.choreo.moves import FAMILIES, IDLE, MOVES
from a2a_cli.motion.skeleton import FOOT_JOINTS, L_ANKLE, L_FOOT, R_ANKLE, R_FOOT
from a2a_cli.scoring import check_validity, score_motion
from a2a_cli.scoring.beats import align_beats, motion_beats

FPS = 30
SR = 22050
TEMPI = (80, 100, 120, 140, 160)


@cache
def song(bpm: float, seconds: float = 20.0, offset_s: float = 0.0) -> AudioAnalysis:
    return analyze(synth_song(bpm, seconds, SR, seed=3, offset_s=offset_s), SR)


@cache
def dance(bpm: float, seconds: float = 20.0, offset_s: float = 0.0, seed: int = 0):
    audio = song(bpm, seconds, offset_s)
    return get_generator("choreo").generate(audio, audio.duration_s, seed)


def stand_in(duration_s: float, bpm: float = 120.0, silent: bool = False, sha: str = "ab" * 32) -> AudioAnalysis:
    """An analysis with exact beats and loudness changing every 16 bars (quiet, loud, mid, loud)."""
    n = int(round(duration_s * FPS))
    period = 60.0 / bpm
    level = np.array([0.05, 0.2, 0.1, 0.25])[(np.arange(n) / FPS / (64 * period)).astype(int) % 4]
    rms = np.zeros(n) if silent else level
    features = np.zeros((n, 35), dtype=np.float32)
    features[:, 1:21] = rms[:, None] * 40  # timbre follows the arrangement, so sections are audible
    beats = np.zeros(0, np.int64) if silent else np.round(np.arange(0, duration_s, period) * FPS).astype(np.int64)
    return AudioAnalysis(sha, duration_s, features, rms.astype(np.float32), rms.astype(np.float32),
                         0.0 if silent else bpm, beats)


def lowest_foot(motion) -> np.ndarray:
    return motion.joints[:, list(FOOT_JOINTS), 1].min(axis=1)


# --- the interface -------------------------------------------------------------------------------

def test_registry_finds_choreo_and_names_the_choices_for_an_unknown_model():
    # the default dancer is the motion library, the more human-like (README: "Which dancer by default")
    assert DEFAULT_MODEL == "library" == KEYS["generate.model"].default and "choreo" in available_generators()
    assert get_generator("choreo").name == "choreo" and get_generator(DEFAULT_MODEL).name == "library"
    with pytest.raises(InputError, match="choreo"):
        get_generator("no-such-model")


def test_a_registered_generator_is_found_by_name():
    class Still:
        name = "still-test"

        def generate(self, audio, duration_s, seed):
            return get_generator("choreo").generate(audio, duration_s, seed)

    register("still-test", Still)
    assert "still-test" in available_generators()
    assert isinstance(get_generator("still-test"), Still)


@settings(max_examples=15, deadline=None)
@given(st.floats(1.0, 45.0))
def test_exact_frame_count_for_any_duration(duration_s):
    motion = ChoreoGenerator().generate(stand_in(duration_s), duration_s, 1)
    assert motion.n_frames == round(duration_s * 30)
    assert motion.poses.shape == (motion.n_frames, 24, 3) and motion.fps == 30
    assert np.isfinite(motion.poses).all() and np.isfinite(motion.trans).all()


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_nonsense_durations_are_input_errors(bad):
    with pytest.raises(InputError):
        ChoreoGenerator().generate(stand_in(2.0), bad, 0)


def test_one_second_song():
    audio = song(120, 1.0)
    motion = get_generator("choreo").generate(audio, 1.0, 0)
    assert motion.n_frames == 30
    assert lowest_foot(motion).min() > -0.01


@pytest.mark.heavy
def test_ten_minute_song_is_danced_whole():
    """Ten minutes in one piece, every gate passed; its speed is benchmarks/bench_generate.py's to measure."""
    audio = stand_in(600.0)
    motion = get_generator("choreo").generate(audio, 600.0, 0)
    assert motion.n_frames == 18000
    gates = {g.name: g for g in check_validity(motion, 18000)}
    assert all(g.passed for g in gates.values()), [g for g in gates.values() if not g.passed]


# --- rhythm ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("bpm", TEMPI)
def test_motion_beats_land_on_the_songs_beats(bpm):
    """Against the TRUE beats of the synthetic song (not the tracker's): BAS >= 0.3, and most motion
    beats within 0.1 s of a beat of the song or of its double-time grid (trackers may pick either)."""
    motion = dance(bpm)
    true = beat_times(bpm, 20.0)
    doubled = np.sort(np.concatenate([true, true + 30.0 / bpm]))
    found = motion_beats(motion.joints, FPS)
    on_grid = align_beats(found, np.round(doubled * FPS), motion.n_frames - 1, FPS)
    on_beats = align_beats(found, np.round(true * FPS), motion.n_frames - 1, FPS)
    assert on_beats.bas >= 0.3, on_beats
    assert on_grid.precision >= 0.6, on_grid


@pytest.mark.parametrize(("bpm", "offset_s"), [(140, 0.0), (150, 0.3), (160, 0.3)])
def test_short_beats_are_still_danced_on_the_beat(bpm, offset_s):
    """At 140-160 BPM the tracker's beats are 11-13 frames apart, where the judge's 1/6 s smoothing
    leaves a ripple of a few percent per beat: only a dance whose every beat moves about as much as
    its neighbours keeps its slowest moments on the beats, and at 13 frames or less the dance marks
    every other beat (half time, which the judge accepts). Chance-corrected sync, measured: 0.96,
    0.91, 0.96 with the stepping dancer of judge 2.1; 0.71-0.82, 0.71, 0.62 once its hands, torso and
    hips keep moving between the hits and each beat's ease leans early or late (issue 17); 0.86, 0.77,
    0.88 once that drift slows near the hits (DRIFT_HOLD), still far above people's SYNC_HUMAN (0.35,
    full credit), with sync, quality and variety at full credit. Energy: 1.0, 0.79, 1.0 (the drift's
    pace now follows the beat; over 16 dances of 76-178 BPM its mean credit went from 0.90 to 0.85)."""
    report = score_motion(dance(bpm, 20.0, offset_s), song(bpm, 20.0, offset_s))
    assert report.passed and report.metrics["sync"] >= 0.5, report.metrics["sync"]
    assert min(report.components[k] for k in ("sync", "quality", "variety")) >= 0.9, report.components
    assert report.components["energy"] >= 0.75, report.components
    assert report.metrics["sync_level"] == 2


def test_very_fast_music_is_danced_in_half_time():
    """Above 200 BPM every step gets two beats: the grid keeps every other beat, the body's slowest
    moments land on those (and so on half of the song's beats), and the body stays human."""
    audio = stand_in(20.0, bpm=210.0)
    music, _, _ = ChoreoGenerator().plan(audio, 20.0, 0)
    assert music.beat_period_s == pytest.approx(2 * 60.0 / 210.0, abs=1.5 / FPS)
    motion = ChoreoGenerator().generate(audio, 20.0, 0)
    assert not [g for g in check_validity(motion, motion.n_frames) if not g.passed]
    found = motion_beats(motion.joints, FPS)
    on_half = align_beats(found, music.beat_times * FPS, motion.n_frames - 1, FPS)
    on_all = align_beats(found, audio.beat_frames, motion.n_frames - 1, FPS)
    assert on_half.bas >= 0.65 and on_half.precision >= 0.8, on_half  # measured 0.71, 0.88
    assert 0.35 <= on_all.bas <= 0.6, on_all  # every other beat of the song, not all of them


def test_louder_sections_are_danced_bigger():
    """synth_song's sections: drums x0.5, x1.0, x0.35, x1.2 every 8 bars (16 s at 120 BPM)."""
    audio = song(120, 64.0)
    motion = get_generator("choreo").generate(audio, 64.0, 0)
    speed = np.linalg.norm(np.diff(motion.joints, axis=0), axis=-1).mean(axis=1) * FPS
    section = np.minimum(np.arange(speed.size) // (16 * FPS), 3)
    mean = [speed[section == s].mean() for s in range(4)]
    assert mean[1] > mean[0] and mean[3] > mean[2], mean


# --- the body --------------------------------------------------------------------------------------

@pytest.mark.parametrize("bpm", (80, 120, 160))
def test_every_validity_gate_passes(bpm):
    motion = dance(bpm)
    failed = [g for g in check_validity(motion, motion.n_frames) if not g.passed]
    assert not failed, failed


@pytest.mark.parametrize("bpm", (90, 140))
def test_feet_on_the_floor_never_below_it_and_never_sliding(bpm):
    """The lowest foot joint touches y = 0 (within 2 cm) except during short hops, never sinks more
    than 1 cm, and a foot resting on the floor (its toe within 5 mm of it) moves < 2 cm/s: a step
    lifts the foot before it travels, so resting feet are exactly still."""
    motion = dance(bpm, 30.0)
    low = lowest_foot(motion)
    assert low.min() >= -0.01
    airborne = np.concatenate([[0], (low > 0.02).astype(int), [0]])
    runs = np.flatnonzero(np.diff(airborne) == -1) - np.flatnonzero(np.diff(airborne) == 1)
    assert runs.size == 0 or runs.max() <= 0.5 * FPS, runs.max()
    joints = motion.joints.astype(np.float64)
    for ankle, toe in ((L_ANKLE, L_FOOT), (R_ANKLE, R_FOOT)):
        resting = joints[1:, toe, 1] < 0.005
        for j in (ankle, toe):
            horizontal = np.linalg.norm(np.diff(joints[:, j, [0, 2]], axis=0), axis=-1) * FPS
            assert horizontal[resting].max(initial=0.0) < 0.02


def test_joint_speeds_and_turn_rates_within_human_limits():
    motion = dance(160, 30.0)
    fastest = (np.linalg.norm(np.diff(motion.joints, axis=0), axis=-1) * FPS).max(axis=1)
    # m/s: the validity gate allows 12 at the 99th percentile; a boxer's punch peaks near 10-12
    assert np.percentile(fastest, 99) < 10.0 and fastest.max() < 13.0
    from a2a_cli.motion.rotations import axis_angle_to_matrix, matrix_to_axis_angle

    rot = axis_angle_to_matrix(motion.poses.astype(np.float64))
    relative = np.swapaxes(rot[:-1], -1, -2) @ rot[1:]
    turn = np.linalg.norm(matrix_to_axis_angle(relative), axis=-1) * FPS
    assert turn.max() < 20.0  # rad/s: about a pirouette's 3 turns per second


def test_silence_gives_a_calm_idle_not_a_freeze():
    audio = stand_in(12.0, silent=True)
    motion = get_generator("choreo").generate(audio, 12.0, 0)
    joints = motion.joints
    relative = joints - joints[:, :1]
    speed = np.linalg.norm(np.diff(joints, axis=0), axis=-1) * FPS
    assert relative.std(axis=0).mean() > 0.003  # it breathes and sways
    assert speed.max() < 0.6  # but calmly
    assert lowest_foot(motion).min() > -0.01 and lowest_foot(motion).max() < 0.01


# --- determinism, vocabulary, structure -------------------------------------------------------------

def test_same_seed_same_dance_bit_for_bit_and_different_seeds_differ():
    audio = song(120)
    a = get_generator("choreo").generate(audio, audio.duration_s, 5)
    b = get_generator("choreo").generate(audio, audio.duration_s, 5)
    c = get_generator("choreo").generate(audio, audio.duration_s, 6)
    assert np.array_equal(a.poses, b.poses) and np.array_equal(a.trans, b.trans)
    assert np.abs(a.poses - c.poses).max() > 0.1
    assert a.meta["seed"] == 5 and a.meta["audio_sha256"] == audio.sha256 and a.meta["generator"] == "choreo"


def test_vocabulary_has_24_distinct_moves_with_true_mirrors():
    names = [m.name for m in MOVES]
    assert len(names) >= 24 and len(set(names)) == len(names)
    assert {m.family for m in MOVES} == set(FAMILIES)
    for move in MOVES:
        mirror = move.mirrored()
        assert mirror.mirrored().keys == move.keys and mirror.mirrored().steps == move.steps
        assert mirror.turn == -move.turn
        asymmetric = any(k != mk for k, mk in zip(move.keys, mirror.keys)) or move.steps != mirror.steps
        assert asymmetric or move.turn == 0


def test_long_song_uses_the_whole_vocabulary_and_never_a_move_thrice_in_a_row():
    music, placements, _ = ChoreoGenerator().plan(stand_in(600.0), 600.0, 2)
    names = [p.move.name for p in placements]
    assert set(names) >= {m.name for m in MOVES}
    for a, b, c in zip(names, names[1:], names[2:]):
        assert not (a == b == c), (a, b, c)
    starts = np.array([p.start for p in placements])
    assert np.all(np.diff(starts) > 0) and starts[0] <= 0 and starts[-1] + placements[-1].move.n_beats >= music.n_beats
    assert all(music.is_downbeat(s) for s in starts if s >= 0)


def test_sections_are_found_and_change_the_style():
    """synth_song changes its arrangement every 8 bars; the choreographer hears (most of) those
    changes within a bar, and the leading move family changes with every section it hears."""
    audio = song(120, 96.0)
    music, placements, _ = ChoreoGenerator().plan(audio, 96.0, 0)
    change = np.flatnonzero(np.diff(music.section_of_beat)) + 1
    heard = music.beat_times[change]
    true = np.arange(1, 6) * 16.0  # a section lasts 8 bars = 16 s
    assert len(heard) >= 3
    assert all(np.abs(true - t).min() <= 2.0 for t in heard), heard
    style = {p.section: p.family for p in placements}
    assert all(style[s] != style[s + 1] for s in range(max(style)))
    for s in style:  # most moves of a section come from its leading family
        moves = [p.move.family for p in placements if p.section == s and p.move is not IDLE]
        assert moves.count(style[s]) >= 0.5 * len(moves)


def test_silent_bars_get_the_idle():
    music, placements, _ = ChoreoGenerator().plan(stand_in(10.0, silent=True), 10.0, 0)
    assert {p.move.name for p in placements} == {"idle"}
