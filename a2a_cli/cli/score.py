"""`a2a score`: judge motion files against their music, and build FID reference statistics."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from a2a_cli.cli import common
from a2a_cli.tasks import AUTO, DANCE, GESTURE, check_task

if TYPE_CHECKING:
    import numpy as np

__all__ = ["FEW_REFERENCE_DANCES", "MEANINGS", "audio_for", "score", "unjudged"]

# metric -> what it means, for the per-file table (JUDGE.md explains each term)
MEANINGS = {
    "validator_score": "the judge's verdict in [0, 1]; 0 when any gate fails",
    "sync": "follows THIS song's beats beyond chance, up to people's level (0-1)",
    "quality": "feet grounded (PFC) and smooth (jerk), up to people's level (0-1)",
    "variety": "not an exact loop: a person repeating a move is fine (0-1)",
    "energy": "moves more when the music is louder (0-1)",
    "realism": "how likely the body's motion is among real dancers' (the realism model; 0-1)",
    "similarity": "close to the reference dance (0-1)",
    "bas": "Beat Align Score (Bailando), higher is better (AIST++ 0.24)",
    "beat_precision": "motion beats that land on a music beat",
    "beat_chance": "alignment to shifted beat grids (chance level)",
    "sync_level": "beats per hit the sync was judged on: 0.5 double time, 1 every beat, 2 every other, 4 the bar",
    "pfc": "Physical Foot Contact (EDGE), lower is better",
    "repeat_residual": "distance from an exact repeat (0 = a copy-paste loop; people > 0.08)",
    "travel_m_s": "pelvis travel, horizontal (m/s)",
    "legs_to_arms": "leg speed / arm speed",
    "steps_per_s": "steps per second",
    "foot_moving": "fraction of frames with a foot moving",
    "aligned_joint_error_m": "mean joint error to the reference after root/heading alignment (m)",
    "original_subnet_reward": "the original subnet's reward, for comparison only",
    "kinetic_zscore": "RMS z-score of kinetic features vs the reference statistics",
    "timing": "gesture: strokes land on THIS voice's stressed syllables beyond chance (0-1)",
    "rest": "gesture: the hands calm down in the voice's pauses (0-1)",
    "bc_emage": "gesture: beat consistency to the stressed syllables as EMAGE computes it",
    "bc": "gesture: the judge's beat consistency of the gesturing joints to the stresses",
    "bc_null": "gesture: the same beat consistency against unrelated voices (chance level)",
    "l1_diversity": "gesture: L1 diversity of the pose (EMAGE), m",
    "mean_jerk": "gesture: mean jerk of the upper body (GENEA), m/s^3",
    "rest_ratio": "gesture: hand speed in pauses / while speaking",
}
# --build-reference warns below this many dances: FID's covariances (as wide as the kinetic and the
# geometric feature sets) are then estimated from far fewer dances than they have entries.
FEW_REFERENCE_DANCES = 20
_TABLE_METRICS = ("bas", "beat_precision", "beat_chance", "sync_level", "pfc", "repeat_residual", "travel_m_s",
                  "legs_to_arms", "steps_per_s", "foot_moving", "aligned_joint_error_m", "original_subnet_reward",
                  "kinetic_zscore", "bc_emage", "bc", "bc_null", "l1_diversity", "mean_jerk", "rest_ratio")


def score(
    motions: Optional[list[Path]] = typer.Argument(None, help=f"Motion files ({common.MOTION_FORMAT_WORDS}) or folders of them."),
    audio: Optional[Path] = typer.Option(None, "--audio", "-a", help="The music (or the speech of gestures): one file for all motions, or a folder matched by file stem."),
    task: str = typer.Option("auto", "--task", help="Judge as: auto (read from the audio: music judges a dance, speech judges gestures), dance or gesture."),
    reference: Optional[Path] = typer.Option(None, "--reference", help="A reference dance for the same music (similarity, replay check)."),
    reference_stats: Optional[Path] = typer.Option(None, "--reference-stats", help="FID statistics (.npz from --build-reference): FID_k/g, Dist_k/g, realism."),
    build_reference: Optional[Path] = typer.Option(None, "--build-reference", help="Build FID statistics from a folder of real dances (with -o)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Where --build-reference writes its .npz."),
    latency: Optional[float] = typer.Option(None, "--latency", min=0.0, help="Seconds the answer took (a small term of the score)."),
    start: Optional[float] = typer.Option(None, "--start", min=0.0, help="Judge against the music from this second (as a2a generate --start)."),
    duration: Optional[float] = typer.Option(None, "--duration", min=0.0, help="Judge against this many seconds of the music (as a2a generate --duration)."),
    json_output: Optional[bool] = typer.Option(None, "--json/--no-json", help="Print one JSON document instead of tables."),
    fail_on_gate: bool = typer.Option(False, "--fail-on-gate", help="Exit 1 when any dance fails a gate (for scripts and CI); without it, a dance that fails a gate is scored 0 and the exit is 0."),
) -> None:
    """Score dances: physical validity gates, beat alignment, PFC, FID, and the validator score.

    A dance that fails a gate is still scored (validator score 0, the gate named): exit 0; --fail-on-gate makes it exit 1.
    A file that cannot be read (missing, malformed, holding NaN or inf) is an input error: exit 2.

    Examples:

      [bold]a2a score song.npy --audio song.mp3[/bold]

      [bold]a2a score out/ --audio songs/ --json[/bold]  (audio matched by file stem)

      [bold]a2a score answer.npy --audio prompt.wav --fail-on-gate && upload answer.npy[/bold]

      [bold]a2a score answer.bvh --audio prompt.wav --reference prompt_dance.npz[/bold]

      [bold]a2a score clip.npy --audio long.mp3 --start 60 --duration 30[/bold]  (the cut it was danced to)

      [bold]a2a score talk.npy --audio talk.wav[/bold]  (speech: judged as co-speech gesture)

      [bold]a2a score --build-reference aist_dances/ -o stats.npz[/bold]

      [bold]a2a score out/ --audio songs/ --reference-stats stats.npz[/bold]
    """
    from a2a_cli.errors import InputError

    cfg = common.settings(**{"score.reference_stats": None if reference_stats is None else str(reference_stats),
                             "score.json": json_output})
    as_json = bool(cfg.get("score.json"))
    if build_reference is not None:
        if motions:
            raise InputError("--build-reference takes a folder of dances, not motion arguments")
        if output is None:
            raise InputError("--build-reference needs -o stats.npz")
        _build_reference(build_reference, output, as_json)
        return
    if not motions:
        raise InputError("give motion files or folders to score (or --build-reference DIR -o stats.npz)")
    if audio is None and (start is not None or duration is not None):
        raise InputError("--start and --duration cut the music: give it with --audio")
    stats_path = cfg.get("score.reference_stats")
    reports = _score_files(common.files_in(motions, common.MOTION_SUFFIXES, "motion"), audio, reference, Path(stats_path) if stats_path else None,
                           latency, as_json, cut=(start, duration), cache_dir=cfg.audio_cache_dir, task=check_task(task, allow_auto=True))
    failed = [f"{path.name} ({', '.join(g.name for g in report.failed_gates)})" for path, report in reports if not report.passed]
    if fail_on_gate and failed:
        common.err.print(f"{len(failed)} of {len(reports)} dances failed a gate (--fail-on-gate): {', '.join(failed)}",
                         soft_wrap=True, markup=False)
        raise typer.Exit(1)


def audio_for(motion: Path, audio: Path | None) -> Path | None:
    """The music of a motion: the file given, or the file with the motion's stem in the folder given."""
    from a2a_cli.errors import InputError

    if audio is None or not audio.is_dir():
        return audio
    for suffix in common.AUDIO_SUFFIXES:
        candidate = audio / (motion.stem + suffix)
        if candidate.is_file():
            return candidate
    raise InputError(f"no audio for {motion.name} in {audio} (looked for {motion.stem}{{{','.join(common.AUDIO_SUFFIXES)}}})")


def unjudged(report, analysis) -> list[str]:
    """Why a term of the music was left out of the score although the music was given, one line
    each (the blend is then over the other terms): a clip of a second or two holds too few beats
    for sync, and flat loudness gives energy nothing to follow. `report`: a ScoreReport;
    `analysis`: the music's AudioAnalysis, or None (judged without music: nothing to explain)."""
    import numpy as np

    from a2a_cli.scoring.constants import MIN_SYNC_BEATS

    if analysis is None or not report.passed:  # a failed gate zeroes the score whatever the terms
        return []
    notes = []
    if "sync" not in report.components:
        beats = int(np.size(analysis.beat_frames))
        notes.append(f"sync not judged: {beats} beat{'' if beats == 1 else 's'} found in {analysis.duration_s:.1f} s "
                     f"of music, {MIN_SYNC_BEATS} needed")
    if "energy" not in report.components:
        notes.append(f"energy not judged: the loudness hardly varies in {analysis.duration_s:.1f} s of music")
    return notes


def _score_files(files, audio_arg, reference_path, stats_path, latency, as_json, *, cut: tuple[float | None, float | None],
                 cache_dir: Path | None, task: str = AUTO) -> list:
    """Score each file, print the tables (or the JSON document) and return [(path, ScoreReport)].
    `task`: how to judge ("auto": by what each audio file is; without audio, auto judges a dance)."""
    from a2a_cli.cli.task_choice import choose_task, read_for_task
    from a2a_cli.errors import InputError
    from a2a_cli.motion.formats import load_motion
    from a2a_cli.scoring import score_motion
    from a2a_cli.scoring.fid import ReferenceStats
    from a2a_cli.scoring.gesture import score_gesture

    reference = load_motion(reference_path) if reference_path is not None else None
    stats = ReferenceStats.load(stats_path) if stats_path is not None else None
    readings: dict[Path, tuple[str, dict | None, object]] = {}  # audio -> (task, task reading, analysis)
    results = []
    with common.ProgressBar("scoring", total=len(files), quiet=len(files) <= 3) as bar:
        for path in files:
            motion = load_motion(path)
            song = audio_for(path, audio_arg)
            if song is not None and song not in readings:
                judged_as, reading = choose_task(task, song, *cut)
                readings[song] = (judged_as, reading, read_for_task(judged_as, song, *cut, cache_dir))
            judged_as, reading, analysis = readings.get(song, (DANCE if task == AUTO else task, None, None))
            if judged_as == GESTURE:
                if reference is not None or stats is not None:
                    raise InputError(f"{path.name} is judged as gesture (speech): --reference and --reference-stats are dance options")
                report, notes = score_gesture(motion, analysis, latency_s=latency), []
            else:
                report = score_motion(motion, analysis, reference=reference, reference_stats=stats, latency_s=latency)
                notes = unjudged(report, analysis)
            results.append((path, song, motion, report, notes, judged_as, reading))
            bar.advance()
    if audio_arg is None:
        common.err.print("note: no --audio given: judged without music (no sync, no energy, no frame-count check)")
    summary = _summary([result[:4] for result in results], stats)
    if as_json:
        common.print_json({
            "results": [{"motion": p, "audio": s, "task": t, "task_reading": reading, "frames": m.n_frames, "fps": m.fps,
                         **r.to_dict(), "notes": notes} for p, s, m, r, notes, t, reading in results],
            "summary": summary,
        })
    else:
        for path, song, motion, report, notes, judged_as, _ in results:
            common.out.print(_file_table(path, song, motion, report, notes, judged_as))
        common.out.print(_summary_table(summary))
    return [(path, report) for path, _, _, report, *_ in results]


def _summary(results, stats) -> dict:
    import numpy as np

    scores = [r.validator_score for *_, r in results]
    summary = {
        "judge_version": results[0][3].judge_version if results else None,
        "files": len(results),
        "passed": sum(r.passed for *_, r in results),
        "mean_validator_score": float(np.mean(scores)),
        "mean_bas": _mean([r.metrics.get("bas") for *_, r in results]),
        "mean_pfc": _mean([r.metrics.get("pfc") for *_, r in results]),
    }
    if stats is not None:
        from a2a_cli.errors import InputError
        from a2a_cli.scoring.fid import set_metrics
        from a2a_cli.scoring.validity import measurable

        try:
            summary.update(set_metrics([m.joints for _, _, m, r in results if measurable(r.gates)], stats))
        except InputError as e:  # too few dances for a set metric: said in the summary, not an error
            summary["fid_note"] = str(e)
    return summary


def _mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return float(sum(present) / len(present)) if present else None


def _file_table(path, song, motion, report, notes: list[str], task: str = DANCE):
    from rich.markup import escape
    from rich.table import Table

    verdict = "[green]gates passed[/green]" if report.passed else "[red]failed: " + ", ".join(g.name for g in report.failed_gates) + "[/red]"
    music = (f", {'speech' if task == GESTURE else 'music'} {escape(song.name)}" if song is not None
             else ", no audio" if task == GESTURE else ", no music")
    table = Table(title=f"{escape(str(path))}: {motion.n_frames} frames at {motion.fps:g} fps{music} — {verdict} "
                        f"(judge {report.judge_version})", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("meaning")
    table.add_row("[bold]validator score[/bold]", f"[bold]{report.validator_score:.3f}[/bold]", MEANINGS["validator_score"])
    for reason in report.reasons:
        table.add_row("[yellow]why[/yellow]", "", f"[yellow]{escape(reason)}[/yellow]")
    for note in notes:
        table.add_row("[yellow]note[/yellow]", "", f"[yellow]{escape(note)}[/yellow]")
    for name, value in report.components.items():
        table.add_row(name, f"{value:.3f}", MEANINGS.get(name, ""))
    for name in _TABLE_METRICS:
        if name in report.metrics:
            table.add_row(name, common.number(report.metrics[name]), MEANINGS[name] + _human_range(name))
    for gate in report.gates:
        mark = "[green]ok[/green]" if gate.passed else "[red]FAIL[/red]"
        table.add_row(f"gate {gate.name}", f"{common.number(gate.value)} {mark}", f"{_limit(gate)}; {escape(gate.message)}")
    return table


def _human_range(metric: str) -> str:
    """Where real dancers are for a metric the judge holds against them, as ' (people ...)'."""
    from a2a_cli.scoring.body_stats import reference_ranges
    from a2a_cli.scoring.constants import PFC_HUMAN

    if metric == "pfc":
        return f" (AIST++ {PFC_HUMAN:g})"
    r = reference_ranges().get(metric)
    return "" if r is None else f" (people {r.low:g}-{r.high:g})"


def _limit(gate) -> str:
    """What a gate's value is compared with, as words: the fps gate names the allowed range."""
    from a2a_cli.scoring.constants import MAX_FPS, MIN_FPS
    from a2a_cli.scoring.validity import is_minimum

    if gate.name == "fps":
        return f"allowed {MIN_FPS:g}-{MAX_FPS:g}"
    if gate.name in ("frame_count", "finite"):
        return f"must be {common.number(gate.limit)}"
    return f"{'min' if is_minimum(gate.name) else 'max'} {common.number(gate.limit)}"


def _summary_table(summary: dict):
    from rich.table import Table

    table = Table(title=f"summary over {summary['files']} file(s)", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        if key != "files":
            table.add_row(key, value if isinstance(value, str) else common.number(value))
    return table


def _build_reference(folder: Path, output: Path, as_json: bool) -> None:
    from rich.markup import escape

    from a2a_cli.errors import InputError
    from a2a_cli.motion.formats import load_motion
    from a2a_cli.scoring.fid import N_GEOMETRIC, N_KINETIC

    if not folder.is_dir():
        raise InputError(f"--build-reference needs a folder of dances: {folder}")
    files = common.files_in([folder], common.MOTION_SUFFIXES, "motion")
    clips = []
    with common.ProgressBar("reading dances", total=len(files), quiet=len(files) <= 3) as bar:
        for path in files:
            clips.append((path, load_motion(path).joints))
            bar.advance()
    stats = _reference_stats(clips)
    if stats.n_clips < FEW_REFERENCE_DANCES:
        common.err.print(
            f"warning: statistics of only {stats.n_clips} dances (fewer than {FEW_REFERENCE_DANCES}): FID compares the mean and "
            f"covariance of {N_KINETIC} kinetic and {N_GEOMETRIC} geometric features, and a few dances cannot estimate a covariance "
            "that wide, so FID and Dist against these statistics will say more about which dances were picked than about the "
            "dances scored (a handful of dances can give FID 0); build them from as many real dances as you have",
            soft_wrap=True, markup=False)
    stats.save(output)
    if as_json:
        common.print_json({"path": output, "clips": stats.n_clips, "source": folder})
    else:
        common.out.print(f"wrote {escape(str(output))}: FID statistics of {stats.n_clips} dances from {escape(str(folder))}")


def _reference_stats(named_clips: list[tuple[Path, np.ndarray]]):
    """FID statistics of the clips; an error one clip causes (too short, say) names its file."""
    from a2a_cli.errors import InputError
    from a2a_cli.scoring.fid import build_reference_stats, clip_features

    try:
        return build_reference_stats([clip for _, clip in named_clips])
    except InputError:
        # The features are computed in batches, so find the clip to blame alone, shortest first.
        for path, clip in sorted(named_clips, key=lambda named: len(named[1])):
            try:
                clip_features([clip])
            except InputError as e:
                raise InputError(f"{path}: {e}") from None
        raise
