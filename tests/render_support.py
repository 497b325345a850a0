"""What the preview tests share: where they write the frames they draw (for people to look at),
masks of what a frame shows, and a tiny SMPL-format model that smplx loads.

Frames go to $A2A_TEST_FRAMES when set (a folder that is kept), else to pytest's temporary folder
(`/tmp/pytest-of-$USER/pytest-current/preview-frames0/`, kept for the last three runs)."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np

from a2a_cli.motion.skeleton import N_JOINTS, smpl_skeleton


def frames_folder(tmp_path_factory) -> Path:
    if os.environ.get("A2A_TEST_FRAMES"):
        folder = Path(os.environ["A2A_TEST_FRAMES"])
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("preview-frames")


# What a pixel of a drawn frame shows, by hue: loose enough for shading, anti-aliasing and video.
def orange(a: np.ndarray) -> np.ndarray:
    """The body's left side (orange, however lit)."""
    r, g, b = (a[..., k].astype(int) for k in range(3))
    return (r - g > 25) & (g - b > 15)


def blue(a: np.ndarray) -> np.ndarray:
    """The body's right side (blue, however lit)."""
    r, b = a[..., 0].astype(int), a[..., 2].astype(int)
    return b - r > 45


def grey(a: np.ndarray, body: np.ndarray) -> np.ndarray:
    """Neutral pixels of the body mask `body`: the torso and head."""
    spread = a.max(axis=-1).astype(int) - a.min(axis=-1).astype(int)
    return body & (spread < 30)


def luminance(a: np.ndarray) -> np.ndarray:
    return a[..., :3].astype(float) @ np.array([0.299, 0.587, 0.114])


def tiny_smpl_model(radius_m: float = 0.06) -> dict[str, np.ndarray]:
    """An SMPL-format model (SMPL's keys and shapes, SMPL's 24-joint tree) whose mesh is an
    octahedron around each rest joint, skinned to that joint alone, with outward (counter-clockwise)
    faces; its joint regressor puts each joint at its octahedron's centre. No blend shapes."""
    skeleton = smpl_skeleton()
    rest = skeleton.rest_positions()
    axes = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], float)
    vertices, faces = [], []
    for j in range(N_JOINTS):
        vertices.append(rest[j] + radius_m * axes)
        for sx, sy, sz in itertools.product((1, -1), repeat=3):
            a, b, c = 6 * j + (0 if sx > 0 else 1), 6 * j + (2 if sy > 0 else 3), 6 * j + (4 if sz > 0 else 5)
            faces.append((a, b, c) if sx * sy * sz > 0 else (a, c, b))
    n = 6 * N_JOINTS
    owner = np.repeat(np.arange(N_JOINTS), 6)
    weights = np.eye(N_JOINTS)[owner]
    parents = skeleton.parents.astype(np.int64).copy()
    parents[0] = 2**32 - 1  # as in SMPL's files
    return {"v_template": np.concatenate(vertices), "shapedirs": np.zeros((n, 3, 10)), "posedirs": np.zeros((n, 3, 207)),
            "J_regressor": weights.T / 6.0, "weights": weights, "kintree_table": np.stack([parents, np.arange(N_JOINTS)]),
            "f": np.array(faces, np.uint32)}


def frame_and_body(motion, index: int, size: tuple[int, int] = (320, 240), **options) -> tuple[np.ndarray, np.ndarray]:
    """Frame `index` of the preview (H, W, 3) uint8, and the mask (H, W) of the pixels the dancer
    changes: the same frame drawn without the figure (floor, shadows, overlay) differs there."""
    from unittest import mock

    from a2a_cli.render import render_frame
    from a2a_cli.render.body import CapsuleFigure
    from a2a_cli.render.mesh import MeshFigure

    frame = np.asarray(render_frame(motion, index, size=size, **options))
    with mock.patch.object(CapsuleFigure, "paint", lambda *_: None), mock.patch.object(MeshFigure, "paint", lambda *_: None):
        empty = np.asarray(render_frame(motion, index, size=size, **options))
    return frame, np.abs(frame.astype(int) - empty.astype(int)).max(axis=-1) > 12
