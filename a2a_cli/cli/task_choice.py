"""What `a2a generate` and `a2a score` make of an audio file: dance to music, gesture to speech.

`--task auto` (the default) reads each file (`audio.task_reading`: steady beats or a voice's
syllables and pauses); `--task dance` or `--task gesture` decides for every file. The reading and
its confidence go into the results (`--json`), so a user sees why a file was gestured to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from a2a_cli.tasks import AUTO, GESTURE, check_task

__all__ = ["choose_task", "read_for_task"]


def choose_task(requested: str, audio: Path, start_s: float | None = None, duration_s: float | None = None
                ) -> tuple[str, dict | None]:
    """(task, reading) for `audio` (a file path): `requested` (a2a_cli.tasks name or "auto"); for auto
    the task read from the file's cut (`start_s`, `duration_s` in seconds) and the reading
    {"task", "confidence", "evidence"}; for a task named, that task and None."""
    if check_task(requested, allow_auto=True) != AUTO:
        return requested, None
    from a2a_cli.audio.task_reading import read_task_file

    reading = read_task_file(audio, start_s, duration_s)
    return reading.task, {"task": reading.task, "confidence": round(float(reading.confidence), 3),
                          "evidence": {k: round(float(v), 4) for k, v in reading.evidence.items()}}


def read_for_task(task: str, audio: Path, start_s: float | None, duration_s: float | None, cache_dir) -> Any:
    """The audio read as `task` needs it: an AudioAnalysis of music (dance) or a SpeechAnalysis of a
    voice (gesture), of the cut `start_s`, `duration_s` (seconds), cached in `cache_dir` (or None)."""
    if check_task(task) == GESTURE:
        from a2a_cli.audio.speech import analyze_speech

        return analyze_speech(audio, start_s=start_s, duration_s=duration_s, cache_dir=cache_dir)
    from a2a_cli.audio import analyze

    return analyze(audio, start_s=start_s, duration_s=duration_s, cache_dir=cache_dir)
