"""Signed HTTP between validators and miners: `bittensor.http_auth` (the `btauth/1` scheme) over
the request's headers, so that a miner verifies the signature before it accepts a byte of the body.

What bittensor 11 provides and we use as is: `http_auth.sign(wallet, method, path, body,
receiver_ss58)` returns six `X-Bittensor-*` headers carrying the sender's hotkey, a nanosecond
nonce and an sr25519 signature over (protocol, scheme, method, path, sha256(body), nonce, sender,
receiver). `http_auth.verify(...)` checks, in order: header shape, receiver binding, freshness
(`max_age` back, `allowed_skew` ahead), the signature, and replay (a seen-nonce store written only
after the signature verifies). Its error messages never echo the signature or payload, so we can
return them to the caller.

What a2a/2 adds (the reason for the version): btauth/1 signs the body's hash, so a server must
receive the whole body before it knows who sent it, and a keyless client claiming a validator's
public hotkey could make a miner hold body bytes in that validator's name. Here the body's sha256
travels in a header (`X-A2A-Body-Sha256`) and what btauth/1 signs, in the body's place, is a short
*descriptor* naming that hash and the body's length (`signed_descriptor`). A miner rebuilds the
descriptor from the headers and runs `http_auth.verify` on it when the headers arrive: a request
whose signature verifies is from the hotkey it claims before any of its body is read, and the body
is then only checked against the signed hash as it streams in.

Freshness is measured as bittensor's Axon did (its allowed delta plus the request's own timeout):
the validator signs how long it will wait for the answer (`X-A2A-Timeout-Ms`, in the descriptor),
and a miner accepts the request until that deadline (capped by its own `max_timeout_s`) plus
`max_age_s`. However slow the validator's path to the miner (a connect queued behind a flood, a
stalled network), its request is never stale while the validator still waits for the answer, and a
request nobody waits for any more is refused. The replay window is not widened: the nonce store
remembers every accepted nonce until its request could no longer be fresh, so each is accepted once.

We also add one verifier object per miner with its own nonce store, errors mapped to our
`AuthFailed`, wallet loading with one-line errors, and `import bittensor` deferred to first use so
that no other command pays for it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from a2a_cli.errors import InputError

__all__ = ["BODY_MISMATCH", "BODY_SHA256_HEADER", "MAX_SIGNED_TIMEOUT_MS", "TIMEOUT_HEADER", "DEFAULT_ALLOWED_SKEW_S", "DEFAULT_MAX_AGE_S", "AuthFailed", "RequestVerifier", "create_wallet",
           "load_wallet", "sign_request", "signed_descriptor", "wallet_from_settings"]

DEFAULT_MAX_AGE_S = 10.0
DEFAULT_ALLOWED_SKEW_S = 2.0
BODY_SHA256_HEADER = "X-A2A-Body-Sha256"
TIMEOUT_HEADER = "X-A2A-Timeout-Ms"
MAX_SIGNED_TIMEOUT_MS = 3_600_000  # an hour: a longer wait is malformed, whatever a miner's own cap
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
BODY_MISMATCH = "BadSignature: the body does not match its signed sha256"  # why a body that differs from its signature is refused


class AuthFailed(Exception):
    """A request failed authentication (HTTP 401). The message is safe to send back."""


def signed_descriptor(body_sha256: str, length: int, timeout_ms: int) -> bytes:
    """What btauth/1 signs in an a2a/2 request's place of the body: its sha256 (lower-case hex), its
    length in bytes, and how long the sender waits for the answer (ms), so the signature binds the
    body and the request's deadline without the verifier having the body."""
    return f"a2a/2 body\nsha256:{body_sha256}\nlength:{int(length)}\ntimeout_ms:{int(timeout_ms)}".encode()


def sign_request(wallet: Any, *, method: str, path: str, body: bytes, receiver_hotkey: str, timeout_s: float,
                 nonce_ns: int | None = None) -> dict[str, str]:
    """The auth headers for one request from `wallet`'s hotkey: the six `X-Bittensor-*` ones,
    `X-A2A-Body-Sha256`, `X-A2A-Timeout-Ms` and the body's Content-Length (the signature covers all three).

    wallet: a `bittensor.Wallet` whose hotkey can sign.
    method: the HTTP method ("POST"). path: the request's path and query ("/v1/generate").
    body: the exact bytes that will be sent.
    receiver_hotkey: the ss58 hotkey the request is addressed to (another receiver refuses it).
    timeout_s: how long the sender waits for the answer, in seconds (at most an hour): the request
        stays fresh that long (see the module doc).
    nonce_ns: the signature's time in ns since the epoch; None is now (another, as `http_auth.sign`
        allows, for tests of freshness).

    Sign each attempt afresh: a retry with the same headers is a replay and is refused.
    """
    import hashlib

    from bittensor import http_auth

    digest = hashlib.sha256(body).hexdigest()
    timeout_ms = min(MAX_SIGNED_TIMEOUT_MS, max(0, round(timeout_s * 1000)))
    headers = http_auth.sign(wallet, method=method, path=path, body=signed_descriptor(digest, len(body), timeout_ms),
                             receiver_ss58=receiver_hotkey, nonce_ns=nonce_ns)
    return {**headers, BODY_SHA256_HEADER: digest, TIMEOUT_HEADER: str(timeout_ms), "Content-Length": str(len(body))}


class RequestVerifier:
    """Verifies signed requests addressed to one hotkey (the miner's), remembering nonces to stop replays."""

    def __init__(self, self_hotkey: str, *, max_timeout_s: float, max_age_s: float = DEFAULT_MAX_AGE_S,
                 allowed_skew_s: float = DEFAULT_ALLOWED_SKEW_S):
        """self_hotkey: the ss58 hotkey requests must be addressed to (this miner's).
        max_timeout_s: the longest signed timeout honoured, in seconds (the miner's own deadline).
        max_age_s: how old a signature may be beyond its request's signed timeout, in seconds.
        allowed_skew_s: how far in the future a signature's time may be (clock skew), in seconds."""
        from bittensor import http_auth

        self.self_hotkey = self_hotkey
        self.max_timeout_s = float(max_timeout_s)
        self.max_age_s = float(max_age_s)
        self.allowed_skew_s = float(allowed_skew_s)
        self._http_auth = http_auth
        # every accepted nonce is remembered for as long as its request could still be fresh
        self._nonces = http_auth.InMemoryNonceStore(retention=self.max_age_s + self.max_timeout_s + self.allowed_skew_s + 1.0)

    @staticmethod
    def claimed_hotkey(headers: Mapping[str, str]) -> str | None:
        """The sender hotkey (ss58) a request's `headers` claim, before any verification (to refuse
        cheaply, early), or None when they claim none."""
        from bittensor import http_auth

        return _header(headers, http_auth.HEADER_HOTKEY)

    def verify_headers(self, headers: Mapping[str, str], *, method: str, path: str) -> tuple[str, str]:
        """(the sender's ss58 hotkey, the body's signed sha256 in hex), from the headers alone, or
        AuthFailed saying why (unsigned, no body hash, timeout or Content-Length, wrong receiver,
        stale, bad signature, replayed). A verified nonce is remembered: the same headers fail next time.

        headers: the request's headers (any case). method, path: as in `sign_request`."""
        digest = _header(headers, BODY_SHA256_HEADER)
        length = _header(headers, "Content-Length")
        timeout_ms = _header(headers, TIMEOUT_HEADER)
        if digest is None:
            raise AuthFailed(f"MalformedAuth: missing {BODY_SHA256_HEADER} (a2a/2 signs the body's hash; upgrade an a2a/1 client)")
        if not _SHA256_HEX.fullmatch(digest):
            raise AuthFailed(f"MalformedAuth: {BODY_SHA256_HEADER} must be 64 lower-case hex digits")
        if length is None or not length.isdigit():
            raise AuthFailed("MalformedAuth: a signed request needs a Content-Length (the signature covers it)")
        if timeout_ms is None or not timeout_ms.isdigit() or int(timeout_ms) > MAX_SIGNED_TIMEOUT_MS:
            raise AuthFailed(f"MalformedAuth: {TIMEOUT_HEADER} must be the signed wait in ms, at most {MAX_SIGNED_TIMEOUT_MS}")
        fresh_for_s = self.max_age_s + min(int(timeout_ms) / 1000, self.max_timeout_s)
        try:
            caller = self._http_auth.verify(
                dict(headers), signed_descriptor(digest, int(length), int(timeout_ms)), method=method, path=path,
                self_hotkey_ss58=self.self_hotkey, max_age=fresh_for_s, allowed_skew=self.allowed_skew_s, nonce_store=self._nonces,
            )
        except self._http_auth.AuthError as e:
            raise AuthFailed(f"{type(e).__name__}: {e}") from None
        return caller.hotkey_ss58, digest

    def verify(self, headers: Mapping[str, str], body: bytes, *, method: str, path: str) -> str:
        """The authenticated sender's ss58 hotkey for a request received whole (`verify_headers`,
        then the body against its signed hash), or AuthFailed saying why."""
        import hashlib

        caller, digest = self.verify_headers(headers, method=method, path=path)
        if hashlib.sha256(body).hexdigest() != digest or str(len(body)) != _header(headers, "Content-Length"):
            raise AuthFailed(BODY_MISMATCH)
        return caller



def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value by name in any case (a plain dict from a client, or a server's case-insensitive one)."""
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    if value is None and not hasattr(headers, "getlist"):
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value


def load_wallet(name: str, hotkey: str, path: str | os.PathLike) -> Any:
    """A `bittensor.Wallet` whose hotkey file exists, or InputError naming what is missing.

    name: the wallet (coldkey) name. hotkey: the hotkey's name inside it. path: the folder of
    wallets (~ is expanded), `~/.bittensor/wallets` by bittensor's convention.

    Only the hotkey is loaded (it signs requests and, on the real chain, serving and weights);
    the coldkey is unlocked by bittensor itself when a registration needs it.
    """
    import bittensor as bt

    wallet = bt.Wallet(name=name, hotkey=hotkey, path=str(os.path.expanduser(path)))
    if not wallet.hotkey_file.exists_on_device():
        raise InputError(
            f"no hotkey {hotkey!r} in wallet {name!r} under {path}; create one with "
            f"`btcli wallet create --wallet {name} --wallet-hotkey {hotkey}` (or choose another with --wallet/--hotkey)"
        )
    return wallet


def create_wallet(name: str, hotkey: str, path: str | os.PathLike) -> Any:
    """A new wallet with an unencrypted coldkey and hotkey: for local development and tests only.

    name, hotkey, path: as in `load_wallet`; an existing key file is not overwritten.

    The mnemonics are discarded (never printed or logged): such a wallet cannot be recovered and
    must never hold real TAO.
    """
    import bittensor as bt

    wallet = bt.Wallet(name=name, hotkey=hotkey, path=str(os.path.expanduser(path)))
    discard = lambda _mnemonic: None  # noqa: E731
    wallet.create_new_coldkey(use_password=False, overwrite=False, on_mnemonic=discard)
    wallet.create_new_hotkey(use_password=False, overwrite=False, on_mnemonic=discard)
    return wallet


def wallet_from_settings(settings: Any) -> Any:
    """The wallet the `chain.wallet_*` settings name (see `load_wallet`)."""
    return load_wallet(settings.get("chain.wallet_name"), settings.get("chain.wallet_hotkey"), settings.get("chain.wallet_path"))
