"""The HTML report: one self-contained page a reviewer can open from a mail or a CI artifact.

No script, no external resource: inline CSS, bars drawn with divs, and a Content-Security-Policy that
forbids scripts and fetches, so that even a mistake in escaping could not run code. Every piece of text
from the run (segments, messages, evidence, ids, file names, engine names) goes through ``html.escape``:
MT output is untrusted input.

Segments come worst first (by expected error, ``SegmentResult.priority``); a pair of radio buttons
re-orders them into article order with CSS alone (each card carries its input position as a CSS
``order``). Hints (flags below the display floor) are left out unless the report is written with
``hints=True``, where they are drawn dashed and labelled as hints. Each flag shows how often such a
flag is right on human labels (``p_error``, ``p_major``).

Spans are highlighted by cutting the text at every span boundary; each piece is wrapped once, in the
colour of the worst flag covering it, with all covering messages in its tooltip, so overlapping and
nested spans never produce crossed tags. A zero-length span (something missing at that point) is drawn
as a caret.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tqcheck.model import Flag, RunSignature, SegmentResult, Side, Summary

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2228;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:1.2rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.6rem 0 .6rem}
h3{font-size:.95rem;margin:0 0 .5rem;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:.88rem}
td,th{border-bottom:1px solid #dde1e6;padding:.25rem .4rem;text-align:left;vertical-align:top}
.card{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:.8rem 1rem;margin:.8rem 0}
.sig td:first-child{width:12rem;color:#555}
.bars{margin-bottom:.9rem;display:grid;grid-template-columns:minmax(8rem,16rem) 1fr 3.5rem;gap:.25rem .6rem;align-items:center;font-size:.88rem}
.bar{height:.8rem;background:#5b7cbd;border-radius:2px}
.bar.sev-critical{background:#b3261e}.bar.sev-major{background:#e8710a}.bar.sev-minor{background:#e9c400}
.text{white-space:pre-wrap;word-wrap:break-word;padding:.3rem .5rem;border-left:3px solid #ccd;margin:.3rem 0}
.label{font-size:.75rem;text-transform:uppercase;letter-spacing:.04em;color:#666}
mark{padding:0 1px;border-radius:2px}
mark.sev-minor{background:#fff3a8}mark.sev-major{background:#ffcf99}mark.sev-critical{background:#ff9a94}
mark.multi{outline:1px dashed #333}
mark.gap{background:none;color:#b3261e;font-weight:700}
.badge{display:inline-block;padding:0 .4rem;border-radius:3px;font-size:.78rem;color:#fff}
.badge.sev-critical{background:#b3261e}.badge.sev-major{background:#e8710a}.badge.sev-minor{background:#a08600}
.meta{color:#555;font-size:.85rem}
pre{white-space:pre-wrap;font-size:.78rem;margin:.2rem 0;max-height:14rem;overflow:auto}
details summary{cursor:pointer}
.order{font-size:.88rem;margin:.4rem 0}.order label{margin-right:1rem}
.list{display:flex;flex-direction:column}
#order-article:checked~.list>article{order:var(--pos)}
tr.hint td{color:#777}.badge.hint{background:#8a8f98}mark.hint{background:none;border-bottom:2px dashed #999}
.likely{font-size:.78rem;color:#555;white-space:nowrap}
"""  # noqa: E501 - the report's CSS, one rule a line
_ARTIFACT_LABELS = {"back_translation": "Back-translation", "pseudo_reference": "Pseudo-reference",
                    "round_trip_target": "Round trip (MT, into the source language and back)"}
_EVIDENCE_LIMIT = 2000


def esc(value: Any) -> str:
    """Escape anything for HTML text or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def likelihood(flag: Flag) -> str:
    """How often a flag like this one is right, in words: "right 72% (major 41%)"; empty unmeasured."""
    if flag.p_error is None:
        return ""
    text = f"right {flag.p_error:.0%}"
    if flag.p_major is not None:
        text += f" (major {flag.p_major:.0%})"
    return text


def highlight(text: str, flags: Sequence[Flag], side: Side) -> str:
    """``text`` escaped, with the spans of ``flags`` on ``side`` wrapped in ``<mark>``."""
    spans = [(max(0, min(f.span.start, len(text))), max(0, min(f.span.end, len(text))), f)
             for f in flags if f.span is not None and f.span.side == side]
    if not spans:
        return esc(text)
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    gaps: dict[int, list[Flag]] = {}
    for start, end, flag in spans:
        if start == end:
            gaps.setdefault(start, []).append(flag)
    out: list[str] = []
    for a, b in zip(cuts, cuts[1:] + [None]):
        if a in gaps:
            out.append(_mark("\u2038", gaps[a], extra="gap"))
        if b is None:
            break
        covering = [flag for start, end, flag in spans if start <= a and b <= end and start < end]
        piece = text[a:b]
        out.append(_mark(piece, covering) if covering else esc(piece))
    return "".join(out)


def _mark(piece: str, flags: Sequence[Flag], extra: str = "") -> str:
    worst = max((f.severity for f in flags), key=lambda s: s.rank)
    messages = list(dict.fromkeys(f"{'hint' if f.hint else f.severity.value}: {f.message}" for f in flags))
    classes = ("hint" if all(f.hint for f in flags) else f"sev-{worst.value}") \
        + (" multi" if len(flags) > 1 else "") + (f" {extra}" if extra else "")
    return f'<mark class="{esc(classes)}" title="{esc("; ".join(messages))}">{esc(piece)}</mark>'


def _bars(counts: Mapping[str, int], *, severity: bool = False) -> str:
    if not counts:
        return '<p class="meta">none</p>'
    order = {"critical": 0, "major": 1, "minor": 2}
    items = sorted(counts.items(), key=(lambda kv: order.get(kv[0], 9)) if severity else (lambda kv: (-kv[1], kv[0])))
    top = max(counts.values()) or 1
    rows = []
    for name, count in items:
        css = f"bar sev-{name}" if severity else "bar"
        width = 100.0 * count / top
        rows.append(f'<div>{esc(name)}</div><div><div class="{esc(css)}" style="width:{width:.1f}%"></div></div>'
                    f"<div>{int(count)}</div>")
    return f'<div class="bars">{"".join(rows)}</div>'


def _signature(sig: RunSignature, title: str) -> str:
    rows = [("report", title), ("tqcheck", sig.tqcheck_version), ("configuration hash", sig.config_hash),
            ("created", sig.created_at), ("language pairs", ", ".join(sig.language_pairs)),
            ("calibration", sig.calibration)]
    for engine in sig.engines:
        what = " ".join(str(x) for x in (engine.name, engine.model_id, engine.revision, engine.version) if x)
        rows.append((f"engine: {engine.role}", what))
    for name, value in sorted(sig.metric_signatures.items()):
        rows.append((f"metric: {name}", value))
    if sig.versions:
        rows.append(("versions", ", ".join(f"{k} {v}" for k, v in sorted(sig.versions.items()))))
    body = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows if v not in (None, ""))
    return f'<table class="sig">{body}</table>'


def _evidence(flag: Flag) -> str:
    if not flag.evidence:
        return ""
    text = json.dumps(dict(flag.evidence), ensure_ascii=False, indent=1, default=str)
    if len(text) > _EVIDENCE_LIMIT:
        text = text[:_EVIDENCE_LIMIT] + " ..."
    return f"<details><summary>evidence</summary><pre>{esc(text)}</pre></details>"


def _segment(result: SegmentResult, position: int, hints: bool) -> str:
    seg = result.segment
    shown = result.flags if hints else result.shown_flags
    flags = sorted(shown, key=lambda f: (f.hint, -f.severity.rank, -(f.p_error or 0.0),
                                         f.span.start if f.span else -1))
    head = [f"<h3>{esc(seg.id)}</h3>", '<div class="meta">']
    meta = [seg.origin, seg.doc_id and f"doc {seg.doc_id}", seg.language_pair,
            result.risk is not None and f"risk {result.risk:.2f}",
            f"expected error {result.priority:.2f}" if shown else None,
            f"{len(result.hints)} hint(s) not shown" if result.hints and not hints else None]
    head.append(" · ".join(esc(m) for m in meta if m))
    head.append("</div>")
    parts = ["".join(head)]
    if seg.source is not None:
        parts.append(f'<div class="label">source ({esc(seg.source_lang or "?")})</div>'
                     f'<div class="text src">{highlight(seg.source, flags, Side.SOURCE)}</div>')
    parts.append(f'<div class="label">MT ({esc(seg.target_lang or "?")})</div>'
                 f'<div class="text mt">{highlight(seg.mt, flags, Side.MT)}</div>')
    if seg.reference:
        parts.append(f'<div class="label">reference</div><div class="text ref">{esc(seg.reference)}</div>')
    for name, value in result.artifacts.items():
        label = _ARTIFACT_LABELS.get(name, name.replace("_", " "))
        parts.append(f'<div class="label">{esc(label)}</div><div class="text artifact">{esc(value)}</div>')
    if flags:
        rows = []
        for flag in flags:
            span_text = flag.span.text_in(seg) if flag.span else ""
            badge = ('<span class="badge hint">hint</span>' if flag.hint else
                     f'<span class="badge sev-{esc(flag.severity.value)}">{esc(flag.severity.value)}</span>')
            rows.append(
                f'<tr{" class=hint" if flag.hint else ""}><td>{badge}'
                f'<div class="likely">{esc(likelihood(flag))}</div></td>'
                f"<td>{esc(flag.category.value)}</td><td>{esc(flag.check)}</td>"
                f"<td>{esc(flag.message)}{_evidence(flag)}</td><td>{esc(span_text)}</td></tr>")
        parts.append("<table class=\"flags\"><tr><th>severity</th><th>category</th><th>check</th>"
                     f"<th>message</th><th>span</th></tr>{''.join(rows)}</table>")
    if result.scores:
        scores = ", ".join(f"{name} {value:.3g}" if isinstance(value, (int, float)) else f"{name} {value}"
                           for name, value in sorted(result.scores.items()))
        parts.append(f'<div class="meta">scores: {esc(scores)}</div>')
    return f'<article class="card seg" style="--pos:{int(position)}">{"".join(parts)}</article>'


def render(signature: RunSignature, summary: Summary, flagged: Sequence[tuple[int, SegmentResult]],
           clean: Iterable[SegmentResult], *, title: str, flagged_total: int, clean_total: int,
           hints: bool = False) -> str:
    """The whole page. ``flagged`` holds (input position, result) sorted worst first; the totals say how
    many were left out. With ``hints`` the flags below the display floor are shown too."""
    share = f" ({summary.flagged / summary.segments:.1%})" if summary.segments else ""
    counts = (f"<p><b>{summary.segments}</b> segments, <b>{summary.flagged}</b> flagged{esc(share)}"
              + (f", <b>{summary.skipped_records}</b> bad records skipped" if summary.skipped_records else "")
              + (f"; {summary.hints} hints {'shown' if hints else 'not shown (the JSONL report has them)'}"
                 if summary.hints else "") + "</p>")
    metrics = ""
    if summary.corpus_metrics:
        metrics = "<h2>Corpus metrics</h2><table>" + "".join(
            f"<tr><td>{esc(k)}</td><td>{esc(f'{v:.4g}' if isinstance(v, (int, float)) else v)}</td></tr>"
            for k, v in sorted(summary.corpus_metrics.items())) + "</table>"
    flagged_html = "".join(_segment(r, position, hints) for position, r in flagged)
    if flagged_total > len(flagged):
        flagged_html += (f'<p class="meta">{flagged_total - len(flagged)} more flagged segments are not shown; '
                         "the JSONL report has them all.</p>")
    clean_list = list(clean)
    clean_html = ""
    if clean_total:
        items = "".join(f"<tr><td>{esc(r.segment.id)}</td><td>{esc(r.segment.mt)}</td></tr>" for r in clean_list)
        more = (f'<p class="meta">{clean_total - len(clean_list)} more not shown.</p>'
                if clean_total > len(clean_list) else "")
        clean_html = (f"<h2>Without flags</h2><details><summary>{clean_total} segments</summary>"
                      f"<table>{items}</table>{more}</details>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        f"<title>tqcheck report: {esc(title)}</title>"
        f"<style>{_CSS}</style></head><body><main>"
        f"<h1>tqcheck report: {esc(title)}</h1>"
        f'<section class="card">{_signature(signature, title)}</section>'
        f'<section class="card"><h2>Summary</h2>{counts}'
        f"<h3>By severity</h3>{_bars(summary.by_severity, severity=True)}"
        f"<h3>By category</h3>{_bars(summary.by_category)}"
        f"<h3>By check</h3>{_bars(summary.by_check)}{metrics}</section>"
        "<h2>Flagged segments</h2>"
        '<input type="radio" name="order" id="order-risk" checked>'
        '<label for="order-risk" class="order">most likely errors first</label> '
        '<input type="radio" name="order" id="order-article">'
        '<label for="order-article" class="order">article order</label>'
        f"<div class=\"list\">{flagged_html or '<p class=meta>none</p>'}</div>"
        f"{clean_html}</main></body></html>\n"
    )


__all__ = ["render", "highlight", "esc"]
