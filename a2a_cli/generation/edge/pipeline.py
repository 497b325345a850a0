"""The `edge` generator (the pipeline of the diffusers split): music in, an a2a Motion out.

1. Conditioning: a2a's 35 audio features (EDGE's "baseline" set, one row per 30 fps frame), cut
   into 5-s windows at a 2.5-s hop; the song's tail is padded by mirroring the music to whole windows.
2. Sampling: every window of the song in one batch, EDGE's DDIM with the long-form overlap
   constraint (sampler.py); the music memory is computed once and reused by every step.
3. Decoding: EDGE's 151-d vectors (4 foot contacts, root position, 24 x 6D rotations, z up) are
   unnormalised, the windows stitched as EDGE does (positions cross-faded, rotations slerped over
   each overlap), cut to exactly round(duration * 30) frames, turned into axis-angle and y up.
4. Feet: the floor is found where EDGE says the feet touch it and put at y = 0; feet EDGE marks as
   planted are locked in place by two-bone leg IK (EDGE's own output slides; see `lock_feet`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from a2a_cli.errors import InputError
from a2a_cli.frame_rate import FPS
from a2a_cli.generation.base import check_device_and_precision
from a2a_cli.generation.edge.windows import WINDOW, condition_windows, stitch_windows
from a2a_cli.motion.fk import forward_kinematics
from a2a_cli.motion.formats import EDGE_CONTACTS, EDGE_DIM, motion_from_edge_vector
from a2a_cli.motion.grounding import floor_height
from a2a_cli.motion.motion import Motion
from a2a_cli.motion.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from a2a_cli.motion.leg_ik import LEGS, reach
from a2a_cli.motion.skeleton import FOOT_JOINTS, smpl_skeleton

__all__ = [
    "CONTACT_THRESHOLD", "EdgeGenerator", "LOCK_BLEND_FRAMES", "MIN_LOCK_FRAMES", "edge_from_settings",
    "contact_floor_height", "lock_feet",
]

CONTACT_THRESHOLD = 0.5  # EDGE's contact channels are 0/1 labels; the model's values are in between
LOCK_BLEND_FRAMES = 4  # frames over which a foot eases into and out of its lock
MIN_LOCK_FRAMES = 3  # shorter predicted contacts are left alone (a touch, not a plant)
def contact_floor_height(joints: np.ndarray, contacts: np.ndarray) -> float:
    """The floor's y under a motion (joints (T, 24, 3), contacts (T, 4)): the median height of the
    lowest foot joint over the frames where EDGE says a foot touches the floor; with too few such
    frames, the floor every a2a reader finds (grounding.floor_height)."""
    touching = (contacts > CONTACT_THRESHOLD).any(axis=1)
    if touching.sum() < MIN_LOCK_FRAMES:
        return floor_height(joints)
    return float(np.median(joints[touching][:, FOOT_JOINTS, 1].min(axis=1)))


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True in a 1-D bool array."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def lock_feet(poses: np.ndarray, trans: np.ndarray, contacts: np.ndarray) -> np.ndarray:
    """Poses (T, 24, 3) whose planted ankles stay put: for each run of frames where EDGE predicts an
    ankle contact, the ankle is held at its mean position over the run, easing in and out over
    LOCK_BLEND_FRAMES, and the leg reaches it by two-bone IK.

    Only the hip, knee and ankle rotations of a locked leg change: the thigh and shin swing (their
    twist is kept) and the ankle's world orientation is kept, so the foot points where EDGE put it.
    """
    n = poses.shape[0]
    skeleton = smpl_skeleton()
    joints = forward_kinematics(poses, trans).astype(np.float64)
    local = axis_angle_to_matrix(poses.astype(np.float64))
    out = poses.copy()
    for side, leg in enumerate(LEGS):
        hip, knee, ankle = leg
        planted = contacts[:, side] > CONTACT_THRESHOLD  # contact channels 0, 1: left, right ankle
        weight = np.zeros(n)
        target = joints[:, ankle].copy()
        ramp = np.arange(1, LOCK_BLEND_FRAMES + 1) / (LOCK_BLEND_FRAMES + 1)
        for start, stop in _runs(planted):
            if stop - start < MIN_LOCK_FRAMES:
                continue
            spot = joints[start:stop, ankle].mean(axis=0)
            lo, hi = max(0, start - LOCK_BLEND_FRAMES), min(n, stop + LOCK_BLEND_FRAMES)
            w = np.ones(hi - lo)
            w[:start - lo] = ramp[LOCK_BLEND_FRAMES - (start - lo):]
            w[stop - lo:] = ramp[::-1][:hi - stop]
            better = w > weight[lo:hi]
            weight[lo:hi] = np.where(better, w, weight[lo:hi])
            target[lo:hi] = np.where(better[:, None], spot, target[lo:hi])
        frames = np.flatnonzero(weight > 0)
        if frames.size == 0:
            continue
        at = joints[frames]
        goal = at[:, ankle] + weight[frames, None] * (target[frames] - at[:, ankle])
        pole = at[:, knee] - 0.5 * (at[:, hip] + at[:, ankle])  # keeps the knee bending the way EDGE bent it
        lengths = (float(np.linalg.norm(skeleton.offsets[knee])), float(np.linalg.norm(skeleton.offsets[ankle])))
        legs = local[frames].copy()
        reach(legs, at, leg, goal, pole, lengths)
        for j in leg:
            out[frames, j] = matrix_to_axis_angle(legs[:, j])
    return out.astype(np.float32)


@dataclass
class EdgeGenerator:
    """EDGE as an a2a Generator. `weights`: an EDGE checkpoint (.pt in the official layout, or
    .safetensors); `steps`: DDIM steps (EDGE: 50); `guidance`: classifier-free guidance weight
    (EDGE: 2); `device`: "cpu", "cuda" or "cuda:N"; `precision`: "fp32" (the official numbers) or
    "bf16" (torch.autocast: about 2x faster where the hardware has bfloat16); `plant_feet`: hold
    planted feet still."""

    weights: str | os.PathLike
    steps: int = 50
    guidance: float = 2.0
    device: str = "cpu"
    precision: str = "fp32"
    plant_feet: bool = True
    name: str = "edge"

    def __post_init__(self) -> None:
        from a2a_cli.generation.edge.checkpoint import load_checkpoint
        from a2a_cli.generation.edge.sampler import DDIMSampler

        if not 1 <= int(self.steps) <= 1000:
            raise InputError(f"--steps must be 1..1000, got {self.steps}")
        if not math.isfinite(self.guidance) or self.guidance < 0:
            raise InputError(f"--guidance must be a non-negative number, got {self.guidance}")
        check_device_and_precision(self.device, self.precision)
        self.model = load_checkpoint(Path(self.weights), device=self.device)
        if self.model.feature_type == "jukebox":
            from a2a_cli.generation.edge.jukebox import require_jukemirlib

            require_jukemirlib()
        elif self.model.cond_features != 35:
            raise InputError(f"{self.weights}: conditioning of {self.model.cond_features} features is neither EDGE's "
                             "baseline (35) nor Jukebox (4800)")
        self.sampler = DDIMSampler(steps=int(self.steps), guidance_weight=float(self.guidance))

    def generate(self, audio, duration_s: float, seed: int, progress=None) -> Motion:
        """A Motion of exactly round(duration_s * 30) frames for `audio` (an AudioAnalysis); same seed, same dance."""
        from a2a_cli.generation.base import check_duration

        n_frames = check_duration(duration_s)
        vectors = stitch_windows(self.sample_vectors(self.condition(audio, n_frames), seed, progress))[:n_frames]
        danced = motion_from_edge_vector(vectors)
        poses, trans, contacts = danced.poses, danced.trans, vectors[:, EDGE_CONTACTS]
        trans[:, 1] -= contact_floor_height(danced.joints, contacts)
        if self.plant_feet:
            poses = lock_feet(poses, trans, contacts)
        meta = {"model": "edge", "seed": int(seed), "steps": self.sampler.steps, "guidance": self.sampler.guidance_weight,
                "precision": self.precision,
                "weights": Path(self.weights).name, "contacts": contacts.astype(np.float32)}
        return Motion(poses=poses, trans=trans, fps=float(FPS), meta=meta)

    def condition(self, audio, n_frames: int) -> np.ndarray:
        """The music of the windows covering n_frames frames of `audio` (an AudioAnalysis), as this
        checkpoint hears it: (B, WINDOW, 35) baseline features, or (B, WINDOW, 4800) Jukebox ones."""
        if self.model.feature_type != "jukebox":
            return condition_windows(audio.features, n_frames)
        from a2a_cli.generation.edge.jukebox import jukebox_windows

        if audio.source is None:
            raise InputError("the Jukebox model hears the audio itself, and this analysis does not say where it came from")
        samples, sr = audio.source.read()
        return jukebox_windows(samples, sr, n_frames)

    def sample_vectors(self, cond: np.ndarray, seed: int, progress=None) -> np.ndarray:
        """EDGE's unnormalised 151-d vectors (B, WINDOW, 151) float64 for the music of B windows,
        cond (B, WINDOW, C) float32 (see `condition`)."""
        import torch

        cond = torch.from_numpy(cond).to(self.device)
        network = self.model.network
        generator = torch.Generator(device=self.device).manual_seed(int(seed))
        device_type = torch.device(self.device).type
        with torch.inference_mode(), torch.autocast(device_type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            memory = network.encode_condition(cond)
            x = self.sampler.sample(network, memory, (cond.shape[0], WINDOW, EDGE_DIM),
                                    generator=generator, device=self.device, progress=progress)
            return self.model.normalizer.unnormalize(x.float()).cpu().double().numpy()


def edge_from_settings(settings=None) -> EdgeGenerator:
    """The `edge` generator configured by generate.weights / steps / guidance / device (a2a_cli.config)."""
    import importlib.util

    if settings is None:
        from a2a_cli.config import load_settings

        settings = load_settings()
    weights = settings.get("generate.weights")
    if not weights:  # the weights `a2a download-weights edge` fetched; a one-line error naming it if absent
        from a2a_cli.zoo import local_weights

        weights = local_weights("edge", settings.data_dir)
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("safetensors") is None:
        raise InputError("model edge needs torch and safetensors: pip install 'a2a[models]' (the README picks the torch build for your machine)")
    return EdgeGenerator(weights=Path(weights).expanduser(), steps=settings.get("generate.steps"),
                         guidance=settings.get("generate.guidance"), device=settings.get("generate.device"),
                         precision=settings.get("generate.precision"))
