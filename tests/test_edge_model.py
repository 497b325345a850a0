"""EDGE's network and checkpoints: official keys, official numbers, strict and safe loading."""

from __future__ import annotations

import json
import math
import pickle
import pickletools
import random
import sys
import types
import zipfile
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from a2a_cli.errors import InputError  # noqa: E402
from a2a_cli.generation.edge import DanceDecoder, Normalizer, load_checkpoint, save_checkpoint, save_safetensors  # noqa: E402
from a2a_cli.generation.edge import network as network_module  # noqa: E402

DATA = Path(__file__).parent / "data"

# Reference numbers from the official Stanford-TML/EDGE model/model.py (commit 17c3428), its
# DanceDecoder built as EDGE.py builds it, eval mode, float32, parameters set by `fill` below, inputs
# by `inputs` below: 18 outputs (windows 0-2, frames 0 and 149, channels 0, 77, 150), then the
# mean, mean |y| and mean of y * cos(0.37 i) over the whole output.
REFERENCE = {
    (35, "cond"): ([-7.67824, -9.23094, -9.20468, -7.66145, -9.22659, -9.20061, -7.67841, -9.22579, -9.19948, -7.65856, -9.23118, -9.20529, -7.67325, -9.2265, -9.20029, -7.66415, -9.238, -9.21207],
                   -0.3076196, 6.3638908, -0.0010156),
    (35, "uncond"): ([-2.62421, -8.02074, -8.07872, -2.62791, -7.97554, -8.03302, -2.62066, -8.01161, -8.06955, -2.6211, -7.97623, -8.03384, -2.63249, -8.01712, -8.07491, -2.64389, -7.98837, -8.04567],
                     -0.1900895, 5.1050061, 0.0007818),
    (35, "guided"): ([-12.73226, -10.44113, -10.33064, -12.69498, -10.47765, -10.3682, -12.73617, -10.43998, -10.3294, -12.69601, -10.48612, -10.37673, -12.71401, -10.43587, -10.32568, -12.68442, -10.48762, -10.37847],
                     -0.4251496, 8.8405234, -0.0028129),
    (4800, "guided"): ([-12.73216, -10.44107, -10.33058, -12.69487, -10.47763, -10.36819, -12.73609, -10.43997, -10.3294, -12.69597, -10.48619, -10.37682, -12.71414, -10.43582, -10.32561, -12.68454, -10.48748, -10.37832],
                       -0.4251486, 8.8405123, -0.0028138),
}


def fill(model) -> None:
    """Deterministic parameters, the i-th of named_parameters() from sin(0.7 k + 1.3 i)."""
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            v = torch.sin(0.7 * torch.arange(p.numel(), dtype=torch.float64) + 1.3 * i).float().view(p.shape)
            if p.dim() == 1 and name.endswith("weight"):  # LayerNorm gains
                v = 1 + 0.1 * v
            elif p.dim() == 2 and not name.startswith("null"):
                v = v / math.sqrt(p.shape[1])
            elif name.endswith("bias"):
                v = 0.1 * v
            p.copy_(v)


def inputs(cond_dim: int, batch: int = 3):
    x = torch.sin(0.013 * torch.arange(batch * 150 * 151, dtype=torch.float64)).float().view(batch, 150, 151)
    cond = torch.cos(0.029 * torch.arange(batch * 150 * cond_dim, dtype=torch.float64)).float().view(batch, 150, cond_dim)
    return x, cond, torch.tensor([999, 499, 19][:batch])


def summary(y):
    sample = y[:, [0, 149]][:, :, [0, 77, 150]].flatten().tolist()
    flat = y.double().flatten()
    proj = float((flat * torch.cos(0.37 * torch.arange(flat.numel(), dtype=torch.float64))).mean())
    return sample, float(flat.mean()), float(flat.abs().mean()), proj


@pytest.fixture(scope="session")  # built once per xdist worker, however its tests are interleaved (no test changes it)
def filled():
    net = DanceDecoder(35).eval()
    fill(net)
    return net


@pytest.mark.parametrize("kind,cond_dim", [("baseline", 35), ("jukebox", 4800)])
def test_state_dict_has_exactly_the_official_keys_and_shapes(kind, cond_dim):
    official = json.loads((DATA / f"edge-state-dict-{kind}.json").read_text())
    state = DanceDecoder(cond_dim).state_dict()
    assert [(k, list(v.shape)) for k, v in state.items()] == [(e["key"], e["shape"]) for e in official["entries"]]
    assert all(v.dtype == torch.float32 for v in state.values())
    net = DanceDecoder(cond_dim)
    assert sum(p.numel() for p in net.parameters()) == official["num_parameters"]
    freqs = 1.0 / 10000 ** (torch.arange(0, 512, 2).float() / 512)
    assert all(torch.equal(state[k], freqs) for k in official["buffer_keys"])


@pytest.mark.parametrize("branch", ["cond", "uncond", "guided"])
def test_forward_matches_the_official_code(filled, branch):
    x, cond, t = inputs(35)
    with torch.no_grad():
        y = {"cond": lambda: filled(x, cond, t), "uncond": lambda: filled(x, cond, t, cond_drop_prob=1.0),
             "guided": lambda: filled.guided_forward(x, cond, t, 2.0)}[branch]()
    assert y.shape == (3, 150, 151)
    sample, mean, abs_mean, proj = summary(y)
    ref_sample, ref_mean, ref_abs_mean, ref_proj = REFERENCE[(35, branch)]
    assert max(abs(a - b) for a, b in zip(sample, ref_sample)) < 1e-4
    assert abs(mean - ref_mean) < 1e-5 and abs(abs_mean - ref_abs_mean) < 1e-5 and abs(proj - ref_proj) < 1e-6


@pytest.mark.heavy
def test_jukebox_width_is_read_from_the_weights_and_matches_the_official_code(tmp_path):
    net = DanceDecoder(4800).eval()
    fill(net)
    save_checkpoint(tmp_path / "juke.pt", net, _normalizer())
    loaded = load_checkpoint(tmp_path / "juke.pt")
    assert loaded.cond_features == 4800 and loaded.feature_type == "jukebox"
    x, cond, t = inputs(4800)
    with torch.no_grad():
        sample, mean, _, proj = summary(loaded.network.guided_forward(x, cond, t, 2.0))
    ref_sample, ref_mean, _, ref_proj = REFERENCE[(4800, "guided")]
    assert max(abs(a - b) for a, b in zip(sample, ref_sample)) < 1e-4 and abs(proj - ref_proj) < 1e-6


def test_batched_guidance_equals_two_passes_and_shortcuts_change_nothing(filled):
    x, cond, t = inputs(35, batch=2)
    with torch.no_grad():
        memory = filled.encode_condition(cond)
        conditioned, unconditioned = filled(x, memory, t), filled(x, memory, t, cond_drop_prob=1.0)
        assert torch.allclose(filled.guided_forward(x, cond, t, 2.0), unconditioned + (conditioned - unconditioned) * 2.0, atol=1e-4)
        assert torch.equal(filled.guided_forward(x, memory, t, 1.0), conditioned)
        assert torch.equal(filled.guided_forward(x, memory, t, 0.0), unconditioned)
        # a random keep mask picks each window's music or the null condition independently
        torch.manual_seed(0)
        mixed = filled(x, memory, t, cond_drop_prob=0.5)
        torch.manual_seed(0)
        keep = torch.rand(2) < 0.5
        assert keep.tolist() == [True, False]
        assert torch.allclose(mixed, torch.where(keep[:, None, None], conditioned, unconditioned), atol=1e-4)


def _normalizer() -> Normalizer:
    data = torch.linspace(-2, 3, 400 * 151).view(400, 151) * torch.linspace(0.5, 2, 151)
    data[:, 10] = 0.25  # a constant channel: EDGE's scaler uses range 1 there
    return Normalizer.fit(data)


def _official_normalizer_modules(monkeypatch):
    """Classes with EDGE's module paths, as the official code pickles them (the module stand-ins live
    only for the test), holding a normaliser fitted by EDGE's arithmetic."""
    classes = {}
    for module, name in (("dataset.preprocess", "Normalizer"), ("dataset.scaler", "MinMaxScaler")):
        mod = types.ModuleType(module)
        cls = type(name, (), {"__module__": module})
        setattr(mod, name, cls)
        monkeypatch.setitem(sys.modules, module, mod)
        classes[name] = cls
    monkeypatch.setitem(sys.modules, "dataset", types.ModuleType("dataset"))
    data = torch.randn(300, 151) * 0.3 + torch.linspace(-1, 1, 151)
    dmin, dmax = data.min(0).values, data.max(0).values
    scaler = classes["MinMaxScaler"]()
    scale = 2 / (dmax - dmin)
    scaler.__dict__.update(feature_range=(-1, 1), copy=True, clip=True, n_samples_seen_=300, scale_=scale,
                           min_=-1 - dmin * scale, data_min_=dmin, data_max_=dmax, data_range_=dmax - dmin)
    norm = classes["Normalizer"]()
    norm.scaler = scaler
    return norm, data


def _pickle_globals(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as z:
        pkl = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    return {arg for op, arg, _ in pickletools.genops(pkl) if op.name == "GLOBAL"}


def test_official_layout_written_by_torch_save_loads_strictly(tmp_path, monkeypatch):
    torch.manual_seed(1)
    net = DanceDecoder(35)
    official_normalizer, data = _official_normalizer_modules(monkeypatch)
    path = tmp_path / "train-2000.pt"
    torch.save({"ema_state_dict": net.state_dict(), "model_state_dict": DanceDecoder(35).state_dict(),
                "optimizer_state_dict": {"state": {}, "param_groups": [{"lr": 4e-4, "betas": (0.02, 0.08, 0.01)}]},
                "normalizer": official_normalizer}, path)
    for module in ("dataset", "dataset.preprocess", "dataset.scaler"):
        monkeypatch.delitem(sys.modules, module)  # a2a must not need EDGE's code to read the file
    assert _pickle_globals(path) >= {"dataset.preprocess Normalizer", "dataset.scaler MinMaxScaler"}
    loaded = load_checkpoint(path)
    assert loaded.feature_type == "baseline"
    assert all(torch.equal(a, b) for a, b in zip(loaded.network.state_dict().values(), net.state_dict().values()))
    # the EMA weights are used, not the raw ones; the normaliser maps the training data onto [-1, 1]
    normed = loaded.normalizer.normalize(data)
    assert float(normed.min()) == -1.0 and float(normed.max()) == 1.0
    assert torch.allclose(loaded.normalizer.unnormalize(normed), data, atol=1e-5)


def test_our_checkpoints_use_the_official_pickle_names_and_round_trip(tmp_path):
    torch.manual_seed(2)
    net, norm = DanceDecoder(35), _normalizer()
    path = save_checkpoint(tmp_path / "ours.pt", net, norm)
    assert _pickle_globals(path) == {"collections OrderedDict", "torch._utils _rebuild_tensor_v2", "torch FloatStorage",
                                    "dataset.preprocess Normalizer", "dataset.scaler MinMaxScaler"}
    loaded = load_checkpoint(path)
    assert torch.equal(loaded.normalizer.scaler.scale_, norm.scaler.scale_)
    assert float(norm.scaler.scale_[10]) == 2.0  # constant channel: range taken as 1
    st = load_checkpoint(save_safetensors(tmp_path / "ours.safetensors", net, norm))
    assert all(torch.equal(a, b) for a, b in zip(st.network.state_dict().values(), net.state_dict().values()))
    assert torch.equal(st.normalizer.scaler.min_, norm.scaler.min_)


def test_a_mismatched_key_or_shape_is_named(tmp_path):
    net, norm = DanceDecoder(35), _normalizer()
    state = net.state_dict()
    state["seqTransDecoder.stack.3.film9.block.1.weight"] = state.pop("seqTransDecoder.stack.3.film2.block.1.weight")
    save_checkpoint(tmp_path / "renamed.pt", state, norm)
    with pytest.raises(InputError, match=r"unexpected key 'seqTransDecoder.stack.3.film9.block.1.weight'; "
                                         r"missing key 'seqTransDecoder.stack.3.film2.block.1.weight'"):
        load_checkpoint(tmp_path / "renamed.pt")
    state = net.state_dict()
    state["final_layer.weight"] = torch.zeros(150, 512)
    save_checkpoint(tmp_path / "shape.pt", state, norm)
    with pytest.raises(InputError, match=r"key 'final_layer.weight' has shape \[150, 512\], expected \[151, 512\]"):
        load_checkpoint(tmp_path / "shape.pt")


class _Hostile:
    """Unpickling this would create the marker file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"ema_state_dict": DanceDecoder(35).state_dict(), "normalizer": _Hostile(marker)}, path)
    with pytest.raises(InputError, match=r"refused: its pickle names io.open") as err:
        load_checkpoint(path)
    assert "\n" not in str(err.value) and not marker.exists()
    # a raw (non-torch) pickle with the same payload is refused too
    raw = tmp_path / "evil.ckpt"
    raw.write_bytes(pickle.dumps(_Hostile(marker), protocol=2))
    with pytest.raises(InputError):
        load_checkpoint(raw)
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"hello, this is text\n", random.Random(3).randbytes(5000), b""],
                         ids=["text", "random-bytes", "empty"])
def test_a_file_that_is_no_checkpoint_is_named_so_without_torchs_advice(tmp_path, capsys, content):
    """torch's text for such a file advises weights_only=False, the wrong advice; a text file even
    crashed with "unexpected KeyError: 101" (issue 19, 7)."""
    from a2a_cli.cli.app import main
    from a2a_cli.examples import write_example

    weights = tmp_path / "weights.pt"
    weights.write_bytes(content)
    with pytest.raises(InputError) as err:
        load_checkpoint(weights)
    message = str(err.value)
    assert "\n" not in message and "weights_only" not in message and "Re-running" not in message
    assert message.startswith(f"{weights} is not an EDGE checkpoint") or message.startswith(f"cannot read EDGE checkpoint {weights}")
    song = write_example(tmp_path / "song.wav")
    with pytest.raises(SystemExit) as exit_:
        main(["generate", str(song), "--model", "edge", "--weights", str(weights), "-o", str(tmp_path / "dance.npy")])
    assert exit_.value.code == 2 and capsys.readouterr().err == f"error: {message}\n"


def test_bad_files_give_one_line_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_checkpoint(tmp_path / "none.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="is not an EDGE checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in DanceDecoder(35).state_dict().items() if not k.endswith("rotary.freqs")},
              str(tmp_path / "w.safetensors"))
    with pytest.raises(InputError, match="no normaliser statistics: tensor 'normalizer.data_min'"):
        load_checkpoint(tmp_path / "w.safetensors")


@pytest.mark.heavy
def test_sampling_guidance_shares_the_null_memory_and_passes_windows_in_chunks(filled, monkeypatch):
    """Every window at one diffusion step (sampling) takes the shared-null-memory path; more windows
    than CPU_WINDOWS_PER_PASS go in chunks. Both give the two official passes' numbers, and so do the
    weights 1 and 0, which run only one of them."""
    monkeypatch.setattr(network_module, "CPU_WINDOWS_PER_PASS", 3)  # the shipped 8's chunking, at half the windows
    batch = network_module.CPU_WINDOWS_PER_PASS + 2  # a full pass and a partial one
    x, cond, _ = inputs(35, batch=batch)
    t = torch.full((batch,), 499)
    with torch.no_grad():
        memory = filled.encode_condition(cond)
        conditioned, unconditioned = filled(x, memory, t), filled(x, memory, t, cond_drop_prob=1.0)
        chunked = filled.guided_forward(x, memory, t, 2.5)
        music_only, null_only = filled.guided_forward(x, memory, t, 1.0), filled.guided_forward(x, memory, t, 0.0)  # one branch
        monkeypatch.setattr(network_module, "CPU_WINDOWS_PER_PASS", batch)
        whole = filled.guided_forward(x, memory, t, 2.5)
    expected = unconditioned + (conditioned - unconditioned) * 2.5
    assert float((chunked - expected).abs().max()) < 1e-4 and float((whole - expected).abs().max()) < 1e-4
    assert float((chunked - whole).abs().max()) < 1e-4  # outputs of ~15: float32 rounding only
    # weights 1 and 0 run one branch per chunk, each chunk on its own windows' music
    assert float((music_only - conditioned).abs().max()) < 1e-4 and float((null_only - unconditioned).abs().max()) < 1e-4
    with pytest.raises(ValueError, match="same 3 windows"):
        filled.guided_forward(x[:3], memory, t[:3], 2.0)


def test_bfloat16_autocast_is_within_a_few_percent_of_the_official_numbers(filled):
    """--precision bf16 runs the network under torch.autocast: other numbers, by about 1% here."""
    x, cond, t = inputs(35)
    with torch.no_grad():
        official = filled.guided_forward(x, cond, t, 2.0)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            fast = filled.guided_forward(x, cond, t, 2.0)
    assert fast.dtype == torch.bfloat16
    relative = float((fast.float() - official).abs().mean() / official.abs().mean())
    assert 1e-4 < relative < 0.03
