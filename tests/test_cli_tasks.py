"""`a2a generate` and `a2a score` on speech (issue 20): the task read from the audio (or named with
--task), gestures made by orator and judged by the gesture judge, the reading in the JSON, and
one-line errors for options of the other task."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from a2a_cli.cli.app import main
from a2a_cli.examples import synth_song, synth_speech
from a2a_cli.scoring.gesture_constants import GESTURE_JUDGE_VERSION
from a2a_cli.style_names import GESTURE_STYLES

SR = 22050


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Feature caches go to the test's folder, never the user's cache."""
    monkeypatch.setenv("A2A_GENERAL_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def audio(tmp_path) -> dict[str, Path]:
    """8 s of a synthetic voice and 8 s of a synthetic song, as wav files."""
    voice = synth_speech(8.0, seed=2, sr=SR)
    sf.write(tmp_path / "talk.wav", voice.samples, voice.sr)
    sf.write(tmp_path / "song.wav", synth_song(120.0, 8.0, SR, seed=1), SR)
    return {"talk": tmp_path / "talk.wav", "song": tmp_path / "song.wav"}


def a2a(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


def one_line_error(err: str) -> bool:
    return err.strip().startswith("error:") and len(err.strip().splitlines()) == 1


def test_generate_gestures_to_speech_and_dances_to_music_by_default(audio, tmp_path, capsys):
    code, out, err = a2a(capsys, "generate", str(audio["talk"]), str(audio["song"]), "-o", str(tmp_path / "out"),
                         "--format", "npz", "--json")
    assert code == 0, err
    results = {Path(r["audio"]).stem: r for r in json.loads(out)["results"]}
    talk, song = results["talk"], results["song"]
    assert (talk["task"], talk["model"], talk["judge_version"]) == ("gesture", "orator", GESTURE_JUDGE_VERSION)
    assert talk["task_reading"]["task"] == "gesture" and talk["task_reading"]["confidence"] > 0.9
    assert talk["style"] in GESTURE_STYLES and talk["style_chosen_by"] == "voice"  # auto: named after the closest style
    assert (song["task"], song["model"]) == ("dance", "library") and song["task_reading"]["confidence"] > 0.9
    assert talk["frames"] == song["frames"] == 240
    with np.load(tmp_path / "out" / "talk.npz", allow_pickle=False) as data:  # a standing speaker: the feet stay put
        assert data["trans"].shape == (240, 3) and np.ptp(data["trans"][:, [0, 2]], axis=0).max() < 0.3
        meta = json.loads(str(data["meta"]))  # the reading travels with the motion
    assert meta["task"] == "gesture" and meta["task_reading"]["confidence"] == talk["task_reading"]["confidence"]


def test_task_and_model_flags_decide_over_the_reading(audio, tmp_path, capsys):
    code, out, err = a2a(capsys, "generate", str(audio["talk"]), "-o", str(tmp_path / "a.npz"), "--task", "dance", "--json")
    assert code == 0, err
    result = json.loads(out)["results"][0]
    assert (result["task"], result["model"], result["task_reading"]) == ("dance", "library", None)
    code, out, err = a2a(capsys, "generate", str(audio["song"]), "-o", str(tmp_path / "b.npz"), "--model", "orator", "--json")
    assert code == 0, err
    assert json.loads(out)["results"][0]["task"] == "gesture"  # a gesture model gestures, whatever the audio


def test_gesture_style_flag_and_errors_of_the_other_task(audio, tmp_path, capsys):
    code, out, err = a2a(capsys, "generate", str(audio["talk"]), "-o", str(tmp_path / "a.npz"), "--style", "animated", "--json")
    assert code == 0, err
    assert json.loads(out)["results"][0]["style"] == "animated"
    for args, words in ((["--task", "gesture", "--style", "hiphop"], "dance style"),
                        (["--task", "dance", "--model", "orator"], "makes gesture"),
                        (["--task", "gesture", "--model", "orator", "--weights", "x.pt"], "learned models"),
                        (["--task", "talk"], "talk")):
        code, _, err = a2a(capsys, "generate", str(audio["talk"]), "-o", str(tmp_path / "c.npz"), *args)
        assert code == 2 and one_line_error(err) and words in err, (args, err)


def test_score_judges_gestures_against_speech(audio, tmp_path, capsys):
    assert a2a(capsys, "generate", str(audio["talk"]), "-o", str(tmp_path / "talk.npz"))[0] == 0
    code, out, err = a2a(capsys, "score", str(tmp_path / "talk.npz"), "--audio", str(audio["talk"]), "--json")
    assert code == 0, err
    result = json.loads(out)["results"][0]
    assert (result["task"], result["judge_version"], result["passed"]) == ("gesture", GESTURE_JUDGE_VERSION, True)
    assert {"bc_emage", "l1_diversity", "mean_jerk"} <= set(result["metrics"])
    code, out, err = a2a(capsys, "score", str(tmp_path / "talk.npz"), "--audio", str(audio["talk"]), "--task", "dance", "--json")
    assert code == 0 and json.loads(out)["results"][0]["task"] == "dance"  # judged as a dance when asked
    code, _, err = a2a(capsys, "score", str(tmp_path / "talk.npz"), "--audio", str(audio["talk"]),
                       "--reference", str(tmp_path / "talk.npz"))
    assert code == 2 and one_line_error(err) and "dance options" in err
