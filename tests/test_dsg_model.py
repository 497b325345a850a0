"""DiffuseStyleGesture's network, sampler and files: official keys, official numbers, safe and strict loading."""

from __future__ import annotations

import json
import os
import pickle
import pickletools
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch")

from support.dsg_reference import DATA, filled_network, reference, wave  # noqa: E402

from a2a_cli.errors import InputError  # noqa: E402
from a2a_cli.generation.dsg.checkpoint import (  # noqa: E402
    DERIVED_BUFFERS, MIN_STD, load_network, load_statistics, save_checkpoint, save_safetensors)
from a2a_cli.generation.dsg.network import LOCAL_WINDOW, GestureDenoiser, local_attention_mask  # noqa: E402
from a2a_cli.generation.dsg.sampler import Sampler, spaced_timesteps  # noqa: E402

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def filled():
    return filled_network()


def reference_inputs(batch: int = 3):
    """The reference run's inputs, in a2a's (B, frames, features) layout (the official is (B, features, 1, frames))."""
    x = wave(batch * 1141 * 88, 0.013, 0.0).view(batch, 1141, 88).transpose(1, 2)
    seed = wave(batch * 1141 * 8, 0.021, 1.0).view(batch, 1141, 8).transpose(1, 2)
    audio = wave(batch * 88 * 1024, 0.0031, 0.5).view(batch, 88, 1024)
    return x, seed, audio


def official_view(y) -> np.ndarray:
    """a2a's (B, 88, 1141) as the reference stored it: official layout, every 13th feature, every 5th frame."""
    return y.transpose(1, 2)[:, ::13, ::5].double().numpy()


def test_state_dict_has_exactly_the_official_keys_and_shapes():
    official = json.loads((DATA / "dsg-state-dict.json").read_text())
    state = GestureDenoiser().state_dict()
    assert [(k, list(v.shape)) for k, v in state.items()] == [(e["key"], e["shape"]) for e in official["entries"]]
    net = GestureDenoiser()
    assert sum(p.numel() for p in net.parameters()) == official["num_parameters"] == 9_001_781
    assert set(official["buffer_keys"]) == set(DERIVED_BUFFERS)


def test_the_network_gives_the_official_numbers(filled):
    """The official MDM (sample.py's configuration) on the same weights and inputs: within 1e-4."""
    ref = reference()
    x, seed, audio = reference_inputs()
    with torch.inference_mode():
        y = filled(x, torch.tensor([999, 437, 12]), torch.eye(6)[[0, 4, 5]], seed, audio)
    assert np.abs(official_view(y) - ref["network_out"]).max() < TOLERANCE
    assert abs(float(y.double().mean()) - float(ref["network_mean"])) < 1e-6
    assert abs(float(y.double().abs().mean()) - float(ref["network_abs_mean"])) < TOLERANCE
    # each condition matters: another style, another seed, another step give other numbers
    with torch.inference_mode():
        other = filled(x, torch.tensor([999, 437, 13]), torch.eye(6)[[1, 4, 5]], seed.flip(1), audio)
    assert (other[0] - y[0]).abs().max() > 1e-3 and (other[2] - y[2]).abs().max() > 1e-3


@given(st.integers(0, 87), st.integers(0, 87))
@settings(max_examples=200, deadline=None)
def test_local_attention_sees_its_block_and_the_one_before_up_to_itself(i, j):
    """The official LocalAttention (window 11, causal, look_backward 1, exact_windowsize False)."""
    mask = local_attention_mask(88)
    block_i, block_j = i // LOCAL_WINDOW, j // LOCAL_WINDOW
    assert bool(mask[i, j]) == (j <= i and block_j in (block_i - 1, block_i))


@pytest.mark.parametrize("method", ["ddpm", "ddim"])
def test_the_sampler_gives_the_official_numbers_for_the_same_seed(filled, method):
    """The official p_sample_loop / ddim_sample_loop (respaced to 10 steps, clip_denoised=False) after
    torch.manual_seed(123): the samples after steps 1, 5 and 9 and the result, within 1e-4. The
    intermediate samples carry the noise, so a noise drawn otherwise fails here."""
    ref = reference()
    _, seed, audio = reference_inputs(1)
    cond = filled.condition(torch.eye(6)[[1]], seed, audio)
    trail = []

    def denoise(x, t):
        trail.append(x.clone())
        return filled.denoise(x, t, cond)

    with torch.inference_mode():
        out = Sampler(10, method).sample(denoise, (1, 88, 1141), generator=torch.Generator().manual_seed(123))
    after = trail[1:] + [out]  # the sample after each step
    for stored, step in zip(ref[f"{method}10_trail"], (0, 4, 8)):
        assert np.abs(official_view(after[step]) - stored).max() < TOLERANCE
    assert np.abs(official_view(out) - ref[f"{method}10_out"]).max() < TOLERANCE


def test_spaced_timesteps_are_the_official_respacing():
    assert spaced_timesteps(10) == list(range(0, 1000, 111))
    assert spaced_timesteps(1000) == list(range(1000))
    for steps in (1, 2, 7, 50, 333, 999):
        kept = spaced_timesteps(steps)
        assert len(kept) == steps and kept[-1] == (999 if steps > 1 else 0) and kept[0] == 0
    with pytest.raises(ValueError):
        Sampler(0)
    with pytest.raises(ValueError):
        Sampler(10, "euler")


def _pickle_globals(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as z:
        pkl = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    return {arg for op, arg, _ in pickletools.genops(pkl) if op.name in ("GLOBAL", "STACK_GLOBAL")}


def test_the_official_layout_loads_strictly_and_gives_the_official_numbers(filled, tmp_path):
    """What training_loop.py writes: torch.save(state_dict) of an OrderedDict, nothing else."""
    path = tmp_path / "model000450000.pt"
    torch.save(OrderedDict(filled.state_dict()), path)
    assert _pickle_globals(path) == {"collections OrderedDict", "torch._utils _rebuild_tensor_v2", "torch FloatStorage"}
    loaded = load_network(path)
    x, seed, audio = reference_inputs()
    with torch.inference_mode():
        y = loaded(x, torch.tensor([999, 437, 12]), torch.eye(6)[[0, 4, 5]], seed, audio)
    assert np.abs(official_view(y) - reference()["network_out"]).max() < TOLERANCE
    ours = load_network(save_checkpoint(tmp_path / "ours.pt", filled))
    st_net = load_network(save_safetensors(tmp_path / "ours.safetensors", filled))  # derived buffers left out, recomputed
    for net in (ours, st_net):
        assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), filled.state_dict().values()))


def test_a_mismatched_key_or_shape_gets_one_line(tmp_path):
    state = GestureDenoiser().state_dict()
    state["embed_style.weight"] = torch.zeros(64, 7)
    torch.save(state, tmp_path / "shape.pt")
    with pytest.raises(InputError, match=r"key 'embed_style.weight' has shape \[64, 7\], expected \[64, 6\]") as err:
        load_network(tmp_path / "shape.pt")
    assert "\n" not in str(err.value)
    state = GestureDenoiser().state_dict()
    state["embed_mood.weight"] = state.pop("embed_style.weight")
    torch.save(state, tmp_path / "renamed.pt")
    with pytest.raises(InputError, match=r"unexpected key 'embed_mood.weight'; missing key 'embed_style.weight'"):
        load_network(tmp_path / "renamed.pt")
    torch.save([torch.zeros(3)], tmp_path / "list.pt")
    with pytest.raises(InputError, match=r"expected the network's state dict, got a list"):
        load_network(tmp_path / "list.pt")
    with pytest.raises(InputError, match="does not exist"):
        load_network(tmp_path / "absent.pt")


class _Hostile:
    """Unpickling this would run os.system."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    state = GestureDenoiser().state_dict()
    state["embed_style.bias"] = _Hostile(marker)
    torch.save(state, tmp_path / "evil.pt")
    with pytest.raises(InputError, match=r"refused: its pickle names (posix|os)\.system") as err:
        load_network(tmp_path / "evil.pt")
    assert "\n" not in str(err.value) and not marker.exists()
    (tmp_path / "evil.ckpt").write_bytes(pickle.dumps(_Hostile(marker), protocol=2))
    with pytest.raises(InputError):
        load_network(tmp_path / "evil.ckpt")
    assert not marker.exists()


def test_statistics_are_read_without_pickle_and_std_clipped(tmp_path):
    mean, std = np.linspace(-1, 1, 1141), np.linspace(0, 2, 1141)
    np.savez(tmp_path / "mean.npz", mean=mean[None])  # the official files hold (1141,); a leading 1 is dropped too
    np.savez(tmp_path / "std.npz", std=std)
    stats = load_statistics(tmp_path / "mean.npz", tmp_path / "std.npz")
    assert stats.std.min() == MIN_STD and np.array_equal(stats.std[std >= MIN_STD], std[std >= MIN_STD])
    assert np.allclose(stats.unnormalize(np.ones((2, 1141))), mean + np.maximum(std, MIN_STD))
    np.savez(tmp_path / "bad.npz", std=std[:100])
    with pytest.raises(InputError, match=r"std must be 1141 finite values, got shape \(100,\)"):
        load_statistics(tmp_path / "mean.npz", tmp_path / "bad.npz")
    np.savez(tmp_path / "obj.npz", std=np.array([{"a": 1}], dtype=object))
    with pytest.raises(InputError, match="cannot read ZEGGS statistics"):
        load_statistics(tmp_path / "mean.npz", tmp_path / "obj.npz")
    with pytest.raises(InputError, match="has no array 'mean'"):
        load_statistics(tmp_path / "std.npz", tmp_path / "std.npz")
    locked = bytearray((tmp_path / "std.npz").read_bytes())
    locked[locked.index(b"PK\x01\x02") + 8] |= 0x1  # a member marked encrypted: zipfile raises RuntimeError
    (tmp_path / "locked.npz").write_bytes(bytes(locked))
    with pytest.raises(InputError, match="cannot read ZEGGS statistics .*locked.npz: .*encrypted"):
        load_statistics(tmp_path / "mean.npz", tmp_path / "locked.npz")
