"""`a2a generate AUDIO...`: a dance for each song, written as npy/npz/bvh, with an optional preview."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from a2a_cli.cli import common
from a2a_cli.errors import InputError
from a2a_cli.style_names import AUTO, DANCE_STYLES, DSG_STYLES, GESTURE_STYLES, STYLE_NAMES
from a2a_cli.tasks import DANCE, GESTURE, TASKS

if TYPE_CHECKING:
    from a2a_cli.motion import Motion

__all__ = ["PREVIEW_FRAMING", "Job", "Makers", "generate", "plan_outputs", "richest"]


def generate(
    audio: list[Path] = typer.Argument(..., help="Audio files (wav, flac, ogg, mp3) or folders of them."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Folder for the motion files, or for one song the file itself (dance.npz) (default: beside each audio file)."),
    formats: Optional[list[str]] = typer.Option(None, "--format", "-f", help=f"{common.MOTION_FORMAT_WORDS}; repeat for several (default npy)."),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="Random seed: same song, seed and model give the same dance."),
    task: Optional[str] = typer.Option(None, "--task", help="What to make: auto (default: read from each file: music is danced to, speech gestured to), dance or gesture."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Generator: library (default dancer: real human motion joined to the song, no weights, no GPU), choreo (a procedural dancer: no data, no GPU), edge (EDGE's diffusion model: torch and weights), orator (default for speech: co-speech gestures, no weights), or dsg (DiffuseStyleGesture, speech: torch, transformers and weights)."),
    library: Optional[Path] = typer.Option(None, "--library", help="Motion library of --model library: a folder of real dance (AIST++ .pkl, AMASS .npz, BVH, .npy/.npz; indexed once) or an index .npz (default: the shipped CMU salsa)."),
    style: Optional[str] = typer.Option(None, "--style", help=f"auto (read from the audio), a dance style ({', '.join(DANCE_STYLES)}; choreo dances {', '.join(STYLE_NAMES)}, the library the styles of its clips: else read from tempo, energy, percussiveness, brightness, mode, swing, and the library's closest), a gesture style of orator ({', '.join(GESTURE_STYLES)}: else read from the voice's energy and pitch range) or of dsg ({', '.join(DSG_STYLES)}: else neutral)."),
    weights: Optional[Path] = typer.Option(None, "--weights", help="Checkpoint for a learned model (edge: EDGE's .pt layout or .safetensors; dsg: model000450000.pt or .safetensors; default: the downloaded one)."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, max=1000, help="Diffusion sampling steps of a learned model (edge: 50; dsg: 1000, its official sampler, fewer: DDIM)."),
    guidance: Optional[float] = typer.Option(None, "--guidance", min=0.0, max=100.0, help="Classifier-free guidance weight of a learned model (edge: 2)."),
    device: Optional[str] = typer.Option(None, "--device", help="Where a learned model runs: cpu (default), cuda or cuda:N."),
    precision: Optional[str] = typer.Option(None, "--precision", help="Arithmetic of a learned model: fp32 (default, the official numbers) or bf16 (about 2x faster on GPUs and AVX-512 BF16 CPUs)."),
    start: Optional[float] = typer.Option(None, "--start", min=0.0, help="Dance from this second of the song."),
    duration: Optional[float] = typer.Option(None, "--duration", min=0.0, help="Dance this many seconds (default: to the end)."),
    preview: Optional[Path] = typer.Option(None, "--preview", help="Also render a video of the dance: FILE.mp4 (with the music) or FILE.gif."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing output files."),
    json_output: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Generate a dance for each song, or co-speech gestures for each voice: SMPL motion at 30 fps, scored by the validator's judge.

    Examples:

      [bold]a2a generate song.mp3[/bold]  (writes song.npy beside the song)

      [bold]a2a generate song.mp3 --preview song.mp4 --format bvh[/bold]

      [bold]a2a generate song.mp3 -o dance.npz[/bold]  (one song: -o may name the file)

      [bold]a2a generate songs/ -o dances/ --format npz --format bvh --seed 7[/bold]

      [bold]a2a generate long.mp3 --start 60 --duration 30[/bold]

      [bold]a2a generate song.mp3 --model choreo --style house[/bold]  (the procedural dancer, in a style of your choosing)

      [bold]a2a generate song.mp3 --library ~/aistpp/motions --style house[/bold]  (real motion from your own library, its house clips)

      [bold]a2a generate song.mp3 --model edge --weights checkpoint.pt --steps 10[/bold]  (EDGE; fewer steps: faster)

      [bold]a2a generate song.mp3 --model edge --precision bf16[/bold]  (EDGE in bfloat16: about 2x faster, other numbers)

      [bold]a2a generate talk.wav --preview talk.mp4[/bold]  (speech: a standing speaker gestures to it)

      [bold]a2a generate talk.wav --style animated[/bold]  (livelier gestures than the voice suggests)

      [bold]a2a generate talk.wav --model dsg --style happy --steps 50[/bold]  (DiffuseStyleGesture; DDIM 50 steps)
    """
    cfg = common.settings(flag_names={"generate.formats": "--format", "generate.out_dir": "--out",
                                      "generate.gesture_weights": "--weights"}, **{
        "generate.task": task, "generate.model": model, "generate.seed": seed, "generate.style": style, "generate.formats": formats or None,
        "generate.library": None if library is None else str(library),
        "generate.out_dir": None if out is None else str(out),
        _weights_key(model): None if weights is None else str(weights), "generate.steps": steps,
        "generate.guidance": guidance, "generate.device": device, "generate.precision": precision,
    })
    fmts = _formats(cfg.get("generate.formats"))

    makers = Makers(cfg)  # what the user asked for is checked before the files
    songs = common.files_in(audio, common.AUDIO_SUFFIXES, "audio")
    if preview is not None:
        from a2a_cli.render import FORMATS as PREVIEW_FORMATS

        if len(songs) > 1:
            raise InputError("--preview renders one dance: give one audio file")
        if preview.suffix.lower() not in PREVIEW_FORMATS:
            raise InputError(f"--preview must name a {' or '.join(PREVIEW_FORMATS)} file, got {preview}")
        if preview.exists() and not force:
            raise InputError(f"{preview} already exists (use --force to overwrite it)")
    out_dir = cfg.get("generate.out_dir")
    out_path = Path(out_dir) if out_dir else None
    _check_out_suffix(out_path)
    if _names_a_motion_file(out_path):
        fmt = out_path.suffix.lower()[1:]
        if len(songs) > 1:
            raise InputError(f"-o {out_path} names one motion file but {len(songs)} songs were given; give -o a folder")
        if formats and fmts != [fmt]:
            raise InputError(f"-o {out_path} is a .{fmt} file but --format asks for {', '.join(fmts)}")
        fmts = [fmt]
    jobs, skipped = plan_outputs(songs, out_path, fmts, force)
    _note_kept(jobs, skipped, len(songs))
    done, failed = _run(jobs, makers, cfg, start, duration, carry_on=len(songs) > 1)
    results = [result for result, _ in done]
    if preview is not None:  # one song: its own bar of frames and time left, as `a2a render` shows
        from a2a_cli.cli.render import write_preview

        if done:
            motion, made = done[0][1], results[0]["task"]
            results[0]["outputs"].append(str(preview))
        else:  # the song was skipped: the preview shows the dance kept
            from a2a_cli.motion.formats import load_motion

            motion, made = load_motion(richest(skipped[0][1])), makers.task_of(songs[0], start, duration)[0]
        write_preview(motion, preview, audio_path=songs[0], start_s=start or 0.0, framing=PREVIEW_FRAMING[made])
    _report(results, failed, [str(path) for _, existing in skipped for path in existing], json_output)
    if failed:
        from rich.markup import escape

        reasons = "; ".join(f"{Path(f['audio']).name}: {f['error']}" for f in failed)
        common.err.print(f"[red]error:[/red] {len(failed)} of {len(songs)} songs failed: {escape(reasons)}", soft_wrap=True)
        raise typer.Exit(max(f["exit_code"] for f in failed))


@dataclass(frozen=True)
class Job:
    """One song to dance: `outputs` the files to write; `kept` those of its outputs that exist
    already and stay as they are (a re-run completing a song: the missing files are written from
    the dance kept, so every file of a song holds the same dance)."""

    song: Path
    outputs: list[Path]
    kept: list[Path]


def plan_outputs(songs: list[Path], out: Path | None, fmts: list[str], force: bool
                 ) -> tuple[list[Job], list[tuple[Path, list[Path]]]]:
    """(jobs, skipped): a Job per song with an output to write, and (song, its outputs) of each song
    whose outputs all exist (none unless `force` is False); every problem with the outputs is
    found before any work starts.

    `out`: the folder for every song's files (None: beside each song), or, for one song, the
    motion file itself."""
    import os

    from a2a_cli.errors import WorkError

    jobs: list[Job] = []
    skipped: list[tuple[Path, list[Path]]] = []
    seen: dict[Path, Path] = {}
    for song in songs:
        folder = out if out is not None else song.parent
        outputs = [out] if _names_a_motion_file(out) else [folder / f"{song.stem}.{fmt}" for fmt in fmts]
        for path in outputs:
            if path in seen:
                raise InputError(f"{seen[path]} and {song} would both write {path}; use separate -o folders")
            seen[path] = song
        existing = [] if force else [path for path in outputs if path.exists()]
        if len(existing) == len(outputs):
            skipped.append((song, existing))
        else:
            jobs.append(Job(song, [path for path in outputs if path not in existing], existing))
    for folder in {job.outputs[0].parent for job in jobs}:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise WorkError(f"cannot create output folder {folder}: {e.strerror or e}") from None
        if not os.access(folder, os.W_OK | os.X_OK):
            raise WorkError(f"cannot write to output folder {folder}: permission denied")
    return jobs, skipped


def richest(paths: list[Path]) -> Path:
    """The motion file of a dance that keeps the most of it: npz (the motion and its metadata), then
    npy (the motion), then bvh (Euler angles in text)."""
    order = ("npz", "npy", "bvh")
    return min(paths, key=lambda path: order.index(path.suffix.lower()[1:]) if path.suffix.lower()[1:] in order else len(order))


def _note_kept(jobs: list[Job], skipped: list[tuple[Path, list[Path]]], n_songs: int) -> None:
    """Say on stderr which existing files are kept: songs skipped whole, and songs completed from their dance."""
    from rich.markup import escape

    if skipped:
        names = ", ".join(str(path) for _, existing in skipped for path in existing)
        common.err.print(f"note: skipped {len(skipped)} of {n_songs} songs whose outputs exist, kept as they are "
                         f"(--force redoes them): {escape(names)}", soft_wrap=True)
    for job in jobs:
        if job.kept:
            common.err.print(f"note: {escape(job.song.name)}: {escape(', '.join(map(str, job.kept)))} kept; "
                             f"{escape(', '.join(map(str, job.outputs)))} written from the dance in {escape(str(richest(job.kept)))} "
                             "(--force redoes the song)", soft_wrap=True)


def _check_out_suffix(out: Path | None) -> None:
    """-o is a folder or a motion file: a name with another suffix (song.wav, clip.mp4) is a mistake,
    not a folder to make, unless such a folder already exists."""
    from a2a_cli.config import KEYS
    choices = KEYS["generate.formats"].choices
    if out is not None and out.suffix and out.suffix.lower()[1:] not in choices and not out.is_dir():
        raise InputError(f"-o {out}: {out.suffix} is not a motion format ({', '.join(choices)}); "
                         "-o names a folder or a motion file such as dance.npz")


def _names_a_motion_file(out: Path | None) -> bool:
    """Whether -o names a motion file (dance.npz), not a folder: it ends in a motion format's
    suffix and is not an existing folder (one made by an earlier -o keeps working as a folder)."""
    from a2a_cli.config import KEYS

    return out is not None and out.suffix.lower()[1:] in KEYS["generate.formats"].choices and not out.is_dir()


def _formats(values: list[str]) -> list[str]:
    """Each format once, in the order given; the settings schema has already refused any but its choices."""
    from a2a_cli.config import KEYS
    fmts = list(dict.fromkeys(values))
    if not fmts:  # `formats = []` in a config file, or an empty A2A_GENERATE_FORMATS
        raise InputError(f"no motion format given; choose from {', '.join(KEYS['generate.formats'].choices)}")
    return fmts


def _run(jobs: list[Job], makers: Makers, cfg, start: float | None, duration: float | None, *, carry_on: bool
         ) -> tuple[list[tuple[dict, Motion]], list[dict]]:
    """Dance (or read the dance kept), write and score each job: ((the result's summary, the motion)
    per job done, the failures). With `carry_on` a song that fails (bad audio, a write that cannot
    happen) is a failure {audio, error, exit_code} and the next song goes on; without it its error
    is raised (one song: the one-line error of any other bad input)."""
    from a2a_cli.errors import A2AError

    results, failures = [], []
    with common.ProgressBar(total=len(jobs)) as bar:
        for done, job in enumerate(jobs):
            bar.update(description=f"dancing to {job.song.name}", completed=done)
            try:
                results.append(_dance(job, makers, cfg, start, duration, bar))
            except A2AError as e:
                if not carry_on:
                    raise
                failures.append({"audio": str(job.song), "error": str(e), "exit_code": e.exit_code})
    return results, failures


def _dance(job: Job, makers: Makers, cfg, start: float | None, duration: float | None, bar) -> tuple[dict, Motion]:
    """One job: its motion (a dance to music or gestures to speech: generated, or read from the files
    kept), its missing outputs written, its score by the task's judge; (the result's summary, the motion)."""
    import time

    from a2a_cli.cli.score import unjudged
    from a2a_cli.cli.task_choice import read_for_task
    from a2a_cli.motion.formats import load_motion, save_motion

    seed = int(cfg.get("generate.seed"))
    began = time.perf_counter()
    task, reading = makers.task_of(job.song, start, duration)
    generator = makers.generator(task)
    analysis = read_for_task(task, job.song, start, duration, cfg.audio_cache_dir)
    if job.kept:
        motion = load_motion(richest(job.kept))
    else:
        motion = generator.generate(analysis, analysis.duration_s, seed, **_step_progress(generator, bar, job.song.name))
        motion.meta.update(task=task, task_reading=reading)  # what was made of the audio, kept in the npz
    took = time.perf_counter() - began
    for path in job.outputs:
        save_motion(motion, path)
    if task == GESTURE:
        from a2a_cli.scoring.gesture import score_gesture

        report, notes = score_gesture(motion, analysis), []
    else:
        from a2a_cli.scoring import score_motion

        report = score_motion(motion, analysis)
        notes = unjudged(report, analysis)
    meta = motion.meta
    return {
        "audio": str(job.song), "task": task, "task_reading": reading,
        "duration_s": round(motion.duration_s, 3), "frames": motion.n_frames,
        "model": meta.get("model") if job.kept else generator.name,  # a kept .npy or .bvh does not say
        "seed": meta.get("seed") if job.kept else seed, "style": meta.get("style"),
        "style_chosen_by": meta.get("style_chosen_by"), "music_style": meta.get("music_style"),
        "style_fit": meta.get("style_fit"), "music": meta.get("music"),
        "validator_score": round(float(report.validator_score), 4), "judge_version": report.judge_version,
        "passed": report.passed, "failed_gates": [gate.name for gate in report.failed_gates], "reasons": report.reasons,
        "notes": notes,
        "bas": _finite_or_none(report.metrics.get("bas")), "pfc": _finite_or_none(report.metrics.get("pfc")),
        "generate_s": round(took, 3), "outputs": [str(p) for p in job.outputs],
        "kept": [str(p) for p in job.kept], "made_from": str(richest(job.kept)) if job.kept else None,
    }, motion


# The settings only a learned model (one with weights, such as edge) reads.
_LEARNED_MODEL_KEYS = ("generate.weights", "generate.gesture_weights", "generate.steps", "generate.guidance", "generate.device",
                       "generate.precision")
# The setting holding the checkpoint of each task's learned model.
WEIGHTS_SETTINGS = {DANCE: "generate.weights", GESTURE: "generate.gesture_weights"}


def _weights_key(model: str | None) -> str:
    """The setting `--weights` sets: the checkpoint of --model's task (a gesture model's is
    generate.gesture_weights), the dance model's when no --model is given."""
    from a2a_cli.generation.base import generator_task

    return WEIGHTS_SETTINGS[generator_task(model) if model else DANCE]


# The preview's camera for each task: the whole dancer, or a speaker's upper body.
PREVIEW_FRAMING = {DANCE: "full", GESTURE: "upper"}


class Makers:
    """The generators of a run, one per task it may meet, built and checked from the settings `cfg`
    before any file is read: `generate.model` makes its own task (a dance model: choreo, library,
    edge; a gesture model: orator), `generate.gesture_model` gestures when the dance model is asked
    for speech. The task of each file: `generate.task`, else that of a `--model` flag, else read from
    the file (auto). A flag a model cannot use (--style of another task's styles, --weights for
    choreo, --library for all but library) is an error, not silently ignored."""

    def __init__(self, cfg):
        from a2a_cli.generation import DEFAULT_MODEL
        from a2a_cli.generation.base import available_generators, generator_task

        model = cfg.get("generate.model")
        model_task = generator_task(model)
        requested = cfg.get("generate.task")
        if requested != AUTO and cfg.source("generate.model").startswith("flag ") and model_task != requested:
            raise InputError(f"--model {model} makes {model_task}, not {requested}; leave --model out or name a {requested} model")
        if requested == AUTO and cfg.source("generate.model").startswith("flag "):
            requested = model_task  # `--model orator` on any audio: gestures
        self.requested = requested
        names = {DANCE: DEFAULT_MODEL, GESTURE: cfg.get("generate.gesture_model"), model_task: model}
        if generator_task(names[GESTURE]) != GESTURE:
            raise InputError(f"generate.gesture_model {names[GESTURE]!r} is not a gesture model; "
                             f"gesture models: {', '.join(available_generators(GESTURE))}")
        tasks = TASKS if requested == AUTO else (requested,)
        self._generators = {task: _generator(cfg, names[task]) for task in tasks}
        _check_style(cfg.get("generate.style"), self._generators)
        if "library" not in (names[task] for task in tasks) and cfg.source("generate.library").startswith("flag "):
            raise InputError(f"--library is an option of --model library; model {model!r} dances without a motion library")

    def task_of(self, audio: Path, start: float | None, duration: float | None) -> tuple[str, dict | None]:
        """(task, the reading of the file or None when the task was given) for `audio`'s cut."""
        from a2a_cli.cli.task_choice import choose_task

        return choose_task(self.requested, audio, start, duration)

    def generator(self, task: str):
        """The generator for `task`."""
        return self._generators[task]


def _generator(cfg, model: str):
    """The generator `model` with its options from the settings `cfg`; a learned model's flag given
    to a model without weights is an error."""
    from a2a_cli.generation import get_generator

    generator = get_generator(model, cfg)
    if not hasattr(generator, "weights"):
        flags = [cfg.source(key).removeprefix("flag ") for key in _LEARNED_MODEL_KEYS if cfg.source(key).startswith("flag ")]
        if flags:
            raise InputError(f"{', '.join(flags)}: {'an option' if len(flags) == 1 else 'options'} of learned models such as "
                             f"edge; model {model!r} has no weights (add --model edge, or leave {'it' if len(flags) == 1 else 'them'} out)")
    return generator


def _check_style(style: str, generators: dict) -> None:
    """Give `style` to the generator of its task ("auto" to each that has styles); an error when
    that generator has no styles or the run makes no motion of that task."""
    if style == AUTO:
        for generator in generators.values():
            if hasattr(generator, "use_style"):
                generator.use_style(style)
        return
    task = GESTURE if style in GESTURE_STYLES or style in DSG_STYLES else DANCE
    generator = generators.get(task)
    if generator is None:
        raise InputError(f"--style {style} is a {task} style, and this run makes {', '.join(generators)} only")
    if not hasattr(generator, "use_style"):
        raise InputError(f"--style is an option of library, choreo, orator and dsg; model {generator.name!r} has no styles")
    generator.use_style(style)


def _reading_words(result: dict) -> str:
    """What the style was read from, in a few words (the JSON output has every figure): the music's
    tempo and character, or that the audio is speech (with the task reading's confidence)."""
    reading = result.get("task_reading")
    sure = f" ({reading['confidence']:.0%} sure)" if reading else ""
    if result["task"] == GESTURE:
        return f"speech{sure}"
    music = result.get("music")
    if not music:
        return f"music{sure}" if reading else "-"
    tempo = f"{music['tempo_bpm']:.0f} BPM" if music["tempo_bpm"] > 0 else "no steady beat"  # a clip too short to find one
    words = [tempo, "major" if music["major"] >= 0.5 else "minor"]
    words += [word for key, word in (("swing", "swung"), ("percussiveness", "percussive")) if music[key] >= 0.5]
    words += ["soft"] if music["energy"] < 0.3 else []
    closest = f"closest to {result['music_style']}: " if result.get("style_chosen_by") == "closest" else ""
    return closest + ", ".join(words)


def _step_progress(generator, bar, name: str) -> dict:
    """`progress=` for generators that report their sampling steps (diffusion models), else nothing."""
    import inspect

    if "progress" not in inspect.signature(generator.generate).parameters:
        return {}
    return {"progress": lambda done, total: bar.update(description=f"dancing to {name}: step {done}/{total}")}


def _finite_or_none(value) -> float | None:
    """A metric to 4 significant digits for the report (a PFC of 3e-7 stays 3e-7, not 0), or None (JSON
    null) where it is undefined (NaN, e.g. a clip of one frame)."""
    import math

    return None if value is None or not math.isfinite(float(value)) else float(f"{float(value):.4g}")


def _report(results: list[dict], failed: list[dict], kept: list[str], as_json: bool) -> None:
    """The summary table (or JSON) of the songs danced and those that failed, then the notes on
    terms left out of a score; `kept`: existing outputs of skipped songs. The table fits the
    terminal (or $COLUMNS): names and paths fold onto more lines, never cut."""
    if as_json:
        common.print_json({"results": results, "failed": [{k: f[k] for k in ("audio", "error")} for f in failed], "skipped": kept})
        return
    if not results and not failed:
        return
    from rich.markup import escape
    from rich.table import Table

    written = [Path(path) for r in results for path in r["outputs"]]
    folders = {path.parent for path in written}
    shared = folders.pop() if len(folders) == 1 else None  # named once, under the table: the column holds names
    table = Table(title="a2a generate", title_justify="left")
    for column, justify, wraps in (("file", "left", True), ("length", "right", False), ("style", "left", True),
                                   ("score", "right", True), ("BAS", "right", False), ("PFC", "right", False),
                                   ("outputs", "left", True)):
        table.add_column(column, justify=justify, overflow="fold", no_wrap=not wraps)
    for r in results:
        score = f"{r['validator_score']:.2f}" + ("" if r["passed"] else f"\n[red]failed: {escape(', '.join(r['failed_gates']))}[/red]")
        style = "-" if r["style"] is None else f"{r['style']}\n[dim]{escape(_reading_words(r))}[/dim]"
        table.add_row(escape(Path(r["audio"]).name), f"{r['duration_s']:.1f} s\n{r['frames']} fr", style, score,
                      *(common.number(r[m]) for m in ("bas", "pfc")),
                      escape("\n".join(Path(path).name if shared is not None else path for path in r["outputs"])))
    for f in failed:
        table.add_row(escape(Path(f["audio"]).name), "-", "-", "[red]failed[/red]", "-", "-", f"[red]{escape(f['error'])}[/red]")
    common.out.print(table)
    if shared is not None:
        common.out.print(f"outputs written to {escape(str(shared))}", overflow="fold")
    for r in results:
        for note in r["notes"]:
            common.out.print(f"[yellow]note:[/yellow] {escape(Path(r['audio']).name)}: {escape(note)}")
