"""`a2a score motion.npy --audio song.wav` on a 10-second motion, in a fresh process, start-up included.

Reports the median wall time of runs with an empty feature cache (the first time a song is seen)
and with a warm cache, against `python -c "import numpy"` measured in the same run.
Target (issue 2): under 1.5 s wall.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the repo root: a2a_cli, and support/ (a plausible 10-s dance built in code, as the tests use)

TARGET_S = 1.5
SECONDS = 10
RUNS = 5


def wall(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return took


def main() -> int:
    import soundfile as sf

    from a2a_cli.examples import synth_song
    from a2a_cli.motion.formats import save_motion
    from support.dances import beat_frames_of, plausible_dance

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sf.write(tmp / "song.wav", synth_song(120, SECONDS, 22050), 22050)
        save_motion(plausible_dance(beat_frames_of(120, SECONDS), SECONDS * 30, seed=1), tmp / "motion.npy")
        score = [sys.executable, "-m", "a2a_cli", "score", str(tmp / "motion.npy"), "--audio", str(tmp / "song.wav"), "--json"]
        env = dict(os.environ)

        baseline = statistics.median(wall([sys.executable, "-c", "import numpy"], env) for _ in range(RUNS))
        cold = []
        for i in range(RUNS):
            env["A2A_GENERAL_CACHE_DIR"] = str(tmp / f"cache-{i}")  # empty: the song is analysed from scratch
            cold.append(wall(score, env))
        warm = [wall(score, env) for _ in range(RUNS)]  # the last cache now holds the song

    cold_s, warm_s = statistics.median(cold), statistics.median(warm)
    print(f"python -c 'import numpy' (baseline): {baseline:.3f} s median of {RUNS}")
    print(f"a2a score, empty cache:  {cold_s:.3f} s median of {RUNS} (min {min(cold):.3f}), {cold_s / baseline:.1f}x the baseline")
    print(f"a2a score, warm cache:   {warm_s:.3f} s median of {RUNS} (min {min(warm):.3f}), {warm_s / baseline:.1f}x the baseline")
    ok = max(cold_s, warm_s) < TARGET_S
    print(f"target < {TARGET_S} s wall: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
