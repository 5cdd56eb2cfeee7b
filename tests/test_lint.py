"""ruff and mypy stay clean (their configuration is in pyproject.toml); the dev extra installs both."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run_tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    tool = BIN / name
    assert tool.exists(), f"{tool} is missing: pip install -e '.[dev]'"
    return subprocess.run([str(tool), *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_is_clean():
    result = run_tool("ruff", "check", ".")
    assert result.returncode == 0, f"ruff check .\n{result.stdout}{result.stderr}"


@pytest.mark.slow  # a minute or more without mypy's cache
def test_mypy_is_clean():
    result = run_tool("mypy")
    assert result.returncode == 0, f"mypy\n{result.stdout}{result.stderr}"
