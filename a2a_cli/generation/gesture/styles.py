"""Gesture styles: how lively the speaker is, by name or read from the voice.

A style is one number, the liveliness (0 calm to 1 animated), from which the planner and the
performer take everything else: how many stressed syllables get a stroke, how far the hands travel,
how often both hands gesture, how deep the nods go. `auto` reads it from the voice itself
(`SpeechAnalysis.animation`: loudness variation, pitch range and rate), the gesture counterpart of
a song's style; a named style fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from a2a_cli.errors import InputError
from a2a_cli.style_names import AUTO, GESTURE_STYLES

__all__ = ["AUTO", "GESTURE_STYLE_NAMED", "GestureStyle", "gesture_style"]


@dataclass(frozen=True)
class GestureStyle:
    """`name`: one of GESTURE_STYLES (or "auto" when read from the voice); `liveliness`: 0 (calm) to 1
    (animated); `summary`: what a viewer sees."""

    name: str
    liveliness: float
    summary: str


GESTURE_STYLE_NAMED: dict[str, GestureStyle] = {s.name: s for s in (
    GestureStyle("calm", 0.15, "few, small strokes on the strongest stresses; hands rest often; slow nods"),
    GestureStyle("conversational", 0.5, "beats on most stresses, an open palm or a point now and then"),
    GestureStyle("animated", 0.9, "big strokes on nearly every stress, both hands often, deep nods"),
)}


def gesture_style(name: str, animation: float) -> GestureStyle:
    """The style called `name`; for "auto", one whose liveliness is the voice's `animation` (0..1).
    An InputError names the choices for anything else."""
    if name == AUTO:
        level = min(max(float(animation), 0.0), 1.0) if animation == animation else 0.5  # NaN: the middle
        nearest = min(GESTURE_STYLE_NAMED.values(), key=lambda s: abs(s.liveliness - level))
        # named after the closest style, for people (the metadata, the table); the level itself is the voice's
        return GestureStyle(nearest.name, level, f"read from the voice (liveliness {level:.2f}): {nearest.summary}")
    try:
        return GESTURE_STYLE_NAMED[name]
    except KeyError:
        raise InputError(f"unknown gesture style {name!r}; choose {AUTO} or one of: {', '.join(GESTURE_STYLES)}") from None
