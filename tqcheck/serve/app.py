"""The HTTP service (``tqcheck serve``): FastAPI over one ``Checker`` and its micro-batcher.

Endpoints::

    POST /v1/check     {"segments": [{"id", "source", "mt", ...}, ...], "source_lang"?, "target_lang"?,
                        "language_pair"?}  ->  {"signature", "results", "summary", "skipped"}
    GET  /v1/engines   the engines configured, loaded so far and installed; the calibration
    GET  /healthz      200 while the process lives
    GET  /readyz       200 once the engines and the calibration are loaded (503 before, or on failure)
    GET  /docs         OpenAPI documentation (/openapi.json)

A request is a ``Checker.run`` whose executor is the service's ``MicroBatcher`` (one thread owns the
pipeline; concurrent requests share its batches), with the response and, with ``store``, the review
store (a run per request, through ``StoreSink``) as its sinks: the results, summary and signature are
those a JSONL report of the same segments would hold. Segments are records as in a JSONL feed (the
same keys and aliases; per-record languages win over the request's).

Limits, each answered at once, never by a hang: more than ``max_segments`` segments (413), a body over
``max_body`` bytes (413), more than ``max_queue`` requests admitted (429 with ``Retry-After``), a
request not checked within ``timeout`` seconds (503 with ``Retry-After``). With ``token`` every
``/v1`` endpoint needs ``Authorization: Bearer TOKEN`` (401 otherwise); the probes and the docs do
not. Every request is logged as one JSON line (method, path, status, segments, ms, request id) on the
``tqcheck.serve`` logger, which the command line sends to stderr.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from tqcheck import __version__
from tqcheck.errors import RecordError, TqcheckError, UsageError
from tqcheck.serve.batcher import DEFAULT_MAX_WAIT, CheckTimeout, MicroBatcher, NotReady

if TYPE_CHECKING:
    from tqcheck.config import CheckConfig
    from tqcheck.store import Store

LOGGER_NAME = "tqcheck.serve"
DEFAULT_MAX_SEGMENTS = 1000
DEFAULT_MAX_QUEUE = 64
DEFAULT_MAX_BODY = 8 * 1024 * 1024
#: Seconds a client is asked to wait after a 429 or 503.
RETRY_AFTER = 1

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


# ----------------------------------------------------------------------------------------------------
# The request and response (for validation and the OpenAPI docs)


class SegmentIn(BaseModel):
    """One segment, keyed as a JSONL feed record; other keys are kept as the segment's own fields."""

    model_config = ConfigDict(extra="allow")

    id: str | int | None = Field(None, description="Segment id (default: its 1-based position).")
    source: str | None = Field(None, description="The source text; leave out to check the MT alone.")
    mt: str | None = Field(None, description="The machine translation (or 'hyp', 'target', as in a feed).")
    reference: str | None = Field(None, description="A human reference, for sacrebleu's metrics.")
    source_lang: str | None = None
    target_lang: str | None = None


class CheckRequest(BaseModel):
    segments: list[SegmentIn] = Field(..., description="The segments to check, in order.")
    source_lang: str | None = Field(None, description="Source language of segments that do not say.")
    target_lang: str | None = Field(None, description="Target language of segments that do not say.")
    language_pair: str | None = Field(None, description="Both at once, as in sacrebleu: fr-en.")

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "segments": [{"id": "n1", "source": "Plus de 3 000 manifestants.", "mt": "More than 300 protesters."}],
        "language_pair": "fr-en"}]})


class CheckResponse(BaseModel):
    """The JSONL report of the request's segments, as one object."""

    signature: dict[str, Any] = Field(..., description="How the results were made (RunSignature).")
    results: list[dict[str, Any]] = Field(..., description="One SegmentResult per segment, in input order.")
    summary: dict[str, Any]
    skipped: list[dict[str, Any]] = Field(..., description="Records that could not be read: where and why.")


# ----------------------------------------------------------------------------------------------------
# The application


class Admission:
    """At most ``limit`` requests admitted (queued or being checked); the rest are told to come back.
    Used on the event loop only, so a counter is enough."""

    def __init__(self, limit: int) -> None:
        self.limit, self.count = limit, 0

    def enter(self) -> bool:
        if self.count >= self.limit:
            return False
        self.count += 1
        return True

    def leave(self) -> None:
        self.count -= 1


def create_app(config: CheckConfig, *, token: str | None = None, store: Store | None = None,
               max_segments: int = DEFAULT_MAX_SEGMENTS, max_queue: int = DEFAULT_MAX_QUEUE,
               max_body: int = DEFAULT_MAX_BODY, timeout: float = 300.0, max_wait: float = DEFAULT_MAX_WAIT,
               warm_pairs: tuple[tuple[str, str], ...] = (), pipeline: Any = None) -> FastAPI:
    """The service for ``config``. ``pipeline`` replaces the one built from it (tests give a gated one)."""
    from tqcheck.pipeline import Pipeline
    from tqcheck.run import Checker

    checker = Checker(config)  # runs, sinks, summaries, signatures; never runs its own pipeline here
    batcher = MicroBatcher(pipeline or Pipeline(config), max_wait=max_wait, timeout=timeout,
                           warm_pairs=warm_pairs)
    admission = Admission(max_queue)
    auth = _bearer(token)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        import anyio.to_thread

        # every admitted request gets a thread at once (it waits for the batcher there, not for a thread)
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, max_queue + 8)
        batcher.start()
        try:
            yield
        finally:
            batcher.stop()

    app = FastAPI(title="tqcheck", version=__version__, lifespan=lifespan,
                  description="Machine-translation quality checks that explain themselves: flags with spans, "
                              "severities, measured precision and evidence, per segment.")
    app.state.checker, app.state.batcher, app.state.admission = checker, batcher, admission

    @app.get("/healthz", tags=["probes"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["probes"], responses={503: {"description": "still loading, or failed"}})
    def readyz() -> JSONResponse:
        """200 once the engines and the calibration are loaded."""
        if batcher.warm_error is not None:
            return JSONResponse({"status": "failed", "detail": str(batcher.warm_error)}, status_code=503)
        if not batcher.ready.is_set():
            return JSONResponse({"status": "loading"}, status_code=503, headers={"Retry-After": str(RETRY_AFTER)})
        return JSONResponse({"status": "ready", "calibration": batcher.calibration_id})

    @app.get("/v1/engines", tags=["check"], dependencies=[Depends(auth)])
    def engines() -> dict[str, Any]:
        """The engines configured by role, those loaded so far, the calibration, and what is installed."""
        from dataclasses import fields

        from tqcheck.engines.registry import available_engines

        configured = {f.name: getattr(config.engines, f.name) for f in fields(config.engines)}
        return {"configured": configured, "loaded": [e.to_dict() for e in batcher.engines()],
                "calibration": batcher.calibration_id, "ready": batcher.ready.is_set(),
                "installed": available_engines()}

    @app.post("/v1/check", tags=["check"], dependencies=[Depends(auth)], response_model=None,
              responses={200: {"model": CheckResponse}, 401: {"description": "no or wrong bearer token"},
                         413: {"description": "too many segments, or a body too large"},
                         422: {"description": "a request that cannot be checked (the detail says why)"},
                         429: {"description": "too many requests waiting; retry after Retry-After seconds"},
                         503: {"description": "not checked in time, or the engines failed to load"}})
    async def check(body: CheckRequest, request: Request) -> Response:
        """Check the segments; the answer is the JSONL report of them as one object."""
        request.state.segments = len(body.segments)
        if len(body.segments) > max_segments:
            return _error(413, f"{len(body.segments)} segments in one request; the limit is {max_segments}: "
                               "split the request")
        if not body.segments:
            return _error(422, "no segments: give at least one in 'segments'")
        if not admission.enter():
            return _error(429, f"{admission.limit} requests are waiting already; retry in {RETRY_AFTER} s",
                          retry=True)
        try:
            payload = await run_in_threadpool(_check, checker, batcher, body, store)
        except (NotReady, CheckTimeout) as exc:
            return _error(503, str(exc), retry=True)
        except TqcheckError as exc:
            return _error(422, str(exc))
        finally:
            admission.leave()
        return Response(payload, media_type="application/json")

    # Outermost last: every request is logged, the refused ones included.
    app.add_middleware(BodyLimit, max_body=max_body)
    app.add_middleware(AccessLog)
    return app


def _check(checker: Any, batcher: MicroBatcher, body: CheckRequest, store: Store | None) -> bytes:
    """One request as one run (on a request thread; the batcher's thread runs the pipeline)."""
    from tqcheck.io.frames import segments_from_records
    from tqcheck.io.reports import _dumps
    from tqcheck.langcodes import check_code
    from tqcheck.run import ResultCollector, StoreSink, split_language_pair

    source_lang, target_lang = body.source_lang, body.target_lang
    if body.language_pair:
        if source_lang or target_lang:
            raise UsageError("language_pair and source_lang/target_lang both give the languages",
                             fix="give one of the two")
        source_lang, target_lang = split_language_pair(body.language_pair)
    source_lang = check_code(source_lang, option="source_lang") if source_lang else None
    target_lang = check_code(target_lang, option="target_lang") if target_lang else None
    skipped: list[RecordError] = []
    records = [s.model_dump(exclude_none=True) for s in body.segments]
    segments = segments_from_records(records, on_bad_record=skipped.append, name="segments")
    collector = ResultCollector()
    sinks: list[Any] = [collector]
    if store is not None:
        sinks.append(StoreSink(store, name=f"serve {uuid.uuid4().hex[:8]}", feed="POST /v1/check",
                               keep_partial=False))
    outcome = checker.run(segments, sinks=sinks, source_lang=source_lang, target_lang=target_lang,
                          skipped=skipped, executor=batcher)
    response = {"signature": outcome.signature.to_dict(), "results": [r.to_dict() for r in collector.results],
                "summary": outcome.summary.to_dict(),
                "skipped": [{"where": e.where, "message": e.message, "fix": e.fix} for e in outcome.skipped]}
    return _dumps(response).encode("utf-8")


def _error(status: int, detail: str, *, retry: bool = False) -> JSONResponse:
    headers = {"Retry-After": str(RETRY_AFTER)} if retry else None
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


_BEARER = HTTPBearer(auto_error=False, description="the service's token (--token or TQCHECK_TOKEN)")


def _bearer(token: str | None) -> Callable[..., None]:
    """A dependency that lets a request through only with ``Authorization: Bearer <token>``."""

    def require(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]) -> None:
        if token is None:
            return
        given = credentials.credentials if credentials is not None else ""
        if not secrets.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "a bearer token is needed: Authorization: Bearer TOKEN",
                                headers={"WWW-Authenticate": "Bearer"})

    return require


# ----------------------------------------------------------------------------------------------------
# Middleware (plain ASGI: they see every request, the refused ones too)


class BodyLimit:
    """413 for a body over ``max_body`` bytes, by its Content-Length or, without one, as it streams in."""

    def __init__(self, app: ASGIApp, *, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = _error(413, f"the request body is over {self.max_body} bytes: split the request")
        await response(scope, receive, send)


class AccessLog:
    """One JSON line per request on the ``tqcheck.serve`` logger: method, path, status, segments, ms."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.logger = logging.getLogger(LOGGER_NAME)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = uuid.uuid4().hex[:12]
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            state = scope.get("state") or {}
            line = {"time": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds"),
                    "request_id": request_id, "method": scope.get("method"), "path": scope.get("path"),
                    "status": status, "segments": state.get("segments"),
                    "ms": round((time.perf_counter() - start) * 1000, 1)}
            self.logger.info(json.dumps(line))
