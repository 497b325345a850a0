"""How the miner serves: the `miner.*` section of the config schema, resolved for the chain it serves.

Every default lives in `a2a_cli.config.SCHEMA` alone. Two settings there are automatic (an empty
`host`, a `metagraph_ttl_s` of 0) and become concrete for a chain (`resolve_automatic`); the
dataclass's own defaults are the schema's resolved for this machine's chains (sim, local), so
`MinerSettings()` is what `a2a mine --network sim` runs with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from a2a_cli.chain import protocol
from a2a_cli.chain.chain import on_this_machine
from a2a_cli.config import section_defaults

__all__ = ["MinerSettings", "resolve_automatic"]

LOOPBACK_HOST = "127.0.0.1"  # the host bound on this machine's chains: the whole subnet lives on loopback
EVERY_ADDRESS = "0.0.0.0"  # the host bound elsewhere
LOCAL_METAGRAPH_TTL_S = 2.0  # a validator that just registered on a local chain waits seconds to be let in
REMOTE_METAGRAPH_TTL_S = 60.0  # about five blocks of 12 s on a real network


def resolve_automatic(miner: dict[str, Any], *, local: bool) -> dict[str, Any]:
    """The `miner.*` values (`{key: value}`, as `Settings.section("miner")` gives them) with the
    automatic ones made concrete; `local` is True on this machine's chains (`on_this_machine`).

    An empty `host` binds loopback on local chains and every address elsewhere; a `metagraph_ttl_s`
    of 0 re-reads who may call every 2 s on local chains and every 60 s elsewhere. Returns a new dict.
    """
    resolved = dict(miner)
    if not resolved["host"]:
        resolved["host"] = LOOPBACK_HOST if local else EVERY_ADDRESS
    if not resolved["metagraph_ttl_s"]:
        resolved["metagraph_ttl_s"] = LOCAL_METAGRAPH_TTL_S if local else REMOTE_METAGRAPH_TTL_S
    return resolved


_DEFAULT = resolve_automatic(section_defaults("miner"), local=True)


@dataclass(frozen=True)
class MinerSettings:
    """How the miner serves: every `miner.*` setting (see `a2a_cli.config.SCHEMA` for each one's
    meaning and units), plus `motion_encoding`, which tests and benchmarks tune."""

    tasks: tuple[str, ...] = tuple(_DEFAULT["tasks"])  # what `a2a mine` serves (a2a_cli.tasks)
    host: str = _DEFAULT["host"]
    port: int = _DEFAULT["port"]
    max_concurrency: int = _DEFAULT["max_concurrency"]
    max_queue: int = _DEFAULT["max_queue"]
    timeout_s: float = _DEFAULT["timeout_s"]
    max_request_bytes: int = _DEFAULT["max_request_bytes"]
    min_stake: float = _DEFAULT["min_stake"]  # stake weight in the subnet's alpha (the chain's permit stake)
    require_validator_permit: bool = _DEFAULT["require_validator_permit"]
    allow_audio_urls: bool = _DEFAULT["allow_audio_urls"]
    allow_private_urls: bool = _DEFAULT["allow_private_urls"]  # lets tests and local setups fetch audio from 127.0.0.1
    url_max_bytes: int = _DEFAULT["url_max_bytes"]
    url_timeout_s: float = _DEFAULT["url_timeout_s"]
    metagraph_ttl_s: float = _DEFAULT["metagraph_ttl_s"]  # here 0 means re-read on every request
    motion_encoding: str = protocol.DEFAULT_MOTION_ENCODING  # how answers are encoded; not a setting
    signature_max_age_s: float = _DEFAULT["signature_max_age_s"]
    external_ip: str = _DEFAULT["external_ip"]  # advertised on chain by `a2a mine`; "" means the bound host
    headers_timeout_s: float = _DEFAULT["headers_timeout_s"]  # from connecting (or the last response) to the end of the headers
    max_pending_connections: int = _DEFAULT["max_pending_connections"]  # waiting for their headers (fair shares per address)
    max_connections: int = _DEFAULT["max_connections"]  # without an authenticated request (fair shares per address)
    keyless_rate: float = _DEFAULT["keyless_rate"]  # connections and unauthenticated requests per second per address
    keyless_burst: int = _DEFAULT["keyless_burst"]  # ... at once, before the rate applies
    send_timeout_s: float = _DEFAULT["send_timeout_s"]  # an answer that cannot move this long is dropped
    keep_alive_s: float = _DEFAULT["keep_alive_s"]  # an idle keep-alive connection is closed after this
    body_timeout_s: float = _DEFAULT["body_timeout_s"]  # the whole body, from the end of the headers
    body_grace_s: float = _DEFAULT["body_grace_s"]  # before the minimum rate applies
    body_min_rate: int = _DEFAULT["body_min_rate"]  # bytes/s, averaged from the end of the headers
    body_pool_requests: int = _DEFAULT["body_pool_requests"]  # bodies of authenticated callers received at once (1/16 per hotkey)
    body_pool_bytes: int = _DEFAULT["body_pool_bytes"]  # bytes of them held (a quarter per hotkey)

    @classmethod
    def from_settings(cls, settings: Any) -> MinerSettings:
        """The `miner.*` settings of a `config.Settings`, with the automatic values resolved for its
        `chain.network` (`resolve_automatic`)."""
        resolved = resolve_automatic(settings.section("miner"), local=on_this_machine(settings.get("chain.network")))
        return cls(**{**resolved, "tasks": tuple(resolved["tasks"])})
