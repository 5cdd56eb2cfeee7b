"""The HTML report: one self-contained page a reviewer can open from a mail or a CI artifact.

No script, no external resource: inline CSS, bars drawn with divs, and a Content-Security-Policy that
forbids scripts and fetches, so that even a mistake in escaping could not run code. The page is a
Jinja2 template (``templates/report.html.j2``) rendered with autoescape on: every piece of text from the
run (segments, messages, evidence, ids, file names, engine names) is escaped, MT output being untrusted
input; the only pre-built HTML is the highlighted text, from ``tqcheck.io.markup.highlight``, which
escapes every piece itself.

Segments come worst first (by expected error, ``SegmentResult.priority``); a pair of radio buttons
re-orders them into article order with CSS alone (each card carries its input position as a CSS
``order``). Hints (flags below the display floor) are left out unless the report is written with
``hints=True``, where they are drawn dashed and labelled as hints. Each flag shows how often such a
flag is right on human labels (``p_error``, ``p_major``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from tqcheck.io.markup import esc, highlight, likelihood, marks_of
from tqcheck.model import Flag, RunSignature, SegmentResult, Side, Summary

_ARTIFACT_LABELS = {"back_translation": "Back-translation", "pseudo_reference": "Pseudo-reference",
                    "round_trip_target": "Round trip (MT, into the source language and back)"}
_EVIDENCE_LIMIT = 2000
_SEVERITY_ORDER = {"critical": 0, "major": 1, "minor": 2}


@cache
def _template() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("tqcheck.io", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True), trim_blocks=False)
    return env.get_template("report.html.j2")


def _bars(counts: Mapping[str, int], *, severity: bool = False) -> list[tuple[str, int, str, str]]:
    """(name, count, width %, css class) per bar, worst severity first or largest count first."""
    items = sorted(counts.items(), key=(lambda kv: _SEVERITY_ORDER.get(kv[0], 9)) if severity
                   else (lambda kv: (-kv[1], kv[0])))
    top = max(counts.values(), default=0) or 1
    return [(name, int(count), f"{100.0 * count / top:.1f}", f"bar sev-{name}" if severity else "bar")
            for name, count in items]


def _signature_rows(sig: RunSignature, title: str) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [("report", title), ("tqcheck", sig.tqcheck_version),
                                   ("configuration hash", sig.config_hash), ("created", sig.created_at),
                                   ("language pairs", ", ".join(sig.language_pairs)), ("calibration", sig.calibration)]
    for engine in sig.engines:
        what = " ".join(str(x) for x in (engine.name, engine.model_id, engine.revision, engine.version) if x)
        rows.append((f"engine: {engine.role}", what))
    for name, value in sorted(sig.metric_signatures.items()):
        rows.append((f"metric: {name}", value))
    if sig.versions:
        rows.append(("versions", ", ".join(f"{k} {v}" for k, v in sorted(sig.versions.items()))))
    return [(k, v) for k, v in rows if v not in (None, "")]


def _evidence(flag: Flag) -> str:
    if not flag.evidence:
        return ""
    text = json.dumps(dict(flag.evidence), ensure_ascii=False, indent=1, default=str)
    return text[:_EVIDENCE_LIMIT] + " ..." if len(text) > _EVIDENCE_LIMIT else text


def _segment(result: SegmentResult, position: int, hints: bool) -> dict[str, Any]:
    from markupsafe import Markup

    seg = result.segment
    shown = result.flags if hints else result.shown_flags
    flags = sorted(shown, key=lambda f: (f.hint, -f.severity.rank, -(f.p_error or 0.0),
                                         f.span.start if f.span else -1))
    meta = [seg.origin, seg.doc_id and f"doc {seg.doc_id}", seg.language_pair,
            result.risk is not None and f"risk {result.risk:.2f}",
            f"expected error {result.priority:.2f}" if shown else None,
            f"{len(result.hints)} hint(s) not shown" if result.hints and not hints else None]
    texts = []
    if seg.source is not None:
        texts.append({"label": f"source ({seg.source_lang or '?'})", "css": "src",
                      "html": Markup(highlight(seg.source, marks_of(flags, Side.SOURCE)))})  # noqa: S704 - escaped
    texts.append({"label": f"MT ({seg.target_lang or '?'})", "css": "mt",
                  "html": Markup(highlight(seg.mt, marks_of(flags, Side.MT)))})  # noqa: S704 - escaped
    if seg.reference:
        texts.append({"label": "reference", "css": "ref", "html": seg.reference})
    for name, value in result.artifacts.items():
        texts.append({"label": _ARTIFACT_LABELS.get(name, name.replace("_", " ")), "css": "artifact", "html": value})
    rows = [{"hint": f.hint, "badge": "hint" if f.hint else f.severity.value,
             "badge_css": "hint" if f.hint else f"sev-{f.severity.value}",
             "likely": likelihood(f) if f.p_error is not None else "", "category": f.category.value,
             "check": f.check, "message": f.message, "evidence": _evidence(f),
             "span_text": f.span.text_in(seg) if f.span else ""} for f in flags]
    scores = ", ".join(f"{name} {value:.3g}" if isinstance(value, (int, float)) else f"{name} {value}"
                       for name, value in sorted(result.scores.items()))
    return {"id": seg.id, "position": int(position), "meta": [m for m in meta if m], "texts": texts,
            "flags": rows, "scores": scores}


def render(signature: RunSignature, summary: Summary, flagged: Sequence[tuple[int, SegmentResult]],
           clean: Iterable[SegmentResult], *, title: str, flagged_total: int, clean_total: int,
           hints: bool = False) -> str:
    """The whole page. ``flagged`` holds (input position, result) sorted worst first; the totals say how
    many were left out. With ``hints`` the flags below the display floor are shown too."""
    clean_list = list(clean)
    metrics = [(k, f"{v:.4g}" if isinstance(v, (int, float)) else v) for k, v in sorted(summary.corpus_metrics.items())]
    return _template().render(
        title=title, signature_rows=_signature_rows(signature, title), summary=summary, hints=hints,
        share=f" ({summary.flagged / summary.segments:.1%})" if summary.segments else "",
        bar_groups=[("By severity", _bars(summary.by_severity, severity=True)),
                    ("By category", _bars(summary.by_category)), ("By check", _bars(summary.by_check))],
        metrics=metrics, segments=[_segment(r, position, hints) for position, r in flagged],
        flagged_more=max(0, flagged_total - len(flagged)), clean=clean_list, clean_total=clean_total,
        clean_more=max(0, clean_total - len(clean_list)))


__all__ = ["render", "highlight", "esc"]
