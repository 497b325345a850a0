"""`a2a train`: data layouts and the official split, windows, the objective, and a tiny CPU run.

The datasets are made here: songs synthesised with known beats (`examples.synth_song`), dances
that move on those beats (`support/dances.plausible_dance`), written as a2a motion files beside
their audio, or as AIST++ pickles (60 fps, scaled translation) beside `wavs/`.
"""

from __future__ import annotations

import json
import pickle
import zipfile

import numpy as np
import pytest
import soundfile as sf

torch = pytest.importorskip("torch")
pytest.importorskip("accelerate")

from a2a_cli.errors import InputError  # noqa: E402
from a2a_cli.examples import synth_song  # noqa: E402
from a2a_cli.motion.formats import motion_to_edge_vector, save_motion  # noqa: E402
from a2a_cli.motion.motion import Motion  # noqa: E402
from a2a_cli.training.dataset import STRIDE_FRAMES, WINDOW_FRAMES, WindowIndex, find_sequences, load_tracks, split_sequences  # noqa: E402
from a2a_cli.training.objective import EdgeObjective, rotation_6d_to_matrix  # noqa: E402
from support.dances import beat_frames_of, plausible_dance  # noqa: E402

SR = 22050
BPM = 120
TINY_LR = "3e-5"  # a few steps of a 47 M-parameter network from scratch: larger first steps overshoot


def write_song(path, seconds: float, seed: int) -> None:
    sf.write(path, synth_song(BPM, seconds, SR, seed=seed), SR)


def a2a_dataset(folder, seconds=(6.5, 7.0)):
    """Motions (.npy) with a wav of the same stem; each `seconds` long at 30 fps."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, s in enumerate(seconds):
        n = int(round(s * 30))
        save_motion(plausible_dance(beat_frames_of(BPM, s), n, seed=i), folder / f"dance{i}.npy")
        write_song(folder / f"dance{i}.wav", s, seed=i)
    return folder


def aistpp_motion(path, seconds: float, seed: int, scaling: float = 93.0) -> Motion:
    """An AIST++-style pickle (60 fps, translation times `scaling`) of a dance; returns the 60-fps dance."""
    n = int(round(seconds * 60))
    dance = plausible_dance(beat_frames_of(BPM, seconds, fps=60), n, fps=60, seed=seed)
    doc = {"smpl_poses": dance.poses.reshape(n, 72).astype(np.float64), "smpl_trans": dance.trans.astype(np.float64) * scaling,
           "smpl_scaling": np.array([scaling]), "smpl_loss": np.float64(1.5)}
    path.write_bytes(pickle.dumps(doc, protocol=4))
    return dance


def test_a2a_layout_pairs_motions_with_audio_and_cuts_windows(tmp_path):
    data = a2a_dataset(tmp_path / "data")
    sequences = find_sequences(data)
    assert [s.name for s in sequences] == ["dance0", "dance1"]
    split = split_sequences(sequences)
    assert not split.official and split.train == sequences and split.test == []
    tracks = load_tracks(sequences, None)
    # 6.5 s = 195 frames: windows at 0, 15, 30, 45 (45 + 150 = 195); 7 s = 210 frames: 0..60, five.
    assert [list(t.window_starts) for t in tracks] == [[0, 15, 30, 45], [0, 15, 30, 45, 60]]
    windows = WindowIndex(tracks)
    motion, features = windows.window(5)  # the second window of dance1
    assert motion.shape == (WINDOW_FRAMES, 151) and features.shape == (WINDOW_FRAMES, 35)
    np.testing.assert_array_equal(motion, tracks[1].motion[STRIDE_FRAMES:STRIDE_FRAMES + WINDOW_FRAMES])
    low, high = windows.motion_extremes()
    assert np.all(low <= tracks[0].motion.min(0)) and np.all(high >= tracks[1].motion.max(0))


def test_aistpp_layout_uses_the_official_split_and_60_fps(tmp_path):
    data = tmp_path / "aist"
    (data / "motions").mkdir(parents=True)
    (data / "wavs").mkdir()
    names = {"gLH_sBM_cAll_d17_mLH4_ch02": "test", "gBR_sBM_cAll_d04_mBR1_ch03": "train",
             "gBR_sFM_cAll_d05_mBR5_ch14": "ignored", "gXX_sBM_cAll_d99_mXX0_ch01": "unknown"}
    dances = {}
    for i, name in enumerate(names):
        dances[name] = aistpp_motion(data / "motions" / f"{name}.pkl", 5.5, seed=i)
        write_song(data / "wavs" / f"{name}.wav", 5.5, seed=i)
    split = split_sequences(find_sequences(data))
    assert split.official
    assert [s.name for s in split.train] == ["gBR_sBM_cAll_d04_mBR1_ch03"]
    assert [s.name for s in split.test] == ["gLH_sBM_cAll_d17_mLH4_ch02"]
    assert sorted(s.name for s in split.ignored) == ["gBR_sFM_cAll_d05_mBR5_ch14", "gXX_sBM_cAll_d99_mXX0_ch01"]
    [track] = load_tracks(split.train, None)
    dance = dances["gBR_sBM_cAll_d04_mBR1_ch03"]
    expected = motion_to_edge_vector(Motion(poses=dance.poses[::2], trans=dance.trans[::2], fps=30))  # every other frame, metres
    assert track.motion.shape == (165, 151)
    np.testing.assert_allclose(track.motion, expected[:165], atol=1e-5)


def test_aist_music_is_found_by_its_music_id(tmp_path):
    data = tmp_path / "aist"
    (data / "motions").mkdir(parents=True)
    (data / "music").mkdir()
    aistpp_motion(data / "motions" / "gBR_sBM_cAll_d04_mBR0_ch01.pkl", 5.5, seed=0)
    write_song(data / "music" / "mBR0.wav", 5.5, seed=0)
    [sequence] = find_sequences(data)
    assert sequence.audio == data / "music" / "mBR0.wav"


def test_a_motion_without_music_is_named(tmp_path):
    data = a2a_dataset(tmp_path / "data")
    (data / "dance1.wav").unlink()
    with pytest.raises(InputError, match=r"no audio for .*dance1\.npy"):
        find_sequences(data)


def test_6d_decoding_matches_the_numpy_one():
    from a2a_cli.motion.rotations import sixd_to_matrix

    d6 = np.random.default_rng(0).normal(size=(50, 6))
    np.testing.assert_allclose(rotation_6d_to_matrix(torch.tensor(d6)).numpy(), sixd_to_matrix(d6), atol=1e-10)


def test_the_kinematic_terms_match_numpy_forward_kinematics(tmp_path):
    """The objective's FK on true poses gives the joints a2a's FK gives (z-up: both rotate the root)."""
    from a2a_cli.motion.motion import change_up_axis
    from a2a_cli.motion.fk import forward_kinematics
    from a2a_cli.motion.rotations import axis_angle_to_matrix, matrix_to_6d

    dance = plausible_dance(beat_frames_of(BPM, 2.0), 60, seed=1)
    poses_z, trans_z = change_up_axis(dance.poses, dance.trans, to="z")
    pose = np.concatenate([trans_z, matrix_to_6d(axis_angle_to_matrix(poses_z.astype(np.float64))).reshape(60, -1)], axis=1)
    objective = EdgeObjective(torch.linspace(0.9999, 1e-4, 1000))
    joints = objective._joints(torch.tensor(pose[None], dtype=torch.float64).float()).numpy()[0]
    np.testing.assert_allclose(joints, forward_kinematics(poses_z, trans_z), atol=1e-4)


def test_a_foot_said_planted_that_slides_costs_and_one_that_stays_does_not():
    from a2a_cli.generation.edge import DanceDecoder

    objective = EdgeObjective(torch.linspace(0.9999, 1e-4, 1000))

    class Echo(torch.nn.Module):  # a "network" that returns a fixed prediction
        def __init__(self, out):
            super().__init__()
            self.out = out

        def forward(self, x, cond, t, cond_drop_prob=0.0):
            return self.out

    still = torch.zeros(1, 150, 151)
    still[..., 4 + 3::6] = 1.0  # identity rotations: first row (1, 0, 0) ...
    still[..., 4 + 3 + 4::6] = 1.0  # ... second row (0, 1, 0)
    sliding = still.clone()
    sliding[..., 4] = torch.linspace(0, 1, 150)  # the root, and so the feet, travel 1 unit
    for contacts, expected_positive in ((1.0, True), (0.0, False)):
        prediction = sliding.clone()
        prediction[..., :4] = contacts
        loss = objective(Echo(prediction), sliding, torch.zeros(1, 150, 35), t=torch.tensor([10]), noise=torch.zeros_like(sliding))
        assert (loss.terms["foot_skate"] > 0) == expected_positive
    assert DanceDecoder  # the real network is exercised by the run below


def test_bad_training_requests_are_one_line_input_errors(tmp_path):
    from a2a_cli.training.trainer import TrainConfig, train

    data = a2a_dataset(tmp_path / "data", seconds=(5.5,))
    with pytest.raises(InputError, match="training data must be a folder"):
        train(tmp_path / "nowhere", tmp_path / "x.pt", TrainConfig(cpu=True))
    with pytest.raises(InputError, match="--optimizer must be one of adan, adamw"):
        train(data, tmp_path / "x.pt", TrainConfig(optimizer="sgd", cpu=True))
    with pytest.raises(InputError, match="--resume: .* does not exist"):
        train(data, tmp_path / "x.pt", TrainConfig(cpu=True), resume=True)
    short = a2a_dataset(tmp_path / "short", seconds=(4.0,))  # shorter than one 5-s window
    with pytest.raises(InputError, match="nothing to train on"):
        train(short, tmp_path / "x.pt", TrainConfig(cpu=True))


def run_cli(*args: str, capsys) -> tuple[int, str, str]:
    from a2a_cli.cli.app import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


@pytest.mark.heavy
def test_a_tiny_cpu_run_lowers_the_loss_resumes_and_generates(tmp_path, capsys):
    """`a2a train` two steps, then `--resume` to four: the checkpoint has EDGE's layout (EDGE's class
    names in the pickle, Adan's state), reloads strictly through the edge loader, its loss on fixed
    noise fell, and `a2a generate --model edge --weights` dances with the weights-only export beside it."""
    from a2a_cli.generation.edge import load_checkpoint
    from a2a_cli.generation.edge.checkpoint import OFFICIAL_CLASSES
    from a2a_cli.generation.edge.sampler import Schedule
    from a2a_cli.training.trainer import evaluate

    data = a2a_dataset(tmp_path / "data", seconds=(5.5,))  # 165 frames: windows at 0, 15
    checkpoint = tmp_path / "edge-tiny.pt"
    tiny = ["--batch-size", "2", "--lr", TINY_LR, "--ema-decay", "0", "--cpu", "--json"]
    code, out, err = run_cli("train", str(data), "-o", str(checkpoint), "--steps", "2", *tiny, capsys=capsys)
    assert code == 0, err
    first = json.loads(out)
    assert first["steps"] == 2 and first["start_step"] == 0 and first["windows"] == 2 and not first["official_split"]
    # Beside the resumable checkpoint, the weights to share: the EMA weights and the normaliser, a sixth
    # of the size (no raw weights, no optimizer state), read without a pickle (issue 19, 16).
    export = tmp_path / "edge-tiny.safetensors"
    assert first["weights"] == str(export) and 5.5 < checkpoint.stat().st_size / export.stat().st_size < 6.5
    code, _, err = run_cli("train", str(data), "-o", str(export), "--steps", "2", "--cpu", capsys=capsys)
    assert code == 2 and "-o names the resumable checkpoint" in err and err.count("\n") == 1
    other = tmp_path / "other"
    other.mkdir()
    (other / "edge-tiny.safetensors").write_bytes(b"mine")  # nothing is overwritten unasked
    code, _, err = run_cli("train", str(data), "-o", str(other / "edge-tiny.pt"), "--steps", "1", "--cpu", capsys=capsys)
    assert code == 2 and "edge-tiny.safetensors exists" in err and (other / "edge-tiny.safetensors").read_bytes() == b"mine"
    code, _, err = run_cli("train", str(data), "-o", str(checkpoint), "--steps", "2", "--cpu", capsys=capsys)
    assert code == 2 and "--resume" in err and err.count("\n") == 1
    code, _, err = run_cli("train", str(data), "-o", str(checkpoint), "--steps", "2", "--resume", "--cpu", capsys=capsys)
    assert code == 2 and f"{checkpoint} is at step 2 already" in err and err.count("\n") == 1  # not "trained 2 steps"

    with torch.serialization.safe_globals([(cls, name) for name, cls in OFFICIAL_CLASSES.items()]):
        entries = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)  # read only what is checked
    assert list(entries) == ["ema_state_dict", "model_state_dict", "optimizer_state_dict", "normalizer"]
    with zipfile.ZipFile(checkpoint) as archive:  # the normaliser pickled under EDGE's own class names
        pickled = archive.read(next(n for n in archive.namelist() if n.endswith("/data.pkl")))
    assert b"dataset.preprocess\nNormalizer" in pickled and b"dataset.scaler\nMinMaxScaler" in pickled
    optimizer_state = entries["optimizer_state_dict"]
    assert set(optimizer_state["state"][0]) == {"step", "prev_grad", "m", "v", "n"}  # Adan's, as EDGE's
    assert max(s["step"] for s in optimizer_state["state"].values()) == 2
    before, shared = load_checkpoint(checkpoint), load_checkpoint(export)
    torch.testing.assert_close(shared.network.state_dict(), before.network.state_dict(), rtol=0, atol=0)
    torch.testing.assert_close(shared.normalizer.scaler.data_max_, before.normalizer.scaler.data_max_, rtol=0, atol=0)

    code, out, err = run_cli("train", str(data), "-o", str(checkpoint), "--steps", "4", "--resume", *tiny, capsys=capsys)
    assert code == 0, err
    later = json.loads(out)
    assert later["start_step"] == 2 and later["steps"] == 4
    after = load_checkpoint(checkpoint)
    torch.testing.assert_close(after.normalizer.scaler.data_min_, before.normalizer.scaler.data_min_)  # kept on resume

    windows = WindowIndex(load_tracks(find_sequences(data), None))
    objective = EdgeObjective(Schedule.cosine().alphas_cumprod)
    loss_before = evaluate(objective, before.network, windows, before.normalizer, 2, seed=5)
    loss_after = evaluate(objective, after.network, windows, after.normalizer, 2, seed=5)
    assert loss_after < 0.9 * loss_before, (loss_before, loss_after)

    song = data / "dance0.wav"
    dance = tmp_path / "dance.npy"
    code, out, err = run_cli("generate", str(song), "--model", "edge", "--weights", str(export), "--steps", "2",
                             "-o", str(dance), "--json", capsys=capsys)
    assert code == 0, err
    assert np.load(dance).shape == (165, 75) and np.isfinite(np.load(dance)).all()
