"""`library`: dances made of real human motion, on the CPU (ChoreoMaster's motion graph, simply).

A motion library (`index`: real dance indexed at its kinematic beats) is cut into segments chosen
for the song's beats, bars and energy, re-timed to its beat grid and joined where pose and
velocity match (`compose`), with planted feet held through the joins by IK (`feet`). The package
ships a small library built from CMU's salsa captures (data/README.md); `generate.library` (the
`--library` flag) points at any folder of real dance (AIST++, AMASS, BVH) or index instead.

Style: each clip has the dance style of its capture (index.style_of). A dance uses the clips of one
style: the one asked for (`use_style`; a style the library lacks is an input error naming those it
has), or on "auto" the style among the library's that the music fits best (choreo.styles.style_fit:
the music's own style if the library has it, else the closest it has, and the dance says which).
A library without labelled styles dances all its clips.

Re-timing and joins move some of a plan's hits off the song's beats, more on some songs than on
others, so a dance is drawn again until its hits follow the beat (generation.on_beat). A draw's
search grows with the library and the song: a big library on a long song gets fewer draws
(`draws_for`), so that no dance searches more than 8 draws of a 3-minute song from a 10-minute
library (the shipped one, mirrored).
"""

from __future__ import annotations

import logging

import numpy as np

from a2a_cli import __version__
from a2a_cli.errors import InputError
from a2a_cli.generation import on_beat
from a2a_cli.generation.base import check_duration
from a2a_cli.generation.library.index import MotionLibrary, load_library, shipped_library
from a2a_cli.style_names import AUTO, STYLE_NAMES

__all__ = ["LibraryGenerator", "draws_for", "library_from_settings"]

_log = logging.getLogger(__name__)

_DRAW_WORK_S2 = 8 * 180.0 * 600.0  # song seconds x library seconds that all draws together may search


class LibraryGenerator:
    """Dances from `library` (a MotionLibrary; None: the shipped one) in `style` ("auto": read from
    the music; or a style the library has)."""

    name = "library"

    def __init__(self, library: MotionLibrary | None = None, style: str = AUTO) -> None:
        self.library = library if library is not None else shipped_library()
        self.use_style(style)

    def use_style(self, style: str) -> None:
        """Dance clips of `style` ("auto", or one of the library's styles); an InputError for a style
        the library has none of, naming those it has (choreo dances its own styles without data)."""
        if style != AUTO and style not in self.library.styles:
            has = ", ".join(self.library.styles) or "none labelled"
            instead = "use --model choreo" if style in STYLE_NAMES else f"give --library a folder with {style} dancing"
            raise InputError(f"the motion library has no {style} dancing (its styles: {has}): leave --style out "
                             f"to dance the closest it has, or {instead} for {style}")
        self.style = style

    def reading(self, audio, duration_s: float) -> dict:
        """The style danced and what it was read from: {"style" (None: a library without labelled
        styles), "style_chosen_by": "user", "music" (the music's own style) or "closest" (the
        library's style closest to the music's), and on auto "music_style" (the style the music fits
        best of all dance styles), "music" (choreo's MusicCharacter as a dict), "style_fit"}."""
        from a2a_cli.generation.choreo.music import analyze_structure, read_character
        from a2a_cli.generation.choreo.styles import style_fit

        if self.style != AUTO:
            return {"style": self.style, "style_chosen_by": "user"}
        character = read_character(audio, analyze_structure(audio, duration_s))
        fit = style_fit(character)
        wanted = max(fit, key=fit.get)
        style = max(self.library.styles, key=fit.get) if self.library.styles else None
        return {"style": style, "style_chosen_by": None if style is None else "music" if style == wanted else "closest",
                "music_style": wanted, "music": character.to_dict(), "style_fit": fit}

    def generate(self, audio, duration_s: float, seed: int):
        """A dance of exactly round(duration_s * 30) frames for `audio` (AudioAnalysis), drawn with `seed`."""
        return self.dance(audio, duration_s, seed)[0]

    def dance(self, audio, duration_s: float, seed: int) -> tuple:
        """(the Motion `generate` returns, how it was made: {"library_frame": (T,) float library frame
        of each frame, NaN in join windows; "join_windows": [(first, last)] frames blended;
        "pinned_feet": [(side, first, last)] ankles held by IK}). Its meta says which draw was kept
        (`draw`, from 0) and that draw's beat sync (`beat_sync`; None where the song has too few
        beats to judge, and only the first draw is made)."""
        from a2a_cli.generation.choreo import seed_words
        from a2a_cli.generation.library.compose import beat_loudness, plan_segments, render_plan, song_grid
        from a2a_cli.motion.motion import Motion

        n_frames = check_duration(duration_s)
        reading = self.reading(audio, duration_s)
        grid = song_grid(audio.beat_frames, float(audio.tempo_bpm), n_frames)
        energy = beat_loudness(audio.rms, grid)
        usable = self.library.beats_of_style(reading["style"])

        def draw_dance(draw: int) -> tuple:
            rng = np.random.default_rng(seed_words(seed, audio) + ([draw] if draw else []))
            plan = plan_segments(self.library, grid, energy, n_frames, rng, usable)
            poses, trans, source, joins = render_plan(self.library, plan, n_frames)
            return Motion(poses.astype(np.float32), trans.astype(np.float32)), (plan, source, joins)

        motion, (plan, source, joins), draw, sync = on_beat.first_on_beat(draw_dance, audio,
                                                                          draws_for(duration_s, self.library.duration_s))
        if plan.reused:
            _log.warning("the motion library (%.1f min) is too small for %.0f s without repeats: %d segments reuse "
                         "motion danced in the last minute", self.library.duration_s / 60, duration_s, plan.reused)
        clips = sorted({self.library.clip_names[self.library.beat_clip[s.first_beat]] for s in plan.segments})
        motion.meta.update({
            "generator": "library", "model": self.name, "seed": int(seed),
            "audio_sha256": str(getattr(audio, "sha256", "")), "version": __version__,
            "segments": len(plan.segments), "joins": len(joins), "reused_segments": plan.reused,
            "clips": clips, "credits": self.library.credits(), **reading,
            "draw": draw, "beat_sync": None if sync is None else round(sync, 4),
        })
        return motion, {"library_frame": source, "join_windows": [j["window"] for j in joins],
                        "pinned_feet": [p for j in joins for p in j["pinned"]]}


def draws_for(duration_s: float, library_s: float) -> int:
    """How many draws a dance of `duration_s` seconds from a library of `library_s` seconds may make:
    on_beat.DRAWS, fewer where the library and the song are so long that each draw's search is slow (1 at least)."""
    return on_beat.draws_within(duration_s, _DRAW_WORK_S2 / max(library_s, 1.0))


def library_from_settings(settings) -> LibraryGenerator:
    """The generator over `generate.library` of `settings` (a2a_cli.config.Settings or None): a
    folder of real dance or an index .npz; "" (the default) is the shipped library. Its style is
    "auto" (`a2a generate` gives it `generate.style`; a miner dances every prompt on auto)."""
    path = settings.get("generate.library") if settings is not None else ""
    return LibraryGenerator(load_library(path) if path else None)
