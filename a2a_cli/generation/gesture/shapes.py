"""The speaker's vocabulary: gesture shapes as wrist places in the gesture space in front of the chest.

Every place is a LEFT wrist position in metres in the chest's frame (the Spine3 joint, turning with
the torso): x outward (to the speaker's left), y up, z forward; the right hand mirrors x. A shape is
where a stroke ENDS (`end`, the hand's velocity minimum: on the stressed syllable) and how the
preparation before it bends the path (`via`: the offset the hand passes through on its way, largest
a little before the stroke, so the stroke itself is the fast phase); `both`: a two-handed shape.
Amplitude scales every place's distance from READY, where the hands wait between strokes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BEAT", "ELBOW_POLE", "GESTURE_SPACE", "READY", "RESTS", "SHAPES", "Shape", "mirror_x"]

READY = np.array([0.17, -0.08, 0.25])  # forearms forward at the lower chest: the gesture space's centre
# Rests between phrases: hands low and loosely together in front, or hanging at the sides.
RESTS = {
    "clasped": np.array([0.07, -0.2, 0.2]),
    "sides": np.array([0.27, -0.36, 0.05]),
}
ELBOW_POLE = np.array([0.35, -1.0, -0.35])  # elbows hang down, a little out and back
# The gesture space: however big a stroke, it ends inside this box (low and high corners, left hand),
# in front of the chest between the belly and the chin and not much wider than the shoulders, so
# that big gestures do not flail.
GESTURE_SPACE = (np.array([-0.04, -0.22, 0.14]), np.array([0.36, 0.12, 0.46]))


@dataclass(frozen=True)
class Shape:
    """`end`: the stroke's end place (3,); `via`: the preparation's offset (3,); `both`: two-handed;
    `weight`: how often it is picked among the shapes a gesture unit opens with."""

    name: str
    end: np.ndarray
    via: np.ndarray
    both: bool = False
    weight: float = 1.0


# The beat: a small flick of the forearm down and forward onto the stress, the commonest gesture.
BEAT = Shape("beat", np.array([0.18, -0.1, 0.28]), np.array([0.0, 0.09, -0.03]), weight=2.0)
SHAPES: tuple[Shape, ...] = (
    BEAT,
    Shape("chop", np.array([0.15, -0.1, 0.33]), np.array([0.0, 0.15, -0.05])),  # edge of the hand cuts down
    Shape("open_palm", np.array([0.3, -0.06, 0.33]), np.array([-0.08, 0.03, -0.07])),  # offered out and forward
    Shape("point", np.array([0.24, 0.05, 0.44]), np.array([-0.03, 0.04, -0.12]), weight=0.6),  # toward the listener
    Shape("cup", np.array([0.12, -0.03, 0.3]), np.array([0.06, 0.05, -0.04]), both=True),  # holding an idea
    Shape("sweep", np.array([0.4, -0.08, 0.21]), np.array([-0.16, 0.04, 0.05]), both=True),  # out to the sides
    Shape("frame", np.array([0.22, 0.03, 0.3]), np.array([-0.04, -0.06, -0.03]), both=True, weight=0.7),  # hands apart
)


def mirror_x(place: np.ndarray, right: bool) -> np.ndarray:
    """A left-hand place (..., 3) for the right hand when `right` (x negated), else as it is."""
    return place * np.array([-1.0, 1.0, 1.0]) if right else place
