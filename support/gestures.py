"""Test fixtures for the gesture judge: voices built from chosen stresses and pauses, a scripted
standing speaker who gestures to them, and the cheap tricks a miner could answer with instead.

These are fixtures, not a generator: the speaker is simple on purpose, so that a test can say
exactly what it does. It stands with its feet planted (SMPL-24, y up, floor at y = 0) and gestures
in phrases. Before a phrase's first stress it lifts a hand (or both) from the rest pose into the
gesture space in front of the belly (preparation); on every stressed syllable the forearm beats
down, its lowest point (the stroke's apex) on the stress, and springs back up towards the next; after
the phrase's last stress the hand holds still through a short pause when it gestures again next, and
retracts to the rest pose otherwise.
The head nods and the torso leans a little with each beat; the chest breathes all the time. Each
joint angle is a smooth spline through its keys (modified Akima), so the hands never stop dead mid-phrase.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import Akima1DInterpolator

from a2a_cli.audio.speech import SpeechAnalysis
from a2a_cli.motion import Motion
from a2a_cli.motion.skeleton import (
    FOOT_JOINTS, HEAD, L_COLLAR, L_ELBOW, L_HAND, L_SHOULDER, L_WRIST, NECK, R_COLLAR, R_ELBOW, R_HAND, R_SHOULDER,
    R_WRIST, SPINE1, SPINE2, SPINE3,
)

FPS = 30.0

# Arm angles (rad) of one side: shoulder lowering (about z), shoulder flexion (about x), elbow flexion
# (about y), shoulder internal rotation (about y). Left arm signs; the right arm mirrors the z and y angles.
_REST = np.array([1.45, 0.00, 0.15, 0.0])  # arms hanging at the sides, elbows nearly straight
_RAISED = np.array([1.20, -0.35, 1.75, 0.5])  # forearm up in front of the belly: ready to beat
_APEX = np.array([1.25, -0.25, 1.20, 0.45])  # the forearm beaten down: the stroke's end


# --- voices ----------------------------------------------------------------------------------------

def speech_of(stress_times_s, pauses_s, duration_s: float, strengths=None, sha256: str = "fixture") -> SpeechAnalysis:
    """A SpeechAnalysis with the given stresses (seconds), pauses ([start, end) pairs, seconds) and
    length: voiced outside the pauses, syllables at 4.5 per voiced second (the stresses among them),
    a pitch bump on each stress, louder while voiced."""
    stresses = np.sort(np.asarray(stress_times_s, dtype=np.float64))
    pauses = np.asarray(pauses_s, dtype=np.float64).reshape(-1, 2)
    n = int(round(duration_s * FPS))
    t = np.arange(n) / FPS
    voiced = np.ones(n, dtype=bool)
    for start, end in pauses:
        voiced &= ~((t >= start) & (t < end))
    syllables = np.union1d(t[voiced][:: int(FPS / 4.5)], stresses)
    f0 = 120.0 + 25.0 * np.exp(-((t[:, None] - stresses[None]) ** 2) / (2 * 0.08**2)).sum(axis=1)
    strength = np.full(stresses.size, 0.7) if strengths is None else np.asarray(strengths, dtype=np.float64)
    return SpeechAnalysis(
        sha256=sha256, duration_s=float(duration_s), voiced=voiced,
        loudness_db=np.where(voiced, -20.0, -60.0).astype(np.float32),
        f0_hz=np.where(voiced, f0, np.nan).astype(np.float32),
        syllable_times_s=syllables, stress_times_s=stresses, stress_strength=strength, pauses_s=pauses,
        speaking_rate_hz=4.5, pitch_range_st=6.0, animation=0.5,
    )


def random_speech(duration_s: float, seed: int) -> SpeechAnalysis:
    """A voice of phrases 1.5-4 s long separated by pauses of 0.5-1.2 s (a leading silence of
    0.2-0.6 s), with a stress every 0.45-1.1 s inside each phrase (people: a pitch accent every
    0.5-1 s), each of strength 0.4-1."""
    rng = np.random.default_rng(seed)
    stresses, pauses = [], [[0.0, rng.uniform(0.2, 0.6)]]
    t = pauses[0][1]
    while t < duration_s:
        end = min(t + rng.uniform(1.5, 4.0), duration_s)
        s = t + rng.uniform(0.15, 0.4)
        while s < end - 0.15:
            stresses.append(s)
            s += rng.uniform(0.45, 1.1)
        gap = rng.uniform(0.5, 1.2)
        pauses.append([end, min(end + gap, duration_s)])
        t = end + gap
    pauses = [p for p in pauses if p[1] > p[0]]
    return speech_of(stresses, pauses, duration_s, rng.uniform(0.4, 1.0, len(stresses)), sha256=f"random-{seed}")


# --- the scripted speaker ------------------------------------------------------------------------

def _phrases(speech: SpeechAnalysis) -> list[np.ndarray]:
    """The stresses grouped into phrases: a pause (or 1.5 s without a stress) ends a phrase."""
    groups: list[list[float]] = []
    for s in speech.stress_times_s:
        pause_between = groups and any(groups[-1][-1] < start < s for start, _ in speech.pauses_s)
        if not groups or pause_between or s - groups[-1][-1] > 1.5:
            groups.append([])
        groups[-1].append(float(s))
    return [np.array(g) for g in groups]


def _arm_keys(speech: SpeechAnalysis, rng: np.random.Generator) -> tuple[list, list]:
    """Key (time, angles) lists of the left and right arm: rest, then per phrase the preparation,
    a beat per stress and a hold; the hold lasts through a pause shorter than 1.5 s when the arm
    gestures again within 2 s (people hold rather than retract in short pauses), else the arm retracts."""
    keys: tuple[list, list] = ([(0.0, _REST)], [(0.0, _REST)])
    strengths = dict(zip(speech.stress_times_s.tolist(), speech.stress_strength.tolist()))
    phrases = _phrases(speech)
    hands = [[(0,), (1,), (0, 1)][rng.choice(3, p=[0.35, 0.35, 0.3])] for _ in phrases]
    for i, phrase in enumerate(phrases):
        following = phrases[i + 1][0] if i + 1 < len(phrases) else np.inf
        for side in hands[i]:
            arm = keys[side]
            start = phrase[0] - 0.5
            for t in (start - 0.3, start):  # two rest keys: the spline stays flat while resting
                if t > arm[-1][0] + 0.05:
                    arm.append((t, _REST))
            wobble = rng.normal(0, 0.05, 4)
            for s in phrase:
                w = strengths[s]
                apex = _APEX + wobble + np.array([0.0, 0.0, -0.25 * w, 0.0])
                raised = _RAISED + wobble + np.array([-0.05 * w, 0.0, 0.1 * w, 0.0])
                if s - 0.2 > arm[-1][0] + 0.05:
                    arm.append((s - 0.2, raised))
                arm.append((s, apex))
            arm.append((phrase[-1] + 0.25, _RAISED + wobble))  # the rebound and a short hold
            arm.append((phrase[-1] + 0.45, _RAISED + wobble))
            if following - phrase[-1] < 2.0 and side in hands[i + 1]:
                arm.append((following - 0.45, _RAISED + wobble))  # hold through the pause
            else:
                arm.append((phrase[-1] + 0.95, _REST))
                arm.append((phrase[-1] + 1.25, _REST))
    return keys


def _spline(keys: list, times: np.ndarray) -> np.ndarray:
    """Angles (T, 4) through the keys by a modified Akima spline (smooth, no overshoot between keys,
    not still at a turning point), held outside them; keys closer than 2 frames to the previous one
    are dropped."""
    kept = [keys[0]]
    for t, v in keys[1:]:
        if t > kept[-1][0] + 2 / FPS:
            kept.append((t, v))
    if len(kept) < 2:
        return np.repeat(kept[0][1][None], times.size, axis=0)
    t = np.array([k[0] for k in kept])
    v = np.stack([k[1] for k in kept])
    return Akima1DInterpolator(t, v, method="makima")(np.clip(times, t[0], t[-1]))


def _pose_arm(poses: np.ndarray, angles: np.ndarray, shoulder: int, elbow: int, mirror: float) -> None:
    """Write an arm's (T, 4) angles (radians, in the order of _REST and _RAISED) into `poses` (T, 24, 3)
    axis-angle at its `shoulder` and `elbow` joints; mirror 1 for the left arm, -1 for the right."""
    poses[:, shoulder, 2] = -mirror * angles[:, 0]
    poses[:, shoulder, 0] = angles[:, 1]
    poses[:, elbow, 1] = -mirror * angles[:, 2]
    poses[:, shoulder, 1] = -mirror * angles[:, 3]


def scripted_speaker(speech: SpeechAnalysis, seed: int = 0, fps: float = FPS) -> Motion:
    """A standing speaker gesturing to `speech` (module doc), exactly round(duration * fps) frames."""
    rng = np.random.default_rng(seed)
    n = int(round(speech.duration_s * fps))
    times = np.arange(n) / fps
    poses = np.zeros((n, 24, 3))
    left, right = _arm_keys(speech, rng)
    for keys, shoulder, elbow, mirror in ((left, L_SHOULDER, L_ELBOW, 1.0), (right, R_SHOULDER, R_ELBOW, -1.0)):
        _pose_arm(poses, _spline(keys, times), shoulder, elbow, mirror)
    # Nods and a lean on each stress, a breath every 4 s.
    stresses = np.asarray(speech.stress_times_s)
    beat = (np.exp(-((times[:, None] - stresses[None]) ** 2) / (2 * 0.09**2)) * speech.stress_strength[None]).sum(axis=1)
    poses[:, HEAD, 0] = 0.12 * beat
    poses[:, NECK, 0] = 0.05 * beat
    poses[:, SPINE3, 0] = 0.03 * beat + 0.015 * np.sin(2 * np.pi * times / 4.0)
    poses[:, SPINE1, 1] = 0.04 * np.sin(2 * np.pi * times / 7.0 + rng.uniform(0, 2 * np.pi))
    poses = poses.astype(np.float32)
    return Motion(poses, _planted(poses, fps), fps=fps, meta={"generator": "tests.scripted_speaker"})


def _planted(poses: np.ndarray, fps: float) -> np.ndarray:
    """Root translations that keep the lowest foot joint on the floor and the feet where they are."""
    standing = Motion(poses, np.zeros((len(poses), 3)), fps=fps).joints
    feet = standing[:, FOOT_JOINTS]
    trans = np.zeros((len(poses), 3))
    trans[:, 1] = -feet[:, :, 1].min(axis=1)
    trans[:, [0, 2]] = -feet[:, :, [0, 2]].mean(axis=1)
    return trans.astype(np.float32)


# --- the tricks ----------------------------------------------------------------------------------

def rest_pose(n_frames: int, fps: float = FPS) -> Motion:
    """The speaker's rest pose held still."""
    poses = np.zeros((n_frames, 24, 3), dtype=np.float32)
    poses[:, L_SHOULDER, 2], poses[:, R_SHOULDER, 2] = -_REST[0], _REST[0]
    poses[:, L_ELBOW, 1], poses[:, R_ELBOW, 1] = -_REST[2], _REST[2]
    poses[:, L_SHOULDER, 1], poses[:, R_SHOULDER, 1] = -_REST[3], _REST[3]
    return Motion(poses, _planted(poses, fps), fps=fps)


def jittered_rest(n_frames: int, radians: float = 0.03, fps: float = FPS, seed: int = 0) -> Motion:
    """The rest pose with `radians` of independent noise on every upper-body joint angle (spine to
    hands) every frame, the legs still and the feet planted: it moves, and its noise makes beats
    everywhere."""
    still = rest_pose(n_frames, fps)
    poses = still.poses.copy()
    upper = [SPINE1, SPINE2, SPINE3, NECK, L_COLLAR, R_COLLAR, HEAD, L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW,
             L_WRIST, R_WRIST, L_HAND, R_HAND]
    poses[:, upper] += np.random.default_rng(seed).normal(0, radians, (n_frames, len(upper), 3)).astype(np.float32)
    return Motion(poses, still.trans, fps=fps)


def looped(motion: Motion, seconds: float) -> Motion:
    """The first `seconds` of a motion repeated for its whole length."""
    period = int(round(seconds * motion.fps))
    idx = np.arange(motion.n_frames) % period
    return Motion(motion.poses[idx], motion.trans[idx], fps=motion.fps)


def walking_away(motion: Motion, speed_m_s: float = 0.6) -> Motion:
    """The same gestures while the body glides forward at `speed_m_s` (feet planted on a moving floor)."""
    trans = motion.trans.copy()
    trans[:, 2] += speed_m_s * np.arange(motion.n_frames) / motion.fps
    return Motion(motion.poses, trans, fps=motion.fps)


def skating(motion: Motion, amplitude_m: float = 0.2, period_s: float = 2.0) -> Motion:
    """The same gestures while the whole body slides left and right on its planted feet."""
    trans = motion.trans.copy()
    trans[:, 0] += amplitude_m * np.sin(2 * np.pi * np.arange(motion.n_frames) / motion.fps / period_s)
    return Motion(motion.poses, trans, fps=motion.fps)


def fidgeting(n_frames: int, fps: float = FPS, seed: int = 0, every_s: float = 0.3) -> Motion:
    """Gestures timed to nothing: the arms move smoothly between random poses of the gesture space,
    one every `every_s` seconds, feet planted (motion that would fit any voice equally badly)."""
    rng = np.random.default_rng(seed)
    times = np.arange(n_frames) / fps
    poses = np.zeros((n_frames, 24, 3))
    for shoulder, elbow, mirror in ((L_SHOULDER, L_ELBOW, 1.0), (R_SHOULDER, R_ELBOW, -1.0)):
        n_keys = int(n_frames / fps / every_s) + 2
        mix = rng.uniform(0, 1, (n_keys, 1))
        keys = [(k * every_s, _REST + (_RAISED - _REST) * m + rng.normal(0, 0.1, 4)) for k, m in enumerate(mix)]
        _pose_arm(poses, _spline(keys, times), shoulder, elbow, mirror)
    poses = poses.astype(np.float32)
    return Motion(poses, _planted(poses, fps), fps=fps)
