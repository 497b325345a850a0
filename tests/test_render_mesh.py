"""The SMPL mesh preview (`--smpl-model`): model files read safely (.npz and SMPL 1.1 .pkl), posed
by smplx, rasterised; and the one-line errors when smplx or the files are missing or wrong.

SMPL's own files cannot ship with the tests (licence): the mesh is checked with a tiny model in
SMPL's format (an octahedron around each joint, see render_support.tiny_smpl_model) that smplx
loads and poses like the real one."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from a2a_cli.cli.app import main
from a2a_cli.errors import InputError, WorkError
from a2a_cli.motion import Motion
from a2a_cli.motion.formats import save_motion
from a2a_cli.motion.skeleton import L_ELBOW, L_SHOULDER, R_ELBOW, R_SHOULDER
from a2a_cli.render import render_frame
from a2a_cli.render.mesh import load_smpl_model
from render_support import blue, frame_and_body, frames_folder, luminance, orange, tiny_smpl_model


def pose(arms_up: bool = False, n_frames: int = 4) -> Motion:
    poses = np.zeros((n_frames, 24, 3), np.float32)
    if arms_up:
        poses[:, L_SHOULDER, 2], poses[:, R_SHOULDER, 2] = 1.3, -1.3
        poses[:, L_ELBOW, 2], poses[:, R_ELBOW, 2] = 0.2, -0.2
    trans = np.zeros((n_frames, 3), np.float32)
    trans[:, 1] = 0.95
    return Motion(poses, trans)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("smpl")
    np.savez(folder / "SMPL_NEUTRAL.npz", **tiny_smpl_model())
    return folder


@pytest.fixture(scope="module")
def frames(tmp_path_factory) -> Path:
    return frames_folder(tmp_path_factory)


def test_the_mesh_is_posed_where_the_joints_are(model_dir, frames):
    pytest.importorskip("smplx")
    for arms_up in (False, True):
        mesh, mesh_body = frame_and_body(pose(arms_up), 1, size=(640, 480), smpl_model=model_dir)
        capsules, capsule_body = frame_and_body(pose(arms_up), 1, size=(640, 480))
        Image.fromarray(mesh).save(frames / f"smpl_mesh_tiny_model{'_arms_up' if arms_up else ''}.png")
        # Octahedra around the joints: fewer pixels than the body, but on it, and each side in its colour.
        assert 1500 < mesh_body.sum() < 0.6 * capsule_body.sum()
        assert (mesh_body & capsule_body).sum() > 0.85 * mesh_body.sum()
        # Seen from the front, the body's left (orange) is on the image's right.
        assert np.nonzero(orange(mesh) & mesh_body)[1].mean() > np.nonzero(blue(mesh) & mesh_body)[1].mean() + 40
    # Raised arms: the hands' octahedra are above the head's.
    rows = np.nonzero((orange(mesh) | blue(mesh)).any(axis=1))[0]
    assert rows.min() < np.nonzero(mesh_body.any(axis=1))[0].min() + 3


def test_the_mesh_is_shaded_lit_from_above(model_dir):
    pytest.importorskip("smplx")
    frame, body = frame_and_body(pose(), 1, size=(640, 480), smpl_model=model_dir)
    light = luminance(frame)
    assert np.ptp(light[body]) > 100
    # The head's octahedron (the topmost one): its upper half brighter than its lower half.
    rows = np.nonzero(body.any(axis=1))[0]
    top = rows.min()
    upper, lower = body.copy(), body.copy()
    upper[top + 10 :] = False
    lower[: top + 12] = False
    lower[top + 22 :] = False
    assert light[upper].mean() > light[lower].mean() + 15


def test_an_official_style_pkl_with_a_sparse_regressor_draws_the_same(model_dir, tmp_path):
    pytest.importorskip("smplx")
    from scipy.sparse import csc_matrix

    data = tiny_smpl_model()
    data["J_regressor"] = csc_matrix(data["J_regressor"])
    data["bs_style"] = "lbs"
    path = tmp_path / "basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl"
    from_npz = np.asarray(render_frame(pose(), 1, size=(320, 240), smpl_model=model_dir))
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        path.write_bytes(pickle.dumps(data, protocol=protocol))
        from_pkl = np.asarray(render_frame(pose(), 1, size=(320, 240), smpl_model=path))
        assert np.array_equal(from_pkl, from_npz)
    assert load_smpl_model(tmp_path)[0] == path  # found in its folder by the official name


class RunsCode:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_a_pkl_that_would_run_code_is_refused_unrun(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "SMPL_NEUTRAL.pkl"
    evil.write_bytes(pickle.dumps({"v_template": RunsCode()}))
    with pytest.raises(InputError, match="posix.system|os.system|not read for safety"):
        load_smpl_model(tmp_path)
    assert not (tmp_path / "pwned").exists()


def test_model_file_errors(tmp_path):
    with pytest.raises(InputError, match="SMPL model not found"):
        load_smpl_model(tmp_path / "nope.npz")
    with pytest.raises(InputError, match="no SMPL model in"):
        load_smpl_model(tmp_path)
    bad = tiny_smpl_model()
    del bad["posedirs"]
    np.savez(tmp_path / "partial.npz", **bad)
    with pytest.raises(InputError, match="lacks posedirs"):
        load_smpl_model(tmp_path / "partial.npz")
    wrong = tiny_smpl_model()
    wrong["weights"] = wrong["weights"][:, :20]
    np.savez(tmp_path / "wrong.npz", **wrong)
    with pytest.raises(InputError, match=r"weights is \(144, 20\)"):
        load_smpl_model(tmp_path / "wrong.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="cannot read the SMPL model"):
        load_smpl_model(tmp_path / "junk.npz")
    (tmp_path / "zipped.npz").write_bytes(b"PK\x03\x04 then garbage")  # zipfile's own BadZipFile
    with pytest.raises(InputError, match="cannot read the SMPL model"):
        load_smpl_model(tmp_path / "zipped.npz")
    locked = bytearray((tmp_path / "wrong.npz").read_bytes())
    locked[locked.index(b"PK\x01\x02") + 8] |= 0x1  # a member marked encrypted: zipfile's RuntimeError
    (tmp_path / "locked.npz").write_bytes(bytes(locked))
    with pytest.raises(InputError, match="cannot read the SMPL model .*encrypted"):
        load_smpl_model(tmp_path / "locked.npz")


def test_joint_positions_only_cannot_be_a_mesh(model_dir):
    with pytest.raises(InputError, match="needs joint rotations"):
        render_frame(Motion.from_joints(pose().joints), 0, smpl_model=model_dir)


def test_without_smplx_the_error_says_what_to_install(model_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "smplx", None)  # import smplx raises ImportError
    with pytest.raises(WorkError, match=r"needs the smplx package .*pip install 'a2a\[mesh\]'"):
        render_frame(pose(), 0, smpl_model=model_dir)


def run_cli(*args: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    return exit_info.value.code


def test_render_command_smpl_model_errors_are_one_line(tmp_path, model_dir, capsys, monkeypatch):
    motion = tmp_path / "dance.npz"
    save_motion(pose(n_frames=6), motion)
    out = tmp_path / "mesh.mp4"
    assert run_cli("render", str(motion), "-o", str(out), "--smpl-model", str(tmp_path / "missing.pkl")) == 2
    monkeypatch.setitem(sys.modules, "smplx", None)
    assert run_cli("render", str(motion), "-o", str(out), "--smpl-model", str(model_dir)) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 2
    assert "SMPL model not found" in err and "pip install 'a2a[mesh]'" in err
    assert not out.exists()


def test_render_command_draws_the_mesh(tmp_path, model_dir, capsys):
    pytest.importorskip("smplx")
    import imageio_ffmpeg

    motion = tmp_path / "dance.npz"
    save_motion(pose(n_frames=6), motion)
    out = tmp_path / "mesh.mp4"
    assert run_cli("render", str(motion), "-o", str(out), "--smpl-model", str(model_dir), "--size", "160x120") == 0
    frames = imageio_ffmpeg.read_frames(str(out))
    assert next(frames)["size"] == (160, 120) and sum(1 for _ in frames) == 6


def test_the_mesh_outline_is_softened_outward_only():
    from a2a_cli.render.mesh import _soften_silhouette

    canvas = np.zeros((10, 10, 3), np.float32)
    covered = np.zeros((10, 10), bool)
    covered[3:7, 3:7] = True
    canvas[covered] = 255.0
    _soften_silhouette(canvas, covered)
    assert (canvas[3:7, 3:7] == 255.0).all()  # the mesh itself is kept
    assert canvas[2, 4, 0] == pytest.approx(255 / 3, rel=1e-4)  # beside a straight edge: a third
    assert canvas[2, 2, 0] == pytest.approx(255 / 9, rel=1e-4)  # beside a corner: a ninth
    assert (canvas[:1] == 0).all() and (canvas[:, 8:] == 0).all()  # two pixels out: untouched
