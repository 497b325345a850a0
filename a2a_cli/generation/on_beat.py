"""A dance drawn again when its hits miss the beat (both weight-free dancers: `library`, `choreo`).

A generator's plan puts the dancer's hits on the song's beats, but what the body does between them
(a library's re-timing and joins, choreo's drift between hits) moves some of them, more on some
songs than on others. So a dance is drawn up to a number of times, each draw its own random stream
of the seed, and the first whose hits follow the beat as people's do (the judge's chance-corrected
beat sync, `scoring.composite.beat_sync`, at least SYNC_ENOUGH) is kept, else the draw that follows
it best. Draw 0 is the dance the seed always gave, so a dance already on the beat does not change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from a2a_cli.frame_rate import FPS
from a2a_cli.scoring.constants import MIN_SYNC_BEATS, SYNC_HUMAN

__all__ = ["DRAWS", "SYNC_ENOUGH", "draws_within", "first_on_beat"]

DRAWS = 8
SYNC_ENOUGH = SYNC_HUMAN + 0.05  # the judge's full sync credit, with a margin


def draws_within(duration_s: float, work_s: float) -> int:
    """DRAWS, or fewer so that all draws of a dance of `duration_s` seconds together make no more than
    `work_s` seconds of dance (1 at least): a long song is drawn fewer times, each draw being slow."""
    return int(np.clip(work_s // max(float(duration_s), 1e-9), 1, DRAWS))


def first_on_beat(draw: Callable[[int], tuple[Any, Any]], audio,
                  draws: int | None = None) -> tuple[Any, Any, int, float | None]:
    """(motion, what came with it, its draw number, its beat sync) of the first of `draws` draws (None:
    DRAWS) whose sync reaches SYNC_ENOUGH, else the one with the best sync. `draw(d)` -> (Motion, anything) makes
    draw d (0 first); `audio`: the song's AudioAnalysis (its tracked beats, at 30 fps). A song with too
    few beats for the judge to weigh sync (MIN_SYNC_BEATS) gets draw 0, and a sync of None."""
    from a2a_cli.audio.rhythm import steady_beat_grid
    from a2a_cli.scoring.composite import beat_sync

    if np.size(audio.beat_frames) < MIN_SYNC_BEATS:
        motion, extra = draw(0)
        return motion, extra, 0, None
    beats = steady_beat_grid(audio.beat_frames, float(audio.tempo_bpm) or None)  # the judge's grid
    best = None
    for number in range(max(int(DRAWS if draws is None else draws), 1)):
        motion, extra = draw(number)
        sync = float(beat_sync(motion.joints, beats, float(FPS))["sync"])
        if best is None or sync > best[3]:
            best = (motion, extra, number, sync)
        if sync >= SYNC_ENOUGH:
            break
    return best
