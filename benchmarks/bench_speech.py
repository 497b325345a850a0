"""Speech analysis (issue 20): speed on 60 s of speech, and what it hears in a real text-to-speech voice.

Writes, in a temp dir, 60 s of `synth_speech` and 60 s of espeak-ng reading Dickens (public domain;
espeak-ng is installed by scripts/install_speech_tools.sh when missing, else that part is skipped),
then measures:
- speed: `analyze_speech(path)` in a fresh Python process (import, first call, warm call), and
  `read_task_file`; the F0 tracker (YIN) against librosa.pyin on the same 60 s (the baseline, warm);
- espeak-ng, natural reading: syllables and stresses found against the counts espeak-ng's own
  phonemes give (`espeak-ng -x`: vowels, primary stress marks), pauses against the punctuation;
- espeak-ng, clause by clause: each clause spoken on its own and joined with silences of known
  length, so the pauses' true times are known: their ends found within 50 ms?
- read_task's verdict on espeak-ng voices (several voices and rates) and on every music example.

Run: .venv/bin/python benchmarks/bench_speech.py
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
SECONDS = 60.0
TOLERANCE_S = 0.05
DICKENS = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
    "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, "
    "it was the season of Darkness, it was the spring of hope, it was the winter of despair. We had "
    "everything before us, we had nothing before us, we were all going direct to Heaven, we were all going "
    "direct the other way. In short, the period was so far like the present period, that some of its "
    "noisiest authorities insisted on its being received, for good or for evil, in the superlative degree "
    "of comparison only. Marley was dead, to begin with. There is no doubt whatever about that. The "
    "register of his burial was signed by the clergyman, the clerk, the undertaker, and the chief mourner. "
    "Scrooge signed it. And Scrooge's name was good upon Change, for anything he chose to put his hand to. "
    "Old Marley was as dead as a door-nail. Mind! I don't mean to say that I know, of my own knowledge, "
    "what there is particularly dead about a door-nail. I might have been inclined, myself, to regard a "
    "coffin-nail as the deadest piece of ironmongery in the trade. But the wisdom of our ancestors is in "
    "the simile; and my unhallowed hands shall not disturb it, or the Country's done for."
)
ESPEAK_VOICES = (("en", 175), ("en-us", 175), ("en+f3", 175), ("en-gb-scotland", 175), ("en", 130), ("en", 230))

FRESH = """
import json, sys, time
clocks = (time.perf_counter, time.process_time)  # wall, and CPU (what a shared, loaded machine leaves fair)
marks = [[c() for c in clocks]]
from a2a_cli.audio.speech import analyze_speech
from a2a_cli.audio.task_reading import read_task_file
marks.append([c() for c in clocks])
a = analyze_speech(sys.argv[1])
marks.append([c() for c in clocks])
analyze_speech(sys.argv[1])
marks.append([c() for c in clocks])
reading = read_task_file(sys.argv[1])
marks.append([c() for c in clocks])
out = {"task": reading.task, "syllables": int(a.syllable_times_s.size)}
for k, name in enumerate(("import", "first", "warm", "read_task_file")):
    out[name + "_s"] = round(marks[k + 1][0] - marks[k][0], 3)
    out[name + "_cpu_s"] = round(marks[k + 1][1] - marks[k][1], 3)
print(json.dumps(out))
"""


def espeak(text: str, path: Path, voice: str = "en", rate: int = 175) -> None:
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(path), text], check=True)


def have_espeak() -> bool:
    if shutil.which("espeak-ng"):
        return True
    print("espeak-ng missing: running scripts/install_speech_tools.sh", flush=True)
    subprocess.call(["sh", str(ROOT / "scripts" / "install_speech_tools.sh")])
    return shutil.which("espeak-ng") is not None


def fit_seconds(path: Path, seconds: float) -> None:
    """Cut (or pad with silence) a wav to `seconds`."""
    y, sr = sf.read(path, dtype="float32")
    n = int(seconds * sr)
    sf.write(path, np.pad(y[:n], (0, max(0, n - y.size))), sr)


def fresh_process(path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", FRESH, str(path)], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout)


def pitch_against_pyin(path: Path) -> dict:
    """F0 of the whole file: librosa.pyin (warm: compiled on a 1-s clip first; frames of 42 ms, the span
    of ours) against our YIN as the analysis runs it (at half the feature rate), CPU seconds each, and
    their agreement in cents."""
    import librosa

    from a2a_cli.audio.decoding import FEATURE_SR, read_file, resample
    from a2a_cli.audio.pitch import yin

    y = resample(*read_file(path))
    librosa.pyin(y[:FEATURE_SR], fmin=60, fmax=500, sr=FEATURE_SR, frame_length=640, hop_length=128)  # compile
    t0 = time.process_time()
    reference, _, _ = librosa.pyin(y, fmin=60, fmax=500, sr=FEATURE_SR, frame_length=640, hop_length=128)
    t1 = time.process_time()
    ours, _ = yin(resample(y, FEATURE_SR, FEATURE_SR // 2), FEATURE_SR // 2, 64)
    t2 = time.process_time()
    n = min(ours.size, reference.size)
    both = np.isfinite(ours[:n]) & np.isfinite(reference[:n])
    cents = 1200 * np.abs(np.log2(ours[:n][both] / reference[:n][both]))
    return {"pyin_cpu_s": round(t1 - t0, 3), "yin_cpu_s": round(t2 - t1, 3), "speedup": round((t1 - t0) / (t2 - t1), 1),
            "median_cents": round(float(np.median(cents)), 2), "share_over_50_cents": round(float(np.mean(cents > 50)), 4),
            "yin_voiced_of_pyin_voiced": round(float(both.sum() / max(np.isfinite(reference[:n]).sum(), 1)), 3)}


def phoneme_counts(text: str) -> tuple[int, int]:
    """(syllables, primary stresses) in espeak-ng's own phonemes of `text` (vowel groups, ' marks)."""
    phonemes = subprocess.run(["espeak-ng", "-q", "-x", text], capture_output=True, text=True, check=True).stdout
    return len(re.findall(r"[aeiouAEIOUV03@]+", phonemes)), phonemes.count("'")


def natural_reading(path: Path, tmp: Path) -> dict:
    """The analysis of espeak-ng's own reading against the counts its phonemes and punctuation give; as
    a control, the pauses found in the same text read without punctuation (espeak-ng then pauses nowhere)."""
    from a2a_cli.audio.speech import analyze_speech

    def interior_pauses(a) -> np.ndarray:
        return a.pauses_s[(a.pauses_s[:, 0] > 0) & (a.pauses_s[:, 1] < a.duration_s)]

    a = analyze_speech(path)
    syllables, stresses = phoneme_counts(DICKENS)
    punctuation = len(re.findall(r"[,.;:!?]", DICKENS))
    interior = interior_pauses(a)
    espeak(re.sub(r"[,.;:!?]", " ", DICKENS), tmp / "unpunctuated.wav")
    control = interior_pauses(analyze_speech(tmp / "unpunctuated.wav"))
    return {"seconds": a.duration_s, "interior_pauses_found_unpunctuated": int(len(control)), "syllables_found": int(a.syllable_times_s.size), "syllables_espeak": syllables,
            "stresses_found": int(a.stress_times_s.size), "primary_stresses_espeak": stresses,
            "interior_pauses_found": int(len(interior)), "punctuation_marks": punctuation,
            "pause_lengths_s": [round(float(e - s), 3) for s, e in interior],
            "speaking_rate_hz": round(a.speaking_rate_hz, 2), "pitch_range_st": round(a.pitch_range_st, 1),
            "animation": round(a.animation, 2)}


def clause_by_clause(tmp: Path) -> dict:
    """Each clause spoken alone, trimmed of its silence, joined with 0.25-0.6 s gaps: pauses of known time."""
    from a2a_cli.audio.speech import analyze_speech

    rng = np.random.default_rng(0)
    clauses = [c.strip() for c in re.split(r"[,.;:!?]", DICKENS) if c.strip()]
    pieces, truth, t, sr = [], [], 0.0, 22050
    for k, clause in enumerate(clauses):
        espeak(clause, tmp / "clause.wav")
        y, sr = sf.read(tmp / "clause.wav", dtype="float32")
        loud = np.flatnonzero(np.abs(y) > 10 ** (-50 / 20) * np.abs(y).max())
        y = y[loud[0] : loud[-1] + 1]
        gap = 0.3 if k == 0 else float(rng.uniform(0.25, 0.6))
        pieces += [np.zeros(int(round(gap * sr)), np.float32), y]
        truth.append((t, t + pieces[-2].size / sr))
        t += (pieces[-2].size + y.size) / sr
    pieces.append(np.zeros(int(0.3 * sr), np.float32))
    truth.append((t, t + pieces[-1].size / sr))
    y = np.concatenate(pieces)
    sf.write(tmp / "clauses.wav", y, sr)
    a = analyze_speech(tmp / "clauses.wav")
    truth_arr = np.array(truth)
    found = a.pauses_s
    errors = [float(np.min(np.abs(found[:, 0] - s)) if s > 0 else 0.0) for s, _ in truth_arr] + \
             [float(np.min(np.abs(found[:, 1] - e))) for _, e in truth_arr]
    starts_ok = sum(1 for s, _ in truth_arr if s == 0 or np.min(np.abs(found[:, 0] - s)) <= TOLERANCE_S)
    ends_ok = sum(1 for _, e in truth_arr if np.min(np.abs(found[:, 1] - e)) <= TOLERANCE_S)
    return {"seconds": round(y.size / sr, 1), "true_pauses": len(truth), "pauses_found": int(len(found)),
            "starts_within_50ms": starts_ok, "ends_within_50ms": ends_ok,
            "median_error_ms": round(1000 * float(np.median(errors)), 1), "max_error_ms": round(1000 * float(np.max(errors)), 1)}


def task_verdicts(tmp: Path, with_espeak: bool) -> dict:
    from a2a_cli.audio.task_reading import read_task, read_task_file
    from a2a_cli.examples import BEAT_SOUNDS, GENRES, VOICES, beat_sound_track, synth_genre_song, synth_song, synth_speech

    sr, seconds = 22050, 20.0
    rows = []
    for bpm in (60, 80, 100, 120, 128.6, 140, 160, 180):
        for seed in (0, 1):
            rows.append((f"synth_song {bpm} BPM seed {seed}", "dance", read_task(synth_song(bpm, seconds, sr, seed=seed), sr)))
    for sound in BEAT_SOUNDS:
        for bpm in (80, 120, 160):
            rows.append((f"beat_sound_track {sound} {bpm} BPM", "dance", read_task(beat_sound_track(sound, bpm, seconds, sr), sr)))
    for genre in GENRES:
        rows.append((f"synth_genre_song {genre}", "dance", read_task(synth_genre_song(genre, seconds, sr), sr)))
    for voice in VOICES:
        for seed in (0, 1):
            rows.append((f"synth_speech {voice} seed {seed}", "gesture", read_task(synth_speech(seconds, seed, voice=voice).samples, sr)))
    if with_espeak:
        for voice, rate in ESPEAK_VOICES:
            path = tmp / f"espeak-{voice}-{rate}.wav"
            espeak(DICKENS, path, voice, rate)
            rows.append((f"espeak-ng {voice} {rate} wpm", "gesture", read_task_file(path)))
    wrong = [name for name, truth, r in rows if r.task != truth]
    for name, truth, r in rows:
        print(f"  {'ok ' if r.task == truth else 'BAD'} {name:40s} -> {r.task:8s} {r.confidence:.3f}  "
              f"beat {r.evidence['beat_steadiness']:.2f} aperiodicity {r.evidence['aperiodicity']:.2f}")
    lowest = {}
    for name, truth, r in rows:
        if r.task == truth:
            lowest[truth] = min(lowest.get(truth, 1.0), r.confidence)
    return {"clips": len(rows), "wrong": wrong, "lowest_confidence": {k: round(v, 3) for k, v in lowest.items()}}


def main() -> int:
    from a2a_cli.examples import synth_speech

    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        synthetic = tmp / "synthetic.wav"
        speech = synth_speech(SECONDS, seed=3)
        sf.write(synthetic, speech.samples, speech.sr)
        results["synthetic_60s_fresh_process"] = fresh_process(synthetic)
        with_espeak = have_espeak()
        if with_espeak:
            dickens = tmp / "dickens.wav"
            espeak(DICKENS, dickens)
            results["espeak_natural"] = natural_reading(dickens, tmp)
            fit_seconds(dickens, SECONDS)
            results["espeak_60s_fresh_process"] = fresh_process(dickens)
            results["espeak_pitch_vs_pyin"] = pitch_against_pyin(dickens)
            results["espeak_clause_by_clause"] = clause_by_clause(tmp)
        else:
            print("espeak-ng unavailable: its part is skipped")
        results["synthetic_pitch_vs_pyin"] = pitch_against_pyin(synthetic)
        print("read_task verdicts:")
        results["task_reading"] = task_verdicts(tmp, with_espeak)
    print(json.dumps(results, indent=2, default=float))
    return 1 if results["task_reading"]["wrong"] else 0


if __name__ == "__main__":
    sys.exit(main())
