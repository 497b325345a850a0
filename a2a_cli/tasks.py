"""The subnet's tasks, by name: the one home of that list.

A leaf without numpy, so that the settings, the CLI's help and the wire protocol can name the tasks
without loading any model. `dance`: music in, dance out (Phases 1-2). `gesture`: speech in,
co-speech gesture out (Phase 3).
"""

from __future__ import annotations

from typing import Literal

from a2a_cli.errors import InputError

__all__ = ["AUTO", "DANCE", "GESTURE", "TASKS", "TASK_CHOICES", "Task", "check_task"]

DANCE = "dance"
GESTURE = "gesture"
TASKS = (DANCE, GESTURE)
AUTO = "auto"  # read the task from the audio: speech is gestured to, music danced to
TASK_CHOICES = (AUTO, *TASKS)  # what `--task` accepts
Task = Literal["dance", "gesture"]


def check_task(name: str, *, allow_auto: bool = False) -> str:
    """`name` if it names a task (or `auto` where allowed); else a one-line InputError listing the choices."""
    choices = TASK_CHOICES if allow_auto else TASKS
    if name not in choices:
        raise InputError(f"unknown task {name!r}; choose from {', '.join(choices)}")
    return name
