"""EDGE's training objective (`GaussianDiffusion.p_losses` of the official code), in torch.

A clean window x0 (B, 150, 151), in the normaliser's [-1, 1] space, is noised to a random step t
of the cosine schedule, x_t = sqrt(a_t) x0 + sqrt(1 - a_t) noise, and the network predicts x0
back (music dropped for a quarter of the windows, for classifier-free guidance). The loss is
EDGE's weighted sum of four mean squared errors:

- 0.636 x the whole 151-d reconstruction;
- 2.964 x the frame-to-frame velocity of the 147 pose channels (contacts left out);
- 0.646 x the joint positions that forward kinematics of the predicted and true poses give;
- 10.942 x the foot velocity wherever the model itself predicts contact (> 0.95): feet it says
  are planted must not slide.

As in the official code, the kinematic terms run on the normalised channels (EDGE leaves its
unnormalise step commented out), so a2a's checkpoints train to the same objective.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from a2a_cli.motion.skeleton import FOOT_JOINTS, N_JOINTS, smpl_skeleton

__all__ = [
    "COND_DROP_PROB", "CONTACT_THRESHOLD", "EdgeObjective", "ForwardKinematics", "LOSS_WEIGHTS", "Loss",
    "N_CONTACTS", "ROOT_CHANNELS", "rotation_6d_to_matrix",
]

LOSS_WEIGHTS = {"reconstruction": 0.636, "velocity": 2.964, "kinematics": 0.646, "foot_skate": 10.942}
COND_DROP_PROB = 0.25  # EDGE's cond_drop_prob: windows trained without their music
CONTACT_THRESHOLD = 0.95  # a predicted contact above this pins the foot
N_CONTACTS = 4  # the first channels of a motion vector: foot contacts
ROOT_CHANNELS = 3  # then the root position, then 24 x 6D rotations


@dataclass(frozen=True)
class Loss:
    """The total (a scalar tensor to backpropagate) and its four weighted terms (floats)."""

    total: Tensor
    terms: dict[str, float]


def rotation_6d_to_matrix(d6: Tensor) -> Tensor:
    """(..., 6) -> (..., 3, 3): Gram-Schmidt on the two rows the 6D form keeps (pytorch3d's convention,
    as `a2a_cli.motion.rotations.sixd_to_matrix`), differentiable."""
    a1, a2 = d6[..., :3], d6[..., 3:]
    b1 = F.normalize(a1, dim=-1)
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1)
    return torch.stack((b1, b2, torch.cross(b1, b2, dim=-1)), dim=-2)


class ForwardKinematics(nn.Module):
    """Joint positions (..., 24, 3) from local rotation matrices (..., 24, 3, 3) and the root position
    (..., 3), on the SMPL skeleton a2a ships (the neutral offsets EDGE's SMPLSkeleton uses)."""

    def __init__(self):
        super().__init__()
        skeleton = smpl_skeleton()
        self.parents = [int(p) for p in skeleton.parents]
        self.register_buffer("offsets", torch.tensor(skeleton.offsets, dtype=torch.float32), persistent=False)

    def forward(self, rotations: Tensor, root: Tensor) -> Tensor:
        world_rot: list[Tensor] = [rotations[..., 0, :, :]]
        positions: list[Tensor] = [root]
        for j in range(1, N_JOINTS):
            parent = self.parents[j]
            positions.append(positions[parent] + (world_rot[parent] @ self.offsets[j].to(root.dtype)[:, None])[..., 0])
            world_rot.append(world_rot[parent] @ rotations[..., j, :, :])
        return torch.stack(positions, dim=-2)


class EdgeObjective(nn.Module):
    """EDGE's diffusion training loss for a denoising network called as network(x_t, cond, t, cond_drop_prob)."""

    def __init__(self, alphas_cumprod: Tensor, cond_drop_prob: float = COND_DROP_PROB):
        """`alphas_cumprod` (1000,): the schedule's cumulative products (the sampler's cosine schedule)."""
        super().__init__()
        self.register_buffer("sqrt_ac", alphas_cumprod.float().sqrt(), persistent=False)
        self.register_buffer("sqrt_one_minus_ac", (1 - alphas_cumprod.float()).sqrt(), persistent=False)
        self.cond_drop_prob = cond_drop_prob
        self.fk = ForwardKinematics()

    @property
    def n_timesteps(self) -> int:
        return int(self.sqrt_ac.shape[0])

    def noised(self, x0: Tensor, t: Tensor, noise: Tensor) -> Tensor:
        """x_t for clean x0 (B, N, C) at steps t (B,) with Gaussian `noise` like x0."""
        return self.sqrt_ac[t][:, None, None] * x0 + self.sqrt_one_minus_ac[t][:, None, None] * noise

    def forward(self, network: nn.Module, x0: Tensor, cond: Tensor, t: Tensor | None = None,
                noise: Tensor | None = None) -> Loss:
        """The loss of `network` on clean windows x0 (B, 150, 151) with music cond (B, 150, C); t (B,)
        and noise default to random draws (pass them to evaluate on fixed ones)."""
        if t is None:
            t = torch.randint(0, self.n_timesteps, (x0.shape[0],), device=x0.device)
        if noise is None:
            noise = torch.randn_like(x0)
        predicted = network(self.noised(x0, t, noise), cond, t, cond_drop_prob=self.cond_drop_prob if network.training else 0.0)
        contact_pred, pose_pred = predicted[..., :N_CONTACTS], predicted[..., N_CONTACTS:]
        pose_true = x0[..., N_CONTACTS:]
        joints_pred, joints_true = self._joints(pose_pred), self._joints(pose_true)
        foot_speed = torch.zeros_like(joints_pred[:, :, list(FOOT_JOINTS)])
        foot_speed[:, :-1] = joints_pred[:, 1:, list(FOOT_JOINTS)] - joints_pred[:, :-1, list(FOOT_JOINTS)]
        foot_speed = foot_speed * (contact_pred > CONTACT_THRESHOLD)[..., None]
        raw = {
            "reconstruction": F.mse_loss(predicted, x0),
            "velocity": F.mse_loss(pose_pred[:, 1:] - pose_pred[:, :-1], pose_true[:, 1:] - pose_true[:, :-1]),
            "kinematics": F.mse_loss(joints_pred, joints_true),
            "foot_skate": foot_speed.square().mean(),
        }
        weighted = {name: LOSS_WEIGHTS[name] * value for name, value in raw.items()}
        return Loss(sum(weighted.values()), {name: float(value.detach()) for name, value in weighted.items()})

    def _joints(self, pose: Tensor) -> Tensor:
        """Pose channels (B, N, 147): root position + 24 x 6D -> joint positions (B, N, 24, 3)."""
        rotations = rotation_6d_to_matrix(pose[..., ROOT_CHANNELS:].unflatten(-1, (N_JOINTS, 6)))
        return self.fk(rotations, pose[..., :ROOT_CHANNELS])
