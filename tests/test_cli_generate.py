"""`a2a generate`: outputs written where asked, existing files kept unless --force, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from a2a_cli.cli.app import main
from a2a_cli.examples import synth_song
from a2a_cli.style_names import DANCE_STYLES, STYLE_NAMES

SR = 22050


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Feature caches go to the test's folder, never the user's cache."""
    monkeypatch.setenv("A2A_GENERAL_CACHE_DIR", str(tmp_path / "cache"))


def write_song(path: Path, seconds: float = 4.0, bpm: float = 120.0) -> Path:
    sf.write(path, synth_song(bpm, seconds, SR, seed=1), SR)
    return path


def a2a(capsys, *args: str) -> tuple[int, str, str]:
    return a2a_with(capsys, [], *args)


def a2a_with(capsys, global_options: list[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main([*global_options, "generate", *args])
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


def one_line_error(err: str) -> bool:
    return err.strip().startswith("error:") and len(err.strip().splitlines()) == 1


def test_writes_npy_beside_the_song_with_exact_frames(tmp_path, capsys):
    song = write_song(tmp_path / "song.wav", 4.0)
    code, out, err = a2a(capsys, str(song))
    assert code == 0, err
    data = np.load(tmp_path / "song.npy", allow_pickle=False)
    assert data.shape == (120, 75) and data.dtype == np.float32
    assert "song.wav" in out and "120" in out  # the summary table names the file and its frames


def test_features_are_cached_in_general_cache_dir_unless_audio_cache_is_off(tmp_path, capsys, monkeypatch):
    song = write_song(tmp_path / "song.wav", 2.0)
    config = tmp_path / "a2a.toml"
    config.write_text(f'[default.general]\ncache_dir = "{tmp_path / "configured"}"\n[profiles.nocache.audio]\ncache = false\n')
    monkeypatch.delenv("A2A_GENERAL_CACHE_DIR")
    code, _, err = a2a_with(capsys, ["--config", str(config)], str(song), "--force")
    assert code == 0, err
    assert len(list((tmp_path / "configured" / "features").glob("*.npz"))) == 1
    monkeypatch.setenv("A2A_GENERAL_CACHE_DIR", str(tmp_path / "from-env"))  # the variable beats the file
    code, _, err = a2a_with(capsys, ["--config", str(config)], str(song), "--force")
    assert code == 0, err
    assert len(list((tmp_path / "from-env" / "features").glob("*.npz"))) == 1
    monkeypatch.setenv("A2A_GENERAL_CACHE_DIR", str(tmp_path / "off"))
    code, _, err = a2a_with(capsys, ["--config", str(config), "--profile", "nocache"], str(song), "--force")
    assert code == 0, err
    assert not (tmp_path / "off").exists() and not (tmp_path / "cache").exists()


def test_formats_into_a_folder_with_meta_and_json(tmp_path, capsys):
    from a2a_cli.motion.formats import load_motion

    song = write_song(tmp_path / "groove.wav", 3.0)
    code, out, err = a2a(capsys, str(song), "-o", str(tmp_path / "out"), "--format", "npz", "--format", "bvh",
                         "--seed", "4", "--json")
    assert code == 0, err
    result = json.loads(out)["results"][0]
    assert result["frames"] == 90 and result["seed"] == 4 and result["model"] == "library"  # the default dancer
    assert 0.0 <= result["validator_score"] <= 1.0 and result["passed"] and result["failed_gates"] == []
    assert sorted(Path(p).name for p in result["outputs"]) == ["groove.bvh", "groove.npz"]
    with np.load(tmp_path / "out" / "groove.npz", allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
    assert meta["generator"] == "library" and meta["seed"] == 4 and len(meta["audio_sha256"]) == 64 and meta["version"]
    npz, bvh = load_motion(tmp_path / "out" / "groove.npz"), load_motion(tmp_path / "out" / "groove.bvh")
    assert npz.n_frames == bvh.n_frames == 90
    assert np.abs(npz.joints - bvh.joints).max() < 1e-3


def test_a_dance_shorter_than_one_second_is_refused(tmp_path, capsys):
    """DESIGN §5: generators dance 1 s to 10 min; shorter clips cannot be judged for rhythm."""
    song = write_song(tmp_path / "blip.wav", 2.0)
    code, out, err = a2a(capsys, str(song), "--duration", "0.5")
    assert code == 2 and one_line_error(err) and "at least 1 s" in err
    assert not (tmp_path / "blip.npy").exists()


def test_json_output_is_strict_json(tmp_path, capsys):
    song = write_song(tmp_path / "blip.wav", 2.0)
    code, out, err = a2a(capsys, str(song), "--duration", "1", "--json")
    assert code == 0, err
    result = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))["results"][0]
    assert result["frames"] == 30


def test_existing_output_is_kept_unless_force(tmp_path, capsys):
    song = write_song(tmp_path / "song.wav", 2.0)
    assert a2a(capsys, str(song), "--seed", "1")[0] == 0
    before = (tmp_path / "song.npy").read_bytes()
    code, out, err = a2a(capsys, str(song), "--seed", "2")
    assert code == 0 and "skipped 1 of 1" in err and "song.npy" in err and "--force" in err
    assert (tmp_path / "song.npy").read_bytes() == before
    assert a2a(capsys, str(song), "--seed", "2", "--force")[0] == 0
    assert (tmp_path / "song.npy").read_bytes() != before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_rerun_on_a_folder_keeps_what_exists_and_does_only_what_is_missing(tmp_path, capsys):
    """A song whose outputs exist only in part is completed, not skipped: the missing files (one
    deleted, or a format added later) are written from the dance kept, the files there stay as they
    are, and a song with every output is skipped (issue 19, 1)."""
    from a2a_cli.motion.formats import load_motion

    songs = tmp_path / "songs"
    songs.mkdir()
    for name in ("a", "b", "c"):
        write_song(songs / f"{name}.wav", 1.5)
    out_dir = tmp_path / "out"
    assert a2a(capsys, str(songs / "a.wav"), str(songs / "b.wav"), "-o", str(out_dir), "-f", "npz", "-f", "bvh", "--seed", "3")[0] == 0
    kept = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    (out_dir / "a.bvh").unlink()  # one of a's two outputs is left: a is completed from it, not skipped
    code, out, err = a2a(capsys, str(songs), "-o", str(out_dir), "-f", "npz", "-f", "bvh", "--seed", "9", "--json")
    assert code == 0, err
    assert "skipped 1 of 3" in err and "b.npz" in err and f"{out_dir / 'a.bvh'} written from the dance in {out_dir / 'a.npz'}" in err
    report = json.loads(out)
    assert [(Path(r["audio"]).name, [Path(p).name for p in r["outputs"]]) for r in report["results"]] == [
        ("a.wav", ["a.bvh"]), ("c.wav", ["c.npz", "c.bvh"])]
    completed = report["results"][0]
    assert completed["made_from"] == str(out_dir / "a.npz") and completed["kept"] == [str(out_dir / "a.npz")]
    assert completed["seed"] == 3  # the dance kept, made with seed 3, not danced again with seed 9
    assert report["skipped"] == [str(out_dir / "b.npz"), str(out_dir / "b.bvh")]
    assert sorted(p.name for p in out_dir.iterdir()) == ["a.bvh", "a.npz", "b.bvh", "b.npz", "c.bvh", "c.npz"]
    assert all((out_dir / name).read_bytes() == data for name, data in kept.items() if name != "a.bvh")
    assert (out_dir / "a.bvh").read_bytes() == kept["a.bvh"]  # the same dance, written again the same
    # A format added later is written for every song, from the dance each song has.
    code, out, err = a2a(capsys, str(songs), "-o", str(out_dir), "-f", "npz", "-f", "bvh", "-f", "npy", "--json")
    assert code == 0, err
    assert [[Path(p).name for p in r["outputs"]] for r in json.loads(out)["results"]] == [["a.npy"], ["b.npy"], ["c.npy"]]
    for name in ("a", "b", "c"):
        np.testing.assert_array_equal(load_motion(out_dir / f"{name}.npy").poses, load_motion(out_dir / f"{name}.npz").poses)
    # --force redoes every song.
    code, out, err = a2a(capsys, str(songs), "-o", str(out_dir), "-f", "npz", "-f", "bvh", "--force")
    assert code == 0 and "skipped" not in err and "kept" not in err


def test_a_skipped_song_still_gets_its_preview_from_the_dance_kept(tmp_path, capsys):
    song = write_song(tmp_path / "song.wav", 1.5)
    assert a2a(capsys, str(song))[0] == 0
    code, _, err = a2a(capsys, str(song), "--preview", str(tmp_path / "song.gif"))
    assert code == 0 and "skipped 1 of 1" in err
    assert (tmp_path / "song.gif").read_bytes()[:6] in (b"GIF87a", b"GIF89a")


def test_an_unknown_model_is_reported_before_existing_outputs(tmp_path, capsys):
    song = write_song(tmp_path / "song.wav", 1.5)
    (tmp_path / "song.npy").write_bytes(b"an earlier dance")
    code, _, err = a2a(capsys, str(song), "--model", "nosuchmodel")
    assert code == 2 and one_line_error(err) and "unknown model 'nosuchmodel'" in err
    code, _, err = a2a(capsys, str(tmp_path / "missing.wav"), "--model", "nosuchmodel")
    assert code == 2 and "unknown model" in err


@pytest.mark.parametrize("name", ["x.wav", "clip.mp4", "dance.json"])
def test_out_with_a_suffix_that_is_no_motion_format_is_an_error(tmp_path, capsys, name):
    song = write_song(tmp_path / "song.wav", 1.5)
    code, _, err = a2a(capsys, str(song), "-o", str(tmp_path / name))
    assert code == 2 and one_line_error(err) and "is not a motion format" in err
    assert not (tmp_path / name).exists() and not (tmp_path / "song.npy").exists()


def test_out_may_name_the_motion_file_for_one_song(tmp_path, capsys):
    song = write_song(tmp_path / "song.wav", 2.0)
    code, out, err = a2a(capsys, str(song), "-o", str(tmp_path / "dances" / "mine.npz"), "--json")
    assert code == 0, err
    assert json.loads(out)["results"][0]["outputs"] == [str(tmp_path / "dances" / "mine.npz")]
    assert np.load(tmp_path / "dances" / "mine.npz", allow_pickle=False)["poses"].shape[0] == 60
    assert sorted(p.name for p in (tmp_path / "dances").iterdir()) == ["mine.npz"]
    # A folder that an earlier -o made with such a name stays a folder.
    (tmp_path / "old.bvh").mkdir()
    assert a2a(capsys, str(song), "-o", str(tmp_path / "old.bvh"))[0] == 0
    assert (tmp_path / "old.bvh" / "song.npy").exists()


@pytest.mark.parametrize("args, words", [
    (["-o", "dance.npz", "--format", "bvh"], "--format asks for bvh"),
    (["b.wav", "-o", "dance.npz"], "2 songs"),
])
def test_out_file_that_cannot_be_meant_is_refused(tmp_path, capsys, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    write_song(tmp_path / "a.wav", 2.0)
    write_song(tmp_path / "b.wav", 2.0)
    code, out, err = a2a(capsys, "a.wav", *args)
    assert code == 2 and one_line_error(err) and words in err, err
    assert not list(tmp_path.glob("**/*.np?"))


def test_cut_and_folder_input(tmp_path, capsys):
    songs = tmp_path / "songs"
    songs.mkdir()
    write_song(songs / "a.wav", 6.0, 100)
    write_song(songs / "b.flac", 6.0, 140)
    (songs / "notes.txt").write_text("not a song")
    code, out, err = a2a(capsys, str(songs), "--start", "1", "--duration", "2.5", "--json")
    assert code == 0, err
    results = json.loads(out)["results"]
    assert [r["frames"] for r in results] == [75, 75]
    assert (songs / "a.npy").exists() and (songs / "b.npy").exists() and not (songs / "notes.npy").exists()


@pytest.mark.parametrize("setup, args, code, words", [
    (None, ["missing.wav"], 2, "not found"),
    ("text", ["fake.wav"], 2, "fake.wav"),
    ("empty_dir", ["empty"], 2, "no audio files"),
    ("song", ["song.wav", "--format", "fbx"], 2, "fbx"),
    ("song", ["song.wav", "--model", "nope"], 2, "choreo"),
    ("song", ["song.wav", "--style", "tango"], 2, "hiphop"),
    ("song", ["song.wav", "--weights", "ckpt.pt"], 2, "--weights: an option of learned models such as edge; model 'library' has no weights"),
    ("song", ["song.wav", "--steps", "5", "--device", "cpu"], 2, "--steps, --device: options of learned models"),
    ("song", ["song.wav", "--preview", "clip.avi"], 2, ".mp4"),
    ("song", ["song.wav", "-o", "blocker/sub"], 1, "blocker"),
])
def test_bad_input_is_a_one_line_error(tmp_path, capsys, monkeypatch, setup, args, code, words):
    monkeypatch.chdir(tmp_path)
    if setup == "text":
        (tmp_path / "fake.wav").write_text("this is not audio")
    elif setup == "empty_dir":
        (tmp_path / "empty").mkdir()
    elif setup == "song":
        write_song(tmp_path / "song.wav", 2.0)
        (tmp_path / "blocker").write_text("a file where a folder should be")
    got, out, err = a2a(capsys, *args)
    assert got == code, err
    assert one_line_error(err) and words in err, err
    assert not list(tmp_path.glob("**/*.npy"))


@pytest.mark.skipif(sys.platform == "win32" or __import__("os").geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output_folder(tmp_path, capsys):
    song = write_song(tmp_path / "song.wav", 2.0)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, out, err = a2a(capsys, str(song), "-o", str(locked))
    assert code == 1 and one_line_error(err) and "locked" in err


def test_preview_gif(tmp_path, capsys):
    song = write_song(tmp_path / "song.wav", 2.0)
    code, out, err = a2a(capsys, str(song), "--preview", str(tmp_path / "song.gif"))
    assert code == 0, err
    assert (tmp_path / "song.gif").read_bytes()[:6] in (b"GIF87a", b"GIF89a")


class RecordedBar:
    """Stands in for common.ProgressBar: keeps every bar's label and its last (completed, total)."""

    bars: list = []

    def __init__(self, label: str = "", total: float | None = None, *, quiet: bool = False):
        self.label, self.completed, self.total = label, 0, total
        RecordedBar.bars.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, *, completed=None, total=None, description=None):
        self.completed = self.completed if completed is None else completed
        self.total = self.total if total is None else total
        self.label = self.label if description is None else description

    def advance(self):
        self.completed += 1


def test_preview_shows_frames_done_of_all_frames_as_render_does(tmp_path, capsys, monkeypatch):
    from a2a_cli.cli import common

    monkeypatch.setattr(common, "ProgressBar", RecordedBar)
    RecordedBar.bars = []
    song = write_song(tmp_path / "song.wav", 2.0)
    code, _, err = a2a(capsys, str(song), "--preview", str(tmp_path / "song.gif"))
    assert code == 0, err
    rendering = [(bar.label, bar.completed, bar.total) for bar in RecordedBar.bars if "rendering" in bar.label]
    assert rendering == [("rendering song.gif", 30, 30)]  # 2 s of GIF at 15 fps, counted frame by frame

    RecordedBar.bars = []
    with pytest.raises(SystemExit):
        main(["render", str(tmp_path / "song.npy"), "-o", str(tmp_path / "again.gif")])
    assert [(bar.label, bar.completed, bar.total) for bar in RecordedBar.bars] == [("rendering again.gif", 30, 30)]


def test_piped_output_keeps_whole_file_names_and_honours_columns(tmp_path):
    """In a pipe, lines are as long as their content; with COLUMNS=80 (a terminal's width, or asked
    for) the table fits in 80 columns and folds names, paths and styles instead of cutting them
    with "…": where each file went stays readable (issue 19, 3)."""
    import os

    song = write_song(tmp_path / "a_song_with_a_name_long_enough_to_be_cut.wav", 1.5)
    deep = tmp_path / "a_folder_with_a_long_name_that_a_terminal_of_eighty_columns_would_cut" / "and_deeper_still"
    piped = subprocess.run([sys.executable, "-m", "a2a_cli", "generate", str(song), "-o", str(deep), "-f", "npz", "-f", "bvh"],
                           capture_output=True, text=True, timeout=120, env=dict(os.environ, COLUMNS=""))
    assert piped.returncode == 0, piped.stderr
    assert f"outputs written to {deep}" in piped.stdout.splitlines()  # the folder once, on one line, whole
    [row] = [line for line in piped.stdout.splitlines() if line.startswith("│") and song.name in line]
    assert "a_song_with_a_name_long_enough_to_be_cut.npz" in row
    narrow = subprocess.run([sys.executable, "-m", "a2a_cli", "generate", str(song), "-o", str(deep), "-f", "npz", "-f", "bvh",
                             "-f", "npy"], capture_output=True, text=True, timeout=120, env=dict(os.environ, COLUMNS="80"))
    assert narrow.returncode == 0, narrow.stderr
    lines = narrow.stdout.splitlines()
    assert max(map(len, lines)) <= 80 and "…" not in narrow.stdout, narrow.stdout
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if line.startswith("│")]
    column = lambda i: "".join(row[i] for row in cells)  # noqa: E731 - a folded cell, its pieces joined
    assert column(0) == song.name and column(6) == "a_song_with_a_name_long_enough_to_be_cut.npy"
    assert column(2).startswith(tuple(DANCE_STYLES))  # a style's name whole, not "percuss…"
    below = lines[[i for i, line in enumerate(lines) if line.startswith("└")][0] + 1:]
    assert "".join(below).startswith(f"outputs written to {deep}")


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads a process's children from /proc")
def test_sigterm_during_a_preview_cleans_up_as_ctrl_c_does(tmp_path):
    """SIGTERM (kill, timeout, docker stop) left a hidden half video, ffmpeg encoding on as an orphan
    and a temporary folder: now it stops as Ctrl-C does, exit 143 (issue 19, 5)."""
    import os
    import signal
    import time

    song = write_song(tmp_path / "song.wav", 12.0)
    temp = tmp_path / "temp"
    temp.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "a2a_cli", "generate", str(song), "--preview", str(tmp_path / "clip.mp4")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, TMPDIR=str(temp)))
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".clip.mp4.*")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        children = []
        while not children and proc.poll() is None and time.monotonic() < deadline:  # ffmpeg, encoding
            children = [int(pid) for task in Path(f"/proc/{proc.pid}/task").iterdir()
                        for pid in (task / "children").read_text().split()]
            time.sleep(0.05)
        assert children and proc.poll() is None, "the preview ended before it could be interrupted"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143 and err.strip().splitlines()[-1] == "terminated", err
    assert "Traceback" not in err
    assert (tmp_path / "song.npy").exists() and not [p for p in tmp_path.iterdir() if "clip" in p.name]  # no half video, hidden or not
    assert list(temp.iterdir()) == []  # the render's temporary folder is gone
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(Path(f"/proc/{pid}").exists() for pid in children)  # ffmpeg stopped, not orphaned


def test_fresh_process_end_to_end(tmp_path):
    song = write_song(tmp_path / "song.ogg", 3.0)
    import os

    done = subprocess.run([sys.executable, "-m", "a2a_cli", "generate", str(song), "--json"],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["results"][0]["frames"] == 90
    assert np.load(tmp_path / "song.npy").shape == (90, 75)


def test_a_bad_file_in_a_folder_is_listed_and_the_rest_is_danced(tmp_path, capsys):
    """One bad file stopped a folder run: when it sorted first nothing was danced, and --json printed
    nothing. Now every good song is written, each failure is listed with its reason in the table,
    the JSON and a last error line, and the exit code says it (issue 19, 2)."""
    songs = tmp_path / "mixed"
    songs.mkdir()
    (songs / "aaa.wav").write_bytes(b"")  # sorts first
    write_song(songs / "good.wav", 1.5)
    (songs / "zzz.wav").write_text("not audio")
    code, out, err = a2a(capsys, str(songs), "-o", str(tmp_path / "out"), "--json")
    assert code == 2
    report = json.loads(out)
    assert [Path(r["audio"]).name for r in report["results"]] == ["good.wav"]
    assert [(Path(f["audio"]).name, "empty" in f["error"]) for f in report["failed"]] == [("aaa.wav", True), ("zzz.wav", False)]
    assert "zzz.wav" in report["failed"][1]["error"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.npy"]
    assert err.strip().splitlines()[-1].startswith("error: 2 of 3 songs failed: aaa.wav: ")
    code, out, err = a2a(capsys, str(songs), "-o", str(tmp_path / "out"), "--force")
    assert code == 2 and "good.npy" in out
    [aaa] = [line for line in out.splitlines() if line.startswith("│ aaa.wav")]
    assert "failed" in aaa and "audio file is empty" in aaa
    # One song alone stays a one-line error, as any other bad input.
    code, out, err = a2a(capsys, str(songs / "aaa.wav"))
    assert code == 2 and one_line_error(err) and out == ""


def test_a_failed_gate_is_named_in_the_table_and_the_json(tmp_path, capsys, monkeypatch):
    """The table said "0.00 (gate failed)" without naming the gate; `a2a score` names it (issue 19, 10)."""
    from a2a_cli.generation import base
    from a2a_cli.motion.motion import Motion

    class Frozen:  # a generator that stands still: the judge's "moves" gate fails
        name = "frozen"

        def generate(self, audio, duration_s, seed):
            n = base.check_duration(duration_s)
            return Motion(poses=np.zeros((n, 24, 3)), trans=np.tile([0.0, 0.95, 0.0], (n, 1)), meta={"model": "frozen"})

    monkeypatch.setitem(base._FACTORIES, "frozen", (Frozen, False, "dance"))
    song = write_song(tmp_path / "song.wav", 2.0)
    code, out, err = a2a(capsys, str(song), "--model", "frozen", "--json")
    assert code == 0, err
    result = json.loads(out)["results"][0]
    assert result["validator_score"] == 0 and not result["passed"] and "moves" in result["failed_gates"]
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = a2a(capsys, str(song), "--model", "frozen", "--force")
    assert code == 0, err
    score_cells = "".join(line.split("│")[4].strip() for line in out.splitlines() if line.startswith("│"))
    assert score_cells == "0.00" + f"failed: {', '.join(result['failed_gates'])}"


def test_a_clip_too_short_for_sync_says_so_and_shows_no_zero_bpm(tmp_path, capsys):
    """A 1.4-s clip read "0 BPM", and sync and energy left its score without a word (issue 19, 13)."""
    song = write_song(tmp_path / "break.wav", 1.4)
    code, out, err = a2a(capsys, str(song), "--json")
    assert code == 0, err
    result = json.loads(out)["results"][0]
    assert result["music"]["tempo_bpm"] == 0 and result["notes"][0].startswith("sync not judged: ")
    assert "needed" in result["notes"][0]
    code, out, err = a2a(capsys, str(song), "--force")
    assert code == 0, err
    assert "0 BPM" not in out and "no steady beat" in out
    assert f"note: break.wav: {result['notes'][0]}" in out.replace("\n", " ")
    with pytest.raises(SystemExit):
        main(["score", str(tmp_path / "break.npy"), "--audio", str(song), "--json"])
    assert json.loads(capsys.readouterr().out)["results"][0]["notes"] == result["notes"]


def test_style_is_chosen_from_the_music_or_given_and_reported(tmp_path, capsys):
    song = write_song(tmp_path / "song.wav", 4.0)
    code, out, err = a2a(capsys, str(song), "--json", "-f", "npz", "--model", "choreo", "-o", str(tmp_path / "auto"))
    assert code == 0, err
    auto = json.loads(out)["results"][0]
    assert auto["style"] in ("hiphop", "house", "flow", "popping")
    assert auto["music"]["tempo_bpm"] == pytest.approx(120, abs=3)
    assert auto["style_chosen_by"] == "music" and set(auto["style_fit"]) == set(STYLE_NAMES)  # as the README says (issue 19, 15)
    assert auto["style"] == max(auto["style_fit"], key=auto["style_fit"].get) and "gates_passed" not in auto
    code, out, err = a2a(capsys, str(song), "--json", "-f", "npz", "--model", "choreo", "--style", "flow", "-o", str(tmp_path / "flow"))
    assert code == 0, err
    given = json.loads(out)["results"][0]
    assert given["style"] == "flow" and given["style_chosen_by"] == "user"
    with np.load(tmp_path / "flow" / "song.npz") as data:
        meta = json.loads(str(data["meta"]))
    assert meta["style"] == "flow" and meta["style_chosen_by"] == "user" and set(meta["style_fit"]) >= {"flow", "house"}
    code, out, err = a2a(capsys, str(song), "--model", "choreo", "--style", "house", "-o", str(tmp_path / "table"))
    assert code == 0 and "house" in out, err


def test_the_default_library_dances_the_closest_style_it_has_and_refuses_one_it_lacks(tmp_path, capsys):
    """The shipped library is salsa: on auto it dances salsa and says which style the music suggested;
    a style it has none of is a one-line error naming its styles and choreo (exit 2)."""
    song = write_song(tmp_path / "song.wav", 4.0)
    code, out, err = a2a(capsys, str(song), "--json", "-o", str(tmp_path / "auto"))
    assert code == 0, err
    auto = json.loads(out)["results"][0]
    fit = auto["style_fit"]
    assert auto["model"] == "library" and auto["style"] == "salsa" and set(fit) == set(DANCE_STYLES)
    assert auto["music_style"] == max(fit, key=fit.get) != "salsa" and auto["style_chosen_by"] == "closest"
    code, out, err = a2a(capsys, str(song), "-o", str(tmp_path / "table"))
    assert code == 0 and f"closest to {auto['music_style']}" in " ".join(out.split()).replace("│ ", ""), out
    code, out, err = a2a(capsys, str(song), "--style", "salsa", "--json", "-o", str(tmp_path / "salsa"))
    assert code == 0 and json.loads(out)["results"][0]["style_chosen_by"] == "user", err
    code, out, err = a2a(capsys, str(song), "--style", "house", "-o", str(tmp_path / "house"))
    assert code == 2 and one_line_error(err) and out == ""
    assert "no house dancing (its styles: salsa)" in err and "--model choreo" in err, err
    assert not (tmp_path / "house").exists() or not list((tmp_path / "house").iterdir())
