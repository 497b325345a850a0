"""`choreo`: a weight-free, music-driven choreographer (the default generator).

It hears the song as beats, bars, sections and energy (`generation.music`), sequences moves from
its vocabulary (`moves`, `plan`) and performs them on the beat grid with pinned feet (`performer`).
"""

from __future__ import annotations

import numpy as np

from a2a_cli import __version__
from a2a_cli.generation.base import check_duration
from a2a_cli.generation.choreo.moves import MOVES
from a2a_cli.generation.choreo.plan import Placement, plan_dance
from a2a_cli.generation.music import MusicStructure, analyze_structure


class ChoreoGenerator:
    name = "choreo"

    def plan(self, audio, duration_s: float, seed: int) -> tuple[MusicStructure, list[Placement]]:
        """The music as the choreographer hears it and the moves it picks, bar by bar."""
        check_duration(duration_s)
        music = analyze_structure(audio, duration_s)
        return music, plan_dance(music, np.random.default_rng(_seed_words(seed, audio)))

    def generate(self, audio, duration_s: float, seed: int):
        from a2a_cli.generation.choreo.performer import perform

        n_frames = check_duration(duration_s)
        music, placements = self.plan(audio, duration_s, seed)
        styling = np.random.default_rng(_seed_words(seed, audio) + [1])  # the performer's own stream
        motion = perform(music, placements, n_frames, styling)
        motion.meta.update(
            generator="choreo", model=self.name, seed=int(seed), audio_sha256=str(getattr(audio, "sha256", "")),
            version=__version__,
        )
        return motion


def _seed_words(seed: int, audio) -> list[int]:
    """The random stream depends on the seed and on the song, so two songs never share a dance."""
    sha = str(getattr(audio, "sha256", "") or "0")
    return [int(seed) % 2**63, int(sha[:15], 16) if all(c in "0123456789abcdef" for c in sha[:15]) else 0]


__all__ = ["MOVES", "ChoreoGenerator"]
