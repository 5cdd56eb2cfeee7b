"""Metric code on hand-made cases whose answers are known without tqcheck."""

from __future__ import annotations

import math
import random

import pytest

from tqcheck.fusion.metrics import average_precision, bootstrap_ci, kendall_tau, pearson, prf, roc_auc, span_counts


@pytest.mark.parametrize("labels, scores, expected", [
    ([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], 1.0),          # perfect ranker
    ([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1], 0.0),          # perfectly wrong
    ([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], 0.5),          # all tied: a coin flip
    ([0, 1, 1], [0.3, 0.3, 0.9], 0.75),                 # one tie pair counts 1/2: (0.5 + 1) / 2
    ([0, 0, 1], [0.1, 0.4, 0.35], 0.5),                 # beats one of two negatives
])
def test_roc_auc_known_answers(labels, scores, expected):
    assert roc_auc([bool(y) for y in labels], scores) == pytest.approx(expected)


def test_roc_auc_of_a_random_ranker_is_near_one_half():
    rng = random.Random(1)
    labels = [rng.random() < 0.3 for _ in range(4000)]
    scores = [rng.random() for _ in labels]
    assert roc_auc(labels, scores) == pytest.approx(0.5, abs=0.03)


def test_roc_auc_undefined_with_one_class():
    assert math.isnan(roc_auc([True, True], [0.1, 0.2]))


def test_roc_auc_matches_scikit_learn_with_ties():
    from sklearn.metrics import roc_auc_score
    rng = random.Random(2)
    labels = [rng.random() < 0.4 for _ in range(300)]
    scores = [rng.randint(0, 5) for _ in labels]  # many ties
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))


@pytest.mark.parametrize("labels, scores, expected", [
    ([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1], 1.0),
    ([0, 1], [0.9, 0.1], 0.5),                           # positive found at rank 2: precision 1/2
    ([1, 0, 1], [0.9, 0.8, 0.7], (1 + 2 / 3) / 2),
    ([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5], 0.5),           # one tied block: precision = base rate
])
def test_average_precision_known_answers(labels, scores, expected):
    assert average_precision([bool(y) for y in labels], scores) == pytest.approx(expected)


def test_average_precision_matches_scikit_learn():
    from sklearn.metrics import average_precision_score
    rng = random.Random(3)
    labels = [rng.random() < 0.25 for _ in range(500)]
    scores = [rng.randint(0, 9) + (0.5 if y and rng.random() < 0.5 else 0) for y in labels]
    assert average_precision(labels, scores) == pytest.approx(average_precision_score(labels, scores))


def test_kendall_and_pearson():
    assert kendall_tau([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert kendall_tau([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # tau-b with one tie in y: concordant 5, discordant 0, ties in y 1 -> 5 / sqrt(6 * 5)
    assert kendall_tau([1, 2, 3, 4], [1, 2, 2, 3]) == pytest.approx(5 / math.sqrt(30))
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [1, 0, 1]) == pytest.approx(0.0)
    assert math.isnan(pearson([1, 1, 1], [1, 2, 3]))


def test_span_counts_of_overlapping_spans():
    # predicted [0,10) and gold [5,15): 5 shared characters of 10 each
    assert span_counts([(0, 10)], [(5, 15)]) == (5, 10, 10)
    p, r, f = prf(*span_counts([(0, 10)], [(5, 15)]))
    assert (p, r, f) == pytest.approx((0.5, 0.5, 0.5))
    # overlapping predictions are merged: [0,6) U [4,10) = 10 characters, not 12
    assert span_counts([(0, 6), (4, 10)], [(0, 10)]) == (10, 10, 10)
    # disjoint
    assert span_counts([(0, 3)], [(5, 8)]) == (0, 3, 3)


def test_prf_edges():
    p, r, f = prf(0, 0, 7)         # predicted nothing against gold
    assert math.isnan(p) and r == 0 and f == 0
    p, r, f = prf(0, 4, 0)         # predicted on a clean segment
    assert p == 0 and math.isnan(r) and f == 0
    assert all(math.isnan(v) for v in prf(0, 0, 0))
    assert prf(3, 4, 6) == pytest.approx((0.75, 0.5, 0.6))


def test_bootstrap_ci_brackets_the_mean_and_resamples_groups():
    values = [0.0] * 50 + [1.0] * 50
    groups = [f"g{i}" for i in range(100)]
    lo, hi = bootstrap_ci(lambda idx: sum(values[i] for i in idx) / len(idx), groups, resamples=500)
    assert lo < 0.5 < hi and hi - lo < 0.3
    # one group holding everything: every resample is identical, the interval has no width
    lo, hi = bootstrap_ci(lambda idx: sum(values[i] for i in idx) / len(idx), ["one"] * 100, resamples=50)
    assert lo == hi == 0.5


def test_reliability_and_pr_points():
    from tqcheck.plots import pr_points, reliability_points

    labels = [False, False, True, True, True]
    risks = [0.05, 0.15, 0.12, 0.95, 0.91]
    # bin [0, 0.1): one negative; bin [0.1, 0.2): one of two positive; bin [0.9, 1]: both positive
    assert reliability_points(labels, risks) == [
        (pytest.approx(0.05), 0.0, 1), (pytest.approx(0.135), 0.5, 2), (pytest.approx(0.93), 1.0, 2)]
    # thresholds from the top: 0.95 (1/3 recall, precision 1), 0.91 (2/3, 1), 0.15 (2/3, 2/3), ...
    assert pr_points(labels, risks) == [(pytest.approx(1 / 3), 1.0), (pytest.approx(2 / 3), 1.0),
                                        (pytest.approx(2 / 3), pytest.approx(2 / 3)),
                                        (1.0, 0.75), (1.0, 0.6)]


def test_round_trip_ter_ignores_typesetting_of_punctuation_but_reference_ter_is_standard():
    from tqcheck.signals._common import SentenceMetrics

    internal = SentenceMetrics(normalized_ter=True)
    assert internal.score("Mexico!", "Mexico !", lang="en")["ter"] == 0.0
    assert internal.score("They walk to the market.", "They walked to the march.", lang="en")["ter"] > 30
    assert SentenceMetrics().score("Mexico!", "Mexico !", lang="en")["ter"] == 100.0  # sacrebleu's default


def test_sentence_scores_are_cached_like_engine_outputs(tmp_path, monkeypatch):
    from tqcheck.engines.cache import EngineCache
    from tqcheck.signals._common import SentenceMetrics

    cache = EngineCache(tmp_path / "c.sqlite")
    cold = SentenceMetrics(normalized_ter=True, cache=cache).score("They walk to the market.",
                                                                    "They walked to the march.", lang="en")
    assert cold == SentenceMetrics(normalized_ter=True).score("They walk to the market.",
                                                              "They walked to the march.", lang="en")
    warm_metrics = SentenceMetrics(normalized_ter=True, cache=cache)
    monkeypatch.setattr(warm_metrics, "_score", lambda *a, **k: (_ for _ in ()).throw(AssertionError("recomputed")))
    assert warm_metrics.score("They walk to the market.", "They walked to the march.", lang="en") == cold
    # other settings are other entries: plain TER differs and is computed
    assert SentenceMetrics(cache=cache).score("Mexico!", "Mexico !", lang="en")["ter"] == 100.0
