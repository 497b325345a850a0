"""What a validator must never lose: each miner's moving average per task, the step counter, the last weights.

A miner has one record per task it was scored in (a2a_cli.tasks: dance, gesture), each with its own
moving average, so a dance-only miner is never averaged with zeros for a task it does not serve.
The moving averages are keyed by hotkey and remember the UID they were earned at: when the
metagraph shows a UID in other hands (the hotkey deregistered, or was replaced and registered
again elsewhere), its record is dropped and the newcomer starts from 0, so nobody inherits
another's reputation. A new record starts at 0 and climbs by `alpha` of each score, so one lucky
answer cannot buy a large weight.

**Weights** combine the tasks by their shares (the `validator.<task>_share` settings): each task
with a positive average somewhere is a pool of its share (shares normalised over those tasks), split
among the miners in proportion to their average in that task times their variety. So a dance-only
miner is paid from the dance pool alone, as much as a miner of the same dance average that also
serves gesture; the latter is paid from the gesture pool besides. The pools do not depend on how
the two judges' scales compare: a share is the part of the weight a task gets, whatever its scores.

`save` writes through `fileio.atomic_write` (temporary file, fsync, rename): a kill -9 at any
moment leaves the previous step's file or this step's, never half of one, and `load` continues
from it. Version 1 files (from before tasks: one dance record per miner) load as dance records; the
next save writes version 2.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from a2a_cli.errors import InputError, WorkError
from a2a_cli.fileio import atomic_write, exclusive_lock, parse_versioned_json
from a2a_cli.tasks import DANCE, TASKS

__all__ = ["MIN_STYLES", "RECENT_STYLES", "STATE_VERSION", "VARIETY_FLOOR", "MinerRecord", "ValidatorState", "exclusive_state",
           "validator_state_path"]

STATE_VERSION = 2  # 1: before tasks, {"miners": [dance rows]}; 2: {"tasks": {task: [rows]}}
RECENT_STYLES = 8
MIN_STYLES = 4
VARIETY_FLOOR = 0.5


@dataclass
class MinerRecord:
    """One miner in one task as this validator knows it."""

    uid: int
    hotkey: str
    ema: float = 0.0
    last_score: float | None = None
    last_reason: str = ""
    last_latency_s: float | None = None
    queries: int = 0
    last_step: int = -1
    recent_styles: list[list[float]] = field(default_factory=list)

    def variety(self) -> float:
        """The factor on this miner's weight from the variety of its recent answers (module doc)."""
        if len(self.recent_styles) < MIN_STYLES:
            return 1.0
        from a2a_cli.scoring.realism import shipped_model

        return VARIETY_FLOOR + (1.0 - VARIETY_FLOOR) * shipped_model().diversity(self.recent_styles)


@dataclass
class ValidatorState:
    """Everything persisted between steps (and restarts) for one validator hotkey on one subnet."""

    network: str
    netuid: int
    hotkey: str
    step: int = 0
    last_weights_block: int | None = None
    tasks: dict[str, dict[str, MinerRecord]] = field(default_factory=lambda: {task: {} for task in TASKS})  # task -> hotkey -> record

    def sync(self, metagraph: Any) -> list[MinerRecord]:
        """Drop the records of hotkeys that left the subnet or now sit at another UID (in every
        task); returns them. `metagraph` is the subnet now (a `chain.Metagraph`)."""
        dropped = []
        for records in self.tasks.values():
            for hotkey, record in list(records.items()):
                neuron = metagraph.by_hotkey(hotkey)
                if neuron is None or neuron.uid != record.uid:
                    dropped.append(records.pop(hotkey))
        return dropped

    def record_score(self, uid: int, hotkey: str, score: float, alpha: float, *, task: str = DANCE, reason: str = "",
                     latency_s: float | None = None, style: list[float] | None = None) -> MinerRecord:
        """In `task`'s record of the miner: ema <- alpha * score + (1 - alpha) * ema, starting from 0
        for a hotkey not seen in that task (or reset).

        uid, hotkey: the miner (its UID now, its ss58 hotkey). score: the step's score, clamped to
        [0, 1] (NaN counts as 0). alpha: the newest score's weight, in (0, 1]. task: what was asked
        (a2a_cli.tasks). reason: why it scored so, kept for the operator. latency_s: its answer's
        round trip in seconds, None without one. style: the answer's style vector when its judge
        gives one the variety factor reads (chain.tasks_service.TaskKind.styles_vary).
        """
        if not 0.0 < alpha <= 1.0:
            raise InputError(f"alpha must be in (0, 1], got {alpha}")
        score = float(score) if math.isfinite(score) else 0.0
        score = min(max(score, 0.0), 1.0)
        records = self.tasks[task]
        record = records.get(hotkey)
        if record is None or record.uid != uid:
            record = records[hotkey] = MinerRecord(uid=int(uid), hotkey=hotkey)
        record.ema = alpha * score + (1.0 - alpha) * record.ema
        record.last_score, record.last_reason, record.last_latency_s = score, reason, latency_s
        record.queries += 1
        record.last_step = self.step
        if style is not None:
            record.recent_styles = (record.recent_styles + [[round(float(v), 4) for v in style]])[-RECENT_STYLES:]
        return record

    def weight_parts(self, metagraph: Any, shares: Mapping[str, float]) -> dict[str, dict[int, float]]:
        """{task: {uid: its part of the weights}} (module doc): each task of `shares` ({task: share
        >= 0}) with a positive average among the miners registered in `metagraph` (None: every
        record, as after the step's `sync`) is a pool of its share, normalised over those tasks,
        split by average times variety. The parts sum to 1."""
        earned = {}
        for task, share in shares.items():
            records = self.tasks[task]
            if metagraph is not None:
                records = {n.hotkey: records[n.hotkey] for n in metagraph.neurons
                           if n.hotkey in records and records[n.hotkey].uid == n.uid}
            merit = {r.uid: r.ema * r.variety() for r in records.values()}
            merit = {uid: m for uid, m in merit.items() if m > 0.0}  # an average so small its product underflows earned nothing
            if share > 0.0 and merit:
                earned[task] = (share, merit)
        total_share = sum(share for share, _ in earned.values())
        # each miner's fraction of its task first: a tiny average times the share would underflow to 0
        return {task: {uid: (m / sum(merit.values())) * (share / total_share) for uid, m in merit.items()}
                for task, (share, merit) in earned.items()}

    def weights(self, metagraph: Any, shares: Mapping[str, float]) -> tuple[list[int], list[float]]:
        """(uids, weights) of the miners registered in `metagraph` that earned any, by uid: the sum of
        each one's parts over the tasks (`weight_parts`; `shares`: {task: share >= 0}). They sum to 1
        (`Chain.set_weights` normalises anyway). Empty when nobody has earned anything."""
        combined: dict[int, float] = {}
        for parts in self.weight_parts(metagraph, shares).values():
            for uid, part in parts.items():
                combined[uid] = combined.get(uid, 0.0) + part
        uids = sorted(combined)
        return uids, [combined[u] for u in uids]

    # --- the file --------------------------------------------------------------------------------

    def to_json(self) -> str:
        """The state as the JSON text `save` writes (version, identity, counters, per task one row per miner)."""
        doc = {"version": STATE_VERSION, "network": self.network, "netuid": self.netuid, "hotkey": self.hotkey,
               "step": self.step, "last_weights_block": self.last_weights_block,
               "tasks": {task: [asdict(r) for r in sorted(records.values(), key=lambda r: r.uid)]
                         for task, records in self.tasks.items()}}
        return json.dumps(doc, indent=1)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the state to `path` atomically (a kill at any moment leaves the old file or the new one)."""
        return atomic_write(path, self.to_json())

    @classmethod
    def from_json(cls, text: str, where: str = "validator state") -> ValidatorState:
        """The state in `text` (as `to_json` writes it, or a version 1 file: its rows are dance's);
        `where` names it in the WorkError a malformed one raises."""
        doc = parse_versioned_json(text, (1, STATE_VERSION), where)
        try:
            rows = {DANCE: doc["miners"]} if doc["version"] == 1 else doc["tasks"]
            if not isinstance(rows, dict) or set(rows) - set(TASKS):
                raise ValueError(f"tasks {sorted(rows) if isinstance(rows, dict) else rows!r} are not among {', '.join(TASKS)}")
            tasks = {task: cls._records(rows.get(task, [])) for task in TASKS}
            last_weights_block = doc["last_weights_block"]
            if last_weights_block is not None and (type(last_weights_block) is not int or last_weights_block < 0):
                raise ValueError(f"last_weights_block {last_weights_block!r} is not a block number")
            state = cls(network=str(doc["network"]), netuid=int(doc["netuid"]), hotkey=str(doc["hotkey"]),
                        step=int(doc["step"]), last_weights_block=last_weights_block, tasks=tasks)
        except (KeyError, TypeError, ValueError) as e:
            raise WorkError(f"{where} is malformed ({type(e).__name__}: {e}); delete it to start afresh") from None
        return state

    @staticmethod
    def _records(rows: list) -> dict[str, MinerRecord]:
        """One task's rows of a state file, checked, by hotkey; ValueError or TypeError for a bad row."""
        miners = {}
        for row in rows:
            record = MinerRecord(**row)
            if not (math.isfinite(record.ema) and 0.0 <= record.ema <= 1.0):
                raise ValueError(f"moving average {record.ema!r} out of [0, 1]")
            styles = record.recent_styles
            if not isinstance(styles, list) or len(styles) > RECENT_STYLES or len({len(v) for v in styles}) > 1 \
                    or not all(isinstance(x, (int, float)) and math.isfinite(x) for v in styles for x in v):
                raise ValueError(f"recent styles of {record.hotkey} are not at most {RECENT_STYLES} vectors of numbers")
            miners[record.hotkey] = record
        return miners

    @classmethod
    def load(cls, path: str | os.PathLike, *, network: str, netuid: int, hotkey: str) -> ValidatorState:
        """The saved state at `path`, or a fresh one when there is none yet.

        network, netuid, hotkey: the validator's chain, subnet and ss58 hotkey; a file written for
        another network, subnet or hotkey is refused rather than mixed in.
        (Temporary files left by a save that was killed half-way are removed by `exclusive_state`,
        under the lock: here they could be the live save of the validator that holds it.)
        """
        path = Path(path)
        try:
            text = path.read_text()
        except FileNotFoundError:
            return cls(network=network, netuid=int(netuid), hotkey=hotkey)
        except IsADirectoryError:
            raise InputError(f"validator state {path} is a folder; give a file path (--state)") from None
        except OSError as e:
            raise WorkError(f"cannot read validator state {path}: {e.strerror or e}") from None
        state = cls.from_json(text, f"validator state {path}")
        if (state.network, state.netuid, state.hotkey) != (network, int(netuid), hotkey):
            raise InputError(f"validator state {path} belongs to hotkey {state.hotkey} on {state.network} netuid "
                             f"{state.netuid}, not {hotkey} on {network} netuid {netuid}; choose another --state file")
        return state


def validator_state_path(data_dir: str | os.PathLike, network: str, netuid: int, hotkey: str) -> Path:
    """Where a validator's state lives by default: <data_dir>/validator/<network>-<netuid>-<hotkey>.json.

    data_dir: the a2a data dir (`config.Settings.data_dir`); a leading ~ is expanded.
    network: the chain's network name or ws:// URL (made file-safe: other characters become "_").
    netuid: the subnet's uid. hotkey: the validator's hotkey, ss58.
    """
    safe_network = "".join(c if c.isalnum() or c in "-_." else "_" for c in network)
    return Path(data_dir).expanduser() / "validator" / f"{safe_network}-{int(netuid)}-{hotkey}.json"


@contextlib.contextmanager
def exclusive_state(path: str | os.PathLike) -> Iterator[None]:
    """Hold `path` for one validator process: a second one on the same file would overwrite its averages.

    An flock on a sibling `.lock` file; the OS drops it when the process dies, even by kill -9.
    Once it is held, the temporary files of saves killed before their rename are removed.
    """
    with exclusive_lock(path, what="validator state", busy=f"another validator is already running with the state file {path}"):
        yield
