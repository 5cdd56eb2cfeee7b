"""Map model tokens back to character spans of the text they were read from.

Signals flag spans of the MT, so every per-token score must say which characters it covers. Fast
(Rust) tokenizers give offsets directly; sentencepiece tokenizers (Marian) give pieces such as
``▁chat`` that are matched back onto the text here, allowing for sentencepiece's NFKC normalisation,
``<unk>`` pieces and byte-fallback pieces.

Conventions, the same for every engine:

- a span never starts or ends on whitespace (``▁chat`` and ``Ġcat`` cover ``chat`` / ``cat``, not the
  space before), so ``TokenScore.text == text[start:end]`` is a word or part of one;
- a token that covers no visible character (a bare ``▁``, an incomplete UTF-8 byte) is merged into the
  next token, whose log-probability becomes the sum: the probability of both together.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from tqcheck.engines.base import TokenScore, TokenScores

SPIECE_UNDERLINE = "\u2581"
_BYTE_PIECE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` so that it neither starts nor ends on whitespace."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _match_normalised(text: str, pos: int, core: str) -> int | None:
    """End of the shortest ``text[pos:end]`` whose NFKC form (spaces ignored) equals ``core``."""
    want = core.replace(" ", "")
    limit = min(len(text), pos + 3 * len(core) + 4)
    for end in range(pos + 1, limit + 1):
        got = unicodedata.normalize("NFKC", text[pos:end]).replace(" ", "")
        if got == want:
            return end
        if not want.startswith(got):
            return None
    return None


def align_pieces(
    pieces: Sequence[str], text: str, *, unk_token: str | None = "<unk>"
) -> list[tuple[int, int] | None]:
    """Character span of each sentencepiece piece in ``text``; None for a piece that covers no
    visible character (it is merged into the next piece by :func:`scores_from_spans`).

    Pieces are matched left to right. An ``<unk>`` piece (or one that cannot be matched) spans
    whatever lies between the previous match and the next one.
    """
    spans: list[tuple[int, int] | None] = [None] * len(pieces)
    cursor = 0
    pending: list[int] = []  # pieces waiting for the next match to know where they end
    byte_buffer = b""
    for i, piece in enumerate(pieces):
        byte_match = _BYTE_PIECE.match(piece)
        if byte_match:
            byte_buffer += bytes([int(byte_match.group(1), 16)])
            try:
                core = byte_buffer.decode("utf-8")
            except UnicodeDecodeError:
                continue  # an incomplete character: merged into the piece that completes it
            byte_buffer = b""
        else:
            byte_buffer = b""
            core = piece.replace(SPIECE_UNDERLINE, " ").strip()
        if not core:
            continue
        if unk_token is not None and piece == unk_token:
            pending.append(i)
            continue
        pos = _skip_space(text, cursor)
        end: int | None = None
        if text.startswith(core, pos):
            end = pos + len(core)
        else:
            end = _match_normalised(text, pos, core)
        if end is None and pending:
            # After an unknown piece the text may hold characters the vocabulary lacks: look ahead.
            found = text.find(core, pos)
            if found != -1:
                pos, end = found, found + len(core)
        if end is None:
            pending.append(i)
            continue
        if pending:
            gap = trim_span(text, cursor, pos)
            for j in pending:
                spans[j] = gap
            pending = []
        spans[i] = (pos, end)
        cursor = end
    if pending:
        gap = trim_span(text, cursor, len(text))
        for j in pending:
            spans[j] = gap
    return spans


def scores_from_spans(
    spans: Iterable[tuple[int, int] | None], logprobs: Iterable[float], text: str
) -> TokenScores:
    """Build TokenScores, trimming spans to visible characters and merging empty ones forward.

    A run of tokens that share one span (an ``<unk>`` gap split in two) is kept as separate scores
    with the same span, so that no log-probability is lost.
    """
    out: list[TokenScore] = []
    carry = 0.0
    for span, logprob in zip(spans, logprobs):
        if span is None:
            carry += float(logprob)
            continue
        start, end = trim_span(text, *span)
        if start == end:
            carry += float(logprob)
            continue
        out.append(TokenScore(start, end, text[start:end], float(logprob) + carry))
        carry = 0.0
    if carry and out:
        # Trailing invisible tokens (rare): their probability still belongs to the text.
        last = out[-1]
        out[-1] = TokenScore(last.start, last.end, last.text, last.logprob + carry)
    return tuple(out)
