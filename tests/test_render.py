"""Previews: real mp4/GIF files read back, pixels of drawn frames, the following camera, errors,
atomic writes, and the `a2a render` / `a2a example` commands."""

from __future__ import annotations

from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from a2a_cli.cli.app import main
from a2a_cli.errors import InputError
from a2a_cli.examples import synth_song
from a2a_cli.motion import Motion
from a2a_cli.motion.formats import save_motion
from a2a_cli.motion.skeleton import L_ELBOW, L_KNEE, L_SHOULDER, R_ELBOW, R_KNEE, R_SHOULDER
from a2a_cli.render import parse_size, render_frame, render_preview

SMALL = (160, 120)


def rest_motion(n_frames: int = 30, trans_x: np.ndarray | None = None) -> Motion:
    """The SMPL rest pose (a T-pose) standing on y = 0, optionally walking along x."""
    trans = np.zeros((n_frames, 3), np.float32)
    trans[:, 1] = 0.95
    if trans_x is not None:
        trans[:, 0] = trans_x
    return Motion(np.zeros((n_frames, 24, 3), np.float32), trans)


def bouncing_motion(n_frames: int) -> Motion:
    t = np.arange(n_frames) / 30.0
    poses = np.zeros((n_frames, 24, 3), np.float32)
    poses[:, [L_KNEE, R_KNEE], 0] = (0.3 + 0.3 * np.sin(2 * np.pi * 2 * t))[:, None]
    poses[:, L_SHOULDER, 2] = 0.8 + 0.4 * np.sin(np.pi * 2 * t)
    poses[:, R_SHOULDER, 2] = -0.8 - 0.4 * np.sin(np.pi * 2 * t)
    trans = np.zeros((n_frames, 3), np.float32)
    trans[:, 1] = 0.9
    return Motion(poses, trans)


@pytest.fixture(scope="module")
def song(tmp_path_factory) -> Path:
    import soundfile as sf

    path = tmp_path_factory.mktemp("audio") / "song.wav"
    sf.write(path, synth_song(bpm=120, duration_s=4.0, sr=22050), 22050)
    return path


def read_video(path: Path) -> tuple[dict, int]:
    frames = imageio_ffmpeg.read_frames(str(path))
    meta = next(frames)
    return meta, sum(1 for _ in frames)


# Masks of the three limb colours, loose enough for anti-aliased and compressed pixels.
def orange(a):
    return (a[..., 0] > 200) & (a[..., 1] > 100) & (a[..., 1] < 185) & (a[..., 2] < 120)


def blue(a):
    return (a[..., 2] > 200) & (a[..., 0] < 130) & (a[..., 1] > 120)


def white(a):
    return (a > 215).all(axis=-1)


def drawn(a):
    return orange(a) | blue(a) | white(a)


def rows_cols(mask):
    rows, cols = np.nonzero(mask)
    return rows, cols


# --- files ------------------------------------------------------------------------------------

def test_mp4_has_every_frame_the_size_and_the_music(tmp_path, song):
    out = render_preview(bouncing_motion(45), tmp_path / "dance.mp4", audio_path=song, start_s=1.0, size=SMALL)
    meta, n_frames = read_video(out)
    assert n_frames == 45
    assert meta["size"] == SMALL and meta["fps"] == 30.0 and meta["codec"] == "h264"
    assert meta["audio_codec"] == "aac"
    assert meta["duration"] == pytest.approx(1.5, abs=0.07)
    assert [p.name for p in tmp_path.iterdir()] == ["dance.mp4"]  # no temporary file left beside it


def decoded_audio_rms(path: Path) -> float:
    import subprocess

    raw = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-vn", "-f", "f32le", "-ac", "1", "-"],
                         capture_output=True, check=True).stdout
    samples = np.frombuffer(raw, np.float32)
    return float(np.sqrt(np.mean(samples**2)))


def test_the_music_is_cut_at_start(tmp_path):
    import soundfile as sf

    sr = 22050
    quiet_then_loud = np.zeros(3 * sr, np.float32)
    quiet_then_loud[2 * sr :] = 0.5 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr)
    audio = tmp_path / "tone.wav"
    sf.write(audio, quiet_then_loud, sr)
    quiet = render_preview(bouncing_motion(24), tmp_path / "quiet.mp4", audio_path=audio, start_s=0.5, size=SMALL)
    loud = render_preview(bouncing_motion(24), tmp_path / "loud.mp4", audio_path=audio, start_s=2.1, size=SMALL)
    assert decoded_audio_rms(quiet) < 0.01
    assert decoded_audio_rms(loud) == pytest.approx(0.5 / np.sqrt(2), rel=0.15)


def test_mp4_without_audio_has_no_audio_stream(tmp_path):
    meta, n_frames = read_video(render_preview(bouncing_motion(20), tmp_path / "silent.mp4", size=SMALL))
    assert n_frames == 20
    assert "audio_codec" not in meta


def test_audio_shorter_than_the_motion_is_padded_not_cutting_the_video(tmp_path, song):
    # The song lasts 4 s; starting at 3.5 s leaves 0.5 s of music for a 2 s motion.
    meta, n_frames = read_video(render_preview(bouncing_motion(60), tmp_path / "pad.mp4", audio_path=song, start_s=3.5, size=SMALL))
    assert n_frames == 60 and meta["audio_codec"] == "aac"


def test_gif_has_half_the_frames_at_15_fps_and_lasts_as_long(tmp_path):
    out = render_preview(bouncing_motion(60), tmp_path / "dance.gif", size=SMALL)
    with Image.open(out) as gif:
        assert gif.size == SMALL
        assert gif.n_frames == 30
        total_ms = 0
        for i in range(gif.n_frames):
            gif.seek(i)
            total_ms += gif.info["duration"]
    assert total_ms == pytest.approx(2000, abs=20)
    # The palette keeps the limb colours, though they cover few pixels.
    with Image.open(out) as gif:
        gif.seek(10)
        frame = np.asarray(gif.convert("RGB"))
    assert orange(frame).sum() > 20 and blue(frame).sum() > 20


def test_a_60_fps_motion_is_resampled_to_30_fps_video(tmp_path):
    motion = bouncing_motion(60)
    motion.fps = 60.0
    _, n_frames = read_video(render_preview(motion, tmp_path / "m60.mp4", size=SMALL))
    assert n_frames == 30


# --- what is drawn ------------------------------------------------------------------------------

def test_rest_pose_stands_upright_head_on_top_feet_at_the_bottom():
    frame = np.asarray(render_frame(rest_motion(), 0, size=(320, 240)))
    # Skip the overlay: the text at the top-left and the progress bar on the bottom rows.
    body = frame[30:-4]
    rows, cols = rows_cols(drawn(body))
    assert rows.size > 300
    top, bottom = rows.min(), rows.max()
    assert 0.6 * 240 > bottom - top > 0.3 * 240  # a standing body, about half the frame tall
    # The topmost drawn pixels are the head's (white), the lowest are feet (a limb colour).
    assert white(body[top]).any() and not (orange(body[top]) | blue(body[top])).any()
    assert (orange(body[bottom]) | blue(body[bottom])).any()
    # Seen from the front, the body's left (orange) is on the image's right, its right (blue) on the left.
    assert np.nonzero(orange(body))[1].mean() > np.nonzero(blue(body))[1].mean() + 20
    # Centred by the camera.
    assert abs(cols.mean() - 160) < 30


def test_raised_arms_reach_above_the_head():
    motion = rest_motion()
    motion.poses[:, L_SHOULDER, 2], motion.poses[:, R_SHOULDER, 2] = 1.3, -1.3
    motion.poses[:, L_ELBOW, 2], motion.poses[:, R_ELBOW, 2] = 0.2, -0.2
    body = np.asarray(render_frame(Motion(motion.poses, motion.trans), 0, size=(320, 240)))[30:-4]
    head_top = np.nonzero(white(body).sum(axis=1) > 6)[0].min()  # the head's disc, not the small joint dots
    hands_top = np.nonzero((orange(body) | blue(body)).any(axis=1))[0].min()
    assert hands_top < head_top - 5


def test_camera_follows_a_dancer_who_walks_5_m():
    motion = rest_motion(90, trans_x=np.linspace(0.0, 5.0, 90))
    centres = []
    for i in (0, 45, 89):
        mask = drawn(np.asarray(render_frame(motion, i, size=(320, 240)))[30:-4])
        rows, cols = rows_cols(mask)
        assert rows.size > 300, f"frame {i}: the dancer is not in frame"
        assert cols.min() > 5 and cols.max() < 315, f"frame {i}: the dancer touches the frame's edge"
        centres.append(cols.mean())
    assert max(centres) - min(centres) < 80  # kept near the middle, not walking out of the picture
    # Without following, 5 m at about 5 m from the camera would move the dancer by most of the frame width.


def test_the_floor_moves_under_a_walking_dancer():
    still = np.asarray(render_frame(rest_motion(90), 45, size=SMALL)).astype(int)
    walking = np.asarray(render_frame(rest_motion(90, trans_x=np.linspace(0.0, 5.0, 90)), 45, size=SMALL)).astype(int)
    floor = slice(80, 112)  # rows of floor below the feet
    assert np.abs(still[floor] - walking[floor]).mean() > 5


# --- errors and atomic writes ------------------------------------------------------------------

def test_unknown_extension_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"\.mp4, \.gif"):
        render_preview(rest_motion(), tmp_path / "dance.avi")
    assert not list(tmp_path.iterdir())


def test_missing_and_undecodable_audio_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="audio not found"):
        render_preview(rest_motion(), tmp_path / "a.mp4", audio_path=tmp_path / "nope.wav", size=SMALL)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(InputError, match="cannot read audio"):
        render_preview(rest_motion(), tmp_path / "a.mp4", audio_path=bad, size=SMALL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.wav"]


def test_audio_named_like_a_url_is_read_as_a_file(tmp_path, song, monkeypatch):
    # ffmpeg reads "x:song.wav" as the protocol "x" unless told it is a file
    monkeypatch.chdir(tmp_path)
    Path("x:song.wav").write_bytes(song.read_bytes())
    meta, n_frames = read_video(render_preview(bouncing_motion(15), Path("a.mp4"), audio_path=Path("x:song.wav"), size=SMALL))
    assert n_frames == 15 and meta["audio_codec"] == "aac"


def test_non_finite_or_empty_motion_is_an_input_error(tmp_path):
    motion = rest_motion()
    motion.trans[3, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        render_preview(Motion(motion.poses, motion.trans), tmp_path / "a.mp4", size=SMALL)
    with pytest.raises(InputError, match="empty"):
        render_preview(rest_motion(0), tmp_path / "a.mp4", size=SMALL)


def test_interrupted_render_leaves_no_file(tmp_path):
    def interrupt(done, total):
        if done == 5:
            raise KeyboardInterrupt

    target = tmp_path / "dance.mp4"
    target.write_bytes(b"the previous preview")
    with pytest.raises(KeyboardInterrupt):
        render_preview(bouncing_motion(60), target, size=SMALL, progress=interrupt)
    assert [p.name for p in tmp_path.iterdir()] == ["dance.mp4"]
    assert target.read_bytes() == b"the previous preview"


@pytest.mark.parametrize("text", ["640", "640x", "axb", "641x480", "8x8", "640x480x3"])
def test_bad_sizes_are_input_errors(text):
    with pytest.raises(InputError):
        parse_size(text)


def test_sizes_parse():
    assert parse_size("640x480") == (640, 480)
    assert parse_size("320X240") == (320, 240)


# --- commands -----------------------------------------------------------------------------------

def run_cli(*args: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    return exit_info.value.code


def test_render_command_writes_and_keeps_existing_files(tmp_path, song, capsys):
    motion_path = tmp_path / "dance.npy"
    save_motion(bouncing_motion(30), motion_path)
    out = tmp_path / "dance.mp4"
    assert run_cli("render", str(motion_path), "--audio", str(song), "-o", str(out), "--size", "160x120") == 0
    meta, n_frames = read_video(out)
    assert (n_frames, meta["size"], meta["audio_codec"]) == (30, SMALL, "aac")
    assert "wrote" in capsys.readouterr().out

    before = out.read_bytes()
    assert run_cli("render", str(motion_path), "-o", str(out)) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert run_cli("render", str(motion_path), "-o", str(out), "--size", "160x120", "--force") == 0
    assert "audio_codec" not in read_video(out)[0]


def test_render_command_bad_input_is_one_line_exit_2(tmp_path, capsys):
    assert run_cli("render", str(tmp_path / "missing.npy"), "-o", str(tmp_path / "x.mp4")) == 2
    assert run_cli("render", str(tmp_path / "missing.npy"), "-o", str(tmp_path / "x.mp4"), "--size", "big") == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 2


def test_example_command_writes_the_song_and_refuses_to_overwrite(tmp_path, capsys):
    import soundfile as sf

    path = tmp_path / "song.wav"
    assert run_cli("example", str(path)) == 0
    info = sf.info(path)
    assert info.duration == pytest.approx(20.0, abs=0.01)
    assert "a2a generate" in capsys.readouterr().out
    path.write_bytes(b"mine")
    assert run_cli("example", str(path)) == 2
    assert "already exists" in capsys.readouterr().err and path.read_bytes() == b"mine"
    assert run_cli("example", str(path), "--force") == 0
    assert sf.info(path).frames == info.frames
    assert run_cli("example", str(tmp_path / "song.mp3")) == 2
