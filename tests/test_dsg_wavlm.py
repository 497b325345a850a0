"""DiffuseStyleGesture's audio features: WavLM through transformers against the official unilm WavLM.

The real WavLM-Large (1.2 GB) is not downloaded in tests: a tiny WavLM of the same architecture (WavLM-Large's
layer-norm feature extractor, stable layer norm, gated relative positions; 2 layers, 32 wide) stands in.
Its weights are made here from the official checkpoint's key names and shapes
(tests/data/wavlm/tiny-official-keys.json); the reference features were computed by the official code on the
same weights and the same clip, cut into windows as DiffuseStyleGesture's sample.py cuts speech (README there).
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pytest

from a2a_cli.audio.analysis import AudioSource
from a2a_cli.errors import InputError

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from a2a_cli.generation.dsg import wavlm  # noqa: E402
from a2a_cli.generation.dsg.wavlm import (  # noqa: E402
    audio_windows, convert_official_wavlm, load_wavlm, official_config, official_to_transformers, speech_16k,
    wavlm_features,
)

DATA = Path(__file__).parent / "data" / "wavlm"
# WavLM-Large's architecture (its checkpoint's cfg) at a tiny size: same conv kernels and strides (50 Hz out).
TINY_CFG = dict(
    extractor_mode="layer_norm", encoder_layers=2, encoder_embed_dim=32, encoder_ffn_embed_dim=64,
    encoder_attention_heads=4, activation_fn="gelu", layer_norm_first=True,
    conv_feature_layers="[(16,10,5)] + [(16,3,2)] * 4 + [(16,2,2)] * 2", conv_bias=False, normalize=True,
    conv_pos=8, conv_pos_groups=4, relative_position_embedding=True, num_buckets=32, max_distance=80, gru_rel_pos=True,
)
# DiffuseStyleGesture's windows: 88 frames at 20 fps, 8 of them the seed.
WINDOW, SEED, FPS = 88, 8, 20.0


def official_weights(shapes: dict[str, list[int]]) -> dict[str, np.ndarray]:
    """Random float32 weights for official key names, each from its own seed (the key's CRC-32), scaled
    by 1/sqrt(fan-in) for matrices and kernels."""
    out = {}
    for name, shape in shapes.items():
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        scale = 1.0 / np.sqrt(np.prod(shape[1:])) if len(shape) > 1 else 0.5
        out[name] = rng.normal(0.0, scale, shape).astype(np.float32)
    return out


def speech_clip(seconds: float = 12.5, sr: int = 16000) -> np.ndarray:
    """A voice-like test signal: harmonics of a wandering pitch, in syllables, with pauses and breath noise."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 150 + 30 * np.sin(2 * np.pi * 0.3 * t) + 10 * np.sin(2 * np.pi * 2.1 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) * (np.sin(2 * np.pi * 0.17 * t) > -0.6)
    return (0.2 * voice * syllables + 0.01 * rng.normal(size=t.size)).astype(np.float32)


def official_layout() -> dict[str, "torch.Tensor"]:
    shapes = json.loads((DATA / "tiny-official-keys.json").read_text())
    return {k: torch.from_numpy(v) for k, v in official_weights(shapes).items()}


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """The tiny WavLM saved as the official WavLM-Large.pt is: {'cfg': ..., 'model': state dict}."""
    path = tmp_path_factory.mktemp("wavlm") / "WavLM-Tiny.pt"
    torch.save({"cfg": TINY_CFG, "model": official_layout()}, path)
    return path


def test_features_match_the_official_extraction_on_a_fixed_clip(tiny_checkpoint):
    reference = np.load(DATA / "tiny_official_features.npz")["features"]  # (3, 88, 32)
    clip = speech_clip()
    n_windows = int(clip.size * FPS // 16000) // (WINDOW - SEED)
    windows = audio_windows(clip, n_windows, WINDOW - SEED, SEED, FPS)
    assert windows.shape == (3, 70400)
    features = wavlm_features(load_wavlm(tiny_checkpoint), windows, WINDOW, batch_size=2)
    assert features.shape == reference.shape and features.dtype == np.float32
    assert np.abs(features - reference).max() < 1e-4
    assert np.abs(reference).max() > 1.0  # the comparison is not between two near-zero arrays


def test_windows_hand_over_the_seed_frames_audio_as_the_official_code_does():
    clip = np.arange(200 * 800, dtype=np.float32)  # 10 s at 16 kHz: sample i holds i
    windows = audio_windows(clip, 3, 80, 8, 20.0)
    assert windows.shape == (3, 88 * 800)
    np.testing.assert_array_equal(windows[0, :6400], 0)  # silence before the first window
    np.testing.assert_array_equal(windows[0, 6400:], np.arange(64000))
    np.testing.assert_array_equal(windows[1], np.arange(64000 - 6400, 128000))  # the last 8 frames before it
    np.testing.assert_array_equal(windows[2, -32000:], 0)  # past the speech's end: silence
    with pytest.raises(ValueError, match="whole samples"):
        audio_windows(clip, 1, 80, 8, 30.0 * 7)


def test_the_converted_folder_loads_the_same_model(tiny_checkpoint, tmp_path):
    folder = convert_official_wavlm(tiny_checkpoint, tmp_path / "wavlm-tiny")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    windows = audio_windows(speech_clip(4.5), 1, 80, 8, 20.0)
    a = wavlm_features(load_wavlm(tiny_checkpoint), windows, WINDOW)
    b = wavlm_features(load_wavlm(folder), windows, WINDOW)
    np.testing.assert_array_equal(a, b)


def test_every_official_weight_has_a_transformers_home_in_both_extractor_modes():
    from transformers import WavLMConfig, WavLMModel

    for mode, bias in (("layer_norm", False), ("default", True)):
        cfg = {**TINY_CFG, "extractor_mode": mode, "conv_bias": bias}
        model = WavLMModel(WavLMConfig(**official_config(cfg)))
        official = set(official_layout())
        if mode == "default":  # one group norm on the first conv block; conv biases
            official = {k for k in official if ".2.1." not in k} | {"feature_extractor.conv_layers.0.2.weight",
                                                                    "feature_extractor.conv_layers.0.2.bias"}
            official |= {f"feature_extractor.conv_layers.{i}.0.bias" for i in range(7)}
        renamed = official_to_transformers(dict.fromkeys(official))
        assert sorted(renamed) == sorted(model.state_dict())
    with pytest.raises(InputError, match="unknown weight 'encoder.quantizer.vars'"):
        official_to_transformers({"encoder.quantizer.vars": None})


def test_the_conv_layers_spec_is_read_without_eval():
    assert official_config(TINY_CFG)["conv_stride"] == [5, 2, 2, 2, 2, 2, 2]
    for spec in ("__import__('os').system('true')", "[(1, 2)]", "[(1,2,3)] * 'a'", "[(1,2,3)] * 10000000000000"):
        with pytest.raises(InputError, match="conv_feature_layers"):
            official_config({**TINY_CFG, "conv_feature_layers": spec})


class _Hostile:
    def __reduce__(self):
        import os

        return (os.system, ("touch hostile-was-run",))


def test_a_hostile_checkpoint_is_refused_unrun(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "WavLM-Large.pt"
    torch.save({"cfg": TINY_CFG, "model": {}, "x": _Hostile()}, path)
    with pytest.raises(InputError, match="not a WavLM checkpoint that loads safely"):
        load_wavlm(path)
    assert not (tmp_path / "hostile-was-run").exists()
    torch.save({"cfg": TINY_CFG, "model": {k: v[..., :1] for k, v in official_layout().items()}}, path)
    with pytest.raises(InputError, match="weights do not fit its config"):
        load_wavlm(path)


def test_missing_weights_or_extra_are_one_line_errors(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="a2a download-weights wavlm-large"):
        load_wavlm(tmp_path / "nowhere")
    monkeypatch.setattr(wavlm.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError, match=r"pip install 'a2a\[dsg\]'"):
        load_wavlm(tmp_path)


@pytest.mark.xdist_group("librosa")  # with the other librosa tests: numba compiles its kernels once (tests/test_audio.py)
def test_speech_is_resampled_to_16_khz_as_librosa_load_does(tmp_path):
    """a2a's soxr HQ resampling against the official librosa.load(sr=16000): the same samples (librosa
    resamples with soxr HQ too)."""
    librosa = pytest.importorskip("librosa")
    import soundfile as sf

    clip = speech_clip(3.0, sr=44100)
    path = tmp_path / "talk.wav"
    sf.write(path, clip, 44100, subtype="FLOAT")
    ours = speech_16k(AudioSource(path=path))
    official, sr = librosa.load(path, sr=16000)
    assert sr == 16000 and ours.shape == official.shape == (48000,)
    assert np.abs(ours - official).max() < 1e-6


def test_a_folder_missing_a_weight_or_unreadable_is_refused(tiny_checkpoint, tmp_path):
    from safetensors.torch import load_file, save_file

    folder = convert_official_wavlm(tiny_checkpoint, tmp_path / "wavlm")
    weights = load_file(folder / "model.safetensors")
    del weights["encoder.layers.1.final_layer_norm.weight"]
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(InputError, match="lack 1 of the model's, such as 'encoder.layers.1.final_layer_norm.weight'"):
        load_wavlm(folder)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(InputError, match="does not hold WavLM weights transformers can read"):
        load_wavlm(folder)
