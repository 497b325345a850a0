"""Preview rendering speed: a 30-second dance at 640x480 to mp4 with its music, the dancer drawn as
the shaded capsule body (target: under 15 s on a 2-core machine).

Baseline, measured in the same run: the same body drawn the obvious way with Pillow: every frame
drawn whole at 3x (the floor as checker polygons, each capsule a thick line with round ends in a
flat colour, far to near; no light, no shadows, so less than ours) and scaled down with a Lanczos
filter for anti-aliasing, piped to ffmpeg's libx264 at its default preset.
The baseline runs on the first 5 seconds only (it is slow); both are compared on that clip, and
the 30-second figure of the baseline is extrapolated from it.

Usage: .venv/bin/python benchmarks/bench_render.py
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from a2a_cli.examples import synth_song
from a2a_cli.motion import Motion
from a2a_cli.motion.skeleton import (
    L_ELBOW, L_HIP, L_KNEE, L_SHOULDER, N_JOINTS, R_ELBOW, R_HIP, R_KNEE, R_SHOULDER, smpl_skeleton,
)
from a2a_cli.render import render_preview

SIZE = (640, 480)
FPS = 30
SECONDS = 30.0
BASELINE_SECONDS = 5.0


def dance(seconds: float, bpm: float = 120.0) -> Motion:
    """A bouncing, arm-swinging dancer that travels in a loop of a few metres (the camera must follow)."""
    n = int(round(seconds * FPS))
    t = np.arange(n) / FPS
    beat = 2 * np.pi * bpm / 60 * t
    poses = np.zeros((n, 24, 3), np.float32)
    poses[:, [L_HIP, R_HIP], 0] = (-0.25 - 0.2 * np.sin(beat))[:, None]
    poses[:, [L_KNEE, R_KNEE], 0] = (0.5 + 0.4 * np.sin(beat))[:, None]
    poses[:, L_SHOULDER, 2] = 0.7 + 0.6 * np.sin(beat / 2)
    poses[:, R_SHOULDER, 2] = -0.7 - 0.6 * np.cos(beat / 2)
    poses[:, [L_ELBOW, R_ELBOW], 1] = (0.6 * np.sin(beat / 4))[:, None]
    poses[:, 0, 1] = 0.8 * np.sin(t / 2)
    trans = np.column_stack([1.5 * np.sin(t / 3), 0.88 + 0.04 * np.cos(beat), 1.2 * np.sin(t / 5)]).astype(np.float32)
    return Motion(poses, trans)


def stand_in_smpl_model(rings=11, segments=28, radius_m=0.07) -> dict[str, np.ndarray]:
    """A model in SMPL's format and of SMPL's size (6768 vertices, 13440 faces; SMPL has 6890 and
    13776): a sphere of small triangles around each joint. SMPL's own files cannot ship (licence);
    the rasteriser's cost depends on the triangles' count and size, which this matches."""
    skeleton = smpl_skeleton()
    rest = skeleton.rest_positions()
    theta = np.linspace(0, np.pi, rings + 1)[1:-1]
    phi = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    ring_points = np.stack([np.sin(theta)[:, None] * np.cos(phi), np.cos(theta)[:, None] * np.ones_like(phi),
                            np.sin(theta)[:, None] * np.sin(phi)], axis=-1).reshape(-1, 3)
    unit = np.concatenate([[[0, 1, 0]], ring_points, [[0, -1, 0]]])
    n = len(unit)
    faces = []
    for s in range(segments):
        t = (s + 1) % segments
        faces.append((0, 1 + t, 1 + s))
        for r in range(rings - 2):
            a, b = 1 + r * segments + s, 1 + r * segments + t
            faces += [(a, b, b + segments), (a, b + segments, a + segments)]
        last = 1 + (rings - 2) * segments
        faces.append((n - 1, last + s, last + t))
    faces = np.array(faces)
    vertices = np.concatenate([rest[j] + radius_m * unit for j in range(N_JOINTS)])
    weights = np.eye(N_JOINTS)[np.repeat(np.arange(N_JOINTS), n)]
    parents = skeleton.parents.astype(np.int64).copy()
    parents[0] = 2**32 - 1
    v = len(vertices)
    return {"v_template": vertices, "shapedirs": np.zeros((v, 3, 10)), "posedirs": np.zeros((v, 3, 207)),
            "J_regressor": weights.T / n, "weights": weights, "kintree_table": np.stack([parents, np.arange(N_JOINTS)]),
            "f": np.concatenate([faces + n * j for j in range(N_JOINTS)]).astype(np.uint32)}


def naive_render(motion: Motion, audio: Path, out: Path) -> None:
    """The baseline: whole frames drawn at 3x and downscaled, one by one, default encoder settings."""
    import imageio_ffmpeg

    from a2a_cli.render.body import CAPSULES, CENTRE_RGB, LEFT_RGB, RIGHT_RGB, body_points, stature
    from a2a_cli.render.stage import CHECKER_M, FLOOR_DARK_RGB, FLOOR_LIGHT_RGB, HORIZON_RGB, NEAR_M, Camera, framing_distance

    s = 3
    w, h = SIZE
    joints = motion.joints.astype(np.float64)
    points = body_points(joints)
    floor_y = float(joints[..., 1].min()) - 0.03
    height = stature(joints)
    camera = Camera((w * s, h * s), framing_distance(height), height / 2)
    colours = [(LEFT_RGB, RIGHT_RGB, CENTRE_RGB)[c[4]] for c in CAPSULES]
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
           "-r", str(FPS), "-i", "pipe:0", "-i", str(audio), "-map", "0:v", "-map", "1:a", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    for i in range(motion.n_frames):
        lo, hi = max(0, i - 15), min(motion.n_frames, i + 16)  # follow a moving average of the root
        tx, tz = joints[lo:hi, 0, 0].mean(), joints[lo:hi, 0, 2].mean()
        target = np.array([tx, floor_y + height / 2, tz])
        img = Image.new("RGB", (w * s, h * s), HORIZON_RGB)
        pen = ImageDraw.Draw(img)
        cx0, cz0 = int(tx // CHECKER_M), int(tz // CHECKER_M)
        for cx in range(cx0 - 15, cx0 + 16):
            for cz in range(cz0 - 25, cz0 + 6):
                corners = np.array([[cx, 0, cz], [cx + 1, 0, cz], [cx + 1, 0, cz + 1], [cx, 0, cz + 1]], float) * CHECKER_M
                corners[:, 1] = floor_y
                u, v, depth = camera.project(corners - target)
                if (depth > NEAR_M).all():
                    pen.polygon(list(zip(u, v)), fill=FLOOR_LIGHT_RGB if (cx + cz) % 2 else FLOOR_DARK_RGB)
        u, v, depth = camera.project(points[i] - target)
        scale = camera.focal / depth
        # The same capsules, far to near, each a thick line with round ends in its flat colour (no light).
        for k in np.argsort([-(depth[a] + depth[b]) for a, b, *_ in CAPSULES]):
            a, b, ra, rb, _ = CAPSULES[k]
            r = (ra * scale[a] + rb * scale[b]) / 2
            pen.line([(u[a], v[a]), (u[b], v[b])], fill=colours[k], width=max(1, round(2 * r)))
            for p in (a, b):
                pen.ellipse([u[p] - r, v[p] - r, u[p] + r, v[p] + r], fill=colours[k])
        proc.stdin.write(img.resize(SIZE, Image.Resampling.LANCZOS).tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("baseline ffmpeg failed")


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    import soundfile as sf

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        audio = tmp / "song.wav"
        sf.write(audio, synth_song(bpm=120, duration_s=SECONDS, sr=22050), 22050)
        full, short = dance(SECONDS), dance(BASELINE_SECONDS)

        ours_full = timed(lambda: render_preview(full, tmp / "full.mp4", audio_path=audio, size=SIZE))
        ours_short = timed(lambda: render_preview(short, tmp / "short.mp4", audio_path=audio, size=SIZE))
        base_short = timed(lambda: naive_render(short, audio, tmp / "naive.mp4"))
        gif_full = timed(lambda: render_preview(full, tmp / "full.gif"))
        np.savez(tmp / "stand_in_smpl.npz", **stand_in_smpl_model())
        mesh_full = timed(lambda: render_preview(full, tmp / "mesh.mp4", audio_path=audio, size=SIZE, smpl_model=tmp / "stand_in_smpl.npz"))

        n_full, n_short = full.n_frames, short.n_frames
        print(f"preview of a {SECONDS:g}-s dance (shaded capsule body), {SIZE[0]}x{SIZE[1]} mp4 + audio, {n_full} frames")
        print(f"  a2a render_preview     : {ours_full:6.2f} s  {n_full / ours_full:6.1f} frames/s  "
              f"({SECONDS / ours_full:.1f}x real time; target < 15 s: {'PASS' if ours_full < 15 else 'FAIL'})")
        print(f"  GIF 320x240 @ 15 fps   : {gif_full:6.2f} s")
        print(f"  --smpl-model mesh      : {mesh_full:6.2f} s  (an SMPL-sized stand-in model; smplx/torch import included)")
        print(f"on the first {BASELINE_SECONDS:g} s ({n_short} frames):")
        print(f"  a2a render_preview     : {ours_short:6.2f} s  {n_short / ours_short:6.1f} frames/s")
        print(f"  naive Pillow, flat body: {base_short:6.2f} s  {n_short / base_short:6.1f} frames/s  "
              f"(30 s extrapolated: {base_short * n_full / n_short:.0f} s)")
        print(f"  speed-up               : {base_short / ours_short:6.1f}x")


if __name__ == "__main__":
    main()
