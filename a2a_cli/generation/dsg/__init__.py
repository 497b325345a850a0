"""DiffuseStyleGesture (Yang et al., IJCAI 2023), the speech-to-gesture diffusion model of the ZEGGS
data, re-implemented for a2a: `network` (the denoiser), `sampler` (the official 1,000-step sampler
and DDIM), `windows` (88-frame windows handing 8 seed frames on), `checkpoint` (safe loading),
`wavlm` (the audio features the model hears: WavLM-Large through transformers, an optional extra)
and `pipeline` (the `dsg` generator). The decoded output's skeleton (ZEGGS, 75 joints) lives in
`a2a_cli.motion.zeggs`. Names load on first use, so that importing the package needs neither torch
nor transformers, and naming the model on a machine without them can say so in one line.
"""

from importlib import import_module

_HOMES = {
    "GestureDenoiser": "network",
    "Sampler": "sampler",
    "audio_windows": "wavlm",
    "load_wavlm": "wavlm",
    "wavlm_features": "wavlm",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
