"""Signed HTTP between validators and miners, over `bittensor.http_auth` (the `btauth/1` scheme).

What bittensor 11 provides and we use as is: `http_auth.sign(wallet, method, path, body,
receiver_ss58)` returns six `X-Bittensor-*` headers carrying the sender's hotkey, a nanosecond
nonce and an sr25519 signature over (protocol, scheme, method, path, sha256(body), nonce, sender,
receiver). `http_auth.verify(...)` checks, in order: header shape, receiver binding, freshness
(`max_age` back, `allowed_skew` ahead), the signature, and replay (a seen-nonce store written only
after the signature verifies). Its error messages never echo the signature or payload, so we can
return them to the caller. We add: one verifier object per miner with its own nonce store, errors
mapped to our `AuthFailed`, wallet loading with one-line errors, and `import bittensor` deferred to
first use so that no other command pays for it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from a2a_cli.errors import InputError

__all__ = ["DEFAULT_ALLOWED_SKEW_S", "DEFAULT_MAX_AGE_S", "AuthFailed", "RequestVerifier", "create_wallet", "load_wallet",
           "sign_request", "wallet_from_settings"]

DEFAULT_MAX_AGE_S = 10.0
DEFAULT_ALLOWED_SKEW_S = 2.0


class AuthFailed(Exception):
    """A request failed authentication (HTTP 401). The message is safe to send back."""


def sign_request(wallet: Any, *, method: str, path: str, body: bytes, receiver_hotkey: str) -> dict[str, str]:
    """The auth headers (six `X-Bittensor-*` names to values) for one request from `wallet`'s hotkey.

    wallet: a `bittensor.Wallet` whose hotkey can sign.
    method: the HTTP method ("POST"). path: the request's path and query ("/v1/generate").
    body: the exact bytes that will be sent (the signature covers their sha256).
    receiver_hotkey: the ss58 hotkey the request is addressed to (another receiver refuses it).

    Sign each attempt afresh: a retry with the same headers is a replay and is refused.
    """
    from bittensor import http_auth

    return http_auth.sign(wallet, method=method, path=path, body=body, receiver_ss58=receiver_hotkey)


class RequestVerifier:
    """Verifies signed requests addressed to one hotkey (the miner's), remembering nonces to stop replays."""

    def __init__(self, self_hotkey: str, *, max_age_s: float = DEFAULT_MAX_AGE_S, allowed_skew_s: float = DEFAULT_ALLOWED_SKEW_S):
        """self_hotkey: the ss58 hotkey requests must be addressed to (this miner's).
        max_age_s: the oldest signature accepted, in seconds (the replay window).
        allowed_skew_s: how far in the future a signature's time may be (clock skew), in seconds."""
        from bittensor import http_auth

        self.self_hotkey = self_hotkey
        self.max_age_s = float(max_age_s)
        self.allowed_skew_s = float(allowed_skew_s)
        self._http_auth = http_auth
        self._nonces = http_auth.InMemoryNonceStore(retention=self.max_age_s + self.allowed_skew_s + 1.0)

    @staticmethod
    def claimed_hotkey(headers: Mapping[str, str]) -> str | None:
        """The sender hotkey (ss58) a request's `headers` claim, before any verification (to refuse
        cheaply, early), or None when they claim none."""
        from bittensor import http_auth

        return headers.get(http_auth.HEADER_HOTKEY) or headers.get(http_auth.HEADER_HOTKEY.lower())

    def check_headers(self, headers: Mapping[str, str], *, method: str, path: str) -> None:
        """AuthFailed now if the headers cannot be valid whatever the body: malformed, addressed to
        another hotkey, stale or from the future, or an undecodable hotkey or signature. Lets a server
        refuse such a request before reading its body. `http_auth.verify` runs its checks in that order
        before the signature's; it is run here on an empty body with a store that records nothing, so
        its verdict on the signature itself (which covers the body's hash) is ignored.

        headers: the request's headers. method, path: as in `sign_request`."""
        try:
            self._http_auth.verify(
                dict(headers), b"", method=method, path=path, self_hotkey_ss58=self.self_hotkey,
                max_age=self.max_age_s, allowed_skew=self.allowed_skew_s, nonce_store=_RECORDS_NOTHING,
            )
        except (self._http_auth.BadSignature, self._http_auth.ReplayedRequest):
            return  # undecided until the body is in
        except self._http_auth.AuthError as e:
            raise AuthFailed(f"{type(e).__name__}: {e}") from None

    def verify(self, headers: Mapping[str, str], body: bytes, *, method: str, path: str) -> str:
        """The authenticated sender's ss58 hotkey, or AuthFailed saying why (missing, wrong receiver,
        stale, bad signature, replayed); a verified nonce is remembered, so the same headers fail next time.

        headers: the request's headers. body: the raw bytes as received. method, path: as in `sign_request`."""
        try:
            caller = self._http_auth.verify(
                dict(headers), body, method=method, path=path, self_hotkey_ss58=self.self_hotkey,
                max_age=self.max_age_s, allowed_skew=self.allowed_skew_s, nonce_store=self._nonces,
            )
        except self._http_auth.AuthError as e:
            raise AuthFailed(f"{type(e).__name__}: {e}") from None
        return caller.hotkey_ss58


class _RecordsNothing:
    """A nonce store that accepts every nonce and keeps none (for `check_headers`, which never accepts a request)."""

    retention = float("inf")

    @staticmethod
    def check_and_store(hotkey_ss58: str, nonce_ns: int) -> bool:
        return True


_RECORDS_NOTHING = _RecordsNothing()


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
