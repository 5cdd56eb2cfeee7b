"""Where an engine's weights and code come from: package versions, Debian package versions, and a
fingerprint of a local model directory.

Every score ships with how it was made (engine, model id, revision, versions), and the engine cache
keys on the same record, so a new model version or a retrained local model never reuses stale
outputs. Everything here is cheap and called lazily, never at import.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path


@cache
def package_version(name: str) -> str | None:
    """The installed version of a Python distribution, or None when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@cache
def dpkg_version(package: str) -> str | None:
    """The installed version of a Debian package, or None (no dpkg, or not installed)."""
    if shutil.which("dpkg-query") is None:
        return None
    try:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}\t${Version}", package],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    status, _, version = done.stdout.partition("\t")
    if done.returncode != 0 or "installed" not in status.split() or not version:
        return None
    return version


#: Files whose change means "another model": configuration, vocabularies and weights.
_FINGERPRINT_SUFFIXES = (".json", ".bin", ".safetensors", ".spm", ".model", ".txt", ".gguf", ".pt")


def dir_fingerprint(path: str | os.PathLike[str]) -> str:
    """A short fingerprint of a local model directory: names, sizes and mtimes of its model files,
    plus the bytes of its JSON configuration.

    Hashing multi-gigabyte weights on every run would be slow; sizes and mtimes change whenever the
    weights are rewritten, which is what a cache needs to know.
    """
    root = Path(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        if file.suffix not in _FINGERPRINT_SUFFIXES:
            continue
        stat = file.stat()
        rel = file.relative_to(root).as_posix()
        digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
        if file.suffix == ".json" and stat.st_size < 1_000_000:
            digest.update(file.read_bytes())
    return "local-" + digest.hexdigest()[:16]
