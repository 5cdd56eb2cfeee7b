"""What the QE model predicts, as plain data: token probabilities, sentence scores, decoded spans.

Kept free of torch (unlike ``tqcheck.qe.predict``, which runs the model) so that a check whose QE
predictions all come from the engine cache never imports torch, and so that the file names of the
shipped weights can be read without loading anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

WEIGHTS_FILE = "qe_weights.safetensors"
META_FILE = "qe_config.json"
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "data" / "qe"


@dataclass(frozen=True)
class TokenTag:
    """One MT token: its character span, text and the model's probabilities of an error."""

    start: int
    end: int
    text: str
    p_bad: float
    p_major: float


@dataclass(frozen=True)
class SpanPrediction:
    """A run of adjacent MT tokens tagged as an error, as character offsets into the MT."""

    start: int
    end: int
    p_bad: float  # max over its tokens
    p_major: float  # max over its tokens
    tokens: tuple[TokenTag, ...]


@dataclass(frozen=True)
class QEPrediction:
    p_major: float  # sentence head: probability of a major or critical error
    quality: float  # sentence head: normalised quality, higher is better
    tokens: tuple[TokenTag, ...]
    spans: tuple[SpanPrediction, ...]


def decode_spans(mt: str, tokens: Sequence[TokenTag], threshold: float) -> tuple[SpanPrediction, ...]:
    """Merge tokens with ``p_bad >= threshold`` that touch or are separated only by spaces."""
    spans: list[SpanPrediction] = []
    run: list[TokenTag] = []

    def flush() -> None:
        if run:
            spans.append(SpanPrediction(run[0].start, run[-1].end, max(t.p_bad for t in run),
                                        max(t.p_major for t in run), tuple(run)))
            run.clear()

    for tok in tokens:
        if tok.end <= tok.start:
            continue
        if tok.p_bad >= threshold:
            if run and mt[run[-1].end : tok.start].strip():
                flush()
            run.append(tok)
        else:
            flush()
    flush()
    return tuple(spans)
