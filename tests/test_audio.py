"""The audio core: decoding, EDGE baseline features against librosa, tempo and beats, cache, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from a2a_cli.audio import FEATURE_SR, FPS, analyze, decode, file_sha256
from a2a_cli.audio import analysis as audio_analysis
from a2a_cli.audio import decoding as audio_decode
from a2a_cli.errors import InputError
from a2a_cli.examples import beat_times, synth_song

SR = 22050
TOLERANCE_S = 0.07


def f_measure(detected: np.ndarray, reference: np.ndarray, tol: float = TOLERANCE_S) -> float:
    """Beat F-measure with one-to-one matching inside +-tol (greedy in time, as mir_eval for sparse beats)."""
    if detected.size == 0 or reference.size == 0:
        return 0.0
    used = np.zeros(reference.size, dtype=bool)
    hits = 0
    for t in detected:
        dist = np.where(used, np.inf, np.abs(reference - t))
        k = int(np.argmin(dist))
        if dist[k] <= tol:
            used[k] = True
            hits += 1
    precision, recall = hits / detected.size, hits / reference.size
    return 0.0 if hits == 0 else 2 * precision * recall / (precision + recall)


# --- tempo and beats -------------------------------------------------------------------------

@pytest.mark.parametrize("bpm", [80.0, 100.0, 120.0, 140.0, 160.0])
def test_tempo_and_beats_follow_the_song(bpm):
    """Tempo within 2% and beat F >= 0.9 at the metrical level the tracker chose.

    Octave policy (as librosa, whose prior is centred on 120 BPM): the tracker may lock to twice
    or half the notated tempo (an 80 BPM groove with eighth-note hats reads as 160). We accept the
    level in {1/2, 1, 2} nearest to the estimate and judge tempo and beats against that grid.
    """
    duration, offset = 20.0, 0.37
    song = synth_song(bpm, duration, SR, seed=int(bpm), offset_s=offset)
    result = analyze(song, SR)
    level = min((0.5, 1.0, 2.0), key=lambda k: abs(np.log(result.tempo_bpm / (k * bpm))))
    assert result.tempo_bpm == pytest.approx(level * bpm, rel=0.02)
    if level < 1:  # every other beat: either phase is a correct half-time reading
        grids = [beat_times(bpm / 2, duration, offset), beat_times(bpm / 2, duration, offset + 60 / bpm)]
    else:
        grids = [beat_times(level * bpm, duration, offset)]
    assert max(f_measure(result.beat_times, g) for g in grids) >= 0.9
    assert level in (1.0, 2.0) and (level == 1.0 or bpm < 100)  # only slow songs double


def test_silence_has_no_beats_and_finite_features():
    result = analyze(np.zeros(3 * SR, dtype=np.float32), SR)
    assert result.tempo_bpm == 0.0
    assert result.beat_frames.size == 0
    assert result.features.shape == (90, 35)
    assert np.all(np.isfinite(result.features))
    assert not result.features[:, 33:].any()


# --- features against librosa's EDGE path ----------------------------------------------------

def _edge_reference(y: np.ndarray):
    """EDGE's baseline_features.py calls (librosa), with librosa's default tempo prior of 120 BPM."""
    librosa = pytest.importorskip("librosa")
    env = librosa.onset.onset_strength(y=y, sr=FEATURE_SR)
    mfcc = librosa.feature.mfcc(y=y, sr=FEATURE_SR, n_mfcc=20).T
    chroma = librosa.feature.chroma_cens(y=y, sr=FEATURE_SR, hop_length=512, n_chroma=12).T
    peaks = librosa.onset.onset_detect(onset_envelope=env, sr=FEATURE_SR, hop_length=512)
    tempo, beats = librosa.beat.beat_track(onset_envelope=env, sr=FEATURE_SR, hop_length=512, start_bpm=120, tightness=100)
    onehots = np.zeros((env.size, 2), dtype=np.float32)
    onehots[peaks, 0] = 1
    onehots[beats, 1] = 1
    return np.concatenate([env[:, None], mfcc, chroma, onehots], axis=1), float(np.atleast_1d(tempo)[0])


# Every test that runs librosa is in this xdist group (one worker): importing librosa compiles its numba
# kernels, 25-35 s in a fresh environment, once per process (cached on disk only when it is done).
@pytest.mark.xdist_group("librosa")
@pytest.mark.parametrize("bpm", [100.0, 140.0])
def test_features_match_librosa_edge_path(tmp_path, bpm):
    """Measured: every column group agrees to rounding (corr 0.99999999+, chroma cosine 1.0000)."""
    librosa = pytest.importorskip("librosa")
    path = tmp_path / "song.wav"
    sf.write(path, synth_song(bpm, 8.0, SR, seed=7, offset_s=0.2), SR)
    ours = analyze(path)
    y, _ = librosa.load(path, sr=FEATURE_SR)
    ref, ref_tempo = _edge_reference(y)
    n = ours.n_frames
    assert ref.shape[0] == n + 1  # librosa's centred framing has one extra frame; we trim to 30 fps * duration
    ref = ref[:n]
    ours_f = ours.features

    def corr(a, b):
        return np.corrcoef(a.ravel(), b.ravel())[0, 1]

    assert corr(ours_f[:, 0], ref[:, 0]) >= 0.999
    assert np.abs(ours_f[:, 0] - ref[:, 0]).max() < 1e-3
    assert min(corr(ours_f[:, 1 + k], ref[:, 1 + k]) for k in range(20)) >= 0.999
    cosine = (ours_f[:, 21:33] * ref[:, 21:33]).sum(1) / (
        np.linalg.norm(ours_f[:, 21:33], axis=1) * np.linalg.norm(ref[:, 21:33], axis=1)
    )
    assert cosine.mean() >= 0.999
    assert (ours_f[:, 33] == ref[:, 33]).mean() >= 0.98
    assert (ours_f[:, 34] == ref[:, 34]).mean() >= 0.98
    assert ours.features[:, 34].sum() > 5
    # our reported tempo refines librosa's integer-lag tempo: within one lag step of it
    assert ours.tempo_bpm == pytest.approx(ref_tempo, rel=0.05)
    # RMS as librosa.feature.rms
    np.testing.assert_allclose(ours.rms, librosa.feature.rms(y=y)[0, :n], rtol=1e-3, atol=1e-6)


@settings(max_examples=12, deadline=None)
@given(
    sr=st.sampled_from([8000, 16000, 22050, 44100, 48000]),
    duration=st.floats(0.05, 2.5),
    channels=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**16),
)
def test_any_clip_gives_one_row_per_frame(sr, duration, channels, seed):
    rng = np.random.default_rng(seed)
    n = int(round(duration * sr))
    samples = (0.3 * rng.standard_normal((n, channels))).astype(np.float32)
    result = analyze(samples if channels == 2 else samples[:, 0], sr)
    n_frames = int(round(n / sr * FPS))
    assert result.features.shape == (n_frames, 35) == (result.n_frames, 35)
    assert result.features.dtype == np.float32 and np.all(np.isfinite(result.features))
    assert set(np.unique(result.features[:, 33:])) <= {0.0, 1.0}
    np.testing.assert_array_equal(result.onset_env, result.features[:, 0])
    assert result.rms.shape == (n_frames,) and np.all(result.rms >= 0)
    assert np.all((result.beat_frames >= 0) & (result.beat_frames < n_frames))
    np.testing.assert_array_equal(np.flatnonzero(result.features[:, 34]), result.beat_frames)
    chroma_norms = np.linalg.norm(result.features[:, 21:33], axis=1)
    assert np.all((np.abs(chroma_norms - 1) < 1e-4) | (chroma_norms == 0))


# --- decoding ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def song_files(tmp_path_factory):
    """The same 10-second song as wav, flac, ogg and mp3."""
    folder = tmp_path_factory.mktemp("formats")
    song = synth_song(124.0, 10.0, SR, seed=3)
    paths = {}
    for ext in ("wav", "flac", "ogg", "mp3"):
        paths[ext] = folder / f"song.{ext}"
        sf.write(paths[ext], song, SR)
    return paths


def test_formats_decode_to_the_same_audio(song_files):
    wav, sr = decode(song_files["wav"])
    assert sr == FEATURE_SR and wav.dtype == np.float32 and wav.size == 10 * FEATURE_SR
    reference = analyze(song_files["wav"])
    for ext, min_corr in (("flac", 0.99999), ("ogg", 0.995), ("mp3", 0.995)):
        samples, _ = decode(song_files[ext])
        assert samples.size == wav.size, ext
        assert np.corrcoef(samples, wav)[0, 1] >= min_corr, ext  # aligned: no decoder delay left
        result = analyze(song_files[ext])
        assert result.n_frames == reference.n_frames == 300
        assert np.corrcoef(result.features[:, 1:21].ravel(), reference.features[:, 1:21].ravel())[0, 1] >= 0.98, ext
        assert f_measure(result.beat_times, reference.beat_times) >= 0.9, ext


def test_stereo_is_mixed_to_mono(tmp_path):
    left = synth_song(110.0, 2.0, SR, seed=1)
    right = 0.5 * synth_song(110.0, 2.0, SR, seed=2)
    sf.write(tmp_path / "st.wav", np.stack([left, right], axis=1), SR, subtype="FLOAT")
    sf.write(tmp_path / "mono.wav", (left + right) / 2, SR, subtype="FLOAT")
    stereo, _ = decode(tmp_path / "st.wav")
    mono, _ = decode(tmp_path / "mono.wav")
    np.testing.assert_allclose(stereo, mono, atol=1e-6)


@pytest.mark.parametrize("ext", ["wav", "mp3"])
def test_cut_equals_the_same_span_of_the_whole(song_files, ext):
    whole, _ = decode(song_files[ext])
    part, _ = decode(song_files[ext], start_s=3.0, duration_s=4.0)
    assert part.size == 4 * FEATURE_SR
    span = whole[3 * FEATURE_SR : 7 * FEATURE_SR]
    edge = FEATURE_SR // 20  # resampling a cut differs from the whole only near its ends
    np.testing.assert_allclose(part[edge:-edge], span[edge:-edge], atol=2e-3)
    result = analyze(song_files[ext], start_s=3.0, duration_s=4.0)
    assert result.n_frames == 120 and result.duration_s == pytest.approx(4.0)


def test_a_cut_just_past_the_end_is_padded_to_the_asked_length(song_files):
    result = analyze(song_files["flac"], start_s=9.0, duration_s=1.07)
    assert result.duration_s == pytest.approx(1.07, abs=1 / SR) and result.features.shape == (32, 35)
    samples, _ = decode(song_files["flac"], start_s=9.0, duration_s=1.07)
    assert abs(samples.size - 1.07 * FEATURE_SR) <= 1 and not samples[-FEATURE_SR // 50 :].any()
    array_result = analyze(synth_song(120.0, 2.0, SR), SR, start_s=1.0, duration_s=1.08)
    assert array_result.n_frames == round(1.08 * FPS) == array_result.features.shape[0]


def test_sha256_names_the_file_bytes(song_files):
    import hashlib

    data = song_files["flac"].read_bytes()
    assert file_sha256(song_files["flac"]) == hashlib.sha256(data).hexdigest()
    assert analyze(song_files["flac"]).sha256 == hashlib.sha256(data).hexdigest()


# --- bad input -----------------------------------------------------------------------------

def _truncated_mp3(song_files, tmp_path):
    data = song_files["mp3"].read_bytes()
    path = tmp_path / "truncated.mp3"
    path.write_bytes(data[: len(data) // 2])
    return path


def _garbled_mp3(song_files, tmp_path):
    data = song_files["mp3"].read_bytes()
    noise = np.random.default_rng(0).integers(0, 256, len(data) - 1000, dtype=np.uint8).tobytes()
    path = tmp_path / "garbled.mp3"
    path.write_bytes(data[:1000] + noise)
    return path


def _zero_length(song_files, tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), SR)
    return path


def _write(name, content):
    def make(song_files, tmp_path):
        path = tmp_path / name
        path.write_bytes(content)
        return path

    return make


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda s, t: t / "missing.mp3", "not found"),
        (lambda s, t: t, "is a directory"),
        (_write("empty.mp3", b""), "empty"),
        (_write("notes.mp3", b"just some text, not audio\n" * 50), "not a readable audio file"),
        (_truncated_mp3, "truncated"),
        (_garbled_mp3, "corrupt"),
        (_zero_length, "no audio samples"),
    ],
    ids=["missing", "directory", "empty", "text", "truncated-mp3", "garbled-mp3", "zero-length"],
)
def test_bad_files_give_one_line_input_errors(song_files, tmp_path, make, message):
    path = make(song_files, tmp_path)
    for call in (lambda: decode(path), lambda: analyze(path)):
        with pytest.raises(InputError, match=message) as info:
            call()
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("make", [_truncated_mp3, _garbled_mp3], ids=["truncated-mp3", "garbled-mp3"])
def test_bad_mp3_through_the_cli_prints_one_line(song_files, tmp_path, make):
    """libmpg123's own warnings on fd 2 stay out of the terminal: the user sees our one error line."""
    import subprocess
    import sys

    motion = tmp_path / "dance.npy"
    np.save(motion, np.zeros((300, 75), dtype=np.float32))
    done = subprocess.run(
        [sys.executable, "-m", "a2a_cli", "score", str(motion), "--audio", str(make(song_files, tmp_path))],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error: ") and ("truncated" in done.stderr or "corrupt" in done.stderr)


def test_muting_mpg123_restores_stderr_and_logs_its_text(song_files, tmp_path, caplog, capfd):
    with caplog.at_level("DEBUG", logger="a2a.audio"), pytest.raises(InputError, match="truncated"):
        decode(_truncated_mp3(song_files, tmp_path))
    assert "Xing stream size" in caplog.text  # kept in the debug log, not lost
    assert capfd.readouterr().err == ""
    import os

    os.write(2, b"still wired\n")  # fd 2 points at the real stderr again
    assert capfd.readouterr().err == "still wired\n"


@pytest.mark.parametrize(
    "cut, message",
    [
        ({"start_s": 12.0}, "beyond the end"),
        ({"start_s": 8.0, "duration_s": 5.0}, "ends beyond the end"),
        ({"start_s": -1.0}, "start must be"),
        ({"duration_s": 0.0}, "duration must be"),
        ({"duration_s": 0.01}, "too short"),
    ],
)
def test_impossible_cuts_are_input_errors(song_files, cut, message):
    with pytest.raises(InputError, match=message):
        analyze(song_files["wav"], **cut)


def test_size_and_length_caps(song_files, monkeypatch):
    monkeypatch.setattr(audio_decode, "MAX_FILE_BYTES", 1000)
    with pytest.raises(InputError, match="too large"):
        decode(song_files["flac"])
    monkeypatch.undo()
    monkeypatch.setattr(audio_decode, "MAX_SECONDS", 5.0)
    with pytest.raises(InputError, match="too long"):
        decode(song_files["wav"])
    assert decode(song_files["wav"], duration_s=4.0)[0].size == 4 * FEATURE_SR  # a cut under the cap is fine


def test_bad_sample_arrays():
    with pytest.raises(InputError, match="sample rate"):
        analyze(np.zeros(1000, dtype=np.float32))
    with pytest.raises(InputError, match="NaN"):
        analyze(np.full(SR, np.nan, dtype=np.float32), SR)
    with pytest.raises(InputError, match="too loud"):  # finite samples whose power overflows float32
        analyze(np.full(SR, 1e38, dtype=np.float32), SR)
    with pytest.raises(InputError, match="shape"):
        analyze(np.zeros((2, 3, 4), dtype=np.float32), SR)


def test_cached_windows_and_filter_banks_are_read_only():
    """They are shared by every analysis in the process: a caller writing into one must fail loudly."""
    from a2a_cli.audio import chroma, spectral

    before = analyze(synth_song(120, 2.0, 22050, seed=4), 22050).features
    shared = [spectral.hann(2048), spectral.hann(1), spectral.hann(9, periodic=False), spectral.mel_filterbank(float(FEATURE_SR)),
              spectral.dct_matrix(), chroma._cq_to_chroma(), chroma._octave_basis(float(FEATURE_SR), 1000.0)[0]]
    for array in shared:
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0
    after = analyze(synth_song(120, 2.0, 22050, seed=4), 22050).features  # nothing needs to write into them
    np.testing.assert_array_equal(after, before)


# --- cache ---------------------------------------------------------------------------------

def test_cache_hit_returns_identical_results_without_recomputing(song_files, tmp_path, monkeypatch):
    first = analyze(song_files["ogg"], start_s=1.0, duration_s=5.0, cache_dir=tmp_path)
    entries = list(tmp_path.glob("*.npz"))
    assert len(entries) == 1 and entries[0].name.startswith(first.sha256)

    def no_compute(*args, **kwargs):
        raise AssertionError("a cache hit must not recompute")

    monkeypatch.setattr(audio_analysis, "compute", no_compute)
    second = analyze(song_files["ogg"], start_s=1.0, duration_s=5.0, cache_dir=tmp_path)
    for name in ("features", "onset_env", "rms", "beat_frames"):
        np.testing.assert_array_equal(getattr(second, name), getattr(first, name))
        assert getattr(second, name).dtype == getattr(first, name).dtype
    assert (second.tempo_bpm, second.duration_s, second.sha256) == (first.tempo_bpm, first.duration_s, first.sha256)
    with pytest.raises(AssertionError, match="must not recompute"):  # another cut is another entry
        analyze(song_files["ogg"], start_s=2.0, duration_s=5.0, cache_dir=tmp_path)


def _bad_entry(kind: str, entry) -> None:
    if kind == "garbage":
        entry.write_bytes(b"not an npz at all")
        return
    if kind == "bad-zip":  # starts like a zip, so np.load hands it to zipfile
        entry.write_bytes(b"PK\x03\x04 then garbage")
        return
    if kind == "encrypted":  # one bit of a member's central-directory flags: zipfile raises RuntimeError
        data = bytearray(entry.read_bytes())
        data[data.index(b"PK\x01\x02") + 8] |= 0x1
        entry.write_bytes(bytes(data))
        return
    with np.load(entry, allow_pickle=False) as data:
        fields = dict(data)
    if kind == "wrong-shape":
        fields["features"] = fields["features"][:, :30]
    else:  # an entry written by another feature version
        fields["version"] = np.array(fields["version"] + 1)
    np.savez(entry, **fields)


@pytest.mark.parametrize("kind", ["garbage", "bad-zip", "encrypted", "wrong-shape", "old-version"])
def test_bad_cache_entry_is_ignored_and_rewritten(song_files, tmp_path, kind):
    first = analyze(song_files["flac"], duration_s=3.0, cache_dir=tmp_path)
    (entry,) = tmp_path.glob("*.npz")
    _bad_entry(kind, entry)
    again = analyze(song_files["flac"], duration_s=3.0, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.features, first.features)
    with np.load(entry, allow_pickle=False) as data:
        np.testing.assert_array_equal(data["features"], first.features)


def test_without_a_cache_dir_nothing_is_cached_and_results_are_read_only(song_files, tmp_path, monkeypatch):
    """The library caches only where its caller says: no environment variable or user folder sneaks in."""
    from a2a_cli.audio import cache as feature_cache

    def touch_cache(*args):
        raise AssertionError("analyze without cache_dir must not touch the cache")

    for name in ("A2A_GENERAL_CACHE_DIR", "A2A_CACHE_DIR", "XDG_CACHE_HOME", "HOME"):
        monkeypatch.setenv(name, str(tmp_path))
    monkeypatch.setattr(feature_cache, "load", touch_cache)
    monkeypatch.setattr(feature_cache, "store", touch_cache)
    result = analyze(song_files["wav"], duration_s=2.0)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError):
        result.features[0, 0] = 1.0
