"""Where a validator's prompts come from: a local library folder, a remote challenge endpoint, or
(on this machine's chains) synthetic audio. Every prompt knows its task (a2a_cli.tasks): music is
danced to, speech gestured to; a source says which tasks it has prompts for (`tasks`).

**Library**: a folder of music files (wav, flac, ogg, mp3), each optionally with a reference dance
of the same stem (`song.mp3` + `song.npz`/`song.npy`/`song.bvh`) at 30 fps, and, for gesture, a
`speech/` subfolder of speech files (no references: the gesture judge compares none). A library
without `speech/` (every library before tasks) has dance prompts only; one with only `speech/` has
gesture prompts only. Each prompt is a random window of 5-15 s of a random file of its task, drawn
from the step's own random generator, so a miner can neither predict the clip nor reuse an answer.
Prompt ids are opaque random hex: they never name the file, so a miner cannot look a reference
dance up by name.

**Challenge endpoint**: `GET url` answers JSON `{"audio": {"encoding": "wav-base64", "data": ...},
"duration_s": optional, "reference": optional {"encoding": "npz-base64" | "bvh", "data": ...}}`;
the prompt is the audio as given (cut to `duration_s`). Size- and time-capped like a miner's answer.
A gesture prompt is asked for as `GET url?task=gesture` and must answer `"task": "gesture"` (an
endpoint that predates tasks answers music, which is refused rather than gestured to).

**Synthetic**: songs (`examples.synth_genre_song`) and voices (`examples.synth_speech`) made up
from the step's random generator: the whole subnet on one machine without any audio files. Off this
machine's chains they would be a public, learnable distribution, so `a2a validate` uses them only
on sim and local.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict, Field

from a2a_cli.chain import protocol
from a2a_cli.errors import InputError, WorkError
from a2a_cli.tasks import DANCE, GESTURE, TASKS, Task

if TYPE_CHECKING:
    import numpy as np

    from a2a_cli.motion import Motion

__all__ = ["AUDIO_EXTENSIONS", "CHALLENGE_MAX_BYTES", "REFERENCE_EXTENSIONS", "SPEECH_FOLDER", "Challenge", "ChallengeEndpoint",
           "Prompt", "PromptLibrary", "PromptSource", "SyntheticPrompts"]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")
REFERENCE_EXTENSIONS = (".npz", ".npy", ".bvh")
MIN_WINDOW_S, MAX_WINDOW_S = 5.0, 15.0
CHALLENGE_MAX_BYTES = 32 * protocol.MiB
SPEECH_FOLDER = "speech"  # a library's gesture prompts


@dataclass(frozen=True)
class Prompt:
    """One challenge: mono audio at `sr`, exactly `duration_s` long (a whole number of frames), for `task`."""

    prompt_id: str
    samples: np.ndarray
    sr: int
    duration_s: float
    reference: Motion | None = None
    source: str = ""  # for the operator's eyes only (file and window); never sent to miners
    task: str = DANCE  # a2a_cli.tasks: music is danced to, speech gestured to


class PromptSource(Protocol):
    """Where a validator's prompts come from (`PromptLibrary`, `ChallengeEndpoint`, `SyntheticPrompts`)."""

    tasks: tuple[str, ...]  # the tasks it has prompts for, in a2a_cli.tasks.TASKS order

    def sample(self, rng: random.Random, task: str = DANCE) -> Prompt:
        """The next prompt of `task` (one of `tasks`); `rng` is the step's random generator (what
        to draw, and the prompt id)."""


def _prompt_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"


class PromptLibrary:
    """Random windows of the audio files in a folder (music; speech in its `speech/` subfolder), with
    their reference dances when present."""

    def __init__(self, folder: str | Path, *, min_window_s: float = MIN_WINDOW_S, max_window_s: float = MAX_WINDOW_S):
        """folder: the library (music files, with optional reference dances of the same stem, and
        speech files in `speech/`). min_window_s, max_window_s: the shortest and longest prompt, in
        seconds (within protocol's limits)."""
        if not protocol.MIN_DURATION_S <= min_window_s <= max_window_s:
            raise InputError(f"prompt window {min_window_s:g}-{max_window_s:g} s is not a valid range of at least 1 s")
        self.folder = Path(folder).expanduser()
        if not self.folder.is_dir():
            raise InputError(f"prompt library {self.folder} is not a folder")
        self.min_window_s, self.max_window_s = float(min_window_s), float(max_window_s)
        speech = self.folder / SPEECH_FOLDER
        # task -> [(audio file, its length in s, its reference dance or None)]
        self.entries: dict[str, list[tuple[Path, float, Path | None]]] = {
            DANCE: _library_entries(self.folder, with_references=True),
            GESTURE: _library_entries(speech, with_references=False) if speech.is_dir() else [],
        }
        self.tasks = tuple(task for task in TASKS if self.entries[task])
        if not self.tasks:
            raise InputError(f"prompt library {self.folder} holds no audio ({', '.join(AUDIO_EXTENSIONS)}), "
                             f"neither music nor speech in {SPEECH_FOLDER}/")

    def __len__(self) -> int:
        return sum(len(entries) for entries in self.entries.values())

    def sample(self, rng: random.Random, task: str = DANCE) -> Prompt:
        """A random window of a random file of `task` (all drawn from `rng`), with the matching reference slice."""
        from a2a_cli.audio import decode

        if task not in self.tasks:
            raise InputError(f"prompt library {self.folder} has no {task} prompts"
                             + (f" (speech goes in {SPEECH_FOLDER}/)" if task == GESTURE else ""))
        entries = self.entries[task]
        path, length_s, reference_path = entries[rng.randrange(len(entries))]
        n_frames = _window_frames(rng, *_task_window(task, self.min_window_s, self.max_window_s), length_s)  # whole frames, within the file
        duration_s = n_frames / protocol.FPS
        start_frame = rng.randrange(0, max(1, int((length_s - duration_s) * protocol.FPS)))
        start_s = start_frame / protocol.FPS
        samples, sr = decode(path, start_s=start_s, duration_s=duration_s)
        samples = _exact_length(samples, int(round(duration_s * sr)))
        reference = None
        if reference_path is not None:
            reference = _reference_window(reference_path, start_frame, n_frames)
        name = path.name if task == DANCE else f"{SPEECH_FOLDER}/{path.name}"
        return Prompt(prompt_id=_prompt_id(rng), samples=samples, sr=int(sr), duration_s=duration_s, reference=reference,
                      source=f"{name} {start_s:.2f}-{start_s + duration_s:.2f} s", task=task)


def _library_entries(folder: Path, *, with_references: bool) -> list[tuple[Path, float, Path | None]]:
    """The audio files directly in `folder`, sorted: (path, length in s, its reference dance or None,
    always None without `with_references`); InputError for a file that cannot be read or is too short."""
    import soundfile as sf

    entries = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file()):
        try:
            duration = float(sf.info(str(path)).duration)
        except (sf.LibsndfileError, RuntimeError) as e:
            raise InputError(f"prompt library file {path.name} cannot be read: {str(e).splitlines()[0]}") from None
        if duration < protocol.MIN_DURATION_S:
            raise InputError(f"prompt library file {path.name} is {duration:.2f} s long; at least {protocol.MIN_DURATION_S:g} s is needed")
        reference = None
        if with_references:
            reference = next((path.with_suffix(ext) for ext in REFERENCE_EXTENSIONS if path.with_suffix(ext).is_file()), None)
            if reference is not None:
                _check_reference_fps(reference)
        entries.append((path, duration, reference))
    return entries


def _task_window(task: str, min_s: float, max_s: float) -> tuple[float, float]:
    """(shortest, longest) prompt in seconds for `task`: the window asked for, raised to the task's
    own shortest prompt (chain.tasks_service.TaskKind.min_prompt_s: 8 s for gesture)."""
    from a2a_cli.chain.tasks_service import task_kind

    low = max(min_s, task_kind(task).min_prompt_s)
    return low, max(max_s, low)


def _window_frames(rng: random.Random, min_s: float, max_s: float, available_s: float) -> int:
    """Frames of a prompt window drawn from `rng`: min_s to max_s seconds, at most `available_s`."""
    window = min(rng.uniform(min_s, max_s), available_s)
    return max(protocol.expected_frames(protocol.MIN_DURATION_S), int(window * protocol.FPS))


def _exact_length(samples: np.ndarray, n: int) -> np.ndarray:
    """Pad (with silence) or trim to exactly n samples: a cut may end a few samples short of the file's end."""
    import numpy as np

    if samples.size >= n:
        return samples[:n]
    return np.concatenate([samples, np.zeros(n - samples.size, dtype=samples.dtype)])


def _check_reference_fps(path: Path) -> None:
    """Prompt windows are cut in 30-fps frames: a reference at another rate would be compared with
    the wrong instants of the dance, so it is refused when the library loads."""
    from a2a_cli.motion.formats import load_motion

    fps = load_motion(path).fps
    if abs(fps - protocol.FPS) > 1e-6:
        raise InputError(f"prompt library reference {path.name} is at {fps:g} fps; references must be {protocol.FPS} fps")


def _reference_window(path: Path, start_frame: int, n_frames: int) -> Motion | None:
    """The reference dance's frames for the window, or None when it does not cover the window."""
    from a2a_cli.motion import Motion
    from a2a_cli.motion.formats import load_motion

    motion = load_motion(path)
    if motion.poses is None or motion.n_frames < start_frame + n_frames:
        return None
    end = start_frame + n_frames
    return Motion(poses=motion.poses[start_frame:end], trans=motion.trans[start_frame:end], fps=motion.fps, meta=dict(motion.meta))


class Challenge(BaseModel):
    """The body a challenge endpoint answers."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    audio: protocol.AudioPayload
    duration_s: float | None = Field(default=None, ge=protocol.MIN_DURATION_S, le=protocol.MAX_DURATION_S, allow_inf_nan=False)
    reference: protocol.MotionPayload | None = None
    task: Task = DANCE  # what the audio is for: music (dance) or speech (gesture)


class ChallengeEndpoint:
    """Prompts fetched from a remote endpoint (GET), one per task per step."""

    tasks = TASKS  # asked of the endpoint; one that has no gesture challenges fails those prompts alone

    def __init__(self, url: str, *, timeout_s: float = 10.0, max_bytes: int = CHALLENGE_MAX_BYTES):
        """url: the endpoint, http:// or https://. timeout_s: the deadline for one whole answer, in
        seconds. max_bytes: the largest answer accepted, in bytes."""
        if not url.startswith(("http://", "https://")):
            raise InputError(f"challenge endpoint must be an http:// or https:// URL, got {url!r}")
        self.url, self.timeout_s, self.max_bytes = url, float(timeout_s), int(max_bytes)

    def sample(self, rng: random.Random, task: str = DANCE) -> Prompt:
        """One prompt of `task` from the challenge endpoint (its audio, length and reference; `rng`
        draws the prompt id); a dance is asked for at the URL as given, another task with `?task=`."""
        from pydantic import ValidationError

        raw = self._fetch(self.url if task == DANCE else f"{self.url}{'&' if '?' in self.url else '?'}task={task}")
        try:
            challenge = Challenge.model_validate_json(raw)
            if challenge.task != task:
                raise InputError(f"it is a {challenge.task} challenge; {task} was asked for")
            if challenge.audio.encoding != "wav-base64":
                raise InputError("challenge audio must be wav-base64")
            samples, sr = protocol.decode_wav(challenge.audio)
            reference = protocol.decode_motion_payload(challenge.reference) if challenge.reference else None
        except ValidationError as e:
            where = ".".join(str(part) for part in e.errors()[0].get("loc", ())) or "body"
            raise WorkError(f"challenge endpoint answered an invalid challenge ({where}: {e.errors()[0].get('msg')})") from None
        except InputError as e:
            raise WorkError(f"challenge endpoint answered an unusable challenge: {e}") from None
        available = samples.size / sr
        n_frames = int(min(challenge.duration_s or available, available) * protocol.FPS)
        if n_frames < protocol.expected_frames(protocol.MIN_DURATION_S):
            raise WorkError(f"challenge audio is {available:.2f} s long; at least {protocol.MIN_DURATION_S:g} s is needed")
        duration_s = n_frames / protocol.FPS
        if reference is not None and reference.n_frames != n_frames:
            reference = None  # a reference that does not match the clip cannot be compared frame by frame
        return Prompt(prompt_id=_prompt_id(rng), samples=_exact_length(samples, int(round(duration_s * sr))), sr=sr,
                      duration_s=duration_s, reference=reference, source=f"challenge {duration_s:.2f} s", task=task)

    def _fetch(self, url: str) -> bytes:
        import time

        import httpx

        deadline = time.monotonic() + self.timeout_s  # httpx's timeout is per read; this one bounds the whole answer
        try:
            with httpx.Client(timeout=self.timeout_s, follow_redirects=False, trust_env=False) as client:
                with client.stream("GET", url, headers={"accept-encoding": "identity"}) as response:
                    if response.status_code != 200:
                        raise WorkError(f"challenge endpoint answered HTTP {response.status_code}")
                    if response.headers.get("content-encoding", "identity").lower() != "identity":
                        # a small gzip body can inflate without bound before any cap sees it
                        raise WorkError("challenge endpoint answered compressed content; only identity is accepted")
                    chunks, total = [], 0
                    for chunk in response.iter_raw():  # the bytes on the wire, counted before anything expands them
                        if time.monotonic() > deadline:
                            raise WorkError(f"challenge endpoint took longer than {self.timeout_s:g} s")
                        total += len(chunk)
                        if total > self.max_bytes:
                            raise WorkError(f"challenge is over the {self.max_bytes}-byte limit")
                        chunks.append(chunk)
        except httpx.HTTPError as e:
            raise WorkError(f"challenge endpoint {self.url} could not be reached: {type(e).__name__}") from None
        return b"".join(chunks)


class SyntheticPrompts:
    """Prompts of synthetic audio (chain.tasks_service.synthetic_audio): a made-up song to dance to,
    a made-up voice to gesture to, of 5-15 s (gesture: 12-15 s), drawn from the step's random generator. For this
    machine's chains only (module doc)."""

    tasks = TASKS

    def __init__(self, *, min_window_s: float = MIN_WINDOW_S, max_window_s: float = MAX_WINDOW_S):
        """min_window_s, max_window_s: the shortest and longest prompt, in seconds."""
        if not protocol.MIN_DURATION_S <= min_window_s <= max_window_s:
            raise InputError(f"prompt window {min_window_s:g}-{max_window_s:g} s is not a valid range of at least 1 s")
        self.min_window_s, self.max_window_s = float(min_window_s), float(max_window_s)

    def sample(self, rng: random.Random, task: str = DANCE) -> Prompt:
        """A fresh synthetic clip of `task`, its length and content drawn from `rng`."""
        from a2a_cli.chain.tasks_service import synthetic_audio

        low, high = _task_window(task, self.min_window_s, self.max_window_s)
        duration_s = _window_frames(rng, low, high, high) / protocol.FPS
        seed = rng.getrandbits(32)
        samples, sr = synthetic_audio(task, duration_s, seed)
        kind = "song" if task == DANCE else "voice"
        return Prompt(prompt_id=_prompt_id(rng), samples=_exact_length(samples, int(round(duration_s * sr))), sr=int(sr),
                      duration_s=duration_s, source=f"synthetic {kind} {seed:08x}, {duration_s:.2f} s", task=task)
