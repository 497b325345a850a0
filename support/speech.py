"""Voices built in code for the gesture tests and benchmarks: a SpeechAnalysis with chosen phrases,
pauses, syllables, stresses, loudness and pitch, so that a gesture generator can be checked against
the stress times it was given (and against other voices' stresses).
"""

from __future__ import annotations

import hashlib

import numpy as np

from a2a_cli.audio.speech import SpeechAnalysis
from a2a_cli.frame_rate import FPS

__all__ = ["synthetic_speech"]


def synthetic_speech(duration_s: float, *, seed: int = 0, syllable_rate_hz: float = 4.5, stress_every: float = 3.0,
                     phrase_s: tuple[float, float] = (1.5, 5.0), pause_s: tuple[float, float] = (0.25, 1.6),
                     animation: float = 0.5, lead_s: float = 0.4) -> SpeechAnalysis:
    """A voice of `duration_s` s: phrases of `phrase_s` (min, max) seconds separated by pauses of
    `pause_s` seconds (the first phrase after `lead_s` of silence), syllables at about
    `syllable_rate_hz`, about one stressed syllable in `stress_every` (never two in a row), loudness
    and pitch that rise on the stresses, and `animation` (0..1) as read from it. Same seed, same voice."""
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * FPS))
    voiced = np.zeros(n, bool)
    syllables: list[float] = []
    stresses: list[float] = []
    strength: list[float] = []
    pauses: list[tuple[float, float]] = []
    t = lead_s
    if lead_s > 0:
        pauses.append((0.0, lead_s))
    while t < duration_s - 0.5:
        end = min(t + rng.uniform(*phrase_s), duration_s)
        voiced[int(round(t * FPS)):int(round(end * FPS))] = True
        s = t + rng.uniform(0.0, 0.1)
        last_stressed = False
        while s < end - 0.1:
            syllables.append(s)
            if not last_stressed and rng.random() < 1.0 / stress_every:
                stresses.append(s)
                strength.append(float(rng.uniform(0.3, 1.0)))
                last_stressed = True
            else:
                last_stressed = False
            s += rng.uniform(0.6, 1.4) / syllable_rate_hz
        gap = rng.uniform(*pause_s)
        if end < duration_s:
            pauses.append((end, min(end + gap, duration_s)))
        t = end + gap
    frames = np.arange(n) / FPS
    loudness = np.where(voiced, -24.0 + 2.0 * rng.standard_normal(n), -70.0)
    f0 = np.where(voiced, 140.0, np.nan)
    for at, st in zip(stresses, strength):
        bump = np.exp(-0.5 * ((frames - at - 0.05) / 0.08) ** 2)
        loudness += 8.0 * st * bump * voiced
        f0 *= 1.0 + 0.25 * st * animation * bump
    digest = hashlib.sha256(f"synthetic speech {duration_s} {seed} {syllable_rate_hz} {stress_every}".encode()).hexdigest()
    voiced_s = max(voiced.sum() / FPS, 1e-9)

    def frozen(a: np.ndarray) -> np.ndarray:
        a.setflags(write=False)
        return a

    return SpeechAnalysis(
        sha256=digest, duration_s=float(duration_s), voiced=frozen(voiced), loudness_db=frozen(loudness.astype(np.float32)),
        f0_hz=frozen(f0.astype(np.float32)), syllable_times_s=frozen(np.asarray(syllables, np.float64)),
        stress_times_s=frozen(np.asarray(stresses, np.float64)), stress_strength=frozen(np.asarray(strength, np.float64)),
        pauses_s=frozen(np.asarray(pauses, np.float64).reshape(-1, 2)), speaking_rate_hz=len(syllables) / voiced_s,
        pitch_range_st=float(12 * np.log2(1 + 0.25 * animation)) if stresses else 0.0, animation=float(animation),
    )
