"""Signing and verification with real bittensor wallets (keypairs in temp dirs; no chain): a2a/2 signs
the body's hash in the headers, so a request is verified before its body is read."""

from __future__ import annotations

import time

import pytest

from a2a_cli.chain.auth import BODY_SHA256_HEADER, TIMEOUT_HEADER, AuthFailed, RequestVerifier, load_wallet, sign_request, signed_descriptor
from a2a_cli.errors import InputError
from support.subnet_helpers import make_wallets

PATH = "/v1/generate"
BODY = b'{"prompt_id": "p1"}'


@pytest.fixture(scope="module")
def wallets(tmp_path_factory):
    validator, miner, other = make_wallets(tmp_path_factory.mktemp("wallets"), "validator", "miner", "other")
    return validator, miner, other


def _verify(verifier, headers, body=BODY, path=PATH, method="POST"):
    return verifier.verify(headers, body, method=method, path=path)


def test_a_signed_request_verifies_as_its_sender(wallets):
    validator, miner, _ = wallets
    verifier = RequestVerifier(miner.hotkey.ss58_address, max_timeout_s=60.0)
    headers = sign_request(validator, method="POST", path=PATH, body=BODY, receiver_hotkey=miner.hotkey.ss58_address, timeout_s=20.0)
    assert _verify(verifier, headers) == validator.hotkey.ss58_address
    assert RequestVerifier.claimed_hotkey(headers) == validator.hotkey.ss58_address
    assert RequestVerifier.claimed_hotkey({k.lower(): v for k, v in headers.items()}) == validator.hotkey.ss58_address


def test_unsigned_requests_fail(wallets):
    _, miner, _ = wallets
    with pytest.raises(AuthFailed, match="MalformedAuth"):
        _verify(RequestVerifier(miner.hotkey.ss58_address, max_timeout_s=60.0), {"content-type": "application/json"})


@pytest.mark.parametrize("tamper, reason", [
    (lambda h: (h, BODY + b" "), "BadSignature"),                      # body changed after signing
    (lambda h: ({**h, "X-Bittensor-Signature": "0x" + "00" * 64}, BODY), "BadSignature"),
    (lambda h: ({**h, "X-Bittensor-Signature": "zz"}, BODY), "MalformedAuth"),
    (lambda h: ({**h, "X-Bittensor-Nonce": str(int(h["X-Bittensor-Nonce"]) + 1)}, BODY), "BadSignature"),
])
def test_badly_signed_requests_fail(wallets, tamper, reason):
    validator, miner, _ = wallets
    headers = sign_request(validator, method="POST", path=PATH, body=BODY, receiver_hotkey=miner.hotkey.ss58_address, timeout_s=20.0)
    headers, body = tamper(headers)
    with pytest.raises(AuthFailed, match=reason):
        _verify(RequestVerifier(miner.hotkey.ss58_address, max_timeout_s=60.0), headers, body)


def test_a_signature_for_another_path_or_method_fails(wallets):
    validator, miner, _ = wallets
    verifier = RequestVerifier(miner.hotkey.ss58_address, max_timeout_s=60.0)
    headers = sign_request(validator, method="POST", path="/v1/health", body=BODY, receiver_hotkey=miner.hotkey.ss58_address, timeout_s=20.0)
    with pytest.raises(AuthFailed, match="BadSignature"):
        _verify(verifier, headers)
    headers = sign_request(validator, method="PUT", path=PATH, body=BODY, receiver_hotkey=miner.hotkey.ss58_address, timeout_s=20.0)
    with pytest.raises(AuthFailed, match="BadSignature"):
        _verify(verifier, headers)


def test_claiming_someone_elses_hotkey_fails(wallets):
    validator, miner, other = wallets
    headers = sign_request(other, method="POST", path=PATH, body=BODY, receiver_hotkey=miner.hotkey.ss58_address, timeout_s=20.0)
    headers["X-Bittensor-Hotkey"] = validator.hotkey.ss58_address
    with pytest.raises(AuthFailed, match="BadSignature"):
        _verify(RequestVerifier(miner.hotkey.ss58_address, max_timeout_s=60.0), headers)


def test_a_replayed_request_fails_the_second_time(wallets):
    validator, miner, _ = wallets
    verifier = RequestVerifier(miner.hotkey.ss58_address, max_timeout_s=60.0)
    headers = sign_request(validator, method="POST", path=PATH, body=BODY, receiver_hotkey=miner.hotkey.ss58_address, timeout_s=20.0)
    assert _verify(verifier, headers) == validator.hotkey.ss58_address
    with pytest.raises(AuthFailed, match="ReplayedRequest"):
        _verify(verifier, headers)


def test_stale_and_future_requests_fail(wallets):
    validator, miner, _ = wallets
    verifier = RequestVerifier(miner.hotkey.ss58_address, max_timeout_s=60.0, max_age_s=5.0, allowed_skew_s=1.0)
    from bittensor import http_auth

    for offset_s, message in ((-6.0, "older than the 5s"), (+3.0, "more than 1s in the future")):
        nonce = time.time_ns() + int(offset_s * 1e9)
        headers = sign_request(validator, method="POST", path=PATH, body=BODY, receiver_hotkey=miner.hotkey.ss58_address, timeout_s=0.0, nonce_ns=nonce)
        with pytest.raises(AuthFailed, match=f"StaleRequest: nonce is {message}"):
            _verify(verifier, headers)


def test_a_request_is_fresh_until_its_signed_timeout_and_accepted_once(wallets):
    """A validator's slow path (a connect queued behind a flood) cannot make its request stale: it is
    fresh for max_age_s beyond the wait it signed, never beyond the miner's own cap, and once only."""
    validator, miner, _ = wallets
    verifier = RequestVerifier(miner.hotkey.ss58_address, max_timeout_s=30.0, max_age_s=5.0)

    def signed(age_s: float, timeout_s: float) -> dict:
        return sign_request(validator, method="POST", path=PATH, body=BODY, receiver_hotkey=miner.hotkey.ss58_address,
                            timeout_s=timeout_s, nonce_ns=time.time_ns() - int(age_s * 1e9))

    late = signed(age_s=24.0, timeout_s=20.0)  # signed 24 s ago, waiting 20 s: fresh until 25 s
    assert _verify(verifier, late) == validator.hotkey.ss58_address
    with pytest.raises(AuthFailed, match="ReplayedRequest"):
        _verify(verifier, late)
    with pytest.raises(AuthFailed, match="StaleRequest: nonce is older than the 25s"):
        _verify(verifier, signed(age_s=26.0, timeout_s=20.0))
    with pytest.raises(AuthFailed, match="StaleRequest: nonce is older than the 35s"):  # 600 s asked, the miner's 30 honoured
        _verify(verifier, signed(age_s=36.0, timeout_s=600.0))
    with pytest.raises(AuthFailed, match="BadSignature"):  # the wait is signed: it cannot be stretched
        _verify(verifier, {**signed(age_s=26.0, timeout_s=20.0), TIMEOUT_HEADER: "25000"})
    with pytest.raises(AuthFailed, match="must be the signed wait in ms"):
        _verify(verifier, {**signed(age_s=0.0, timeout_s=20.0), TIMEOUT_HEADER: "-1"})


def test_a_request_for_another_receiver_fails(wallets):
    validator, miner, other = wallets
    headers = sign_request(validator, method="POST", path=PATH, body=BODY, receiver_hotkey=other.hotkey.ss58_address, timeout_s=20.0)
    with pytest.raises(AuthFailed, match="WrongReceiver"):
        _verify(RequestVerifier(miner.hotkey.ss58_address, max_timeout_s=60.0), headers)
    from bittensor import http_auth

    headers = sign_request(validator, method="POST", path=PATH, body=BODY, receiver_hotkey=miner.hotkey.ss58_address, timeout_s=20.0)
    unbound = {**http_auth.sign(validator, method="POST", path=PATH, body=signed_descriptor(headers[BODY_SHA256_HEADER], len(BODY), 20_000)),
               BODY_SHA256_HEADER: headers[BODY_SHA256_HEADER], TIMEOUT_HEADER: "20000", "Content-Length": str(len(BODY))}  # bound to no receiver
    with pytest.raises(AuthFailed, match="WrongReceiver"):
        _verify(RequestVerifier(miner.hotkey.ss58_address, max_timeout_s=60.0), unbound)


def test_the_headers_alone_prove_the_sender_and_pin_the_body(wallets):
    """What a miner checks before it accepts any of the body: who signed, and which body (hash, length)."""
    import hashlib

    validator, miner, _ = wallets
    verifier = RequestVerifier(miner.hotkey.ss58_address, max_timeout_s=60.0)
    headers = sign_request(validator, method="POST", path=PATH, body=BODY, receiver_hotkey=miner.hotkey.ss58_address, timeout_s=20.0)
    assert headers["Content-Length"] == str(len(BODY))
    assert verifier.verify_headers(headers, method="POST", path=PATH) == (validator.hotkey.ss58_address,
                                                                         hashlib.sha256(BODY).hexdigest())
    for name, value in ((BODY_SHA256_HEADER, hashlib.sha256(b"another body").hexdigest()), ("Content-Length", str(len(BODY) + 1))):
        fresh = sign_request(validator, method="POST", path=PATH, body=BODY, receiver_hotkey=miner.hotkey.ss58_address, timeout_s=20.0)
        with pytest.raises(AuthFailed, match="BadSignature"):  # the hash and the length are signed
            verifier.verify_headers({**fresh, name: value}, method="POST", path=PATH)


def test_an_a2a_1_signature_over_the_body_is_refused_with_a_reason(wallets):
    from bittensor import http_auth

    validator, miner, _ = wallets
    old = {**http_auth.sign(validator, method="POST", path=PATH, body=BODY, receiver_ss58=miner.hotkey.ss58_address),
           "Content-Length": str(len(BODY))}
    with pytest.raises(AuthFailed, match="missing X-A2A-Body-Sha256 .*upgrade an a2a/1 client"):
        RequestVerifier(miner.hotkey.ss58_address, max_timeout_s=60.0).verify_headers(old, method="POST", path=PATH)
    headers = sign_request(validator, method="POST", path=PATH, body=BODY, receiver_hotkey=miner.hotkey.ss58_address, timeout_s=20.0)
    for bad in ("ABC", headers[BODY_SHA256_HEADER].upper()):
        with pytest.raises(AuthFailed, match="64 lower-case hex digits"):
            RequestVerifier(miner.hotkey.ss58_address, max_timeout_s=60.0).verify_headers({**headers, BODY_SHA256_HEADER: bad}, method="POST", path=PATH)
    unsized = {k: v for k, v in headers.items() if k != "Content-Length"}
    with pytest.raises(AuthFailed, match="needs a Content-Length"):
        RequestVerifier(miner.hotkey.ss58_address, max_timeout_s=60.0).verify_headers(unsized, method="POST", path=PATH)


def test_failure_messages_never_echo_the_signature(wallets):
    validator, miner, _ = wallets
    headers = sign_request(validator, method="POST", path=PATH, body=BODY, receiver_hotkey=miner.hotkey.ss58_address, timeout_s=20.0)
    with pytest.raises(AuthFailed) as raised:
        _verify(RequestVerifier(miner.hotkey.ss58_address, max_timeout_s=60.0), headers, BODY + b"x")
    assert headers["X-Bittensor-Signature"][2:] not in str(raised.value)


def test_load_wallet_finds_existing_hotkeys_and_names_missing_ones(tmp_path):
    (made,) = make_wallets(tmp_path, "alice")
    loaded = load_wallet("alice", "hot", tmp_path)
    assert loaded.hotkey.ss58_address == made.hotkey.ss58_address
    with pytest.raises(InputError, match="no hotkey 'nope' in wallet 'alice'.*btcli wallet create"):
        load_wallet("alice", "nope", tmp_path)
