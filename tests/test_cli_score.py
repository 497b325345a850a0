"""`a2a score` through the real CLI: tables, JSON, folders, reference stats, and every bad input
answered with one line and exit code 2, never a traceback."""

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
from a2a_cli.motion.formats import save_motion
from support.dances import beat_frames_of, plausible_dance, shifted_up, static_pose

SR = 22050
SECONDS = 6
N = SECONDS * 30


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Feature caches go to the test's folder, never the user's cache."""
    monkeypatch.setenv("A2A_GENERAL_CACHE_DIR", str(tmp_path / "cache"))


def run(argv, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("score")
    sf.write(root / "song.wav", synth_song(120, SECONDS, SR, bars_per_section=2), SR)
    dance = plausible_dance(beat_frames_of(120, SECONDS), N, seed=1)
    save_motion(dance, root / "song.npy")
    save_motion(static_pose(N), root / "static.npy")
    songs, motions = root / "songs", root / "motions"
    songs.mkdir(), motions.mkdir()
    for bpm in (100, 130):
        sf.write(songs / f"s{bpm}.flac", synth_song(bpm, SECONDS, SR, bars_per_section=2), SR)
        save_motion(plausible_dance(beat_frames_of(bpm, SECONDS), N, seed=bpm), motions / f"s{bpm}.npz")
    refs = root / "refs"
    refs.mkdir()
    for seed in range(4):
        save_motion(plausible_dance(beat_frames_of(110, SECONDS), N, seed=seed + 20), refs / f"r{seed}.npy")
    return root


def test_one_file_prints_tables(files, capsys):
    code, out, err = run(["score", str(files / "song.npy"), "--audio", str(files / "song.wav")], capsys)
    assert code == 0, err
    assert "validator score" in out and "gate floating" in out and "summary over 1 file" in out


def test_json_ranks_the_dance_above_a_statue(files, capsys):
    code, out, _ = run(["score", str(files / "song.npy"), str(files / "static.npy"), "--audio", str(files / "song.wav"), "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    dance, statue = doc["results"]
    # The dance is procedural: realism factor ~0.2 since judge 3.0, ~0.16 in all.
    assert dance["validator_score"] > 0.1 and dance["passed"] and dance["factors"]["sync"] >= 0.9
    assert statue["validator_score"] == 0.0 and not statue["passed"]
    assert doc["summary"]["files"] == 2 and doc["summary"]["passed"] == 1


def test_folders_match_audio_by_stem_and_reference_stats_give_fid(files, capsys, tmp_path):
    stats = tmp_path / "stats.npz"
    code, out, err = run(["score", "--build-reference", str(files / "refs"), "-o", str(stats), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["clips"] == 4 and stats.is_file()
    code, out, err = run(["score", str(files / "motions"), "--audio", str(files / "songs"), "--reference-stats", str(stats), "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert [f["audio"].rsplit("/", 1)[-1] for f in doc["results"]] == ["s100.flac", "s130.flac"]
    # Procedural dances (realism factor ~0.2 since judge 3.0), each judged against its own song.
    assert all(f["validator_score"] > 0.1 and f["factors"]["sync"] >= 0.9 and 0 <= f["components"]["realism"] <= 1
               for f in doc["results"]), doc["results"]
    summary = doc["summary"]
    assert all(np.isfinite(summary[k]) and summary[k] >= 0 for k in ("FID_k", "FID_g", "Dist_k", "Dist_g"))


def test_replayed_reference_scores_zero(files, capsys):
    code, out, _ = run(["score", str(files / "song.npy"), "--audio", str(files / "song.wav"), "--reference", str(files / "song.npy"), "--json"], capsys)
    assert code == 0
    report = json.loads(out)["results"][0]
    assert report["validator_score"] == 0.0
    assert [g["name"] for g in report["gates"] if not g["passed"]] == ["not_replayed"]


def test_a_dance_to_a_cut_of_the_song_is_judged_against_that_cut(files, capsys, tmp_path):
    """A dance to seconds 2-5 of the song: against the whole song it has the wrong frame count;
    with the same --start/--duration as a2a generate it is judged on the music it was danced to."""
    cut = plausible_dance(beat_frames_of(120, SECONDS)[(beat_frames_of(120, SECONDS) >= 60)] - 60, 90, seed=3)
    save_motion(cut, tmp_path / "cut.npy")
    whole = run(["score", str(tmp_path / "cut.npy"), "--audio", str(files / "song.wav"), "--json"], capsys)
    assert [g["name"] for g in json.loads(whole[1])["results"][0]["gates"] if not g["passed"]] == ["frame_count"]
    code, out, err = run(["score", str(tmp_path / "cut.npy"), "--audio", str(files / "song.wav"), "--start", "2", "--duration", "3", "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)["results"][0]
    assert report["passed"] and report["components"]["sync"] >= 0.9 and report["metrics"]["bas"] > 0.5, report["components"]
    code, out, err = run(["score", str(tmp_path / "cut.npy"), "--start", "2"], capsys)
    assert code == 2 and "--audio" in err and len(err.strip().splitlines()) == 1


def test_floating_dance_fails_its_gate(files, capsys, tmp_path):
    save_motion(shifted_up(plausible_dance(beat_frames_of(120, SECONDS), N, seed=1), 1.0), tmp_path / "float.npy")
    code, out, _ = run(["score", str(tmp_path / "float.npy"), "--audio", str(files / "song.wav"), "--json"], capsys)
    assert code == 0
    assert [g["name"] for g in json.loads(out)["results"][0]["gates"] if not g["passed"]] == ["floating"]


def _bad_inputs(files, tmp):
    (tmp / "empty.npy").write_bytes(b"")
    (tmp / "text.wav").write_text("this is not audio\n")
    np.save(tmp / "shape.npy", np.zeros((N, 10), dtype=np.float32))
    nan = np.zeros((N, 75), dtype=np.float32)
    nan[3, 4] = np.nan
    np.save(tmp / "nan.npy", nan)
    inf = np.zeros((N, 75), dtype=np.float32)
    inf[7, 0] = np.inf
    np.save(tmp / "inf.npy", inf)
    np.save(tmp / "pickle.npy", np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (7158279, 75), }"  # 2 GiB of float32
    header = header + " " * (63 - len(header) % 64) + "\n"
    (tmp / "huge.npy").write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\0" * 64)
    sf.write(tmp / "song.mp3", synth_song(120, SECONDS, SR), SR, format="MP3")
    data = (tmp / "song.mp3").read_bytes()
    (tmp / "cut.mp3").write_bytes(data[: len(data) // 3])
    (tmp / "bad.toml").write_text("[default\nthis is = = not toml")
    dance, song = str(files / "song.npy"), str(files / "song.wav")
    return {
        "missing motion": ["score", str(tmp / "nope.npy"), "--audio", song],
        "missing audio": ["score", dance, "--audio", str(tmp / "nope.wav")],
        "empty motion": ["score", str(tmp / "empty.npy"), "--audio", song],
        "not audio": ["score", dance, "--audio", str(tmp / "text.wav")],
        "truncated mp3": ["score", dance, "--audio", str(tmp / "cut.mp3")],
        "wrong shape": ["score", str(tmp / "shape.npy")],
        "NaN": ["score", str(tmp / "nan.npy")],
        "inf": ["score", str(tmp / "inf.npy")],
        "pickle": ["score", str(tmp / "pickle.npy")],
        "2 GB header": ["score", str(tmp / "huge.npy")],
        "bad TOML": ["--config", str(tmp / "bad.toml"), "score", dance],
        "no motions": ["score"],
        "build without -o": ["score", "--build-reference", str(files / "refs")],
        "audio folder without a match": ["score", dance, "--audio", str(files / "songs")],
    }


def test_bad_input_is_one_line_and_exit_2(files, capsys, tmp_path):
    for name, argv in _bad_inputs(files, tmp_path).items():
        code, out, err = run(argv, capsys)
        assert code == 2, (name, out, err)
        lines = [line for line in err.strip().splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), (name, err)
        assert "Traceback" not in err + out, name


def test_a_folder_that_cannot_be_listed_is_bad_input_naming_it(files, capsys, tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_iterdir = Path.iterdir

    def iterdir(self):
        if self == locked:  # what listing a folder without read permission raises (chmod cannot stop root)
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    code, out, err = run(["score", str(locked)], capsys)
    assert code == 2, err
    assert err.strip() == f"error: cannot read {locked}: Permission denied"


def test_build_reference_says_it_is_reading_and_names_a_clip_too_short(files, capsys, tmp_path, monkeypatch):
    from a2a_cli.cli import common

    labels = []

    class RecordingBar(common.ProgressBar):
        def __init__(self, label="", *args, **kwargs):
            labels.append(label)
            super().__init__(label, *args, **kwargs)

    monkeypatch.setattr(common, "ProgressBar", RecordingBar)
    dances = tmp_path / "dances"
    dances.mkdir()
    for seed in range(3):
        save_motion(plausible_dance(beat_frames_of(110, SECONDS), N, seed=seed), dances / f"d{seed}.npy")
    save_motion(static_pose(2), dances / "tiny.npy")
    code, _, err = run(["score", "--build-reference", str(dances), "-o", str(tmp_path / "stats.npz")], capsys)
    assert code == 2 and labels == ["reading dances"]
    assert err.strip() == f"error: {dances / 'tiny.npy'}: this metric needs at least 3 frames, got 2"
    assert not (tmp_path / "stats.npz").exists()

    (dances / "tiny.npy").unlink()
    code, _, err = run(["score", "--build-reference", str(dances), "-o", str(tmp_path / "stats.npz")], capsys)
    assert code == 0 and (tmp_path / "stats.npz").is_file(), err


def test_the_music_is_cached_in_the_cache_dir_unless_audio_cache_is_off(files, capsys, tmp_path, monkeypatch):
    argv = ["score", str(files / "song.npy"), "--audio", str(files / "song.wav"), "--json"]
    code, first, err = run(argv, capsys)
    assert code == 0, err
    assert len(list((tmp_path / "cache" / "features").glob("*.npz"))) == 1
    code, again, err = run(argv, capsys)  # from the cache: the same verdict
    assert code == 0 and json.loads(again)["results"] == json.loads(first)["results"], err
    monkeypatch.setenv("A2A_GENERAL_CACHE_DIR", str(tmp_path / "off"))
    monkeypatch.setenv("A2A_AUDIO_CACHE", "false")
    code, _, err = run(argv, capsys)
    assert code == 0 and not (tmp_path / "off").exists(), err


def test_subprocess_never_shows_a_traceback(files, tmp_path):
    np.save(tmp_path / "pickle.npy", np.array([object()], dtype=object), allow_pickle=True)
    for argv in (["score", str(tmp_path / "pickle.npy")], ["score", str(files / "song.npy"), "--audio", str(tmp_path / "none.mp3")]):
        proc = subprocess.run([sys.executable, "-m", "a2a_cli", *argv], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and proc.stderr.startswith("error:")


def test_every_score_names_its_judge_and_why_it_is_low(files, tmp_path, capsys):
    """JSON and tables carry the judge version; a dance scored against the wrong song says why it is
    low (the sync factor), a static pose which gate failed."""
    from a2a_cli.scoring import JUDGE_VERSION

    wrong_song = tmp_path / "other.wav"
    sf.write(wrong_song, synth_song(83, SECONDS, SR, seed=5, bars_per_section=1), SR)
    code, out, err = run(["score", str(files / "song.npy"), str(files / "static.npy"), "--audio", str(wrong_song), "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["summary"]["judge_version"] == JUDGE_VERSION
    wrong, static = doc["results"]
    assert wrong["judge_version"] == JUDGE_VERSION and wrong["passed"] and wrong["validator_score"] < 0.2
    assert any(reason.startswith("sync factor") for reason in wrong["reasons"]), wrong["reasons"]
    assert static["reasons"][0].startswith("gate moves failed") and "minimum" in static["reasons"][0]
    code, out, err = run(["score", str(files / "song.npy"), "--audio", str(wrong_song)], capsys)
    assert f"judge {JUDGE_VERSION}" in out and "why" in out and "this song's beat" in out


def test_scoring_without_music_says_so_once(files, capsys):
    code, out, err = run(["score", str(files / "song.npy"), str(files / "static.npy")], capsys)
    assert code == 0
    assert err.count("no --audio given: judged without music") == 1
    code, out, err = run(["score", str(files / "song.npy"), "--audio", str(files / "song.wav")], capsys)
    assert "no --audio" not in err


def test_gate_limits_say_minimum_or_maximum(files, capsys):
    code, out, err = run(["score", str(files / "song.npy"), "--audio", str(files / "song.wav")], capsys)
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") >= 3}
    assert "max 16" in lines["gate joint_speed"] and "min 0.020" in lines["gate moves"]
    assert "min 30" in lines["gate duration"] and "must be 180" in lines["gate frame_count"]


def test_a_dance_that_fails_a_gate_is_scored_with_exit_0_and_fail_on_gate_makes_it_1(files, capsys, tmp_path):
    """Scoring a dance that fails a gate is a successful scoring; --fail-on-gate turns a failed gate
    into exit 1 for scripts, naming each failing file and its gates."""
    dance, statue, song = str(files / "song.npy"), str(files / "static.npy"), str(files / "song.wav")
    code, out, err = run(["score", dance, statue, "--audio", song, "--json"], capsys)
    assert code == 0, err
    assert [r["passed"] for r in json.loads(out)["results"]] == [True, False]
    code, out, err = run(["score", dance, statue, "--audio", song, "--json", "--fail-on-gate"], capsys)
    assert code == 1
    assert [r["passed"] for r in json.loads(out)["results"]] == [True, False]  # the scores are still printed
    assert err.strip() == "1 of 2 dances failed a gate (--fail-on-gate): static.npy (moves)"
    code, _, err = run(["score", dance, "--audio", song, "--fail-on-gate"], capsys)
    assert code == 0 and "failed a gate" not in err


def test_values_beyond_what_a_body_reaches_fail_the_finite_gate_while_nan_in_a_file_is_an_input_error(files, capsys, tmp_path):
    """The README's split: NaN or inf in a file is refused when it is read (exit 2, above); finite
    numbers no body reaches (a root 20 km away) are read and fail the `finite` gate (exit 0)."""
    far = plausible_dance(beat_frames_of(120, SECONDS), N, seed=1)
    far.trans[:, 0] += 20_000.0
    save_motion(far, tmp_path / "far.npy")
    code, out, err = run(["score", str(tmp_path / "far.npy"), "--audio", str(files / "song.wav"), "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)["results"][0]
    assert report["validator_score"] == 0.0 and "finite" in [g["name"] for g in report["gates"] if not g["passed"]]
    np.save(tmp_path / "nan.npy", np.full((N, 75), np.nan, dtype=np.float32))
    code, _, err = run(["score", str(tmp_path / "nan.npy")], capsys)
    assert code == 2 and "NaN or inf" in err


def test_debug_adds_the_traceback_and_keeps_the_exit_code(files, capsys, tmp_path):
    code, _, err = run(["--debug", "score", str(tmp_path / "nope.npy")], capsys)
    assert code == 2
    assert "Traceback (most recent call last)" in err and "InputError: motion file not found" in err
    assert err.strip().splitlines()[-1] == f"error: motion file not found: {tmp_path / 'nope.npy'}"
    code, _, err = run(["score", str(tmp_path / "nope.npy")], capsys)
    assert code == 2 and "Traceback" not in err


def test_build_reference_on_few_dances_warns_why(files, capsys, tmp_path, monkeypatch):
    from a2a_cli.cli import score as score_cmd

    code, out, err = run(["score", "--build-reference", str(files / "refs"), "-o", str(tmp_path / "few.npz"), "--json"], capsys)
    assert code == 0 and json.loads(out)["clips"] == 4
    assert err.startswith(f"warning: statistics of only 4 dances (fewer than {score_cmd.FEW_REFERENCE_DANCES}): ")
    assert "covariance" in err and "as many real dances" in err
    monkeypatch.setattr(score_cmd, "FEW_REFERENCE_DANCES", 4)  # 4 dances are now enough: no warning
    code, out, err = run(["score", "--build-reference", str(files / "refs"), "-o", str(tmp_path / "enough.npz")], capsys)
    assert code == 0 and "warning" not in err and "4 dances" in out
