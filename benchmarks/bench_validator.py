"""One validator step over 64 local miners: it must end within its timeout + 2 s, peak RSS under 1 GB.

The 64 miners are the real miner service (signatures verified, blacklist, admission queue) with a
fast fake generator whose moves differ per miner (which joints swing, how far, how fast), so that
every answer is a distinct dance, even allowing for delays, mirrors and speed changes, that the
validator parses, compares for copies and scores in full (no answer is skipped as a copy). They serve
on 127.0.0.1 from one separate process, so what is measured here is the validator alone: its wall
time for the step (prompt, signing, 64 concurrent queries, audio analysis, judging, weights,
state save) and its peak resident memory.
Baselines, same run: the same step over 1 miner (the step's fixed cost), and 64 times that
step's answer latency (what asking the miners one after another would take).

Run: .venv/bin/python benchmarks/bench_validator.py
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: a2a_cli, and support/ (shared with the tests)

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from support.subnet_helpers import local_chain_with, make_wallets  # noqa: E402

N_MINERS = 64
TIMEOUT_S = 10.0
MEMORY_LIMIT_MB = 1024


def varied_generate(index: int):
    """A generator for miner `index`: both arms (shoulders, elbows and a collar) swinging,
    each about its own axis, as far and as fast as miner `index`'s own random numbers say (cheap,
    distinct per miner: no two alike, even delayed, mirrored or re-timed)."""
    from a2a_cli.chain import protocol
    from a2a_cli.motion import Motion
    from a2a_cli.motion.grounding import grounded

    rng = np.random.default_rng(index)
    joints = [16, 17, 18, 19, int(rng.choice([13, 14]))]  # shoulders, elbows, a collar
    axes, amplitudes = rng.integers(0, 3, size=5), rng.uniform(0.4, 1.0, size=5)
    hz, phases = rng.uniform(0.3, 2.0, size=5), rng.uniform(0, 2 * np.pi, size=5)

    def generate(samples, sr, duration_s, seed):
        n = protocol.expected_frames(duration_s)
        t = np.arange(n, dtype=np.float32) / protocol.FPS
        poses = np.zeros((n, 24, 3), np.float32)
        poses[:, 0, 1] = 0.3 * np.sin(2 * np.pi * 0.5 * t)
        for j, axis, amplitude, f, phase in zip(joints, axes, amplitudes, hz, phases):
            poses[:, j, axis] = amplitude * np.sin(2 * np.pi * f * t + phase)
        return grounded(Motion(poses=poses, trans=np.zeros((n, 3), np.float32), fps=protocol.FPS))  # feet on the floor

    return generate


def serve_miners(chain_path: str, keys_path: str) -> None:
    """(child process) Serve one miner per (hotkey, coldkey) in keys_path, all in one event loop."""
    from types import SimpleNamespace

    import uvicorn

    from a2a_cli.chain.local_chain import LocalChain
    from a2a_cli.chain.miner import MinerService, MinerSettings, bind_socket, create_app, server_config

    chain = LocalChain(chain_path)
    servers = []
    for index, (hotkey, coldkey) in enumerate(json.loads(Path(keys_path).read_text())):
        service = MinerService(settings=MinerSettings(min_stake=1.0, timeout_s=60.0), chain=chain, hotkey=hotkey,
                               generate=varied_generate(index), model=f"sway{index}")
        sock = bind_socket("127.0.0.1", 0)
        chain.serve_axon(SimpleNamespace(hotkey=SimpleNamespace(ss58_address=hotkey), coldkeypub=SimpleNamespace(ss58_address=coldkey)),
                         "127.0.0.1", sock.getsockname()[1])
        app = create_app(service)
        server = uvicorn.Server(server_config(app, service.settings, service.guard, log_level="warning", lifespan="off"))
        servers.append((server, sock))

    async def main():
        tasks = [asyncio.create_task(server.serve(sockets=[sock])) for server, sock in servers]
        while not all(server.started for server, _ in servers):
            await asyncio.sleep(0.05)
        print("ready", flush=True)
        await asyncio.gather(*tasks)

    asyncio.run(main())


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def one_step(chain, wallet, library, state_path, sample_size: int):
    from a2a_cli.chain.prompts import PromptLibrary
    from a2a_cli.chain.validator import Validator, ValidatorSettings

    validator = Validator(chain=chain, wallet=wallet, prompts=PromptLibrary(library, min_window_s=15.0, max_window_s=15.0),
                          state_path=state_path, seed_source=lambda: 7,
                          settings=ValidatorSettings(sample_size=sample_size, timeout_s=TIMEOUT_S, alpha=0.1, weights_interval_blocks=1))
    start = time.perf_counter()
    result = asyncio.run(validator.step())
    return time.perf_counter() - start, result


def main() -> None:
    from a2a_cli.examples import synth_song

    root = Path(tempfile.mkdtemp(prefix="a2a-bench-validator-"))
    library = root / "library"
    library.mkdir()
    sf.write(library / "song.wav", synth_song(120.0, 30.0, sr=22050, seed=1), 22050)
    wallets = make_wallets(root / "wallets", "validator", *[f"m{i}" for i in range(N_MINERS)])
    validator, miners = wallets[0], wallets[1:]
    chain = local_chain_with(root / "chain.json", {validator: 1000.0}, miners, block_seconds=0.1, weights_rate_limit=1)
    keys = [(w.hotkey.ss58_address, w.coldkeypub.ss58_address) for w in miners]
    (root / "keys.json").write_text(json.dumps(keys))

    child = subprocess.Popen([sys.executable, __file__, "--serve-miners", str(root / "chain.json"), str(root / "keys.json")],
                             stdout=subprocess.PIPE, text=True)
    try:
        if child.stdout.readline().strip() != "ready":
            raise SystemExit("the miners did not start")
        print(f"{N_MINERS} miners serving on 127.0.0.1 from one process; prompts of 15 s; timeout {TIMEOUT_S:g} s")
        rss_before = rss_mb()
        base_s, base = one_step(chain, validator, library, root / "state1.json", 1)
        wall_s, result = one_step(chain, validator, library, root / "state64.json", N_MINERS)
        again_s, _ = one_step(chain, validator, library, root / "state64b.json", N_MINERS)
    finally:
        child.kill()  # uvicorn servers sharing one loop do not all heed SIGTERM; nothing of theirs needs saving
        child.wait(10)

    failed = [a.reason for a in result.answers if a.latency_s is None or a.reason.startswith(("no answer", "HTTP", "connection", "invalid", "copy", "answer over", "scoring failed"))]
    scored = len(result.answers) - len(failed)  # parsed, compared for copies and scored (a failed gate is a score too)
    serial_s = N_MINERS * base.answers[0].latency_s
    peak = peak_rss_mb()
    print(f"baseline: step over 1 miner                 {base_s:6.2f} s  ({base.answers[0].reason})")
    print(f"step over {N_MINERS} miners                        {wall_s:6.2f} s  ({wall_s / base_s:.1f}x the 1-miner step); "
          f"again {again_s:.2f} s")
    print(f"  answers judged in full: {scored}/{len(result.answers)}; failed: {len(failed)} {sorted(set(failed))[:3]}")
    print(f"  {N_MINERS} x the 1-miner answer latency (asking one after another): {serial_s:6.2f} s  "
          f"({serial_s / wall_s:.1f}x the concurrent step)")
    print(f"  limit: timeout + 2 s = {TIMEOUT_S + 2:.0f} s   {'OK' if max(wall_s, again_s) <= TIMEOUT_S + 2 else 'FAIL'}")
    print(f"validator memory: RSS {rss_before:.0f} MB before the steps, peak {peak:.0f} MB (limit {MEMORY_LIMIT_MB} MB)   "
          f"{'OK' if peak < MEMORY_LIMIT_MB else 'FAIL'}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-miners":
        serve_miners(sys.argv[2], sys.argv[3])
    else:
        main()
