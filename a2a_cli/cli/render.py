"""`a2a render MOTION -o FILE.mp4|FILE.gif`: a video of the dancer (a shaded body, or the SMPL mesh)
with its music; `write_preview` is also what `a2a generate --preview` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from a2a_cli.cli import common

__all__ = ["render", "write_preview"]


def render(
    motion: Path = typer.Argument(..., help=f"Motion file: {common.MOTION_FORMAT_WORDS}."),
    output: Path = typer.Option(..., "-o", "--output", help="Preview to write: .mp4 (H.264, with the music) or .gif (silent, smaller)."),
    audio: Optional[Path] = typer.Option(None, "--audio", "-a", help="Music to mux into the mp4 (wav, flac, ogg, mp3)."),
    start: float = typer.Option(0.0, "--start", min=0.0, help="Where the motion starts in the audio, in seconds."),
    size: Optional[str] = typer.Option(None, "--size", help="Frame size WIDTHxHEIGHT (default 640x480, GIF 320x240)."),
    fps: Optional[float] = typer.Option(None, "--fps", help="Frames per second, 1 to 120 (default 30, GIF 15)."),
    smpl_model: Optional[Path] = typer.Option(None, "--smpl-model", help="Your SMPL model (SMPL_NEUTRAL.npz/.pkl, or its folder) to draw the real SMPL mesh; needs pip install 'a2a\\[mesh]'."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
    json_output: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Render a preview: the dancer as a shaded body on a floor, followed by the camera.

    Examples:

      [bold]a2a render song.npy --audio song.wav -o song.mp4[/bold]

      [bold]a2a render dance.bvh -o dance.gif --size 480x360[/bold]

      [bold]a2a render song.npy --audio long.mp3 --start 60 -o clip.mp4[/bold]  (motion made from minute 1)

      [bold]a2a render song.npy --audio song.wav -o mesh.mp4 --smpl-model ~/smpl/SMPL_NEUTRAL.npz[/bold]
    """
    from rich.markup import escape

    from a2a_cli.errors import InputError
    from a2a_cli.motion.formats import load_motion
    from a2a_cli.render import parse_size

    if output.exists() and not force:
        raise InputError(f"{output} already exists (use --force to overwrite it)")
    frame_size = parse_size(size) if size else None
    loaded = load_motion(motion)
    if audio is not None and output.suffix.lower() == ".gif":
        common.err.print("note: a GIF has no sound; --audio is ignored")
        audio = None
    if audio is not None:
        _check_music_fits(audio, start, loaded.duration_s)
    took = write_preview(loaded, output, audio_path=audio, start_s=start, size=frame_size, fps=fps, smpl_model=smpl_model)
    if json_output:
        common.print_json({"path": output, "motion": motion, "audio": audio, "frames": loaded.n_frames,
                           "duration_s": round(loaded.duration_s, 3), "render_s": round(took, 3)})
        return
    sound = f", music from {escape(str(audio))}" if audio else ""
    common.out.print(f"wrote {escape(str(output))}: {loaded.duration_s:.1f} s{sound}, in {took:.1f} s")


def _check_music_fits(audio: Path, start_s: float, dance_s: float) -> None:
    """An InputError when `--start` (`start_s`, seconds) is at or past the end of `audio`, as
    `a2a generate` refuses; a warning when the music from there is shorter than the dance
    (`dance_s`, seconds): the video's end is then silent."""
    from rich.markup import escape

    from a2a_cli.audio.decoding import audio_seconds
    from a2a_cli.errors import InputError
    from a2a_cli.frame_rate import FPS

    length = audio_seconds(audio)
    if start_s >= length:
        raise InputError(f"--start {start_s:g} s is past the end of {audio} ({length:.1f} s long)")
    silent = start_s + dance_s - length
    if silent > 1 / FPS:  # more than a frame without music
        common.err.print(f"[yellow]warning:[/yellow] {escape(str(audio))} has {length - start_s:.1f} s of music from "
                         f"{start_s:g} s, the dance lasts {dance_s:.1f} s: its last {silent:.1f} s are silent", soft_wrap=True)


def write_preview(motion, output: Path, **options) -> float:
    """Render `motion` to `output` with `a2a_cli.render.render_preview(**options)`, showing the
    frames done and the time left; returns the seconds it took."""
    import time

    from a2a_cli.render import render_preview

    began = time.perf_counter()
    with common.ProgressBar(f"rendering {output.name}") as bar:
        render_preview(motion, output, progress=lambda done, total: bar.update(completed=done, total=total), **options)
    return time.perf_counter() - began
