"""`choreo`: a weight-free, music-driven choreographer that needs no data (the fallback of the default, `library`).

It hears the song as beats, bars, sections and energy (`choreo.music`), sequences moves from
its vocabulary (`moves`, `plan`) and performs them on the beat grid with pinned feet (`performer`).
"""

from __future__ import annotations

import numpy as np

from a2a_cli import __version__
from a2a_cli.generation.base import check_duration
from a2a_cli.generation.choreo.moves import MOVES
from a2a_cli.generation.choreo.plan import Placement, plan_dance
from a2a_cli.generation.choreo.styles import AUTO, STYLES, choose_style, style_named
from a2a_cli.generation.choreo.music import MusicStructure, analyze_structure, read_character


# All draws of one dance together make at most this many seconds of dance (a 3-min song: 2 draws,
# about 1.7 s of CPU; `choreo` must dance one in under 2 s).
DRAW_WORK_S = 360.0


class ChoreoGenerator:
    """The procedural dancer. `style` is "auto" (read from the music) or a name from `STYLES`."""

    name = "choreo"

    def __init__(self, style: str = AUTO, draws: int | None = None) -> None:
        """`draws`: at most this many draws of a dance (generation.on_beat); None: on_beat's DRAWS,
        fewer for songs so long that 6 minutes of dance would be drawn."""
        self.draws = draws
        self.use_style(style)

    def use_style(self, style: str) -> None:
        """Dance in `style` ("auto" or a name from STYLES); an InputError names the choices."""
        style_named(style)
        self.style = style

    def plan(self, audio, duration_s: float, seed: int, draw: int = 0) -> tuple[MusicStructure, list[Placement], dict]:
        """The music as the choreographer hears it, the moves it picks bar by bar (drawn with `seed`,
        draw `draw`: generation.on_beat), and the style it dances them in with what that was read
        from (`style`, `style_summary`, `style_chosen_by`: "music" or "user", `music`: the
        MusicCharacter, `style_fit`: how well each style fits it)."""
        check_duration(duration_s)
        music = analyze_structure(audio, duration_s)
        character = read_character(audio, music)
        style, fit = choose_style(character)
        if self.style != AUTO:
            style = STYLES[self.style]
        reading = {"style": style.name, "style_summary": style.summary,
                   "style_chosen_by": "music" if self.style == AUTO else "user",
                   "music": character.to_dict(), "style_fit": fit}
        return music, plan_dance(music, np.random.default_rng(_stream(seed, audio, draw, 0)), style), reading

    def generate(self, audio, duration_s: float, seed: int):
        """A dance of exactly round(duration_s * 30) frames for `audio` (AudioAnalysis), drawn with
        `seed`: drawn again while its hits miss the beat (generation.on_beat; the meta's `draw` and
        `beat_sync` say which draw was kept and how well it follows the beat)."""
        from a2a_cli.generation.choreo.performer import perform
        from a2a_cli.generation.on_beat import draws_within, first_on_beat

        n_frames = check_duration(duration_s)

        def draw_dance(draw: int) -> tuple:
            music, placements, reading = self.plan(audio, duration_s, seed, draw)
            styling = np.random.default_rng(_stream(seed, audio, draw, 1))  # the performer's own stream
            return perform(music, placements, n_frames, styling, STYLES[reading["style"]]), reading

        draws = draws_within(duration_s, DRAW_WORK_S) if self.draws is None else self.draws
        motion, reading, draw, sync = first_on_beat(draw_dance, audio, draws)
        motion.meta.update(
            generator="choreo", model=self.name, seed=int(seed), audio_sha256=str(getattr(audio, "sha256", "")),
            version=__version__, **reading, draw=draw, beat_sync=None if sync is None else round(sync, 4),
        )
        return motion


def seed_words(seed: int, audio) -> list[int]:
    """The random stream depends on the seed and on the song, so two songs never share a dance."""
    sha = str(getattr(audio, "sha256", "") or "0")
    return [int(seed) % 2**63, int(sha[:15], 16) if all(c in "0123456789abcdef" for c in sha[:15]) else 0]


def _stream(seed: int, audio, draw: int, part: int) -> list[int]:
    """The random stream of `part` (0: the plan, 1: the performer) of draw `draw`; draw 0's are the
    streams a seed always gave."""
    return seed_words(seed, audio) + ([part] if part else []) if draw == 0 else seed_words(seed, audio) + [2 + part, draw]


__all__ = ["DRAW_WORK_S", "MOVES", "STYLES", "ChoreoGenerator", "seed_words"]
