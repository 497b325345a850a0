"""`score_motions` (many answers to one prompt, judged as one batch) gives every answer the report
`score_motion` gives it alone: every gate, metric, term, factor, reason and the style, within 1e-9.

The answers mix what a validator meets: a2a's choreo dances, real salsa (tests/data/real), a dance
re-timed to the song, clips that fail gates (static, teleporting, noise, jitter, a loop, NaN, joint
positions that stretch), a 60-fps answer (judged resampled), clips of other lengths (too short to
measure, shorter than a window); judged with and without the song, with a reference dance and a
latency, and with reference statistics.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from a2a_cli.audio import analyze
from a2a_cli.examples import synth_song
from a2a_cli.generation import get_generator
from a2a_cli.motion import Motion
from a2a_cli.motion.resample import resample
from a2a_cli.scoring import score_motion, score_motions
from a2a_cli.scoring.fid import build_reference_stats
from support.dances import (
    REAL_TAKES, beat_frames_of, human_dance, loop_one_move, plausible_dance, real_take, static_pose, teleports,
    tiny_jitter, truncated, white_noise,
)

SR = 22050
SECONDS = 10.0
N = 300


@cache
def song():
    return analyze(synth_song(120.0, SECONDS, SR, seed=3), SR)


@cache
def answers() -> tuple[Motion, ...]:
    choreo = get_generator("choreo")
    dances = [choreo.generate(song(), SECONDS, seed) for seed in range(4)]
    reals = [truncated(real_take(name), N) for name in REAL_TAKES]
    poses = dances[0].poses.copy()
    poses[40, 3, 1] = np.nan
    return (*dances, *reals, human_dance(song().beat_frames, N), static_pose(N), teleports(dances[1]), white_noise(N),
            tiny_jitter(N), loop_one_move(dances[2]), Motion(poses, dances[0].trans),
            Motion.from_joints(dances[3].joints), resample(dances[1], 60.0), truncated(dances[2], 200),
            truncated(dances[0], 20), truncated(reals[1], 45), plausible_dance(beat_frames_of(120.0, SECONDS), N, seed=2))


def _settings(name: str) -> dict:
    dances = answers()
    if name == "song":
        return {"audio": song()}
    if name == "no song":
        return {"audio": None}
    if name == "reference":
        return {"audio": song(), "reference": dances[0], "latency_s": 3.0}
    return {"audio": song(), "reference_stats": build_reference_stats([m.joints for m in dances[:6] if m.n_frames == N])}


def _same(a, b, where: str) -> None:
    """a == b, floats within 1e-9 (NaN and inf as themselves), dicts in the same key order."""
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == b or abs(a - b) <= 1e-9 or (np.isnan(a) and np.isnan(b)), (where, a, b)
    else:
        assert a == b, (where, a, b)


def _everything(report) -> dict:
    out = report.to_dict()
    out["style"] = None if report.style is None else report.style.tolist()
    return out


@pytest.mark.parametrize("settings", ["song", "no song", "reference", "reference stats"])
def test_a_batch_of_answers_gets_the_reports_each_gets_alone(settings):
    kwargs = _settings(settings)
    audio = kwargs.pop("audio")
    batch = score_motions(answers(), audio, **kwargs)
    alone = [score_motion(m, audio, **kwargs) for m in answers()]
    for i, (together, single) in enumerate(zip(batch, alone)):
        _same(_everything(together), _everything(single), f"answer {i}")
    scores = [r.validator_score for r in alone]
    assert max(scores) > 0.1 and scores.count(0.0) >= 6  # real verdicts both ways, not all zero
    if audio is not None:
        assert any("sync" in r.components for r in alone) and any("energy" in r.components for r in alone)


def test_each_answer_may_have_its_own_latency():
    dances = answers()[:3]
    latencies = [0.5, None, 30.0]
    batch = score_motions(dances, song(), latency_s=latencies)
    for motion, latency, report in zip(dances, latencies, batch):
        _same(_everything(report), _everything(score_motion(motion, song(), latency_s=latency)), f"latency {latency}")
    assert "latency" not in batch[1].factors and batch[0].factors["latency"] > batch[2].factors["latency"]
    with pytest.raises(ValueError, match="latencies"):
        score_motions(dances, song(), latency_s=[1.0])


def test_answers_judged_in_several_batches_get_the_same_reports(monkeypatch):
    from a2a_cli.scoring import composite

    whole = score_motions(answers(), song())
    monkeypatch.setattr(composite, "_BATCH_CLIPS", 4)
    for i, (one, other) in enumerate(zip(score_motions(answers(), song()), whole)):
        _same(_everything(one), _everything(other), f"answer {i}")
