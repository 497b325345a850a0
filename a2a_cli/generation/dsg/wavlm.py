"""DiffuseStyleGesture's audio features: WavLM-Large's last layer, as the released model heard them.

The official `sample.py` reads speech at 16 kHz (`librosa.load(sr=16000)`), cuts it into windows of
88 motion frames at 20 fps (800 samples a frame: the window's 80 new frames after the 8 seed frames'
audio, the tail of the window before, or silence for the first), and runs each window through
WavLM-Large (microsoft's unilm release, `WavLM-Large.pt`): `extract_features(wav)[0]`, the last
layer after the encoder's final layer norm, (frames at 50 Hz, 1024). The waveform goes in as it is:
the checkpoint's config asks for normalised input (`normalize: True`), but `sample.py` does not
normalise, and the model was trained on features made the same way. The features are then
interpolated to the window's 88 motion frames (`F.interpolate(..., mode='linear', align_corners=True)`).

Here WavLM runs through transformers' `WavLMModel` (the `a2a[dsg]` extra), on the weights of
microsoft/wavlm-large on the Hugging Face hub (`a2a download-weights`), or on an official
`WavLM-Large.pt`, whose state dict `official_to_transformers` renames to transformers' layout (and
`convert_official_wavlm` saves so). Resampling to 16 kHz is a2a's own (`decoding.resample`: soxr HQ,
which librosa.load uses too).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from a2a_cli.audio.analysis import AudioSource
from a2a_cli.audio.decoding import resample
from a2a_cli.errors import InputError
from a2a_cli.fileio import atomic_write

__all__ = [
    "INSTALL_HINT", "WAVLM_FEATURES", "WAVLM_MODEL", "WAVLM_SR", "audio_windows", "convert_official_wavlm", "load_wavlm",
    "official_config", "official_to_transformers", "require_transformers", "speech_16k", "wavlm_features",
]

WAVLM_SR = 16000  # WavLM's input rate
WAVLM_FEATURES = 1024  # WavLM-Large's width
WAVLM_MODEL = "wavlm-large"  # its name in the zoo (`a2a download-weights wavlm-large`)
INSTALL_HINT = "pip install 'a2a[dsg]'"

# Official (unilm) state-dict names -> transformers' WavLMModel names; `{i}` is a layer number.
_RENAMES = (
    (r"mask_emb", "masked_spec_embed"),
    (r"feature_extractor\.conv_layers\.(\d+)\.0\.", r"feature_extractor.conv_layers.\1.conv."),
    (r"feature_extractor\.conv_layers\.(\d+)\.2\.1\.", r"feature_extractor.conv_layers.\1.layer_norm."),  # layer_norm mode
    (r"feature_extractor\.conv_layers\.0\.2\.", "feature_extractor.conv_layers.0.layer_norm."),  # default (group norm) mode
    (r"layer_norm\.", "feature_projection.layer_norm."),
    (r"post_extract_proj\.", "feature_projection.projection."),
    (r"encoder\.pos_conv\.0\.bias", "encoder.pos_conv_embed.conv.bias"),
    (r"encoder\.pos_conv\.0\.weight_g", "encoder.pos_conv_embed.conv.parametrizations.weight.original0"),
    (r"encoder\.pos_conv\.0\.weight_v", "encoder.pos_conv_embed.conv.parametrizations.weight.original1"),
    (r"encoder\.layer_norm\.", "encoder.layer_norm."),
    (r"encoder\.layers\.(\d+)\.self_attn\.grep_a", r"encoder.layers.\1.attention.gru_rel_pos_const"),
    (r"encoder\.layers\.(\d+)\.self_attn\.grep_linear\.", r"encoder.layers.\1.attention.gru_rel_pos_linear."),
    (r"encoder\.layers\.(\d+)\.self_attn\.relative_attention_bias\.", r"encoder.layers.\1.attention.rel_attn_embed."),
    (r"encoder\.layers\.(\d+)\.self_attn\.([kvq]|out)_proj\.", r"encoder.layers.\1.attention.\2_proj."),
    (r"encoder\.layers\.(\d+)\.self_attn_layer_norm\.", r"encoder.layers.\1.layer_norm."),
    (r"encoder\.layers\.(\d+)\.fc1\.", r"encoder.layers.\1.feed_forward.intermediate_dense."),
    (r"encoder\.layers\.(\d+)\.fc2\.", r"encoder.layers.\1.feed_forward.output_dense."),
    (r"encoder\.layers\.(\d+)\.final_layer_norm\.", r"encoder.layers.\1.final_layer_norm."),
)
_EXTRACTOR_MODES = {"default": "group", "layer_norm": "layer"}


def require_transformers() -> None:
    """A one-line InputError naming the extra, where transformers is not importable."""
    if importlib.util.find_spec("transformers") is None or importlib.util.find_spec("torch") is None:
        raise InputError(f"DiffuseStyleGesture hears speech through WavLM, which needs transformers and torch: {INSTALL_HINT}")


def speech_16k(source: AudioSource) -> np.ndarray:
    """The analysed speech as mono float32 samples at 16 kHz, (n,), resampled by soxr HQ."""
    samples, sr = source.read()
    return resample(samples, sr, WAVLM_SR)


def audio_windows(samples: np.ndarray, n_windows: int, stride_frames: int, seed_frames: int, fps: float) -> np.ndarray:
    """Speech cut as the official `inference` cuts it: (n_windows, (seed_frames + stride_frames) * 16000 / fps) float32.

    samples: (n,) mono at 16 kHz; window i holds the audio of motion frames [i * stride, (i + 1) * stride)
    after the audio of the `seed_frames` frames before it (silence before the first window), at `fps`
    motion frames a second. Audio short of the last window is padded with silence.
    """
    per_frame = WAVLM_SR / fps
    body, seed = int(round(stride_frames * per_frame)), int(round(seed_frames * per_frame))
    if abs(body - stride_frames * per_frame) > 1e-9 or abs(seed - seed_frames * per_frame) > 1e-9:
        raise ValueError(f"{fps:g} fps does not divide {WAVLM_SR} Hz into whole samples a frame")
    flat = np.zeros(seed + n_windows * body, dtype=np.float32)
    kept = np.asarray(samples, dtype=np.float32)[: n_windows * body]
    flat[seed: seed + kept.size] = kept
    starts = np.arange(n_windows) * body
    return flat[starts[:, None] + np.arange(seed + body)]


def wavlm_features(model: Any, windows: np.ndarray, n_frames: int, batch_size: int = 8) -> np.ndarray:
    """WavLM's last layer for each window, interpolated to `n_frames` motion frames: (B, n_frames, 1024) float32.

    model: a transformers `WavLMModel` (`load_wavlm`); windows: (B, n) float32 samples at 16 kHz, fed
    unnormalised as the official code does; batch_size: windows run through the model at once.
    """
    import torch
    import torch.nn.functional as F

    windows = np.asarray(windows, dtype=np.float32)
    if windows.ndim != 2:
        raise ValueError(f"audio windows must be (windows, samples), got {windows.shape}")
    device = next(model.parameters()).device
    out = []
    with torch.inference_mode():
        for start in range(0, windows.shape[0], batch_size):
            batch = torch.from_numpy(windows[start: start + batch_size]).to(device, model.dtype)
            hidden = model(batch).last_hidden_state  # (b, frames at 50 Hz, width)
            hidden = F.interpolate(hidden.transpose(1, 2), size=n_frames, mode="linear", align_corners=True)
            out.append(hidden.transpose(1, 2).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, n_frames, model.config.hidden_size), np.float32)


_MAX_CONV_LAYERS = 64  # WavLM has 7 conv layers; a spec repeating a list more often is not a WavLM's


def _conv_layers(spec: str) -> list[tuple[int, int, int]]:
    """The official `conv_feature_layers` (a Python expression such as "[(512,10,5)] + [(512,3,2)] * 4"),
    read without eval: lists of (dim, kernel, stride) tuples joined by + and repeated by *."""

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [value(e) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, ast.Mult) and isinstance(left, list) and not 0 <= right <= _MAX_CONV_LAYERS:
                raise ValueError  # a file's "[...] * 10**12" would build a list no model has
            return left + right if isinstance(node.op, ast.Add) else left * right
        raise ValueError

    try:
        layers = value(ast.parse(spec, mode="eval").body)
        if not isinstance(layers, list) or not all(isinstance(t, tuple) and len(t) == 3 for t in layers):
            raise ValueError
    except (SyntaxError, ValueError, TypeError, RecursionError):
        raise InputError(f"WavLM checkpoint: conv_feature_layers {spec[:60]!r} is not a list of (dim, kernel, stride)") from None
    return layers


def official_config(cfg: dict) -> dict:
    """transformers' WavLMConfig arguments for an official checkpoint's `cfg` (a dict of WavLMConfig fields)."""
    if not cfg.get("relative_position_embedding") or not cfg.get("gru_rel_pos"):
        raise InputError("WavLM checkpoint: only WavLM with gated relative positions (as WavLM-Large) is supported")
    mode = cfg.get("extractor_mode", "default")
    if mode not in _EXTRACTOR_MODES:
        raise InputError(f"WavLM checkpoint: unknown extractor_mode {mode!r}")
    layers = _conv_layers(cfg.get("conv_feature_layers", "[(512,10,5)] + [(512,3,2)] * 4 + [(512,2,2)] * 2"))
    return dict(
        hidden_size=cfg.get("encoder_embed_dim", 768), num_hidden_layers=cfg.get("encoder_layers", 12),
        num_attention_heads=cfg.get("encoder_attention_heads", 12), intermediate_size=cfg.get("encoder_ffn_embed_dim", 3072),
        hidden_act=cfg.get("activation_fn", "gelu"), do_stable_layer_norm=bool(cfg.get("layer_norm_first", False)),
        feat_extract_norm=_EXTRACTOR_MODES[mode], conv_bias=bool(cfg.get("conv_bias", False)),
        conv_dim=[d for d, _, _ in layers], conv_kernel=[k for _, k, _ in layers], conv_stride=[s for _, _, s in layers],
        num_conv_pos_embeddings=cfg.get("conv_pos", 128), num_conv_pos_embedding_groups=cfg.get("conv_pos_groups", 16),
        num_buckets=cfg.get("num_buckets", 320), max_bucket_distance=cfg.get("max_distance", 800),
    )


def official_to_transformers(state_dict: dict[str, Any]) -> dict[str, Any]:
    """An official (unilm) WavLM state dict under transformers' WavLMModel names; InputError on a key it
    does not know (a checkpoint of another model)."""
    out = {}
    for key, tensor in state_dict.items():
        for pattern, replacement in _RENAMES:
            new, n = re.subn(f"^{pattern}", replacement, key)
            if n:
                out[new] = tensor
                break
        else:
            raise InputError(f"WavLM checkpoint: unknown weight {key[:80]!r}")
    return out


def _load_official(path: Path) -> tuple[dict, dict[str, Any]]:
    """(transformers config arguments, renamed state dict) of an official `WavLM-Large.pt`, loaded
    without running its pickle (weights_only)."""
    import torch

    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a pickle asking for anything but tensors and plain data is refused unrun
        raise InputError(f"{path} is not a WavLM checkpoint that loads safely: {str(e).splitlines()[0][:120]}") from None
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("cfg"), dict) or not isinstance(checkpoint.get("model"), dict):
        raise InputError(f"{path} is not an official WavLM checkpoint (a dict with 'cfg' and 'model')")
    return official_config(checkpoint["cfg"]), official_to_transformers(checkpoint["model"])


def load_wavlm(path: str | os.PathLike, device: str = "cpu") -> Any:
    """WavLM as a transformers `WavLMModel` in eval mode on `device`.

    path: a folder in transformers' layout (config.json and the weights, as microsoft/wavlm-large on
    the hub or `convert_official_wavlm` writes), or an official `WavLM-Large.pt`.
    """
    require_transformers()
    from transformers import WavLMConfig, WavLMModel

    path = Path(path)
    if path.is_file():
        config, state_dict = _load_official(path)
        model = WavLMModel(WavLMConfig(**config))
        try:
            model.load_state_dict(state_dict, strict=True)
        except RuntimeError as e:
            raise InputError(f"{path}: weights do not fit its config: {str(e).splitlines()[0][:160]}") from None
    elif (path / "config.json").is_file():
        model = _from_folder(WavLMModel, path)
    else:
        raise InputError(f"no WavLM weights at {path}: run `a2a download-weights {WAVLM_MODEL}` ({INSTALL_HINT} first)")
    return model.eval().to(device)


def _from_folder(model_class: Any, path: Path) -> Any:
    """transformers' `from_pretrained` on a local folder, strict: a weight missing from the files (which
    transformers would fill with random numbers) or a folder it cannot read is a one-line InputError."""
    try:
        model, info = model_class.from_pretrained(path, local_files_only=True, output_loading_info=True)
    except (OSError, ValueError, RuntimeError) as e:
        raise InputError(f"{path} does not hold WavLM weights transformers can read: {str(e).splitlines()[0][:160]}") from None
    if info["missing_keys"]:
        missing = sorted(info["missing_keys"])
        raise InputError(f"{path}: the WavLM weights lack {len(missing)} of the model's, such as {missing[0]!r}")
    return model


def convert_official_wavlm(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Save an official `WavLM-Large.pt` as a transformers folder (config.json, model.safetensors) at
    `target`, each file written atomically; returns the folder."""
    require_transformers()
    from safetensors.torch import save
    from transformers import WavLMConfig

    config, state_dict = _load_official(Path(source))
    target = Path(target)
    tensors = {k: v.contiguous() for k, v in state_dict.items()}
    atomic_write(target / "model.safetensors", save(tensors, metadata={"format": "pt"}))
    config_dict = WavLMConfig(**config).to_dict()
    config_dict["architectures"] = ["WavLMModel"]
    atomic_write(target / "config.json", json.dumps(config_dict, indent=2, sort_keys=True))
    return target
