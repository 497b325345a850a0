"""Rendering a preview: frames of a Motion piped to ffmpeg (mp4 with the music muxed in, or a GIF),
or one frame as an image.

Drawn with numpy and Pillow and encoded by the ffmpeg that `imageio-ffmpeg` bundles; no matplotlib.
What keeps it fast enough that previewing is never the slow part:
- every point of every frame is projected at once, before the frame loop;
- the floor is one vectorised expression per frame (`stage.Floor`), and the dancer and its shadows
  are drawn only inside their box, in float32, then written back once;
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
from a2a_cli.frame_rate import FPS
from a2a_cli.motion import Motion
from a2a_cli.motion.skeleton import L_FOOT, PELVIS, R_FOOT
from a2a_cli.render.body import CENTRE_RGB, LEFT_RGB, RIGHT_RGB, SOLE_M, CapsuleFigure, body_points, body_scale, stature
from a2a_cli.render.stage import (
    FRAMINGS, HORIZON_RGB, SKY_TOP_RGB, Camera, Floor, follow_path, framing_distance, paint_shadow,
)

__all__ = ["render_preview", "render_frame", "parse_size", "FORMATS", "VIDEO_FPS", "GIF_FPS"]

VIDEO_FPS = float(FPS)  # one video frame per motion frame
GIF_FPS = 15.0
PREVIEW_FPS_RANGE = (1.0, 120.0)  # frames per second a preview may have
VIDEO_SIZE = (640, 480)
GIF_SIZE = (320, 240)
GIF_COLOURS = 96
GIF_PALETTE_SAMPLES = 12
FORMATS = (".mp4", ".gif")

MIN_STATURE_M = 0.3
# Soft shadows on the floor: a wide one under the pelvis, a small one under each foot that fades
# as the foot lifts (radius m, darkening at the centre, the height in m at which it has faded to 1/e).
BODY_SHADOW = (0.38, 0.45, 1.5)
FOOT_SHADOW = (0.13, 0.5, 0.15)

TEXT_RGB = (225, 228, 235)
PROGRESS_RGB = LEFT_RGB


def render_preview(
    motion: Motion,
    out_path: str | os.PathLike,
    *,
    audio_path: str | os.PathLike | None = None,
    start_s: float = 0.0,
    size: tuple[int, int] | None = None,
    fps: float | None = None,
    smpl_model: str | os.PathLike | None = None,
    progress: Callable[[int, int], None] | None = None,
    framing: str = "full",
) -> Path:
    """Write a preview of `motion` to `out_path` (.mp4 or .gif, by extension), atomically.

    mp4: H.264 at `fps` (default 30) and `size` (default 640x480), with `audio_path` cut at
    `start_s` for the motion's duration muxed in (padded with silence if shorter). GIF: no audio,
    15 fps and 320x240 by default, to keep files small. The dancer is a shaded body of capsules,
    or, with `smpl_model` (the user's SMPL model file or folder; needs the `smplx` package), the
    SMPL mesh. `progress(done, total)` is called after each frame. `framing`: "full" (the whole
    body, for dance) or "upper" (hips to head, closer and more frontal: a speaker's gestures).
    Returns the path written.
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
    fps = _check_fps(GIF_FPS if is_gif and fps is None else VIDEO_FPS if fps is None else fps)

    scene = _Scene(motion, size, fps, smpl_model, framing)
    ffmpeg = _ffmpeg_exe()
    with atomic_path(out_path) as tmp, tempfile.TemporaryDirectory(prefix="a2a-render-") as work:
        if is_gif:
            palette = _write_gif_palette(scene, Path(work) / "palette.png")
            cmd = _gif_command(ffmpeg, tmp, size, fps, palette)
        else:
            cmd = _mp4_command(ffmpeg, tmp, size, fps, scene.n_frames / fps, audio_path, start_s)
        _encode(cmd, scene, progress, audio_path)
    return out_path


def render_frame(motion: Motion, frame_index: int, size: tuple[int, int] = VIDEO_SIZE,
                 smpl_model: str | os.PathLike | None = None, framing: str = "full") -> Image.Image:
    """One frame of the preview (at the motion's own frame rate) as an RGB image, for snapshots and
    thumbnails; `smpl_model` and `framing` as for `render_preview`."""
    if not -motion.n_frames <= frame_index < motion.n_frames:
        raise InputError(f"frame {frame_index} is out of range: the motion has {motion.n_frames} frames")
    scene = _Scene(motion, _check_size(size), motion.fps, smpl_model, framing)
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


def _check_fps(fps: float) -> float:
    fps, (lowest, highest) = float(fps), PREVIEW_FPS_RANGE
    if not lowest <= fps <= highest:  # also refuses NaN
        raise InputError(f"fps must be between {lowest:g} and {highest:g}, got {fps:g}")
    return fps


class _Scene:
    """Everything per motion that the frame loop needs, computed once: the camera's framing and
    path, the floor, the figure's projections and the shadows."""

    def __init__(self, motion: Motion, size: tuple[int, int], fps: float, smpl_model: str | os.PathLike | None = None,
                 framing: str = "full"):
        if framing not in FRAMINGS:
            raise InputError(f"unknown framing {framing!r}; choose one of: {', '.join(FRAMINGS)}")
        if motion.n_frames < 1:
            raise InputError("cannot render an empty motion (0 frames)")
        joints = np.asarray(motion.joints, dtype=np.float64)
        if not np.isfinite(joints).all():
            raise InputError("cannot render a motion with NaN or infinite joint positions")
        self.n_frames = max(1, round(motion.duration_s * fps))
        self.fps = fps
        source = np.clip(np.round(np.arange(self.n_frames) * motion.fps / fps).astype(np.int64), 0, motion.n_frames - 1)
        joints = joints[source]
        scale = body_scale(joints)
        # The floor: where the lowest joint usually is, less the sole's thickness below the foot joints.
        floor_y = float(np.percentile(joints[..., 1].min(axis=1), 5)) - SOLE_M
        # Framed for the dancer's standing height, whatever the poses, so a crouching or lying dance is not zoomed.
        height = max(stature(joints), MIN_STATURE_M)
        frame = FRAMINGS[framing]
        middle = height * (frame.low + frame.high) / 2
        self.camera = Camera(size, framing_distance(height * (frame.high - frame.low), frame.fill), middle,
                             frame.azimuth_deg, frame.elevation_deg)
        self.floor = Floor(self.camera)
        self.target_xz = follow_path(joints[:, PELVIS, [0, 2]], fps)
        target = np.column_stack([self.target_xz[:, 0], np.full(self.n_frames, floor_y + middle), self.target_xz[:, 1]])
        if smpl_model is None:
            self.figure = CapsuleFigure(body_points(joints, scale) - target[:, None, :], self.camera, scale)
        else:
            from a2a_cli.render.mesh import MeshFigure

            self.figure = MeshFigure(motion, source, smpl_model, target, self.camera)
        self.shadows = self._shadows(joints - target[:, None, :], floor_y - target[0, 1])
        self.font = ImageFont.load_default(size=max(10, size[1] // 32))

    def _shadows(self, joints_rel: np.ndarray, floor_rel: float) -> tuple[np.ndarray, np.ndarray]:
        """Per frame and caster (pelvis, feet): the shadow's box in pixels (T, 3, 4) and darkness (T, 3)."""
        casters = joints_rel[:, [PELVIS, L_FOOT, R_FOOT]]
        heights = casters[..., 1] - floor_rel
        (radius_b, dark_b, fade_b), (radius_f, dark_f, fade_f) = BODY_SHADOW, FOOT_SHADOW
        radius = np.array([radius_b, radius_f, radius_f])
        darkness = np.array([dark_b, dark_f, dark_f]) * np.exp(-np.maximum(heights, 0.0) / np.array([fade_b, fade_f, fade_f]))
        ring = np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 0, 1.0], [0, 0, -1.0]])
        on_floor = casters.copy()
        on_floor[..., 1] = floor_rel
        u, v, _ = self.camera.project(on_floor[:, :, None, :] + radius[None, :, None, None] * ring)
        boxes = np.stack([u.min(axis=-1), v.min(axis=-1), u.max(axis=-1), v.max(axis=-1)], axis=-1)
        return boxes, darkness

    def draw(self, i: int) -> Image.Image:
        """Frame `i`: floor, shadows, the dancer, then the time/frame overlay."""
        tx, tz = self.target_xz[i]
        frame = self.floor.render(float(tx), float(tz)).copy()
        shadow_boxes, darkness = self.shadows[0][i], self.shadows[1][i]
        figure_box = self.figure.bounds(i)
        boxes = shadow_boxes if figure_box is None else np.vstack([shadow_boxes, figure_box])
        x0, y0 = max(int(boxes[:, 0].min()), 0), max(int(boxes[:, 1].min()), 0)
        x1 = min(int(math.ceil(boxes[:, 2].max())) + 1, frame.shape[1])
        y1 = min(int(math.ceil(boxes[:, 3].max())) + 1, frame.shape[0])
        if x1 > x0 and y1 > y0:
            canvas = frame[y0:y1, x0:x1].astype(np.float32)
            for box, dark in zip(shadow_boxes.tolist(), darkness.tolist()):
                paint_shadow(canvas, (box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0), dark)
            if figure_box is not None:
                self.figure.paint(canvas, (x0, y0), i)
            canvas += 0.5
            np.clip(canvas, 0.0, 255.0, out=canvas)
            np.copyto(frame[y0:y1, x0:x1], canvas, casting="unsafe")
        image = Image.fromarray(frame)
        self._draw_overlay(image, i)
        return image

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
    fixed = [LEFT_RGB, RIGHT_RGB, CENTRE_RGB, TEXT_RGB, PROGRESS_RGB, SKY_TOP_RGB, HORIZON_RGB]
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
