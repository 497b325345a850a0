"""Sequencing: which move dances which bar.

Each section of the song gets a leading style (a move family, never the previous section's), so
the dance changes character where the music does. Inside a section moves are drawn mostly from
that family, the least-used first, never the same move three times in a row, energetic moves only
when the music is loud; silent bars get the idle. Turning moves pick the mirror that brings the
dancer back toward the front.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from a2a_cli.generation.choreo.moves import FAMILIES, IDLE, MOVES, Move
from a2a_cli.generation.music import BEATS_PER_BAR, MusicStructure

PRIMARY_SHARE = 0.8  # fraction of a section's moves taken from its leading family
ENERGETIC_MIN = 0.45  # mean bar energy needed for hops, spins and high kicks


@dataclass(frozen=True)
class Placement:
    """`move` (already mirrored if `move.mirror`) starts on beat `start` (may be < 0 for a pickup)."""

    start: int
    move: Move
    section: int
    style: str


def plan_dance(music: MusicStructure, rng: np.random.Generator) -> list[Placement]:
    n = music.n_beats
    start = music.downbeat - BEATS_PER_BAR if music.downbeat > 0 else 0
    placements: list[Placement] = []
    uses = {m.name: 0 for m in MOVES}
    style_of_section: dict[int, str] = {}
    heading = 0.0
    while start < n:
        span = np.arange(max(start, 0), min(start + BEATS_PER_BAR, n))
        section = int(music.section_of_beat[span[0]])
        if section not in style_of_section:
            style_of_section[section] = _pick_style(music, section, style_of_section.get(section - 1), rng)
        style = style_of_section[section]
        if music.silent[span].mean() > 0.5:
            move = IDLE
        else:
            section_ends_soon = int(music.section_of_beat[min(start + BEATS_PER_BAR, n - 1)]) != section
            move = _pick_move(placements, uses, style, float(music.energy[span].mean()), section_ends_soon, rng)
            uses[move.name] += 1
            if move.turn:
                mirror = abs(heading - move.turn) < abs(heading + move.turn)
            else:
                mirror = bool(rng.integers(2))
            if mirror:
                move = move.mirrored()
            heading += move.turn
        placements.append(Placement(start, move, section, style))
        start += move.n_beats
    return placements


def _pick_style(music: MusicStructure, section: int, previous: str | None, rng: np.random.Generator) -> str:
    """Loud sections lean to power and footwork, quiet ones to grooves and arms; never the last style."""
    energy = float(music.energy[music.section_of_beat == section].mean())
    appeal = {"groove": 1.5 - energy, "arms": 1.0, "footwork": 0.5 + energy,
              "power": 3.0 * energy if energy >= ENERGETIC_MIN else 0.0}
    options = [f for f in FAMILIES if f != previous and appeal[f] > 0]
    weights = np.array([appeal[f] for f in options])
    return options[int(rng.choice(len(options), p=weights / weights.sum()))]


def _pick_move(placements, uses, style, energy, section_ends_soon, rng) -> Move:
    recent = [p.move.name for p in placements[-2:]]
    banned = recent[0] if len(recent) == 2 and recent[0] == recent[1] else None
    from_style = rng.random() < PRIMARY_SHARE

    def allowed(m: Move, family_only: bool) -> bool:
        return (
            m.name != banned
            and (not family_only or m.family == style)
            and (energy >= ENERGETIC_MIN or not m.energetic)
            and (not section_ends_soon or m.n_beats <= BEATS_PER_BAR)
        )

    candidates = [m for m in MOVES if allowed(m, from_style)] or [m for m in MOVES if allowed(m, False)]
    weights = np.array([1.0 / (1.0 + uses[m.name]) ** 2 for m in candidates])
    return candidates[int(rng.choice(len(candidates), p=weights / weights.sum()))]
