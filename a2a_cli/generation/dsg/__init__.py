"""DiffuseStyleGesture (Yang et al., IJCAI 2023), the speech-to-gesture diffusion model, for a2a.

`wavlm`: the audio features the model hears (WavLM-Large through transformers, an optional extra).
The decoded output's skeleton (ZEGGS, 75 joints) lives in `a2a_cli.motion.zeggs`.
Its names load on first use, so that importing the package needs neither torch nor transformers.
"""

from importlib import import_module

_HOMES = {
    "audio_windows": "wavlm",
    "load_wavlm": "wavlm",
    "wavlm_features": "wavlm",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
