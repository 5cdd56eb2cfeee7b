"""Score tqcheck against human labels: segment ranking, span overlap and clean-vs-perturbed pairs.

Labelled data is read by ``tqcheck.fusion.labels``, the metrics are in ``tqcheck.fusion.metrics``;
here ``evaluate(data, results)``, which joins tqcheck's ``SegmentResult``\\ s to the labels and returns a
   plain, JSON-ready dictionary, and ``format_table`` for the terminal.

The bootstrap resamples *source sentences*, not rows: the same source appears once per MT system (or
once per perturbation), and rows that share a source are not independent evidence.

Segment score: the calibrated ``risk``. When a run has no risk (rules only, no calibration), the MQM
penalty of tqcheck's own flags (1 minor, 5 major, 10 critical) stands in, and the report says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from tqcheck.fusion.labels import GRADES, LabelledData, LabelledPair, LabelledSegment
from tqcheck.fusion.metrics import average_precision, bootstrap_ci, kendall_tau, pearson, prf, roc_auc, span_counts
from tqcheck.model import Flag, SegmentResult, Severity, Side


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
                    category_prefix: str | None = None, hints: bool = False) -> list[tuple[int, int]]:
    """MT spans of the result's shown flags (hints too with ``hints``)."""
    return [
        (f.span.start, f.span.end)
        for f in (result.flags if hints else result.shown_flags)
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
        # The queue's order (expected error: the risk and the shown flags' measured precision)
        priorities = [res.priority for _, res in rows]
        block["priority_roc_auc"] = _estimate(
            lambda idx: roc_auc([labels[i] for i in idx if rows[i][0].has_major is not None],
                                [priorities[i] for i in idx if rows[i][0].has_major is not None]),
            groups, resamples, seed)
    # Each graded label the rows carry (MQM penalty, minus DA z, HTER...): the score's correlation with it.
    correlations: dict[str, Any] = {}
    for kind in GRADES:
        bad = [float(item.grades.get(kind, math.nan)) for item, _ in rows]
        n = sum(not math.isnan(b) for b in bad)
        if n == 0:
            continue

        def corr(metric: Callable[[list[float], list[float]], float],
                 bad: list[float] = bad) -> Callable[[Sequence[int]], float]:
            return lambda idx: metric([scores[i] for i in idx if not math.isnan(bad[i])],
                                      [bad[i] for i in idx if not math.isnan(bad[i])])

        correlations[kind] = {"n": n, "kendall_tau": _estimate(corr(kendall_tau), groups, resamples, seed),
                              "pearson": _estimate(corr(pearson), groups, resamples, seed)}
    if correlations:
        main = next(iter(correlations))  # GRADES order: the MQM penalty first where there is one
        block["badness"] = main
        block["kendall_tau"] = correlations[main]["kendall_tau"]
        block["pearson"] = correlations[main]["pearson"]
        block["correlations"] = correlations
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
    out: dict[str, Any] = {"chars_predicted": pr, "chars_gold": gd, "chars_overlap": tp}
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
    # Flags at major+ against major+critical gold (where the labels grade severity: not post-edit
    # word tags); every flag against every non-neutral gold span.
    if any(item.has_major is not None for item, _ in rows):
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
    flag_cats = sorted({f.category.value for _, res in rows for f in res.shown_flags
                        if f.span is not None and f.span.side is Side.MT})
    for cat in flag_cats:
        counts = [span_counts([(f.span.start, f.span.end) for f in res.shown_flags
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
    located = [(p.diff_span, bad) for p, _, bad in rows if p.diff_span is not None]
    if located:
        hits = [any(s < span[1] and span[0] < e for s, e in predicted_spans(bad))
                for span, bad in located]
        block["flag_on_diff_span"] = {"n": len(located), "rate": _clean(sum(hits) / len(hits))}
    return block


def _lands(flag: Flag, item: LabelledSegment) -> tuple[bool, bool]:
    """Whether a flag lands on a human error, and on a major/critical one (``finding_labels``)."""
    from tqcheck.fusion.fit import finding_labels

    spans = item.spans or ()
    return finding_labels(flag, [(s.start, s.end) for s in spans if s.is_error],
                          [(s.start, s.end) for s in spans if s.is_major],
                          (any(s.is_error and s.is_accuracy for s in spans),
                           any(s.is_major and s.is_accuracy for s in spans)))


def _flag_block(items: list[LabelledSegment], results: Mapping[str, SegmentResult],
                resamples: int, seed: int) -> dict[str, Any] | None:
    """What a copy editor meets, flag by flag: how often a shown flag lands on a human error (a major
    one on a major error), how many flags a segment shows, how many of the segments with a human
    major error a shown major flag reaches (it lands on one of its major spans), how precise the
    hints are; and the precision-recall points of every finding ordered by its measured
    ``p_error`` (for the curve). A segment-level flag lands when its segment has such an error."""
    rows = [(item, results[item.segment.id]) for item in items
            if item.spans is not None and item.segment.id in results]
    if not rows:
        return None
    groups = [item.group for item, _ in rows]
    graded = any(item.has_major is not None for item, _ in rows)  # major figures need MQM severities
    per_row: list[tuple[Any, ...]] = []  # (shown, majors, hints): where each flag lands; has_major
    every: list[tuple[float, bool]] = []
    for item, res in rows:
        shown = [_lands(f, item) for f in res.shown_flags]
        majors = [_lands(f, item) for f in res.shown_flags if f.severity >= Severity.MAJOR]
        hints = [_lands(f, item) for f in res.hints]
        per_row.append((shown, majors, hints, bool(item.has_major)))
        every += [(f.p_error, _lands(f, item)[0]) for f in res.flags if f.p_error is not None]

    def share(which: int, index: int) -> Callable[[Sequence[int]], float]:
        def f(idx: Sequence[int]) -> float:
            hits = [lands[index] for i in idx for lands in per_row[i][which]]
            return sum(hits) / len(hits) if hits else math.nan
        return f

    def per_segment(idx: Sequence[int]) -> float:
        return sum(len(per_row[i][0]) for i in idx) / len(idx) if idx else math.nan

    def reach(idx: Sequence[int]) -> float:
        majors = [i for i in idx if per_row[i][3]]
        return sum(any(m for _, m in per_row[i][1]) for i in majors) / len(majors) if majors else math.nan

    block: dict[str, Any] = {
        "shown": sum(len(r[0]) for r in per_row), "major": sum(len(r[1]) for r in per_row),
        "hints": sum(len(r[2]) for r in per_row),
        "shown_on_error": _estimate(share(0, 0), groups, resamples, seed),
        "major_on_major": _estimate(share(1, 1), groups, resamples, seed) if graded else None,
        "hints_on_error": _estimate(share(2, 0), groups, resamples, seed),
        "flags_per_segment": _estimate(per_segment, groups, resamples, seed),
        "major_reach": _estimate(reach, groups, resamples, seed) if graded else None,
    }
    every.sort(key=lambda p: -p[0])
    total = sum(hit for _, hit in every)
    curve, hits = [], 0
    for k, (p, hit) in enumerate(every, 1):
        hits += hit
        if k == len(every) or every[k][0] != p:
            curve.append([round(p, 4), round(hits / k, 4), round(hits / total, 4) if total else None])
    block["pr_curve"] = curve  # [p_error threshold, precision, share of the landing findings kept]
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
        flags = _flag_block(data.segments, results, resamples, seed)
        if flags:
            out["flags"] = flags
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
        lines.append(f"segments (score: {seg_rows[0][1].get('score')})")
        lines.append(f"  {'slice':<8} {'n':>5} {'pos':>5}  {'ROC-AUC':<22} {'PR-AUC':<22} "
                     f"{'Kendall tau':<22} {'Pearson':<22}")
        for name, b in seg_rows:
            lines.append(f"  {name:<8} {b['n']:>5} {b.get('positives', '-'):>5}  {_fmt(b.get('roc_auc')):<22} "
                         f"{_fmt(b.get('pr_auc')):<22} {_fmt(b.get('kendall_tau')):<22} "
                         f"{_fmt(b.get('pearson')):<22}")
        for name, b in seg_rows:
            for kind, c in (b.get("correlations") or {}).items():
                if kind != b.get("badness"):
                    lines.append(f"  {name:<8} {c['n']:>5} vs {kind:<6} Kendall tau {_fmt(c['kendall_tau'])}, "
                                 f"Pearson {_fmt(c['pearson'])}")
        if seg_rows and seg_rows[0][1].get("badness"):
            lines.append(f"  (Kendall tau and Pearson against {seg_rows[0][1]['badness']}: a label that rises with "
                         "the error, so higher is better)")
        if any(b.get("priority_roc_auc") for _, b in seg_rows):
            lines.append("  queue order (expected error) ROC-AUC: " + ", ".join(
                f"{name} {_fmt(b.get('priority_roc_auc'))}" for name, b in seg_rows if b.get("priority_roc_auc")))
    span_rows = [(name, b["spans"]) for name, b in slices if "spans" in b]
    if span_rows:
        lines.append("spans (character level)")
        lines.append(f"  {'slice':<8} {'scope':<15} {'precision':<22} {'recall':<22} {'F1':<22}")
        for name, b in span_rows:
            for scope, label in (("major", "major vs major"), ("major_any_flag", "any vs major"),
                                 ("all", "any vs any")):
                s = b.get(scope)
                if not s:
                    continue
                lines.append(f"  {name:<8} {label:<15} {_fmt(s['precision']):<22} {_fmt(s['recall']):<22} "
                             f"{_fmt(s['f1']):<22}")
    flag_rows = [(name, b["flags"]) for name, b in slices if "flags" in b]
    if flag_rows:
        lines.append("flags (what a copy editor is shown; hints only counted)")
        lines.append(f"  {'slice':<8} {'shown':>6} {'major':>6} {'hints':>6}  {'shown on error':<22} "
                     f"{'major on major':<22} {'flags/segment':<22} {'major reach':<22}")
        for name, b in flag_rows:
            lines.append(f"  {name:<8} {b['shown']:>6} {b['major']:>6} {b['hints']:>6}  "
                         f"{_fmt(b['shown_on_error']):<22} "
                         f"{_fmt(b['major_on_major']):<22} {_fmt(b['flags_per_segment']):<22} "
                         f"{_fmt(b['major_reach']):<22}")
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
