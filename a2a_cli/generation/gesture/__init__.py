"""`orator`: a weight-free co-speech gesture generator (task `gesture`).

It reads the voice as phrases, stressed syllables, pauses and loudness (`talk`), picks gestures from
its vocabulary (`shapes`: beats, chops, open palms, points, cups, sweeps) in the liveliness of its
style (`styles`: calm to animated, or read from the voice), and performs them (`performer`): the
strokes end on the stressed syllables, the hands hold through short pauses and rest in long ones,
the head nods and glances, the chest breathes, the weight shifts, the feet stay planted.
"""

from __future__ import annotations

import numpy as np

from a2a_cli import __version__
from a2a_cli.generation.base import check_duration
from a2a_cli.generation.choreo import seed_words
from a2a_cli.generation.gesture.styles import AUTO, GESTURE_STYLE_NAMED, gesture_style
from a2a_cli.generation.gesture.talk import TalkPlan, plan_talk

__all__ = ["GESTURE_STYLE_NAMED", "OratorGenerator"]


class OratorGenerator:
    """The weight-free speaker. `style` is "auto" (read from the voice) or a name from GESTURE_STYLES."""

    name = "orator"

    def __init__(self, style: str = AUTO) -> None:
        self.use_style(style)

    def use_style(self, style: str) -> None:
        """Gesture in `style` ("auto" or a name from GESTURE_STYLES); an InputError names the choices."""
        gesture_style(style, 0.5)
        self.style = style

    def plan(self, speech, duration_s: float, seed: int) -> TalkPlan:
        """What the speaker will do for the first `duration_s` seconds of `speech` (SpeechAnalysis)."""
        check_duration(duration_s)
        style = gesture_style(self.style, speech.animation)
        return plan_talk(speech, duration_s, style, np.random.default_rng(seed_words(seed, speech)))

    def generate(self, speech, duration_s: float, seed: int):
        """Gestures of exactly round(duration_s * 30) frames for `speech` (SpeechAnalysis), drawn with `seed`."""
        from a2a_cli.generation.gesture.performer import perform

        n_frames = check_duration(duration_s)
        plan = self.plan(speech, duration_s, seed)
        style = gesture_style(self.style, speech.animation)
        motion = perform(plan, n_frames, np.random.default_rng(seed_words(seed, speech) + [1]))
        motion.meta.update(
            generator="orator", model=self.name, seed=int(seed), audio_sha256=str(getattr(speech, "sha256", "")),
            version=__version__, style=style.name, style_summary=style.summary, liveliness=round(style.liveliness, 3),
            style_chosen_by="voice" if self.style == AUTO else "user", strokes=len(plan.strokes),
        )
        return motion
