"""The `edge` generator: EDGE's sampler, long-form windows, decoding to a2a motion, planted feet."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from a2a_cli.audio import analyze  # noqa: E402
from a2a_cli.errors import InputError  # noqa: E402
from a2a_cli.examples import synth_song  # noqa: E402
from a2a_cli.generation import get_generator  # noqa: E402
from a2a_cli.generation.edge import DanceDecoder, Normalizer, save_checkpoint  # noqa: E402
from a2a_cli.generation.edge.pipeline import EdgeGenerator, contact_floor_height, lock_feet  # noqa: E402
from a2a_cli.generation.edge.sampler import DDIMSampler, Schedule, guidance_weights, time_pairs  # noqa: E402
from a2a_cli.generation.edge.windows import HOP, WINDOW, condition_windows, stitch_windows, window_count  # noqa: E402
from a2a_cli.motion.formats import load_motion, motion_from_edge_vector, motion_to_edge_vector  # noqa: E402
from a2a_cli.motion.fk import forward_kinematics  # noqa: E402
from a2a_cli.motion.skeleton import FOOT_JOINTS, L_ANKLE, R_ANKLE  # noqa: E402
from a2a_cli.scoring.pfc import physical_foot_contact  # noqa: E402
from a2a_cli.scoring.validity import validity_values  # noqa: E402

SR = 22050


@cache
def song(seconds: float):
    return analyze(synth_song(120, seconds, SR, seed=3), SR)


@cache
def choreo_motion(seconds: float = 20.0):
    audio = song(seconds)
    return get_generator("choreo").generate(audio, audio.duration_s, 0)


# Session-scoped (for this module's tests): an xdist worker runs a module's tests between other
# modules' tests, and a module-scoped fixture is built again after each such break (1 s each here).
@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory):
    """Random weights and a normaliser fitted to motion vectors of a frozen dance (a procedural
    fixture in EDGE's layout: fixed, so these tests do not move when a generator changes)."""
    m = load_motion(Path(__file__).parent / "data" / "procedural" / "choreo_hiphop_122bpm.npz")
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("edge") / "checkpoint.pt"
    save_checkpoint(path, DanceDecoder(35), Normalizer.fit(torch.from_numpy(motion_to_edge_vector(m))))
    return path


@pytest.fixture(scope="session")
def fp32_steps2(checkpoint):
    """The generator most tests dance with (2 DDIM steps, float32), its checkpoint loaded once (no test changes it)."""
    return EdgeGenerator(checkpoint, steps=2)


# --- the scheduler: EDGE's numbers ---------------------------------------------------------------

def test_schedule_and_time_grid_are_edges():
    ac = Schedule.cosine().alphas_cumprod
    # GaussianDiffusion(schedule="cosine") buffers of the official code
    assert [float(ac[i]) for i in (0, 499, 979, 999)] == pytest.approx(
        [0.9999586939811707, 0.4938434660434723, 0.0009711928432807326, 2.4287349909002387e-09], rel=1e-6)
    pairs = time_pairs(50)
    assert pairs[0] == (999, 979) and pairs[1] == (979, 959) and pairs[-1] == (19, -1) and len(pairs) == 50
    assert time_pairs(10)[-1][1] == -1 and len(time_pairs(10)) == 10
    w = guidance_weights(50, 2.0, long_form=True)
    assert w[0] == 0.0 and w[24] == pytest.approx(1.959183673) and w[25:] == [2.0] * 25
    assert guidance_weights(50, 2.0, long_form=False) == [2.0] * 50


class ToyDenoiser(torch.nn.Module):
    """A bounded x0 predictor depending on x, the music, t and w (the same one gave the reference)."""

    def guided_forward(self, x, cond, t, w):
        return torch.tanh(0.8 * x + 0.3 * cond.mean(-1, keepdim=True)) * (1 + t[:, None, None] / 2000) * (0.5 + 0.25 * w)


# Stanford-TML/EDGE's GaussianDiffusion.long_ddim_sample (commit 17c3428; cosine schedule, x0
# prediction, guidance 2) with ToyDenoiser, torch.manual_seed(0): x[:, [0, 74, 75, 149]][..., [0, 100]].
OFFICIAL_SAMPLES = {
    1: [-0.176604, -0.281223, 0.678474, 0.638057, 0.053081, 0.018556, -0.631625, -0.744362],
    3: [0.04704, -0.127329, 0.565766, 0.661553, 0.419559, 0.315958, -0.746149, -0.683855, -0.026708, -0.145346,
        -0.397199, -0.286362, 0.665359, 0.755448, -0.422106, -0.162712, 0.394604, 0.535512, -0.497729, -0.254109,
        -0.342078, -0.515981, 0.732594, 0.639838],
}


def test_few_steps_stay_finite():
    """EDGE's own code gives NaN for a first step from t = 999 straight to a small t (float32 rounding)."""
    cond = torch.zeros(3, 150, 4)
    for steps in (1, 2, 5, 10):
        assert torch.isfinite(DDIMSampler(steps=steps).sample(ToyDenoiser(), cond, (3, 150, 151))).all()


@pytest.mark.parametrize("batch", [1, 3])
def test_ddim_sampler_matches_the_official_one(batch):
    cond = torch.sin(0.05 * torch.arange(batch * 150 * 4, dtype=torch.float64)).float().view(batch, 150, 4)
    torch.manual_seed(0)
    x = DDIMSampler().sample(ToyDenoiser(), cond, (batch, 150, 151))
    got = x[:, [0, 74, 75, 149]][:, :, [0, 100]].flatten().tolist()
    assert max(abs(a - b) for a, b in zip(got, OFFICIAL_SAMPLES[batch])) < 1e-5


# --- decoding ------------------------------------------------------------------------------------

def test_windows_of_a_motion_stitch_back_to_it():
    """a2a motion -> EDGE vectors (z up, 6D) -> overlapping windows -> stitched -> the same motion."""
    m = choreo_motion()
    vectors = motion_to_edge_vector(m)
    n = 525  # 6 windows
    b = window_count(n)
    windows = np.stack([vectors[i * HOP:i * HOP + WINDOW] for i in range(b)]).astype(np.float64)
    stitched = stitch_windows(windows)
    assert stitched.shape == (HOP * (b + 1), 151)
    np.testing.assert_allclose(motion_from_edge_vector(stitched[:n]).joints, m.joints[:n], atol=1e-4)
    np.testing.assert_allclose(stitched[:n, :4], vectors[:n, :4], atol=1e-6)


def test_windows_cover_any_duration_and_pad_the_tail():
    assert [window_count(n) for n in (30, 150, 151, 225, 226, 360, 1830)] == [1, 1, 2, 2, 3, 4, 24]
    feats = np.arange(40 * 35, dtype=np.float32).reshape(40, 35)
    w = condition_windows(feats, 40)
    assert w.shape == (1, 150, 35)
    np.testing.assert_array_equal(w[0, :40], feats)
    np.testing.assert_array_equal(w[0, 40:80], feats[::-1])  # mirrored, then mirrored again
    np.testing.assert_array_equal(w[0, 80:120], feats)
    with pytest.raises(InputError):
        condition_windows(feats[:0], 10)


# --- the generator with a real (random-weight) network -------------------------------------------

def _seam_ratio(joints: np.ndarray) -> float:
    """Largest mean joint speed at a window seam (frames 75 k) over the 99th percentile elsewhere."""
    speed = np.linalg.norm(np.diff(joints, axis=0), axis=-1).mean(axis=-1)
    seams = np.arange(HOP, speed.size, HOP)
    at = np.concatenate([seams - 1, seams])
    return float(speed[at].max() / np.percentile(np.delete(speed, at), 99))


@pytest.mark.heavy
@pytest.mark.parametrize("seconds,frames", [(12.0, 360), (31.0, 930)])  # 4 windows; 12, more than a CPU pass takes
def test_long_form_gives_exact_frames_without_seams(fp32_steps2, seconds, frames):
    motion = fp32_steps2.generate(song(seconds), seconds, seed=1)
    assert motion.n_frames == frames and motion.fps == 30 and np.isfinite(motion.joints).all()
    assert _seam_ratio(motion.joints) < 1.0


def test_short_and_odd_durations_and_determinism(fp32_steps2):
    gen = fp32_steps2
    audio = song(12.0)
    for seconds in (1.0, 4.99, 7.3):
        assert gen.generate(audio, seconds, seed=0).n_frames == round(seconds * 30)
    a, b, c = (gen.generate(audio, 7.3, seed=s) for s in (4, 4, 5))
    assert np.array_equal(a.poses, b.poses) and np.array_equal(a.trans, b.trans)
    assert not np.allclose(a.poses, c.poses)


@pytest.mark.heavy
def test_bf16_precision_dances_every_frame_reproducibly(checkpoint, fp32_steps2):
    gen = EdgeGenerator(checkpoint, steps=2, precision="bf16")
    a, b = (gen.generate(song(12.0), 7.3, seed=4) for _ in range(2))
    assert a.n_frames == 219 and a.meta["precision"] == "bf16" and np.isfinite(a.poses).all()
    assert np.array_equal(a.poses, b.poses)
    official = fp32_steps2.generate(song(12.0), 7.3, seed=4)
    assert official.meta["precision"] == "fp32" and not np.array_equal(a.poses, official.poses)


def test_the_feet_end_on_the_floor(fp32_steps2):
    motion = fp32_steps2.generate(song(12.0), 12.0, seed=2)
    lowest = motion.joints[:, FOOT_JOINTS, 1].min(axis=1)
    assert abs(contact_floor_height(motion.joints, motion.meta["contacts"])) < 0.01
    assert np.percentile(lowest, 5) > -0.05


class WindowDenoiser(torch.nn.Module):
    """x0 constant over each window and different between windows (from the window's music), so
    windows joined without EDGE's overlap handling would jump at every seam."""

    def encode_condition(self, cond):
        return cond

    def guided_forward(self, x, cond, t, w):
        level = torch.sin(cond.double().sum(dim=(1, 2))).float()[:, None, None]  # differs from window to window
        channel = torch.linspace(-0.6, 0.6, x.shape[-1])[None, None, :]
        return (channel + 0.9 * level).expand_as(x) + 0.005 * torch.tanh(x)


def test_seams_are_smooth_where_windows_disagree(checkpoint):
    gen = EdgeGenerator(checkpoint, steps=5)
    gen.model.network = WindowDenoiser()
    vectors = gen.sample_vectors(condition_windows(song(12.0).features, 360), seed=0)
    assert _seam_ratio(motion_from_edge_vector(stitch_windows(vectors)[:360]).joints) < 1.0
    # joined end to end, the same windows do jump: the measure can fail
    naive = np.concatenate([vectors[0, :HOP]] + [v[HOP:] for v in vectors])
    assert _seam_ratio(motion_from_edge_vector(naive[:360]).joints) > 3.0


# --- planted feet --------------------------------------------------------------------------------

def test_locking_predicted_contacts_stops_foot_sliding():
    """A dance whose root drifts (EDGE-like sliding) with the contacts of the clean dance: the
    planted ankles stop moving, the swinging ones are untouched."""
    m = choreo_motion()
    vectors = motion_to_edge_vector(m)
    contacts = vectors[:, :4]
    t = np.arange(m.n_frames) / 30.0
    drift = np.stack([0.25 * np.sin(2 * np.pi * 0.4 * t), 0 * t, 0.25 * np.cos(2 * np.pi * 0.3 * t)], axis=1)
    trans = (m.trans + drift).astype(np.float32)
    before = forward_kinematics(m.poses, trans)
    locked = lock_feet(m.poses, trans, contacts)
    after = forward_kinematics(locked, trans)
    for side, ankle in enumerate((L_ANKLE, R_ANKLE)):
        planted = contacts[1:, side] > 0.5
        slide_before = np.linalg.norm(np.diff(before[:, ankle], axis=0), axis=-1)[planted & (contacts[:-1, side] > 0.5)]
        slide_after = np.linalg.norm(np.diff(after[:, ankle], axis=0), axis=-1)[planted & (contacts[:-1, side] > 0.5)]
        assert np.median(slide_after) < 0.2 * np.median(slide_before)
    free = (contacts[:, 0] < 0.5) & (contacts[:, 1] < 0.5)
    np.testing.assert_allclose(after[free][:, :7], before[free][:, :7], atol=1e-4)  # pelvis, hips, knees, spine
    skate_before = float(validity_values(before, 30.0)["foot_skating"])
    skate_after = float(validity_values(after, 30.0)["foot_skating"])
    assert skate_after < skate_before
    assert physical_foot_contact(after) < physical_foot_contact(before)


# --- loading errors the user sees ----------------------------------------------------------------

def test_without_weights_the_error_names_the_download_command(tmp_path, monkeypatch):
    monkeypatch.setenv("A2A_GENERAL_DATA_DIR", str(tmp_path / "data"))  # nothing downloaded there
    with pytest.raises(InputError, match="a2a download-weights edge"):
        get_generator("edge")


def test_without_weights_the_downloaded_ones_are_used(checkpoint, tmp_path, monkeypatch):
    """`a2a download-weights edge` puts the checkpoint in the data dir; `--model edge` finds it there."""
    import shutil

    from a2a_cli import zoo

    data = tmp_path / "data"
    monkeypatch.setenv("A2A_GENERAL_DATA_DIR", str(data))
    monkeypatch.setenv("A2A_GENERATE_STEPS", "2")
    target = zoo.model_dir("edge", data) / zoo.model_card("edge").weights.name
    target.parent.mkdir(parents=True)
    shutil.copy(checkpoint, target)
    generator = get_generator("edge")
    assert generator.generate(song(12.0), 2.0, seed=0).n_frames == 60


def test_bad_options_are_one_line_errors(checkpoint, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        EdgeGenerator(tmp_path / "none.pt")
    with pytest.raises(InputError, match="--device"):
        EdgeGenerator(checkpoint, device="tpu")
    with pytest.raises(InputError, match="--precision must be one of fp32, bf16"):
        EdgeGenerator(checkpoint, precision="fp16")
    juke = tmp_path / "juke.pt"
    save_checkpoint(juke, DanceDecoder(4800), Normalizer.fit(torch.rand(10, 151)))
    with pytest.raises(InputError, match="Jukebox model .* jukemirlib: pip install 'a2a\\[jukebox\\]'"):
        EdgeGenerator(juke)  # jukemirlib is not installed here


# --- the commands --------------------------------------------------------------------------------

def _a2a(capsys, *args: str) -> tuple[int, str, str]:
    from a2a_cli.cli.app import main

    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


def test_a2a_generate_model_edge(checkpoint, tmp_path, capsys, monkeypatch):
    import json

    import soundfile as sf

    monkeypatch.setenv("A2A_GENERAL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("A2A_GENERAL_DATA_DIR", str(tmp_path / "data"))  # no downloaded weights
    wav = tmp_path / "song.wav"
    sf.write(wav, synth_song(120, 6.5, SR, seed=1), SR)
    code, _, err = _a2a(capsys, "generate", str(wav), "--model", "edge", "-o", str(tmp_path / "a.npz"))
    assert code == 2 and "a2a download-weights edge" in err and len(err.strip().splitlines()) == 1
    code, _, err = _a2a(capsys, "generate", str(wav), "--model", "edge", "--weights", str(tmp_path / "no.pt"))
    assert code == 2 and "does not exist" in err and len(err.strip().splitlines()) == 1
    code, _, err = _a2a(capsys, "generate", str(wav), "--model", "edge", "--precision", "fp8")
    assert code == 2 and "bf16" in err and len(err.strip().splitlines()) == 1
    code, out, err = _a2a(capsys, "generate", str(wav), "--model", "edge", "--weights", str(checkpoint), "--steps", "2",
                          "--guidance", "1.5", "--device", "cpu", "-o", str(tmp_path / "a.npz"), "--json")
    assert code == 0, err
    result = json.loads(out)["results"][0]
    assert result["model"] == "edge" and result["frames"] == 195
    assert np.load(tmp_path / "a.npz")["poses"].shape[0] == 195


def test_the_miner_serves_edge(checkpoint):
    from a2a_cli.chain.miner import model_generate_fn
    from a2a_cli.config import load_settings

    settings = load_settings(flags={"generate.weights": str(checkpoint), "generate.steps": 1})
    generate = model_generate_fn("edge", settings)
    motion = generate(synth_song(120, 3.0, SR, seed=2), SR, 2.5, 7)
    assert motion.n_frames == 75 and motion.meta["model"] == "edge"
