"""Synthetic music with a known tempo and synthetic speech with known syllables: the bundled examples,
and test and benchmark material.

Everything is synthesised here (drums, bass, chords; a source-filter voice), so the examples are
royalty-free and every beat time is known exactly: beat k sits at `offset_s + k * 60 / bpm`; so is
every syllable, stress and pause of the speech (`synth_speech`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "BEAT_SOUNDS", "EXAMPLE_BPM", "EXAMPLE_SECONDS", "EXAMPLE_SPEECH_SECONDS", "GENRES", "VOICES", "Genre",
    "SyntheticSpeech", "Voice", "beat_sound_track", "beat_times", "click_track", "synth_genre_song", "synth_song",
    "synth_speech", "write_example", "write_speech_example",
]

EXAMPLE_BPM = 120.0
EXAMPLE_SECONDS = 20.0

# i - vi - IV - V in A minor/C major, as MIDI roots; chords are root + minor/major thirds + fifth.
_PROGRESSION = ((57, "m"), (53, "M"), (48, "M"), (55, "M"))


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12)


def _kick(sr: int) -> np.ndarray:
    t = np.arange(int(0.18 * sr)) / sr
    freq = 50 + 90 * np.exp(-t * 35)
    return (np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t * 18)).astype(np.float32)


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.15 * sr)) / sr
    noise = rng.standard_normal(t.size) * np.exp(-t * 30)
    tone = np.sin(2 * np.pi * 190 * t) * np.exp(-t * 25)
    return (0.5 * noise + 0.5 * tone).astype(np.float32)


def _hat(sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.04 * sr)) / sr
    noise = np.diff(rng.standard_normal(t.size + 1))  # first difference: a crude high-pass
    return (0.25 * noise * np.exp(-t * 120)).astype(np.float32)


def _tone(freq: float, seconds: float, sr: int, decay: float) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    wave = np.sin(2 * np.pi * freq * t) + 0.3 * np.sin(4 * np.pi * freq * t)
    return (wave * np.exp(-t * decay) * np.minimum(1.0, t * 200)).astype(np.float32)


def _add(buf: np.ndarray, at_s: float, sound: np.ndarray, gain: float, sr: int) -> None:
    i = int(round(at_s * sr))
    if i >= buf.size:
        return
    n = min(sound.size, buf.size - i)
    buf[i : i + n] += gain * sound[:n]


def synth_song(
    bpm: float = EXAMPLE_BPM,
    duration_s: float = EXAMPLE_SECONDS,
    sr: int = 22050,
    seed: int = 0,
    *,
    offset_s: float = 0.0,
    bars_per_section: int = 8,
) -> np.ndarray:
    """A 4/4 groove at `bpm`: kick on every beat, snare on 2 and 4, hats on eighths, bass and chords.

    The arrangement changes every `bars_per_section` bars (sparse, full, breakdown, full with
    louder drums), so the song has sections with different energy. Mono float32 in [-1, 1].
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * sr))
    buf = np.zeros(n, dtype=np.float32)
    beat_s = 60.0 / bpm
    kick, snare, hat = _kick(sr), _snare(sr, rng), _hat(sr, rng)
    n_beats = int(np.ceil((duration_s - offset_s) / beat_s)) + 1
    for k in range(max(n_beats, 0)):
        t = offset_s + k * beat_s
        if t >= duration_s:
            break
        bar, beat_in_bar = divmod(k, 4)
        section = (bar // bars_per_section) % 4
        drums = (0.5, 1.0, 0.35, 1.2)[section]
        root, quality = _PROGRESSION[bar % len(_PROGRESSION)]
        _add(buf, t, kick, 0.9 * drums * (1.2 if beat_in_bar == 0 else 1.0), sr)
        if beat_in_bar in (1, 3) and section != 2:
            _add(buf, t, snare, 0.6 * drums, sr)
        for half in (0.0, 0.5):
            _add(buf, t + half * beat_s, hat, 0.5 * drums, sr)
        _add(buf, t, _tone(_midi_hz(root - 12), beat_s * 0.9, sr, 6.0), 0.35, sr)
        if beat_in_bar == 0:
            third = 3 if quality == "m" else 4
            for interval in (0, third, 7):
                _add(buf, t, _tone(_midi_hz(root + interval), beat_s * 4, sr, 1.2), 0.12, sr)
    peak = float(np.max(np.abs(buf))) if n else 0.0
    return buf / peak * 0.9 if peak > 0 else buf


def click_track(bpm: float, duration_s: float, sr: int = 22050, *, offset_s: float = 0.0) -> np.ndarray:
    """A metronome: a 20 ms 1 kHz click on every beat (`beat_times`), equal loudness throughout.

    The music to judge a dance whose song is not at hand (AIST++'s music is not redistributable): it
    carries the tempo and beat phase and nothing else, so the energy term has nothing to follow.
    Mono float32 in [-1, 1].
    """
    n = int(round(duration_s * sr))
    buf = np.zeros(n, dtype=np.float32)
    t = np.arange(int(0.02 * sr)) / sr
    click = (0.9 * np.sin(2 * np.pi * 1000.0 * t) * np.exp(-t * 200.0)).astype(np.float32)
    for beat in beat_times(bpm, duration_s, offset_s):
        _add(buf, float(beat), click, 1.0, sr)
    return buf


# The sounds a beat can have, from bare to full (`beat_sound_track`): the judge must hear one beat in all.
BEAT_SOUNDS = ("click", "kick", "drums", "band")


def _sweep_kick(sr: int) -> np.ndarray:
    """A 100-ms sine sweeping 120 to 60 Hz at full level (a bare electronic kick drum)."""
    t = np.arange(int(0.1 * sr)) / sr
    freq = 120.0 - 600.0 * t
    return np.sin(2 * np.pi * np.cumsum(freq) / sr).astype(np.float32)


def beat_sound_track(sound: str, bpm: float, duration_s: float, sr: int = 22050, *, offset_s: float = 0.0,
                     seed: int = 0) -> np.ndarray:
    """Music whose beats are `beat_times(bpm, duration_s, offset_s)`, made of one of `BEAT_SOUNDS`:

    - "click": `click_track`;
    - "kick": `_sweep_kick` on every beat over a quiet 220-Hz drone (what a real song's beat sounds
      like, with no click's sharp attack);
    - "drums": a syncopated pattern: kick on 1, the "and" of 2 and 3, snare on 2 and 4, sixteenth
      hats accented on the eighths, nothing on the off-beat left silent;
    - "band": those drums with a bass line on the beats and their "and"s, chords every bar and an
      eighth-note melody over them.

    Mono float32 in [-1, 1]; `seed` draws the noise of the snare and hats and the melody.
    """
    if sound == "click":
        return click_track(bpm, duration_s, sr, offset_s=offset_s)
    if sound not in BEAT_SOUNDS:
        raise ValueError(f"unknown beat sound {sound!r}; one of {', '.join(BEAT_SOUNDS)}")
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * sr))
    t_all = np.arange(n) / sr
    buf = np.zeros(n, dtype=np.float32)
    beat_s = 60.0 / bpm
    if sound == "kick":
        buf += (0.08 * np.sin(2 * np.pi * 220.0 * t_all)).astype(np.float32)
        for t in beat_times(bpm, duration_s, offset_s):
            _add(buf, float(t), _sweep_kick(sr), 0.9, sr)
        return buf / float(np.max(np.abs(buf))) * 0.9
    kick, snare, hat = _kick(sr), _snare(sr, rng), _hat(sr, rng)
    kicks, snares = "x.....x...x.....", "....x.......x..."
    scale = (57, 60, 62, 64, 67, 69, 72)  # A minor pentatonic and its octave
    first_bar = -int(np.ceil(offset_s / (4 * beat_s)))
    for bar in range(first_bar, int(np.ceil((duration_s - offset_s) / (4 * beat_s))) + 1):
        start = offset_s + bar * 4 * beat_s
        root, quality = _PROGRESSION[bar % len(_PROGRESSION)]
        for step in range(16):
            t = start + step * beat_s / 4
            if kicks[step] == "x":
                _add_at(buf, t, kick, 0.9, sr)
            if snares[step] == "x":
                _add_at(buf, t, snare, 0.6, sr)
            _add_at(buf, t, hat, 0.5 if step % 2 == 0 else 0.25, sr)
            if sound == "band" and step % 2 == 0:
                if step % 4 == 0 or rng.random() < 0.5:
                    _add_at(buf, t, _tone(_midi_hz(root - 12), beat_s * 0.45, sr, 6.0), 0.35, sr)
                _add_at(buf, t, _tone(_midi_hz(float(rng.choice(scale)) + 12), beat_s * 0.45, sr, 4.0), 0.15, sr)
        if sound == "band":
            third = 3 if quality == "m" else 4
            for interval in (0, third, 7):
                _add_at(buf, start, _tone(_midi_hz(root + interval), beat_s * 4, sr, 1.2), 0.12, sr)
    peak = float(np.max(np.abs(buf))) if n else 0.0
    return buf / peak * 0.9 if peak > 0 else buf


def _add_at(buf: np.ndarray, at_s: float, sound: np.ndarray, gain: float, sr: int) -> None:
    """`_add` for a sound that may start before the buffer (its tail still sounds)."""
    if at_s >= 0:
        _add(buf, at_s, sound, gain, sr)
        return
    skip = int(round(-at_s * sr))
    if skip < sound.size:
        _add(buf, 0.0, sound[skip:], gain, sr)


def beat_times(bpm: float, duration_s: float, offset_s: float = 0.0) -> np.ndarray:
    """The exact beat times (s) of `synth_song` with the same arguments."""
    beat_s = 60.0 / bpm
    return np.arange(offset_s, duration_s - 1e-9, beat_s)


def write_example(path: str | Path, sr: int = 22050) -> Path:
    """Write the bundled example song (wav, flac or ogg by extension), atomically."""
    import soundfile as sf

    from a2a_cli.fileio import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        sf.write(tmp, synth_song(sr=sr), sr, format=(path.suffix.lstrip(".") or "wav").upper())
    return path


# --- songs of different character, for benchmarks and tests of how the dance reads the music ---

@dataclass(frozen=True)
class Genre:
    """A song's texture: 16-step drum patterns per bar ("x" hit, "." rest), harmony and feel.

    `swing` delays every second eighth note by that fraction of a beat (0.17 makes 2:1 triplet swing);
    `stabs` is a 16-step pattern of short bright synth notes (staccato electronic music); `pads`
    gives sustained chords (soft music) instead of plucked ones; `level` scales the drums.
    """

    bpm: float
    kick: str
    snare: str
    hat: str
    major: bool
    swing: float = 0.0
    stabs: str = ""
    pads: bool = False
    level: float = 1.0


GENRES: dict[str, Genre] = {
    "hiphop": Genre(88, "x.....x...x.....", "....x.......x...", "x.x.x.x.x.x.x.x.", major=False, swing=0.12),
    "house": Genre(124, "x...x...x...x...", "....x.......x...", "x.x.x.x.x.x.x.x.", major=True),
    "ambient": Genre(70, "x...x...x...x...", "................", "................", major=True, pads=True, level=0.3),
    "electro": Genre(110, "x...x...x...x...", "....x.......x...", "xxxxxxxxxxxxxxxx", major=False,
                     stabs="x..x..x...x.x..."),
    "ballad": Genre(76, "x.......x.......", "....x.......x...", "x...x...x...x...", major=False, pads=True, level=0.5),
}
_MAJOR_PROGRESSION = ((60, "M"), (55, "M"), (57, "m"), (53, "M"))  # I - V - vi - IV in C major


def _stab(freq: float, sr: int) -> np.ndarray:
    """A short, bright synth note: a few odd harmonics, cut after 60 ms."""
    t = np.arange(int(0.06 * sr)) / sr
    wave = sum(np.sin(2 * np.pi * freq * h * t) / h for h in (1, 3, 5, 7))
    return (wave * np.exp(-t * 40) * np.minimum(1.0, t * 400)).astype(np.float32)


def synth_genre_song(genre: str, duration_s: float = 20.0, sr: int = 22050, seed: int = 0, *,
                     bpm: float | None = None) -> np.ndarray:
    """A song with the texture of `genre` (a key of GENRES) at its own tempo or `bpm`.

    Like `synth_song`, the arrangement changes every 8 bars (sparse, full, breakdown, full), so the
    song has sections. Mono float32 in [-1, 1].
    """
    g = GENRES[genre]
    rng = np.random.default_rng(seed)
    bpm = float(bpm or g.bpm)
    buf = np.zeros(int(round(duration_s * sr)), dtype=np.float32)
    beat_s = 60.0 / bpm
    kick, snare, hat = _kick(sr), _snare(sr, rng), _hat(sr, rng)
    progression = _MAJOR_PROGRESSION if g.major else _PROGRESSION
    for bar in range(int(np.ceil(duration_s / (4 * beat_s)))):
        start = bar * 4 * beat_s
        section = (bar // 8) % 4
        drums = g.level * (0.5, 1.0, 0.35, 1.2)[section]
        root, quality = progression[bar % len(progression)]
        for step in range(16):
            t = start + step * beat_s / 4 + (g.swing * beat_s if step % 4 == 2 else 0.0)
            accent = 1.2 if step == 0 else 1.0
            for pattern, sound, gain in ((g.kick, kick, 0.9), (g.snare, snare, 0.6), (g.hat, hat, 0.5)):
                if pattern[step] == "x" and (pattern is not g.snare or section != 2):
                    _add(buf, t, sound, gain * drums * accent, sr)
            if g.stabs and g.stabs[step] == "x":
                _add(buf, t, _stab(_midi_hz(root + 12 + (7 if step % 3 else 0)), sr), 0.3, sr)
            if step % 4 == 0 and not g.pads:
                _add(buf, t, _tone(_midi_hz(root - 12), beat_s * 0.9, sr, 6.0), 0.35, sr)
        third = 3 if quality == "m" else 4
        for interval in (0, third, 7):
            chord = _tone(_midi_hz(root + interval), beat_s * 4, sr, 0.3 if g.pads else 1.2)
            _add(buf, start, chord, 0.2 if g.pads else 0.12, sr)
    peak = float(np.max(np.abs(buf))) if buf.size else 0.0
    return buf / peak * 0.9 if peak > 0 else buf


# --- synthetic speech: a source-filter voice with known syllables, stresses and pauses ---

EXAMPLE_SPEECH_SECONDS = 20.0


@dataclass(frozen=True)
class Voice:
    """A synthetic speaker: `f0_hz` its mean pitch, `rate_hz` its syllables per second of speech."""

    f0_hz: float
    rate_hz: float


VOICES: dict[str, Voice] = {
    "low": Voice(f0_hz=105.0, rate_hz=4.0),
    "high": Voice(f0_hz=210.0, rate_hz=4.5),
    "slow": Voice(f0_hz=130.0, rate_hz=3.0),
    "fast": Voice(f0_hz=170.0, rate_hz=6.0),
}

# (F1, F2, F3) Hz of five vowels (adult averages: /a/, /e/, /i/, /o/, /u/), scaled up for a higher voice.
_VOWEL_FORMANTS = ((730.0, 1090.0, 2440.0), (530.0, 1840.0, 2480.0), (270.0, 2290.0, 3010.0),
                   (570.0, 840.0, 2410.0), (300.0, 870.0, 2240.0))
_FORMANT_BANDWIDTHS = (90.0, 110.0, 170.0)
_ACCENT_SEMITONES = 4.0  # a stressed syllable's pitch rise
_ACCENT_GAIN = 1.8  # and loudness (+5 dB)
_ACCENT_LENGTH = 1.4  # and length
_DECLINATION_SEMITONES = 3.0  # the pitch falls this much over a phrase


@dataclass(frozen=True, eq=False)
class SyntheticSpeech:
    """`synth_speech`'s voice and its truth.

    samples: (n,) float32 mono in [-1, 1] at `sr` Hz. syllable_times_s: (k,) each syllable's vowel
    onset (s). stress_times_s: (m,) the onsets of the stressed syllables (a subset). pause_spans_s:
    (p, 2) [start, end) of each silence between phrases, leading and trailing silence included.
    """

    samples: np.ndarray
    sr: int
    syllable_times_s: np.ndarray
    stress_times_s: np.ndarray
    pause_spans_s: np.ndarray


def _resonate(x: np.ndarray, formants: tuple[float, ...], sr: int) -> np.ndarray:
    """`x` through a cascade of two-pole resonators at `formants` (Hz), unit gain at 0 Hz each (Klatt)."""
    from scipy.signal import sosfilt

    sos = []
    for freq, bw in zip(formants, _FORMANT_BANDWIDTHS):
        r = np.exp(-np.pi * bw / sr)
        a1, a2 = -2 * r * np.cos(2 * np.pi * freq / sr), r * r
        sos.append([1 + a1 + a2, 0.0, 0.0, 1.0, a1, a2])
    return sosfilt(np.array(sos), x)


def synth_speech(seconds: float = EXAMPLE_SPEECH_SECONDS, seed: int = 0, *, voice: str = "low",
                 rate_hz: float | None = None, accent: float = 1.0, sr: int = 22050) -> SyntheticSpeech:
    """A voice saying nonsense syllables in phrases, with every syllable, stress and pause time known.

    `seconds` long (s); `seed` draws the phrasing, vowels and stresses; `voice` is a key of VOICES;
    `rate_hz` (syllables per second) overrides the voice's own rate; `accent` scales the stresses'
    pitch rise and loudness (0.5 a calm voice, 2 an animated one). Source-filter synthesis: a
    sawtooth glottal source following an F0 contour (declining over each phrase, rising on stressed
    syllables) through three formant resonators per vowel; each syllable opens with a consonant (a
    fricative hiss, after a stop's silent closure of 30-50 ms in 40% of the syllables inside a phrase);
    stressed syllables are louder and longer. Phrases of 3-10 syllables are
    separated by pauses of 0.3-0.8 s, with silence before the first and after the last.
    """
    if voice not in VOICES:
        raise ValueError(f"unknown voice {voice!r}; one of {', '.join(VOICES)}")
    rng = np.random.default_rng(seed)
    speaker = VOICES[voice]
    rate = float(rate_hz or speaker.rate_hz)
    formant_scale = (speaker.f0_hz / 105.0) ** 0.25  # a higher voice: a shorter vocal tract
    n = int(round(seconds * sr))
    buf = np.zeros(n, dtype=np.float64)
    syllables, stresses, pauses = [], [], []
    phase = 0.0  # the glottal source's phase (cycles), carried across syllables
    t = float(rng.uniform(0.3, 0.6))
    pause_start = 0.0
    tail_s = 0.3
    while True:
        n_syllables = int(rng.integers(3, 11))
        accented = set(rng.choice(n_syllables, size=max(1, n_syllables // 3), replace=False).tolist())
        plan = []  # (closure_s, consonant_s, vowel_s, stressed) of each syllable
        for k in range(n_syllables):
            period = rng.uniform(0.75, 1.25) / rate * (_ACCENT_LENGTH if k in accented else 1.0)
            # inside a phrase, a stop consonant's closure: a short silence before its burst
            closure = min(rng.uniform(0.03, 0.05), 0.2 * period) if k > 0 and rng.random() < 0.4 else 0.0
            consonant = min(0.06, 0.3 * period)
            plan.append((closure, consonant, period - consonant - closure, k in accented))
        phrase_s = sum(sum(syllable[:3]) for syllable in plan)
        if t + phrase_s > seconds - tail_s:
            break
        pauses.append((pause_start, t))
        phrase_start = t
        for closure, consonant, vowel, stressed in plan:
            t += closure
            hiss = np.diff(np.diff(rng.standard_normal(int(consonant * sr) + 2)))  # a crude high-pass
            ramp = np.arange(hiss.size) / sr
            hiss *= 0.04 * np.minimum(1.0, np.minimum(ramp, consonant - ramp) / 0.01)  # about 20 dB under a vowel
            _add(buf, t, hiss, 1.0, sr)
            t += consonant
            syllables.append(t)
            if stressed:
                stresses.append(t)
            m = int(vowel * sr)
            local = np.arange(m) / sr
            where = (t - phrase_start + local) / phrase_s  # 0..1 through the phrase
            semitones = -_DECLINATION_SEMITONES * where + 0.3 * rng.standard_normal()
            if stressed:
                semitones = semitones + accent * _ACCENT_SEMITONES * np.sin(np.pi * np.minimum(local / (0.6 * vowel), 1.0))
            f0 = speaker.f0_hz * 2.0 ** (semitones / 12)
            cycles = phase + np.cumsum(f0) / sr
            phase = float(cycles[-1]) % 1.0
            source = 1.0 - 2.0 * (cycles % 1.0)  # a sawtooth: harmonics falling 6 dB per octave
            formants = tuple(f * formant_scale for f in _VOWEL_FORMANTS[int(rng.integers(len(_VOWEL_FORMANTS)))])
            envelope = np.minimum(1.0, np.minimum(local / 0.015, (vowel - local) / 0.03))
            gain = _ACCENT_GAIN**accent if stressed else 1.0
            vowel_wave = _resonate(source, formants, sr)
            vowel_wave /= np.sqrt(np.mean(vowel_wave**2)) + 1e-12  # unit RMS, whatever the formants' gain
            _add(buf, t, (vowel_wave * envelope * gain).astype(np.float32), 1.0, sr)
            t += vowel
        pause_start = t
        t += float(rng.uniform(0.3, 0.8))
    pauses.append((pause_start, seconds))
    buf += 3e-4 * rng.standard_normal(n)  # a room's noise floor, 70 dB under a vowel
    peak = float(np.max(np.abs(buf))) if n else 0.0
    samples = (buf / peak * 0.9 if peak > 0 else buf).astype(np.float32)
    return SyntheticSpeech(samples=samples, sr=sr, syllable_times_s=np.array(syllables),
                           stress_times_s=np.array(stresses), pause_spans_s=np.array(pauses).reshape(-1, 2))


def write_speech_example(path: str | Path, sr: int = 22050) -> Path:
    """Write the bundled example speech (`synth_speech`'s default voice; wav, flac or ogg by extension), atomically."""
    import soundfile as sf

    from a2a_cli.fileio import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        sf.write(tmp, synth_speech(sr=sr).samples, sr, format=(path.suffix.lstrip(".") or "wav").upper())
    return path
