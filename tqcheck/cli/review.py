"""``tqcheck review``: open the Streamlit reviewer UI on a review store."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import click

from tqcheck.errors import UsageError


def app_path() -> Path:
    """The UI's entry script, inside the installed package (so a non-editable install works too)."""
    return Path(__file__).resolve().parent.parent / "ui" / "app.py"


def streamlit_command(*, port: int | None, address: str, headless: bool, max_upload_mb: int) -> list[str]:
    command = [sys.executable, "-m", "streamlit", "run", str(app_path()),
               "--server.address", address,
               "--server.headless", "true" if headless else "false",
               "--server.maxUploadSize", str(max_upload_mb),
               "--browser.gatherUsageStats", "false",
               "--client.toolbarMode", "minimal"]
    if port is not None:
        command += ["--server.port", str(port)]
    return command


@click.command("review")
@click.option("--db", default=None, metavar="URL",
              help="Review store: a SQLite path or a SQLAlchemy URL. Default: $TQCHECK_DB, else "
                   "~/.local/share/tqcheck/review.sqlite.")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default 8501).")
@click.option("--address", default="localhost", show_default=True,
              help="Address to listen on; 0.0.0.0 serves the whole network.")
@click.option("--headless", is_flag=True, help="Do not open a browser.")
@click.option("--max-upload-mb", type=click.IntRange(1, 2000), default=50, show_default=True,
              help="Largest file the 'Check a file' page accepts.")
def review(db: str | None, port: int | None, address: str, headless: bool, max_upload_mb: int) -> None:
    """Open the reviewer UI (queue, segment, dashboard, check a file, export) in a browser.

    \b
    Example:
      tqcheck import article.jsonl && tqcheck review
    """
    from tqcheck.store import Store

    if importlib.util.find_spec("streamlit") is None:
        raise UsageError("the reviewer UI needs streamlit, which is not installed",
                         fix="pip install 'tqcheck[app]'")
    with Store.open(db) as store:  # fail here, with a clear message, rather than in the browser
        url = store.engine.url.render_as_string(hide_password=False)
        shown = store.url
    env = {**os.environ, "TQCHECK_DB": url, "TQCHECK_MAX_UPLOAD_MB": str(max_upload_mb)}
    click.echo(f"tqcheck: reviewing {shown}; stop with Ctrl+C", err=True)
    command = streamlit_command(port=port, address=address, headless=headless,
                                max_upload_mb=max_upload_mb)
    try:
        code = subprocess.call(command, env=env)
    except KeyboardInterrupt:
        code = 0
    if code:
        sys.exit(code)
