"""Protocol a2a/2: the models refuse what they must, the codecs round-trip, answers are checked."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from a2a_cli.chain import protocol
from a2a_cli.chain.protocol import GenerateRequest, ProtocolError
from a2a_cli.examples import synth_song
from a2a_cli.motion import Motion
from support.subnet_helpers import fast_generate, prompt_body


def _request(**changes) -> dict:
    body = json.loads(prompt_body(1.0))
    body.update(changes)
    return body


def test_a_valid_request_round_trips():
    body = prompt_body(2.5, seed=7, prompt_id="song-1:clip.2")
    request = protocol.parse_request(body)
    assert request.protocol == "a2a/2" and request.fps == 30 and request.seed == 7
    assert request.expected_frames == 75
    assert GenerateRequest.model_validate_json(request.model_dump_json()) == request


# The fields of an a2a/2 request before tasks: what a miner from then accepts (it refuses any other).
PRE_TASK_FIELDS = {"protocol", "prompt_id", "audio", "fps", "duration_s", "seed", "judge_version"}


@pytest.mark.parametrize("task", ["dance", "gesture"])
def test_a_request_round_trips_with_its_task(task):
    request = GenerateRequest(task=task, prompt_id="p", audio=protocol.encode_wav(np.zeros(22050, np.float32), 22050), duration_s=1.0)
    body = protocol.request_body(request)
    assert protocol.parse_request(body) == request and protocol.parse_request(body).task == task
    sent = set(json.loads(body))
    # a dance request is exactly what miners from before tasks parse; only another task names itself
    assert sent == PRE_TASK_FIELDS if task == "dance" else sent == PRE_TASK_FIELDS | {"task"}


def test_a_request_without_a_task_is_a_dance():
    old = json.loads(prompt_body(1.0))
    assert set(old) == PRE_TASK_FIELDS  # what validators wrote before tasks (and write for dance)
    assert protocol.parse_request(json.dumps(old).encode()).task == "dance"
    assert protocol.parse_request(json.dumps({**old, "task": "dance"}).encode()).task == "dance"


@pytest.mark.parametrize("body, tasks", [
    (b'{"status": "ok", "protocol": "a2a/2", "tasks": ["dance", "gesture"], "model": "choreo"}', ("dance", "gesture")),
    (b'{"tasks": ["gesture", "dance"]}', ("dance", "gesture")),  # in TASKS order
    (b'{"tasks": ["gesture"]}', ("gesture",)),
    (b'{"tasks": ["gesture", "juggling"]}', ("gesture",)),  # a newer miner's task is skipped, not an error
    (b'{"status": "ok", "protocol": "a2a/2", "model": "choreo"}', ("dance",)),  # a miner from before tasks
    (b'{"tasks": []}', ("dance",)),
    (b'{"tasks": "gesture"}', ("dance",)),
    (b'{"tasks": [1, 2]}', ("dance",)),
    (b"<html>not found</html>", ("dance",)),
    (b"[]", ("dance",)),
])
def test_the_tasks_a_miner_serves_are_read_from_its_health_answer(body, tasks):
    assert protocol.parse_capabilities(body) == tasks


@pytest.mark.parametrize("change, field", [
    ({"task": "juggling"}, "task"),
    ({"task": None}, "task"),
    ({"protocol": "a2a/1"}, "protocol"),  # the old version is not this one
    ({"fps": 60}, "fps"),
    ({"duration_s": 0.5}, "duration_s"),
    ({"duration_s": 601}, "duration_s"),
    ({"duration_s": float("nan")}, "duration_s"),
    ({"duration_s": True}, "duration_s"),  # a JSON number only: true is not 1 s
    ({"duration_s": "10"}, "duration_s"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**32}, "seed"),
    ({"prompt_id": "../../etc/passwd"}, "prompt_id"),
    ({"prompt_id": "x" * 129}, "prompt_id"),
    ({"smuggled": 1}, "smuggled"),
    ({"audio": {"encoding": "mp3-base64", "data": "AAAA"}}, "audio.encoding"),
    ({"audio": {"encoding": "url", "data": "https://example.com/" + "a" * 3000}}, "audio.data"),
])
def test_invalid_requests_are_refused_naming_the_field(change, field):
    body = json.dumps(_request(**change), allow_nan=True).encode()
    with pytest.raises(ProtocolError, match=f"^request is not a valid a2a/2 prompt: {field}"):
        protocol.parse_request(body)


def test_request_size_limit_is_checked_before_parsing():
    with pytest.raises(ProtocolError, match="exceeds the 1000-byte limit"):
        protocol.parse_request(b"{" + b" " * 1000 + b"}", max_bytes=1000)


def test_invalid_json_is_a_protocol_error_not_a_crash():
    with pytest.raises(ProtocolError, match="not a valid a2a/2 prompt"):
        protocol.parse_request(b"\xff\xfe not json")


@given(st.floats(min_value=1.0, max_value=600.0))
@settings(max_examples=200, deadline=None)
def test_expected_frames_is_round_duration_times_fps(duration_s):
    n = protocol.expected_frames(duration_s)
    assert abs(n - duration_s * 30) <= 0.5
    assert n == round(duration_s * 30)


def test_wav_round_trip_keeps_samples_to_16_bit_precision():
    sr = 15360
    song = synth_song(120.0, 2.0, sr=sr, seed=3) * 0.9
    samples, got_sr = protocol.decode_wav(protocol.encode_wav(song, sr))
    assert got_sr == sr and samples.dtype == np.float32 and samples.shape == song.shape
    assert np.max(np.abs(samples - song)) < 1.5 / 32768


def test_stereo_wav_is_mixed_to_mono():
    buf = io.BytesIO()
    left, right = np.full(1000, 0.5, np.float32), np.full(1000, -0.25, np.float32)
    sf.write(buf, np.stack([left, right], axis=1), 16000, format="WAV", subtype="FLOAT")
    payload = protocol.AudioPayload(encoding="wav-base64", data=base64.b64encode(buf.getvalue()).decode())
    samples, sr = protocol.decode_wav(payload)
    assert sr == 16000 and np.allclose(samples, 0.125)


@pytest.mark.parametrize("make, message", [
    (lambda: "not base64!!", "not valid base64"),
    (lambda: base64.b64encode(b"RIFF....WAVEjunk").decode(), "not a readable WAV"),
    (lambda: _encoded(np.zeros(4000, np.float32), 16000, "FLAC"), "must be WAV"),
    (lambda: _encoded(np.zeros(4000, np.float32), 4000, "WAV"), "sample rate 4000 Hz"),
    (lambda: _encoded(np.zeros((100, 3), np.float32), 16000, "WAV"), "3 channels"),
    (lambda: _encoded(np.full(100, np.nan, np.float32), 16000, "WAV", "FLOAT"), "NaN"),
])
def test_bad_audio_is_refused(make, message):
    with pytest.raises(ProtocolError, match=message) as refused:
        protocol.decode_wav(protocol.AudioPayload(encoding="wav-base64", data=make()))
    assert " at 0x" not in str(refused.value) and "object" not in str(refused.value)  # no memory address reaches a caller


def test_an_unreadable_wav_names_what_is_wrong_without_the_file_object():
    with pytest.raises(ProtocolError) as refused:
        protocol.decode_wav_bytes(b"RIFF....WAVEjunk")
    assert str(refused.value) == "audio is not a readable WAV: Error in WAV file. No 'data' chunk marker."


def test_an_integer_duration_is_a_number_and_keeps_its_value():
    assert protocol.parse_request(json.dumps(_request(duration_s=2)).encode()).duration_s == 2.0


@pytest.mark.parametrize("seconds, duration_s, ok", [(6.0, 6.0, True), (6.0, 6.03, True), (6.0, 6.05, False), (6.0, 600.0, False)])
def test_the_audio_must_last_the_duration_asked_for(seconds, duration_s, ok):
    samples = np.zeros(int(seconds * 16000), np.float32)
    if ok:
        protocol.check_audio_covers(samples, 16000, duration_s)
    else:
        with pytest.raises(ProtocolError, match=f"duration_s {duration_s:g} is longer than the audio \\(6.00 s\\)"):
            protocol.check_audio_covers(samples, 16000, duration_s)


def test_audio_longer_than_allowed_is_refused_from_its_header():
    payload = protocol.encode_wav(np.zeros(16000 * 3, np.float32), 16000)
    with pytest.raises(ProtocolError, match="3 s long; at most 2 s"):
        protocol.decode_wav(payload, max_duration_s=2.0)


def _encoded(samples, sr, fmt, subtype=None) -> str:
    buf = io.BytesIO()
    sf.write(buf, samples, sr, format=fmt, subtype=subtype)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize("encoding", ["npz-base64", "bvh"])
def test_motion_payload_round_trip(encoding):
    motion = fast_generate(np.zeros(10), 16000, 2.0, seed=1)
    back = protocol.decode_motion_payload(protocol.encode_motion_payload(motion, encoding))
    assert back.n_frames == 60 and back.fps == 30
    assert np.allclose(back.joints, motion.joints, atol=1e-3)


def _answer(motion: Motion, **changes) -> bytes:
    payload = protocol.encode_motion_payload(motion)
    return json.dumps({"motion": payload.model_dump(), "model": "test", "generation_s": 0.1, **changes}).encode()


def test_parse_response_accepts_exactly_the_frames_asked_for():
    request = protocol.parse_request(prompt_body(2.0))
    response, motion = protocol.parse_response(_answer(fast_generate(None, 0, 2.0, 0)), request)
    assert motion.n_frames == 60 and response.model == "test"
    with pytest.raises(ProtocolError, match="59 frames; 60 expected"):
        protocol.parse_response(_answer(fast_generate(None, 0, 59 / 30, 0)), request)


@pytest.mark.parametrize("body, message", [
    (b"not json at all", "not a valid a2a/2 answer"),
    (b'{"motion": {"encoding": "npz-base64", "data": "AAAA"}, "model": "m"}', "generation_s: Field required"),
    (b'{"motion": {"encoding": "pickle", "data": "AAAA"}, "model": "m", "generation_s": 1}', "motion.encoding"),
    (b'{"motion": {"encoding": "npz-base64", "data": "%%%"}, "model": "m", "generation_s": 1}', "not valid base64"),
    (b'{"motion": {"encoding": "npz-base64", "data": "AAAA"}, "model": "m", "generation_s": 1}', "motion does not decode"),
    (b'{"motion": {"encoding": "bvh", "data": "HIERARCHY nonsense"}, "model": "m", "generation_s": 1}', "motion does not decode"),
])
def test_malformed_answers_are_protocol_errors(body, message):
    request = protocol.parse_request(prompt_body(1.0))
    with pytest.raises(ProtocolError, match=message):
        protocol.parse_response(body, request)


def test_a_pickled_npz_answer_is_refused_not_unpickled():
    buf = io.BytesIO()
    np.savez(buf, poses=np.array([{"evil": 1}], dtype=object), trans=np.zeros((30, 3), np.float32))
    body = json.dumps({"motion": {"encoding": "npz-base64", "data": base64.b64encode(buf.getvalue()).decode()},
                       "model": "m", "generation_s": 1}).encode()
    with pytest.raises(ProtocolError, match="motion does not decode"):
        protocol.parse_response(body, protocol.parse_request(prompt_body(1.0)))


@pytest.mark.parametrize("decode", [
    lambda payload, request: protocol.decode_motion_payload(payload),
    lambda payload, request: protocol.parse_response(json.dumps(
        {"motion": payload.model_dump(), "model": "m", "generation_s": 1}).encode(), request),
])
def test_an_answer_of_joint_positions_without_rotations_is_refused(decode):
    """Positions alone would escape the rotation-speed gate: the wire format is npz with poses, or BVH."""
    request = protocol.parse_request(prompt_body(2.0))
    positions_only = Motion.from_joints(fast_generate(None, 0, 2.0, 0).joints, fps=30)
    payload = protocol.encode_motion_payload(positions_only)
    with pytest.raises(ProtocolError, match="no rotations"):
        decode(payload, request)


def test_oversized_answer_is_refused_before_parsing():
    request = protocol.parse_request(prompt_body(1.0))
    with pytest.raises(ProtocolError, match="exceeds the 100-byte limit"):
        protocol.parse_response(b"x" * 101, request, max_bytes=100)


def test_an_npz_answer_declaring_more_frames_than_asked_is_refused_before_it_is_inflated():
    """Issue 18: two 64 MiB members in 180 kB of zip cost a validator about 1 s and 264 MB before the
    frame count refused them. Each member is now capped by the frames asked for (30 here), from its
    declared size and its header, before it is decompressed."""
    import tracemalloc
    import zipfile

    request = protocol.parse_request(prompt_body(1.0))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, columns in (("poses", 72), ("trans", 3)):
            member = io.BytesIO()
            np.save(member, np.zeros((2**23 // (8 * columns), columns)))  # 8 MiB of zeros, inflated
            archive.writestr(f"{name}.npy", member.getvalue())
    payload = protocol.MotionPayload(encoding="npz-base64", data=base64.b64encode(buffer.getvalue()).decode())
    body = protocol.GenerateResponse(motion=payload, model="bomb", generation_s=0.1).model_dump_json().encode()
    assert len(body) < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(ProtocolError, match="member 'poses' declares .* over the .* cap"):
            protocol.parse_response(body, request)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * len(body)  # the answer's own bytes and their decoding, never the members inflated


def test_requests_carry_the_judges_version():
    """Validators tell miners which judge will score the answer (scoring.constants.JUDGE_VERSION)."""
    from a2a_cli.scoring import JUDGE_VERSION

    request = protocol.GenerateRequest(prompt_id="p1", audio=protocol.encode_wav(np.zeros(22050, np.float32), 22050),
                                       duration_s=1.0)
    assert request.judge_version == JUDGE_VERSION
    assert json.loads(request.model_dump_json())["judge_version"] == JUDGE_VERSION
    with pytest.raises(ValueError):
        protocol.GenerateRequest.model_validate({**json.loads(request.model_dump_json()), "judge_version": "2.0; rm -rf"})


class _Refusal(Exception):
    pass


def _read_response(status: int, headers: dict, chunks: list[bytes], max_bytes: int) -> bytes:
    """protocol.read_capped_response on an httpx response streaming `chunks`."""
    import asyncio

    import httpx

    class Chunks(httpx.AsyncByteStream):
        async def __aiter__(self):
            for chunk in chunks:
                yield chunk

    response = httpx.Response(status, headers=headers, stream=Chunks())
    return asyncio.run(protocol.read_capped_response(response, max_bytes, refused=_Refusal, over_limit=_Refusal("over")))


@pytest.mark.parametrize("status, headers, chunks, cap, outcome", [
    (200, {}, [b"ab", b"cd"], 4, b"abcd"),  # exactly the cap
    (200, {"content-length": "4"}, [b"abcd"], 4, b"abcd"),
    (200, {"content-encoding": "identity"}, [b"abcd"], 10, b"abcd"),
    (200, {}, [b"ab", b"cd", b"e"], 4, "over"),  # no declared length: counted while it streams
    (200, {"content-length": "5"}, [b"abcd"], 4, "over"),  # declared over the cap: refused before reading
    (200, {"content-length": "four"}, [b"abcd"], 4, "over"),
    (404, {}, [b"abcd"], 10, "HTTP 404"),
    (200, {"content-encoding": "gzip"}, [b"\x1f\x8b"], 10, "compressed content; only identity is accepted"),
])
def test_the_capped_response_read_refuses_what_it_cannot_bound(status, headers, chunks, cap, outcome):
    """The one capped HTTP read of the miner (audio URLs) and the validator (answers)."""
    if isinstance(outcome, bytes):
        assert _read_response(status, headers, chunks, cap) == outcome
    else:
        with pytest.raises(_Refusal) as refusal:
            _read_response(status, headers, chunks, cap)
        assert str(refusal.value) == outcome
