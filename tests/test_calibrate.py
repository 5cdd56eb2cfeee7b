"""Calibration: risk models with honest out-of-fold figures and recalibration, the pairwise order of
DEMETR-style pairs, the flag model's measured precision, grouped CV, decisions, the file round trip."""

from __future__ import annotations

import random

import pytest

from tqcheck.fusion.fit import (
    FindingRow,
    Labelled,
    PairRow,
    ReviewedSegment,
    Row,
    _groups_folds,
    calibrate_from_decisions,
    cross_validated_results,
    fit_calibration,
    fit_flag_model,
    fit_models,
    fit_risk,
    pair_accuracy,
)
from tqcheck.fusion.fuse import Evidence, Fusion
from tqcheck.fusion.labels import GoldSpan, LabelledData, LabelledPair, LabelledSegment
from tqcheck.model import Category, Flag, Segment, Severity, Span
from tqcheck.signals.base import SignalOutput

RULES = {"rules.minor": 0.0, "rules.major": 0.0, "rules.critical": 0.0}


def synthetic_rows(n=300, signal=True, seed=0):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = rng.random() < 0.3
        group = f"src{i // 3}"  # three MT systems per source sentence
        x = (2.0 if label else 0.0) + rng.gauss(0, 1) if signal else rng.gauss(0, 1)
        noise = rng.gauss(0, 1)
        rows.append(Row(f"r{i}", "fr-en", group, {"fluency.mean": x, "crosslingual.cosine": noise, **RULES},
                        frozenset({"fluency", "crosslingual"}), label, badness=x + rng.gauss(0, 0.5)))
    return rows


def test_models_for_every_signal_set_with_honest_cv_figures():
    models = {m.signals: m for m in fit_models(synthetic_rows())}
    assert set(models) == {(), ("fluency",), ("crosslingual",), ("crosslingual", "fluency")}
    assert models[("fluency",)].cv["roc_auc"] > 0.8
    assert models[("crosslingual",)].cv["roc_auc"] == pytest.approx(0.5, abs=0.1)
    assert models[("fluency",)].cv["kendall_tau"] > 0.3
    # no signal at all: cross-validated AUC stays near chance (nothing leaks from training folds)
    noise = {m.signals: m for m in fit_models(synthetic_rows(signal=False))}
    assert noise[("fluency",)].cv["roc_auc"] == pytest.approx(0.5, abs=0.1)


def test_recalibrated_risk_means_what_it_says():
    rows = synthetic_rows(900, seed=4)
    fluency = next(m for m in fit_models(rows) if m.signals == ("fluency",))
    high = [r for r in rows if fluency.predict(r.scores) >= 0.5]
    low = [r for r in rows if fluency.predict(r.scores) < 0.2]
    assert sum(r.label for r in high) / len(high) >= 0.5
    assert sum(r.label for r in low) / len(low) < 0.2
    base = sum(r.label for r in rows) / len(rows)
    assert sum(fluency.predict(r.scores) for r in rows) / len(rows) == pytest.approx(base, abs=0.05)


def test_fitted_models_record_the_range_of_their_inputs():
    rows = synthetic_rows()
    fluency = next(m for m in fit_models(rows) if m.signals == ("fluency",))
    values = sorted(r.scores["fluency.mean"] for r in rows)
    i = fluency.features.index("fluency.mean")
    assert values[0] < fluency.low[i] < fluency.high[i] < values[-1]
    assert fluency.predict({"fluency.mean": values[-1] + 100}) == fluency.predict({"fluency.mean": fluency.high[i]})


def test_pairs_teach_the_order_the_labels_alone_do_not(monkeypatch):
    # In the labelled rows a higher cosine goes (weakly, by accident) with errors; pairs whose
    # perturbed member has a lower cosine teach that a lower cosine is riskier.
    rng = random.Random(7)
    rows = [Row(r.id, r.lp, r.group, {**r.scores, "crosslingual.cosine": 0.5 + 0.1 * r.label + rng.gauss(0, 0.2)},
                r.signals, r.label) for r in synthetic_rows(300, seed=2)]
    pairs = []
    for i in range(150):
        clean = rng.gauss(0.5, 0.2)
        rows.append(Row(f"c{i}", "fr-en", f"item{i}", {"fluency.mean": 0.0, "crosslingual.cosine": clean, **RULES},
                        frozenset({"fluency", "crosslingual"}), None))
        rows.append(Row(f"p{i}", "fr-en", f"item{i}", {"fluency.mean": 0.0, "crosslingual.cosine": clean - 0.5,
                                                      **RULES}, frozenset({"fluency", "crosslingual"}), None))
        pairs.append(PairRow(f"c{i}", f"p{i}", "fr-en", f"item{i}"))
    signals = frozenset({"fluency", "crosslingual"})
    without = fit_risk(rows, [], signals)
    with_pairs = fit_risk(rows, pairs, signals, pair_weight=1.0)
    risk = {r.id: with_pairs.predict(r.scores) for r in rows}
    assert pair_accuracy(pairs, risk) > 0.95
    assert pair_accuracy(pairs, {r.id: without.predict(r.scores) for r in rows}) < 0.5
    monkeypatch.setattr("tqcheck.fusion.fit.PAIR_WEIGHT", 1.0)
    model = next(m for m in fit_models(rows, pairs) if m.signals == ("crosslingual", "fluency"))
    assert model.cv["pairs"] == 150 and model.cv["pair_accuracy"] > 0.9  # out of fold


def test_folds_never_split_a_source_sentence():
    rows = synthetic_rows(90)
    for train, test in _groups_folds([r.group for r in rows], 5):
        assert not ({rows[i].group for i in train} & {rows[i].group for i in test})


def test_the_flag_model_measures_each_check_and_shrinks_what_it_saw_rarely():
    rng = random.Random(11)
    rows = []
    for i in range(600):
        rows.append(FindingRow("fr-en", f"g{i // 2}", {"check=fluency": 1.0, "strength:fluency": rng.uniform(2, 6)},
                               error=rng.random() < 0.15, major=rng.random() < 0.05))
        on = rng.random() < 0.85
        rows.append(FindingRow("fr-en", f"g{i // 2}", {"check=numbers": 1.0}, error=on,
                               major=on and rng.random() < 0.6))
    for i in range(5):  # a rare detector, five for five
        rows.append(FindingRow("fr-en", f"rare{i}", {"check=homograph": 1.0}, error=True, major=True))
    model = fit_flag_model(rows)
    fluency = model.predict({"check=fluency": 1.0, "strength:fluency": 4.0})
    numbers = model.predict({"check=numbers": 1.0})
    rare = model.predict({"check=homograph": 1.0})
    assert fluency[0] == pytest.approx(0.15, abs=0.05) and numbers[0] == pytest.approx(0.85, abs=0.05)
    assert numbers[1] == pytest.approx(0.51, abs=0.08) and numbers[1] <= numbers[0]
    assert 0.5 < rare[0] < 0.95  # measured, but not taken at its five-for-five word
    assert model.cv["error_auc"] > 0.8 and model.cv["findings"] == len(rows)


def _labelled(n=160, seed=1) -> tuple[Labelled, LabelledData]:
    """Segments whose fluency candidate on 'walked' is on an error when the segment is bad."""
    rng = random.Random(seed)
    evidence, items = [], []
    mt = "They walked for twelve hours to the market town."
    for i in range(n):
        bad = rng.random() < 0.4
        seg = Segment(id=f"s{i}", mt=mt, source="Ils ont marché douze heures.", source_lang="fr", target_lang="en")
        x = (1.5 if bad else 0.0) + rng.gauss(0, 1)
        flags = [Flag("fluency", Severity.MINOR, Category.NON_FLUENT, "odd", Span(5, 11), {"kind": "spike"},
                      confidence=2.5 + x)]
        evidence.append(Evidence(seg, (), {"fluency": SignalOutput({"fluency.mean": x}, {}, flags)}))
        spans = (GoldSpan(5, 11, "major" if bad else "minor", "Accuracy/Mistranslation"),) if bad or x > 1 else ()
        items.append(LabelledSegment(seg, f"g{i // 2}", spans, bad))
    data = LabelledData(items)
    return Labelled.of(evidence, data), data


def test_labelled_calibration_measures_flags_and_round_trips_through_a_file(tmp_path):
    labelled, _ = _labelled()
    cal = fit_calibration(labelled, name="unit")
    assert cal.pairs["fr-en"].flag_model is not None and cal.pairs["fr-en"].flag_model.cv["findings"] == 160
    path = tmp_path / "c.json"
    cal.write(path)
    fusion = Fusion.load(str(path))
    assert fusion.calibration_id.startswith("unit-")
    ev = labelled.evidence[0]
    result = fusion.fuse(ev.segment, ev.rule_flags, ev.outputs)
    assert 0 <= result.risk <= 1
    assert all(f.p_error is not None and 0 <= f.p_major <= f.p_error <= 1 for f in result.flags)


def test_target_only_segments_get_their_own_keys_and_pooled_fit():
    labelled, data = _labelled(120)
    mono = [Evidence(Segment(e.segment.id + "m", e.segment.mt, None, "fr", "en"), e.rule_flags, e.outputs)
            for e in labelled.evidence]
    items = [LabelledSegment(Segment(i.segment.id + "m", i.segment.mt, None, "fr", "en"), i.group, i.spans,
                             i.has_major) for i in data.segments]
    both = Labelled.of(labelled.evidence + mono, data, LabelledData(items))
    cal = fit_calibration(both, folds=None)
    assert {"fr-en", "*", "fr-en/target-only", "*/target-only"} <= set(cal.pairs)


def test_cross_validated_results_cover_every_segment_and_restrict_signals():
    labelled, _ = _labelled()
    results = cross_validated_results(labelled, folds=4)
    assert [r.segment.id for r in results] == [e.segment.id for e in labelled.evidence]
    assert all(r.risk is not None for r in results)
    rules_only = cross_validated_results(labelled, folds=4, signals=())
    assert all("fluency.mean" not in r.scores for r in rules_only)
    assert all(not any(f.check == "fluency" for f in r.flags) for r in rules_only)


def test_demetr_pairs_join_the_fit_through_their_labels():
    labelled, data = _labelled(120)
    rng = random.Random(3)
    pairs, evidence = [], []
    for i in range(40):
        clean = Segment(f"clean{i}", "A fine sentence.", "Une phrase.", "fr", "en")
        bad = Segment(f"pert{i}", "A fine sentence sentence.", "Une phrase.", "fr", "en")
        x = rng.gauss(0, 1)
        evidence += [Evidence(clean, (), {"fluency": SignalOutput({"fluency.mean": x})}),
                     Evidence(bad, (), {"fluency": SignalOutput({"fluency.mean": x + 1.0})})]
        pairs.append(LabelledPair(clean, bad, f"item{i}", "major", "repeat"))
    both = Labelled.of(labelled.evidence + evidence, data, LabelledData([], pairs))
    assert len(both.pair_rows()) == 40
    model = next(m for m in fit_calibration(both).pairs["fr-en"].models if m.signals == ("fluency",))
    assert model.cv["pairs"] == 40 and model.cv["pair_accuracy"] > 0.9


def test_da_rows_fit_a_pair_on_the_same_event_and_keep_the_pooled_flag_model():
    """MLQE-PE-shaped rows (raw DA, post-edit "bad" tags, no severity): a mean DA of 50 or less is the
    has-major event a pair's risk models are fit on; the tags grade nothing, so they train no flag model."""
    rng = random.Random(5)
    items, evidence = [], []
    for i in range(120):
        da = rng.uniform(10, 100)
        seg = Segment(f"d{i}", "Ein Satz.", "A sentence.", "en", "de")
        fluency = (100 - da) / 20 + rng.gauss(0, 1)
        evidence.append(Evidence(seg, (), {"fluency": SignalOutput({"fluency.mean": fluency}, flags=(
            Flag("fluency", Severity.MINOR, Category.NON_FLUENT, "odd", Span(0, 3)),))}))
        items.append(LabelledSegment(seg, f"g{i}", (GoldSpan(0, 3, "bad", "post-edited"),), None, -da / 100,
                                     "-da_z", {"-da_z": -da / 100, "-da": -da}))
    labelled = Labelled.of(evidence, LabelledData(items))
    assert labelled.labels["d0"] == (-items[0].grades["-da"] <= 50)
    assert sum(labelled.labels.values()) > 20 and not labelled.gold_spans
    cal = fit_calibration(labelled, folds=3)
    model = next(m for m in cal.pairs["en-de"].models if m.signals == ("fluency",))
    assert model.cv["roc_auc"] > 0.75 and cal.pairs["en-de"].flag_model is None


def test_calibrate_from_decisions_learns_what_reviewers_confirm():
    rng = random.Random(3)
    records = []
    for i in range(200):
        bad = rng.random() < 0.4
        x = (2.0 if bad else 0.0) + rng.gauss(0, 0.8)
        seg = Segment(f"{i}", "They walked to the market.", "Ils ont marché.", "fr", "en")
        flag = Flag("fluency", Severity.MINOR, Category.NON_FLUENT, "odd", Span(5, 11),
                    {"sources": {"fluency": 3.0 + x}}, confidence=3.0 + x)
        records.append(ReviewedSegment(f"{i}", "fr-en", f"s{i}", seg, {"fluency.mean": x, **RULES}, None,
                                       ((flag, "confirmed" if bad else "dismissed"),)))
    seg = Segment("u", "x y z", "a", "fr", "en")
    records.append(ReviewedSegment("undecided", "fr-en", "u", seg, {"fluency.mean": 9.0}, None,
                                   ((Flag("fluency", Severity.MINOR, Category.NON_FLUENT, "odd"), None),)))
    cal = calibrate_from_decisions(records)
    fluency_model = cal.select("fr-en", frozenset({"fluency"}))
    assert fluency_model.signals == ("fluency",) and fluency_model.cv["roc_auc"] > 0.8
    assert fluency_model.cv["n"] == 200  # the undecided segment is not a label
    flags = cal.pairs["fr-en"].flag_model
    strong = flags.predict({"check=fluency": 1.0, "strength:fluency": 6.0, "sources": 1.0})[0]
    weak = flags.predict({"check=fluency": 1.0, "strength:fluency": 2.0, "sources": 1.0})[0]
    assert strong > 0.5 > weak


def test_extend_keeps_the_cascade_only_while_the_fits_it_reads_stay(tmp_path):
    """A target-only fit laid over a bilingual file keeps the file's cascade threshold; a fit that replaces
    a bilingual key drops it (the threshold read that key's risks) and says so."""
    from tqcheck.cli.calibrate import _extended
    from tqcheck.fusion.calibration import Calibration, CascadeRule, PairCalibration

    rule = CascadeRule(("qe",), {"*": 0.2}, {}, False)
    base = tmp_path / "base.json"
    Calibration("base", {"fr-en": PairCalibration(), "*": PairCalibration()}, cascade=rule).write(base)
    target_only = Calibration("t-o", {"fr-en/target-only": PairCalibration()})
    kept = _extended(str(base), target_only)
    assert kept.cascade == rule and set(kept.pairs) == {"fr-en", "*", "fr-en/target-only"}
    refit = _extended(str(base), Calibration("new", {"fr-en": PairCalibration()}))
    assert refit.cascade is None


def test_new_pairs_laid_over_a_file_keep_its_pooled_fits_and_its_cascade(tmp_path):
    """--pairs-only adds a new pair's own fit and keeps the file's pooled fallback; the cascade stays,
    and the new pair, with its own risks, is not held to the pooled threshold."""
    from tqcheck.cli.calibrate import _extended
    from tqcheck.fusion.calibration import Calibration, CascadeRule, PairCalibration, RiskModel

    rule = CascadeRule(("qe",), {"*": 0.2, "fr-en": 0.3}, {}, False)
    base_pooled = PairCalibration((RiskModel(("qe",), ("qe.score",), (0.0,), (1.0,), (1.0,), 0.0),))
    base = tmp_path / "base.json"
    Calibration("base", {"fr-en": PairCalibration(), "*": base_pooled}, cascade=rule).write(base)
    fit = Calibration("de", {"de-en": PairCalibration(), "*": PairCalibration()})
    merged = _extended(str(base), fit, pairs_only=True)
    assert set(merged.pairs) == {"fr-en", "*", "de-en"} and merged.pairs["*"] == base_pooled
    assert merged.cascade == rule
    assert merged.provenance["extends"]["kept_keys"] == ["*", "fr-en"]
    assert rule.threshold("de-en", own_fit=True) is None and rule.threshold("es-en") == 0.2
    assert rule.threshold("fr-en", own_fit=True) == 0.3
    # Without --pairs-only the pooled fit is replaced, and the cascade that read it goes.
    assert _extended(str(base), fit).cascade is None


def test_pairs_only_needs_a_file_to_extend(tmp_path, capsys):
    from tqcheck.cli import main

    data = tmp_path / "d.jsonl"
    data.write_text("")
    with pytest.raises(SystemExit) as exit_:
        main(["calibrate", str(data), "--pairs-only", "-o", str(tmp_path / "c.json")])
    assert exit_.value.code == 2 and "add --extend FILE" in capsys.readouterr().err
