"""The validator (DESIGN §7): prompt miners, judge their answers, keep moving averages, set weights.

One step:
  1. Read the metagraph; forget the averages of UIDs that changed hands (state.py).
  2. Draw a fresh step seed (the OS's randomness); from it come the sample of miners, one prompt
     per task (prompts.py) and its generation seed, so no answer can be prepared or replayed.
     The tasks (a2a_cli.tasks) are those with a share above 0 that the prompt source has prompts
     for. When they are more than dance, each sampled miner's health answer says which it serves
     (protocol.parse_capabilities; remembered for `CAPABILITIES_TTL_S`, never for a failed read);
     a miner that says nothing serves dance alone; one whose health cannot be read is taken to
     serve the tasks it has averages in (dance when none). A miner is sent the prompt
     of every task it serves, and only those; a task it has an average in but no longer serves
     scores 0 without a query. A task whose prompt cannot be had this step is left out, with a
     note (so is a task whose prompt its reading refuses); only when no task has a prompt does the
     step fail.
  3. Send every sampled miner its requests, signed for it (auth.py), all at once, each
     with one deadline for the whole exchange (`timeout_s`) and a size cap counted while the
     answer streams in, so a 100 MB body is cut off at the cap, never buffered. Meanwhile the
     prompts' audio is analysed, each as its task reads it (tasks_service). Off this machine's
     chains (sim, local), a sampled miner whose
     advertised address is not public (loopback, private, link-local such as the 169.254.169.254
     metadata service, or an IPv6 form of one) is not called: it scores 0 with that reason, so a
     miner cannot aim validators at their own network.
  4. Judge each answer in a worker thread: protocol checks (protocol.parse_response: JSON, size,
     safe decoding, exact frame count), copy and replay detection, then the scoring library's
     validator score of the task's judge (tasks_service: for dance gates, beat sync, quality, ...,
     latency). Copies are looked for among the answers to the same prompt. Every failure (an HTTP error, a
     timeout, a closed connection, garbage, a wrong frame count, a copy) is a score of 0 with a
     reason; nothing a miner sends can raise out of a step.
  5. Fold the scores into each hotkey's moving average in that task and each judged dance's style
     into the miner's recent styles, set weights (the tasks' shares, split within each task by
     moving average times the variety of recent answers, state.py) when the cadence allows (never
     with `dry_run`), and save the state atomically.

**Copy policy.** Answers are taken in the order they arrived. An answer that is the same dance as
an earlier answer in this step scores 0; the earliest keeps its score. "The same dance" is
scoring.similarity's `CopyIndex.first_copy`: each dance in its own body frame, compared window by window
at the time shift that fits (up to 2.5 s), the shift drifting as a copy sped up or slowed down by
up to 10 % drifts, and mirrored left for right too; so moving, turning, delaying, mirroring,
re-timing or lightly noising a copy does not hide it. Gesture answers are compared by the task's
profile (scoring.similarity.COPY_PROFILES): the arms alone, in the windows where a hand moves, since
standing speakers at rest look alike. A copier has to obtain the answer before it can send it, so it arrives
after its source; and two hotkeys running one public model with the same seed are one
contribution, not two. An answer that repeats one given to an earlier prompt (fingerprints of the
last `history_answers` answers, kept in memory) scores 0 as an answer to another prompt (dance only:
tasks_service's `detects_replays`); answers for another song or voice that are not literal repeats are
left to the judges' chance-corrected timing.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from a2a_cli.chain import protocol
from a2a_cli.chain.auth import sign_request
from a2a_cli.chain.chain import Chain, Metagraph, Neuron, RateLimited, is_public_address, normalize_weights, on_this_machine
from a2a_cli.chain.prompts import Prompt, PromptSource
from a2a_cli.chain.state import ValidatorState, exclusive_state
from a2a_cli.config import section_defaults
from a2a_cli.errors import A2AError, InputError
from a2a_cli.fileio import real_path
from a2a_cli.tasks import DANCE, TASKS

if TYPE_CHECKING:
    import httpx
    import numpy as np

__all__ = ["CAPABILITIES_READ_BYTES", "CAPABILITIES_TIMEOUT_S", "CAPABILITIES_TTL_S", "REFUSAL_READ_BYTES", "REFUSAL_REASON_CHARS",
           "WEIGHTS_VERSION_KEY", "Answer", "PromptSent", "Reply", "StepResult", "Validator", "ValidatorSettings", "Verdict", "query_miner",
           "query_tasks", "response_cap"]

WEIGHTS_VERSION_KEY = 2  # the protocol's major version (a2a/2): weights set by validators of another version are told apart
KiB = 1024
# A refusal's body read for its reason ({"detail": ...}; a2a's are under 200 bytes), and the reason's length kept.
REFUSAL_READ_BYTES = 2 * KiB
REFUSAL_REASON_CHARS = 200
# A miner's health answer, read for the tasks it serves: a2a's are under 1 KiB.
CAPABILITIES_READ_BYTES = 16 * KiB
CAPABILITIES_TIMEOUT_S = 5.0  # at most; less when validator.timeout_s is less
CAPABILITIES_TTL_S = 600.0  # how long a miner's answer is believed: a miner that adds a task is asked it within 10 min


def response_cap(duration_s: float) -> int:
    """The largest answer accepted, in bytes, for a prompt of `duration_s` seconds: 1 MiB plus
    64 KiB per second of dance, at most `protocol.MAX_RESPONSE_BYTES`.

    An honest answer is ~6 KB/s as npz-base64 and ~22 KB/s as BVH, so the cap leaves room for both
    while 64 miners at once can make the validator hold at most ~140 MB for a 15-s prompt.
    """
    return min(protocol.MAX_RESPONSE_BYTES, protocol.MiB + int(64 * KiB * duration_s))


_DEFAULT = section_defaults("validator")


@dataclass(frozen=True)
class ValidatorSettings:
    """How the validator works: the `validator.*` settings that shape a step (defaults and units in
    `a2a_cli.config.SCHEMA`, their one home), plus what tests and benchmarks tune."""

    sample_size: int = _DEFAULT["sample_size"]  # miners queried per step
    timeout_s: float = _DEFAULT["timeout_s"]  # seconds for one miner's whole exchange
    alpha: float = _DEFAULT["alpha"]  # weight of the newest score in a moving average, in (0, 1]
    weights_interval_blocks: int = _DEFAULT["weights_interval_blocks"]
    dry_run: bool = _DEFAULT["dry_run"]
    # {task: share >= 0} (the `<task>_share` settings): each task's part of the weights (state.py)
    task_shares: dict[str, float] = field(default_factory=lambda: {task: _DEFAULT[f"{task}_share"] for task in TASKS})
    history_answers: int = 1024  # fingerprints of earlier answers kept for replay detection (18 KB each); not a setting
    duplicate_tolerance_m: float | None = None  # replays of earlier prompts; None: scoring.similarity.DUPLICATE_TOLERANCE_M; not a setting

    def __post_init__(self) -> None:
        if set(self.task_shares) != set(TASKS) or not any(share > 0 for share in self.task_shares.values()):
            raise InputError(f"task shares {self.task_shares} must give each of {', '.join(TASKS)} a share, "
                             "and at least one above 0 (validator.dance_share, validator.gesture_share)")

    @classmethod
    def from_settings(cls, settings: Any) -> ValidatorSettings:
        """The fields above that are settings, from the `validator.*` section of a `config.Settings`."""
        section = settings.section("validator")
        return cls(**{f.name: section[f.name] for f in fields(cls) if f.name in section},
                   task_shares={task: section[f"{task}_share"] for task in TASKS})


@dataclass(frozen=True)
class Reply:
    """What came back from one miner: its raw body, or why there is none."""

    neuron: Neuron
    body: bytes | None
    error: str | None
    latency_s: float
    arrived: float  # time.monotonic() when the answer was complete (or the query gave up)


@dataclass(frozen=True)
class Answer:
    """One miner's row in a step for one task: its score, why, and its moving average in that task after the step."""

    uid: int
    hotkey: str
    score: float
    reason: str
    latency_s: float | None
    model: str | None
    ema: float
    task: str = DANCE


@dataclass(frozen=True)
class PromptSent:
    """One prompt of a step: its task, id, where it came from (for the operator), length and seed."""

    task: str
    prompt_id: str
    source: str
    duration_s: float
    seed: int


@dataclass
class StepResult:
    step: int
    prompts: list[PromptSent]  # one per task prompted this step, in a2a_cli.tasks.TASKS order
    answers: list[Answer]  # by uid, then task
    weights: dict[int, float] | None = None  # what was set (or, with dry_run, would have been), normalised
    weights_note: str = ""
    elapsed_s: float = 0.0
    dropped: list[int] = field(default_factory=list)  # uids whose averages were reset this step
    notes: list[str] = field(default_factory=list)  # tasks left out of this step, and why

    def to_dict(self) -> dict:
        return {**asdict(self), "weights": None if self.weights is None else {str(k): v for k, v in self.weights.items()}}


class _Refused(Exception):
    """A miner's answer that is refused before it is parsed (HTTP status, size, encoding)."""


async def query_miner(client: httpx.AsyncClient, wallet: Any, neuron: Neuron, body: bytes, *,
                      timeout_s: float, max_bytes: int) -> Reply:
    """POST the signed prompt to one miner; never raises: every failure becomes `Reply.error`.

    client: the step's `httpx.AsyncClient`. wallet: the validator's `bittensor.Wallet` (signs afresh
    for this miner). neuron: the miner (its `axon_url` is called). body: the request's JSON bytes.
    timeout_s: the deadline for the whole exchange, in seconds. max_bytes: the largest answer kept.
    """
    import httpx

    started = time.monotonic()
    data, error = None, None
    try:
        headers = {"content-type": "application/json", "accept-encoding": "identity",
                   **sign_request(wallet, method="POST", path=protocol.GENERATE_PATH, body=body, receiver_hotkey=neuron.hotkey,
                                 timeout_s=timeout_s)}
        async with asyncio.timeout(timeout_s):
            data = await _read_answer(client, f"{neuron.axon_url}{protocol.GENERATE_PATH}", body, headers, max_bytes)
    except TimeoutError:
        error = f"no answer within {timeout_s:g} s"
    except _Refused as e:
        error = str(e)
    except httpx.HTTPError as e:
        error = f"connection failed ({type(e).__name__})"
    except Exception as e:  # whatever a hostile peer provokes, it only costs that miner its score
        error = f"query failed ({type(e).__name__})"
    ended = time.monotonic()
    return Reply(neuron, data, error, ended - started, ended)


async def query_tasks(client: httpx.AsyncClient, neuron: Neuron, *, timeout_s: float) -> tuple[str, ...] | None:
    """The tasks `neuron` serves, from its health answer (protocol.parse_capabilities; a miner with
    no health route serves dance), or None when it cannot be read within `timeout_s` seconds. Never
    raises; at most `CAPABILITIES_READ_BYTES` are read."""
    try:
        async with asyncio.timeout(timeout_s):
            async with client.stream("GET", f"{neuron.axon_url}{protocol.HEALTH_PATH}", headers={"accept-encoding": "identity"}) as response:
                if response.status_code == 404:  # no health route: a miner from before tasks
                    return (DANCE,)
                body = await protocol.read_capped_response(response, CAPABILITIES_READ_BYTES, refused=_Refused,
                                                           over_limit=_Refused("health answer too long"))
    except Exception:  # a timeout, a refusal, a broken connection: nothing learnt this time
        return None
    return protocol.parse_capabilities(body)


async def _not_called(neuron: Neuron) -> Reply:
    """The reply of a miner whose advertised address is not public (see the module doc)."""
    now = time.monotonic()
    return Reply(neuron, None, f"advertises {_printable(neuron.axon_ip or '')[:64]}, not a public address; not called", 0.0, now)


async def _read_answer(client: httpx.AsyncClient, url: str, body: bytes, headers: dict, max_bytes: int) -> bytes:
    async with client.stream("POST", url, content=body, headers=headers) as response:
        if response.status_code != 200:
            raise _Refused(await _refusal(response))
        return await protocol.read_capped_response(response, max_bytes, refused=_Refused,
                                                   over_limit=_Refused(f"answer over the {max_bytes}-byte limit"))


async def _refusal(response: httpx.Response) -> str:
    """Why a miner refused: "HTTP <status>", with the reason its JSON body gives ({"detail": ...},
    as a2a's miners answer: "HTTP 403: caller stake is below ..."). At most `REFUSAL_READ_BYTES`
    of the body are read, and the reason is made printable and cut short: it is the miner's text."""
    head = b""
    async for chunk in response.aiter_raw():
        head += chunk
        if len(head) >= REFUSAL_READ_BYTES:
            break
    try:
        detail = json.loads(head[:REFUSAL_READ_BYTES]).get("detail")
    except (ValueError, AttributeError):  # not JSON, cut short, or not an object
        detail = None
    reason = _printable(" ".join(detail.split()))[:REFUSAL_REASON_CHARS] if isinstance(detail, str) and detail.strip() else ""
    return f"HTTP {response.status_code}" + (f": {reason}" if reason else "")


@dataclass(frozen=True)
class Verdict:
    """The judge's word on one reply: its score in [0, 1], why, and the model the miner named."""

    score: float
    reason: str
    model: str | None = None
    style: list[float] | None = None  # the answer's style, when its task's styles vary (state.py: variety)


class Validator:
    """One validator hotkey on one subnet: its chain, its prompts, its persisted state."""

    def __init__(self, *, chain: Chain, wallet: Any, prompts: PromptSource, state_path: str | Path,
                 settings: ValidatorSettings = ValidatorSettings(), seed_source: Callable[[], int] | None = None):
        """chain: the subnet's chain. wallet: the validator's `bittensor.Wallet` (registered, with a
        validator permit to set weights). prompts: where prompts come from. state_path: the state file
        (`state.validator_state_path` by default in `a2a validate`); another validator's is refused.
        settings: how steps run. seed_source: gives each step's 64-bit seed (default: the OS's randomness)."""
        self.chain = chain
        self.wallet = wallet
        self.hotkey = wallet.hotkey.ss58_address
        self.prompts = prompts
        self.settings = settings
        self.state_path = real_path(state_path)  # one state file, one lock, under whatever name it is given
        self.state = self._load_state()  # refuses another validator's file at once; `run` reads it again under the lock
        self._seed_source = seed_source or (lambda: secrets.randbits(64))
        self._recent = _fingerprints(0)  # the last `history_answers` answers' fingerprints, oldest first
        self.tasks = tuple(t for t in TASKS if settings.task_shares[t] > 0 and t in prompts.tasks)  # what it prompts for
        if not self.tasks:
            raise InputError(f"nothing to validate: the prompts are for {', '.join(prompts.tasks)}, whose shares are 0")
        self.shares = {t: settings.task_shares[t] for t in self.tasks}
        self._capabilities: dict[tuple[str, str], tuple[float, tuple[str, ...]]] = {}  # (hotkey, url) -> (until, tasks)

    def _load_state(self) -> ValidatorState:
        return ValidatorState.load(self.state_path, network=self.chain.network, netuid=self.chain.netuid, hotkey=self.hotkey)

    # --- one step --------------------------------------------------------------------------------

    async def step(self) -> StepResult:
        """Prompt a sample of miners, judge, update the averages, maybe set weights, save. See the module doc."""
        import httpx

        from a2a_cli.chain.tasks_service import analyse_prompt

        started = time.monotonic()
        metagraph = await asyncio.to_thread(self.chain.metagraph)
        dropped = [r.uid for r in self.state.sync(metagraph)]
        step_seed = self._seed_source()
        rng = random.Random(step_seed)
        candidates = [n for n in metagraph.neurons if n.axon_url and n.hotkey != self.hotkey]
        miners = rng.sample(candidates, min(self.settings.sample_size, len(candidates)))
        local = on_this_machine(self.chain.network)  # the whole subnet lives on loopback
        reachable = [n for n in miners if local or is_public_address(n.axon_ip)]

        transport = httpx.AsyncHTTPTransport(socket_options=protocol.CLIENT_SOCKET_OPTIONS,
                                             limits=httpx.Limits(max_connections=max(len(miners) * len(self.tasks), 1),
                                                                 max_keepalive_connections=0))
        async with httpx.AsyncClient(transport=transport, timeout=self.settings.timeout_s, trust_env=False, follow_redirects=False) as client:
            serves = await self._tasks_served(client, miners, reachable)
            prompts, requests, notes = await self._prompts(rng, {t for n in miners for t in serves[n.uid]})
            asked = [(task, n) for n in miners for task in prompts if task in serves[n.uid]]
            timeout_s = self.settings.timeout_s
            analyses, replies = await asyncio.gather(
                asyncio.gather(*(asyncio.to_thread(analyse_prompt, task, prompts[task].samples, prompts[task].sr) for task in prompts),
                               return_exceptions=True),
                asyncio.gather(*(query_miner(client, self.wallet, n, protocol.request_body(requests[task]), timeout_s=timeout_s,
                                             max_bytes=response_cap(requests[task].duration_s))
                                 if n in reachable else _not_called(n) for task, n in asked)))
        readings = dict(zip(prompts, analyses))
        for task, reading in list(readings.items()):  # a prompt its task cannot read: that task is left out of the step
            if isinstance(reading, Exception):
                if not isinstance(reading, A2AError) or len(readings) == 1:
                    raise reading
                notes.append(f"{task} prompt could not be read: {_one_line(reading)}; its answers were not judged")
                del readings[task]

        answers = []
        for task in readings:
            task_replies = [reply for (t, _), reply in zip(asked, replies) if t == task]
            verdicts = await asyncio.to_thread(self.judge, requests[task], readings[task], prompts[task].reference, task_replies)
            for reply, verdict in zip(task_replies, verdicts):
                record = self.state.record_score(reply.neuron.uid, reply.neuron.hotkey, verdict.score, self.settings.alpha, task=task,
                                                 reason=verdict.reason, latency_s=None if reply.body is None else reply.latency_s,
                                                 style=verdict.style)
                answers.append(Answer(reply.neuron.uid, reply.neuron.hotkey, verdict.score, verdict.reason,
                                      round(reply.latency_s, 4), verdict.model, record.ema, task))
        for n in miners:  # a task it has an average in but no longer serves: 0, without a query
            for task in self.tasks:
                if task not in serves[n.uid] and n.hotkey in self.state.tasks[task]:
                    reason = f"no longer serves {task}"
                    record = self.state.record_score(n.uid, n.hotkey, 0.0, self.settings.alpha, task=task, reason=reason)
                    answers.append(Answer(n.uid, n.hotkey, 0.0, reason, None, None, record.ema, task))
        answers.sort(key=lambda a: (a.uid, TASKS.index(a.task)))
        weights, note = await asyncio.to_thread(self.maybe_set_weights, metagraph)
        sent = [PromptSent(task, p.prompt_id, p.source, p.duration_s, requests[task].seed) for task, p in prompts.items()]
        result = StepResult(step=self.state.step, prompts=sent, answers=answers, weights=weights, weights_note=note,
                            dropped=dropped, notes=notes)
        self.state.step += 1
        await asyncio.to_thread(self.state.save, self.state_path)
        result.elapsed_s = round(time.monotonic() - started, 3)
        return result

    async def _tasks_served(self, client: httpx.AsyncClient, miners: Sequence[Neuron], reachable: Sequence[Neuron]) -> dict[int, tuple[str, ...]]:
        """{uid: the tasks it serves} for each of `miners` (step 2 of the module doc); the health of
        those `reachable` is asked unless remembered, and only when this validator prompts for more
        than dance. A miner that did not say (unreachable, or its health unread) is taken to serve
        the tasks it has an average in (dance when none): asked them, a miner that is down fails them."""
        now = time.monotonic()
        known = {(h, u): v for (h, u), v in self._capabilities.items() if v[0] > now}  # the stale are forgotten
        if self.tasks != (DANCE,):
            ask = [n for n in reachable if (n.hotkey, n.axon_url) not in known]
            timeout_s = min(self.settings.timeout_s, CAPABILITIES_TIMEOUT_S)
            for n, tasks in zip(ask, await asyncio.gather(*(query_tasks(client, n, timeout_s=timeout_s) for n in ask))):
                if tasks is not None:
                    known[(n.hotkey, n.axon_url)] = (now + CAPABILITIES_TTL_S, tasks)
        self._capabilities = known

        def serves(n: Neuron) -> tuple[str, ...]:
            said = known.get((n.hotkey, n.axon_url))
            return said[1] if said else tuple(t for t in TASKS if n.hotkey in self.state.tasks[t]) or (DANCE,)

        return {n.uid: serves(n) for n in miners}

    async def _prompts(self, rng: random.Random, wanted: set[str]) -> tuple[dict[str, Prompt], dict[str, protocol.GenerateRequest], list[str]]:
        """A prompt and its request for each of this validator's tasks in `wanted` (someone sampled
        serves it), in TASKS order, drawn from `rng`; and a note for each task whose prompt could not
        be had. A2AError when no task has one (the step fails as a whole)."""
        prompts, requests, notes, errors = {}, {}, [], []
        for task in (t for t in self.tasks if t in wanted):
            try:
                prompt = await asyncio.to_thread(self.prompts.sample, rng, task)
            except A2AError as e:
                errors.append(e)
                notes.append(f"no {task} prompt this step: {_one_line(e)}")
                continue
            prompts[task] = prompt
            requests[task] = protocol.GenerateRequest(task=task, prompt_id=prompt.prompt_id, duration_s=prompt.duration_s,
                                                      audio=protocol.encode_wav(prompt.samples, prompt.sr), seed=rng.getrandbits(32))
        if errors and not prompts:
            raise errors[0]
        return prompts, requests, notes

    def judge(self, request: protocol.GenerateRequest, analysis: Any, reference: Any, replies: Sequence[Reply]) -> list[Verdict]:
        """A verdict per reply, in the replies' order; see the module doc for the copy policy.

        request: the step's request of one task. analysis: its audio's reading for that task
        (tasks_service.analyse_prompt). reference: the prompt's reference motion or None. replies:
        what each miner asked it sent back.
        """
        import numpy as np

        from a2a_cli.chain.tasks_service import task_kind
        from a2a_cli.scoring import motion_fingerprint
        from a2a_cli.scoring.similarity import COPY_PROFILES, DUPLICATE_TOLERANCE_M, CopyIndex, copy_features

        tolerance = self.settings.duplicate_tolerance_m or DUPLICATE_TOLERANCE_M
        verdicts: dict[int, Verdict] = {}
        kind = task_kind(request.task)
        checked = kind.detects_copies  # copies are looked for
        replays = checked and kind.detects_replays  # and repeats of answers to earlier prompts of this task
        profile = COPY_PROFILES[request.task]
        judged = _fingerprints(len(replies))  # fingerprints of this step's answers so far (replays only)
        judged_uids: list[int] = []
        judged_features = CopyIndex(len(replies), profile)  # their copy_features, in the same order
        cap = response_cap(request.duration_s)
        pending: list[tuple[int, Any, float, str]] = []  # (reply index, motion, latency in s, model) of the answers to judge
        for index in sorted(range(len(replies)), key=lambda i: replies[i].arrived):
            reply = replies[index]
            if reply.body is None:
                verdicts[index] = Verdict(0.0, reply.error or "no answer")
                continue
            try:
                response, motion = protocol.parse_response(reply.body, request, max_bytes=cap)
                if replays:
                    fingerprint = motion_fingerprint(motion.joints)
                if checked:
                    features = copy_features(motion.joints, motion.fps, profile)
            except A2AError as e:
                verdicts[index] = Verdict(0.0, f"invalid: {_one_line(e)}")
                continue
            except Exception as e:  # a decoder tripped by hostile bytes: that answer fails, the step goes on
                verdicts[index] = Verdict(0.0, f"invalid: {type(e).__name__}")
                continue
            model = _printable(response.model)  # the miner's own text, shown on the operator's terminal
            if not checked:
                pending.append((index, motion, reply.latency_s, model))
                continue
            source = judged_features.first_copy(features)
            replayed = replays and _first_within(fingerprint, self._recent, tolerance) is not None
            if replays:
                judged[len(judged_uids)] = fingerprint
            judged_uids.append(reply.neuron.uid)
            judged_features.add(features)
            if source is not None:
                verdicts[index] = Verdict(0.0, f"copy of uid {judged_uids[source]}'s answer", model)
            elif replayed:
                verdicts[index] = Verdict(0.0, "repeats an answer to an earlier prompt", model)
            else:
                pending.append((index, motion, reply.latency_s, model))
        verdicts.update(self._score(request.task, pending, analysis, reference))
        if replays:
            self._recent = np.concatenate([self._recent, judged[: len(judged_uids)]])[-self.settings.history_answers :]
        return [verdicts[i] for i in range(len(replies))]

    @staticmethod
    def _score(task: str, pending: list[tuple[int, Any, float, str]], analysis: Any, reference: Any) -> dict[int, Verdict]:
        """{reply index: Verdict} of the answers in `pending` ((reply index, motion, latency in s, the
        miner's model name) each), judged as one batch by `task`'s judge (the same numbers as one at a
        time); should the batch fail, each answer is judged alone so that one answer's failure is its own."""
        from a2a_cli.chain.tasks_service import judge_answers, task_kind

        styles_vary = task_kind(task).styles_vary

        def verdict(report, model: str) -> Verdict:
            style = report.style.tolist() if styles_vary and report.passed and report.style is not None else None
            return Verdict(report.validator_score, "; ".join(report.reasons) or "ok", model, style)

        if not pending:
            return {}
        try:
            reports = judge_answers(task, [p[1] for p in pending], analysis, reference=reference, latencies=[p[2] for p in pending])
            return {index: verdict(report, model) for (index, _, _, model), report in zip(pending, reports)}
        except Exception:  # noqa: BLE001 - some answer trips the judge: find which, alone
            pass
        verdicts = {}
        for index, motion, latency, model in pending:
            try:
                verdicts[index] = verdict(judge_answers(task, [motion], analysis, reference=reference, latencies=[latency])[0], model)
            except Exception as e:  # the judge must not fall over on one answer; it scores 0 and says why
                verdicts[index] = Verdict(0.0, f"scoring failed: {type(e).__name__}", model)
        return verdicts

    # --- weights ---------------------------------------------------------------------------------

    def maybe_set_weights(self, metagraph: Metagraph) -> tuple[dict[int, float] | None, str]:
        """Set weights from the moving averages once `weights_interval_blocks` have passed since the last
        time. A chain that fails here costs only this weight setting: the step's scores are kept.

        metagraph: the step's view of the subnet (only its registered miners get weight). Returns the
        weights set (or, with dry_run, that would have been), None when none were, and a note why.
        """
        try:
            block = self.chain.current_block()
        except A2AError as e:
            return None, f"weights not set: {_one_line(e)}"
        last = self.state.last_weights_block
        interval = self.settings.weights_interval_blocks
        if last is not None and block - last < interval:
            return None, f"next weights in {last + interval - block} block(s)"
        uids, raw = self.state.weights(metagraph, self.shares)
        if not uids:
            return None, "no miner has a positive average yet"
        uids, normalised = normalize_weights(uids, raw)
        weights = dict(zip(uids, normalised))
        if self.settings.dry_run:
            return weights, f"dry run: weights for {len(uids)} uid(s) not set"
        try:
            self.chain.set_weights(self.wallet, uids, normalised, version_key=WEIGHTS_VERSION_KEY)
        except RateLimited as e:
            return None, f"chain rate limit: {e}"
        except A2AError as e:  # the chain refused or failed: keep validating, try again next step
            return None, f"weights not set: {_one_line(e)}"
        self.state.last_weights_block = block
        return weights, f"weights set at block {block} for {len(uids)} uid(s)"

    # --- the loop --------------------------------------------------------------------------------

    def run(self, *, steps: int | None = None, interval_s: float = 0.0, on_step: Callable[[StepResult], None] | None = None,
            on_error: Callable[[A2AError], None] | None = None) -> None:
        """Run `steps` steps (None: until interrupted), at most one per `interval_s` seconds;
        `on_step` is given each step's result as it ends.

        A step that fails as a whole (the chain or the prompt source is unreachable) is reported to
        `on_error` and the next one tries again; the saved state is untouched by it. The state file
        is held for this process alone while it runs (WorkError if another validator holds it).
        """
        with exclusive_state(self.state_path):
            # read again under the lock: the copy loaded at construction may predate another validator's last save
            self.state = self._load_state()
            asyncio.run(self._run(steps, interval_s, on_step, on_error))

    async def _run(self, steps, interval_s, on_step, on_error) -> None:
        done = 0
        while steps is None or done < steps:
            started = time.monotonic()
            try:
                result = await self.step()
            except A2AError as e:
                if on_error is not None:
                    on_error(e)
            else:
                if on_step is not None:
                    on_step(result)
            done += 1
            if steps is None or done < steps:
                await asyncio.sleep(max(0.0, interval_s - (time.monotonic() - started)))


def _fingerprints(n: int) -> np.ndarray:
    """Room for `n` answers' fingerprints (scoring.similarity.motion_fingerprint's shape and dtype)."""
    import numpy as np

    from a2a_cli.motion.skeleton import N_JOINTS
    from a2a_cli.scoring.similarity import FINGERPRINT_SAMPLES

    return np.empty((n, FINGERPRINT_SAMPLES, N_JOINTS, 3), np.float32)


def _first_within(fingerprint: np.ndarray, others: np.ndarray, tolerance_m: float) -> int | None:
    """Index of the first of `others` closer than `tolerance_m` to `fingerprint`, or None.

    The distance is scoring.similarity.fingerprint_distance (mean joint distance), against many at
    once. A coarse pass over every 4th instant and every 3rd joint (12x less work) keeps only
    candidates: the distances are non-negative, so the full mean is at least the coarse sum over
    all the points, and a coarse mean under `tolerance_m` x (all points / coarse points) is a bound
    that no copy can escape, however its changes are placed.
    """
    import numpy as np

    def mean_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d = a - b
        return np.sqrt(np.einsum("...k,...k->...", d, d)).mean(axis=(-2, -1))

    if len(others) == 0:
        return None
    coarse = fingerprint[::4, ::3]
    bound = tolerance_m * (fingerprint.shape[0] * fingerprint.shape[1]) / (coarse.shape[0] * coarse.shape[1])
    candidates = np.flatnonzero(mean_distance(others[:, ::4, ::3], coarse) < bound)
    for index in candidates:
        if mean_distance(others[index], fingerprint) < tolerance_m:
            return int(index)
    return None


def _one_line(e: BaseException) -> str:
    """The first line of an error, at most 200 characters, printable (it may quote a miner's bytes)."""
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return _printable(text[:200])


def _printable(text: str) -> str:
    """`text` with every control or otherwise unprintable character as "?", so a miner's model name
    or field names cannot send escape sequences to the operator's terminal."""
    return "".join(c if c.isprintable() else "?" for c in text)
