"""The miner on the network: its FastAPI app, its listening socket and uvicorn's configuration.

`GET /v1/health` (unsigned) says the protocol, the tasks served, their models and the load;
`/openapi.json` is the schema. One
log line per request, with the caller's public hotkey and never any key material or payload.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from a2a_cli.chain import protocol
from a2a_cli.chain.auth import RequestVerifier
from a2a_cli.chain.connections import ConnectionGuard, guarded_h11
from a2a_cli.chain.miner.refusal import HTTPRefusal
from a2a_cli.chain.miner.service import MinerService, log
from a2a_cli.chain.miner.settings import MinerSettings
from a2a_cli.errors import WorkError

__all__ = ["MAX_HEADER_BYTES", "bind_socket", "create_app", "header_size", "limit_header_size", "serve", "server_config"]

MAX_HEADER_BYTES = 16 * 1024  # request line and headers (a signed a2a/2 request needs under 1 KB); 431 beyond


def create_app(service: MinerService) -> Any:
    """The FastAPI app serving `service` (POST /v1/generate, GET /v1/health, the OpenAPI schema);
    tests and benchmarks serve it themselves."""
    app = FastAPI(title="a2a miner", version=protocol.PROTOCOL_VERSION,
                  description="Audio-to-Animation miner: signed a2a/2 prompts in, SMPL motion out (dance to music, gestures to speech).")
    app.state.service = service
    error_schema = {"content": {"application/json": {"schema": {"type": "object", "properties": {"detail": {"type": "string"}}}}}}
    refusals = {code: {"description": why, **error_schema} for code, why in (
        (401, "unsigned or badly signed"), (403, "caller refused"), (408, "body too slow"), (411, "no Content-Length"),
        (413, "body too large"),
        (422, "invalid prompt"), (429, "at capacity"), (431, "request headers too large"), (503, "chain not readable yet"),
        (504, "deadline passed"))}

    @app.post(
        protocol.GENERATE_PATH,
        response_model=protocol.GenerateResponse,
        responses=refusals,
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/GenerateRequest"}}}}},
        summary="Generate motion (a dance, or gestures) for a signed a2a/2 prompt",
    )
    async def generate(request: Request):
        started = time.perf_counter()
        status, detail = 200, ""
        try:
            result = await service.handle_generate(request)
            return JSONResponse(result)
        except HTTPRefusal as e:
            status, detail = e.status, e.detail
            headers = {"connection": "close"} if e.close else None
            return JSONResponse({"detail": e.detail}, status_code=e.status, headers=headers)
        except Exception as e:  # a generator bug: the caller gets a 500 line, the log says what broke
            status, detail = 500, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            return JSONResponse({"detail": "internal error while generating"}, status_code=500)
        finally:
            log.info("%s %s %s prompt=%s frames=%s total_s=%.3f%s", protocol.GENERATE_PATH, status, _who(request),
                     getattr(request.state, "prompt_id", "-"), getattr(request.state, "frames", "-"),
                     time.perf_counter() - started, f" detail={detail!r}" if detail else "")

    @app.get(protocol.HEALTH_PATH, summary="Liveness, protocol, tasks served, models and load")
    async def health() -> dict:
        return service.health()

    _publish_request_schema(app)
    return app


def _who(request: Request) -> str:
    """Who sent `request`, for its log line: "caller=<ss58>" once its signature is verified, else
    "claimed=<ss58>" (what its headers claim: a refusal before the body, such as a stake too low,
    still names whom it refused; printable and cut short, being the sender's own text), else "caller=-"."""
    caller = getattr(request.state, "caller", None)
    if caller:
        return f"caller={caller}"
    claimed = RequestVerifier.claimed_hotkey(request.headers)
    return f"claimed={''.join(c if c.isprintable() and not c.isspace() else '?' for c in claimed[:64])}" if claimed else "caller=-"


def _publish_request_schema(app: FastAPI) -> None:
    """Add GenerateRequest (read raw for the size cap, so FastAPI does not see it) to the schema's components."""
    request_schema = protocol.GenerateRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    extra = {"GenerateRequest": request_schema, **request_schema.pop("$defs", {})}
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(extra)
        return app.openapi_schema

    app.openapi = openapi


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free one), so the real port is known before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only when it
    # is, and without it every answer waits ~40 ms for a delayed ACK (Nagle) on loopback.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise WorkError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def header_size(scope: dict) -> int:
    """The bytes of an HTTP request's line and headers, as sent (an ASGI `scope`)."""
    line = len(scope.get("method", "")) + len(scope.get("raw_path", b"")) + len(scope.get("query_string", b"")) + 12
    return line + sum(len(name) + len(value) + 4 for name, value in scope.get("headers", ()))


def limit_header_size(app: Any) -> Any:
    """`app` (ASGI) behind a cap of MAX_HEADER_BYTES on a request's line and headers: 431 and close
    beyond. h11 bounds headers only while they are incomplete (`h11_max_incomplete_event_size`): a
    17 or 60 KiB block that arrives whole would pass it."""

    async def capped(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and header_size(scope) > MAX_HEADER_BYTES:
            log.info("%s 431 caller=- detail='request headers over %d bytes'", scope.get("path", "?"), MAX_HEADER_BYTES)
            response = JSONResponse({"detail": f"request line and headers over {MAX_HEADER_BYTES} bytes"}, status_code=431,
                                    headers={"connection": "close"})
            await response(scope, receive, send)
            return
        await app(scope, receive, send)

    return capped


def server_config(app: Any, settings: MinerSettings, guard: ConnectionGuard, **options: Any) -> Any:
    """The uvicorn.Config that bounds slow, idle and keyless clients (see connections.py and the package doc).

    app: the ASGI app (`create_app`). settings: `keep_alive_s` applies here. guard: the service's
    `ConnectionGuard` (fair shares, budgets, deadlines). options: further uvicorn.Config arguments
    (log_level, lifespan, ...).

    uvicorn's own `limit_concurrency` stays off: it answers 503 to everyone once connections are
    many, which a keyless flood would turn against validators; the guard bounds unproven
    connections by address instead, and authenticated ones are bounded by the body pool and admission.
    """
    import uvicorn

    return uvicorn.Config(limit_header_size(app), http=guarded_h11(guard), timeout_keep_alive=settings.keep_alive_s,
                          h11_max_incomplete_event_size=MAX_HEADER_BYTES, access_log=False, **options)


def serve(service: MinerService, sock: socket.socket, *, log_level: str = "info") -> None:
    """Serve `service` on the listening `sock` (`bind_socket`) until interrupted (uvicorn handles
    SIGINT/SIGTERM gracefully); `log_level` is uvicorn's ("info", "warning", ...)."""
    import uvicorn

    config = server_config(create_app(service), service.settings, service.guard, log_level=log_level, timeout_graceful_shutdown=5)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        service.pool.shutdown(wait=False, cancel_futures=True)
