"""Protocol a2a/2 between validators and miners (DESIGN §7): the JSON bodies, their limits, their codecs.

A validator POSTs a `GenerateRequest` to `GENERATE_PATH` on a miner, signed with
`a2a_cli.chain.auth` (a2a/2: the signature travels in the headers and covers the body's hash, so a
miner knows who sends a request before it reads the body); the miner answers a `GenerateResponse`. Both sides enforce the size limits
here, so neither can be made to hold more than a bounded amount of the other's data. Every check
that depends on the content (the audio decodes, the motion has exactly the frames asked for)
lives here too, so the miner and the validator apply the same rules.

A validator's side of one exchange:

    request = GenerateRequest(prompt_id="p1", audio=encode_wav(samples, sr), duration_s=10.0, seed=7)
    body = request_body(request)  # JSON; a dance request leaves `task` out (see Tasks below)
    headers = auth.sign_request(wallet, method="POST", path=GENERATE_PATH, body=body, receiver_hotkey=neuron.hotkey, timeout_s=60.0)
    transport = httpx.AsyncHTTPTransport(socket_options=CLIENT_SOCKET_OPTIONS)
    # stream the answer and stop reading past MAX_RESPONSE_BYTES, then:
    response, motion = parse_response(raw, request)  # ProtocolError: the answer scores 0

**Tasks** (a2a_cli.tasks). A request carries the `task` it asks for: `dance` (music in) or
`gesture` (speech in); the answer is a Motion either way. A request without `task` is a dance, so
requests from validators that predate tasks still parse. A validator sends `request_body(request)`,
which leaves `task` out of dance requests: miners that predate tasks refuse unknown fields, and so
keep receiving exactly the a2a/2 dance requests they know. A miner says which tasks it serves in its
health answer (`GET /v1/health`, `"tasks": [...]`, read with `parse_capabilities`); a miner whose
health answer names none (every miner before tasks) serves dance alone, and is sent nothing else.
Tasks are an addition to a2a/2, not a new version: every a2a/2 peer, old or new, keeps talking to
every other, and a task is asked only of a miner that says it serves it.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
from collections.abc import AsyncIterable, Callable
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from a2a_cli.errors import InputError
from a2a_cli.frame_rate import FPS
from a2a_cli.generation.base import MAX_DURATION_S, MIN_DURATION_S, expected_frames  # DESIGN §5, re-exported
from a2a_cli.scoring.constants import JUDGE_VERSION
from a2a_cli.tasks import DANCE, TASKS, Task

if TYPE_CHECKING:
    import httpx
    import numpy as np

    from a2a_cli.motion import Motion

__all__ = ["CLIENT_SOCKET_OPTIONS", "DEFAULT_MOTION_ENCODING", "FPS", "GENERATE_PATH", "HEALTH_PATH", "MAX_DURATION_S", "MAX_REQUEST_BYTES",
           "MAX_RESPONSE_BYTES", "MAX_URL_LENGTH", "MIN_DURATION_S", "MiB", "PROTOCOL_VERSION", "AudioPayload",
           "GenerateRequest", "GenerateResponse", "MotionPayload", "ProtocolError", "check_audio_covers", "check_frames",
           "decode_motion_payload", "decode_wav", "decode_wav_bytes", "encode_motion_payload", "encode_wav", "expected_frames",
           "parse_capabilities", "parse_request", "parse_response", "read_capped", "read_capped_response", "request_body"]

PROTOCOL_VERSION = "a2a/2"  # a2a/1 signed the body itself: a miner had to read it before knowing its sender
GENERATE_PATH = "/v1/generate"
HEALTH_PATH = "/v1/health"

MiB = 1024 * 1024
# A 10-minute prompt as 16-bit mono WAV at 22.05 kHz is 26 MB, 35 MB in base64; the miner's own cap
# (miner.max_request_bytes) is usually lower. A 10-minute npz answer is about 14 MB in base64.
MAX_REQUEST_BYTES = 48 * MiB
MAX_RESPONSE_BYTES = 48 * MiB
MAX_URL_LENGTH = 2048
# Clients must disable Nagle's algorithm: httpx writes the headers and the body separately, and
# Nagle holding the body until the headers are ACKed meets the server's delayed ACK: +40 ms per
# request on loopback. `httpx.HTTPTransport(socket_options=CLIENT_SOCKET_OPTIONS)` (or the Async one).
CLIENT_SOCKET_OPTIONS = [(6, 1, 1)]  # (IPPROTO_TCP, TCP_NODELAY, on), spelled out to keep `socket` unimported
_MIN_SAMPLE_RATE, _MAX_SAMPLE_RATE = 8_000, 192_000
_PROMPT_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


class ProtocolError(InputError):
    """A message that breaks the protocol: malformed, oversized, or not what was asked for."""


class _Strict(BaseModel):
    # Unknown fields are refused so a typo or a smuggled field is an error, never silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class AudioPayload(_Strict):
    encoding: Literal["wav-base64", "url"]
    data: str = Field(min_length=1, max_length=MAX_REQUEST_BYTES, description="base64 WAV bytes, or an http(s) URL")

    @field_validator("data")
    @classmethod
    def _url_is_short(cls, value: str, info) -> str:
        if info.data.get("encoding") == "url" and len(value) > MAX_URL_LENGTH:
            raise ValueError(f"audio URL longer than {MAX_URL_LENGTH} characters")
        return value


class GenerateRequest(_Strict):
    """What a validator asks: motion for `task` (a dance to music, gestures to speech) to this audio,
    `duration_s` seconds of it, with this seed."""

    protocol: Literal["a2a/2"] = PROTOCOL_VERSION
    task: Task = Field(default=DANCE, description="dance (music in) or gesture (speech in); absent: dance")
    prompt_id: str = Field(description="opaque id the validator uses to match answers to prompts")
    audio: AudioPayload
    fps: Literal[FPS] = FPS
    # strict: a JSON number only (true would otherwise pass as 1 s); the audio must last this long
    duration_s: float = Field(ge=MIN_DURATION_S, le=MAX_DURATION_S, allow_inf_nan=False, strict=True)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    # The version of the judge that will score the answer (scoring.constants.JUDGE_VERSION): miners
    # can tell which criteria they are paid for, and log or refuse a judge they were not built for.
    judge_version: str = Field(default=JUDGE_VERSION, pattern=r"^[0-9]{1,4}(\.[0-9]{1,4}){0,2}$")

    @field_validator("prompt_id")
    @classmethod
    def _prompt_id_is_plain(cls, value: str) -> str:
        if not _PROMPT_ID.match(value):
            raise ValueError("prompt_id must be 1-128 characters of A-Z a-z 0-9 _ . : -")
        return value

    @property
    def expected_frames(self) -> int:
        return expected_frames(self.duration_s, self.fps)


class MotionPayload(_Strict):
    encoding: Literal["npz-base64", "bvh"]
    data: str = Field(min_length=1, max_length=MAX_RESPONSE_BYTES)


class GenerateResponse(_Strict):
    """What a miner answers: the motion, the model that made it, and how long generation took."""

    motion: MotionPayload
    model: str = Field(min_length=1, max_length=128)
    generation_s: float = Field(ge=0.0, allow_inf_nan=False)


def request_body(request: GenerateRequest) -> bytes:
    """The JSON bytes a validator signs and sends for `request`: `task` is left out of a dance
    request, so miners that predate tasks (and refuse unknown fields) still parse it."""
    return request.model_dump_json(exclude={"task"} if request.task == DANCE else None).encode()


class _Capabilities(BaseModel):
    # the part of a miner's health answer that says what it serves; the rest is for people
    model_config = ConfigDict(extra="ignore", frozen=True)
    tasks: list[str] = Field(default_factory=list, max_length=64)


def parse_capabilities(body: bytes) -> tuple[str, ...]:
    """The tasks a miner serves, read from its health answer's JSON `body` (`"tasks": [...]`), in
    `TASKS` order. Names this validator does not know are skipped (a newer miner's); an answer that
    is not JSON, or names no known task, is a miner from before tasks: dance alone."""
    from pydantic import ValidationError

    try:
        named = set(_Capabilities.model_validate_json(body).tasks)
    except ValidationError:
        named = set()
    return tuple(t for t in TASKS if t in named) or (DANCE,)


# --- audio ---------------------------------------------------------------------------------------


def encode_wav(samples: np.ndarray, sr: int) -> AudioPayload:
    """Mono float samples -> a 16-bit PCM WAV payload (a tenth the size of float text, lossless enough).

    samples: float array of shape (n,), in [-1, 1] (clipped there). sr: their sample rate, in Hz.
    """
    import numpy as np
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0), int(sr), format="WAV", subtype="PCM_16")
    return AudioPayload(encoding="wav-base64", data=base64.b64encode(buf.getvalue()).decode("ascii"))


def decode_wav(payload: AudioPayload, *, max_duration_s: float = MAX_DURATION_S + 1.0,
               keep_s: float | None = None) -> tuple[np.ndarray, int]:
    """A "wav-base64" payload -> (mono float32 samples, sample rate), refusing anything but a sane WAV.

    The header is read before the samples, so a WAV that claims hours of audio is refused without
    decoding it. max_duration_s: the longest audio accepted, in seconds. keep_s: decode only the
    first seconds (what will be used), not the whole file; None decodes it all.
    """
    if payload.encoding != "wav-base64":
        raise ProtocolError(f"expected wav-base64 audio, got {payload.encoding}")
    return decode_wav_bytes(_b64decode(payload.data, "audio"), max_duration_s=max_duration_s, keep_s=keep_s)


def decode_wav_bytes(raw: bytes, *, max_duration_s: float = MAX_DURATION_S + 1.0,
                     keep_s: float | None = None) -> tuple[np.ndarray, int]:
    """WAV file bytes (`raw`, from a payload or a fetched URL) -> (mono float32 samples of shape (n,),
    sample rate in Hz); `max_duration_s` and `keep_s` as in `decode_wav`. ProtocolError for anything
    but a WAV of 8-192 kHz, at most 2 channels, with finite samples."""
    import numpy as np
    import soundfile as sf

    try:
        with sf.SoundFile(io.BytesIO(raw)) as f:
            if f.format != "WAV":
                raise ProtocolError(f"audio must be WAV, got {f.format}")
            if not _MIN_SAMPLE_RATE <= f.samplerate <= _MAX_SAMPLE_RATE:
                raise ProtocolError(f"audio sample rate {f.samplerate} Hz outside {_MIN_SAMPLE_RATE}-{_MAX_SAMPLE_RATE}")
            if f.channels > 2:
                raise ProtocolError(f"audio has {f.channels} channels; at most 2 are accepted")
            if f.frames > max_duration_s * f.samplerate:
                raise ProtocolError(f"audio is {f.frames / f.samplerate:.0f} s long; at most {max_duration_s:.0f} s")
            frames = -1 if keep_s is None else min(f.frames, math.ceil(keep_s * f.samplerate))
            samples = f.read(frames, dtype="float32", always_2d=True)
            sr = f.samplerate
    except sf.LibsndfileError as e:  # its str() names the in-memory file object (a memory address): not for callers
        raise ProtocolError(f"audio is not a readable WAV: {e.error_string}") from None
    except RuntimeError:
        raise ProtocolError("audio is not a readable WAV") from None
    mono = samples.mean(axis=1, dtype=np.float32)
    if not np.isfinite(mono).all():
        raise ProtocolError("audio contains NaN or infinite samples")
    return mono, int(sr)


def check_audio_covers(samples: np.ndarray, sr: int, duration_s: float) -> None:
    """ProtocolError unless `samples` (at `sr` Hz) last at least `duration_s` (one frame of slack):
    a dance is asked for music that exists, never for seconds of silence the prompt did not send."""
    available_s = len(samples) / sr
    if available_s + 1.0 / FPS < duration_s:
        raise ProtocolError(f"duration_s {duration_s:g} is longer than the audio ({available_s:.2f} s)")


# --- motion --------------------------------------------------------------------------------------

_WIRE_FORMAT = {"npz-base64": "npz", "bvh": "bvh"}
DEFAULT_MOTION_ENCODING = "npz-base64"  # about a quarter of BVH's size


def encode_motion_payload(motion: Motion, encoding: str = DEFAULT_MOTION_ENCODING) -> MotionPayload:
    """A Motion -> the wire payload: `encoding` "npz-base64" (npz in base64, compact) or "bvh" (BVH text)."""
    from a2a_cli.motion.formats import encode_motion

    if encoding not in _WIRE_FORMAT:
        raise InputError(f"unknown motion encoding {encoding!r}; use npz-base64 or bvh")
    data = encode_motion(motion, _WIRE_FORMAT[encoding])
    text = base64.b64encode(data).decode("ascii") if encoding == "npz-base64" else data.decode("utf-8")
    return MotionPayload(encoding=encoding, data=text)


def decode_motion_payload(payload: MotionPayload, *, max_frames: int | None = None) -> Motion:
    """The wire payload -> a Motion, through the safe decoders of `a2a_cli.motion.formats` (no pickles).

    max_frames: the most frames accepted (None: a file's cap); an answer's arrays and frame count
    are checked against it before they are decompressed or parsed, so an npz member that declares
    more than the frames asked for costs nothing.

    A wire motion must carry joint rotations (npz `poses`, or BVH): an npz of joint positions alone
    would be judged without the rotation-speed gate and with a looser bone gate, so it is refused.
    """
    from a2a_cli.motion.formats import decode_motion
    from a2a_cli.motion.motion import MAX_FILE_FRAMES

    if payload.encoding == "npz-base64":
        raw = _b64decode(payload.data, "motion")
    else:
        raw = payload.data.encode("utf-8")
    try:
        motion = decode_motion(raw, _WIRE_FORMAT[payload.encoding], max_frames=MAX_FILE_FRAMES if max_frames is None else max_frames)
    except InputError as e:
        raise ProtocolError(f"motion does not decode: {e}") from None
    if motion.poses is None:
        raise ProtocolError(f"motion has joint positions but no rotations; {PROTOCOL_VERSION} answers carry npz 'poses' (T, 72) or BVH")
    return motion


def check_frames(motion: Motion, request: GenerateRequest) -> None:
    """Raise ProtocolError unless `motion` is exactly what `request` asked for (frame count and fps)."""
    want = request.expected_frames
    if motion.n_frames != want:
        raise ProtocolError(f"motion has {motion.n_frames} frames; {want} expected for {request.duration_s:g} s at {request.fps} fps")
    if abs(float(motion.fps) - request.fps) > 1e-6:
        raise ProtocolError(f"motion is at {motion.fps:g} fps; {request.fps} expected")


def parse_response(body: bytes, request: GenerateRequest, *, max_bytes: int = MAX_RESPONSE_BYTES) -> tuple[GenerateResponse, Motion]:
    """A miner's raw answer -> (response, motion), or ProtocolError if it is oversized, malformed or wrong.

    What a validator calls on every answer: it bounds the size first, validates the JSON against
    the schema, decodes the motion safely and checks its frame count.

    body: the answer's raw bytes. request: the request it answers. max_bytes: the largest answer accepted.
    """
    from pydantic import ValidationError

    if len(body) > max_bytes:
        raise ProtocolError(f"response of {len(body)} bytes exceeds the {max_bytes}-byte limit")
    try:
        response = GenerateResponse.model_validate_json(body)
    except ValidationError as e:
        raise ProtocolError(f"response is not a valid {PROTOCOL_VERSION} answer: {_first_error(e)}") from None
    motion = decode_motion_payload(response.motion, max_frames=request.expected_frames)
    check_frames(motion, request)
    return response, motion


def parse_request(body: bytes, *, max_bytes: int = MAX_REQUEST_BYTES) -> GenerateRequest:
    """A validator's raw request (`body`, at most `max_bytes` bytes) -> GenerateRequest, or
    ProtocolError (the miner answers 422)."""
    from pydantic import ValidationError

    if len(body) > max_bytes:
        raise ProtocolError(f"request of {len(body)} bytes exceeds the {max_bytes}-byte limit")
    try:
        return GenerateRequest.model_validate_json(body)
    except ValidationError as e:
        raise ProtocolError(f"request is not a valid {PROTOCOL_VERSION} prompt: {_first_error(e)}") from None


async def read_capped(chunks: AsyncIterable[bytes], max_bytes: int, over_limit: Exception) -> bytes:
    """The streamed chunks joined; `over_limit` is raised as soon as they pass `max_bytes`, so a
    huge or endless body never costs more than the cap (what a declared length cannot promise)."""
    parts, total = [], 0
    async for chunk in chunks:
        total += len(chunk)
        if total > max_bytes:
            raise over_limit
        parts.append(chunk)
    return b"".join(parts)


async def read_capped_response(response: httpx.Response, max_bytes: int, *, refused: Callable[[str], Exception],
                               over_limit: Exception) -> bytes:
    """The body of a streamed HTTP answer, never holding more than `max_bytes` of it.

    response: an `httpx.Response` from `AsyncClient.stream(...)`, its body not read yet. Ask for
        `accept-encoding: identity`: a compressed body is refused, because a small gzip body can
        inflate without bound before any cap sees it; the bytes counted are those on the wire.
    max_bytes: the largest body accepted, in bytes.
    refused: makes the exception raised for an answer that is not a plain 200; it is given one
        line, "HTTP <status>" or "compressed content; only identity is accepted".
    over_limit: raised when the declared Content-Length (or one that is not a number) or the
        bytes received pass `max_bytes`.
    """
    if response.status_code != 200:
        raise refused(f"HTTP {response.status_code}")
    if response.headers.get("content-encoding", "identity").lower() != "identity":
        raise refused("compressed content; only identity is accepted")
    declared = response.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        raise over_limit
    return await read_capped(response.aiter_raw(), max_bytes, over_limit)


def _first_error(e) -> str:
    """One line naming the first bad field, never echoing its (possibly huge) value."""
    first = e.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return f"{where}: {first.get('msg', 'invalid')} ({e.error_count()} error(s))"


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(f"{what} data is not valid base64") from None
