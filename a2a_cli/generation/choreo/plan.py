"""Sequencing: which move dances which bar, in the dancer's style.

Each section of the song gets a leading move family (weighted by the style, never the previous
section's), so the dance changes character where the music does. Inside a section moves are drawn
mostly from that family, the least-used first, never the same move three times in a row nor two
turning moves in a row, energetic moves only when the music is loud; silent bars get the idle.
Moves without footwork of their own get one of the style's footings, so the legs always dance. Turning moves pick the mirror
that brings the dancer back toward the front, travelling moves the one that heads back toward the
middle of the floor once the dancer has left it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from a2a_cli.generation.choreo.moves import FAMILIES, IDLE, MOVE_NAMED, MOVES, Move, home_step
from a2a_cli.generation.choreo.styles import Style
from a2a_cli.generation.choreo.music import BEATS_PER_BAR, MusicStructure

__all__ = [
    "BUSY_FEET_BEAT_S", "ENERGETIC_MIN", "FACING_DEG", "FLOOR_RADIUS_M", "PRIMARY_SHARE", "Placement",
    "plan_dance",
]

PRIMARY_SHARE = 0.8  # fraction of a section's moves taken from its leading family
ENERGETIC_MIN = 0.45  # mean bar energy needed for hops, spins and high kicks
FLOOR_RADIUS_M = 0.8  # beyond this distance from the start, travelling moves head back
# Long beats (slow music, or fast music felt in half time) leave a foot resting for a long while
# where a footing rests; there every rest becomes a step in place.
BUSY_FEET_BEAT_S = 0.75
FACING_DEG = 20.0  # each move faces somewhere within this angle of the front (its first step turns there)


@dataclass(frozen=True)
class Placement:
    """`move` (already mirrored if `move.mirror`, with its footing) starts on beat `start` (may be
    < 0 for a pickup), in `section` of the song, whose leading move family is `family`; its first
    step turns the dancer by `facing` degrees (to the left), so that moves face different ways."""

    start: int
    move: Move
    section: int
    family: str
    facing: float = 0.0


def plan_dance(music: MusicStructure, rng: np.random.Generator, style: Style) -> list[Placement]:
    """The dance's moves beat by beat: which move starts on which beat, facing where, chosen for the
    music's sections and energy (`music`), the `style`, and the seeded generator `rng`."""
    n = music.n_beats
    start = music.downbeat - BEATS_PER_BAR if music.downbeat > 0 else 0
    placements: list[Placement] = []
    uses = {m.name: 0 for m in MOVES}
    family_of_section: dict[int, str] = {}
    heading = 0.0
    where = np.zeros(2)  # the feet's midpoint on the floor (x, z), as planned
    while start < n:
        span = np.arange(max(start, 0), min(start + BEATS_PER_BAR, n))
        section = int(music.section_of_beat[span[0]])
        if section not in family_of_section:
            family_of_section[section] = _pick_family(music, section, family_of_section.get(section - 1), style, rng)
        family = family_of_section[section]
        facing = 0.0
        if music.silent[span].mean() > 0.5:
            move = IDLE
        else:
            section_ends_soon = int(music.section_of_beat[min(start + BEATS_PER_BAR, n - 1)]) != section
            move = _pick_move(placements, uses, family, float(music.energy[span].mean()), section_ends_soon, style, rng)
            uses[move.name] += 1
            if all(s is None for s in move.steps):
                footing = style.footings[int(rng.integers(len(style.footings)))]
                if music.beat_period_s >= BUSY_FEET_BEAT_S:
                    footing = _busy(footing)
                move = replace(move, steps=tuple(footing[j % len(footing)] for j in range(move.n_beats)))
            if any(s is not None and s.foot != "both" for s in move.steps):
                facing = float(rng.uniform(-FACING_DEG, FACING_DEG)) - _nearest_front(heading)
            heading += facing
            move = _oriented(move, heading, where, rng)
            heading += move.turn
            where = where + _floor_travel(move, heading - move.turn)
        placements.append(Placement(start, move, section, family, facing))
        start += move.n_beats
    return placements


def _busy(footing: tuple) -> tuple:
    """The footing with every rest filled by a step in place of the foot that did not step last."""
    last = next((s.foot for s in reversed(footing) if s is not None and s.foot != "both"), "l")
    busy = []
    for step in footing:
        if step is None:
            step = home_step("r" if last == "l" else "l")
        if step.foot != "both":
            last = step.foot
        busy.append(step)
    return tuple(busy)


def _nearest_front(heading: float) -> float:
    """How far (degrees) `heading` is turned from facing the front, -180..180."""
    return (heading + 180.0) % 360.0 - 180.0


def _floor_travel(move: Move, heading_deg: float) -> np.ndarray:
    """The move's travel (x, z) on the floor when it starts facing `heading_deg`."""
    x, z = move.travel
    c, s = np.cos(np.deg2rad(heading_deg)), np.sin(np.deg2rad(heading_deg))
    return np.array([c * x + s * z, -s * x + c * z])


def _oriented(move: Move, heading: float, where: np.ndarray, rng: np.random.Generator) -> Move:
    """The move or its mirror (or its opposite's): turns come back toward the front, travel back
    toward the middle once the dancer is some way out."""
    mirror = move.mirrored()
    if move.turn:
        return mirror if abs(heading - move.turn) < abs(heading + move.turn) else move
    if any(move.travel) and np.linalg.norm(where) > FLOOR_RADIUS_M * rng.uniform(0.3, 1.0):
        options = [move, mirror]
        if move.opposite:
            options += [MOVE_NAMED[move.opposite], MOVE_NAMED[move.opposite].mirrored()]
        ahead = [np.linalg.norm(where + _floor_travel(m, heading)) for m in options]
        return options[int(np.argmin(ahead))]
    return mirror if rng.integers(2) else move


def _pick_family(music: MusicStructure, section: int, previous: str | None, style: Style,
                 rng: np.random.Generator) -> str:
    """The style's favourite families lead; loud sections lean to power and footwork, quiet ones to
    grooves and arms; never the last section's family."""
    energy = float(music.energy[music.section_of_beat == section].mean())
    appeal = {"groove": 1.5 - energy, "arms": 1.0, "footwork": 0.5 + energy,
              "power": 3.0 * energy if energy >= ENERGETIC_MIN else 0.0}
    options = [f for f in FAMILIES if f != previous and appeal[f] * style.families[f] > 0]
    weights = np.array([appeal[f] * style.families[f] for f in options])
    return options[int(rng.choice(len(options), p=weights / weights.sum()))]


def _pick_move(placements, uses, family, energy, section_ends_soon, style: Style, rng) -> Move:
    recent = [p.move.name for p in placements[-2:]]
    banned = recent[0] if len(recent) == 2 and recent[0] == recent[1] else None
    just_turned = bool(placements) and placements[-1].move.turn != 0
    from_family = rng.random() < PRIMARY_SHARE

    def allowed(m: Move, family_only: bool) -> bool:
        return (
            m.name != banned
            and not (just_turned and m.turn)
            and (not family_only or m.family == family)
            and (energy >= ENERGETIC_MIN or not m.energetic)
            and (not section_ends_soon or m.n_beats <= BEATS_PER_BAR)
        )

    candidates = [m for m in MOVES if allowed(m, from_family)] or [m for m in MOVES if allowed(m, False)]
    weights = np.array([(style.turns if m.turn else style.travel if any(m.travel) else 1.0) / (1.0 + uses[m.name]) ** 2
                        for m in candidates])
    return candidates[int(rng.choice(len(candidates), p=weights / weights.sum()))]
