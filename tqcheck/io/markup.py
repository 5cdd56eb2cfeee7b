"""HTML from untrusted text: the one escaper and the one span highlighter of tqcheck.

MT output, sources, ids and evidence come from feeds nobody vetted and may well hold ``<script>`` or
``<img onerror=...>``. Every piece of text and every attribute value goes through ``esc``
(``html.escape`` with quotes); the only markup is the fixed tags written here. The HTML report
(``tqcheck.io.html_report``) and the reviewer UI (``tqcheck.review.render``) both highlight with
``highlight``, so a span looks the same in both and there is one place to keep right.

Spans are highlighted by cutting the text at every span boundary; each piece is wrapped once, in the
colour of the worst mark covering it, with all covering descriptions in its tooltip, so overlapping and
nested spans never produce crossed tags. A zero-length span (something missing at that point) is drawn
as a caret.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tqcheck.model import Flag, Severity

#: Background of a mark by severity, for pages without the report's style sheet (the UI).
SEVERITY_COLOUR = {Severity.MINOR: "#fff3bf", Severity.MAJOR: "#ffd8a8", Severity.CRITICAL: "#ffc9c9"}


def esc(value: Any) -> str:
    """Escape anything for HTML text or a quoted attribute value."""
    return html.escape("" if value is None else str(value), quote=True)


def likelihood(flag: Flag) -> str:
    """How often a flag like this one is right on human labels, in words; "not measured" without."""
    if flag.p_error is None:
        return "not measured"
    text = f"right {flag.p_error:.0%} of the time"
    if flag.p_major is not None:
        text += f", a major error {flag.p_major:.0%}"
    return text


@dataclass(frozen=True)
class Mark:
    """A span to highlight: how bad, what its tooltip says, its number on the page (UI), whether a
    reviewer confirmed or dismissed it, whether it is a hint."""

    start: int
    end: int
    severity: Severity
    tooltip: str
    number: int | None = None
    decision: str | None = None  # "confirmed" / "dismissed"
    hint: bool = False


def marks_of(flags: Iterable[Flag], side: Any) -> list[Mark]:
    """Marks for the flags with a span on ``side`` (the report's tooltips: severity and message)."""
    return [Mark(f.span.start, f.span.end, f.severity, f"{'hint' if f.hint else f.severity.value}: {f.message}",
                 hint=f.hint) for f in flags if f.span is not None and f.span.side == side]


def highlight(text: str, marks: Iterable[Mark], *, inline_style: bool = False) -> str:
    """``text`` escaped, with the marked spans wrapped in ``<mark>`` (see the module docstring).

    Classes say the worst severity (``sev-major``), ``multi`` where marks overlap, ``hint`` where only
    hints cover the piece, ``gap`` for a caret; with ``inline_style`` (a page without the report's
    style sheet: the UI) the colours are written on the element too, and the marks have the class
    ``tq-flag``. Numbered marks end with their numbers as a
    superscript, so a list of flags below can be matched to the text; a dismissed mark is drawn struck
    through and pale, a confirmed one underlined.
    """
    length = len(text)
    spans = [Mark(max(0, min(m.start, length)), max(0, min(max(m.end, m.start), length)), m.severity, m.tooltip,
                  m.number, m.decision, m.hint) for m in marks]
    if not spans:
        return esc(text)
    cuts = sorted({0, length, *(m.start for m in spans), *(m.end for m in spans)})
    gaps: dict[int, list[Mark]] = {}
    for m in spans:
        if m.start == m.end:
            gaps.setdefault(m.start, []).append(m)
    out: list[str] = []
    for a, b in zip(cuts, [*cuts[1:], None]):
        if a in gaps:
            out.append(_mark("\u2038", gaps[a], inline_style, extra="gap"))
        if b is None:
            break
        covering = [m for m in spans if m.start <= a and b <= m.end and m.start < m.end]
        out.append(_mark(text[a:b], covering, inline_style) if covering else esc(text[a:b]))
        ending = [m for m in spans if m.end == b and m.start < m.end and m.number is not None]
        if ending:
            out.append('<sup class="tq-flag-no" style="color:#868e96;">'
                       + esc(",".join(str(m.number) for m in ending)) + "</sup>")
    return "".join(out)


def _mark(piece: str, marks: list[Mark], inline_style: bool, extra: str = "") -> str:
    live = [m for m in marks if m.decision != "dismissed"] or marks
    worst = max((m.severity for m in live), key=lambda s: s.rank)
    hint = all(m.hint for m in marks)
    classes = ("tq-flag " if inline_style else "") + ("hint" if hint else f"sev-{worst.value}") \
        + (" multi" if len(marks) > 1 else "") + (f" {extra}" if extra else "")
    tooltip = "\n\n".join(dict.fromkeys(m.tooltip for m in marks))
    attrs = f'class="{esc(classes)}" title="{esc(tooltip)}"'
    numbers = [m.number for m in marks if m.number is not None]
    if numbers:
        attrs += f' data-flags="{esc(",".join(map(str, numbers)))}"'
    if inline_style:
        style = f"background:{SEVERITY_COLOUR[worst]};padding:0 1px;border-radius:2px;"
        if hint:
            style = "background:none;border-bottom:2px dashed #999;"
        if all(m.decision == "dismissed" for m in marks):
            style += "opacity:0.55;text-decoration:line-through;"
        elif any(m.decision == "confirmed" for m in marks):
            style += "border-bottom:2px solid #c92a2a;"
        attrs += f' style="{esc(style)}"'
    return f"<mark {attrs}>{esc(piece)}</mark>"
