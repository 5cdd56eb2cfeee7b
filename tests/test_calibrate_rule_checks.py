"""The rule checks' own flag model (``tqcheck calibrate --rule-checks``): fit on rules-only evidence,
measured by kind of claim, read without risk, scores or pair, and used only where a pair's own and the
pooled fits saw a check too rarely. Labels here are made up by each test, on purpose."""

from __future__ import annotations

import json
import random

import pytest

from tqcheck.config import CheckConfig
from tqcheck.fusion.calibration import (
    Calibration,
    FlagModel,
    PairCalibration,
    RuleChecks,
    finding_features,
)
from tqcheck.fusion.fit import FindingRow, Labelled, fit_flag_model, fit_rule_checks
from tqcheck.fusion.fuse import Fusion, measure
from tqcheck.fusion.labels import GoldSpan, LabelledData, LabelledSegment
from tqcheck.model import Category, Flag, Segment, Severity, Span
from tqcheck.run import Checker


def _tweet(i: int) -> tuple[Segment, int, int, int, int]:
    """A French tweet and its MT with a broken handle and a translated hashtag, and where each lies."""
    name = f"Reporter{i}"
    mt = f"Thanks @ {name} for the photo number {i} #migrants"
    seg = Segment(id=f"t{i}", source=f"Merci @{name} pour la photo numéro {i} #migrantes", mt=mt,
                  source_lang="fr", target_lang="en")
    handle = mt.index("@")
    tag = mt.index("#migrants")
    return seg, handle, handle + 2 + len(name), tag, tag + len("#migrants")


def _labelled(n: int = 120, seed: int = 3) -> Labelled:
    """Raters who mark the broken handle four times in five and the translated hashtag once in ten."""
    rng = random.Random(seed)
    segments, items = [], []
    for i in range(n):
        seg, h0, h1, t0, t1 = _tweet(i)
        spans = []
        if rng.random() < 0.8:
            spans.append(GoldSpan(h0, h1, "minor", "Fluency/Punctuation"))
        if rng.random() < 0.1:
            spans.append(GoldSpan(t0, t1, "major", "Accuracy/Mistranslation"))
        segments.append(seg)
        items.append(LabelledSegment(seg, f"g{i}", tuple(spans), any(s.severity == "major" for s in spans)))
    evidence = Checker(CheckConfig().with_rules_only()).evidence(segments)
    return Labelled.of(list(evidence), LabelledData(items))


def test_rule_checks_are_measured_by_kind_of_claim_without_risk_scores_or_pair():
    fit = fit_rule_checks(_labelled(), folds=5, provenance={"data": "made up"})
    assert fit is not None and fit.provenance["data"] == "made up"
    model = fit.flag_model
    assert not any(f.startswith(("risk", "score:", "pair=")) for f in model.features)
    by = model.cv["by"]
    handle, tag = by["urls_handles:broken_handle"], by["urls_handles:hashtag_changed"]
    assert handle["findings"] == tag["findings"] == 120
    assert handle["on_error"] > 80 and tag["on_error"] < 25
    assert handle["p_error"] > 0.6 > 0.3 > tag["p_error"]  # out of fold, each kind apart


def _own_model(check: str, seen: int) -> FlagModel:
    rng = random.Random(5)
    rows = [FindingRow("fr-en", f"g{i}", {f"check={check}": 1.0}, error=rng.random() < 0.5, major=False)
            for i in range(seen)]
    rows += [FindingRow("fr-en", f"h{i}", {"check=fluency": 1.0, "strength:fluency": rng.uniform(2, 5)},
                        error=rng.random() < 0.2, major=rng.random() < 0.05) for i in range(200)]
    model = fit_flag_model(rows, folds=None)
    assert model is not None
    return model


def test_a_pairs_own_fit_measures_what_it_saw_often_the_rule_checks_model_the_rest():
    rules = fit_rule_checks(_labelled(), folds=None)
    assert rules is not None
    cal = Calibration("unit", {"fr-en": PairCalibration((), _own_model("numbers", 40))}, rule_checks=rules)
    models = cal.flag_models("fr-en")
    assert models[-1] is rules.flag_model and len(models) == 2
    seg, h0, h1, _, _ = _tweet(1)
    handle = Flag("urls_handles", Severity.MINOR, Category.PUNCTUATION, "broken handle", Span(h0, h1),
                  {"sources": {"urls_handles": None}, "kinds": ["urls_handles:broken_handle"],
                   "rule_severity": "minor"})
    measured = measure(handle, seg, 0.3, models)
    expected = rules.flag_model.predict(finding_features(handle, seg, 0.3))[0]
    assert measured.p_error == pytest.approx(expected, abs=1e-4) and measured.p_error > 0.5
    number = Flag("numbers", Severity.MAJOR, Category.MISTRANSLATION, "number changed", Span(0, 2),
                  {"sources": {"numbers": None}, "rule_severity": "major"})
    own = models[0].predict(finding_features(number, seg, 0.3))[0]
    assert measure(number, seg, 0.3, models).p_error == pytest.approx(own, abs=1e-4)


def test_the_rule_checks_model_survives_the_file_and_a_refit_laid_over_it(tmp_path):
    from tqcheck.cli.calibrate import _extended

    rules = fit_rule_checks(_labelled(), folds=None, provenance={"command": "unit"})
    assert rules is not None
    path = tmp_path / "c.json"
    Calibration("base", {"fr-en": PairCalibration()}, rule_checks=rules).write(path)
    again = Fusion.load(str(path)).calibration
    assert again is not None and again.rule_checks == rules
    assert again.rule_checks.provenance["command"] == "unit"
    refit = _extended(str(path), Calibration("new", {"fr-en": PairCalibration()}))
    assert refit.rule_checks == rules  # a pair refit on other data leaves the rule checks' model alone
    assert RuleChecks.from_dict(json.loads(path.read_text())["rule_checks"]) == rules


def test_calibrate_rule_checks_runs_no_engine_skips_human_translations_and_keeps_the_file(tmp_path, capsys):
    from tqcheck.cli import main

    rng = random.Random(7)
    lines = []
    for i in range(120):
        seg, h0, h1, t0, t1 = _tweet(i)
        spans = [{"start": h0, "end": h1, "severity": "minor", "category": "Fluency/Punctuation"}] \
            if rng.random() < 0.8 else []
        if rng.random() < 0.1:
            spans.append({"start": t0, "end": t1, "severity": "major", "category": "Accuracy/Mistranslation"})
        lines.append({"id": seg.id, "lp": "fr-en", "source": seg.source, "mt": seg.mt, "spans": spans,
                      "system": "mt"})
    lines.append({"id": "human", "lp": "fr-en", "source": "Merci.", "mt": "Thanks @ you", "spans": [],
                  "system": "ref", "human_translation": True})
    data = tmp_path / "news.jsonl"
    data.write_text("".join(json.dumps(line) + "\n" for line in lines))
    base = tmp_path / "base.json"
    Calibration("base", {"fr-en": PairCalibration()}).write(base)
    out = tmp_path / "out.json"
    main(["calibrate", str(data), "--rule-checks", "--extend", str(base), "-o", str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert "| urls_handles:broken_handle | 120 |" in printed
    written = json.loads(out.read_text())
    assert set(written["pairs"]) == {"fr-en"} and written["name"] == "base"
    provenance = written["rule_checks"]["provenance"]
    assert provenance["segments"] == 120 and provenance["machine_only"]  # the human translation left out
    assert provenance["run_signature"]["engines"] == []  # rules only: no engine ran
    with pytest.raises(SystemExit) as exit_:
        main(["calibrate", str(data), "--rule-checks", "--target-only", "-o", str(out)])
    assert exit_.value.code == 2


def test_eval_cross_validation_lays_the_rule_checks_model_over_every_fold(tmp_path, capsys):
    """The rule checks' model is fit on other data, so cross-validation on DATA keeps it in every fold,
    as the calibration that ships keeps it; a fold without it would measure the link check nowhere."""
    from tqcheck.cli import main
    from tqcheck.fusion.fit import cross_validated_results

    labelled = _labelled(30, seed=9)  # too few to fit a flag model in a fold
    rules = fit_rule_checks(_labelled(), folds=None)
    assert rules is not None
    with_rules = cross_validated_results(labelled, folds=2, rule_checks=rules)
    without = cross_validated_results(labelled, folds=2)
    handles = [f for r in with_rules for f in r.flags if f.check == "urls_handles"]
    assert handles and all(f.p_error is not None for f in handles)
    assert all(f.p_error is None for r in without for f in r.flags if f.check == "urls_handles")
    cal = tmp_path / "c.json"
    Calibration("base", {}, rule_checks=rules).write(cal)
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"id": s.segment.id, "lp": "fr-en", "source": s.segment.source,
                                        "mt": s.segment.mt, "spans": []}) + "\n" for s in _items(40)))
    main(["eval", str(data), "--cross-validate", "2", "--rules-only", "--calibration", str(cal), "-q",
          "--resamples", "0"])
    assert "the rule checks' model of base-" in capsys.readouterr().out


def _items(n: int) -> list[LabelledSegment]:
    return [LabelledSegment(_tweet(i)[0], f"g{i}", (), False) for i in range(n)]
