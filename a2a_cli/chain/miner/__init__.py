"""The miner: an HTTP service (FastAPI on uvicorn) serving protocol a2a/2 to validators (DESIGN §7).

Modules, one concern each:
  settings     `MinerSettings`: the `miner.*` settings, resolved for the chain served
  refusal      `HTTPRefusal`: a request refused with a status and a caller-safe line
  body_intake  `BodyPool` and `receive_body`: bodies of authenticated callers, checked against their signed hash
  admission    `IntakeLimit` and `AdmissionQueue`: bounded preparation, then slots by stake
  audio_url    `fetch_audio_url`: prompt audio by URL, capped in size and time, public hosts only
  service      `MinerService`: one request from raw HTTP to answer, and the chain view it admits by
  app          the FastAPI app, the listening socket and uvicorn's configuration

Admission is built so that a caller without a key cannot exhaust it for anyone else: a2a/2 signs
the body's hash in the headers, so a request's signature is verified before any of its body is
accepted; body bytes, then preparation, then generation slots go only to callers whose signature
verified and who are registered with enough stake. Before that, what a keyless client can hold is
a connection and its headers, bounded separately and cheaply.

Before a request proves itself (connections.py): at most `max_connections` unproven connections
and `max_pending_connections` waiting for their headers, past which the oldest connection of the
client address holding the most is closed; each connection, and each further request on one, costs
its address a token of its keyless budget (`keyless_burst`, then `keyless_rate` per second; an
authenticated request gives its token back), and an address out of tokens has its connections
closed on arrival; headers have a deadline (`headers_timeout_s`); idle keep-alive connections
close after `keep_alive_s`; an answer nobody reads for `send_timeout_s` is dropped with its connection.

Every request's line and headers may take at most 16 KiB (431 and close beyond). `POST
/v1/generate` then runs, cheapest refusal first; every refusal before the body closes the
connection, so none of a refused body is read:
  411  no Content-Length (the signature covers the body's length)
  413  Content-Length over the cap
  401  no auth headers, or no signed body hash (`X-A2A-Body-Sha256`: an a2a/1 client)
  403  the claimed hotkey is not registered (a cached metagraph)
  401  the signature over the headers (receiver, freshness, nonce, body hash and length) does not
       verify (`bittensor.http_auth`)
  403  the authenticated caller is below the minimum stake (in the subnet's alpha) or, when
       required, has no validator permit; the answer says which
  ---  from here on the caller is authenticated, registered and staked
  429  the body pool is full (see `BodyPool`): too many bodies, or too many bytes of them, being
       received for this hotkey, or overall
  408  the body came too slowly: below `body_min_rate` after `body_grace_s`, or not complete
       within `body_timeout_s`
  401  the body is not the one whose hash was signed
  422  the body is not a valid a2a/2 request, or asks for a task this miner does not serve, or its
       audio cannot be decoded or fetched, or is shorter than the duration asked for
  429  every generation slot is busy and the waiting queue is full (the lowest stake is refused)
  504  the request's deadline (`timeout_s`, from its headers on) passed
Generation runs in a thread pool of `max_concurrency` threads so the event loop keeps answering;
a slot is held until its thread really finishes, even after a 504. One log line per request,
with the caller's public hotkey and never any key material or payload.
`GET /v1/health` (unsigned) says the protocol, the tasks served (how validators learn them) with
each one's model, and the load; `/openapi.json` is the schema.
"""

from a2a_cli.chain.miner.admission import AdmissionQueue, IntakeLimit
from a2a_cli.chain.miner.app import bind_socket, create_app, serve, server_config
from a2a_cli.chain.miner.audio_url import fetch_audio_url
from a2a_cli.chain.miner.body_intake import BodyPool, receive_body
from a2a_cli.chain.miner.refusal import HTTPRefusal
from a2a_cli.chain.miner.service import GenerateFn, MinerService, ServedModel, model_generate_fn
from a2a_cli.chain.miner.settings import MinerSettings

__all__ = ["AdmissionQueue", "BodyPool", "GenerateFn", "HTTPRefusal", "IntakeLimit", "MinerService", "MinerSettings", "ServedModel", "bind_socket",
           "create_app", "fetch_audio_url", "model_generate_fn", "receive_body", "serve", "server_config"]
