"""Prompt audio given as a URL: fetched with a size and time cap, from public hosts only (unless allowed)."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

from a2a_cli.chain import protocol
from a2a_cli.chain.chain import is_public_address
from a2a_cli.errors import InputError

__all__ = ["fetch_audio_url"]


async def fetch_audio_url(url: str, *, allow_private: bool, max_bytes: int, timeout_s: float) -> bytes:
    """The bytes at an http(s) URL, fetched with a size and time cap; InputError for anything else.

    url: the prompt's audio URL (http:// or https://). Redirects are not followed (each hop would
        need the same checks); a compressed answer is refused (see `protocol.read_capped_response`).
    allow_private: also fetch from private, loopback and link-local hosts (local setups and tests).
    max_bytes: the largest file accepted, in bytes.
    timeout_s: the deadline for the whole fetch (resolving, connecting and reading), in seconds.

    The address check resolves the name before the request, so a DNS answer that changes between
    the check and the connection (rebinding) is not covered: keep URLs off where that matters.
    """
    import httpx

    try:
        parts = urlsplit(url)
        port = parts.port  # parsed here: an out-of-range port or a broken [v6] host raises ValueError
    except ValueError:
        raise InputError("audio URL is malformed (host or port)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("audio URL must be http:// or https:// with a host")
    if not allow_private:
        await _check_public_host(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    try:
        async with asyncio.timeout(timeout_s):
            # trust_env=False: no proxy or netrc credentials from the environment reach a caller-chosen host
            async with httpx.AsyncClient(follow_redirects=False, timeout=timeout_s, trust_env=False) as client:
                async with client.stream("GET", url, headers={"accept-encoding": "identity"}) as response:
                    return await protocol.read_capped_response(
                        response, max_bytes, refused=lambda why: InputError(f"audio URL answered {why}"),
                        over_limit=InputError(f"audio URL content is over the {max_bytes}-byte limit"))
    except TimeoutError:
        raise InputError(f"audio URL took longer than {timeout_s:g} s") from None
    except httpx.HTTPError as e:
        raise InputError(f"audio URL could not be fetched: {type(e).__name__}") from None


async def _check_public_host(host: str, port: int) -> None:
    """InputError unless every address `host` resolves to (for TCP `port`) is public."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise InputError(f"audio URL host {host!r} does not resolve") from None
    for *_, sockaddr in infos:
        if not is_public_address(sockaddr[0].split("%")[0]):
            raise InputError("audio URL points to a private, loopback or reserved address")
