"""Calibration: thresholds with known answers, grouped CV, span thresholds, decisions, round trip
through a file and the fusion."""

from __future__ import annotations

import math
import random

import pytest

from tqcheck.fusion.fit import (DecisionRow, Labelled, ReviewedSegment, Row, SpanRow, _folds,
                               calibrate_from_decisions, calibrate_labelled, cross_validated_results,
                               decision_thresholds, f1_threshold, fit_models, fit_span_thresholds)
from tqcheck.fusion.fuse import Evidence, Fusion
from tqcheck.model import Category, Flag, Segment, Severity, Span
from tqcheck.signals.base import SignalOutput


def test_f1_threshold_known_answers():
    # flagging the top two catches both positives with no false alarm
    assert f1_threshold([True, True, False, False], [0.9, 0.8, 0.3, 0.1]) == 0.8
    # one positive below a negative: t=0.2 gives F1 2*2/(4+2)=0.67, t=0.9 gives 2/(1+2)=0.67 -> higher t
    assert f1_threshold([True, False, False, True], [0.9, 0.5, 0.4, 0.2]) == 0.9
    assert f1_threshold([False, False], [0.2, 0.1]) == 1.0


def synthetic_rows(n=300, signal=True, seed=0):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = rng.random() < 0.3
        group = f"src{i // 3}"  # three MT systems per source sentence
        x = (2.0 if label else 0.0) + rng.gauss(0, 1) if signal else rng.gauss(0, 1)
        noise = rng.gauss(0, 1)
        rows.append(Row(f"r{i}", "fr-en", group, {"fluency.mean": x, "crosslingual.cosine": noise,
                                                  "rules.minor": 0.0, "rules.major": 0.0, "rules.critical": 0.0},
                        frozenset({"fluency", "crosslingual"}), label, badness=x + rng.gauss(0, 0.5)))
    return rows


def test_models_for_every_signal_set_with_honest_cv_figures():
    models = {m.signals: m for m in fit_models(synthetic_rows())}
    assert set(models) == {(), ("fluency",), ("crosslingual",), ("crosslingual", "fluency")}
    assert models[("fluency",)].cv["roc_auc"] > 0.8
    assert models[("crosslingual",)].cv["roc_auc"] == pytest.approx(0.5, abs=0.1)
    assert models[()].cv["roc_auc"] == 0.5  # rules counts are constant: an intercept only
    assert models[("fluency",)].cv["kendall_tau"] > 0.3
    assert 0 < models[("fluency",)].major_threshold < 1
    # no signal at all: cross-validated AUC stays near chance (nothing leaks from training folds)
    noise = {m.signals: m for m in fit_models(synthetic_rows(signal=False))}
    assert noise[("fluency",)].cv["roc_auc"] == pytest.approx(0.5, abs=0.1)


def test_fitted_models_record_the_range_of_their_inputs():
    rows = synthetic_rows()
    fluency = next(m for m in fit_models(rows) if m.signals == ("fluency",))
    values = sorted(r.scores["fluency.mean"] for r in rows)
    i = fluency.features.index("fluency.mean")
    assert values[0] < fluency.low[i] < fluency.high[i] < values[-1]
    assert fluency.predict({"fluency.mean": values[-1] + 100}) == fluency.predict({"fluency.mean": fluency.high[i]})


def test_target_only_rows_get_their_own_keys_and_pooled_fit():
    from tqcheck.fusion.fit import fit_calibration

    rows = synthetic_rows(200)
    mono = [Row(r.id + "m", "fr-en/target-only", r.group, r.scores, r.signals, r.label) for r in rows]
    cal = fit_calibration(rows + mono, [], folds=None)
    assert set(cal.pairs) == {"fr-en", "*", "fr-en/target-only", "*/target-only"}
    assert cal.pairs["*/target-only"].models[0].cv == {"n": 200, "positives": sum(r.label for r in rows)}


def test_folds_never_split_a_source_sentence():
    rows = synthetic_rows(90)
    for train, test in _folds(rows, 5):
        assert not ({rows[i].group for i in train} & {rows[i].group for i in test})


def test_span_models_keep_precise_signals_and_drop_chance_ones():
    rows = []
    for i in range(40):
        gold = ((10, 16), (20, 26))
        major = ((10, 16),)   # only the homograph's error is major
        rows.append(SpanRow("fr-en", f"g{i}", (
            ("roundtrip", {"confidence": 3.0, "kind=near_homograph": 1.0}, 10, 16),  # on the major error
            ("roundtrip", {"confidence": 2.0, "kind=lost_and_replaced": 1.0}, 20, 26),  # on a minor one
            ("roundtrip", {"confidence": 1.0, "kind=lost": 1.0}, 30, 40),            # off the errors
            ("fluency", {"confidence": 2.0 + (i % 3)}, 40, 50),                      # never on one
        ), gold, 60, major))
    thresholds, precision, models, major_thresholds, _ = fit_span_thresholds(rows)
    assert precision["roundtrip"] == 1.0
    p = {kind: models["roundtrip"].predict({"confidence": c, f"kind={kind}": 1.0})
         for kind, c in (("near_homograph", 3.0), ("lost_and_replaced", 2.0), ("lost", 1.0))}
    assert p["lost"] < thresholds["roundtrip"] <= min(p["near_homograph"], p["lost_and_replaced"])
    assert thresholds["roundtrip"] <= major_thresholds["roundtrip"] <= p["near_homograph"]
    assert thresholds["fluency"] == math.inf and "fluency" not in precision
    assert "fluency" not in models  # no positive example to learn from
    # without span models the raw strength is thresholded, and there is no major threshold
    raw, _, none, no_major, _ = fit_span_thresholds(rows, models=False)
    assert raw["roundtrip"] == 2.0 and none == {} and no_major == {}


def test_decision_thresholds():
    ds = [DecisionRow("fr-en", "fluency", s, c) for s, c in
          [(1.0, False), (1.5, False), (2.0, True), (2.5, False), (3.0, True), (4.0, True)]]
    ds += [DecisionRow("fr-en", "roundtrip", 3.0, False)]
    thresholds, precision = decision_thresholds(ds)
    # the lowest strength from which confirmed outnumber dismissed: from 1.5, 3 confirmed of 5
    assert thresholds["fluency"] == 1.5 and precision["fluency"] == 0.6
    assert thresholds["roundtrip"] == math.inf


def test_calibrate_from_decisions_learns_what_reviewers_confirm():
    rng = random.Random(3)
    records = []
    for i in range(200):
        bad = rng.random() < 0.4
        x = (2.0 if bad else 0.0) + rng.gauss(0, 0.8)
        records.append(ReviewedSegment(
            f"{i}", "fr-en", f"s{i}", {"fluency.mean": x, "rules.minor": 0.0, "rules.major": 0.0,
                                       "rules.critical": 0.0},
            (("fluency", 3.0 + x, "confirmed" if bad else "dismissed"),)))
    records.append(ReviewedSegment("undecided", "fr-en", "u", {"fluency.mean": 9.0}, (("fluency", 1.0, None),)))
    cal = calibrate_from_decisions(records)
    fluency_model = cal.select("fr-en", frozenset({"fluency"}))
    assert fluency_model.signals == ("fluency",) and fluency_model.cv["roc_auc"] > 0.8
    assert fluency_model.cv["n"] == 200  # the undecided segment is not a label
    assert fluency_model.predict({"fluency.mean": 3.0}) > fluency_model.predict({"fluency.mean": -1.0})
    threshold = cal.pairs["fr-en"].span_thresholds["fluency"]
    kept = [r for r in records[:-1] if r.flags[0][1] >= threshold]
    below = [r for r in records[:-1] if r.flags[0][1] < threshold]
    assert sum(r.confirmed for r in kept) > len(kept) / 2
    assert below and sum(r.confirmed for r in below) < len(below) / 2


def observations(n=120, seed=1):
    rng = random.Random(seed)
    obs, labels, groups, gold = [], {}, {}, {}
    for i in range(n):
        bad = rng.random() < 0.4
        mt = "They walked for twelve hours to the market town."
        seg = Segment(id=f"s{i}", mt=mt, source="x", source_lang="fr", target_lang="en")
        x = (1.5 if bad else 0.0) + rng.gauss(0, 1)
        flags = [Flag("fluency", Severity.MINOR, Category.NON_FLUENT, "odd", Span(5, 11), confidence=2.5 + x)]
        obs.append(Evidence(seg, (), {"fluency": SignalOutput({"fluency.mean": x}, {}, flags)}))
        labels[seg.id] = bad
        groups[seg.id] = f"g{i // 2}"
        gold[seg.id] = ((5, 11),) if bad else ()
    return Labelled(obs, labels, {}, groups, gold)


def test_labelled_calibration_round_trips_through_a_file(tmp_path):
    cal = calibrate_labelled(observations(), name="unit")
    path = tmp_path / "c.json"
    cal.write(path)
    fusion = Fusion.load(str(path))
    assert fusion.calibration_id.startswith("unit-")
    seg = observations(2).observations[0]
    result = fusion.fuse(seg.segment, seg.rule_flags, seg.outputs)
    assert 0 <= result.risk <= 1


def test_cross_validated_results_cover_every_segment_and_restrict_signals():
    labelled = observations()
    results = cross_validated_results(labelled, folds=4)
    assert [r.segment.id for r in results] == [o.segment.id for o in labelled.observations]
    assert all(r.risk is not None for r in results)
    rules_only = cross_validated_results(labelled, folds=4, signals=())
    assert all("fluency.mean" not in r.scores for r in rules_only)
    assert all(not any(f.check == "fluency" for f in r.flags) for r in rules_only)


def test_major_threshold_needs_flagged_segments_significantly_above_the_base_rate():
    from tqcheck.fusion.fit import major_threshold

    rng = random.Random(5)
    labels = [rng.random() < 0.2 for _ in range(500)]
    assert major_threshold(labels, [rng.random() for _ in labels]) == math.inf   # a random ranker
    assert major_threshold(labels, [0.3] * len(labels)) == math.inf               # one constant risk
    separable = [0.9 if y else 0.1 for y in labels]
    assert major_threshold(labels, separable) == 0.9


def test_a_rare_precise_detector_gets_its_measured_precision_on_major_errors():
    from tqcheck.fusion.fit import RARE_PRIOR, rare_major_precision

    rows = []
    for i in range(60):
        major = ((10, 16),) if i % 2 == 0 or i < 5 else ()
        cands = [("fluency", {"confidence": 2.0 + (i % 3)}, 40, 50)]  # never on an error
        if i < 5:  # the rare detector fired five times, four of them on the major error
            cands.append(("homograph", {"confidence": 3.0}, 10, 16) if i != 1 else
                         ("homograph", {"confidence": 3.0}, 30, 36))
        rows.append(SpanRow("fr-en", f"g{i}", tuple(cands), major + ((30, 31),) * (i == 1), 60, major))
    fit = fit_span_thresholds(rows)
    assert "homograph" not in fit.models  # five candidates: too few for a span model
    base = 4 / (60 + 5)  # of all candidates, four landed on a major error
    assert fit.major_precision["homograph"] == pytest.approx((4 + RARE_PRIOR * base) / (5 + RARE_PRIOR), abs=1e-4)
    assert "fluency" not in fit.major_precision
    # luck on a handful of candidates is not evidence: 1 hit of 5 at a base rate of 30 %
    assert rare_major_precision([True, False, False, False, False], 0.3) is None
    assert rare_major_precision([], 0.3) is None
