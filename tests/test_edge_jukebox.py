"""EDGE's Jukebox conditioning: the windows jukemirlib hears, and the 4800-feature model end to end.

jukemirlib runs OpenAI Jukebox 5B (10 GB of weights, a GPU) and is not on PyPI, so here it is
stood in for by a module with its API as its source defines it (`extract(audio, layers=[...],
downsample_target_rate=...)` -> {layer: (frames, 4800)}): what is tested is a2a's side, the cut,
rate and loudness of each window's audio, the shapes, and the model conditioned on the result.
"""

from __future__ import annotations

import importlib.machinery
import sys
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from a2a_cli.audio import analyze  # noqa: E402
from a2a_cli.errors import InputError  # noqa: E402
from a2a_cli.generation.edge import DanceDecoder, Normalizer, save_checkpoint  # noqa: E402
from a2a_cli.generation.edge.jukebox import JUKEBOX_SR, jukebox_windows  # noqa: E402
from a2a_cli.generation.edge.pipeline import EdgeGenerator  # noqa: E402
from a2a_cli.generation.edge.windows import window_count  # noqa: E402

SR = 22050
CLICK_S = 6.0


class Jukemirlib(types.ModuleType):
    """jukemirlib's extract: 5-s audio at 44.1 kHz in; here 151 frames out (the library's fft
    resampling gives 150 or so), each frame carrying the loudest sample's time in the slice."""

    def __init__(self, frames: int = 151, width: int = 4800):
        super().__init__("jukemirlib")
        self.__spec__ = importlib.machinery.ModuleSpec("jukemirlib", None)
        self.calls: list[dict] = []
        self.frames, self.width = frames, width

    def extract(self, audio, layers=None, downsample_target_rate=None, **_):
        self.calls.append({"audio": np.array(audio), "layers": layers, "rate": downsample_target_rate})
        loudest_s = float(np.argmax(np.abs(audio))) / JUKEBOX_SR
        return {layers[0]: np.full((self.frames, self.width), loudest_s, dtype=np.float32)}


@pytest.fixture
def jukemirlib(monkeypatch):
    module = Jukemirlib()
    monkeypatch.setitem(sys.modules, "jukemirlib", module)
    return module


def clicked_song(seconds: float) -> np.ndarray:
    """Quiet noise with one loud click at CLICK_S."""
    samples = np.random.default_rng(0).normal(0, 0.01, int(seconds * SR)).astype(np.float32)
    samples[int(CLICK_S * SR)] = 0.8
    return samples


def test_each_window_hears_its_own_five_seconds_at_jukeboxs_rate_and_loudness(jukemirlib):
    audio = analyze(clicked_song(12.0), SR)
    samples, sr = audio.source.read()
    assert sr == SR and samples.size == 12 * SR
    cond = jukebox_windows(samples, sr, 360)
    n_windows = window_count(360)
    assert n_windows == 4 and cond.shape == (4, 150, 4800) and cond.dtype == np.float32
    assert len(jukemirlib.calls) == 4
    for i, call in enumerate(jukemirlib.calls):
        assert call["layers"] == [66] and call["rate"] == 30
        assert call["audio"].shape == (5 * JUKEBOX_SR,)
        assert float(np.abs(call["audio"]).max()) == pytest.approx(1.0)  # peak-normalised, as load_audio
        start_s = 2.5 * i
        if start_s <= CLICK_S < start_s + 5:  # the click where this window hears it, to the millisecond
            assert cond[i, 0, 0] == pytest.approx(CLICK_S - start_s, abs=1e-3)
    # the last window (7.5-12.5 s) runs past the song: silence there
    assert not jukemirlib.calls[3]["audio"][int(4.5 * JUKEBOX_SR) + 64:].any()


def test_the_analysis_of_a_file_reads_its_cut_again(tmp_path):
    import soundfile as sf

    samples = clicked_song(12.0)
    sf.write(tmp_path / "song.wav", samples, SR)
    cut = analyze(tmp_path / "song.wav", start_s=4.0, duration_s=5.0)
    heard, sr = cut.source.read()
    assert sr == SR and heard.size == 5 * SR
    assert np.argmax(np.abs(heard)) == pytest.approx((CLICK_S - 4.0) * SR, abs=1)


@pytest.mark.heavy
def test_the_jukebox_model_dances_to_jukebox_features(jukemirlib, tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "juke.pt"
    save_checkpoint(path, DanceDecoder(4800), Normalizer.fit(torch.rand(200, 151) * 2 - 1))
    gen = EdgeGenerator(path, steps=2)
    audio = analyze(clicked_song(7.0), SR)
    assert gen.condition(audio, 210).shape == (window_count(210), 150, 4800)
    motion = gen.generate(audio, 7.0, seed=0)
    assert motion.n_frames == 210 and np.isfinite(motion.poses).all()
    assert len(jukemirlib.calls) == 2 * window_count(210)  # `condition` above, then `generate`


def test_features_of_the_wrong_width_are_a_one_line_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "jukemirlib", Jukemirlib(width=1024))
    with pytest.raises(InputError, match=r"shape \(151, 1024\), expected \(frames, 4800\)"):
        jukebox_windows(clicked_song(7.0), SR, 150)
