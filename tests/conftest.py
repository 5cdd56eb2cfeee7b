"""Shared test set-up: no network, and paths to the samples and the seed article."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never reach a model hub: transformers code paths load tiny models the tests build themselves.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


@pytest.fixture
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture
def seed_lines() -> list[str]:
    """The seed article's non-blank lines (one paragraph each)."""
    text = (SAMPLES / "caravan.en-mt.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]
