"""Metrics on plain numbers and spans, shared by evaluation, fitting and the QE model's own evaluation.

Nothing here knows about labelled data or tqcheck's results, so ``tqcheck.qe`` can import it without
pulling in evaluation. Rank metrics come from scikit-learn and scipy (imported when called).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any


def roc_auc(labels: Sequence[bool], scores: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative; ties count one half
    (scikit-learn's ``roc_auc_score``). NaN when one class is absent."""
    pos = sum(1 for y in labels if y)
    if pos == 0 or pos == len(labels):
        return math.nan
    from sklearn.metrics import roc_auc_score  # lazy: scikit-learn is heavy

    return float(roc_auc_score([bool(y) for y in labels], list(scores)))


def average_precision(labels: Sequence[bool], scores: Sequence[float]) -> float:
    """Area under the precision-recall curve as a step function (scikit-learn's
    ``average_precision_score``): tied scores form one threshold, so the order of tied items does not
    matter. NaN without positives."""
    if not any(labels):
        return math.nan
    from sklearn.metrics import average_precision_score

    return float(average_precision_score([bool(y) for y in labels], list(scores)))


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b (ties in either variable are accounted for). NaN when undefined."""
    if len(x) < 2:
        return math.nan
    from scipy.stats import kendalltau  # lazy: scipy is heavy

    value = kendalltau(x, y).statistic
    return float(value) if value is not None else math.nan


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson's r (scipy); NaN when either side is constant or there are fewer than two points."""
    if len(x) < 2 or len(set(x)) < 2 or len(set(y)) < 2:
        return math.nan
    from scipy.stats import pearsonr

    return float(pearsonr(list(x), list(y)).statistic)


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


def fbeta(tp: float, predicted: float, gold: float, beta: float) -> float:
    """F-beta from counts: (1 + b²)·tp / ((1 + b²)·tp + b²·fn + fp)."""
    b2 = beta * beta
    denom = b2 * gold + predicted
    return (1 + b2) * tp / denom if denom else 0.0
