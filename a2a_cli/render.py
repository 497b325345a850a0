"""Previews: a skeleton video of a Motion (mp4 with the music muxed in, or a GIF), or one frame.

Drawn with Pillow and encoded by the ffmpeg that `imageio-ffmpeg` bundles; no matplotlib. What
makes it fast enough that previewing is never the slow part:
- the camera only translates (it follows the dancer's smoothed root), so every pixel's floor point
  relative to the camera is fixed: the floor is precomputed once and each frame's checkerboard is
  one vectorised numpy expression;
- all joints of all frames are projected at once, before the frame loop;
- anti-aliasing by supersampling only the dancer's box, not the whole frame;
- Python draws while ffmpeg encodes in its own process (raw RGB through a pipe).
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from a2a_cli.errors import InputError, WorkError
from a2a_cli.fileio import atomic_path
from a2a_cli.motion import Motion
from a2a_cli.motion.skeleton import HEAD, NECK, smpl_skeleton

VIDEO_FPS = 30.0
GIF_FPS = 15.0
VIDEO_SIZE = (640, 480)
GIF_SIZE = (320, 240)
GIF_COLOURS = 48
GIF_PALETTE_SAMPLES = 12
FORMATS = (".mp4", ".gif")

# Camera: in front of the dancer (who faces +z at rest) and 30 degrees to the side, a little above
# the head, looking at the hips; it follows the root's x/z low-passed, so steps do not shake it.
CAMERA_AZIMUTH_DEG = 30.0
CAMERA_DISTANCE_M = 4.8
CAMERA_HEIGHT_M = 1.6
TARGET_HEIGHT_M = 0.9
VERTICAL_FOV_DEG = 40.0
FOLLOW_SIGMA_S = 0.5
NEAR_M = 0.1

BONE_RADIUS_M = 0.035
JOINT_RADIUS_M = 0.018
HEAD_RADIUS_M = 0.1
SHADOW_RADIUS_M = 0.45
SUPERSAMPLE = 3
CHECKER_M = 1.0
FAR_M = 60.0

LEFT_RGB = (255, 142, 60)
RIGHT_RGB = (70, 165, 255)
CENTRE_RGB = (236, 236, 240)
JOINT_RGB = (255, 255, 255)
SKY_TOP_RGB = (20, 22, 30)
HORIZON_RGB = (62, 66, 82)
FLOOR_DARK_RGB = (58, 62, 76)
FLOOR_LIGHT_RGB = (104, 110, 128)
SHADOW_RGBA = (0, 0, 0, 90)
TEXT_RGB = (225, 228, 235)
PROGRESS_RGB = (255, 142, 60)


def render_preview(
    motion: Motion,
    out_path: str | os.PathLike,
    *,
    audio_path: str | os.PathLike | None = None,
    start_s: float = 0.0,
    size: tuple[int, int] | None = None,
    fps: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write a preview of `motion` to `out_path` (.mp4 or .gif, by extension), atomically.

    mp4: H.264 at `fps` (default 30) and `size` (default 640x480), with `audio_path` cut at
    `start_s` for the motion's duration muxed in (padded with silence if shorter). GIF: no audio,
    15 fps and 320x240 by default, to keep files small. `progress(done, total)` is called after
    each frame. Returns the path written.
    """
    out_path = Path(out_path)
    ext = out_path.suffix.lower()
    if ext not in FORMATS:
        raise InputError(f"cannot render {out_path.name}: the preview format is chosen by extension, one of {', '.join(FORMATS)}")
    is_gif = ext == ".gif"
    if audio_path is not None:
        audio_path = Path(audio_path)
        if not audio_path.is_file():
            raise InputError(f"audio not found: {audio_path}")
    if not math.isfinite(start_s) or start_s < 0:
        raise InputError(f"start must be a non-negative number of seconds, got {start_s}")
    size = _check_size(size or (GIF_SIZE if is_gif else VIDEO_SIZE))
    fps = float(fps or (GIF_FPS if is_gif else VIDEO_FPS))
    if not 1 <= fps <= 120:
        raise InputError(f"fps must be between 1 and 120, got {fps:g}")

    scene = _Scene(motion, size, fps)
    ffmpeg = _ffmpeg_exe()
    with atomic_path(out_path) as tmp, tempfile.TemporaryDirectory(prefix="a2a-render-") as work:
        if is_gif:
            palette = _write_gif_palette(scene, Path(work) / "palette.png")
            cmd = _gif_command(ffmpeg, tmp, size, fps, palette)
        else:
            cmd = _mp4_command(ffmpeg, tmp, size, fps, scene.n_frames / fps, audio_path, start_s)
        _encode(cmd, scene, progress, audio_path)
    return out_path


def render_frame(motion: Motion, frame_index: int, size: tuple[int, int] = VIDEO_SIZE) -> Image.Image:
    """One frame of the preview as an RGB image, for snapshots and thumbnails."""
    if not -motion.n_frames <= frame_index < motion.n_frames:
        raise InputError(f"frame {frame_index} is out of range: the motion has {motion.n_frames} frames")
    scene = _Scene(motion, _check_size(size), motion.fps)
    return scene.draw(frame_index % motion.n_frames)


def parse_size(text: str) -> tuple[int, int]:
    """'640x480' -> (640, 480), checked like any preview size; for command-line flags."""
    try:
        w, h = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise InputError(f"size must look like 640x480, got {text!r}") from None
    return _check_size((w, h))


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    w, h = (int(v) for v in size)
    if not (16 <= w <= 4096 and 16 <= h <= 4096) or w % 2 or h % 2:
        raise InputError(f"preview size must be even numbers of pixels between 16 and 4096, got {w}x{h}")
    return w, h


class _Camera:
    """A fixed-orientation pinhole camera placed relative to a moving target (y up, metres)."""

    def __init__(self, size: tuple[int, int]):
        self.width, self.height = size
        self.focal = (self.height / 2) / math.tan(math.radians(VERTICAL_FOV_DEG) / 2)
        az = math.radians(CAMERA_AZIMUTH_DEG)
        horizontal = math.sqrt(CAMERA_DISTANCE_M**2 - (CAMERA_HEIGHT_M - TARGET_HEIGHT_M) ** 2)
        # Camera position relative to the target point (the smoothed root at hip height).
        self.offset = np.array([horizontal * math.sin(az), CAMERA_HEIGHT_M - TARGET_HEIGHT_M, horizontal * math.cos(az)])
        forward = -self.offset / np.linalg.norm(self.offset)
        right = np.cross(forward, [0.0, 1.0, 0.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, forward)
        self.basis = np.stack([right, up, forward])  # rows: camera x, y, z (depth) in world terms

    def project(self, points_rel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pixel u, v and depth of points given relative to the target, any leading shape."""
        cam = (points_rel - self.offset) @ self.basis.T
        depth = cam[..., 2]
        safe = np.maximum(depth, NEAR_M)
        u = self.width / 2 + self.focal * cam[..., 0] / safe
        v = self.height / 2 - self.focal * cam[..., 1] / safe
        return u, v, depth

    def pixel_rays(self) -> np.ndarray:
        """World-space ray directions through each pixel centre, (H, W, 3)."""
        u = (np.arange(self.width) + 0.5 - self.width / 2) / self.focal
        v = -(np.arange(self.height) + 0.5 - self.height / 2) / self.focal
        uu, vv = np.meshgrid(u, v)
        cam = np.stack([uu, vv, np.ones_like(uu)], axis=-1)
        return cam @ self.basis


class _Floor:
    """Sky gradient and an anti-aliased, fogged checkerboard floor, re-shaded per camera position."""

    def __init__(self, camera: _Camera):
        h, w = camera.height, camera.width
        rays = camera.pixel_rays()
        floor_dy = -TARGET_HEIGHT_M - camera.offset[1]  # the floor's height relative to the camera
        hits = rays[..., 1] < -1e-6
        # Rows below the horizon see the floor (the camera has no roll, so the horizon is a row).
        self.top = int(np.argmax(hits[:, 0])) if hits[:, 0].any() else h
        rows = rays[self.top :]
        # Past FAR_M the floor is all fog; the cap keeps the cell phases small enough for float32.
        t = np.minimum(floor_dy / rows[..., 1], FAR_M)
        hit_x = (camera.offset[0] + t * rows[..., 0]) / CHECKER_M  # floor point minus target, in cells
        hit_z = (camera.offset[2] + t * rows[..., 2]) / CHECKER_M
        # Half a pixel's footprint on the floor, in cells, sets the width of the edge blend.
        inv_fw_x = 1.0 / np.maximum(0.5 * np.abs(np.stack(np.gradient(hit_x))).sum(axis=0), 1e-4)
        inv_fw_z = 1.0 / np.maximum(0.5 * np.abs(np.stack(np.gradient(hit_z))).sum(axis=0), 1e-4)
        # A square wave of period two cells from a triangle wave, |frac((x - 1/2) / 2) - 1/2|,
        # which is 1/4 on cell edges: gain and bias turn it into +-1 blended across one footprint.
        self.waves = [
            (((hit - 0.5) / 2).astype(np.float32), (2 * inv_fw).astype(np.float32), (inv_fw / 2).astype(np.float32))
            for hit, inv_fw in ((hit_x, inv_fw_x), (hit_z, inv_fw_z))
        ]
        distance = t * np.linalg.norm(rows, axis=-1)
        fog = np.clip((distance - 5.0) / 14.0, 0.0, 1.0)[..., None]
        mid = np.add(FLOOR_DARK_RGB, FLOOR_LIGHT_RGB) / 2.0
        amp = np.subtract(FLOOR_LIGHT_RGB, FLOOR_DARK_RGB) / 2.0
        self.base = (mid * (1 - fog) + np.asarray(HORIZON_RGB) * fog).astype(np.float32)
        self.amp = (amp * (1 - fog)).astype(np.float32)
        k = np.linspace(0.0, 1.0, max(self.top, 1))[:, None, None] ** 1.5
        sky = np.asarray(SKY_TOP_RGB) * (1 - k) + np.asarray(HORIZON_RGB) * k
        self.image = np.empty((h, w, 3), dtype=np.uint8)
        self.image[: self.top] = np.broadcast_to(sky[: self.top], (self.top, w, 3)).astype(np.uint8)
        self._wave_x, self._wave_z, self._scratch = (np.empty(hit_x.shape, np.float32) for _ in range(3))
        self._rgb = np.empty(self.base.shape, np.float32)

    def render(self, target_x: float, target_z: float) -> np.ndarray:
        """The background (H, W, 3) uint8 for the camera following a target at (x, z). Reused buffer."""
        sx = self._square_wave(target_x, *self.waves[0], out=self._wave_x)
        sz = self._square_wave(target_z, *self.waves[1], out=self._wave_z)
        sx *= sz
        np.multiply(sx[..., None], self.amp, out=self._rgb)
        self._rgb += self.base
        np.copyto(self.image[self.top :], self._rgb, casting="unsafe")
        return self.image

    def _square_wave(self, target: float, half_phase: np.ndarray, gain: np.ndarray, bias: np.ndarray, out: np.ndarray) -> np.ndarray:
        """+-1 on alternate cells, blended linearly across each edge; in-place passes, no fmod (slow)."""
        np.add(half_phase, np.float32(target / CHECKER_M / 2), out=out)
        np.floor(out, out=self._scratch)
        out -= self._scratch
        out -= 0.5
        np.abs(out, out=out)
        out *= gain
        out -= bias
        return np.clip(out, -1.0, 1.0, out=out)


def _bone_colours() -> list[tuple[int, int, int]]:
    """Per child joint: left limbs, right limbs and the spine/head each have their own colour."""
    names = smpl_skeleton().names
    return [LEFT_RGB if n.startswith("left") else RIGHT_RGB if n.startswith("right") else CENTRE_RGB for n in names]


class _Scene:
    """Everything per motion that the frame loop needs, computed once: projections, camera path, floor."""

    def __init__(self, motion: Motion, size: tuple[int, int], fps: float):
        from scipy.ndimage import gaussian_filter1d

        if motion.n_frames < 1:
            raise InputError("cannot render an empty motion (0 frames)")
        joints = np.asarray(motion.joints, dtype=np.float64)
        if not np.isfinite(joints).all():
            raise InputError("cannot render a motion with NaN or infinite joint positions")
        self.n_frames = max(1, round(motion.duration_s * fps))
        self.fps = fps
        source = np.clip(np.round(np.arange(self.n_frames) * motion.fps / fps).astype(np.int64), 0, motion.n_frames - 1)
        joints = joints[source]
        # The floor: where the lowest joint usually is, less the foot's thickness below its joints.
        self.floor_y = float(np.percentile(joints[..., 1].min(axis=1), 5)) - 0.03
        root_xz = joints[:, 0, [0, 2]]
        self.target_xz = gaussian_filter1d(root_xz, sigma=FOLLOW_SIGMA_S * fps, axis=0, mode="nearest") if self.n_frames > 1 else root_xz
        target = np.column_stack([self.target_xz[:, 0], np.full(self.n_frames, self.floor_y + TARGET_HEIGHT_M), self.target_xz[:, 1]])
        rel = joints - target[:, None, :]

        self.camera = _Camera(size)
        self.floor = _Floor(self.camera)
        skeleton = smpl_skeleton()
        # SMPL's head joint sits low in the skull: the head's disc is centred further up the neck line.
        head_centre = rel[:, HEAD] + 0.8 * (rel[:, HEAD] - rel[:, NECK])
        shadow = rel[:, 0].copy()
        shadow[:, 1] = -TARGET_HEIGHT_M
        ring = np.array([[SHADOW_RADIUS_M, 0, 0], [-SHADOW_RADIUS_M, 0, 0], [0, 0, SHADOW_RADIUS_M], [0, 0, -SHADOW_RADIUS_M]])
        points = np.concatenate([rel, head_centre[:, None], shadow[:, None] + ring], axis=1)
        self.u, self.v, self.depth = self.camera.project(points)
        self.u, self.v = self.u.astype(np.float32), self.v.astype(np.float32)
        self.parents = skeleton.parents
        self.colours = _bone_colours()
        self.px_per_m = self.camera.focal / np.maximum(self.depth, NEAR_M)
        self.font = ImageFont.load_default(size=max(10, size[1] // 32))

    def draw(self, i: int) -> Image.Image:
        """Frame `i`: floor, shadow, depth-sorted bones and joints, then the time/frame overlay."""
        tx, tz = self.target_xz[i]
        frame = Image.fromarray(self.floor.render(float(tx), float(tz)))
        self._draw_dancer(frame, i)
        self._draw_overlay(frame, i)
        return frame

    def _draw_dancer(self, frame: Image.Image, i: int) -> None:
        u, v, depth, scale = self.u[i], self.v[i], self.depth[i], self.px_per_m[i]
        visible = depth > NEAR_M
        if not visible.any():
            return
        margin = 2 + HEAD_RADIUS_M * float(scale[visible].max())
        x0 = max(int(u[visible].min() - margin), 0)
        y0 = max(int(v[visible].min() - margin), 0)
        x1 = min(int(math.ceil(u[visible].max() + margin)), frame.width)
        y1 = min(int(math.ceil(v[visible].max() + margin)), frame.height)
        if x1 <= x0 or y1 <= y0:
            return  # entirely outside the frame
        s = SUPERSAMPLE
        layer = frame.crop((x0, y0, x1, y1)).resize(((x1 - x0) * s, (y1 - y0) * s), Image.Resampling.NEAREST)
        pen = ImageDraw.Draw(layer, "RGBA")
        us, vs = (u - x0) * s, (v - y0) * s  # layer coordinates

        n = len(self.parents)
        head, ring = n, slice(n + 1, n + 5)
        if visible[ring].all():
            pen.ellipse([us[ring].min(), vs[ring].min(), us[ring].max(), vs[ring].max()], fill=SHADOW_RGBA)

        # Painter's order: far bones first; the head is a disc at its own depth.
        items = sorted(range(1, n + 1), key=lambda j: -depth[j] if j == head else -(depth[j] + depth[self.parents[j]]) / 2)
        for j in items:
            if j == head:
                if visible[head]:
                    r = HEAD_RADIUS_M * scale[head] * s
                    pen.ellipse([us[head] - r, vs[head] - r, us[head] + r, vs[head] + r], fill=CENTRE_RGB)
                continue
            p = self.parents[j]
            if not (visible[j] and visible[p]):
                continue
            r = BONE_RADIUS_M * (scale[j] + scale[p]) / 2 * s
            colour = self.colours[j]
            pen.line([(us[p], vs[p]), (us[j], vs[j])], fill=colour, width=max(1, round(2 * r)))
            for k in (p, j):  # round caps so bones join without notches
                pen.ellipse([us[k] - r, vs[k] - r, us[k] + r, vs[k] + r], fill=colour)
        for j in range(n):
            if visible[j]:
                r = JOINT_RADIUS_M * scale[j] * s
                pen.ellipse([us[j] - r, vs[j] - r, us[j] + r, vs[j] + r], fill=JOINT_RGB)
        frame.paste(layer.reduce(s), (x0, y0))

    def _draw_overlay(self, frame: Image.Image, i: int) -> None:
        pen = ImageDraw.Draw(frame)
        t = i / self.fps
        pen.text((8, 6), f"{int(t // 60)}:{t % 60:04.1f}   frame {i + 1}/{self.n_frames}", fill=TEXT_RGB, font=self.font)
        bar = max(2, frame.height // 120)
        pen.rectangle([0, frame.height - bar, round(frame.width * (i + 1) / self.n_frames), frame.height], fill=PROGRESS_RGB)


def _ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as e:
        raise WorkError(f"no ffmpeg found for rendering previews (install imageio-ffmpeg): {e}") from None


def _rawvideo_input(ffmpeg: str, size: tuple[int, int], fps: float) -> list[str]:
    w, h = size
    return [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", f"{fps:g}", "-i", "pipe:0"]


def _mp4_command(ffmpeg: str, out: Path, size: tuple[int, int], fps: float, duration: float, audio: Path | None, start_s: float) -> list[str]:
    cmd = _rawvideo_input(ffmpeg, size, fps)
    if audio is not None:
        # "file:": a name such as "x:song.wav" is a file, not ffmpeg's protocol "x"
        cmd += ["-ss", f"{start_s:.3f}", "-t", f"{duration:.3f}", "-i", f"file:{audio}"]
    cmd += ["-map", "0:v", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
    if audio is not None:
        # Audio padded with silence and both streams cut at the motion's duration: the video's
        # length rules (-shortest overshoots by a few audio packets).
        cmd += ["-map", "1:a", "-c:a", "aac", "-b:a", "128k", "-af", "apad", "-t", f"{duration:.3f}"]
    return cmd + ["-movflags", "+faststart", "-f", "mp4", str(out)]


def _gif_command(ffmpeg: str, out: Path, size: tuple[int, int], fps: float, palette: Path) -> list[str]:
    # A fixed palette, undithered: frames stream through (no buffering of the whole clip) and
    # the flat colours of the scene compress well.
    return _rawvideo_input(ffmpeg, size, fps) + [
        "-i", str(palette), "-filter_complex", "[0:v][1:v]paletteuse=dither=none:diff_mode=rectangle",
        "-loop", "0", "-f", "gif", str(out)]


def _write_gif_palette(scene: _Scene, path: Path) -> Path:
    """The scene's own colours plus the commonest of frames sampled across the clip, as the 16x16
    image ffmpeg wants. The limb colours are forced in: they cover too few pixels to survive a
    quantiser that counts pixels."""
    fixed = [LEFT_RGB, RIGHT_RGB, CENTRE_RGB, JOINT_RGB, TEXT_RGB, PROGRESS_RGB, SKY_TOP_RGB, HORIZON_RGB]
    picks = np.unique(np.linspace(0, scene.n_frames - 1, GIF_PALETTE_SAMPLES).round().astype(int))
    sheet = Image.fromarray(np.concatenate([np.asarray(scene.draw(i)) for i in picks], axis=0))
    n_learned = GIF_COLOURS - len(fixed)
    learned = sheet.quantize(colors=n_learned).getpalette()[: 3 * n_learned]
    colours = np.concatenate([np.asarray(fixed, np.uint8), np.asarray(learned, np.uint8).reshape(-1, 3)])
    Image.fromarray(np.resize(colours, (256, 3)).reshape(16, 16, 3)).save(path)
    return path


def _encode(cmd: list[str], scene: _Scene, progress: Callable[[int, int], None] | None, audio: Path | None) -> None:
    """Pipe every frame to ffmpeg; any failure is one line naming ffmpeg's last complaint."""
    with tempfile.TemporaryFile() as log:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
        except OSError as e:
            raise WorkError(f"cannot run ffmpeg ({cmd[0]}): {e.strerror or e}") from None
        try:
            for i in range(scene.n_frames):
                proc.stdin.write(scene.draw(i).tobytes())
                if progress is not None:
                    progress(i + 1, scene.n_frames)
            proc.stdin.close()
            code = proc.wait()
        except BrokenPipeError:
            code = proc.wait()
        finally:
            if proc.poll() is None:  # interrupted: stop ffmpeg before the half file is removed
                proc.kill()
                proc.wait()
        if code != 0:
            log.seek(0)
            lines = [ln.strip() for ln in log.read().decode(errors="replace").splitlines() if ln.strip()]
            reason = lines[-1] if lines else f"exit code {code}"
            if audio is not None and any(str(audio) in line for line in lines):  # ffmpeg names the input it could not open
                raise InputError(f"cannot read audio {audio}: {reason.rsplit(': ', 1)[-1]}")
            raise WorkError(f"ffmpeg failed: {reason}")
