"""`a2a example [PATH]`: write the bundled example song (or, with --speech, speech), the README's first input."""

from __future__ import annotations

from pathlib import Path

import typer

from a2a_cli.cli import common

__all__ = ["example"]


def example(
    path: Path = typer.Argument(Path("a2a-example.wav"), help="Where to write it (.wav, .flac or .ogg)."),
    speech: bool = typer.Option(False, "--speech", help="Write synthetic speech (a voice to gesture to) instead of a song."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    json_output: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Write a short royalty-free song synthesised by a2a: drums, bass and chords at 120 BPM; or,
    with --speech, a synthetic voice speaking in phrases.

    Examples (the whole pipeline on it):

      [bold]a2a example song.wav && a2a generate song.wav --preview song.mp4[/bold]

      [bold]a2a example talk.wav --speech[/bold]
    """
    from rich.markup import escape

    from a2a_cli.errors import InputError
    from a2a_cli.examples import EXAMPLE_BPM, EXAMPLE_SECONDS, EXAMPLE_SPEECH_SECONDS, write_example, write_speech_example

    what = "speech" if speech else "song"
    if path.suffix.lower() not in (".wav", ".flac", ".ogg"):
        raise InputError(f"cannot write {path.name}: the example {what} is written as .wav, .flac or .ogg")
    if path.exists() and not force:
        raise InputError(f"{path} already exists (use --force to overwrite it)")
    if speech:
        write_speech_example(path)
        if json_output:
            common.print_json({"path": path, "duration_s": EXAMPLE_SPEECH_SECONDS, "kind": "speech"})
            return
        common.out.print(f"wrote {escape(str(path))}: {EXAMPLE_SPEECH_SECONDS:g} s of synthetic speech.")
        return
    write_example(path)
    if json_output:
        common.print_json({"path": path, "duration_s": EXAMPLE_SECONDS, "bpm": EXAMPLE_BPM})
        return
    common.out.print(f"wrote {escape(str(path))}: {EXAMPLE_SECONDS:g} s at {EXAMPLE_BPM:g} BPM. "
                     f"Next: [bold]a2a generate {escape(str(path))} --preview {escape(path.stem)}.mp4[/bold]")
