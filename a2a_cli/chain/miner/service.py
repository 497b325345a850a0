"""The miner's service: one request from raw HTTP to answer, and the chain view it admits callers by.

`MinerService.handle_generate` runs the refusals of the package doc in order (cheapest first);
generation runs in a thread pool of `max_concurrency` threads so the event loop keeps answering,
and a slot is held until its thread really finishes, even after a 504. A miner serves one model
per task it serves (`ServedModel`); a prompt for any other task is refused (422, naming the tasks
it serves), and its health answer lists the tasks, which is how validators learn them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from a2a_cli.chain import protocol
from a2a_cli.chain.auth import AuthFailed, RequestVerifier
from a2a_cli.chain.chain import Chain, Metagraph, Neuron
from a2a_cli.chain.connections import ConnectionGuard, KeylessBudget
from a2a_cli.chain.miner.admission import AdmissionQueue, IntakeLimit
from a2a_cli.chain.miner.audio_url import fetch_audio_url
from a2a_cli.chain.miner.body_intake import BodyPool, receive_body
from a2a_cli.chain.miner.refusal import HTTPRefusal
from a2a_cli.chain.miner.settings import MinerSettings
from a2a_cli.errors import InputError
from a2a_cli.tasks import DANCE, TASKS

if TYPE_CHECKING:
    import numpy as np

    from a2a_cli.motion import Motion

__all__ = ["GenerateFn", "MinerService", "ServedModel", "model_generate_fn"]

log = logging.getLogger("a2a.miner")

# (mono samples, sample rate, duration_s, seed) -> a Motion with exactly round(duration_s * 30) frames
GenerateFn = Callable[["np.ndarray", int, float, int], "Motion"]


def model_generate_fn(model: str, settings=None) -> GenerateFn:
    """The GenerateFn of the generator named `model` (`a2a_cli.generation.get_generator`): read the
    audio as its task reads it (music for dance, speech for gesture: chain.tasks_service), then
    generate (both CPU-heavy). `settings` (a2a_cli.config.Settings, or None for the defaults) carry
    the options of learned models (weights, steps, guidance, device)."""
    from a2a_cli.chain.tasks_service import analyse_prompt
    from a2a_cli.generation import get_generator
    from a2a_cli.generation.base import generator_task

    task = generator_task(model)
    generator = get_generator(model, settings)

    def generate(samples: np.ndarray, sr: int, duration_s: float, seed: int) -> Motion:
        return generator.generate(analyse_prompt(task, samples, sr), duration_s, seed)

    return generate


@dataclass(frozen=True)
class ServedModel:
    """The model a miner serves for one task: its name (sent back with every answer) and its GenerateFn."""

    model: str
    generate: GenerateFn


class MinerService:
    """Everything one miner process holds: its identity, chain view, admission queue and workers."""

    def __init__(self, *, settings: MinerSettings, chain: Chain, hotkey: str, generate: GenerateFn | None = None,
                 model: str | None = None, served: Mapping[str, ServedModel] | None = None):
        """settings: how it serves. chain: the subnet's chain (who may call, with what stake).
        hotkey: this miner's ss58 hotkey (requests must be addressed to it). generate and model: the
        dance model of a dance-only miner (its GenerateFn, run in the worker threads, and its name,
        sent back with every answer); or served: {task: ServedModel} for every task served, instead."""
        if (served is None) == (generate is None or model is None):
            raise ValueError("give either generate and model (a dance-only miner) or served")
        served = {DANCE: ServedModel(model, generate)} if served is None else dict(served)
        if not served or set(served) - set(TASKS):
            raise ValueError(f"served must map some of {TASKS} to models, got {sorted(served)}")
        self.served = {task: served[task] for task in TASKS if task in served}  # in TASKS order
        self.settings = settings
        self.chain = chain
        self.hotkey = hotkey
        self.verifier = RequestVerifier(hotkey, max_timeout_s=settings.timeout_s, max_age_s=settings.signature_max_age_s)
        self.admission = AdmissionQueue(settings.max_concurrency, settings.max_queue)
        self.bodies = BodyPool.for_settings(settings)
        self.intake = IntakeLimit(settings.max_concurrency + settings.max_queue)
        self.guard = ConnectionGuard(headers_timeout_s=settings.headers_timeout_s, max_pending=settings.max_pending_connections,
                                     max_unproven=settings.max_connections,
                                     budget=KeylessBudget(rate=settings.keyless_rate, burst=settings.keyless_burst),
                                     send_timeout_s=settings.send_timeout_s)
        self.pool = ThreadPoolExecutor(max_workers=settings.max_concurrency, thread_name_prefix="a2a-generate")
        self._metagraph: Metagraph | None = None
        self._metagraph_at = float("-inf")
        self._metagraph_lock = asyncio.Lock()

    async def metagraph(self) -> Metagraph:
        """The chain's metagraph, refreshed at most every `metagraph_ttl_s`, read off the event loop."""
        if time.monotonic() - self._metagraph_at >= self.settings.metagraph_ttl_s:
            async with self._metagraph_lock:
                if time.monotonic() - self._metagraph_at >= self.settings.metagraph_ttl_s:
                    try:
                        self._metagraph = await asyncio.to_thread(self.chain.metagraph)
                        self._metagraph_at = time.monotonic()
                    except Exception as e:  # keep serving from the last good view rather than failing every caller
                        if self._metagraph is None:
                            raise HTTPRefusal(503, "miner cannot read the chain yet") from None
                        log.warning("metagraph refresh failed: %s", str(e).splitlines()[0] if str(e) else type(e).__name__)
        return self._metagraph

    async def registered(self, hotkey: str) -> Neuron:
        """The neuron registered with the ss58 `hotkey`, or HTTPRefusal 403 (closing: a refused
        request's body is unwanted). Cheap: asked of a claim, before its signature is checked."""
        neuron = (await self.metagraph()).by_hotkey(hotkey)
        if neuron is None:
            raise HTTPRefusal(403, "caller hotkey is not registered on this subnet", close=True)
        return neuron

    def admitted_stake(self, neuron: Neuron) -> float:
        """The stake (in the subnet's alpha) of an authenticated caller, or HTTPRefusal 403 saying
        why the blacklist refuses it (below `min_stake`, or no validator permit when one is required)."""
        if neuron.stake < self.settings.min_stake:
            raise HTTPRefusal(403, f"caller stake {neuron.stake:g} alpha is below this miner's minimum of "
                              f"{self.settings.min_stake:g} alpha", close=True)
        if self.settings.require_validator_permit and not neuron.validator_permit:
            raise HTTPRefusal(403, "caller has no validator permit, which this miner requires", close=True)
        return neuron.stake

    async def handle_generate(self, request: Any) -> dict:
        """One prompt, from the raw Starlette `request` to the response dict (or HTTPRefusal), running
        the refusals of the package doc in order."""
        caller, signed_sha256, stake = await self._authenticate(request)
        try:
            async with asyncio.timeout(self.settings.timeout_s):  # a body trickled in slowly counts too
                with self.bodies.entry(caller) as take:
                    body = await receive_body(request, take, self.settings, signed_sha256)
                with self.intake.slot():
                    prompt, samples, sr = await self._prepare(request, body)
                await self.admission.acquire(stake)
                started = time.perf_counter()
                motion = await self._run_in_slot(samples, sr, prompt)
                generation_s = time.perf_counter() - started
        except TimeoutError:
            raise HTTPRefusal(504, f"the request did not finish within {self.settings.timeout_s:g} s", close=True) from None
        except InputError as e:  # an invalid prompt, or audio that cannot be decoded, fetched or analysed
            raise HTTPRefusal(422, str(e)) from None
        protocol.check_frames(motion, prompt)  # a generator bug must not reach a validator as a valid answer
        payload = await asyncio.to_thread(protocol.encode_motion_payload, motion, self.settings.motion_encoding)
        request.state.frames = motion.n_frames
        model = self.served[prompt.task].model
        return protocol.GenerateResponse(motion=payload, model=model, generation_s=round(generation_s, 4)).model_dump()

    async def _authenticate(self, request: Any) -> tuple[str, str, float]:
        """Everything decided from the headers alone, before any of the body is accepted: (the
        caller's verified hotkey, the body's signed sha256, the caller's stake), or HTTPRefusal.
        Every refusal here closes the connection: its body is never read."""
        limit = self.settings.max_request_bytes
        declared = request.headers.get("content-length")
        if declared is None:
            raise HTTPRefusal(411, "a signed request needs a Content-Length (the signature covers it)", close=True)
        if not declared.isdigit() or int(declared) > limit:
            raise HTTPRefusal(413, f"request body is over the {limit}-byte limit", close=True)
        claimed = RequestVerifier.claimed_hotkey(request.headers)
        if not claimed:
            raise HTTPRefusal(401, "request is not signed (missing X-Bittensor-* headers)", close=True)
        neuron = await self.registered(claimed)  # a cheap 403 for claims that could never be let in
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            caller, signed_sha256 = self.verifier.verify_headers(request.headers, method=request.method, path=path)
        except AuthFailed as e:
            raise HTTPRefusal(401, str(e), close=True) from None
        request.state.caller = caller
        stake = self.admitted_stake(neuron)
        self.guard.prove(request.client)  # its connection is the caller's now, outside every keyless bound
        return caller, signed_sha256, stake

    async def _prepare(self, request: Any, body: bytes) -> tuple[protocol.GenerateRequest, np.ndarray, int]:
        """Parse the verified body and get its audio: everything done before admission."""
        prompt = await asyncio.to_thread(protocol.parse_request, body, max_bytes=self.settings.max_request_bytes)  # InputError: 422
        request.state.prompt_id = prompt.prompt_id
        if prompt.task not in self.served:
            raise InputError(f"this miner does not serve task {prompt.task!r}; it serves {', '.join(self.served)}")
        samples, sr = await self._audio(prompt)
        return prompt, samples, sr

    async def _audio(self, prompt: protocol.GenerateRequest) -> tuple[np.ndarray, int]:
        audio = prompt.audio
        keep_s = prompt.duration_s + 1.0  # decode only what will be danced (a second to spare), not up to 10 min
        if audio.encoding == "url":
            s = self.settings
            if not s.allow_audio_urls:
                raise InputError("this miner does not accept audio URLs; send wav-base64")
            raw = await fetch_audio_url(audio.data, allow_private=s.allow_private_urls, max_bytes=s.url_max_bytes, timeout_s=s.url_timeout_s)
            samples, sr = await asyncio.to_thread(protocol.decode_wav_bytes, raw, keep_s=keep_s)
        else:
            samples, sr = await asyncio.to_thread(protocol.decode_wav, audio, keep_s=keep_s)
        protocol.check_audio_covers(samples, sr, prompt.duration_s)
        return samples[: int(round(prompt.duration_s * sr))], sr  # analyse only what will be danced

    async def _run_in_slot(self, samples: np.ndarray, sr: int, prompt: protocol.GenerateRequest) -> Motion:
        """Generate in the pool; the slot is released when the thread ends, not when we stop waiting."""
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self.pool, self.served[prompt.task].generate, samples, sr, prompt.duration_s, prompt.seed)
        except BaseException:
            self.admission.release()
            raise
        future.add_done_callback(lambda _f: self.admission.release())
        return await asyncio.shield(future)

    def health(self) -> dict:
        """What GET /v1/health answers: protocol, the tasks served (what validators read:
        protocol.parse_capabilities) and each one's model, hotkey, and the load right now. `model`
        is the first task's (dance's, when served), as health answers named it before tasks."""
        models = {task: served.model for task, served in self.served.items()}
        return {"status": "ok", "protocol": protocol.PROTOCOL_VERSION, "tasks": list(models), "models": models,
                "model": next(iter(models.values())), "hotkey": self.hotkey,
                "active": self.admission.active, "waiting": self.admission.waiting, "receiving": self.bodies.requests,
                "pending_connections": len(self.guard.pending), "unproven_connections": len(self.guard.unproven),
                "closed_connections": {"headers_late": self.guard.closed_late, "pushed_out": self.guard.closed_evicted,
                                       "over_budget": self.guard.closed_over_budget, "unread": self.guard.closed_unread},
                "max_concurrency": self.settings.max_concurrency, "max_queue": self.settings.max_queue}
