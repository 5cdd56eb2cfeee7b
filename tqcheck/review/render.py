"""HTML for the segment view, built only from escaped text: feed text is never live markup.

Segments come from feeds and files nobody vetted; a segment may well contain ``<script>`` or
``<img onerror=...>``. Every piece of text and every attribute value that reaches the HTML here goes
through ``tqcheck.io.markup.esc``; spans are highlighted by ``tqcheck.io.markup.highlight``, the one
highlighter the HTML report uses too; the only markup is fixed tags.
The UI then hands the result to ``st.html``, which sanitises once more.

Views: the MT with its flagged spans highlighted (the tooltip of a mark shows the flag and its
evidence); an engine's wording as one plain sentence with the differences marked inline, like track
changes (``tracked_html``: what an editor reads first); two texts aligned word by word with the
differences stacked (``diff_html``: the detail, behind an expander).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tqcheck.io.markup import Mark, esc, highlight
from tqcheck.model import Side
from tqcheck.store.records import FlagRecord, SegmentRecord

_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]", re.UNICODE)


# -- flagged spans ----------------------------------------------------------------------------------


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
        label = "hint" if flag.hint else flag.severity.value
        tooltip = f"{number}. {label} · {flag.category.value} · {flag.check}: {flag.message}"
        if record.decision is not None:
            tooltip += f"\n[{record.decision.value}]"
        if flag.evidence:
            tooltip += "\n" + evidence_summary(flag.evidence)
        marks.append(Mark(flag.span.start, flag.span.end, flag.severity, tooltip, number,
                          record.decision.value if record.decision else None, flag.hint))
    return marks


def highlight_html(text: str, marks: Iterable[Mark]) -> str:
    """``text`` with the marked spans highlighted (``tqcheck.io.markup.highlight``, inline colours, flag
    numbers as superscripts; dismissed flags struck through and pale, confirmed ones underlined)."""
    return ('<div class="tq-text" style="font-size:1.1rem;line-height:1.9;white-space:pre-wrap;">'
            + highlight(text, marks, inline_style=True) + "</div>")


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


# -- track changes ----------------------------------------------------------------------------------

_DEL_STYLE = "background:#ffe3e3;color:#a61e4d;text-decoration:line-through;"
_INS_STYLE = "background:#d3f9d8;color:#2b8a3e;text-decoration:none;"


def _pieces(text: str, toks: Sequence[re.Match[str]], i: int, j: int) -> list[tuple[str, str]]:
    """Tokens ``i``..``j`` of ``text``, each with the white space that follows it (kept as written)."""
    out = []
    for k in range(i, j):
        end = toks[k + 1].start() if k + 1 < len(toks) else len(text)
        word = toks[k].group()
        out.append((word, text[toks[k].end():end]))
    return out


def tracked_changes(base: str, other: str) -> list[tuple[str, str]]:
    """``other`` read as an edit of ``base``: ``(kind, text)`` pieces in reading order, kind one of
    ``same``, ``del`` (words of ``base`` that ``other`` lacks) and ``ins`` (words only ``other``
    has). Words are compared ignoring case (``word_diff``); the text is ``other``'s own spelling and
    spacing for ``same`` and ``ins``, ``base``'s for ``del``. Joining the ``same`` and ``ins`` pieces
    gives ``other`` back (up to white space); ``same`` and ``del``, ``base``."""
    ta, tb = _tokens(base), _tokens(other)
    matcher = difflib.SequenceMatcher(a=[t.group().casefold() for t in ta],
                                      b=[t.group().casefold() for t in tb], autojunk=False)
    out: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(("same", w + sp) for w, sp in _pieces(other, tb, j1, j2))
            continue
        if i2 > i1:
            out.append(("del", "".join(w + sp for w, sp in _pieces(base, ta, i1, i2))))
        if j2 > j1:
            out.append(("ins", "".join(w + sp for w, sp in _pieces(other, tb, j1, j2))))
    return out


def plain_html(label: str, text: str) -> str:
    """An engine's wording with nothing to compare it with (a target-only back-translation)."""
    return ('<div class="tq-tracked" style="margin-bottom:0.8rem;">'
            f'<div class="tq-tracked-label" style="color:#495057;font-size:0.85rem;"><b>{esc(label)}</b></div>'
            f'<div style="font-size:1.05rem;line-height:1.8;">{esc(text)}</div></div>')


def tracked_html(label: str, base: str, other: str, *, base_label: str) -> str:
    """``other`` (an engine's wording) as one plain sentence, with its differences from ``base``
    marked inline like track changes: ``base``'s words it lacks struck through in red (``<del>``),
    its own words in green (``<ins>``). An editor reads one sentence instead of two stacked ones;
    all text escaped, the only markup fixed tags; white space as written, outside the tags."""
    parts: list[str] = []
    changed = 0
    previous = "same"
    last = ""  # the last character written, struck or not
    for kind, text in tracked_changes(base, other):
        if last.isalnum() and text[:1].isalnum():
            # Pieces keep the white space of the text they come from; where one ends on a word and
            # the next starts one ("Mexico" + "on Wednesday" before a comma), a space keeps them apart.
            text = " " + text
        last = text[-1:] or last
        if kind == "same":
            parts.append(esc(text))
        else:
            changed += kind == "del" or previous == "same"  # a replacement is one difference
            core = text.rstrip()
            style = _DEL_STYLE if kind == "del" else _INS_STYLE
            parts.append(f'<{kind} class="tq-{kind}" style="{style}">{esc(core)}</{kind}>'
                         + esc(text[len(core):]))
        previous = kind
    verdict = (f"the same words as the {base_label}" if not changed else
               f"{changed} difference{'s' if changed != 1 else ''} from the {base_label}")
    head = (f'<div class="tq-tracked-label" style="color:#495057;font-size:0.85rem;">'
            f'<b>{esc(label)}</b> · {esc(verdict)} · '
            f'<del style="{_DEL_STYLE}">{esc(base_label)} only</del> '
            f'<ins style="{_INS_STYLE}">{esc(label)} only</ins></div>')
    return ('<div class="tq-tracked" style="margin-bottom:0.8rem;">' + head
            + '<div style="font-size:1.05rem;line-height:1.8;">' + "".join(parts).rstrip()
            + "</div></div>")


# -- sentences in their document --------------------------------------------------------------------


def sentence_html(record: SegmentRecord, *, caption: str, muted: bool = False) -> str:
    """One stored sentence as a reader of its document sees it: a caption (where it is, how far its
    review got), the source in grey and the MT (or the correction) with its shown flags highlighted.
    Used for the sentences around a segment and for the article view; ``muted`` draws it paler, as
    context rather than the thing being judged."""
    segment = record.segment
    shown = [f for f in record.flags if not f.flag.hint]
    status = record.status.value if shown else "no flags"
    head = (f'<div class="tq-sentence-caption" style="color:#868e96;font-size:0.8rem;">{esc(caption)}'
            f' · {esc(segment.id)} · {esc(status)}'
            + (f" · {len(shown)} flag{'s' if len(shown) != 1 else ''}" if shown else "")
            + (" · corrected" if record.edited_target is not None else "") + "</div>")
    source = (f'<div class="tq-sentence-source" style="color:#868e96;">{esc(segment.source)}</div>'
              if segment.source is not None else "")
    if record.edited_target is not None:
        target = esc(record.edited_target)
    else:
        target = highlight(segment.mt, flag_marks(shown, Side.MT), inline_style=True)
    opacity = "opacity:0.75;" if muted else ""
    return (f'<div class="tq-sentence" style="{opacity}border-left:3px solid '
            f'{"#dee2e6" if not shown else "#ffa94d"};padding-left:0.6rem;margin:0.2rem 0;">'
            f'{head}{source}<div class="tq-sentence-mt" style="line-height:1.7;">{target}</div></div>')
