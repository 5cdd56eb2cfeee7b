"""Score tqcheck against human labels: segment ranking, span overlap and clean-vs-perturbed pairs.

Three parts, kept apart so that each can be tested on hand-made cases with known answers:

1. reading labelled data (the schema of ``../shared/eval/README.md``) into ``LabelledSegment`` and
   ``LabelledPair`` records, each with the ``Segment``\\ s tqcheck is run on;
2. metric functions over plain numbers and spans (``roc_auc``, ``average_precision``,
   ``kendall_tau``, ``pearson``, ``span_counts``, ``prf``) and a grouped bootstrap for their 95 %
   confidence intervals;
3. ``evaluate(data, results)``, which joins tqcheck's ``SegmentResult``\\ s to the labels and returns a
   plain, JSON-ready dictionary, and ``format_table`` for the terminal.

The bootstrap resamples *source sentences*, not rows: the same source appears once per MT system (or
once per perturbation), and rows that share a source are not independent evidence.

Segment score: the calibrated ``risk``. When a run has no risk (rules only, no calibration), the MQM
penalty of tqcheck's own flags (1 minor, 5 major, 10 critical) stands in, and the report says so.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from tqcheck.errors import InputError, RecordError
from tqcheck.model import Segment, SegmentResult, Severity, Side

# ----------------------------------------------------------------------------------------------------
# Labelled data


@dataclass(frozen=True)
class GoldSpan:
    """A human-marked error on the MT: ``[start, end)`` characters, MQM severity and category."""

    start: int
    end: int
    severity: str
    category: str

    @property
    def is_error(self) -> bool:
        return self.severity != "neutral"

    @property
    def is_major(self) -> bool:
        return self.severity in ("major", "critical")


@dataclass(frozen=True)
class LabelledSegment:
    """One MT segment with its human labels.

    ``spans`` is None when the data has no span labels. ``badness`` is the number that should rise
    with the risk: the MQM penalty, or minus a DA score (``badness_kind`` says which).
    """

    segment: Segment
    group: str
    spans: tuple[GoldSpan, ...] | None = None
    has_major: bool | None = None
    badness: float | None = None
    badness_kind: str | None = None

    @property
    def has_error(self) -> bool | None:
        if self.spans is None:
            return None
        return any(s.is_error for s in self.spans)


@dataclass(frozen=True)
class LabelledPair:
    """A DEMETR item: a checked MT and the same MT with one deliberate error of a known kind."""

    clean: Segment
    perturbed: Segment
    group: str
    severity: str
    kind: str
    diff_span: tuple[int, int] | None = None  # on the perturbed MT; None when text was only deleted


@dataclass
class LabelledData:
    segments: list[LabelledSegment] = field(default_factory=list)
    pairs: list[LabelledPair] = field(default_factory=list)

    def all_segments(self) -> list[Segment]:
        """Every distinct segment to run tqcheck on, in first-seen order (a DEMETR clean MT is
        shared by all perturbations of its item and is run once)."""
        seen: dict[str, Segment] = {}
        for item in self.segments:
            seen.setdefault(item.segment.id, item.segment)
        for pair in self.pairs:
            seen.setdefault(pair.clean.id, pair.clean)
            seen.setdefault(pair.perturbed.id, pair.perturbed)
        return list(seen.values())


def _langs(lp: str | None, where: str) -> tuple[str | None, str | None]:
    if not lp:
        return None, None
    src, sep, tgt = lp.partition("-")
    if not sep or not src or not tgt:
        raise RecordError(f"bad language pair {lp!r}", where=where, fix="use e.g. 'fr-en'")
    return src, tgt


def parse_record(data: Mapping[str, Any], where: str) -> LabelledSegment | LabelledPair:
    """Turn one JSON record into a labelled segment or pair; a DEMETR row has ``mt_perturbed``."""
    try:
        rid = str(data["id"])
        mt = data["mt"]
    except KeyError as exc:
        raise RecordError(f"missing key {exc.args[0]!r}", where=where,
                          fix="see ../shared/eval/README.md for the schema") from None
    src_lang, tgt_lang = _langs(data.get("lp"), where)
    source = data.get("source")
    common = dict(source=source, source_lang=src_lang, target_lang=tgt_lang,
                  reference=data.get("reference"), doc_id=data.get("doc_id"), origin=where)
    group = f"{data.get('lp')}|{source if source is not None else mt}"
    if "mt_perturbed" in data:
        clean_id = f"clean:{data.get('lp')}:{data.get('item_id', rid)}"
        diff = data.get("perturbed_diff_span") or {}
        span = None
        if diff.get("start") is not None and diff.get("end") is not None and diff["end"] > diff["start"]:
            span = (int(diff["start"]), int(diff["end"]))
        return LabelledPair(
            clean=Segment(id=clean_id, mt=mt, **common),
            perturbed=Segment(id=rid, mt=data["mt_perturbed"], **common),
            group=group,
            severity=str(data.get("severity") or "unknown"),
            kind=str(data.get("pert_name") or "unknown"),
            diff_span=span,
        )
    spans = None
    if "spans" in data and data["spans"] is not None:
        try:
            spans = tuple(GoldSpan(int(s["start"]), int(s["end"]), str(s["severity"]),
                                   str(s.get("category") or "Other")) for s in data["spans"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordError(f"bad span: {exc}", where=where) from exc
    has_major = data.get("has_major")
    if has_major is None and spans is not None:
        has_major = any(s.is_major for s in spans)
    badness, kind = None, None
    if data.get("mqm_penalty") is not None:
        badness, kind = float(data["mqm_penalty"]), "mqm_penalty"
    elif data.get("da") is not None:
        badness, kind = -float(data["da"]), "-da"
    return LabelledSegment(Segment(id=rid, mt=mt, **common), group, spans,
                           None if has_major is None else bool(has_major), badness, kind)


def _unique_id(item: LabelledSegment | LabelledPair, seen: dict[str, int]) -> LabelledSegment | LabelledPair:
    """Give a repeated record id a suffix (``id#2``): the same MT judged by two annotators is two
    labels, and joining results to labels by id must not merge them."""
    import dataclasses

    seg = item.perturbed if isinstance(item, LabelledPair) else item.segment
    count = seen.get(seg.id, 0) + 1
    seen[seg.id] = count
    if count == 1:
        return item
    renamed = dataclasses.replace(seg, id=f"{seg.id}#{count}")
    if isinstance(item, LabelledPair):
        return dataclasses.replace(item, perturbed=renamed)
    return dataclasses.replace(item, segment=renamed)


def read_labelled(path: str | Path, *, limit: int | None = None) -> LabelledData:
    """Read a labelled JSONL file; ``limit`` keeps the first N records (for quick runs). A repeated
    id gets a ``#n`` suffix (two annotators of one MT are two labelled rows)."""
    path = Path(path)
    data = LabelledData()
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("labelled data file not found", where=str(path)) from None
    seen: dict[str, int] = {}
    with handle:
        n = 0
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            if limit is not None and n >= limit:
                break
            where = f"{path}:{lineno}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"invalid JSON: {exc.msg}", where=where) from exc
            item = parse_record(record, where)
            item = _unique_id(item, seen)
            (data.pairs if isinstance(item, LabelledPair) else data.segments).append(item)
            n += 1
    if n == 0:
        raise InputError("no records", where=str(path), fix="expected one JSON object per line")
    return data


# ----------------------------------------------------------------------------------------------------
# Metrics on plain numbers


def _ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks with ties given their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def roc_auc(labels: Sequence[bool], scores: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative; ties count one half.

    NaN when one class is absent.
    """
    pos = sum(1 for y in labels if y)
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return math.nan
    ranks = _ranks(scores)
    rank_sum = sum(r for r, y in zip(ranks, labels) if y)
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def average_precision(labels: Sequence[bool], scores: Sequence[float]) -> float:
    """Area under the precision-recall curve as a step function (average precision).

    Tied scores form one threshold, so the order of tied items does not matter. NaN without positives.
    """
    pos = sum(1 for y in labels if y)
    if pos == 0:
        return math.nan
    pairs = sorted(zip(scores, labels), key=lambda p: -p[0])
    ap = tp = seen = 0.0
    i = 0
    while i < len(pairs):
        j = i
        block_tp = 0
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            block_tp += bool(pairs[j][1])
            j += 1
        tp += block_tp
        seen += j - i
        ap += (block_tp / pos) * (tp / seen)
        i = j
    return ap


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b (ties in either variable are accounted for). NaN when undefined."""
    if len(x) < 2:
        return math.nan
    from scipy.stats import kendalltau  # lazy: scipy is heavy

    value = kendalltau(x, y).statistic
    return float(value) if value is not None else math.nan


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson's r; NaN when either side is constant."""
    n = len(x)
    if n < 2:
        return math.nan
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx == 0 or syy == 0:
        return math.nan
    return sxy / math.sqrt(sxx * syy)


def _union_chars(spans: Iterable[tuple[int, int]]) -> set[int]:
    chars: set[int] = set()
    for start, end in spans:
        chars.update(range(start, end))
    return chars


def span_counts(predicted: Iterable[tuple[int, int]], gold: Iterable[tuple[int, int]]) -> tuple[int, int, int]:
    """Character-level (true positives, predicted, gold) for one segment; overlapping spans on the
    same side are merged first, so a character counts once."""
    pred, ref = _union_chars(predicted), _union_chars(gold)
    return len(pred & ref), len(pred), len(ref)


def prf(tp: float, predicted: float, gold: float) -> tuple[float, float, float]:
    """Precision, recall, F1 from counts. Precision is NaN with nothing predicted, recall with no gold;
    F1 = 2·tp / (predicted + gold), so predicting nothing against gold scores 0, not NaN."""
    p = tp / predicted if predicted else math.nan
    r = tp / gold if gold else math.nan
    f = 2 * tp / (predicted + gold) if predicted + gold else math.nan
    return p, r, f


# ----------------------------------------------------------------------------------------------------
# Bootstrap


def bootstrap_ci(
    statistic: Callable[[Sequence[int]], float],
    groups: Sequence[str],
    *,
    resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Percentile interval of ``statistic(indices)`` over resamples of whole groups with replacement.

    ``groups[i]`` is the group of item ``i`` (its source sentence). Resamples where the statistic is
    NaN (e.g. no positives drawn) are dropped; with fewer than 10 left the interval is (NaN, NaN).
    """
    import numpy as np

    by_group: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        by_group[g].append(i)
    members = list(by_group.values())
    if not members:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        picks = rng.integers(0, len(members), size=len(members))
        indices = [i for g in picks for i in members[g]]
        value = statistic(indices)
        if not math.isnan(value):
            values.append(value)
    if len(values) < 10:
        return math.nan, math.nan
    lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def _estimate(statistic: Callable[[Sequence[int]], float], groups: Sequence[str],
              resamples: int, seed: int) -> dict[str, Any]:
    value = statistic(list(range(len(groups))))
    lo, hi = bootstrap_ci(statistic, groups, resamples=resamples, seed=seed) if resamples else (math.nan,) * 2
    return {"value": _clean(value), "ci": [_clean(lo), _clean(hi)]}


def _clean(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


# ----------------------------------------------------------------------------------------------------
# Joining results to labels


def segment_score(result: SegmentResult) -> float:
    """The number tqcheck ranks segments by: the risk, or its flags' MQM penalty without a risk."""
    return float(result.risk) if result.risk is not None else float(result.mqm_penalty)


def predicted_spans(result: SegmentResult, *, min_severity: Severity | None = None,
                    category_prefix: str | None = None) -> list[tuple[int, int]]:
    return [
        (f.span.start, f.span.end)
        for f in result.flags
        if f.span is not None and f.span.side is Side.MT
        and (min_severity is None or f.severity >= min_severity)
        and (category_prefix is None or _top(f.category.value) == category_prefix)
    ]


def _top(category: str) -> str:
    """Top-level MQM branch, with the annotation's 'Linguistic_conventions' read as 'Fluency'."""
    top = category.split("/", 1)[0]
    return {"Linguistic_conventions": "Fluency", "Locale_conventions": "Locale convention"}.get(top, top)


def _segment_block(items: list[LabelledSegment], results: Mapping[str, SegmentResult],
                   resamples: int, seed: int) -> dict[str, Any]:
    rows = [(item, results[item.segment.id]) for item in items if item.segment.id in results]
    groups = [item.group for item, _ in rows]
    scores = [segment_score(res) for _, res in rows]
    block: dict[str, Any] = {
        "n": len(rows),
        "score": "risk" if rows and all(res.risk is not None for _, res in rows) else "flag_mqm_penalty",
    }
    labelled = [i for i, (item, _) in enumerate(rows) if item.has_major is not None]
    if labelled:
        labels = [bool(rows[i][0].has_major) for i in range(len(rows))]
        block["positives"] = sum(labels[i] for i in labelled)

        def sub(metric: Callable[[list[bool], list[float]], float]) -> Callable[[Sequence[int]], float]:
            return lambda idx: metric([labels[i] for i in idx if rows[i][0].has_major is not None],
                                      [scores[i] for i in idx if rows[i][0].has_major is not None])

        block["roc_auc"] = _estimate(sub(roc_auc), groups, resamples, seed)
        block["pr_auc"] = _estimate(sub(average_precision), groups, resamples, seed)
    graded = [i for i, (item, _) in enumerate(rows) if item.badness is not None]
    if graded:
        bad = [rows[i][0].badness if rows[i][0].badness is not None else math.nan for i in range(len(rows))]
        block["badness"] = rows[graded[0]][0].badness_kind

        def corr(metric: Callable[[list[float], list[float]], float]) -> Callable[[Sequence[int]], float]:
            return lambda idx: metric([scores[i] for i in idx if not math.isnan(bad[i])],
                                      [bad[i] for i in idx if not math.isnan(bad[i])])

        block["kendall_tau"] = _estimate(corr(kendall_tau), groups, resamples, seed)
        block["pearson"] = _estimate(corr(pearson), groups, resamples, seed)
    return block


def _prf_block(counts: list[tuple[int, int, int]], groups: list[str], resamples: int,
               seed: int) -> dict[str, Any]:
    def stat(which: int) -> Callable[[Sequence[int]], float]:
        def f(idx: Sequence[int]) -> float:
            tp = sum(counts[i][0] for i in idx)
            pr = sum(counts[i][1] for i in idx)
            gd = sum(counts[i][2] for i in idx)
            return prf(tp, pr, gd)[which]
        return f

    tp = sum(c[0] for c in counts)
    pr = sum(c[1] for c in counts)
    gd = sum(c[2] for c in counts)
    out = {"chars_predicted": pr, "chars_gold": gd, "chars_overlap": tp}
    for k, name in enumerate(("precision", "recall", "f1")):
        out[name] = _estimate(stat(k), groups, resamples, seed)
    return out


def _span_block(items: list[LabelledSegment], results: Mapping[str, SegmentResult],
                resamples: int, seed: int) -> dict[str, Any] | None:
    rows = [(item, results[item.segment.id]) for item in items
            if item.spans is not None and item.segment.id in results]
    if not rows:
        return None
    groups = [item.group for item, _ in rows]
    block: dict[str, Any] = {}
    # Flags at major+ against major+critical gold; every flag against every non-neutral gold span.
    major = [span_counts(predicted_spans(res, min_severity=Severity.MAJOR),
                         [(s.start, s.end) for s in item.spans or () if s.is_major]) for item, res in rows]
    block["major"] = _prf_block(major, groups, resamples, seed)
    block["major_any_flag"] = _prf_block(
        [span_counts(predicted_spans(res), [(s.start, s.end) for s in item.spans or () if s.is_major])
         for item, res in rows], groups, resamples, seed)
    block["all"] = _prf_block(
        [span_counts(predicted_spans(res), [(s.start, s.end) for s in item.spans or () if s.is_error])
         for item, res in rows], groups, resamples, seed)
    # Per category: recall of each gold category by any flag, precision of each flag category against
    # any non-neutral gold span, and F1 when both sides are of the same top-level MQM branch.
    by_cat: dict[str, Any] = {}
    gold_cats = sorted({s.category for item, _ in rows for s in item.spans or () if s.is_error})
    for cat in gold_cats:
        counts = [span_counts(predicted_spans(res),
                              [(s.start, s.end) for s in item.spans or () if s.is_error and s.category == cat])
                  for item, res in rows]
        by_cat.setdefault(cat, {})["gold_recall_by_any_flag"] = \
            _prf_block(counts, groups, 0, seed)["recall"]["value"]
        by_cat[cat]["gold_chars"] = sum(c[2] for c in counts)
    flag_cats = sorted({f.category.value for _, res in rows for f in res.flags
                        if f.span is not None and f.span.side is Side.MT})
    for cat in flag_cats:
        counts = [span_counts([(f.span.start, f.span.end) for f in res.flags
                               if f.span is not None and f.span.side is Side.MT and f.category.value == cat],
                              [(s.start, s.end) for s in item.spans or () if s.is_error]) for item, res in rows]
        by_cat.setdefault(cat, {})["flag_precision_vs_any_gold"] = \
            _prf_block(counts, groups, 0, seed)["precision"]["value"]
        by_cat[cat]["flag_chars"] = sum(c[1] for c in counts)
    branches = sorted({_top(c) for c in gold_cats} | {_top(c) for c in flag_cats})
    block["by_branch"] = {}
    for branch in branches:
        counts = [span_counts(predicted_spans(res, category_prefix=branch),
                              [(s.start, s.end) for s in item.spans or ()
                               if s.is_error and _top(s.category) == branch]) for item, res in rows]
        p, r, f = prf(*[sum(c[k] for c in counts) for k in range(3)])
        block["by_branch"][branch] = {"precision": _clean(p), "recall": _clean(r), "f1": _clean(f)}
    block["by_category"] = by_cat
    return block


def _pair_block(pairs: list[LabelledPair], results: Mapping[str, SegmentResult],
                resamples: int, seed: int) -> dict[str, Any] | None:
    rows = [(p, results[p.clean.id], results[p.perturbed.id]) for p in pairs
            if p.clean.id in results and p.perturbed.id in results]
    if not rows:
        return None
    groups = [p.group for p, _, _ in rows]
    diff = [segment_score(bad) - segment_score(good) for _, good, bad in rows]

    def worse(idx: Sequence[int]) -> float:
        return sum(diff[i] > 0 for i in idx) / len(idx) if idx else math.nan

    def credit(idx: Sequence[int]) -> float:
        # Ties count one half: the accuracy of a coin flip is 0.5, not 0.
        return sum(1.0 if diff[i] > 0 else 0.5 if diff[i] == 0 else 0.0 for i in idx) / len(idx) if idx else math.nan

    block: dict[str, Any] = {
        "n": len(rows),
        "worse_rate": _estimate(worse, groups, resamples, seed),
        "tie_rate": _clean(sum(d == 0 for d in diff) / len(diff)),
        "accuracy_ties_half": _estimate(credit, groups, resamples, seed),
    }

    def subset(key: Callable[[LabelledPair], str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for value in sorted({key(p) for p, _, _ in rows}):
            idx = [i for i, (p, _, _) in enumerate(rows) if key(p) == value]
            out[value] = {"n": len(idx), "worse_rate": _clean(worse(idx)),
                          "tie_rate": _clean(sum(diff[i] == 0 for i in idx) / len(idx))}
        return out

    block["by_severity"] = subset(lambda p: p.severity)
    block["by_kind"] = subset(lambda p: p.kind)
    located = [(p, bad) for p, _, bad in rows if p.diff_span is not None]
    if located:
        hits = [any(s < p.diff_span[1] and p.diff_span[0] < e for s, e in predicted_spans(bad))
                for p, bad in located]
        block["flag_on_diff_span"] = {"n": len(located), "rate": _clean(sum(hits) / len(hits))}
    return block


def evaluate_block(data: LabelledData, results: Mapping[str, SegmentResult], *,
                   resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """All figures for one slice of the data (a language pair, or everything)."""
    out: dict[str, Any] = {}
    if data.segments:
        out["segments"] = _segment_block(data.segments, results, resamples, seed)
        spans = _span_block(data.segments, results, resamples, seed)
        if spans:
            out["spans"] = spans
    if data.pairs:
        pairs = _pair_block(data.pairs, results, resamples, seed)
        if pairs:
            out["pairs"] = pairs
    return out


def evaluate(data: LabelledData, results: Iterable[SegmentResult], *, by_lp: bool = False,
             resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Join results (by segment id) to the labels; figures overall and, with ``by_lp``, per pair."""
    by_id = {r.segment.id: r for r in results}
    report: dict[str, Any] = {"resamples": resamples, "seed": seed,
                              "overall": evaluate_block(data, by_id, resamples=resamples, seed=seed)}
    if by_lp:
        lps = sorted({s.segment.language_pair for s in data.segments}
                     | {p.clean.language_pair for p in data.pairs})
        report["by_lp"] = {
            lp: evaluate_block(
                LabelledData([s for s in data.segments if s.segment.language_pair == lp],
                             [p for p in data.pairs if p.clean.language_pair == lp]),
                by_id, resamples=resamples, seed=seed)
            for lp in lps
        }
    return report


# ----------------------------------------------------------------------------------------------------
# Terminal table


def _fmt(est: Mapping[str, Any] | None) -> str:
    if not est or est.get("value") is None:
        return "-"
    lo, hi = est.get("ci") or (None, None)
    if lo is None or hi is None:
        return f"{est['value']:.3f}"
    return f"{est['value']:.3f} [{lo:.3f}, {hi:.3f}]"


def format_table(report: Mapping[str, Any]) -> str:
    """A plain-text table: one row per slice, figures with their 95 % intervals."""
    slices = [("all", report["overall"])] + list((report.get("by_lp") or {}).items())
    lines: list[str] = []
    seg_rows = [(name, b["segments"]) for name, b in slices if "segments" in b]
    if seg_rows:
        lines.append("segments (score: %s)" % seg_rows[0][1].get("score"))
        lines.append(f"  {'slice':<8} {'n':>5} {'pos':>5}  {'ROC-AUC':<22} {'PR-AUC':<22} "
                     f"{'Kendall tau':<22} {'Pearson':<22}")
        for name, b in seg_rows:
            lines.append(f"  {name:<8} {b['n']:>5} {b.get('positives', '-'):>5}  {_fmt(b.get('roc_auc')):<22} "
                         f"{_fmt(b.get('pr_auc')):<22} {_fmt(b.get('kendall_tau')):<22} "
                         f"{_fmt(b.get('pearson')):<22}")
    span_rows = [(name, b["spans"]) for name, b in slices if "spans" in b]
    if span_rows:
        lines.append("spans (character level)")
        lines.append(f"  {'slice':<8} {'scope':<15} {'precision':<22} {'recall':<22} {'F1':<22}")
        for name, b in span_rows:
            for scope, label in (("major", "major vs major"), ("major_any_flag", "any vs major"),
                                 ("all", "any vs any")):
                s = b[scope]
                lines.append(f"  {name:<8} {label:<15} {_fmt(s['precision']):<22} {_fmt(s['recall']):<22} "
                             f"{_fmt(s['f1']):<22}")
    pair_rows = [(name, b["pairs"]) for name, b in slices if "pairs" in b]
    if pair_rows:
        lines.append("pairs (perturbed MT rated worse than clean)")
        for name, b in pair_rows:
            sev = "  ".join(f"{k}={v['worse_rate']:.3f}" for k, v in b["by_severity"].items()
                            if v["worse_rate"] is not None)
            hit = b.get("flag_on_diff_span")
            lines.append(f"  {name:<8} n={b['n']} worse={_fmt(b['worse_rate'])} ties={b['tie_rate']} "
                         f"acc(ties=1/2)={_fmt(b['accuracy_ties_half'])}")
            lines.append(f"  {'':<8} by severity: {sev}")
            if hit:
                lines.append(f"  {'':<8} a flag on the changed span: {hit['rate']} (n={hit['n']})")
    return "\n".join(lines)
