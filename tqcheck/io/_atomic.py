"""Write a file so that it is either complete under its final name or absent."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def fsync_dir(directory: Path) -> None:
    """Make a rename durable (best effort: some file systems refuse to open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(path: Path, produce: Callable[[IO[Any]], Any], *, binary: bool = False) -> None:
    """Call ``produce(file)`` on a new file next to ``path``, fsync it, rename it to ``path``.

    The temporary file is created like any other file (so the report gets the usual permissions, unlike
    ``mkstemp``'s 0600) with a random name that no other writer uses; it is removed on any failure.
    """
    directory = path.parent if str(path.parent) else Path(".")
    tmp = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        if binary:
            with open(tmp, "xb") as fh:
                produce(fh)
                fh.flush()
                os.fsync(fh.fileno())
        else:
            with open(tmp, "x", encoding="utf-8", newline="") as fh:
                produce(fh)
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(directory)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
