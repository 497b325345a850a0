"""The dancer as the SMPL mesh, posed by the `smplx` package from the user's own SMPL model file
(SMPL's licence forbids shipping it), and drawn by a small numpy rasteriser.

Model files are read without running code: `.npz` with `allow_pickle=False`, and the official
`.pkl` files (SMPL 1.1, no chumpy) through an unpickler that only rebuilds numpy arrays and the
scipy sparse matrix of the joint regressor. The posed vertices come from `smplx.lbs.lbs` (SMPL's
linear blend skinning with pose blend shapes), with the neutral shape (betas 0).

Rasterising: each frame's front-facing triangles are grouped by the size of their screen box;
per group every candidate pixel of every box is tested at once with edge functions, depth and
brightness (Gouraud shading of the vertex normals) are interpolated, and the nearest sample of
each pixel wins through one `np.minimum.at` on quantised depths (a z-buffer). The outline is then
softened by blending the pixels just outside it toward the mesh's colour.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np

from a2a_cli.errors import ARCHIVE_ERRORS, InputError, WorkError
from a2a_cli.motion import Motion
from a2a_cli.motion.skeleton import N_JOINTS, smpl_skeleton
from a2a_cli.render.body import CENTRE_RGB, LEFT_RGB, RIGHT_RGB
from a2a_cli.render.shading import shade
from a2a_cli.render.stage import NEAR_M, Camera
from a2a_cli.safe_pickle import NUMPY_GLOBALS, restricted_loads

__all__ = ["MeshFigure", "load_smpl_model", "posed_vertices"]

# Where a folder's model file may be: smplx's name first, then the official download's.
MODEL_FILE_NAMES = ("SMPL_NEUTRAL.npz", "SMPL_NEUTRAL.pkl", "basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl")
REQUIRED_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")
N_POSE_BASIS = (N_JOINTS - 1) * 9
FRAMES_PER_BATCH = 256
DEPTH_STEPS_PER_M = 1 << 16  # z-buffer resolution: 15 micrometres

# The only globals an SMPL .pkl needs beyond numpy's arrays (safe_pickle.NUMPY_GLOBALS): the sparse joint
# regressor, and the object machinery Python 2 pickled it with.
_SMPL_GLOBALS = NUMPY_GLOBALS | {
    ("copy_reg", "_reconstructor"), ("copyreg", "_reconstructor"), ("__builtin__", "object"), ("builtins", "object"),
    ("scipy.sparse.csc", "csc_matrix"), ("scipy.sparse._csc", "csc_matrix"),
}


def _smpl_global(module: str, name: str):
    """An allowed global of an SMPL pickle, found under today's module names."""
    import copyreg
    import importlib

    if module.startswith("scipy"):
        from scipy.sparse import csc_matrix

        return csc_matrix
    if module in ("copy_reg", "copyreg"):
        return copyreg._reconstructor
    if module in ("__builtin__", "builtins"):
        return object
    return getattr(importlib.import_module(module), name)


def load_smpl_model(path: str | os.PathLike) -> tuple[Path, dict[str, np.ndarray]]:
    """The arrays of an SMPL model, from its file or a folder holding one of MODEL_FILE_NAMES.

    Returns (the file read, {key: array}) with every key of REQUIRED_KEYS, checked for SMPL's
    shapes: v_template (V, 3), shapedirs (V, 3, B), posedirs (V, 3, 207), J_regressor (24, V)
    (dense), weights (V, 24), kintree_table (2, 24), f (F, 3). InputError for anything else."""
    path = Path(path)
    if path.is_dir():
        found = [path / name for name in MODEL_FILE_NAMES if (path / name).is_file()]
        if not found:
            raise InputError(f"no SMPL model in {path}: expected one of {', '.join(MODEL_FILE_NAMES)}")
        path = found[0]
    elif not path.is_file():
        raise InputError(f"SMPL model not found: {path}")
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                data = {key: npz[key] for key in REQUIRED_KEYS if key in npz.files}
        elif path.suffix.lower() == ".pkl":
            hint = " (SMPL 1.0 files with chumpy objects are not read: use the SMPL 1.1 files)"
            raw = restricted_loads(path.read_bytes(), _SMPL_GLOBALS, what=f"the SMPL model {path}",
                                   expected=f"an SMPL model holds only arrays{hint}", resolve=_smpl_global, encoding="latin1")
            if not isinstance(raw, dict):
                raise InputError(f"{path} is not an SMPL model (no dictionary of arrays)")
            data = {key: raw[key] for key in REQUIRED_KEYS if key in raw}
        else:
            raise InputError(f"an SMPL model is a .npz or .pkl file, got {path.name}")
    except (AttributeError, TypeError, IndexError, KeyError, *ARCHIVE_ERRORS) as e:  # a damaged .npz, or a .pkl of other things
        raise InputError(f"cannot read the SMPL model {path}: {e}") from None
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise InputError(f"{path} is not an SMPL model: it lacks {', '.join(missing)}")
    if hasattr(data["J_regressor"], "toarray"):  # sparse: its shape is only declared, so it is checked before expanding
        vertices = np.shape(data["v_template"])[0] if np.ndim(data["v_template"]) == 2 else -1
        if tuple(getattr(data["J_regressor"], "shape", ())) != (N_JOINTS, vertices):
            raise InputError(f"{path}: J_regressor has shape {getattr(data['J_regressor'], 'shape', '?')}; expected ({N_JOINTS}, {vertices})")
        data["J_regressor"] = data["J_regressor"].toarray()
    data = {key: np.asarray(value) for key, value in data.items()}
    _check_shapes(path, data)
    return path, data


def _check_shapes(path: Path, d: dict[str, np.ndarray]) -> None:
    n = d["v_template"].shape[0] if d["v_template"].ndim == 2 else -1
    expected = {
        "v_template": (n, 3), "shapedirs": (n, 3, d["shapedirs"].shape[-1]), "posedirs": (n, 3, N_POSE_BASIS),
        "J_regressor": (N_JOINTS, n), "weights": (n, N_JOINTS), "kintree_table": (2, N_JOINTS), "f": (d["f"].shape[0], 3),
    }
    for key, shape in expected.items():
        if d[key].shape != shape or n < 3:
            raise InputError(f"{path} is not an SMPL model: {key} is {d[key].shape}, expected {shape}")
    if not (d["f"].min() >= 0 and d["f"].max() < n):
        raise InputError(f"{path} is not an SMPL model: its faces index vertices it does not have")
    parents = d["kintree_table"][0].astype(np.int64)
    parents[0] = -1
    if not np.array_equal(parents, smpl_skeleton().parents):
        raise InputError(f"{path} is not an SMPL body model: its joint tree is not SMPL's 24 joints")


def posed_vertices(model: dict[str, np.ndarray], poses: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """Vertices (T, V, 3) float32, metres, of the mesh posed by axis-angle `poses` (T, 24, 3), with
    its root joint at `trans` (T, 3) as a2a's motions place it; the neutral shape."""
    try:
        import smplx
        import torch
        from smplx.lbs import lbs
        from smplx.utils import Struct
    except ImportError as e:
        raise WorkError(f"drawing the SMPL mesh needs the smplx package ({e.name} is missing): pip install 'a2a[mesh]'") from None
    # smplx prints a warning about the number of shape coefficients: keep the library silent.
    with contextlib.redirect_stdout(io.StringIO()):
        body = smplx.SMPL(model_path="", data_struct=Struct(**model), create_betas=False, create_global_orient=False,
                          create_body_pose=False, create_transl=False)
    out = np.empty((len(poses), model["v_template"].shape[0], 3), np.float32)
    betas = torch.zeros((1, body.shapedirs.shape[-1]), dtype=torch.float32)
    with torch.no_grad():
        for start in range(0, len(poses), FRAMES_PER_BATCH):
            pose = torch.as_tensor(np.ascontiguousarray(poses[start : start + FRAMES_PER_BATCH], np.float32)).reshape(-1, N_JOINTS * 3)
            verts, joints = lbs(betas.expand(len(pose), -1), pose, body.v_template, body.shapedirs, body.posedirs,
                                body.J_regressor, body.parents, body.lbs_weights)
            out[start : start + len(pose)] = (verts - joints[:, :1]).numpy()
    return out + np.asarray(trans, np.float32)[:, None, :]


class MeshFigure:
    """The posed SMPL mesh of every frame; `paint` draws one frame into a canvas (the interface of
    `body.CapsuleFigure`).

    `motion`: the dance (needs rotations); `source`: the motion frame shown in each preview frame
    (T,); `smpl_model`: the model file or folder; `target`: the camera's target per frame (T, 3)."""

    def __init__(self, motion: Motion, source: np.ndarray, smpl_model: str | os.PathLike, target: np.ndarray, camera: Camera):
        if not motion.has_rotations:
            raise InputError("the SMPL mesh needs joint rotations; this motion has joint positions only")
        _, model = load_smpl_model(smpl_model)
        shown, index = np.unique(source, return_inverse=True)
        self.vertices = posed_vertices(model, motion.poses[shown], motion.trans[shown])
        self.index = index
        self.target = target
        self.camera = camera
        self.faces = model["f"].astype(np.int64)
        # Each vertex coloured like the capsule body: by the side of the joint that moves it most.
        names = smpl_skeleton().names
        side = np.array([0 if n.startswith("left") else 1 if n.startswith("right") else 2 for n in names])
        self.vertex_colours = np.array([LEFT_RGB, RIGHT_RGB, CENTRE_RGB], np.float32)[side[model["weights"].argmax(axis=1)]]
        from scipy.sparse import csr_matrix

        n_faces = len(self.faces)
        # Vertex normals: the sum of the normals of the faces around each vertex, one sparse product.
        self.face_to_vertex = csr_matrix((np.ones(3 * n_faces, np.float32), (self.faces.ravel(), np.repeat(np.arange(n_faces), 3))),
                                         shape=(len(model["v_template"]), n_faces))
        self._cached: tuple[int, tuple[np.ndarray, ...]] | None = None

    def _project(self, i: int) -> tuple[np.ndarray, ...]:
        """Frame i's vertices in pixels (u, v), depth, and the vertices' brightness and highlight."""
        if self._cached is not None and self._cached[0] == i:
            return self._cached[1]
        verts = self.vertices[self.index[i]] - self.target[i].astype(np.float32)
        u, v, depth = self.camera.project(verts)
        tri = verts[self.faces]
        face_normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        normals = self.face_to_vertex @ face_normals
        # In image terms: x right, y down, z toward the viewer.
        cam = normals @ self.camera.basis.T
        cam /= np.maximum(np.linalg.norm(cam, axis=1, keepdims=True), 1e-12)
        brightness, highlight = shade(cam[:, 0].astype(np.float32), -cam[:, 1].astype(np.float32), -cam[:, 2].astype(np.float32))
        result = (u.astype(np.float32), v.astype(np.float32), depth.astype(np.float32), brightness, highlight)
        self._cached = (i, result)
        return result

    def bounds(self, i: int) -> tuple[float, float, float, float] | None:
        """(left, top, right, bottom) pixels the mesh may cover in frame `i`, or None if none."""
        u, v, depth = self._project(i)[:3]
        seen = depth > NEAR_M
        if not seen.any():
            return None
        return float(u[seen].min()) - 1, float(v[seen].min()) - 1, float(u[seen].max()) + 1, float(v[seen].max()) + 1

    def paint(self, canvas: np.ndarray, origin: tuple[int, int], i: int) -> None:
        """Draw frame `i` into `canvas` (h, w, 3) float32 in place; `origin`: its top-left pixel in the frame."""
        u, v, depth, brightness, highlight = self._project(i)
        h, w = canvas.shape[:2]
        u, v = u - origin[0], v - origin[1]
        f = self.faces
        fu, fv, fz = u[f], v[f], depth[f]
        # Front faces have a negative signed area in image coordinates (y down) for SMPL's
        # counter-clockwise winding; faces behind the near plane are dropped.
        area = (fu[:, 1] - fu[:, 0]) * (fv[:, 2] - fv[:, 0]) - (fu[:, 2] - fu[:, 0]) * (fv[:, 1] - fv[:, 0])
        keep = np.flatnonzero((area < -1e-9) & (fz.min(axis=1) > NEAR_M))
        if keep.size == 0:
            return
        # The pixels whose centres (x + 0.5) may fall inside each face: x_lo .. x_lo + span - 1.
        x_lo = np.ceil(fu[keep].min(axis=1) - 0.5).astype(np.int64)
        y_lo = np.ceil(fv[keep].min(axis=1) - 0.5).astype(np.int64)
        span = np.maximum(np.floor(fu[keep].max(axis=1) - 0.5) - x_lo, np.floor(fv[keep].max(axis=1) - 0.5) - y_lo).astype(np.int64) + 1
        pixels, keys, colours = [], [], []
        size = 1
        while keep.size:
            group = span <= size
            if size >= max(h, w):
                group[:] = True
            if group.any():
                found = _rasterise(keep[group], x_lo[group], y_lo[group], size, fu, fv, fz, f, brightness, highlight,
                                   self.vertex_colours, w, h)
                if found is not None:
                    pixels.append(found[0])
                    keys.append(found[1])
                    colours.append(found[2])
            keep, x_lo, y_lo, span = keep[~group], x_lo[~group], y_lo[~group], span[~group]
            size = max(size + 1, size * 3 // 2)  # boxes of 1, 2, 3, 4, 6, 9, ... pixels: little wasted testing
        if not pixels:
            return
        pixel, key, colour = np.concatenate(pixels), np.concatenate(keys), np.concatenate(colours)
        nearest = np.full(h * w, np.iinfo(np.int64).max, np.int64)
        np.minimum.at(nearest, pixel, key)
        wins = key == nearest[pixel]
        canvas.reshape(-1, 3)[pixel[wins]] = colour[wins]
        covered = np.zeros(h * w, bool)
        covered[pixel[wins]] = True
        _soften_silhouette(canvas, covered.reshape(h, w))


def _soften_silhouette(canvas: np.ndarray, covered: np.ndarray) -> None:
    """Anti-alias the mesh's outline in `canvas` (h, w, 3) float32, in place: each pixel just outside
    `covered` (h, w) is blended toward the mean colour of the covered pixels around it, by the share
    of its 3x3 neighbourhood they fill (a third on a straight edge)."""
    from scipy.ndimage import uniform_filter

    mask = covered.astype(np.float32)
    share = uniform_filter(mask, 3, mode="constant")
    fringe = ~covered & (share > 1e-3)
    if not fringe.any():
        return
    around = uniform_filter(canvas * mask[..., None], (3, 3, 1), mode="constant")[fringe] / share[fringe, None]
    alpha = share[fringe, None]
    canvas[fringe] += alpha * (around - canvas[fringe])


def _rasterise(faces: np.ndarray, x_lo: np.ndarray, y_lo: np.ndarray, size: int, fu, fv, fz, f, brightness, highlight,
               vertex_colours: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The pixels covered by `faces` whose screen boxes fit in size x size pixels from (x_lo, y_lo):
    (flat pixel index, quantised depth, lit colour) per covered pixel, or None."""
    u0, u1, u2 = (fu[faces, k] for k in range(3))
    v0, v1, v2 = (fv[faces, k] for k in range(3))
    # Edge functions E_k(x, y) = A_k x + B_k y + C_k, each the (negative, for front faces) doubled
    # area of the triangle a pixel centre makes with edge k: inside where all three are <= 0.
    # Written relative to the box corner, so the grid is the same small offsets for every face.
    cx0, cy0 = x_lo + 0.5, y_lo + 0.5
    edges = []
    for (ua, va), (ub, vb) in (((u1, v1), (u2, v2)), ((u2, v2), (u0, v0)), ((u0, v0), (u1, v1))):
        a, b = va - vb, ub - ua
        c = a * (cx0 - ua) + b * (cy0 - va)
        edges.append((a[:, None, None].astype(np.float32), b[:, None, None].astype(np.float32), c[:, None, None].astype(np.float32)))
    grid = np.arange(size, dtype=np.float32)
    gx, gy = grid[None, None, :], grid[None, :, None]
    inside = None
    values = []
    for a, b, c in edges:
        e = a * gx + b * gy + c  # (F, size, size)
        values.append(e)
        inside = e <= 0 if inside is None else inside & (e <= 0)
    hit_face, hit_y, hit_x = np.nonzero(inside)
    x = x_lo[hit_face] + hit_x
    y = y_lo[hit_face] + hit_y
    on_canvas = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    if not on_canvas.all():
        hit_face, hit_y, hit_x, x, y = hit_face[on_canvas], hit_y[on_canvas], hit_x[on_canvas], x[on_canvas], y[on_canvas]
    if hit_face.size == 0:
        return None
    # Barycentric weights: each edge function over their sum (the doubled area).
    e0, e1, e2 = (v[hit_face, hit_y, hit_x] for v in values)
    total = e0 + e1 + e2
    total[total == 0] = -1e-12
    weights = np.stack([e0, e1, e2], axis=1) / total[:, None]
    corners = f[faces[hit_face]]
    depth = (weights * fz[faces[hit_face]]).sum(axis=1)
    lit = ((brightness[corners][..., None] * vertex_colours[corners] + highlight[corners][..., None]) * weights[..., None]).sum(axis=1)
    return y * w + x, np.round(depth * DEPTH_STEPS_PER_M).astype(np.int64), lit
