"""The choreographer's vocabulary: moves authored as keyframes on the beat grid.

A move lasts `n_beats` beats. `keys[i]` is the pose the body reaches exactly ON beat i (hits land on
beats), as offsets from a relaxed base pose; between beats the performer eases from key to key, so
the whole body turns around on the beat. `steps[i]` says what the feet do during beat i -> i+1: a
foot lands at a target in the move's own floor frame (x to the dancer's left, z forward, metres,
`up` > 0 to end in the air, as in a kick), or both feet hop.

Pose channels (Euler XYZ degrees, added to the base pose): spine, neck, pelvis (tilt/twist) and the
arms, l*/r* for each side. Both sides are written in the LEFT side's convention, so `sh=(0, 0, 70)`
raises both arms sideways alike: shoulder x<0 lifts the arm forward, y<0 swings it forward, z>0
raises it sideways; elbow y<0 bends the forearm forward, z>0 bends it up; collar z>0 shrugs; spine
x>0 bends forward, y>0 twists left, z>0 leans right; neck x>0 nods. `root` is a pelvis offset
(x left, y up, z forward) in metres. `mirrored()` gives the left-right mirror of a move.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

__all__ = [
    "ARM_CHANNELS", "BASE", "BODY_CHANNELS", "CHANNELS", "FAMILIES", "H", "HOME_X", "IDLE", "MOVES",
    "MOVE_NAMED", "Move", "P", "Step", "home_step",
]

HOME_X = 0.14  # each foot's resting distance from the dancer's midline (m)
FAMILIES = ("groove", "footwork", "arms", "power")
ARM_CHANNELS = ("sh", "el", "co", "wr")
BODY_CHANNELS = ("spine", "neck", "pelvis", "root")
CHANNELS = BODY_CHANNELS + tuple(side + c for c in ARM_CHANNELS for side in "lr")


@dataclass(frozen=True)
class Step:
    """What the feet do during one beat: `foot` "l", "r" or "both" (a hop, `x` is half the stance)."""

    foot: str
    x: float = 0.0
    z: float = 0.0
    up: float = 0.0  # height of the foot above its grounded height when the beat ends
    lift: float = 0.12  # extra mid-beat clearance (a hop's height for "both")
    turn: float = 0.0  # degrees the move's floor frame turns (about y, + to the left) before landing

    def mirrored(self) -> "Step":
        """The same step with the other foot, to the other side, turning the other way."""
        foot = {"l": "r", "r": "l"}.get(self.foot, self.foot)
        x = self.x if self.foot == "both" else -self.x
        return replace(self, foot=foot, x=x, turn=-self.turn)


@dataclass(frozen=True)
class Move:
    name: str
    family: str
    keys: tuple[dict, ...]
    steps: tuple[Step | None, ...] = ()
    bounce: float = 0.03  # pelvis dip on every beat (m), its lowest point on the beat
    mirror: bool = False
    energetic: bool = False  # only danced when the music is loud enough
    opposite: str = ""  # the move that travels the other way (forward <-> back), where mirroring cannot

    def __post_init__(self) -> None:
        steps = tuple(self.steps) + (None,) * (len(self.keys) - len(self.steps))
        object.__setattr__(self, "steps", steps[: len(self.keys)])

    @property
    def n_beats(self) -> int:
        return len(self.keys)

    @property
    def turn(self) -> float:
        return sum(s.turn for s in self.steps if s is not None)

    @property
    def travel(self) -> tuple[float, float]:
        """Where the feet's midpoint ends (x, z) in the move's floor frame, from where it began (m)."""
        spot = {"l": (HOME_X, 0.0), "r": (-HOME_X, 0.0)}
        heading = 0.0
        for s in self.steps:
            if s is None:
                continue
            heading += s.turn
            c, n = math.cos(math.radians(heading)), math.sin(math.radians(heading))
            for foot in ("l", "r") if s.foot == "both" else (s.foot,):
                x = -s.x if (s.foot == "both" and foot == "r") else s.x
                spot[foot] = (c * x + n * s.z, -n * x + c * s.z)
        return ((spot["l"][0] + spot["r"][0]) / 2, (spot["l"][1] + spot["r"][1]) / 2)

    def mirrored(self) -> "Move":
        """The same move mirrored left to right (poses, steps and turns)."""
        return replace(
            self,
            keys=tuple(_mirror_key(k) for k in self.keys),
            steps=tuple(s.mirrored() if s else None for s in self.steps),
            mirror=not self.mirror,
        )


def _mirror_key(key: dict) -> dict:
    out = {}
    for ch, (x, y, z) in key.items():
        if ch == "root":
            out[ch] = (-x, y, z)
        elif ch[0] in "lr" and ch[1:] in ARM_CHANNELS:
            out[("r" if ch[0] == "l" else "l") + ch[1:]] = (x, y, z)
        else:
            out[ch] = (x, -y, -z)
    return out


def P(**channels) -> dict:
    """One key pose; `sh`, `el`, `co`, `wr` set both sides at once (l*/r* set one side)."""
    key = {}
    for ch, v in channels.items():
        if ch in ARM_CHANNELS:
            key.setdefault("l" + ch, v)
            key.setdefault("r" + ch, v)
        elif ch in CHANNELS:
            key[ch] = v
        else:
            raise ValueError(f"unknown pose channel {ch!r}")
    for ch, v in channels.items():  # one-side channels win over the both-sides shorthand
        if ch not in ARM_CHANNELS:
            key[ch] = v
    return key


def home_step(foot: str, x: float = 0.0, z: float = 0.0, **kw) -> Step:
    """A step to `foot`'s home spot, shifted by (x, z)."""
    return Step(foot, (HOME_X if foot == "l" else -HOME_X) + x, z, **kw)


# The relaxed stance every key is an offset from: arms hanging, elbows soft, chest a little forward.
BASE = P(sh=(-10, -8, -65), el=(0, -55, 0), spine=(4, 0, 0))

H = HOME_X
_GROOVE = (
    Move("bounce", "groove", (
        P(root=(0.03, 0, 0), sh=(-15, 0, 0), el=(0, -50, 0), spine=(8, 6, 0), neck=(8, 0, 0)),
        P(root=(-0.03, 0, 0), sh=(-5, 0, 5), el=(0, -30, 0), spine=(3, -6, 0)),
        P(root=(0.03, 0, 0), sh=(-15, 0, 0), el=(0, -50, 0), spine=(8, 6, 0), neck=(8, 0, 0)),
        P(root=(-0.03, 0, 0), sh=(-5, 0, 5), el=(0, -30, 0), spine=(3, -6, 0)),
    ), bounce=0.05),
    Move("side_sway", "groove", (
        P(root=(0.06, 0, 0), pelvis=(0, 0, -6), spine=(0, 0, 8), lsh=(0, -25, 5), rsh=(0, 20, 5)),
        P(root=(-0.06, 0, 0), pelvis=(0, 0, 6), spine=(0, 0, -8), lsh=(0, 20, 5), rsh=(0, -25, 5)),
        P(root=(0.06, 0, 0), pelvis=(0, 0, -6), spine=(0, 0, 8), lsh=(0, -25, 5), rsh=(0, 20, 5)),
        P(root=(-0.06, 0, 0), pelvis=(0, 0, 6), spine=(0, 0, -8), lsh=(0, 20, 5), rsh=(0, -25, 5)),
    )),
    Move("body_roll", "groove", (
        P(root=(0, -0.02, 0.04), spine=(18, 0, 0), neck=(-12, 0, 0), sh=(-20, 0, 10), el=(0, -60, 0)),
        P(root=(0, 0, -0.03), spine=(-6, 0, 0), neck=(10, 0, 0), sh=(10, 0, 15)),
        P(root=(0, -0.02, 0.04), spine=(18, 0, 0), neck=(-12, 0, 0), sh=(-20, 0, 10), el=(0, -60, 0)),
        P(root=(0, 0, -0.03), spine=(-6, 0, 0), neck=(10, 0, 0), sh=(10, 0, 15)),
    )),
    Move("shoulder_shimmy", "groove", (
        P(lco=(0, 0, 15), rco=(0, 0, -5), spine=(5, 10, 0), el=(0, -80, 0), sh=(-20, 0, 20)),
        P(lco=(0, 0, -5), rco=(0, 0, 15), spine=(5, -10, 0), el=(0, -80, 0), sh=(-20, 0, 20)),
        P(lco=(0, 0, 15), rco=(0, 0, -5), spine=(5, 10, 0), el=(0, -80, 0), sh=(-20, 0, 20)),
        P(lco=(0, 0, -5), rco=(0, 0, 15), spine=(5, -10, 0), el=(0, -80, 0), sh=(-20, 0, 20)),
    ), bounce=0.025),
    Move("head_nod", "groove", (
        P(neck=(22, 0, 0), spine=(10, 0, 0), lsh=(-35, 0, 0), lel=(0, -70, 0)),
        P(neck=(-5, 10, 0), spine=(2, 0, 0), rsh=(-35, 0, 0), rel=(0, -70, 0)),
        P(neck=(22, 0, 0), spine=(10, 0, 0), lsh=(-35, 0, 0), lel=(0, -70, 0)),
        P(neck=(-5, -10, 0), spine=(2, 0, 0), rsh=(-35, 0, 0), rel=(0, -70, 0)),
    ), bounce=0.045),
    Move("hip_twist", "groove", (
        P(pelvis=(0, 18, 0), spine=(0, -16, 0), root=(0.03, 0, 0), sh=(-30, 0, 25), el=(0, -90, 0)),
        P(pelvis=(0, -18, 0), spine=(0, 16, 0), root=(-0.03, 0, 0), sh=(-30, 0, 25), el=(0, -90, 0)),
        P(pelvis=(0, 18, 0), spine=(0, -16, 0), root=(0.03, 0, 0), sh=(-30, 0, 25), el=(0, -90, 0)),
        P(pelvis=(0, -18, 0), spine=(0, 16, 0), root=(-0.03, 0, 0), sh=(-30, 0, 25), el=(0, -90, 0)),
    )),
)

_FOOTWORK = (
    Move("step_touch", "footwork", (
        P(spine=(0, 0, 6), sh=(0, 0, 10)),
        P(spine=(0, 0, -6), lsh=(-40, -30, 20), rsh=(-40, -30, 20), el=(0, -60, 0)),
        P(spine=(0, 0, -6), sh=(0, 0, 10)),
        P(spine=(0, 0, 6), lsh=(-40, -30, 20), rsh=(-40, -30, 20), el=(0, -60, 0)),
    ), steps=(home_step("r", -0.2), home_step("r"), home_step("l", 0.2), home_step("l"))),
    Move("grapevine", "footwork", (
        P(sh=(0, 0, 35), spine=(0, -8, 0)),
        P(sh=(0, 0, 20), spine=(0, 8, 0)),
        P(sh=(0, 0, 35), spine=(0, -8, 0)),
        P(sh=(-60, -20, 10), el=(0, -40, 0), neck=(0, -20, 0)),
        P(sh=(0, 0, 35), spine=(0, 8, 0)),
        P(sh=(0, 0, 20), spine=(0, -8, 0)),
        P(sh=(0, 0, 35), spine=(0, 8, 0)),
        P(sh=(-60, -20, 10), el=(0, -40, 0), neck=(0, 20, 0)),
    ), steps=(Step("r", -0.42, 0), Step("l", -0.24, -0.08), Step("r", -0.62, 0), Step("l", -0.40, 0),
              Step("l", -0.08, 0), Step("r", -0.26, -0.08), home_step("l"), home_step("r"))),
    Move("box_step", "footwork", (
        P(spine=(6, 8, 0), lsh=(-30, 0, 0), rsh=(20, 0, 0)),
        P(spine=(6, -8, 0), lsh=(20, 0, 0), rsh=(-30, 0, 0)),
        P(spine=(0, 8, 0), lsh=(-30, 0, 0), rsh=(20, 0, 0)),
        P(spine=(0, -8, 0), lsh=(20, 0, 0), rsh=(-30, 0, 0)),
    ), steps=(home_step("r", 0, 0.25), home_step("l", 0.08, 0.25), home_step("r"), home_step("l"))),
    Move("heel_tap", "footwork", (
        P(spine=(-4, 0, 0), sh=(0, 0, 20), el=(0, -50, 0)),
        P(spine=(6, -6, 0), lsh=(-45, 0, 0), rsh=(0, 0, 30), el=(0, -50, 0)),
        P(spine=(-4, 0, 0), sh=(0, 0, 20), el=(0, -50, 0)),
        P(spine=(6, 6, 0), rsh=(-45, 0, 0), lsh=(0, 0, 30), el=(0, -50, 0)),
    ), steps=(home_step("r", -0.03, 0.3, up=0.02), home_step("r"), home_step("l", 0.03, 0.3, up=0.02), home_step("l"))),
    Move("kick_ball_change", "footwork", (
        P(spine=(-6, 0, 0), sh=(0, 0, 45), el=(0, -20, 0)),
        P(spine=(4, 0, 0), sh=(-20, 0, 15), el=(0, -60, 0)),
        P(spine=(2, 6, 0), sh=(0, 0, 25)),
        P(spine=(4, -6, 0), sh=(-20, 0, 15), el=(0, -60, 0)),
    ), steps=(home_step("r", 0, 0.32, up=0.22, lift=0.1), home_step("r", 0, -0.12), home_step("l"), home_step("r")), bounce=0.02),
    Move("march", "footwork", (
        P(lsh=(-45, 0, 0), rsh=(30, 0, 0), el=(0, -70, 0), spine=(0, 6, 0)),
        P(lsh=(0, 0, 0), rsh=(0, 0, 0), el=(0, -40, 0)),
        P(rsh=(-45, 0, 0), lsh=(30, 0, 0), el=(0, -70, 0), spine=(0, -6, 0)),
        P(lsh=(0, 0, 0), rsh=(0, 0, 0), el=(0, -40, 0)),
    ), steps=(home_step("r", 0, 0.1, up=0.22, lift=0.04), home_step("r"), home_step("l", 0, 0.1, up=0.22, lift=0.04), home_step("l")),
        bounce=0.015),
    Move("cross_step", "footwork", (
        P(spine=(0, -14, 0), sh=(0, 0, 30), el=(0, -45, 0)),
        P(spine=(0, 0, 0), sh=(0, 0, 10)),
        P(spine=(0, 14, 0), sh=(0, 0, 30), el=(0, -45, 0)),
        P(spine=(0, 0, 0), sh=(0, 0, 10)),
    ), steps=(Step("r", 0.06, 0.17), home_step("r"), Step("l", -0.06, 0.17), home_step("l"))),
    Move("shuffle_back", "footwork", (
        P(spine=(-4, 8, 0), lsh=(-40, 0, 10), rsh=(25, 0, 0), el=(0, -60, 0)),
        P(spine=(-4, -8, 0), rsh=(-40, 0, 10), lsh=(25, 0, 0), el=(0, -60, 0)),
        P(spine=(6, 8, 0), lsh=(-40, 0, 10), rsh=(25, 0, 0), el=(0, -60, 0)),
        P(spine=(6, -8, 0), rsh=(-40, 0, 10), lsh=(25, 0, 0), el=(0, -60, 0)),
    ), steps=(home_step("r", 0, -0.24), home_step("l", 0, -0.24), home_step("r"), home_step("l"))),
    # Travelling: these end somewhere else on the floor; the planner mirrors them back toward the middle.
    Move("side_travel", "footwork", (
        P(spine=(0, 0, -8), lsh=(0, 0, 40), rsh=(-30, -20, 20), el=(0, -50, 0), neck=(0, -15, 0)),
        P(spine=(2, 0, 4), sh=(-20, 0, 15), el=(0, -70, 0)),
        P(spine=(0, 0, -8), lsh=(0, 0, 40), rsh=(-30, -20, 20), el=(0, -50, 0), neck=(0, -15, 0)),
        P(spine=(4, 0, 4), sh=(-10, 0, 10), el=(0, -60, 0)),
    ), steps=(home_step("r", -0.3), home_step("l", -0.3), home_step("r", -0.6), home_step("l", -0.6))),
    Move("grapevine_travel", "footwork", (
        P(sh=(0, 0, 40), spine=(0, -10, 0), neck=(0, -20, 0)),
        P(sh=(0, 0, 25), spine=(0, 10, 0)),
        P(sh=(0, 0, 40), spine=(0, -10, 0), neck=(0, -20, 0)),
        P(sh=(-50, -20, 10), el=(0, -50, 0), spine=(6, 0, 0)),
    ), steps=(home_step("r", -0.32), Step("l", -0.3, -0.1), home_step("r", -0.62), home_step("l", -0.62, 0.0, up=0.03))),
    Move("walk_forward", "footwork", (
        P(lsh=(-35, 0, 0), rsh=(25, 0, 0), el=(0, -50, 0), spine=(4, 8, 0)),
        P(rsh=(-35, 0, 0), lsh=(25, 0, 0), el=(0, -50, 0), spine=(4, -8, 0)),
        P(lsh=(-35, 0, 0), rsh=(25, 0, 0), el=(0, -50, 0), spine=(4, 8, 0)),
        P(sh=(0, 0, 30), el=(0, -30, 0), spine=(-4, 0, 0), neck=(-8, 0, 0)),
    ), steps=(home_step("r", 0, 0.3), home_step("l", 0, 0.55), home_step("r", 0, 0.8), home_step("l", 0, 0.8)),
        opposite="walk_back"),
    Move("walk_back", "footwork", (
        P(sh=(-20, 0, 15), el=(0, -70, 0), spine=(8, 6, 0)),
        P(sh=(-20, 0, 15), el=(0, -70, 0), spine=(8, -6, 0)),
        P(sh=(-20, 0, 15), el=(0, -70, 0), spine=(8, 6, 0)),
        P(sh=(0, 0, 25), el=(0, -40, 0), spine=(0, 0, 0)),
    ), steps=(home_step("l", 0, -0.25), home_step("r", 0, -0.5), home_step("l", 0, -0.75), home_step("r", 0, -0.75)),
        opposite="walk_forward"),
    Move("pivot_turn", "footwork", (
        P(sh=(0, 0, 35), el=(0, -40, 0), spine=(0, 10, 0)),
        P(sh=(0, 0, 55), el=(0, -20, 0), neck=(0, 20, 0)),
        P(sh=(-20, 0, 30), el=(0, -60, 0), spine=(0, -10, 0)),
        P(sh=(0, 0, 55), el=(0, -20, 0), neck=(0, -20, 0)),
    ), steps=(home_step("r", 0, 0.22), home_step("l", turn=180), home_step("r"), home_step("l"))),
)

_ARMS = (
    Move("arm_wave", "arms", (
        P(lsh=(0, 0, 70), lel=(0, 0, 40), lwr=(0, 0, -30), rsh=(0, 0, 70), rel=(0, 0, -40), rwr=(0, 0, 30), spine=(0, 0, -6)),
        P(lsh=(0, 0, 70), lel=(0, 0, -40), lwr=(0, 0, 30), rsh=(0, 0, 70), rel=(0, 0, 40), rwr=(0, 0, -30), spine=(0, 0, 6)),
        P(lsh=(0, 0, 70), lel=(0, 0, 40), lwr=(0, 0, -30), rsh=(0, 0, 70), rel=(0, 0, -40), rwr=(0, 0, 30), spine=(0, 0, -6)),
        P(lsh=(0, 0, 70), lel=(0, 0, -40), lwr=(0, 0, 30), rsh=(0, 0, 70), rel=(0, 0, 40), rwr=(0, 0, -30), spine=(0, 0, 6)),
    ), bounce=0.025),
    Move("punch_up", "arms", (
        P(lsh=(0, 0, 150), lel=(0, -5, 0), rsh=(-20, 0, 20), rel=(0, -100, 0), spine=(0, 0, 8), neck=(-10, 0, 0)),
        P(rsh=(0, 0, 150), rel=(0, -5, 0), lsh=(-20, 0, 20), lel=(0, -100, 0), spine=(0, 0, -8), neck=(-10, 0, 0)),
        P(lsh=(0, 0, 150), lel=(0, -5, 0), rsh=(-20, 0, 20), rel=(0, -100, 0), spine=(0, 0, 8), neck=(-10, 0, 0)),
        P(rsh=(0, 0, 150), rel=(0, -5, 0), lsh=(-20, 0, 20), lel=(0, -100, 0), spine=(0, 0, -8), neck=(-10, 0, 0)),
    ), bounce=0.04),
    Move("clap", "arms", (
        P(sh=(0, 0, 45), el=(0, -20, 0), spine=(-4, 0, 0)),
        P(sh=(-70, -40, 40), el=(0, -35, 0), spine=(8, 0, 0), neck=(10, 0, 0)),
        P(sh=(0, 0, 45), el=(0, -20, 0), spine=(-4, 0, 0)),
        P(sh=(-70, -40, 40), el=(0, -35, 0), spine=(8, 0, 0), neck=(10, 0, 0)),
    ), bounce=0.04),
    Move("raise_the_roof", "arms", (
        P(sh=(0, 0, 70), el=(0, 0, 95), spine=(0, 0, 0)),
        P(sh=(0, 0, 100), el=(0, 0, 50), spine=(-6, 0, 0), neck=(-12, 0, 0)),
        P(sh=(0, 0, 70), el=(0, 0, 95)),
        P(sh=(0, 0, 100), el=(0, 0, 50), spine=(-6, 0, 0), neck=(-12, 0, 0)),
    ), bounce=0.05),
    Move("arm_swing", "arms", (
        P(lsh=(-110, 0, 10), rsh=(40, 0, 0), el=(0, -15, 0), spine=(-4, 10, 0)),
        P(rsh=(-110, 0, 10), lsh=(40, 0, 0), el=(0, -15, 0), spine=(-4, -10, 0)),
        P(lsh=(-110, 0, 10), rsh=(40, 0, 0), el=(0, -15, 0), spine=(-4, 10, 0)),
        P(rsh=(-110, 0, 10), lsh=(40, 0, 0), el=(0, -15, 0), spine=(-4, -10, 0)),
    ), bounce=0.035),
    Move("disco_point", "arms", (
        P(rsh=(0, 0, 140), rel=(0, 0, 0), lsh=(-10, 0, 10), lel=(0, -90, 0), spine=(0, 0, 10), neck=(-10, -15, 0)),
        P(rsh=(-40, -40, 10), rel=(0, -10, 0), lsh=(-10, 0, 10), lel=(0, -90, 0), spine=(0, 0, -6), neck=(10, 10, 0)),
        P(rsh=(0, 0, 140), rel=(0, 0, 0), lsh=(-10, 0, 10), lel=(0, -90, 0), spine=(0, 0, 10), neck=(-10, -15, 0)),
        P(rsh=(-40, -40, 10), rel=(0, -10, 0), lsh=(-10, 0, 10), lel=(0, -90, 0), spine=(0, 0, -6), neck=(10, 10, 0)),
    ), steps=(home_step("r", -0.18), home_step("r"), home_step("r", -0.18), home_step("r"))),
    Move("swim", "arms", (
        P(sh=(-85, -25, 0), el=(0, -5, 0), spine=(10, 0, 0)),
        P(sh=(-60, 30, 50), el=(0, -30, 0), spine=(-2, 0, 0), neck=(-8, 0, 0)),
        P(sh=(-85, -25, 0), el=(0, -5, 0), spine=(10, 0, 0)),
        P(sh=(-60, 30, 50), el=(0, -30, 0), spine=(-2, 0, 0), neck=(-8, 0, 0)),
    ), steps=(None, home_step("l", 0, 0.12), None, home_step("l"))),
)

_POWER = (
    Move("hop", "power", (
        P(sh=(-30, 0, 20), el=(0, -70, 0), spine=(10, 0, 0)),
        P(sh=(0, 0, 60), el=(0, -20, 0), spine=(-4, 0, 0)),
        P(sh=(-30, 0, 20), el=(0, -70, 0), spine=(10, 0, 0)),
        P(sh=(0, 0, 60), el=(0, -20, 0), spine=(-4, 0, 0)),
    ), steps=(Step("both", H, 0, lift=0.09), None, Step("both", H, 0, lift=0.09), None), bounce=0.05, energetic=True),
    Move("spin", "power", (  # a full turn stepped around in three beats, then a pose
        P(sh=(0, 0, 60), el=(0, -30, 0), neck=(0, 20, 0)),
        P(sh=(0, 0, 35), el=(0, -80, 0)),
        P(sh=(0, 0, 60), el=(0, -30, 0), neck=(0, -20, 0)),
        P(sh=(-30, 0, 110), el=(0, 0, 20), neck=(-10, 0, 0)),
    ), steps=(home_step("l", turn=120), home_step("r", turn=120), home_step("l", turn=120), home_step("r")),
        bounce=0.02, energetic=True),
    Move("quarter_turn", "power", (
        P(sh=(0, 0, 30), spine=(0, 10, 0)),
        P(sh=(0, 0, 50), el=(0, -50, 0)),
        P(lsh=(0, 0, 130), rsh=(-60, -30, 30), el=(0, -10, 0), spine=(0, 0, 8), neck=(-10, 0, 0)),
        P(sh=(-20, 0, 15), el=(0, -60, 0)),
    ), steps=(home_step("l", turn=90), home_step("r"), None, None), bounce=0.03),
    Move("high_kick", "power", (
        P(lsh=(-70, -30, 20), rsh=(0, 0, 60), spine=(-8, 0, 0)),
        P(sh=(0, 0, 40), el=(0, -40, 0)),
        P(sh=(-20, 0, 60), el=(0, -60, 0), spine=(6, 0, 0)),
        P(sh=(0, 0, 20), el=(0, -40, 0)),
    ), steps=(home_step("r", 0, 0.42, up=0.42, lift=0.06), home_step("r"), None, None), bounce=0.015, energetic=True),
    Move("freeze", "power", (
        P(lsh=(0, 0, 135), rsh=(0, 0, 25), lel=(0, 0, 0), rel=(0, -60, 0), spine=(6, 0, -12), neck=(-10, 20, 0), root=(0, -0.07, 0)),
        P(lsh=(0, 0, 132), rsh=(0, 0, 22), lel=(0, 0, 0), rel=(0, -64, 0), spine=(8, 0, -12), neck=(-8, 20, 0), root=(0, -0.075, 0)),
        P(lsh=(0, 0, 135), rsh=(0, 0, 25), lel=(0, 0, 0), rel=(0, -60, 0), spine=(6, 0, -12), neck=(-10, 20, 0), root=(0, -0.07, 0)),
        P(sh=(-10, 0, 10), el=(0, -40, 0), spine=(2, 0, 0)),
    ), steps=(home_step("r", -0.16),), bounce=0.012),
    Move("jumping_jack", "power", (
        P(sh=(0, 0, 40)),
        P(sh=(0, 0, 140), el=(0, 0, 10), neck=(-8, 0, 0)),
        P(sh=(0, 0, 40)),
        P(sh=(0, 0, 140), el=(0, 0, 10), neck=(-8, 0, 0)),
    ), steps=(Step("both", 0.24, 0, lift=0.08), Step("both", H, 0, lift=0.08),
              Step("both", 0.24, 0, lift=0.08), Step("both", H, 0, lift=0.08)), bounce=0.03, energetic=True),
    Move("lunge", "power", (
        P(sh=(0, 0, 20)),
        P(lsh=(0, 0, 80), rsh=(-60, -60, 70), el=(0, -5, 0), spine=(8, 0, 10), root=(0, -0.12, 0), neck=(0, 30, 0)),
        P(lsh=(0, 0, 85), rsh=(-60, -62, 72), el=(0, -5, 0), spine=(9, 0, 10), root=(0, -0.13, 0), neck=(0, 30, 0)),
        P(sh=(0, 0, 15), el=(0, -35, 0)),
    ), steps=(home_step("r", -0.3, 0.1), None, home_step("r"), None), bounce=0.015),
)

MOVES: tuple[Move, ...] = _GROOVE + _FOOTWORK + _ARMS + _POWER
MOVE_NAMED: dict[str, Move] = {m.name: m for m in MOVES}

# Silence: a calm weight shift and breathing, so the dancer waits instead of freezing.
IDLE = Move("idle", "idle", (
    P(root=(0.015, 0, 0), spine=(2, 2, 1), neck=(2, 0, 0)),
    P(root=(-0.015, 0, 0), spine=(4, -2, -1), neck=(-1, 0, 0)),
), bounce=0.006)
