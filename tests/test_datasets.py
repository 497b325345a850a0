"""Real data in: AIST++ motion pickles and AMASS archives, read safely and grounded on the floor.

The files are written here the way their datasets write them (`pickle.dump` of a dict of numpy
arrays for AIST++, `np.savez` for AMASS), with the tools that define the formats.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from a2a_cli.errors import InputError
from a2a_cli.motion import Motion, change_up_axis
from a2a_cli.motion.aistpp import music_tempo_bpm, read_aistpp
from a2a_cli.motion.formats import load_motion
from a2a_cli.motion.grounding import floor_height
from a2a_cli.motion.resample import resample, resampled_frames
from a2a_cli.motion.skeleton import FOOT_JOINTS
from a2a_cli.scoring import score_motion


def dance_poses(n: int, seed: int = 0) -> np.ndarray:
    """Smooth, plausible joint rotations (n, 24, 3): small swings around the rest pose."""
    t = np.arange(n)[:, None, None] / 60.0
    rng = np.random.default_rng(seed)
    return (0.25 * np.sin(2 * np.pi * rng.uniform(0.3, 1.5, (1, 24, 3)) * t + rng.uniform(0, 6, (1, 24, 3)))).astype(np.float32)


def aistpp_file(tmp_path, protocol: int = 4, n: int = 240):
    """An AIST++ motion file as the dataset ships it: 60 fps, trans in the capture's scaled units,
    the floor about 0.9 m up."""
    trans = np.zeros((n, 3), np.float32)
    trans[:, 0] = np.linspace(0, 50, n)  # 0.5 m of travel, in AIST++'s scaled units
    trans[:, 1] = 180.0
    data = {"smpl_poses": dance_poses(n).reshape(n, 72), "smpl_trans": trans,
            "smpl_scaling": np.array([100.0], np.float32), "smpl_loss": np.float64(0.01)}
    path = tmp_path / f"gLH_sBM_cAll_d18_mLH4_ch02_p{protocol}.pkl"
    with open(path, "wb") as f:
        pickle.dump(data, f, protocol=protocol)
    return path


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_an_aistpp_pickle_reads_at_60_fps_in_metres_on_the_floor(tmp_path, protocol):
    motion = load_motion(aistpp_file(tmp_path, protocol))
    assert motion.fps == 60.0 and motion.n_frames == 240 and motion.meta["source"] == "AIST++"
    np.testing.assert_allclose(motion.poses, dance_poses(240), atol=0)
    np.testing.assert_allclose(motion.trans[-1, 0] - motion.trans[0, 0], 0.5, atol=1e-6)  # trans / scaling
    assert floor_height(motion.joints) == pytest.approx(0.0, abs=1e-6)  # 0.9 m of AIST++ floor removed
    report = score_motion(motion)
    assert {g.name: g.passed for g in report.gates}["penetration"] and report.metrics["floating"] == 0.0


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("payload", ["os.system", "builtins.eval", "a class"])
def test_a_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path, payload):
    marker = tmp_path / "ran"
    if payload == "os.system":
        data = pickle.dumps({"smpl_poses": _RunsCode(marker)})
    elif payload == "builtins.eval":
        data = b"cbuiltins\neval\n(V__import__('os').system('touch " + str(marker).encode() + b"')\ntR."
    else:
        data = pickle.dumps({"smpl_poses": Motion})  # a global that is not an array constructor
    path = tmp_path / "hostile.pkl"
    path.write_bytes(data)
    with pytest.raises(InputError, match=r"refused: AIST\+\+ motion names \S+; an AIST\+\+ motion file holds only numpy arrays"):
        load_motion(path)
    assert not marker.exists()


def test_a_hostile_pickle_is_one_line_and_exit_2_in_the_cli(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "hostile.pkl"
    path.write_bytes(pickle.dumps({"smpl_poses": _RunsCode(marker)}))
    done = subprocess.run([sys.executable, "-m", "a2a_cli", "score", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "refused" in done.stderr
    assert not marker.exists()


@pytest.mark.parametrize(("contents", "message"), [
    ([1, 2, 3], "holds a list"),
    ({"smpl_poses": np.zeros((4, 72))}, "has no smpl_trans, smpl_scaling"),
    ({"smpl_poses": np.zeros((4, 72)), "smpl_trans": np.zeros((4, 3)), "smpl_scaling": "big"}, "not a numeric array"),
    ({"smpl_poses": np.zeros((4, 70)), "smpl_trans": np.zeros((4, 3)), "smpl_scaling": 1.0}, "expected \\(T, 72\\)"),
    ({"smpl_poses": np.zeros((4, 72)), "smpl_trans": np.zeros((4, 3)), "smpl_scaling": 0.0}, "one positive number"),
])
def test_malformed_aistpp_files_get_clear_errors(tmp_path, contents, message):
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps(contents))
    with pytest.raises(InputError, match=message):
        load_motion(path)


def test_garbage_is_not_a_pickle(tmp_path):
    with pytest.raises(InputError, match="is not a readable pickle"):
        read_aistpp(b"\x80\x05garbage that is no pickle")


def test_aistpp_music_tempo_from_names():
    assert music_tempo_bpm("gBR_sBM_cAll_d04_mBR0_ch02") == 80.0
    assert music_tempo_bpm("gLH_sBM_cAll_d18_mLH4_ch02_slice1") == 120.0
    assert music_tempo_bpm("gHO_sFM_cAll_d20_mHO5_ch13") == 135.0  # House: 110 + 5 n
    with pytest.raises(ValueError):
        music_tempo_bpm("dance.npy")


@pytest.mark.parametrize("width", [72, 156, 165])
def test_an_amass_archive_reads_at_its_rate_y_up_on_the_floor(tmp_path, width):
    """AMASS: z-up world, the SMPL-H/X body joints first, the frame rate in `mocap_framerate`."""
    n = 120
    body_y = dance_poses(n, seed=2)
    trans_y = np.zeros((n, 3), np.float32)
    trans_y[:, 2] = np.linspace(0.0, 1.0, n)  # walks 1 m forward (+z in y-up)
    poses_z, trans_z = change_up_axis(body_y, trans_y, to="z")
    poses = np.zeros((n, width), np.float32)
    poses[:, :66] = poses_z.reshape(n, 72)[:, :66]
    if width == 72:
        poses[:, 66:] = poses_z.reshape(n, 72)[:, 66:]
    path = tmp_path / "amass.npz"
    np.savez(path, poses=poses, trans=trans_z + [0.3, -0.4, 0.95], mocap_framerate=np.array(120.0),
             betas=np.zeros(16), gender=np.array("female"))
    motion = load_motion(path)
    assert motion.fps == 120.0 and motion.n_frames == n and motion.meta["source"] == "AMASS"
    assert floor_height(motion.joints) == pytest.approx(0.0, abs=1e-5)
    assert np.ptp(motion.trans[:, 1]) < 1e-5  # the walk stays level: the up axis is right
    travel = motion.trans[-1] - motion.trans[0]
    assert np.hypot(travel[0], travel[2]) == pytest.approx(1.0, abs=1e-4)
    body = slice(1, 22)  # joint-local rotations are frame-free: the body joints arrive unchanged
    np.testing.assert_allclose(motion.poses[:, body], body_y[:, body], atol=1e-5)


def test_a_pose_file_without_translation_is_judged_standing_on_the_floor(tmp_path):
    poses = dance_poses(90).reshape(90, 72)
    np.save(tmp_path / "poses.npy", poses)
    motion = load_motion(tmp_path / "poses.npy", fps=30.0)
    report = score_motion(motion)
    gates = {g.name: g for g in report.gates}
    assert gates["penetration"].passed and gates["penetration"].value < 0.01
    assert motion.joints[:, list(FOOT_JOINTS), 1].min() > -0.05


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([24.0, 25.0, 60.0, 90.0, 120.0, 240.0]), st.integers(20, 80))
def test_resampling_keeps_the_source_samples_and_span(fps, n):
    """At a multiple of the source rate every source frame is kept; any rate covers the same span."""
    motion = Motion(dance_poses(n), np.cumsum(np.full((n, 3), 0.01, np.float32), axis=0), fps=30.0)
    faster = resample(motion, fps)
    assert faster.n_frames == resampled_frames(n, 30.0, fps)
    assert (faster.n_frames - 1) / fps <= (n - 1) / 30.0 + 1e-9 < faster.n_frames / fps
    if fps % 30 == 0:
        k = int(fps // 30)
        np.testing.assert_allclose(faster.joints[::k], motion.joints, atol=2e-5)
        back = resample(faster, 30.0)
        np.testing.assert_allclose(back.joints, motion.joints, atol=2e-5)
