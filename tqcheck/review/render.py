"""HTML for the segment view, built only from escaped text: feed text is never live markup.

Segments come from feeds and files nobody vetted; a segment may well contain ``<script>`` or
``<img onerror=...>``. Every piece of text and every attribute value that reaches the HTML here goes
through ``html.escape(..., quote=True)``; the only markup is the fixed tags written in this module.
The UI then hands the result to ``st.html``, which sanitises once more.

Two views: the MT with its flagged spans highlighted (the tooltip of a mark shows the flag and its
evidence), and two texts aligned word by word with the differences stacked (source against
back-translation, MT against the reference model's translation).
"""

from __future__ import annotations

import difflib
import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tqcheck.model import Severity, Side
from tqcheck.store.records import Decision, FlagRecord

_SEVERITY_COLOUR = {
    Severity.MINOR: "#fff3bf",
    Severity.MAJOR: "#ffd8a8",
    Severity.CRITICAL: "#ffc9c9",
}
_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]", re.UNICODE)


def esc(text: Any) -> str:
    """Escape anything for HTML text or a quoted attribute value."""
    return html.escape("" if text is None else str(text), quote=True)


# -- flagged spans ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """A highlighted span: which flag (its number on the page), how bad, what the tooltip says."""

    start: int
    end: int
    number: int
    severity: Severity
    tooltip: str
    decision: Decision | None = None


def evidence_summary(evidence: Mapping[str, Any], *, limit: int = 300) -> str:
    """Evidence as short plain text for a tooltip (the full evidence is shown below the text)."""
    lines = []
    for key, value in evidence.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        if len(text) > limit:
            text = text[: limit - 1] + "…"
        lines.append(f"{key}: {text}")
    return "\n".join(lines)


def flag_marks(flags: Sequence[FlagRecord], side: Side = Side.MT) -> list[Mark]:
    """Marks for the flags with a span on ``side``; flags are numbered 1.. in their given order."""
    marks = []
    for number, record in enumerate(flags, start=1):
        flag = record.flag
        if flag.span is None or flag.span.side is not side:
            continue
        tooltip = f"{number}. {flag.severity.value} · {flag.category.value} · {flag.check}: {flag.message}"
        if record.decision is not None:
            tooltip += f"\n[{record.decision.value}]"
        if flag.evidence:
            tooltip += "\n" + evidence_summary(flag.evidence)
        marks.append(Mark(flag.span.start, flag.span.end, number, flag.severity, tooltip,
                          record.decision))
    return marks


def highlight_html(text: str, marks: Iterable[Mark]) -> str:
    """``text`` with the marked spans highlighted; overlapping spans are split where they cross.

    Each piece covered by one or more flags becomes a ``<mark>`` coloured by the worst severity
    covering it, with the flags' descriptions as its tooltip; the flag numbers follow the end of
    each span as superscripts, so that the list of flags below can be matched to the text.
    Dismissed flags are drawn struck through and pale, confirmed ones with a solid underline.
    """
    marks = [m for m in marks if m.start < len(text) or (m.start == m.end == len(text))]
    clamped = [Mark(max(0, m.start), min(len(text), max(m.end, m.start)), m.number, m.severity,
                    m.tooltip, m.decision) for m in marks]
    cuts = {0, len(text)}
    for m in clamped:
        cuts.update((m.start, m.end))
    points = sorted(cuts)
    out: list[str] = []
    for a, b in zip(points, points[1:]):
        piece = text[a:b]
        covering = [m for m in clamped if m.start <= a and b <= m.end and m.start < m.end]
        if covering:
            live = [m for m in covering if m.decision is not Decision.DISMISSED]
            worst = max((m.severity for m in (live or covering)), key=lambda s: s.rank)
            style = f"background:{_SEVERITY_COLOUR[worst]};padding:0 1px;border-radius:2px;"
            if not live:
                style += "opacity:0.55;text-decoration:line-through;"
            elif any(m.decision is Decision.CONFIRMED for m in live):
                style += "border-bottom:2px solid #c92a2a;"
            tooltip = "\n\n".join(m.tooltip for m in covering)
            numbers = ",".join(str(m.number) for m in covering)
            out.append(f'<mark class="tq-flag tq-{esc(worst.value)}" data-flags="{esc(numbers)}" '
                       f'title="{esc(tooltip)}" style="{style}">{esc(piece)}</mark>')
        else:
            out.append(esc(piece))
        ending = [m for m in clamped if m.end == b]
        if ending:
            out.append('<sup class="tq-flag-no" style="color:#868e96;">'
                       + esc(",".join(str(m.number) for m in ending)) + "</sup>")
    return ('<div class="tq-text" style="font-size:1.1rem;line-height:1.9;white-space:pre-wrap;">'
            + "".join(out) + "</div>")


# -- aligned differences ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffChunk:
    """One aligned step of a word diff: ``equal``, ``replace``, ``delete`` (only in a) or ``insert``."""

    kind: str
    a: str
    b: str


def _tokens(text: str) -> list[re.Match[str]]:
    return list(_TOKEN.finditer(text))


def _span_text(text: str, toks: Sequence[re.Match[str]], i: int, j: int) -> str:
    if i >= j:
        return ""
    return text[toks[i].start(): toks[j - 1].end()]


def word_diff(a: str, b: str) -> list[DiffChunk]:
    """Align two texts word by word (case-insensitive), keeping the original spelling for display."""
    ta, tb = _tokens(a), _tokens(b)
    matcher = difflib.SequenceMatcher(a=[t.group().casefold() for t in ta],
                                      b=[t.group().casefold() for t in tb], autojunk=False)
    return [DiffChunk(tag, _span_text(a, ta, i1, i2), _span_text(b, tb, j1, j2))
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()]


def missing_words(a: str, b: str) -> list[str]:
    """Words of ``a`` that have no counterpart in ``b`` (e.g. source words lost in the round trip)."""
    words: list[str] = []
    for chunk in word_diff(a, b):
        if chunk.kind in ("delete", "replace"):
            words.extend(t.group() for t in _tokens(chunk.a) if t.group()[0].isalnum())
    return words


def diff_html(a_label: str, a: str, b_label: str, b: str) -> str:
    """Two texts aligned word by word, wrapping like a paragraph.

    Words both texts share are written once; where they differ, the two versions stand one above
    the other: ``a``'s words on top in red (missing from ``b``), ``b``'s below in green (only in
    ``b``); an empty side shows ∅. Each difference is one block, so the alignment survives line
    wrapping at any width.
    """
    gap = '<span class="tq-diff-gap" style="color:#adb5bd;">&#8709;</span>'
    parts: list[str] = []
    for chunk in word_diff(a, b):
        if chunk.kind == "equal":
            parts.extend(f'<span class="tq-same">{esc(w)}</span>' for w in chunk.a.split())
            continue
        top = f'<span class="tq-diff-a" style="background:#ffe3e3;">{esc(chunk.a)}</span>' if chunk.a else gap
        bottom = f'<span class="tq-diff-b" style="background:#d3f9d8;">{esc(chunk.b)}</span>' if chunk.b else gap
        parts.append('<span class="tq-diff-pair" style="display:inline-flex;flex-direction:column;'
                     f'vertical-align:middle;line-height:1.35;margin:2px 0;">{top}{bottom}</span>')
    legend = (f'<div class="tq-diff-legend" style="color:#495057;font-size:0.85rem;">'
              f'<span style="background:#ffe3e3;">{esc(a_label)}</span> above · '
              f'<span style="background:#d3f9d8;">{esc(b_label)}</span> below · shared words once</div>')
    return ('<div class="tq-diff" style="margin-bottom:0.8rem;">' + legend
            + '<div style="font-size:1.02rem;line-height:2.6;">' + " ".join(parts) + "</div></div>")
