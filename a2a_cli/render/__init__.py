"""Previews of a dance: a video (mp4 with the music, or a GIF) or one frame, of the dancer as a
shaded body (or, given the user's SMPL model files, the SMPL mesh) on a floor, followed by the camera.

Modules: `preview` (frames, encoding: the entry points below), `stage` (camera, floor, shadows),
`body` (the capsule body), `mesh` (the SMPL mesh, through smplx), `shading` (the light).
"""

from a2a_cli.render.preview import FORMATS, GIF_FPS, VIDEO_FPS, parse_size, render_frame, render_preview
from a2a_cli.render.stage import FRAMINGS

__all__ = ["render_preview", "render_frame", "parse_size", "FORMATS", "FRAMINGS", "VIDEO_FPS", "GIF_FPS"]
