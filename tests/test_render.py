"""Previews: real mp4/GIF files read back, pixels of drawn frames, the following camera, errors,
atomic writes, and the `a2a render` / `a2a example` commands."""

from __future__ import annotations

from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import binary_erosion

from a2a_cli.cli.app import main
from a2a_cli.errors import InputError
from a2a_cli.examples import synth_song
from a2a_cli.motion import Motion
from a2a_cli.motion.formats import save_motion
from a2a_cli.motion.skeleton import L_ELBOW, L_HAND, L_KNEE, L_SHOULDER, L_WRIST, R_ELBOW, R_HAND, R_KNEE, R_SHOULDER, R_WRIST
from a2a_cli.render import parse_size, render_frame, render_preview
from a2a_cli.render.body import stature
from a2a_cli.render.stage import follow_path
from render_support import blue, frame_and_body, frames_folder, grey, luminance, orange

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

@pytest.fixture(scope="module")
def frames(tmp_path_factory) -> Path:
    return frames_folder(tmp_path_factory)


def save(frame: np.ndarray, folder: Path, name: str) -> None:
    Image.fromarray(frame).save(folder / f"{name}.png")


def rest_joints(height_scale: float = 1.0) -> np.ndarray:
    """Joint positions (24, 3) of the rest pose standing on y = 0, scaled about the floor."""
    joints = rest_motion(1).joints[0].astype(np.float64)
    joints[:, 1] -= joints[:, 1].min() - 0.04
    return joints * height_scale


def test_rest_pose_stands_upright_head_on_top_feet_at_the_bottom(frames):
    frame, body = frame_and_body(rest_motion(), 0)
    save(frame, frames, "rest_pose_320x240")
    rows, cols = np.nonzero(body)
    top, bottom = rows.min(), rows.max()
    # The topmost pixels are the head's (neutral), the lowest are feet (a limb colour).
    head, feet = slice(top, top + 4), slice(bottom - 3, bottom + 1)
    assert grey(frame[head], body[head]).any() and not (orange(frame[head]) | blue(frame[head])).any()
    assert (orange(frame[feet]) | blue(frame[feet])).any()
    # Seen from the front, the body's left (orange) is on the image's right, its right (blue) on the left.
    assert np.nonzero(orange(frame) & body)[1].mean() > np.nonzero(blue(frame) & body)[1].mean() + 25
    assert abs(cols.mean() - 160) < 20  # centred by the camera


@pytest.mark.parametrize("scale", [1.0, 0.6])
@pytest.mark.parametrize("size", [(320, 240), (640, 480)])
def test_the_dancer_fills_60_percent_of_the_frame_height(frames, scale, size):
    # Framed from the dancer's own height: a child (0.6 of the size) fills the frame as much.
    motion = Motion.from_joints(np.repeat(rest_joints(scale)[None], 10, axis=0))
    frame, body = frame_and_body(motion, 5, size=size)
    save(frame, frames, f"height_x{scale:g}_{size[0]}x{size[1]}")
    rows = np.nonzero(body.any(axis=1))[0]
    assert 0.56 < (rows.max() - rows.min() + 1) / size[1] < 0.64
    assert abs((rows.max() + rows.min()) / 2 - size[1] / 2) < 0.06 * size[1]  # and is in the middle


def test_the_upper_framing_shows_a_speaker_from_the_hips_up_larger_and_more_from_the_front(frames):
    # For gesture: the head near the top, the chest in the middle, the legs running out of the bottom,
    # and everything about twice the size of the full framing's.
    sizes = {}
    for framing in ("full", "upper"):
        frame, body = frame_and_body(rest_motion(), 0, framing=framing)
        save(frame, frames, f"rest_pose_{framing}_320x240")
        rows = np.nonzero(body.any(axis=1))[0]
        arms = np.nonzero((orange(frame) | blue(frame)).any(axis=1) & body.any(axis=1))[0]
        sizes[framing] = arms.min() - rows.min()  # from the crown to the arms (a T-pose): the head and neck
        if framing == "upper":
            assert 0.02 * 240 < rows.min() < 0.15 * 240  # the whole head is in, near the top
            assert body[-2:].any()  # the legs leave the frame at the bottom
            cols = np.nonzero(body)[1]
            assert abs(np.median(cols) - 160) < 16  # centred
    assert 1.8 < sizes["upper"] / sizes["full"] < 2.8
    with pytest.raises(InputError, match="unknown framing"):
        render_frame(rest_motion(), 0, size=SMALL, framing="portrait")


def test_stature_does_not_change_with_the_pose():
    # Framing follows the dancer's size: a crouch or a dance on the floor is not zoomed in.
    standing = rest_motion(3)
    crouched = rest_motion(3)
    crouched.poses[:, [L_KNEE, R_KNEE], 0] = 2.0
    crouched.poses[:, [1, 2], 0] = -1.5  # hips
    lying = rest_motion(3)
    lying.poses[:, 0, 0] = np.pi / 2
    lying.trans[:, 1] = 0.15
    height = stature(standing.joints)
    assert 1.6 < height < 1.9
    for motion in (crouched, lying):
        motion = Motion(motion.poses, motion.trans)
        assert stature(motion.joints) == pytest.approx(height, rel=1e-3)
        assert np.ptp(motion.joints[0, :, 1]) < 0.8 * height  # really not standing
    assert stature(rest_joints(0.6)[None]) == pytest.approx(0.6 * height, rel=1e-3)


def test_the_body_is_shaded_lit_from_the_upper_left(frames):
    frame, body = frame_and_body(rest_motion(), 0, size=(640, 480))
    light = luminance(frame)
    # The head, a sphere (about 36 pixels across here): the neutral pixels of its top rows, less its rim.
    rows = np.nonzero(body.any(axis=1))[0]
    head = grey(frame, binary_erosion(body, iterations=2))
    head[rows.min() + 30 :] = False
    ys, xs = np.nonzero(head)
    cy, cx = ys.mean(), xs.mean()
    upper_left = light[head & (np.arange(480)[:, None] < cy) & (np.arange(640)[None, :] < cx)]
    lower_right = light[head & (np.arange(480)[:, None] > cy) & (np.arange(640)[None, :] > cx)]
    assert upper_left.size > 50 and lower_right.size > 50
    assert upper_left.mean() > lower_right.mean() + 50
    # Across the whole torso and head: a range of light from shadow to highlight, not a flat colour.
    torso = light[grey(frame, body)]
    assert np.percentile(torso, 95) - np.percentile(torso, 5) > 100
    assert torso.max() > 245  # a highlight


def crossed_forearms(right_depth_m: float, left_depth_m: float) -> Motion:
    """Both forearms held in front of the chest in an X, each at its own distance in front of it."""
    j = rest_joints()
    chest = j[L_SHOULDER, 1] - 0.1
    for side, elbow, wrist, hand, depth in ((-1, R_ELBOW, R_WRIST, R_HAND, right_depth_m), (1, L_ELBOW, L_WRIST, L_HAND, left_depth_m)):
        j[elbow] = [0.28 * side, chest - 0.12, depth]
        j[wrist] = [-0.12 * side, chest + 0.1, depth]
        j[hand] = [-0.18 * side, chest + 0.13, depth]
    return Motion.from_joints(np.repeat(j[None], 10, axis=0))


def test_a_limb_in_front_covers_a_limb_behind(frames):
    right_front, _ = frame_and_body(crossed_forearms(0.42, 0.3), 5, size=(640, 480))
    left_front, _ = frame_and_body(crossed_forearms(0.3, 0.42), 5, size=(640, 480))
    save(right_front, frames, "crossed_right_in_front")
    save(left_front, frames, "crossed_left_in_front")
    # Where the forearms cross, the nearer one is drawn: the same pixels turn from blue to orange.
    flipped = blue(right_front) & orange(left_front)
    assert flipped.sum() > 60
    ys, xs = np.nonzero(flipped)
    assert np.ptp(ys) < 40 and np.ptp(xs) < 40  # one crossing, not the arms' outlines
    assert not (orange(right_front) & blue(left_front))[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].any()


def test_an_arm_in_front_of_the_chest_covers_it_and_behind_the_back_is_hidden(frames):
    def reach_across(depth_m: float) -> Motion:
        j = rest_joints()
        chest = j[R_SHOULDER, 1] - 0.12
        j[R_ELBOW] = [-0.2, chest, depth_m]
        j[R_WRIST] = [0.15, chest, depth_m]
        j[R_HAND] = [0.22, chest, depth_m]
        return Motion.from_joints(np.repeat(j[None], 10, axis=0))

    in_front, _ = frame_and_body(reach_across(0.25), 5, size=(640, 480))
    behind, behind_body = frame_and_body(reach_across(-0.3), 5, size=(640, 480))
    save(in_front, frames, "arm_in_front_of_chest")
    save(behind, frames, "arm_behind_back")
    covered = blue(in_front) & grey(behind, behind_body)
    assert covered.sum() > 200  # chest pixels that the arm in front covers


def test_raised_arms_reach_above_the_head(frames):
    motion = rest_motion()
    motion.poses[:, L_SHOULDER, 2], motion.poses[:, R_SHOULDER, 2] = 1.3, -1.3
    motion.poses[:, L_ELBOW, 2], motion.poses[:, R_ELBOW, 2] = 0.2, -0.2
    frame, body = frame_and_body(Motion(motion.poses, motion.trans), 0)
    save(frame, frames, "raised_arms")
    head_top = np.nonzero(grey(frame, binary_erosion(body, iterations=2)).any(axis=1))[0].min()  # not the hands' rims
    hands_top = np.nonzero((orange(frame) | blue(frame)).any(axis=1))[0].min()
    assert hands_top < head_top - 5


def test_the_camera_path_smooths_a_shaking_root_and_keeps_up_with_a_walk():
    rng = np.random.default_rng(0)
    walk = np.column_stack([np.linspace(0.0, 5.0, 150), np.zeros(150)])
    shaking = walk + rng.normal(0.0, 0.05, walk.shape)
    path = follow_path(shaking, fps=30.0)
    jitter_in = np.diff(shaking - walk, axis=0).std()
    jitter_out = np.diff(path - walk, axis=0).std()
    assert jitter_out < jitter_in / 20  # steps of the camera: the walk's, not the shaking's
    assert np.abs(path - walk)[15:-15].max() < 0.05  # no lag behind a steady walk


def test_camera_follows_a_dancer_who_walks_5_m(frames):
    motion = rest_motion(90, trans_x=np.linspace(0.0, 5.0, 90))
    centres = []
    for i in (0, 45, 89):
        frame, body = frame_and_body(motion, i)
        rows, cols = np.nonzero(body)
        assert rows.size > 300, f"frame {i}: the dancer is not in frame"
        assert cols.min() > 5 and cols.max() < 315, f"frame {i}: the dancer touches the frame's edge"
        centres.append(cols.mean())
    save(frame, frames, "walked_5_m")
    assert max(centres) - min(centres) < 40  # kept near the middle, not walking out of the picture


def test_the_floor_moves_under_a_walking_dancer():
    still = np.asarray(render_frame(rest_motion(90), 45, size=SMALL)).astype(int)
    walking = np.asarray(render_frame(rest_motion(90, trans_x=np.linspace(0.0, 5.0, 90)), 45, size=SMALL)).astype(int)
    floor = slice(100, 116)  # rows of floor in front of the feet
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


def test_render_command_refuses_a_start_past_the_music_and_warns_when_it_runs_out(tmp_path, song, capsys):
    """`--start 400` past the end of a song, or 4 s of music for a longer dance, rendered without a
    word; `a2a generate` refuses the same (issue 19, 11)."""
    motion_path = tmp_path / "dance.npy"
    save_motion(bouncing_motion(150), motion_path)  # 5 s, the song 4 s
    out = tmp_path / "dance.mp4"
    assert run_cli("render", str(motion_path), "--audio", str(song), "--start", "4", "-o", str(out)) == 2
    assert capsys.readouterr().err == f"error: --start 4 s is past the end of {song} (4.0 s long)\n"
    assert not out.exists()
    assert run_cli("render", str(motion_path), "--audio", str(song), "--start", "1.5", "-o", str(out), "--size", "32x24") == 0
    err = capsys.readouterr().err
    assert err == f"warning: {song} has 2.5 s of music from 1.5 s, the dance lasts 5.0 s: its last 2.5 s are silent\n"
    assert read_video(out)[1] == 150  # rendered whole all the same, the rest silent
    assert run_cli("render", str(motion_path), "--audio", str(song), "-o", str(out), "--size", "32x24", "--force") == 0
    assert "1.0 s are silent" in capsys.readouterr().err
    save_motion(bouncing_motion(60), motion_path)  # 2 s: the music covers it
    assert run_cli("render", str(motion_path), "--audio", str(song), "--start", "2", "-o", str(out), "--size", "32x24", "--force") == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("fps", ["0", "-5", "121", "nan"])
def test_render_command_refuses_an_fps_out_of_range(tmp_path, capsys, fps):
    motion_path = tmp_path / "dance.npy"
    save_motion(bouncing_motion(10), motion_path)
    assert run_cli("render", str(motion_path), "-o", str(tmp_path / "x.mp4"), "--fps", fps) == 2
    err = capsys.readouterr().err
    assert "fps must be between 1 and 120" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.mp4").exists()


def test_example_command_prints_the_next_command_on_one_line_in_a_pipe(tmp_path):
    import os
    import subprocess
    import sys

    path = tmp_path / "a_folder_name_long_enough_to_push_the_line_past_eighty_columns" / "song.wav"
    path.parent.mkdir()
    done = subprocess.run([sys.executable, "-m", "a2a_cli", "example", str(path)], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, COLUMNS=""))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and f"a2a generate {path} --preview song.mp4" in done.stdout


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
