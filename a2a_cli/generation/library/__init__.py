"""`library`: dances made of real human motion, on the CPU (ChoreoMaster's motion graph, simply).

A motion library (`index`: real dance indexed at its kinematic beats) is cut into segments chosen
for the song's beats, bars and energy, re-timed to its beat grid and joined where pose and
velocity match (`compose`), with planted feet held through the joins by IK (`feet`). The package
ships a small library built from CMU's salsa captures (data/README.md); `generate.library` (the
`--library` flag) points at any folder of real dance (AIST++, AMASS, BVH) or index instead.
"""

from __future__ import annotations

import logging

import numpy as np

from a2a_cli import __version__
from a2a_cli.generation.base import check_duration
from a2a_cli.generation.library.index import MotionLibrary, load_library, shipped_library

__all__ = ["LibraryGenerator", "library_from_settings"]

_log = logging.getLogger(__name__)


class LibraryGenerator:
    """Dances from `library` (a MotionLibrary; None: the shipped one)."""

    name = "library"

    def __init__(self, library: MotionLibrary | None = None) -> None:
        self.library = library if library is not None else shipped_library()

    def generate(self, audio, duration_s: float, seed: int):
        """A dance of exactly round(duration_s * 30) frames for `audio` (AudioAnalysis), drawn with `seed`."""
        return self.dance(audio, duration_s, seed)[0]

    def dance(self, audio, duration_s: float, seed: int) -> tuple:
        """(the Motion `generate` returns, how it was made: {"library_frame": (T,) float library frame
        of each frame, NaN in join windows; "join_windows": [(first, last)] frames blended;
        "pinned_feet": [(side, first, last)] ankles held by IK})."""
        from a2a_cli.generation.choreo import seed_words
        from a2a_cli.generation.library.compose import plan_segments, render_plan, song_grid
        from a2a_cli.motion.motion import Motion

        n_frames = check_duration(duration_s)
        grid = song_grid(audio.beat_frames, float(audio.tempo_bpm), n_frames)
        rms = np.asarray(audio.rms, np.float64)
        at = np.clip(np.round(grid).astype(np.int64), 0, max(rms.size - 1, 0))
        energy = rms[at] if rms.size else np.zeros(grid.size)
        rng = np.random.default_rng(seed_words(seed, audio))
        plan = plan_segments(self.library, grid, energy, n_frames, rng)
        poses, trans, source, joins = render_plan(self.library, plan, n_frames)
        if plan.reused:
            _log.warning("the motion library (%.1f min) is too small for %.0f s without repeats: %d segments reuse "
                         "motion danced in the last minute", self.library.duration_s / 60, duration_s, plan.reused)
        clips = sorted({self.library.clip_names[self.library.beat_clip[s.first_beat]] for s in plan.segments})
        motion = Motion(poses.astype(np.float32), trans.astype(np.float32), meta={
            "generator": "library", "model": self.name, "seed": int(seed),
            "audio_sha256": str(getattr(audio, "sha256", "")), "version": __version__,
            "segments": len(plan.segments), "joins": len(joins), "reused_segments": plan.reused,
            "clips": clips, "credits": self.library.credits(),
        })
        return motion, {"library_frame": source, "join_windows": [j["window"] for j in joins],
                        "pinned_feet": [p for j in joins for p in j["pinned"]]}


def library_from_settings(settings) -> LibraryGenerator:
    """The generator over `generate.library` of `settings` (a2a_cli.config.Settings or None): a
    folder of real dance or an index .npz; "" (the default) is the shipped library."""
    path = settings.get("generate.library") if settings is not None else ""
    return LibraryGenerator(load_library(path) if path else None)
