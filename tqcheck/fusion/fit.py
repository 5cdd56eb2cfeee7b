"""Fit the fusion on human labels or on reviewer decisions, and measure it by cross-validation.

Two sources of labels, one fitting procedure:

- **labelled data** (``tqcheck calibrate DATA.jsonl``): the checker runs on every segment once, the
  raw inputs of the fusion are kept (``tqcheck.pipeline.Evidence``), and the label is "has a major or
  critical error" (DEMETR pairs count as a clean MT without one and a perturbed MT with one when the
  perturbation is major or critical);
- **reviewer decisions** (``tqcheck calibrate --from-db URL``): stored segments whose flags reviewers
  confirmed or dismissed; the label is "a reviewer confirmed at least one flag", so that the risk and
  thresholds follow the desk's own judgement (``calibrate_from_decisions``).

What is fit, per language pair and pooled over all pairs (``*``):

1. **risk models**: one logistic regression (scikit-learn, L2, C=1, standardised features) for each
   set of signals seen in the data (the empty set is the rules-only model), over the signals' sentence
   scores and the rule-flag counts. Cross-validated with ``GroupKFold`` grouped by source sentence:
   the same source appears once per MT system, and a model must not be scored on a sentence whose
   twin it was trained on. Each model records its cross-validated ROC-AUC, average precision and
   Kendall tau, and its ``major_threshold``: the out-of-fold risk that maximises F0.5 for "has a
   major error" (precision weighs twice recall: a false alarm costs a reviewer's time on every
   segment), kept only when the segments it flags are significantly more often major than the base
   rate (one-sided binomial test, 5 %); otherwise ``inf`` (the model never calls a segment major).
   The final weights are fit on all rows.
2. **span models and thresholds** per signal: a logistic model of "this candidate span overlaps a
   human error span" over the candidate's strength, kind, length and its signal's sentence scores
   (``tqcheck.fusion.calibration.SpanModel``); then the threshold on that probability that maximises
   character-level F0.5 against human error spans, *provided* the kept spans are more precise than
   chance (the share of MT characters inside human error spans); a signal that never beats chance
   gets ``inf`` (shows no spans). A rare detector, with too few candidates for a span model (the
   target-only homograph test fires on about one segment in two hundred), is kept at a threshold on
   its raw strength, and the share of its kept candidates that land on human major/critical spans is
   recorded when it is significantly above the base rate (``rare_major_precision``). From decisions:
   no span model; the lowest raw strength from which reviewers confirmed more candidates than they
   dismissed.

Fits with fewer than ``MIN_ROWS`` rows or ``MIN_CLASS`` of either class are skipped (the fusion then
falls back to a smaller signal set or the pooled model).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from tqcheck.fusion.calibration import (NOT_FUSED, RULE_FEATURES, Calibration, PairCalibration, RiskModel,
                                        SpanModel, calibration_key, in_fit, new_calibration_name, pooled_key,
                                        signals_present, span_features, span_support)
from tqcheck.fusion.fuse import Evidence, Fusion
from tqcheck.fusion.labels import LabelledData
from tqcheck.fusion.metrics import average_precision, fbeta, kendall_tau, roc_auc, span_counts
from tqcheck.model import SegmentResult, Side

MIN_ROWS = 40
MIN_CLASS = 8
DEFAULT_FOLDS = 5
#: Thresholds maximise F-beta with beta = 0.5: precision counts twice as much as recall, because a
#: false alarm costs a reviewer's time on every segment while a miss is one error among many.
MAJOR_BETA = 0.5
SPAN_BETA = 0.5
#: Strength values tried per signal when fitting span thresholds (quantiles of its candidates).
MAX_SPAN_THRESHOLDS = 24


# ----------------------------------------------------------------------------------------------------
# Rows: what fitting needs, whatever the labels came from


@dataclass(frozen=True)
class Row:
    """One labelled segment as the fit sees it."""

    id: str
    lp: str
    group: str
    scores: Mapping[str, float]
    signals: frozenset[str]
    label: bool
    badness: float | None = None


@dataclass(frozen=True)
class SpanRow:
    """One segment's span candidates (signal, span features, start, end on the MT) and its gold."""

    lp: str
    group: str
    candidates: tuple[tuple[str, Mapping[str, float], int, int], ...]
    gold: tuple[tuple[int, int], ...]
    mt_length: int
    gold_major: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class DecisionRow:
    """One reviewed signal candidate: its signal, strength and the reviewer's verdict."""

    lp: str
    signal: str
    strength: float
    confirmed: bool


@dataclass
class Labelled:
    """Observations joined to labels: the input of ``fit`` and of cross-validated evaluation."""

    observations: list[Evidence]
    labels: dict[str, bool]
    badness: dict[str, float] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    gold_spans: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    gold_major: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)

    def rows(self) -> list[Row]:
        out = []
        for obs in self.observations:
            sid = obs.segment.id
            if sid not in self.labels:
                continue
            out.append(Row(sid, calibration_key(obs.segment), self.groups.get(sid, sid), obs.scores(),
                           signals_present(obs.outputs), self.labels[sid], self.badness.get(sid)))
        return out

    def span_rows(self) -> list[SpanRow]:
        out = []
        for obs in self.observations:
            sid = obs.segment.id
            if sid not in self.gold_spans:
                continue
            scores = obs.scores()
            every = [f for o in obs.outputs.values() for f in o.flags]
            cands = tuple((f.check, span_features(f, scores, span_support(f, every, obs.rule_flags)),
                           f.span.start, f.span.end)
                          for f in every if f.span is not None and f.span.side is Side.MT)
            out.append(SpanRow(calibration_key(obs.segment), self.groups.get(sid, sid), cands,
                               self.gold_spans[sid], len(obs.segment.mt), self.gold_major.get(sid, ())))
        return out

    def subset(self, ids: set[str]) -> "Labelled":
        return Labelled([o for o in self.observations if o.segment.id in ids], self.labels, self.badness,
                        self.groups, self.gold_spans, self.gold_major)


def labels_from(data: LabelledData) -> tuple[dict[str, bool], dict[str, float], dict[str, str],
                                             dict[str, tuple[tuple[int, int], ...]],
                                             dict[str, tuple[tuple[int, int], ...]]]:
    """Labels, badness, groups, gold error spans and gold major/critical spans by segment id."""
    labels: dict[str, bool] = {}
    badness: dict[str, float] = {}
    groups: dict[str, str] = {}
    gold: dict[str, tuple[tuple[int, int], ...]] = {}
    major: dict[str, tuple[tuple[int, int], ...]] = {}
    for item in data.segments:
        sid = item.segment.id
        groups[sid] = item.group
        if item.has_major is not None:
            labels[sid] = item.has_major
        if item.badness is not None:
            badness[sid] = item.badness
        if item.spans is not None:
            gold[sid] = tuple((s.start, s.end) for s in item.spans if s.is_error)
            major[sid] = tuple((s.start, s.end) for s in item.spans if s.is_major)
    for pair in data.pairs:
        groups[pair.clean.id] = groups[pair.perturbed.id] = pair.group
        labels.setdefault(pair.clean.id, False)
        labels[pair.perturbed.id] = pair.severity in ("major", "critical")
    return labels, badness, groups, gold, major


# ----------------------------------------------------------------------------------------------------
# Fitting


def _signal_of(score_name: str) -> str:
    return score_name.split(".", 1)[0]


def _feature_names(rows: Sequence[Row], signals: frozenset[str]) -> list[str]:
    names = {k for r in rows for k in r.scores if _signal_of(k) in signals}
    return list(RULE_FEATURES) + sorted(names)


def _matrix(rows: Sequence[Row], features: Sequence[str], mean: Sequence[float] | None = None):
    import numpy as np

    x = np.full((len(rows), len(features)), np.nan)
    for i, r in enumerate(rows):
        for j, name in enumerate(features):
            v = r.scores.get(name)
            if v is not None and math.isfinite(v):
                x[i, j] = v
    if mean is None:
        mean = np.nanmean(np.where(np.isnan(x).all(axis=0), 0.0, x), axis=0)
    x = np.where(np.isnan(x), np.asarray(mean)[None, :], x)
    return x, np.asarray(mean)


#: Percentiles of the fitting rows a risk model clips its inputs to (see ``RiskModel``).
CLIP_PERCENTILES = (1.0, 99.0)


def _fit_lr(rows: Sequence[Row], features: Sequence[str]) -> tuple[list[str], Any, Any, Any, float, Any, Any]:
    """Standardise, drop constant features, fit; returns (features, mean, scale, coef, intercept, low,
    high), the last two being the clipping range of each feature."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x, mean = _matrix(rows, features)
    scale = x.std(axis=0)
    keep = scale > 1e-12
    feats = [f for f, k in zip(features, keep) if k]
    x, mean, scale = x[:, keep], mean[keep], scale[keep]
    y = np.array([r.label for r in rows], dtype=int)
    if not feats:
        p = min(max(y.mean(), 1e-6), 1 - 1e-6)
        return feats, mean, scale, np.zeros(0), float(math.log(p / (1 - p))), mean, mean
    low, high = np.percentile(x, CLIP_PERCENTILES, axis=0)
    x = np.clip(x, low, high)  # fit on what predict() will see
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit((x - mean) / scale, y)
    return feats, mean, scale, model.coef_[0], float(model.intercept_[0]), low, high


def _to_model(signals: frozenset[str], fit: tuple, threshold: float, cv: Mapping[str, Any]) -> RiskModel:
    feats, mean, scale, coef, intercept, low, high = fit

    def r6(values: Any) -> tuple[float, ...]:
        return tuple(round(float(v), 6) for v in values)

    return RiskModel(tuple(sorted(signals)), tuple(feats), r6(mean), r6(scale), r6(coef),
                     round(intercept, 6), _down(float(threshold)), cv, r6(low), r6(high))


def f1_threshold(labels: Sequence[bool], risks: Sequence[float], *, beta: float = 1.0) -> float:
    """The risk threshold (flag at risk >= t) that maximises F-beta (F1 by default); the higher one
    on ties."""
    pos = sum(labels)
    if pos == 0:
        return 1.0
    pairs = sorted(zip(risks, labels), key=lambda p: -p[0])
    best_f, best_t, tp = -1.0, 1.0, 0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            tp += pairs[j][1]
            j += 1
        f = fbeta(tp, j, pos, beta)
        if f > best_f + 1e-12:
            best_f, best_t = f, pairs[i][0]
        i = j
    return float(best_t)


#: Significance level of the one-sided binomial test a major threshold must pass.
MAJOR_ALPHA = 0.05


def major_threshold(labels: Sequence[bool], risks: Sequence[float]) -> float:
    """The F0.5-best threshold, kept only if the segments it flags are significantly more often
    major than the base rate (one-sided binomial test at ``MAJOR_ALPHA``); otherwise ``inf``: a
    model that cannot tell segments apart must not call any of them major."""
    from scipy.stats import binomtest

    t = f1_threshold(labels, risks, beta=MAJOR_BETA)
    flagged = [y for y, r in zip(labels, risks) if r >= t]
    n, pos = len(labels), sum(labels)
    if not flagged or not n or pos in (0, n):
        return math.inf
    test = binomtest(sum(flagged), len(flagged), pos / n, alternative="greater")
    return t if test.pvalue < MAJOR_ALPHA else math.inf


def _folds(rows: Sequence[Row], k: int) -> list[tuple[list[int], list[int]]]:
    from sklearn.model_selection import GroupKFold

    groups = [r.group for r in rows]
    n_groups = len(set(groups))
    k = min(k, n_groups)
    if k < 2:
        return []
    import numpy as np

    idx = np.arange(len(rows))
    return [(list(tr), list(te)) for tr, te in GroupKFold(n_splits=k).split(idx, groups=groups)]


def _usable(rows: Sequence[Row]) -> bool:
    pos = sum(r.label for r in rows)
    return len(rows) >= MIN_ROWS and pos >= MIN_CLASS and len(rows) - pos >= MIN_CLASS


def predict_rows(model: RiskModel, rows: Sequence[Row]) -> list[float]:
    return [model.predict(r.scores) for r in rows]


def fit_models(rows: Sequence[Row], *, folds: int | None = DEFAULT_FOLDS) -> list[RiskModel]:
    """One model per signal set present in ``rows`` (and every subset of it), cross-validated when
    ``folds`` is given; otherwise the major threshold comes from in-sample predictions."""
    seen = {r.signals for r in rows}
    all_signals = sorted(set().union(*seen)) if seen else []
    models = []
    for n in range(len(all_signals) + 1):
        for combo in itertools.combinations(all_signals, n):
            signals = frozenset(combo)
            subset = [r for r in rows if signals <= r.signals]
            if not _usable(subset):
                continue
            features = _feature_names(subset, signals)
            cv: dict[str, Any] = {"n": len(subset), "positives": sum(r.label for r in subset)}
            final = _fit_lr(subset, features)
            splits = _folds(subset, folds) if folds else []
            if splits:
                oof = [math.nan] * len(subset)
                # Without a usable feature every prediction is the same constant; per-fold base rates
                # would otherwise fake an AUC below 0.5.
                for train, test in (splits if final[0] else []):
                    tr = [subset[i] for i in train]
                    if not any(r.label for r in tr) or all(r.label for r in tr):
                        continue
                    m = _to_model(signals, _fit_lr(tr, features), 0.5, {})
                    for i in test:
                        oof[i] = m.predict(subset[i].scores)
                if not final[0]:
                    oof = [1.0 / (1.0 + math.exp(-final[4]))] * len(subset)
                ok = [i for i, v in enumerate(oof) if not math.isnan(v)]
                labels = [subset[i].label for i in ok]
                risks = [oof[i] for i in ok]
                threshold = major_threshold(labels, risks)
                cv.update({"folds": len(splits), "roc_auc": _r(roc_auc(labels, risks)),
                           "pr_auc": _r(average_precision(labels, risks))})
                graded = [i for i in ok if subset[i].badness is not None]
                if len(graded) > 2:
                    cv["kendall_tau"] = _r(kendall_tau([oof[i] for i in graded],
                                                       [subset[i].badness for i in graded]))
                pred = [r >= threshold for r in risks]
                tp = sum(p and y for p, y in zip(pred, labels))
                cv["precision_at_threshold"] = _r(tp / sum(pred) if sum(pred) else math.nan)
                cv["recall_at_threshold"] = _r(tp / sum(labels) if sum(labels) else math.nan)
            else:
                in_sample = _to_model(signals, final, 0.5, {})
                threshold = major_threshold([r.label for r in subset], predict_rows(in_sample, subset))
            models.append(_to_model(signals, final, threshold, cv))
    return models


def _r(v: float) -> float | None:
    return None if v is None or math.isnan(v) else round(float(v), 4)


def _fit_span_model(cands: Sequence[tuple[Mapping[str, float], bool]]) -> SpanModel | None:
    """Logistic P(on an error) over span features; None without enough of both outcomes."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    pos = sum(y for _, y in cands)
    if pos < MIN_CLASS or len(cands) - pos < MIN_CLASS:
        return None
    names = sorted({k for f, _ in cands for k in f})
    kinds = tuple(n[len("kind="):] for n in names if n.startswith("kind="))
    x = np.zeros((len(cands), len(names)))
    for i, (f, _) in enumerate(cands):
        for j, name in enumerate(names):
            x[i, j] = f.get(name, np.nan)
    filled = np.where(np.isnan(x).all(axis=0), 0.0, x)
    mean = np.nanmean(filled, axis=0)
    for j, name in enumerate(names):  # an absent kind is 0 (another kind), an absent score its mean
        fill = 0.0 if name.startswith("kind=") else mean[j]
        x[np.isnan(x[:, j]), j] = fill
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    keep = scale > 1e-12
    if not keep.any():
        return None
    names = [n for n, k in zip(names, keep) if k]
    x, mean, scale = x[:, keep], mean[keep], scale[keep]
    y = np.array([bool(v) for _, v in cands], dtype=int)
    model = LogisticRegression(C=1.0, max_iter=2000).fit((x - mean) / scale, y)
    return SpanModel(tuple(names), tuple(round(float(v), 6) for v in mean),
                     tuple(round(float(v), 6) for v in scale), tuple(round(float(v), 6) for v in model.coef_[0]),
                     round(float(model.intercept_[0]), 6), kinds)


class SpanFit(NamedTuple):
    """What ``fit_span_thresholds`` measured, per signal."""

    thresholds: dict[str, float]
    precision: dict[str, float]
    models: dict[str, SpanModel]
    major_thresholds: dict[str, float]
    major_precision: dict[str, float]


def fit_span_thresholds(rows: Sequence[SpanRow], *, models: bool = True) -> SpanFit:
    """Per signal: a span model (``models``), then the threshold on its probability (or on the raw
    strength without a model) maximising character-level F0.5 against human error spans among
    thresholds whose kept spans are more precise than chance (``inf`` when none is); with a span
    model, the (higher or equal) threshold that does the same against major/critical spans, from
    which a span may be major; without one (too few candidates to fit it: a rare detector), how often
    the kept candidates land on major/critical spans (``rare_major_precision``)."""
    signals = sorted({c[0] for r in rows for c in r.candidates})
    thresholds: dict[str, float] = {}
    precision: dict[str, float] = {}
    span_models: dict[str, SpanModel] = {}
    major_thresholds: dict[str, float] = {}
    major_precision: dict[str, float] = {}
    on_major = [_overlaps(s, e, r.gold_major) for r in rows for _, _, s, e in r.candidates]
    base_major = sum(on_major) / len(on_major) if on_major else 0.0
    for signal in signals:
        mine = [(r, f, s, e) for r in rows for name, f, s, e in r.candidates if name == signal]
        model = None
        if models:
            model = _fit_span_model([(f, _overlaps(s, e, r.gold)) for r, f, s, e in mine])
            if model is not None:
                span_models[signal] = model
        strength = [model.predict(f) if model else float(f.get("confidence", 0.0)) for _, f, _, _ in mine]
        by_row: dict[int, list[tuple[float, int, int]]] = {}
        for (r, _, s, e), v in zip(mine, strength):
            by_row.setdefault(id(r), []).append((v, s, e))
        values = sorted(set(strength))
        if len(values) > MAX_SPAN_THRESHOLDS:
            step = (len(values) - 1) / (MAX_SPAN_THRESHOLDS - 1)
            values = sorted({values[round(i * step)] for i in range(MAX_SPAN_THRESHOLDS)})
        best = _best_span_threshold(rows, by_row, values, lambda r: r.gold)
        thresholds[signal] = _down(best[0]) if best else math.inf
        if best:
            precision[signal] = round(best[1], 4)
        if model is not None:
            kept = [v for v in values if v >= thresholds[signal]]
            major = _best_span_threshold(rows, by_row, kept, lambda r: r.gold_major)
            major_thresholds[signal] = _down(major[0]) if major else math.inf
        elif models and best:
            hits = [_overlaps(s, e, r.gold_major) for (r, _, s, e), v in zip(mine, strength) if v >= thresholds[signal]]
            rare = rare_major_precision(hits, base_major)
            if rare is not None:
                major_precision[signal] = round(rare, 4)
    return SpanFit(thresholds, precision, span_models, major_thresholds, major_precision)


def _overlaps(start: int, end: int, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether the candidate ``[start, end)`` overlaps any of the gold ``spans``."""
    return any(start < gold_end and gold_start < end for gold_start, gold_end in spans)


#: Pseudo-candidates at the base rate added to a rare detector's record before its precision on
#: major errors is estimated: a detector that fired five times is not taken at its word.
RARE_PRIOR = 2.0


def rare_major_precision(hits: Sequence[bool], base: float) -> float | None:
    """How often a rare detector's kept candidates land on a human major/critical span (``hits``),
    shrunk toward the base rate of all candidates: ``(k + m·base) / (n + m)`` with ``m = RARE_PRIOR``.
    None unless the detector beats the base rate significantly (one-sided binomial test at
    ``MAJOR_ALPHA``, the test a major threshold passes): luck on a handful of candidates must not
    make anything major."""
    from scipy.stats import binomtest

    n, k = len(hits), sum(hits)
    if not n or not 0.0 < base < 1.0:
        return None
    if binomtest(k, n, base, alternative="greater").pvalue >= MAJOR_ALPHA:
        return None
    return (k + RARE_PRIOR * base) / (n + RARE_PRIOR)


def _down(value: float) -> float:
    """Six decimals, rounded down: a stored threshold must still keep the span it was chosen at."""
    return value if math.isinf(value) else math.floor(value * 1e6) / 1e6


def _best_span_threshold(rows: Sequence[SpanRow], by_row: Mapping[int, list[tuple[float, int, int]]],
                         values: Sequence[float], gold_of: Any) -> tuple[float, float] | None:
    """(threshold, precision) maximising character-level F0.5 against ``gold_of(row)``, among
    thresholds whose kept spans are more precise than chance; None when none is."""
    gold_chars = sum(span_counts([], gold_of(r))[2] for r in rows)
    all_chars = sum(r.mt_length for r in rows)
    base = gold_chars / all_chars if all_chars else 0.0
    best: tuple[float, float, float] | None = None  # (F0.5, threshold, precision)
    for t in values:
        tp = pred = gold = 0
        for r in rows:
            c = span_counts([(s, e) for v, s, e in by_row.get(id(r), ()) if v >= t], gold_of(r))
            tp, pred, gold = tp + c[0], pred + c[1], gold + c[2]
        if not pred or not gold:
            continue
        p = tp / pred
        f = fbeta(tp, pred, gold, SPAN_BETA)
        if p > base and (best is None or f > best[0] + 1e-12):
            best = (f, t, p)
    return (best[1], best[2]) if best else None


def fit_calibration(rows: Sequence[Row], span_rows: Sequence[SpanRow], *, folds: int | None = DEFAULT_FOLDS,
                    name: str | None = None, provenance: Mapping[str, Any] | None = None) -> Calibration:
    """Models and span thresholds per language pair and pooled."""
    made_name, created = new_calibration_name()
    pairs: dict[str, PairCalibration] = {}
    lps = sorted({r.lp for r in rows} | {r.lp for r in span_rows})
    for lp in lps + sorted({pooled_key(k) for k in lps}):
        sel = [r for r in rows if in_fit(lp, r.lp)]
        sel_spans = [r for r in span_rows if in_fit(lp, r.lp)]
        models = tuple(fit_models(sel, folds=folds)) if sel else ()
        spans = fit_span_thresholds(sel_spans) if sel_spans else SpanFit({}, {}, {}, {}, {})
        if models or spans.thresholds:
            pairs[lp] = PairCalibration(models, spans.thresholds, spans.precision, spans.models,
                                        spans.major_thresholds, spans.major_precision)
    return Calibration(name or made_name, pairs, created, dict(provenance or {}))


def calibrate_labelled(labelled: Labelled, *, folds: int | None = DEFAULT_FOLDS, name: str | None = None,
                       provenance: Mapping[str, Any] | None = None) -> Calibration:
    return fit_calibration(labelled.rows(), labelled.span_rows(), folds=folds, name=name, provenance=provenance)


# ----------------------------------------------------------------------------------------------------
# Cross-validated results: the fusion fit without each fold, applied to it


def cross_validated_results(labelled: Labelled, *, folds: int = DEFAULT_FOLDS,
                            signals: Iterable[str] | None = None) -> list[SegmentResult]:
    """Out-of-fold results for every observation: honest figures on the data the fusion is fit on.

    ``signals`` restricts the evidence to those signals (as if only they had run), so one expensive
    run of all engines gives the figures of every smaller configuration.
    """
    obs = labelled.observations
    if signals is not None:
        obs = [o.restricted(signals) for o in obs]
    view = Labelled(obs, labelled.labels, labelled.badness, labelled.groups, labelled.gold_spans,
                    labelled.gold_major)
    rows_by_id = {r.id: r for r in view.rows()}
    ids = [o.segment.id for o in obs]
    groups = [labelled.groups.get(i, i) for i in ids]
    from sklearn.model_selection import GroupKFold

    k = min(folds, len(set(groups)))
    results: dict[str, SegmentResult] = {}
    for train, test in GroupKFold(n_splits=k).split(ids, groups=groups):
        train_ids = {ids[i] for i in train}
        sub = view.subset(train_ids)
        calibration = fit_calibration([r for r in sub.rows() if r.id in rows_by_id], sub.span_rows(),
                                      folds=None, name="cv-fold")
        fusion = Fusion(calibration)
        for i in test:
            o = obs[i]
            results[o.segment.id] = fusion.fuse(o.segment, o.rule_flags, o.outputs)
    return [results[i] for i in ids]


# ----------------------------------------------------------------------------------------------------
# Reviewer decisions


@dataclass(frozen=True)
class ReviewedSegment:
    """What calibration needs from a reviewed segment in the store."""

    id: str
    lp: str
    group: str
    scores: Mapping[str, float]
    flags: tuple[tuple[str, float | None, str | None], ...]  # (check, confidence, decision)

    @property
    def decided(self) -> bool:
        return any(d in ("confirmed", "dismissed") for _, _, d in self.flags)

    @property
    def confirmed(self) -> bool:
        return any(d == "confirmed" for _, _, d in self.flags)


def reviewed_from_store(store: Any, *, run_ids: Sequence[int] = ()) -> list[ReviewedSegment]:
    """Reviewed segments of a ``tqcheck.store.Store`` as plain records."""
    out = []
    for record in store.iter_segments(run_ids=run_ids, reviewed_only=True):
        seg = record.segment
        flags = tuple((f.flag.check, f.flag.confidence, f.decision.value if f.decision else None)
                      for f in record.flags)
        out.append(ReviewedSegment(f"{record.run_id}:{seg.id}", calibration_key(seg), seg.source or seg.mt,
                                   dict(record.scores), flags))
    return out


def calibrate_from_decisions(records: Sequence[ReviewedSegment], *, folds: int | None = DEFAULT_FOLDS,
                             name: str | None = None,
                             provenance: Mapping[str, Any] | None = None) -> Calibration:
    """Fit from reviewers' verdicts. Segment label: a reviewer confirmed at least one flag; span
    threshold per signal: the lowest strength from which confirmed candidates outnumber dismissed
    ones (``inf`` when they never do). Only segments with at least one decision count."""
    decided = [r for r in records if r.decided]
    rows = []
    for r in decided:
        present = frozenset(_signal_of(k) for k in r.scores if not k.startswith("rules.")) - NOT_FUSED
        rows.append(Row(r.id, r.lp, r.group, r.scores, present, r.confirmed))
    made_name, created = new_calibration_name("decisions")
    decisions = [DecisionRow(r.lp, check, float(conf), d == "confirmed") for r in decided
                 for check, conf, d in r.flags if conf is not None and d in ("confirmed", "dismissed")]
    pairs: dict[str, PairCalibration] = {}
    lps = sorted({r.lp for r in rows})
    for lp in lps + sorted({pooled_key(k) for k in lps}):
        sel = [r for r in rows if in_fit(lp, r.lp)]
        models = tuple(fit_models(sel, folds=folds))
        thresholds, precision = decision_thresholds([d for d in decisions if in_fit(lp, d.lp)])
        if models or thresholds:
            pairs[lp] = PairCalibration(models, thresholds, precision)
    return Calibration(name or made_name, pairs, created, dict(provenance or {}))


def decision_thresholds(decisions: Sequence[DecisionRow]) -> tuple[dict[str, float], dict[str, float]]:
    thresholds: dict[str, float] = {}
    precision: dict[str, float] = {}
    for signal in sorted({d.signal for d in decisions}):
        mine = [d for d in decisions if d.signal == signal]
        chosen = math.inf
        for t in sorted({d.strength for d in mine}):
            kept = [d for d in mine if d.strength >= t]
            share = sum(d.confirmed for d in kept) / len(kept)
            if share > 0.5:
                chosen = t
                precision[signal] = round(share, 4)
                break
        thresholds[signal] = chosen
    return thresholds, precision


# ----------------------------------------------------------------------------------------------------
# Reporting


def cv_table(calibration: Calibration) -> str:
    """The cross-validated figures of every model, one line each."""
    lines = [f"  {'pair':<7} {'signals':<48} {'n':>5} {'pos':>4}  {'ROC-AUC':>7} {'PR-AUC':>7} "
             f"{'tau':>7} {'thr':>6} {'P@thr':>6} {'R@thr':>6}"]
    for lp, pair in sorted(calibration.pairs.items()):
        for m in sorted(pair.models, key=lambda m: (len(m.signals), m.signals)):
            cv = m.cv
            sig = "+".join(m.signals) or "rules only"

            def f(key: str) -> str:
                v = cv.get(key)
                return f"{v:.3f}" if isinstance(v, (int, float)) else "-"

            lines.append(f"  {lp:<7} {sig:<48} {cv.get('n', 0):>5} {cv.get('positives', 0):>4}  "
                         f"{f('roc_auc'):>7} {f('pr_auc'):>7} {f('kendall_tau'):>7} "
                         f"{m.major_threshold:>6.3f} {f('precision_at_threshold'):>6} {f('recall_at_threshold'):>6}")
        if pair.span_thresholds:
            spans = ", ".join(f"{k} >= {v:g}" + (f" (P={pair.span_precision[k]:.2f})" if k in pair.span_precision
                                                   else "") for k, v in sorted(pair.span_thresholds.items()))
            lines.append(f"  {lp:<7} span thresholds: {spans}")
    return "\n".join(lines)
