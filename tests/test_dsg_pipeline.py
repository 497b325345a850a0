"""The `dsg` generator: the official window hand-over, end to end with stand-ins for WavLM, the zoo's
files, and one-line errors for missing weights or extras."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, strategies as st

torch = pytest.importorskip("torch")

from support.dsg_reference import filled_network, official_statistics, reference, stand_in_wavlm  # noqa: E402

from a2a_cli import zoo  # noqa: E402
from a2a_cli.audio.speech import analyze_speech  # noqa: E402
from a2a_cli.cli.app import main  # noqa: E402
from a2a_cli.errors import InputError  # noqa: E402
from a2a_cli.examples import synth_speech  # noqa: E402
from a2a_cli.generation import available_generators, get_generator  # noqa: E402
from a2a_cli.generation.base import generator_task  # noqa: E402
from a2a_cli.generation.dsg import pipeline, wavlm  # noqa: E402
from a2a_cli.generation.dsg.checkpoint import MIN_STD, MotionStatistics, save_checkpoint  # noqa: E402
from a2a_cli.generation.dsg.network import GestureDenoiser  # noqa: E402
from a2a_cli.generation.dsg.pipeline import DiffuseStyleGestureGenerator, gesture_windows, hand_over, style_onehot  # noqa: E402
from a2a_cli.generation.dsg.sampler import Sampler  # noqa: E402
from a2a_cli.generation.dsg.wavlm import audio_windows, wavlm_features  # noqa: E402
from a2a_cli.generation.dsg.windows import MOTION_FPS, SEED_FRAMES, STRIDE, WINDOW, covered_frames, window_count  # noqa: E402
from a2a_cli.style_names import DSG_STYLES  # noqa: E402
from a2a_cli.tasks import GESTURE  # noqa: E402


def test_the_whole_inference_is_the_official_one():
    """sample.py's `inference` (2 windows, seed hand-over, root shift and first-frame blend, std
    clipped) on the same speech, weights, stand-in WavLM and 3-step sampler: within 1e-4."""
    net = filled_network()
    n = np.arange(136_000)
    speech = (0.3 * np.sin(2 * math.pi * 180 * n / 16000) * np.sin(n / 5000.0)).astype(np.float32)
    windows = audio_windows(speech, 2, STRIDE, SEED_FRAMES, MOTION_FPS)  # the official cuts 170 frames to 2 whole windows
    features = wavlm_features(stand_in_wavlm(), windows, WINDOW)
    normalised = gesture_windows(net, Sampler(3, "ddpm"), features, style_onehot("angry"), seed=77)
    mean, std = official_statistics()
    poses = MotionStatistics(mean, np.clip(std, MIN_STD, None)).unnormalize(normalised)
    ref = reference()
    assert poses.shape == tuple(ref["inference_shape"]) == (covered_frames(2), 1141)
    assert np.abs(poses[::7, ::13] - ref["inference_out"]).max() < 1e-4


def test_hand_over_shifts_the_root_and_blends_only_the_first_frame():
    seed_frames = torch.arange(8 * 1141, dtype=torch.float32).view(8, 1141)
    sample = -torch.ones(88, 1141)
    joined = hand_over(seed_frames, sample.clone())
    assert torch.equal(joined[0, :3], seed_frames[0, :3])  # the root starts where the seed's did ...
    assert torch.equal(joined[1:, :3], -torch.ones(87, 3) + (seed_frames[0, :3] + 1))  # ... the whole window moved
    assert torch.equal(joined[0, 3:], (seed_frames[0, 3:] - 1) / 2)
    assert torch.equal(joined[1:, 3:], sample[1:, 3:])  # frames 1-7 are the sample's own


@given(st.integers(1, 20_000))
def test_windows_cover_the_frames_asked_for_and_no_more_than_needed(frames):
    n = window_count(frames)
    assert covered_frames(n) >= frames and (n == 1 or covered_frames(n - 1) < frames)


def test_styles_are_the_official_one_hot_order():
    assert DSG_STYLES == ("happy", "sad", "neutral", "old", "angry", "relaxed")
    assert style_onehot("old").tolist() == [0, 0, 0, 1, 0, 0] and style_onehot("auto").tolist() == [0, 0, 1, 0, 0, 0]
    with pytest.raises(InputError, match="choose auto or one of: happy, sad"):
        style_onehot("calm")


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dsg")
    torch.manual_seed(5)
    save_checkpoint(folder / "model000450000.pt", GestureDenoiser())
    mean, std = official_statistics()
    np.savez(folder / "mean.npz", mean=mean)
    np.savez(folder / "std.npz", std=std)
    return folder


@pytest.fixture(scope="module")
def talk():
    voice = synth_speech(5.0, seed=3, sr=22050)
    return analyze_speech(voice.samples, voice.sr)


def make_generator(folder, monkeypatch, **options):
    monkeypatch.setattr(wavlm, "require_transformers", lambda: None)  # WavLM itself is stood in for below
    gen = DiffuseStyleGestureGenerator(weights=folder / "model000450000.pt", mean=folder / "mean.npz", std=folder / "std.npz",
                                       wavlm=folder / "wavlm", **options)
    gen._wavlm_model = stand_in_wavlm()
    return gen


def test_the_generator_gestures_exact_frames_reproducibly(model_files, talk, tmp_path, monkeypatch):
    gen = make_generator(model_files, monkeypatch, steps=2, style="happy")
    assert gen.sampler.method == "ddim" and generator_task("dsg") == GESTURE and "dsg" in available_generators(GESTURE)
    done = []
    motion = gen.generate(talk, 5.0, seed=4, progress=lambda d, t: done.append((d, t)))
    assert motion.n_frames == 150 and motion.fps == 30 and np.isfinite(motion.poses).all() and np.isfinite(motion.trans).all()
    assert done[-1] == (4, 4)  # 5 s: 101 frames at 20 fps, 2 windows of 2 steps
    assert motion.meta["style"] == "happy" and motion.meta["steps"] == 2 and motion.meta["model"] == "dsg"
    again = gen.generate(talk, 5.0, seed=4)
    assert np.array_equal(again.poses, motion.poses)
    other = gen.generate(talk, 1.0, seed=5)
    assert other.n_frames == 30 and not np.allclose(other.poses, motion.poses[:30])
    with pytest.raises(InputError, match="choose auto or one of"):
        gen.use_style("animated")
    # the model's own skeleton: 20 fps ZEGGS frames, written as the official BVH
    from a2a_cli.motion.zeggs import write_zeggs_bvh

    pose = gen.zeggs_pose(talk, 30, seed=4)
    assert pose.n_frames == 30 and pose.fps == MOTION_FPS and np.isfinite(pose.joint_positions()).all()
    text = write_zeggs_bvh(tmp_path / "talk.bvh", pose, fps_out=60).read_text()
    assert "HIERARCHY" in text and "Frames: 90" in text


def test_the_released_sampler_is_the_default_and_bad_options_are_input_errors(model_files, monkeypatch):
    default = make_generator(model_files, monkeypatch)
    assert default.sampler.method == "ddpm" and default.sampler.steps == 1000
    with pytest.raises(InputError, match="--steps must be 1..1000"):
        make_generator(model_files, monkeypatch, steps=0)
    with pytest.raises(InputError, match="--precision must be one of"):
        make_generator(model_files, monkeypatch, precision="fp8")
    with pytest.raises(InputError, match="--device must be cpu or cuda"):
        make_generator(model_files, monkeypatch, device="tpu")


def a2a(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


@pytest.fixture
def talk_wav(tmp_path, monkeypatch):
    monkeypatch.setenv("A2A_GENERAL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("A2A_GENERAL_DATA_DIR", str(tmp_path / "data"))
    voice = synth_speech(2.0, seed=2, sr=22050)
    sf.write(tmp_path / "talk.wav", voice.samples, voice.sr)
    return tmp_path / "talk.wav"


def test_missing_weights_or_extra_is_one_line_naming_the_fix(talk_wav, capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "transformers" else real(name, *a))
    code, _, err = a2a(capsys, "generate", str(talk_wav), "--model", "dsg", "--style", "happy")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "a2a download-weights dsg" in err
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "transformers" else real(name, *a))
    code, _, err = a2a(capsys, "generate", str(talk_wav), "--model", "dsg")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "a2a[dsg]" in err
    code, _, err = a2a(capsys, "generate", str(talk_wav), "--model", "dsg", "--guidance", "2")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--guidance is an option of edge" in err


def test_wavlm_missing_from_the_zoo_is_named(model_files, tmp_path, monkeypatch):
    from a2a_cli.config import load_settings

    data = tmp_path / "data"
    (data / "models" / "dsg").mkdir(parents=True)
    for name in pipeline.DSG_FILES:
        (data / "models" / "dsg" / name).write_bytes((model_files / name).read_bytes())
    monkeypatch.setenv("A2A_GENERAL_DATA_DIR", str(data))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "transformers" else real(name, *a))
    with pytest.raises(zoo.MissingWeightsError, match="a2a download-weights wavlm-large"):
        get_generator("dsg", load_settings())


def test_the_zoo_holds_the_checkpoint_statistics_and_wavlm_with_the_non_commercial_notice(tmp_path, capsys, monkeypatch):
    cards = {card.name: card for card in zoo.models()}
    dsg, ears = cards["dsg"], cards["wavlm-large"]
    assert [f.name for f in dsg.files] == list(pipeline.DSG_FILES) and dsg.parameters == 9_001_781
    assert dsg.weights.sha256 is None and "cloud.tsinghua.edu.cn" in dsg.weights.sources[0].url
    assert [(f.size, f.format) for f in dsg.files[1:]] == [(4592, "numpy"), (4121, "numpy")]
    assert all(f.sha256 for f in dsg.files[1:]) and "CC BY-NC-ND 4.0" in dsg.notice and "non-commercial" in dsg.notice
    assert {f.name for f in ears.files} == {"model.safetensors", "config.json"} and ears.files[0].sources[0].hf_repo == "microsoft/wavlm-large"
    with pytest.raises(zoo.MissingWeightsError, match=r"model000450000.pt is missing\): run `a2a download-weights dsg`"):
        zoo.local_files("dsg", tmp_path)
    monkeypatch.setenv("A2A_GENERAL_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(zoo, "download", lambda *a, **k: [])
    code, _, err = a2a(capsys, "download-weights", "dsg")
    assert code in (0, None) and "non-commercial" in err and "dsg" in err
    code, _, err = a2a(capsys, "download-weights", "edge")
    assert "non-commercial" not in err


def test_a2a_generate_with_dsg_end_to_end(model_files, talk_wav, tmp_path, capsys, monkeypatch):
    """The CLI wiring: the zoo's files, --style and --steps reach the generator, a motion of exact frames
    comes out (WavLM stood in for: transformers is an optional extra)."""
    import json

    folder = tmp_path / "data" / "models"
    (folder / "dsg").mkdir(parents=True)
    for name in pipeline.DSG_FILES:
        (folder / "dsg" / name).write_bytes((model_files / name).read_bytes())
    (folder / "wavlm-large").mkdir()
    (folder / "wavlm-large" / "config.json").write_text("{}")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "transformers" else real(name, *a))
    monkeypatch.setattr(wavlm, "require_transformers", lambda: None)
    monkeypatch.setattr(wavlm, "load_wavlm", lambda path, device="cpu": stand_in_wavlm())
    code, out, err = a2a(capsys, "generate", str(talk_wav), "--model", "dsg", "--style", "sad", "--steps", "2",
                         "-o", str(tmp_path / "out"), "--format", "npz", "--json")
    assert code in (0, None), err
    result = json.loads(out)["results"][0]
    assert (result["task"], result["model"], result["style"], result["frames"]) == (GESTURE, "dsg", "sad", 60)
    with np.load(tmp_path / "out" / "talk.npz", allow_pickle=False) as npz:
        assert npz["poses"].shape[0] == 60 and json.loads(str(npz["meta"]))["steps"] == 2  # 2 s at 30 fps


def test_each_task_has_its_own_checkpoint_setting_so_a_miner_of_edge_and_dsg_gives_each_its_file(model_files, tmp_path, monkeypatch):
    """`--weights` with --model dsg is dsg's checkpoint (generate.gesture_weights), generate.weights stays EDGE's:
    a miner serving both reads two files, not one file for two models."""
    from a2a_cli.cli.generate import _weights_key
    from a2a_cli.config import load_settings

    assert (_weights_key("dsg"), _weights_key("edge"), _weights_key(None)) == ("generate.gesture_weights", "generate.weights",
                                                                              "generate.weights")
    folder = tmp_path / "data" / "models"
    (folder / "dsg").mkdir(parents=True)
    for name in pipeline.DSG_FILES[1:]:
        (folder / "dsg" / name).write_bytes((model_files / name).read_bytes())
    (folder / "wavlm-large").mkdir()
    (folder / "wavlm-large" / "config.json").write_text("{}")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "transformers" else real(name, *a))
    monkeypatch.setenv("A2A_GENERAL_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings(flags={"generate.weights": "/elsewhere/edge.pt",
                                    "generate.gesture_weights": str(model_files / "model000450000.pt")})
    assert pipeline.dsg_from_settings(settings).weights == model_files / "model000450000.pt"


def test_a_miner_serving_dsg_answers_a_speech_prompt_with_its_own_checkpoint(model_files, tmp_path, monkeypatch):
    """`a2a mine --task gesture --gesture-model dsg --gesture-weights ...`: the miner's GenerateFn reads the prompt
    as speech and gestures exactly the frames asked for, the same for the same seed (WavLM stood in for)."""
    from a2a_cli.chain.miner.service import model_generate_fn
    from a2a_cli.config import load_settings

    (tmp_path / "data" / "models" / "dsg").mkdir(parents=True)
    for name in pipeline.DSG_FILES[1:]:
        (tmp_path / "data" / "models" / "dsg" / name).write_bytes((model_files / name).read_bytes())
    (tmp_path / "data" / "models" / "wavlm-large").mkdir()
    (tmp_path / "data" / "models" / "wavlm-large" / "config.json").write_text("{}")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "transformers" else real(name, *a))
    monkeypatch.setattr(wavlm, "require_transformers", lambda: None)
    monkeypatch.setattr(wavlm, "load_wavlm", lambda path, device="cpu": stand_in_wavlm())
    monkeypatch.setenv("A2A_GENERAL_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings(flags={"generate.gesture_weights": str(model_files / "model000450000.pt"), "generate.steps": 2})
    generate = model_generate_fn("dsg", settings)
    voice = synth_speech(3.0, seed=4, sr=16000)
    first, again = (generate(voice.samples, voice.sr, 3.0, 7) for _ in range(2))
    assert first.n_frames == 90 and np.isfinite(first.poses).all() and first.meta["model"] == "dsg"
    assert np.array_equal(first.poses, again.poses) and np.array_equal(first.trans, again.trans)
