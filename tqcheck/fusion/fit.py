"""Fit the fusion on human labels or on reviewer decisions, and measure it by cross-validation.

Two sources of labels, one fitting procedure:

- **labelled data** (``tqcheck calibrate DATA.jsonl [MORE.jsonl]``): the checker runs on every segment
  once, the fusion's inputs are kept (``tqcheck.fusion.Evidence``), and joined to the labels: MQM
  error spans with severities, "has a major or critical error", and DEMETR pairs (a clean MT and the
  same MT with one deliberate error);
- **reviewer decisions** (``tqcheck calibrate --from-db URL``): stored flags that reviewers confirmed
  or dismissed (``calibrate_from_decisions``), so that the fusion follows the desk's own judgement.

What is fit, per calibration key (language pair, its target-only mode) and pooled over pairs (``*``):

1. **risk models**: one logistic model for each set of signals seen in the data (the empty set is the
   rules-only model), over the signals' sentence scores and the rule-flag counts, standardised and
   clipped to the 1st-99th percentiles of the fitting rows. The loss is the log-loss of "has a major or
   critical error" on the segments that have that label, plus, for DEMETR pairs, the log-loss of
   "the perturbed MT is riskier than the clean one" (a pairwise, RankNet-style term over the two
   segments' feature difference, weight ``PAIR_WEIGHT``): a model fit on natural biomedical errors
   alone ranked deliberate errors below what one signal alone did, because the errors it knows make
   sentences longer and clumsier while a dropped clause makes them shorter. L2 penalty as
   scikit-learn's ``C=1``. Each model records its out-of-fold ROC-AUC, average precision, Kendall tau
   and DEMETR pairwise accuracy.
2. **the flag model** (``FlagModel``): the fusion's own findings on the labelled segments
   (``Fusion.findings``, so that fitting and fusing merge candidates the same way), each labelled by
   whether a human error span overlaps it (and a major or critical one), and two logistic models over
   ``finding_features``: ``p_error`` and ``p_major``. A finding on the source side (an omission) or
   without a span is right when its segment has an error (a major one). Indicators are not
   standardised, so that the L2 penalty acts as a prior on each check's effect: a check seen five
   times gets a measured but shrunk precision, not its raw five-for-five.

Cross-validation (``GroupKFold`` grouped by source sentence: the same source appears once per MT
system, and once per DEMETR perturbation) gives every figure printed; the final models are fit on all
rows. Fits with fewer than ``MIN_ROWS`` rows or ``MIN_CLASS`` of either class are skipped (the fusion
then falls back to a smaller signal set or the pooled key).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from tqcheck.fusion.calibration import (
    NOT_FUSED,
    RULE_FEATURES,
    Calibration,
    FlagModel,
    PairCalibration,
    Recalibration,
    RiskModel,
    RuleChecks,
    calibration_key,
    finding_features,
    in_fit,
    is_continuous,
    new_calibration_name,
    pooled_key,
    rule_model_features,
    signals_present,
)
from tqcheck.fusion.fuse import Evidence, Fusion
from tqcheck.fusion.labels import LabelledData
from tqcheck.fusion.metrics import average_precision, kendall_tau, roc_auc
from tqcheck.model import Flag, Segment, SegmentResult, Severity, Side

MIN_ROWS = 40
MIN_CLASS = 8
DEFAULT_FOLDS = 5
#: Weight of each DEMETR pair's ranking loss against one labelled segment's log-loss. Chosen on the dev
#: data by benchmarks/pair_weight.py (RESULTS.md, "DEMETR pair weight"): cross-validated, the pairs rank
#: 0.72 without this loss, 0.91 at 0.1 and 0.94 at 0.2 (the best single score, fluency.mean, 0.87), while
#: bio fr-en ROC-AUC moves 0.722 -> 0.720 and its major flags stay on a human major 40-41% of the time up
#: to 0.25 (0.39 at 0.3); en-fr does not move. 0.2: the largest weight that keeps both, but one.
PAIR_WEIGHT = 0.2
#: Inverse L2 strength of the flag model (scikit-learn's C; 0.3: a prior of about half a logit unit on
#: each effect). Chosen on the dev data's cross-validated major-flag precision (1.0: 0.37 fr-en, 0.3: 0.40).
FLAG_C = 0.3
#: A DA-labelled segment (no MQM severities) counts as "has a major or critical error" when its raters'
#: mean raw score (0-100) is 50 or less: the FLORES rating scale MLQE-PE's translators followed calls
#: 30-50 "a translation with major mistakes" and 51-69 understandable with minor errors. This is the event
#: the risk models predict, so a pair fit on DA data gives risks on the same footing as one fit on MQM
#: spans. Post-edit word tags carry no severity and train no flag model: such a pair keeps the pooled one.
DA_MAJOR_AT_MOST = 50.0
#: Percentiles of the fitting rows a risk model clips its inputs to (see ``RiskModel``).
CLIP_PERCENTILES = (1.0, 99.0)


# ----------------------------------------------------------------------------------------------------
# Rows: what fitting needs, whatever the labels came from


@dataclass(frozen=True)
class Row:
    """One labelled segment as a risk model sees it (``label`` None: only in pairs)."""

    id: str
    lp: str
    group: str
    scores: Mapping[str, float]
    signals: frozenset[str]
    label: bool | None
    badness: float | None = None


@dataclass(frozen=True)
class PairRow:
    """A DEMETR pair: the perturbed MT should be riskier than the clean one."""

    clean: str
    perturbed: str
    lp: str
    group: str


@dataclass(frozen=True)
class FindingRow:
    """One finding of the fusion on a labelled segment, with its features and its labels."""

    lp: str
    group: str
    features: Mapping[str, float]
    error: bool
    major: bool


@dataclass
class Labelled:
    """Evidence joined to labels: the input of fitting and of cross-validated evaluation."""

    evidence: list[Evidence]
    labels: dict[str, bool] = field(default_factory=dict)
    badness: dict[str, float] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    gold_spans: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    gold_major: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    #: Segments with a human Accuracy error (any, major): what a source-side finding (an omission)
    #: can be right about, the gold spans being on the MT.
    accuracy: dict[str, tuple[bool, bool]] = field(default_factory=dict)

    @classmethod
    def of(cls, evidence: list[Evidence], *data: LabelledData) -> Labelled:
        out = cls(evidence)
        for item in data:
            out.add_labels(item)
        return out

    def add_labels(self, data: LabelledData) -> None:
        for item in data.segments:
            sid = item.segment.id
            self.groups[sid] = item.group
            if item.has_major is not None:
                self.labels[sid] = item.has_major
            elif "-da" in item.grades:
                self.labels[sid] = -item.grades["-da"] <= DA_MAJOR_AT_MOST
            if item.badness is not None:
                self.badness[sid] = item.badness
            if item.spans is not None and item.has_major is not None:
                self.gold_spans[sid] = tuple((s.start, s.end) for s in item.spans if s.is_error)
                self.gold_major[sid] = tuple((s.start, s.end) for s in item.spans if s.is_major)
                self.accuracy[sid] = (any(s.is_error and s.is_accuracy for s in item.spans),
                                      any(s.is_major and s.is_accuracy for s in item.spans))
        for pair in data.pairs:
            self.groups[pair.clean.id] = self.groups[pair.perturbed.id] = pair.group
            self.pairs.append((pair.clean.id, pair.perturbed.id))

    def rows(self) -> list[Row]:
        """A row per segment with a has-major label or in a pair."""
        paired = {i for pair in self.pairs for i in pair}
        out = []
        for ev in self.evidence:
            sid = ev.segment.id
            if sid not in self.labels and sid not in paired:
                continue
            out.append(Row(sid, calibration_key(ev.segment), self.groups.get(sid, sid), ev.scores(),
                           signals_present(ev.outputs), self.labels.get(sid), self.badness.get(sid)))
        return out

    def pair_rows(self) -> list[PairRow]:
        keys = {ev.segment.id: calibration_key(ev.segment) for ev in self.evidence}
        return [PairRow(c, p, keys[p], self.groups.get(p, p)) for c, p in self.pairs if c in keys and p in keys]

    def finding_rows(self, fusion: Fusion,
                     oof: Mapping[str, Mapping[frozenset[str], Mapping[str, float]]] | None = None) -> list[FindingRow]:
        """The fusion's findings on every segment with gold spans, labelled (module docstring). With
        ``oof`` (calibration key -> signal set -> row id -> risk), a finding's risk feature is its
        segment's out-of-fold risk from the model the fusion selects."""
        out = []
        for ev in self.evidence:
            sid = ev.segment.id
            if sid not in self.gold_spans:
                continue
            gold, major = self.gold_spans[sid], self.gold_major.get(sid, ())
            key = calibration_key(ev.segment)
            scores = ev.scores()
            model = fusion.risk_model(key, ev.outputs, scores)
            risk = model.predict(scores) if model else None
            if model is not None and oof is not None:
                for fit_key in (key, pooled_key(key)):
                    held_out = (oof.get(fit_key) or {}).get(frozenset(model.signals), {})
                    if sid in held_out:
                        risk = held_out[sid]
                        break
            for finding in fusion.findings(ev.segment, ev.rule_flags, ev.outputs):
                error, is_major = finding_labels(finding, gold, major, self.accuracy.get(sid))
                out.append(FindingRow(key, self.groups.get(sid, sid),
                                      finding_features(finding, ev.segment, risk, scores), error, is_major))
        return out

    def subset(self, ids: set[str]) -> Labelled:
        return Labelled([e for e in self.evidence if e.segment.id in ids], self.labels, self.badness, self.groups,
                        self.gold_spans, self.gold_major, [p for p in self.pairs if p[0] in ids and p[1] in ids],
                        self.accuracy)

    def restricted(self, signals: Iterable[str]) -> Labelled:
        """The same labels over evidence as if only ``signals`` had run."""
        keep = list(signals)
        return Labelled([e.restricted(keep) for e in self.evidence], self.labels, self.badness, self.groups,
                        self.gold_spans, self.gold_major, self.pairs, self.accuracy)


def finding_labels(finding: Flag, gold: Sequence[tuple[int, int]], major: Sequence[tuple[int, int]],
                   accuracy: tuple[bool, bool] | None = None) -> tuple[bool, bool]:
    """Whether a human marked an error overlapping the finding, and a major/critical one. Gold spans
    are on the MT: a segment-level finding is right when its segment has such an error, a source-side
    one (something missing) when its segment has such an error of the Accuracy branch (``accuracy``:
    any, major; without it, any error)."""
    if finding.span is None:
        return bool(gold), bool(major)
    if finding.span.side is Side.SOURCE:
        return accuracy if accuracy is not None else (bool(gold), bool(major))
    s, e = finding.span.start, finding.span.end
    if s == e:  # a point (something missing here): the characters around it
        s, e = max(0, s - 1), e + 1
    return overlaps(s, e, gold), overlaps(s, e, major)


def overlaps(start: int, end: int, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether ``[start, end)`` overlaps any of ``spans``."""
    return any(start < span_end and span_start < end for span_start, span_end in spans)


# ----------------------------------------------------------------------------------------------------
# Risk models


def _signal_of(score_name: str) -> str:
    return score_name.split(".", 1)[0]


def _feature_names(rows: Sequence[Row], signals: frozenset[str]) -> list[str]:
    names = {k for r in rows for k in r.scores if _signal_of(k) in signals}
    return list(RULE_FEATURES) + sorted(names)


def _matrix(rows: Sequence[Row], features: Sequence[str], fill: Any = None) -> tuple[Any, Any]:
    """The rows' feature matrix with missing values at ``fill`` (else the column mean), and the fill."""
    import numpy as np

    x = np.full((len(rows), len(features)), np.nan)
    for i, r in enumerate(rows):
        for j, name in enumerate(features):
            v = r.scores.get(name)
            if v is not None and math.isfinite(v):
                x[i, j] = v
    if fill is None:
        fill = np.nanmean(np.where(np.isnan(x).all(axis=0), 0.0, x), axis=0) if len(rows) else np.zeros(len(features))
    x = np.where(np.isnan(x), np.asarray(fill)[None, :], x)
    return x, np.asarray(fill)


def fit_risk(rows: Sequence[Row], pairs: Sequence[PairRow], signals: frozenset[str],
             *, pair_weight: float | None = None) -> RiskModel:
    """One risk model over the rows' scores of ``signals``: log-loss on the labelled rows plus the
    pairwise ranking loss of the pairs whose both segments are among ``rows`` (module docstring)."""
    import numpy as np
    from scipy.optimize import minimize

    pair_weight = PAIR_WEIGHT if pair_weight is None else pair_weight
    labelled = [r for r in rows if r.label is not None]
    features = _feature_names(rows, signals)
    x, mean = _matrix(labelled, features)
    scale = x.std(axis=0) if len(labelled) else np.ones(len(features))
    keep = scale > 1e-12
    feats = [f for f, k in zip(features, keep) if k]
    x, mean, scale = x[:, keep], mean[keep], scale[keep]
    y = np.array([bool(r.label) for r in labelled], dtype=float)
    base = min(max(y.mean() if len(y) else 0.5, 1e-6), 1 - 1e-6)
    if not feats:
        return RiskModel(tuple(sorted(signals)), (), (), (), (), round(math.log(base / (1 - base)), 6))
    low, high = np.percentile(x, CLIP_PERCENTILES, axis=0)
    z = (np.clip(x, low, high) - mean) / scale
    by_id = {r.id: r for r in rows}
    usable = [(by_id[p.clean], by_id[p.perturbed]) for p in pairs if p.clean in by_id and p.perturbed in by_id]
    if usable:
        xc, _ = _matrix([c for c, _ in usable], [f for f in feats], mean)
        xp, _ = _matrix([p for _, p in usable], [f for f in feats], mean)
        d = ((np.clip(xp, low, high) - mean) - (np.clip(xc, low, high) - mean)) / scale
    else:
        d = np.zeros((0, len(feats)))

    def loss(theta: Any) -> tuple[float, Any]:
        w, b = theta[:-1], theta[-1]
        s = z @ w + b
        p = 1.0 / (1.0 + np.exp(-s))
        value = float(np.sum(np.logaddexp(0.0, s) - y * s))
        grad_w = z.T @ (p - y)
        grad_b = float(np.sum(p - y))
        if len(d):
            t = d @ w
            q = 1.0 / (1.0 + np.exp(t))  # d/dt of log(1 + exp(-t)) is -q
            value += pair_weight * float(np.sum(np.logaddexp(0.0, -t)))
            grad_w = grad_w - pair_weight * (d.T @ q)
        value += 0.5 * float(w @ w)
        grad_w = grad_w + w
        return value, np.r_[grad_w, grad_b]

    start = np.r_[np.zeros(len(feats)), math.log(base / (1 - base))]
    theta = minimize(loss, start, jac=True, method="L-BFGS-B").x

    def r6(values: Any) -> tuple[float, ...]:
        return tuple(round(float(v), 6) for v in values)

    return RiskModel(tuple(sorted(signals)), tuple(feats), r6(mean), r6(scale), r6(theta[:-1]),
                     round(float(theta[-1]), 6), {}, r6(low), r6(high))


def _groups_folds(groups: Sequence[str], k: int) -> list[tuple[list[int], list[int]]]:
    from sklearn.model_selection import GroupKFold

    k = min(k, len(set(groups)))
    if k < 2:
        return []
    return [(list(tr), list(te)) for tr, te in GroupKFold(n_splits=k).split(list(range(len(groups))), groups=groups)]


def _usable(rows: Sequence[Row]) -> bool:
    labelled = [r for r in rows if r.label is not None]
    pos = sum(bool(r.label) for r in labelled)
    return len(labelled) >= MIN_ROWS and pos >= MIN_CLASS and len(labelled) - pos >= MIN_CLASS


def pair_accuracy(pairs: Sequence[PairRow], risk_of: Mapping[str, float]) -> float:
    """Share of pairs whose perturbed MT is riskier than the clean one (ties count one half)."""
    scored = [(risk_of[p.clean], risk_of[p.perturbed]) for p in pairs if p.clean in risk_of and p.perturbed in risk_of]
    if not scored:
        return math.nan
    return sum(1.0 if b > a else 0.5 if b == a else 0.0 for a, b in scored) / len(scored)


#: Folds of the out-of-fold predictions a risk model is recalibrated on when no reporting folds are
#: asked for (inside cross-validation, each training fold is split again).
RECALIBRATION_FOLDS = 3


def fit_models(rows: Sequence[Row], pairs: Sequence[PairRow] = (), *, folds: int | None = DEFAULT_FOLDS,
               oof: dict[frozenset[str], dict[str, float]] | None = None) -> list[RiskModel]:
    """One model per signal set present in ``rows`` (and every subset of it), recalibrated (Platt) on
    its out-of-fold predictions, with out-of-fold figures in ``cv`` when ``folds`` is given. ``oof``,
    when given, receives each model's out-of-fold (recalibrated) risk per row id."""
    seen = {r.signals for r in rows}
    all_signals = sorted(set().union(*seen)) if seen else []
    models = []
    for n in range(len(all_signals) + 1):
        for combo in itertools.combinations(all_signals, n):
            signals = frozenset(combo)
            subset = [r for r in rows if signals <= r.signals]
            if not _usable(subset):
                continue
            ids = {r.id for r in subset}
            mine = [p for p in pairs if p.clean in ids and p.perturbed in ids]
            final = fit_risk(subset, mine, signals)
            raw = _out_of_fold(subset, mine, signals, folds or RECALIBRATION_FOLDS)
            slope, offset = _platt([bool(r.label) for r in subset if r.label is not None and r.id in raw],
                                   [raw[r.id] for r in subset if r.label is not None and r.id in raw])
            model = final.recalibrated(slope, offset)
            risk = {rid: _sigmoid(slope * z + offset) for rid, z in raw.items()}
            cv: dict[str, Any] = {"n": sum(r.label is not None for r in subset),
                                  "positives": sum(bool(r.label) for r in subset), "pairs": len(mine)}
            if folds:
                cv.update(_risk_cv(subset, mine, risk, folds))
            if oof is not None:
                oof[signals] = risk
            models.append(RiskModel(model.signals, model.features, model.mean, model.scale, model.coef,
                                    model.intercept, cv, model.low, model.high, model.slope, model.offset))
    return models


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def _out_of_fold(rows: Sequence[Row], pairs: Sequence[PairRow], signals: frozenset[str],
                 folds: int) -> dict[str, float]:
    """Each row's raw (logit) risk from a model fit without its fold."""
    out: dict[str, float] = {}
    for train, test in _groups_folds([r.group for r in rows], folds):
        tr = [rows[i] for i in train]
        labels = [bool(r.label) for r in tr if r.label is not None]
        if not labels or all(labels) or not any(labels):
            continue
        ids = {r.id for r in tr}
        model = fit_risk(tr, [p for p in pairs if p.clean in ids and p.perturbed in ids], signals)
        for i in test:
            out[rows[i].id] = model.raw(rows[i].scores)
    return out


def _platt(labels: Sequence[bool], raw: Sequence[float]) -> tuple[float, float]:
    """(slope, offset) of a logistic fit of the labels on raw logits; the identity without both classes."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if len(set(labels)) < 2 or len(labels) < MIN_ROWS:
        return 1.0, 0.0
    model = LogisticRegression(C=1e4, max_iter=1000).fit(np.asarray(raw)[:, None], np.asarray(labels, dtype=int))
    return float(model.coef_[0][0]), float(model.intercept_[0])


def _risk_cv(rows: Sequence[Row], pairs: Sequence[PairRow], risk: Mapping[str, float], folds: int) -> dict[str, Any]:
    """Out-of-fold figures from out-of-fold risks (the recalibration itself is fit on all of them, which
    leaves the rank figures unchanged)."""
    labelled = [r for r in rows if r.label is not None and r.id in risk]
    out: dict[str, Any] = {"folds": folds}
    if labelled:
        labels, risks = [bool(r.label) for r in labelled], [risk[r.id] for r in labelled]
        out.update(roc_auc=_r(roc_auc(labels, risks)), pr_auc=_r(average_precision(labels, risks)))
        graded = [r for r in labelled if r.badness is not None]
        if len(graded) > 2:
            out["kendall_tau"] = _r(kendall_tau([risk[r.id] for r in graded],
                                                [r.badness for r in graded if r.badness is not None]))
    if pairs:
        out["pair_accuracy"] = _r(pair_accuracy(pairs, risk))
    return out


def _r(v: float | None) -> float | None:
    return None if v is None or math.isnan(v) else round(float(v), 4)


# ----------------------------------------------------------------------------------------------------
# The flag model


def _finding_matrix(rows: Sequence[FindingRow], features: Sequence[str], stats: Any = None):
    """Standardised, clipped feature matrix of findings and its (mean, scale, low, high): counts and
    strengths standardised and clipped to the 1st-99th percentiles of the fitting rows, indicators
    left as 0/1 (mean 0, scale 1, never clipped)."""
    import numpy as np

    x = np.zeros((len(rows), len(features)))
    present = np.zeros_like(x, dtype=bool)
    index = {name: j for j, name in enumerate(features)}
    for i, r in enumerate(rows):
        for name, value in r.features.items():
            j = index.get(name)
            if j is not None and math.isfinite(value):
                x[i, j] = value
                present[i, j] = True
    continuous = np.array([is_continuous(f) for f in features], dtype=bool)
    if stats is None:
        mean, scale = np.zeros(len(features)), np.ones(len(features))
        low, high = np.full(len(features), -np.inf), np.full(len(features), np.inf)
        for j in np.where(continuous)[0]:
            values = x[present[:, j], j]
            if len(values):
                low[j], high[j] = np.percentile(values, CLIP_PERCENTILES)
                values = np.clip(values, low[j], high[j])
                mean[j], scale[j] = values.mean(), (values.std() or 1.0)
        stats = (mean, scale, low, high)
    mean, scale, low, high = stats
    x = np.where(~present & continuous[None, :], mean[None, :], np.clip(x, low[None, :], high[None, :]))
    return (x - mean) / scale, stats


def _fit_logistic(z: Any, y: Any) -> tuple[Any, float]:
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():
        p = min(max(float(y.mean()), 1e-4), 1 - 1e-4)
        return z[0] * 0.0, math.log(p / (1 - p))
    model = LogisticRegression(C=FLAG_C, max_iter=5000).fit(z, y)
    return model.coef_[0], float(model.intercept_[0])


def fit_flag_model(rows: Sequence[FindingRow], *, folds: int | None = DEFAULT_FOLDS,
                   breakdown: Callable[[FindingRow], str] | None = None) -> FlagModel | None:
    """P(error) and P(major) of findings over their features (module docstring), each recalibrated
    (Platt) on its out-of-fold predictions; None without ``MIN_CLASS`` findings on an error and off one.
    With ``breakdown`` (a finding -> its group's name), ``cv["by"]`` holds each group's count, how many
    landed on a human error and on a major one, and its mean out-of-fold ``p_error`` and ``p_major``."""
    import numpy as np

    errors = sum(r.error for r in rows)
    if len(rows) < MIN_ROWS or errors < MIN_CLASS or len(rows) - errors < MIN_CLASS:
        return None
    features = sorted({name for r in rows for name in r.features})
    z, (mean, scale, low, high) = _finding_matrix(rows, features)
    y_error = np.array([r.error for r in rows], dtype=int)
    y_major = np.array([r.major for r in rows], dtype=int)
    coef_error, b_error = _fit_logistic(z, y_error)
    coef_major, b_major = _fit_logistic(z, y_major)
    raw_error, raw_major = _flag_out_of_fold(rows, features, folds or RECALIBRATION_FOLDS)
    ok = ~np.isnan(raw_error)
    se, oe = _platt(list(y_error[ok].astype(bool)), list(raw_error[ok]))
    sm, om = _platt(list(y_major[ok].astype(bool)), list(raw_major[ok]))
    cv: dict[str, Any] = {"findings": len(rows), "on_error": int(errors), "on_major": int(y_major.sum())}
    if folds and ok.any():
        p_error = 1.0 / (1.0 + np.exp(-(se * raw_error[ok] + oe)))
        p_major = 1.0 / (1.0 + np.exp(-(sm * raw_major[ok] + om)))
        cv.update({"folds": folds, "error_auc": _r(roc_auc(list(y_error[ok]), list(p_error))),
                   "major_auc": _r(roc_auc(list(y_major[ok]), list(p_major)))})
        if breakdown is not None:
            cv["by"] = _breakdown([r for r, kept in zip(rows, ok) if kept], breakdown, p_error, p_major)

    def r6(values: Any) -> tuple[float, ...]:
        return tuple(round(float(v), 6) for v in values)

    continuous = [is_continuous(f) for f in features]
    counts: dict[str, int] = {}
    for r in rows:
        for name in r.features:
            if name.startswith("check="):
                counts[name[len("check="):]] = counts.get(name[len("check="):], 0) + 1
    return FlagModel(tuple(features), r6(mean), r6(scale), r6(coef_error), round(b_error, 6), r6(coef_major),
                     round(b_major, 6), cv, tuple(round(float(v), 6) if c else 0.0 for v, c in zip(low, continuous)),
                     tuple(round(float(v), 6) if c else 1.0 for v, c in zip(high, continuous)),
                     cast(Recalibration, r6((se, oe, sm, om))), dict(sorted(counts.items())))


def _breakdown(rows: Sequence[FindingRow], name_of: Callable[[FindingRow], str], p_error: Any,
               p_major: Any) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(name_of(r), []).append(i)
    return {name: {"findings": len(ix), "on_error": sum(rows[i].error for i in ix),
                   "on_major": sum(rows[i].major for i in ix),
                   "p_error": _r(sum(float(p_error[i]) for i in ix) / len(ix)),
                   "p_major": _r(sum(float(p_major[i]) for i in ix) / len(ix))}
            for name, ix in sorted(groups.items())}


def _flag_out_of_fold(rows: Sequence[FindingRow], features: Sequence[str], folds: int) -> tuple[Any, Any]:
    """Each finding's raw (logit) p_error and p_major from models fit without its fold (findings
    grouped by source sentence); NaN where a fold could not be fit."""
    import numpy as np

    groups = [r.group for r in rows]
    raw_error = np.full(len(rows), np.nan)
    raw_major = np.full(len(rows), np.nan)
    for train, test in _groups_folds(groups, folds):
        tr = [rows[i] for i in train]
        z, stats = _finding_matrix(tr, features)
        ce, be = _fit_logistic(z, np.array([r.error for r in tr], dtype=int))
        cm, bm = _fit_logistic(z, np.array([r.major for r in tr], dtype=int))
        zt, _ = _finding_matrix([rows[i] for i in test], features, stats)
        raw_error[test] = zt @ ce + be
        raw_major[test] = zt @ cm + bm
    return raw_error, raw_major


# ----------------------------------------------------------------------------------------------------
# The whole calibration


def fit_calibration(labelled: Labelled, *, folds: int | None = DEFAULT_FOLDS, name: str | None = None,
                    provenance: Mapping[str, Any] | None = None) -> Calibration:
    """Risk models per key and pooled, then the flag model of the findings they give. The flag model
    learns from each finding's *out-of-fold* risk: an in-sample risk separates the training segments
    better than any risk separates new ones, and a flag model leaning on it would overstate itself."""
    made_name, created = new_calibration_name()
    rows = labelled.rows()
    pairs = labelled.pair_rows()
    keys = sorted({r.lp for r in rows})
    every = keys + sorted({pooled_key(k) for k in keys})
    risk: dict[str, tuple[RiskModel, ...]] = {}
    oof: dict[str, dict[frozenset[str], dict[str, float]]] = {}
    for key in every:
        selected = [r for r in rows if in_fit(key, r.lp)]
        oof[key] = {}
        models = tuple(fit_models(selected, [p for p in pairs if in_fit(key, p.lp)], folds=folds, oof=oof[key]))
        if models:
            risk[key] = models
    staged = Calibration(name or made_name, {k: PairCalibration(m) for k, m in risk.items()}, created)
    findings = labelled.finding_rows(Fusion(staged), oof)
    pairs_cal: dict[str, PairCalibration] = {}
    for key in every:
        flag_model = fit_flag_model([r for r in findings if in_fit(key, r.lp)], folds=folds)
        if key in risk or flag_model is not None:
            pairs_cal[key] = PairCalibration(risk.get(key, ()), flag_model)
    return Calibration(name or made_name, pairs_cal, created, dict(provenance or {}))


def finding_kind(row: FindingRow) -> str:
    """A finding's checks and the kinds of claim they made (``numbers``, ``urls_handles:broken_handle``),
    the groups ``fit_rule_checks`` reports its measurement by."""
    kinds = sorted(name[len("kind="):] for name in row.features if name.startswith("kind="))
    checked = {k.split(":", 1)[0] for k in kinds}
    checks = sorted(name[len("check="):] for name in row.features
                    if name.startswith("check=") and name[len("check="):] not in checked)
    return " + ".join(kinds + checks)


def fit_rule_checks(labelled: Labelled, *, folds: int | None = DEFAULT_FOLDS,
                    provenance: Mapping[str, Any] | None = None) -> RuleChecks | None:
    """The rule checks' own flag model (``RuleChecks``): every finding the rule checks make on the
    segments with gold spans, signals left out, read without segment risk, signal scores or language pair
    (``rule_model_features``), cross-validated in folds grouped by source sentence. None when too few
    findings land on an error (or off one) to fit."""
    findings = labelled.restricted(()).finding_rows(Fusion(None))
    rows = [FindingRow(r.lp, r.group, rule_model_features(r.features), r.error, r.major) for r in findings]
    model = fit_flag_model(rows, folds=folds, breakdown=finding_kind)
    return None if model is None else RuleChecks(model, dict(provenance or {}))


def cross_validated_results(labelled: Labelled, *, folds: int = DEFAULT_FOLDS,
                            signals: Iterable[str] | None = None,
                            rule_checks: RuleChecks | None = None) -> list[SegmentResult]:
    """Out-of-fold results for every segment: honest figures on the data the fusion is fit on.

    ``signals`` restricts the evidence to those signals (as if only they had run), so one expensive
    run of all engines gives the figures of every smaller configuration. ``rule_checks``, a rule-check
    model fit on other data (``fit_rule_checks``), joins every fold's calibration as it joins a shipped one.
    """
    view = labelled.restricted(signals) if signals is not None else labelled
    results: dict[str, SegmentResult] = {}
    for calibration, held_out in fold_calibrations(view, folds=folds, rule_checks=rule_checks):
        fusion = Fusion(calibration)
        for e in held_out:
            results[e.segment.id] = fusion.fuse(e.segment, e.rule_flags, e.outputs)
    return [results[e.segment.id] for e in view.evidence if e.segment.id in results]


def fold_calibrations(labelled: Labelled, *, folds: int = DEFAULT_FOLDS,
                      rule_checks: RuleChecks | None = None) -> list[tuple[Calibration, list[Evidence]]]:
    """Each fold's calibration (fit without it, folds grouped by source sentence; with ``rule_checks``
    laid over it) with the evidence it holds out: what ``cross_validated_results`` fuses, kept for
    callers that fuse the same folds more than once (e.g. under several severity floors) without
    refitting."""
    ids = [e.segment.id for e in labelled.evidence]
    groups = [labelled.groups.get(i, i) for i in ids]
    return [(fit_calibration(labelled.subset({ids[i] for i in train}), folds=None, name="cv-fold")
             .with_rule_checks(rule_checks), [labelled.evidence[i] for i in test])
            for train, test in _groups_folds(groups, folds)]


# ----------------------------------------------------------------------------------------------------
# Reviewer decisions


@dataclass(frozen=True)
class ReviewedSegment:
    """What calibration needs from a reviewed segment in the store."""

    id: str
    lp: str
    group: str
    segment: Segment
    scores: Mapping[str, float]
    risk: float | None
    flags: tuple[tuple[Flag, str | None], ...]  # (the stored flag, its decision)

    @property
    def decided(self) -> bool:
        return any(d in ("confirmed", "dismissed") for _, d in self.flags)

    @property
    def confirmed(self) -> bool:
        return any(d == "confirmed" for _, d in self.flags)


def reviewed_from_store(store: Any, *, run_ids: Sequence[int] = ()) -> list[ReviewedSegment]:
    """Reviewed segments of a ``tqcheck.store.Store`` as plain records."""
    out = []
    for record in store.iter_segments(run_ids=run_ids, reviewed_only=True):
        seg = record.segment
        flags = tuple((f.flag, f.decision.value if f.decision else None) for f in record.flags)
        out.append(ReviewedSegment(f"{record.run_id}:{seg.id}", calibration_key(seg), seg.source or seg.mt, seg,
                                   dict(record.scores), record.risk, flags))
    return out


def calibrate_from_decisions(records: Sequence[ReviewedSegment], *, folds: int | None = DEFAULT_FOLDS,
                             name: str | None = None,
                             provenance: Mapping[str, Any] | None = None) -> Calibration:
    """Fit from reviewers' verdicts: the segment label is "a reviewer confirmed at least one flag";
    a confirmed flag is a finding on an error, and on a major one when it was shown as major (a
    reviewer confirms what was claimed). Only segments with at least one decision count."""
    decided = [r for r in records if r.decided]
    rows = []
    findings = []
    for r in decided:
        present = frozenset(_signal_of(k) for k in r.scores if not k.startswith("rules.")) - NOT_FUSED
        rows.append(Row(r.id, r.lp, r.group, r.scores, present, r.confirmed))
        for flag, decision in r.flags:
            if decision not in ("confirmed", "dismissed"):
                continue
            confirmed = decision == "confirmed"
            findings.append(FindingRow(r.lp, r.group, finding_features(flag, r.segment, r.risk, r.scores),
                                       confirmed, confirmed and flag.severity >= Severity.MAJOR))
    made_name, created = new_calibration_name("decisions")
    pairs_cal: dict[str, PairCalibration] = {}
    keys = sorted({r.lp for r in rows})
    for key in keys + sorted({pooled_key(k) for k in keys}):
        models = tuple(fit_models([r for r in rows if in_fit(key, r.lp)], folds=folds))
        flag_model = fit_flag_model([f for f in findings if in_fit(key, f.lp)], folds=folds)
        if models or flag_model is not None:
            pairs_cal[key] = PairCalibration(models, flag_model)
    return Calibration(name or made_name, pairs_cal, created, dict(provenance or {}))


# ----------------------------------------------------------------------------------------------------
# Reporting


def cv_table(calibration: Calibration) -> str:
    """The cross-validated figures of every model, one line each."""
    lines = [f"  {'key':<18} {'signals':<48} {'n':>5} {'pos':>4} {'pairs':>5}  {'ROC-AUC':>7} {'PR-AUC':>7} "
             f"{'tau':>7} {'pairs-acc':>9}"]

    def f(cv: Mapping[str, Any], key: str) -> str:
        v = cv.get(key)
        return f"{v:.3f}" if isinstance(v, (int, float)) else "-"

    for lp, pair in sorted(calibration.pairs.items()):
        for m in sorted(pair.models, key=lambda m: (len(m.signals), m.signals)):
            cv = m.cv
            sig = "+".join(m.signals) or "rules only"
            lines.append(f"  {lp:<18} {sig:<48} {cv.get('n', 0):>5} {cv.get('positives', 0):>4} "
                         f"{cv.get('pairs', 0):>5}  {f(cv, 'roc_auc'):>7} {f(cv, 'pr_auc'):>7} "
                         f"{f(cv, 'kendall_tau'):>7} {f(cv, 'pair_accuracy'):>9}")
        if pair.flag_model is not None:
            cv = pair.flag_model.cv
            lines.append(f"  {lp:<18} flags: {cv.get('findings', 0)} findings, {cv.get('on_error', 0)} on an error, "
                         f"{cv.get('on_major', 0)} on a major one; ROC-AUC p_error {f(cv, 'error_auc')}, "
                         f"p_major {f(cv, 'major_auc')}")
    return "\n".join(lines)
