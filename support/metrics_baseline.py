"""The per-frame statement of the metrics: what the tests check the library's vectorised metrics
against, and what `benchmarks/bench_metrics.py` measures their speed against.

A straightforward per-frame Python implementation of the same definitions, in the style of the
papers' reference code (Bailando's `kinetic.py`, `manual_new.py`, `beat_align_score.py`; EDGE's
`eval_pfc.py`; the validity gates of scoring/validity.py): one frame, one joint, one feature at a
time, with FK as one 3x3 product per joint and frame. It shares no code with `a2a_cli.scoring`
beyond the skeleton and the rotation formula, so it states the metrics independently.
"""

from __future__ import annotations

import numpy as np

from a2a_cli.frame_rate import FPS

N_FRAMES = 300  # a 10-second clip
SEED = 0

__all__ = ["baseline_fk", "baseline_bas", "baseline_pfc", "baseline_kinetic", "baseline_geometric", "baseline_validity",
           "smooth_random_clips", "N_FRAMES", "SEED"]


def baseline_fk(poses: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """(T, 24, 3) axis-angle + (T, 3) -> joints (T, 24, 3), one frame and joint at a time, float64."""
    from a2a_cli.motion.rotations import axis_angle_to_matrix
    from a2a_cli.motion.skeleton import smpl_skeleton

    sk = smpl_skeleton()
    joints = np.zeros(poses.shape, dtype=np.float64)
    for t in range(len(poses)):
        glob = [None] * 24
        for j in range(24):
            local = axis_angle_to_matrix(poses[t, j].astype(np.float64))
            p = sk.parents[j]
            if p < 0:
                glob[j], joints[t, j] = local, trans[t]
            else:
                glob[j] = glob[p] @ local
                joints[t, j] = joints[t, p] + glob[p] @ sk.offsets[j]
    return joints


def baseline_bas(joints: np.ndarray, music_beats: np.ndarray, fps: float = FPS) -> float:
    """Bailando's beat alignment: minima of the smoothed mean joint speed vs music beats."""
    from scipy.ndimage import gaussian_filter

    speed = np.array([np.mean(np.linalg.norm(joints[t + 1] - joints[t], axis=1)) for t in range(len(joints) - 1)])
    smooth = gaussian_filter(speed, fps / 6)
    motion = [k for k in range(1, len(smooth) - 1) if smooth[k] < smooth[k - 1] and smooth[k] < smooth[k + 1]]
    music = [b for b in music_beats if 0 <= b < len(speed)]
    if not motion or not music:
        return 0.0
    sigma = 0.1 * fps
    return sum(np.exp(-min((m - b) ** 2 for m in motion) / (2 * sigma**2)) for b in music) / len(music)


def baseline_pfc(joints: np.ndarray, fps: float = FPS) -> float:
    """EDGE's physical foot contact, frame by frame, y up."""
    dt = 1.0 / fps
    accel = []
    for t in range(1, len(joints) - 1):
        a = (joints[t + 1, 0] - 2 * joints[t, 0] + joints[t - 1, 0]) / dt**2
        a[1] = max(a[1], 0.0)
        accel.append(np.linalg.norm(a))
    peak = max(accel)
    total = 0.0
    for i, t in enumerate(range(1, len(joints) - 1)):
        speed = [np.linalg.norm((joints[t + 1, j] - joints[t, j])[[0, 2]]) * fps / 30 for j in (7, 10, 8, 11)]
        total += min(speed[0], speed[1]) * min(speed[2], speed[3]) * (accel[i] / peak if peak > 0 else 0.0)
    return total / len(accel) * 10_000


def baseline_kinetic(joints: np.ndarray, frame_time: float = 1 / 60) -> np.ndarray:
    """AIST++/Bailando kinetic features: per joint, windowed velocities and accelerations, of the
    joints relative to the frame-0 root, with the code's v1 = p[k] - p[k-1] / ft (scoring/kinetic.py)."""
    joints = joints - joints[0, 0]
    n = len(joints)
    out = []
    for j in range(24):
        horizontal = vertical = expenditure = 0.0
        for i in range(1, n):
            v_sum, v_count, a_sum, a_count = np.zeros(3), 0, np.zeros(3), 0
            for k in range(i - 2, i + 3):
                if 1 <= k <= n - 1:
                    v_sum += joints[k, j] - joints[k - 1, j]
                    v_count += 1
                if 1 <= k <= n - 2:
                    v2 = (joints[k + 1, j] - joints[k, j]) / frame_time
                    v1 = joints[k, j] - joints[k - 1, j] / frame_time
                    a_sum += (v2 - v1) / frame_time
                    a_count += 1
            v = v_sum / (v_count * frame_time)
            horizontal += v[0] ** 2 + v[2] ** 2
            vertical += v[1] ** 2
            expenditure += np.linalg.norm(a_sum / a_count)
        out += [horizontal / (n - 1), vertical / (n - 1), expenditure / (n - 1)]
    return np.array(out)


def baseline_geometric(joints: np.ndarray, frame_time: float = 1 / 120) -> np.ndarray:
    """Bailando's 32 boolean relational features, frame by frame, averaged over frames 1..T-1."""
    from a2a_cli.scoring.geometric import HIP_WIDTH as hw
    from a2a_cli.scoring.geometric import HUMERUS as hl
    from a2a_cli.scoring.geometric import SHOULDER_WIDTH as sw

    rows = []
    for t in range(1, len(joints)):
        cur, prev = joints[t], joints[t - 1]
        y_min = cur[:, 1].min()
        up = np.array([0.0, 1.0, 0.0])

        def moving(origin, towards, mover, thr, normal_of=None):
            velocity = (cur[mover] - cur[origin]) - (prev[mover] - prev[origin])
            direction = cur[towards] - cur[origin] if normal_of is None else np.cross(cur[normal_of] - cur[origin], cur[towards] - cur[origin])
            return velocity @ direction / np.linalg.norm(direction) / frame_time > thr

        def plane_normal(n1, n2, a, p, thr):
            normal = n2 - n1
            return normal @ (p - a) / np.linalg.norm(normal) > thr

        def plane(a, b, c, p, thr):
            normal = np.cross(cur[c] - cur[a], cur[b] - cur[a])
            return normal @ (cur[p] - cur[a]) / np.linalg.norm(normal) > thr

        def angle(u, v, low, high):
            deg = np.degrees(np.arccos(u @ v / (np.linalg.norm(u) * np.linalg.norm(v))))
            return low < deg < high

        def fast(j, thr):
            return np.linalg.norm(cur[j] - prev[j]) / frame_time > thr

        c = cur
        rows.append([
            moving(12, 2, 21, 1.8 * hl, normal_of=1), moving(12, 1, 20, 1.8 * hl, normal_of=2),
            plane_normal(c[9], c[12], c[12], c[21], 0.2 * hl), plane_normal(c[9], c[12], c[12], c[20], 0.2 * hl),
            moving(3, 9, 9, 1.8 * hl), moving(3, 9, 9, 1.8 * hl),
            angle(c[17] - c[19], c[21] - c[19], 0, 110), angle(c[16] - c[18], c[20] - c[18], 0, 110),
            plane_normal(c[16], c[17], c[20], c[21], 2.5 * sw),
            moving(20, 21, 21, 1.4 * hl), moving(21, 0, 20, 1.4 * hl), moving(20, 0, 21, 1.4 * hl),
            fast(21, 2.5 * hl), fast(20, 2.5 * hl),
            plane(0, 1, 10, 8, 0.38 * hl), plane(0, 2, 11, 7, 0.38 * hl),
            c[8, 1] - y_min > 1.2 * hl, c[7, 1] - y_min > 1.2 * hl,
            plane_normal(c[1], c[2], c[7], c[8], 2.1 * hw),
            angle(c[2] - c[5], c[8] - c[5], 0, 110), angle(c[1] - c[4], c[7] - c[4], 0, 110),
            fast(8, 2.5 * hl), fast(7, 2.5 * hl),
            angle(c[0] - c[12], c[19] - c[17], 25, 180), angle(c[0] - c[12], c[18] - c[16], 25, 180),
            angle(c[0] - c[12], c[5] - c[2], 50, 180), angle(c[0] - c[12], c[4] - c[1], 50, 180),
            plane(8, 12, 7, 0, 0.5 * hl),
            angle(c[0] - c[12], up, 70, 110),
            -(c[21, 1] - y_min) > -1.2 * hl, -(c[20, 1] - y_min) > -1.2 * hl,
            fast(0, 2.3 * hl),
        ])
    return np.array(rows, dtype=np.float64).mean(axis=0)


def baseline_validity(joints: np.ndarray, fps: float = FPS, poses: np.ndarray | None = None) -> dict[str, float]:
    """The validity gates' values (scoring/validity.py), frame by frame and joint by joint, float64."""
    from a2a_cli.motion.rotations import axis_angle_to_quaternion
    from a2a_cli.motion.skeleton import smpl_skeleton
    from a2a_cli.scoring import validity as v

    joints = np.asarray(joints, dtype=np.float64)
    n = len(joints)
    fastest, root, jerk = [], [], []
    for t in range(n - 1):
        speeds = [np.linalg.norm(joints[t + 1, j] - joints[t, j]) * fps for j in range(24)]
        fastest.append(max(speeds))
        root.append(speeds[0])
    for t in range(n - 3):
        jolt = [joints[t + 3, j] - 3 * joints[t + 2, j] + 3 * joints[t + 1, j] - joints[t, j] for j in range(24)]
        jerk.append(np.mean([np.linalg.norm(d) for d in jolt]) * fps**3)
    lowest = [min(joints[t, j, 1] for j in (7, 8, 10, 11)) for t in range(n)]
    floor = np.percentile(lowest, 5.0)
    run = longest_run = contact = skate = 0
    for t in range(n):
        run = run + 1 if lowest[t] > v.AIRBORNE_HEIGHT_M else 0
        longest_run = max(longest_run, run)
        for ankle, toe in ((7, 10), (8, 11)) if t > 0 else ():
            if min(joints[t, ankle, 1], joints[t, toe, 1]) - floor < v.CONTACT_HEIGHT_M:
                contact += 1
                slide = min(np.linalg.norm((joints[t, j] - joints[t - 1, j])[[0, 2]]) for j in (ankle, toe)) * fps
                skate += slide > v.SKATE_SPEED_M_S
    pose_motion = []
    for j in range(24):
        rel = joints[:, j] - joints[:, 0]
        pose_motion.append(np.sqrt(np.mean([np.sum((r - rel.mean(axis=0)) ** 2) for r in rel])))
    values = {
        "joint_speed": np.percentile(fastest, 99.0),
        "root_speed": np.percentile(root, 99.0),
        "teleport": max(root),
        "jerk": np.median(jerk),
        "penetration": np.percentile([max(0.0, -h) for h in lowest], v.PENETRATION_PERCENTILE),
        "floating": longest_run / fps,
        "foot_skating": skate / max(contact, 1),
        "moves": np.mean(pose_motion),
    }
    if poses is None:
        parents = smpl_skeleton().parents
        lengths = np.array([[np.linalg.norm(joints[t, j] - joints[t, parents[j]]) for j in range(1, 24)] for t in range(n)])
        median = np.maximum(np.median(lengths, axis=0), 1e-6)
        values["bone_stretch"] = np.percentile([np.mean(np.abs(row / median - 1.0)) for row in lengths], 99.0)
    else:
        spin = []
        for t in range(n - 1):
            q0, q1 = (axis_angle_to_quaternion(np.asarray(poses[k], dtype=np.float64)) for k in (t, t + 1))
            spin.append(max(2.0 * np.arccos(min(abs(q0[j] @ q1[j]), 1.0)) * fps for j in range(24)))
        values["angular_speed"] = np.percentile(spin, 99.0)
    return {name: float(value) for name, value in values.items()}


# ---------------------------------------------------------------- inputs


def smooth_random_clips(n_clips: int, n_frames: int = N_FRAMES, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Random but smooth dances: low-frequency sinusoids per joint angle and a wandering root."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames, dtype=np.float32) / FPS
    freq = rng.uniform(0.3, 2.5, (n_clips, 1, 24, 3)).astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi, (n_clips, 1, 24, 3)).astype(np.float32)
    amp = rng.uniform(0.05, 0.6, (n_clips, 1, 24, 3)).astype(np.float32)
    poses = amp * np.sin(2 * np.pi * freq * t[None, :, None, None] + phase)
    trans = np.cumsum(rng.normal(0, 0.01, (n_clips, n_frames, 3)), axis=1).astype(np.float32)
    trans[..., 1] += 0.95
    return poses.astype(np.float32), trans
