"""``tqcheck serve``: the checker as an HTTP service (``tqcheck.serve.app``), run by uvicorn."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from tqcheck.cli.options import config_from_options, engine_options
from tqcheck.errors import UsageError


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every one).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--token", envvar="TQCHECK_TOKEN", default=None, metavar="TOKEN",
              help="Require 'Authorization: Bearer TOKEN' on /v1 endpoints (env TQCHECK_TOKEN).")
@click.option("--db", default=None, metavar="URL",
              help="Also write each request's results into this review store (SQLite path or SQLAlchemy URL).")
@click.option("--max-segments", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Segments per request; more is refused with 413.")
@click.option("--max-queue", type=click.IntRange(min=1), default=64, show_default=True,
              help="Requests queued or being checked at once; more are refused with 429 and Retry-After.")
@click.option("--max-body", type=click.IntRange(min=1), default=8, show_default=True, metavar="MB",
              help="Largest request body in MiB; a larger one is refused with 413.")
@click.option("--timeout", type=click.FloatRange(min=1), default=300, show_default=True, metavar="SECONDS",
              help="A request not checked within this time is answered 503.")
@click.option("--warm", "warm", multiple=True, metavar="SRC-TGT",
              help="Load the engines of this language pair before /readyz says ready (repeatable), e.g. fr-en.")
@engine_options
def serve(host: str, port: int, token: str | None, db: str | None, max_segments: int, max_queue: int,
          max_body: int, timeout: float, warm: tuple[str, ...], **engine_kwargs: Any) -> None:
    """Serve the checker over HTTP: POST /v1/check, GET /v1/engines, /healthz, /readyz, /docs.

    \b
    Engines load once, at start-up (GET /readyz answers 200 when they have); concurrent requests are
    checked together in micro-batches. Each request is logged as one JSON line on stderr.

    \b
    Examples:
      tqcheck serve --rules-only --port 8000
      TQCHECK_TOKEN=secret tqcheck serve --host 0.0.0.0 --warm fr-en --db review.sqlite
      curl -s localhost:8000/v1/check -H 'content-type: application/json' \\
           -d '{"language_pair": "fr-en", "segments": [{"source": "Le chat.", "mt": "The cat."}]}'
    """
    try:
        import uvicorn

        from tqcheck.serve.app import LOGGER_NAME, create_app
    except ImportError as exc:
        raise UsageError(f"tqcheck serve needs FastAPI and uvicorn ({exc})",
                         fix="pip install 'tqcheck[serve]'") from exc
    from tqcheck.run import split_language_pair

    config = config_from_options(**engine_kwargs)
    warm_pairs = tuple(split_language_pair(pair) for pair in warm)
    store = None
    if db is not None:
        from tqcheck.store import Store

        store = Store.open(db)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False

    app = create_app(config, token=token or None, store=store, max_segments=max_segments, max_queue=max_queue,
                     max_body=max_body * 1024 * 1024, timeout=timeout, warm_pairs=warm_pairs)
    click.echo(f"tqcheck: serving on http://{host}:{port} (API docs at /docs; ready when /readyz answers 200"
               + ("; bearer token required" if token else "") + ")", err=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        logger.removeHandler(handler)
        if store is not None:
            store.close()
