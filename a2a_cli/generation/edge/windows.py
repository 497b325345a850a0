"""EDGE's long-form windows (test.py and GaussianDiffusion.render_sample, mode "long"): a song is
danced as 5-s windows at a 2.5-s hop, sampled together, then stitched back into one sequence.
"""

from __future__ import annotations

import math

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.motion.formats import EDGE_ROT6D
from a2a_cli.motion.rotations import matrix_to_6d, matrix_to_quaternion, quaternion_to_matrix, sixd_to_matrix, slerp
from a2a_cli.motion.skeleton import N_JOINTS

__all__ = ["HOP", "WINDOW", "condition_windows", "stitch_windows", "window_count"]

WINDOW = 150  # frames per EDGE window (5 s at 30 fps); the network's null condition fixes it
HOP = WINDOW // 2  # consecutive windows share half their frames


def window_count(n_frames: int) -> int:
    """Windows at a HOP that cover n_frames frames: 1 up to one window, else EDGE's 75 (B + 1) >= n."""
    return 1 if n_frames <= WINDOW else math.ceil((n_frames - WINDOW) / HOP) + 1


def condition_windows(features: np.ndarray, n_frames: int) -> np.ndarray:
    """Audio features (T, C) -> (B, WINDOW, C) windows at a HOP covering n_frames frames.

    A song shorter than its windows is padded by mirroring its features (the music goes on in
    the same style); the frames danced to the padding are cut off afterwards."""
    n_windows = window_count(n_frames)
    needed = WINDOW if n_windows == 1 else HOP * (n_windows + 1)
    feats = np.asarray(features, dtype=np.float32)[:n_frames]
    if feats.shape[0] == 0:
        raise InputError("no audio features to dance to")
    while feats.shape[0] < needed:  # symmetric padding, repeated for songs far shorter than a window
        feats = np.concatenate([feats, feats[::-1][: needed - feats.shape[0]]])
    return np.stack([feats[i * HOP:i * HOP + WINDOW] for i in range(n_windows)])


def stitch_windows(vectors: np.ndarray) -> np.ndarray:
    """Unnormalised EDGE vectors (B, WINDOW, 151) -> one sequence (T, 151), T = WINDOW for one window,
    else HOP (B + 1). As EDGE: contacts and root cross-faded linearly over each overlap, joint
    rotations slerped."""
    if vectors.shape[0] == 1:
        return vectors[0]
    n_windows = vectors.shape[0]
    ramp = np.linspace(0.0, 1.0, HOP)[:, None]
    faded = vectors.astype(np.float64)
    faded[1:, :HOP] *= ramp
    faded[:-1, HOP:] *= 1.0 - ramp
    out = np.zeros((HOP * (n_windows + 1), vectors.shape[-1]))
    for i in range(n_windows):
        out[i * HOP:i * HOP + WINDOW] += faded[i]
    out[:HOP] = vectors[0, :HOP]  # no neighbour to fade with at the two ends
    out[-HOP:] = vectors[-1, HOP:]
    quats = matrix_to_quaternion(sixd_to_matrix(vectors[..., EDGE_ROT6D].reshape(*vectors.shape[:2], N_JOINTS, 6)))
    merged = slerp(quats[:-1, HOP:], quats[1:, :HOP], ramp[None, :, :, None])  # (B-1, HOP, 24, 4)
    full = np.concatenate([quats[0, :HOP], merged.reshape(-1, N_JOINTS, 4), quats[-1, HOP:]])
    out[:, EDGE_ROT6D] = matrix_to_6d(quaternion_to_matrix(full)).reshape(len(full), -1)
    return out
