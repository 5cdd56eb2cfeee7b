"""Fusion: risk from a calibration (model choice, fallbacks, recalibration), one finding per span,
severity from the measured precision, hints, the segment-level risk flag, the calibration file."""

from __future__ import annotations

import json
import math

import pytest

from tqcheck.errors import ConfigError
from tqcheck.fusion.calibration import Calibration, FlagModel, PairCalibration, RiskModel, finding_features
from tqcheck.fusion.fuse import MAJOR_FLOOR, SHOW_FLOOR, Fusion
from tqcheck.model import Category, Flag, Segment, Severity, Side, Span
from tqcheck.signals.base import EMPTY, SignalOutput

MT = "They hoped to reach it after twelve hours of market."
SEG = Segment(id="s", mt=MT, source="Ils espéraient l'atteindre après douze heures de marche.",
              source_lang="fr", target_lang="en")
MARKET = (MT.index("market"), MT.index("market") + len("market"))


def cand(check, span, confidence=1.0, category=Category.MISTRANSLATION, side=Side.MT, **evidence):
    return Flag(check, Severity.MINOR, category, f"{check} says so", Span(*span, side),
                {"kind": check, **evidence}, confidence=confidence)


def model(signals, features, coef, intercept=0.0):
    n = len(features)
    return RiskModel(tuple(sorted(signals)), tuple(features), (0.0,) * n, (1.0,) * n, tuple(coef), intercept)


def flag_model(error: dict, major: dict, intercept_error=-3.0, intercept_major=-5.0):
    """A flag model whose logits are the intercepts plus the given weights of 0/1 features."""
    names = tuple(sorted(set(error) | set(major)))
    n = len(names)
    return FlagModel(names, (0.0,) * n, (1.0,) * n, tuple(error.get(f, 0.0) for f in names), intercept_error,
                     tuple(major.get(f, 0.0) for f in names), intercept_major)


def calibration(**pairs):
    return Calibration("test", {k.replace("_", "-") if k != "pooled" else "*": v for k, v in pairs.items()})


def outputs(**kw):
    return {name: out for name, out in kw.items()}


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


# ----------------------------------------------------------------------------------------------------
# Risk


def test_without_calibration_risk_is_none_signals_are_hints_and_rules_keep_their_severity():
    fusion = Fusion(None)
    rule = Flag("numbers", Severity.MAJOR, Category.MISTRANSLATION, "12 vs 21", Span(0, 4))
    out = fusion.fuse(SEG, [rule], outputs(roundtrip=SignalOutput({"roundtrip.chrf": 40.0}, {"back_translation": "x"},
                                                                  [cand("roundtrip", MARKET, 3.0)])))
    assert out.risk is None
    assert [(f.check, f.severity, f.hint, f.p_error) for f in out.flags] == [
        ("numbers", Severity.MAJOR, False, None), ("roundtrip", Severity.MINOR, True, None)]
    assert out.scores["roundtrip.chrf"] == 40.0 and out.scores["rules.major"] == 1.0
    assert out.artifacts["back_translation"] == "x"
    assert fusion.calibration_id == "none"


def test_risk_uses_the_largest_model_whose_signals_all_ran_own_pair_first():
    cal = calibration(
        fr_en=PairCalibration((model([], ["rules.major"], [1.0], intercept=-2.0),
                               model(["fluency"], ["fluency.mean"], [1.0], intercept=-1.0))),
        pooled=PairCalibration((model(["fluency", "roundtrip"], ["fluency.mean", "roundtrip.chrf"], [1.0, -0.01]),
                                model([], ["rules.major"], [0.0], intercept=5.0))))
    fusion = Fusion(cal)
    flu = SignalOutput({"fluency.mean": 2.0})
    rt = SignalOutput({"roundtrip.chrf": 50.0})
    # fluency + roundtrip ran: only the pooled model has both
    assert fusion.fuse(SEG, [], outputs(fluency=flu, roundtrip=rt)).risk == pytest.approx(sigmoid(1.5), abs=1e-6)
    # only fluency ran: the fr-en fluency model (own pair wins over pooled at equal size)
    assert fusion.fuse(SEG, [], outputs(fluency=flu)).risk == pytest.approx(sigmoid(1.0), abs=1e-6)
    # nothing ran (rules only): the fr-en rules model, fed by the count of major rule flags
    rule = Flag("numbers", Severity.MAJOR, Category.MISTRANSLATION, "12 vs 21", Span(0, 4))
    assert fusion.fuse(SEG, [rule], {}).risk == pytest.approx(sigmoid(-1.0), abs=1e-6)
    # a pair never seen falls back to the pooled model
    de = Segment(id="d", mt="Hallo", source="Bonjour", source_lang="fr", target_lang="de")
    assert fusion.fuse(de, [], {}).risk == pytest.approx(sigmoid(5.0), abs=1e-6)
    # a round trip in target-only mode has other scores: the fluency model is used
    target_only = SignalOutput({"roundtrip.target_chrf": 50.0})
    assert fusion.fuse(SEG, [], outputs(fluency=flu, roundtrip=target_only)).risk == \
        pytest.approx(sigmoid(1.0), abs=1e-6)
    # an empty signal output does not count as having run
    assert fusion.fuse(SEG, [], outputs(fluency=EMPTY)).risk == pytest.approx(sigmoid(-2.0), abs=1e-6)


def test_target_only_segments_use_their_own_fit_and_never_a_bilingual_one():
    bilingual = PairCalibration((model(["fluency"], ["fluency.mean"], [1.0], intercept=3.0),))
    mono = PairCalibration((model(["fluency"], ["fluency.mean"], [1.0], intercept=-3.0),))
    flu = outputs(fluency=SignalOutput({"fluency.mean": 0.0}))
    no_source = Segment(id="t", mt=MT, source_lang="fr", target_lang="en")
    cal = Calibration("test", {"fr-en": bilingual, "*": bilingual, "fr-en/target-only": mono})
    assert Fusion(cal).fuse(SEG, [], flu).risk == pytest.approx(sigmoid(3.0), abs=1e-6)
    assert Fusion(cal).fuse(no_source, [], flu).risk == pytest.approx(sigmoid(-3.0), abs=1e-6)
    cal = Calibration("test", {"fr-en": bilingual, "*": bilingual, "*/target-only": mono})
    de = Segment(id="d", mt="Hallo", source_lang="fr", target_lang="de")
    assert Fusion(cal).fuse(de, [], flu).risk == pytest.approx(sigmoid(-3.0), abs=1e-6)
    assert Fusion(Calibration("test", {"fr-en": bilingual, "*": bilingual})).fuse(no_source, [], flu).risk is None


def test_a_risk_model_clips_to_its_fitting_range_and_applies_its_recalibration():
    clipped = RiskModel(("fluency",), ("fluency.log_tokens",), (3.0,), (1.0,), (2.0,), 0.0,
                        low=(1.5,), high=(4.5,))
    at_low = clipped.predict({"fluency.log_tokens": 1.5})
    assert clipped.predict({"fluency.log_tokens": 0.1}) == at_low  # a two-word line: as short as seen
    assert clipped.predict({"fluency.log_tokens": 9.0}) == clipped.predict({"fluency.log_tokens": 4.5})
    assert clipped.predict({"fluency.log_tokens": 2.0}) > at_low
    assert RiskModel.from_dict(clipped.to_dict()) == clipped
    platt = clipped.recalibrated(0.5, -1.0)
    raw = clipped.raw({"fluency.log_tokens": 4.0})
    assert platt.predict({"fluency.log_tokens": 4.0}) == pytest.approx(sigmoid(0.5 * raw - 1.0))
    assert RiskModel.from_dict(platt.to_dict()) == platt


# ----------------------------------------------------------------------------------------------------
# Findings: one per span


def test_overlapping_claims_of_any_kind_become_one_finding_with_every_source():
    number = Flag("numbers", Severity.MAJOR, Category.MISTRANSLATION, "12 became 21", Span(*MARKET))
    signals = outputs(roundtrip=SignalOutput({}, {}, [cand("roundtrip", MARKET, 2.0)]),
                      qe=SignalOutput({}, {}, [cand("qe", (MARKET[0] - 3, MARKET[1]), 0.7, Category.NON_FLUENT)]))
    [finding] = Fusion(None).findings(SEG, [number], signals)
    assert finding.span == Span(*MARKET)  # the rule check's own span: the signals support it
    assert finding.check == "numbers" and finding.evidence["rule_severity"] == "major"
    assert finding.evidence["sources"] == {"numbers": None, "roundtrip": 2.0, "qe": 0.7}
    assert finding.evidence["kinds"] == ["qe:qe", "roundtrip:roundtrip"]
    assert set(finding.evidence["also"]) == {"roundtrip", "qe"}


def test_signals_spanning_two_rule_findings_do_not_glue_them_together():
    mt = "The #migrants caravan leaves #huixtla #Mexico"
    seg = Segment(id="t", mt=mt, source="x", source_lang="fr", target_lang="en")
    first = Flag("urls_handles", Severity.MINOR, Category.MARKUP, "hashtag changed",
                 Span(mt.index("#migrants"), mt.index("#migrants") + 9))
    second = Flag("urls_handles", Severity.MINOR, Category.MARKUP, "hashtag repeated",
                  Span(mt.index("#Mexico"), len(mt)))
    whole = cand("qe", (0, len(mt)), 0.8)
    findings = Fusion(None).findings(seg, [first, second], outputs(qe=SignalOutput({}, {}, [whole])))
    assert [f.span.text_in(seg) for f in findings] == ["#migrants", "#Mexico"]
    assert all(f.evidence["sources"] == {"urls_handles": None, "qe": 0.8} for f in findings)
    alone = Fusion(None).findings(seg, [], outputs(qe=SignalOutput({}, {}, [whole])))
    assert [f.span.text_in(seg) for f in alone] == [mt]


def test_signal_spans_snap_to_whole_tokens_rule_spans_do_not():
    mt = "The caravan leaves #Mexico today, follow @ LaurentRaphael1"
    seg = Segment(id="h", mt=mt, source="x", source_lang="fr", target_lang="en")
    half = (mt.index("#Mexico"), mt.index("#Mexico") + 4)  # '#Mex'
    handle = (mt.index("@ "), len(mt))
    rule = Flag("urls_handles", Severity.MAJOR, Category.LOCALE_CONVENTION, "broken handle", Span(*handle))
    findings = Fusion(None).findings(seg, [rule], outputs(qe=SignalOutput({}, {}, [cand("qe", half, 0.8)])))
    assert [f.span.text_in(seg) for f in findings] == ["#Mexico", "@ LaurentRaphael1"]


def test_a_merged_signal_span_does_not_start_or_end_on_punctuation():
    mt = '"Mexico! Mexico! " Send them back in return.'
    seg = Segment(id="q", mt=mt, source="« Mexique ! Mexique ! », leur renvoient-ils en retour.",
                  source_lang="fr", target_lang="en")
    send = mt.index("Send")
    qe = cand("qe", (send - 4, len(mt)))  # a token tagger that also took '! " ' and the full stop
    fluency = cand("fluency", (send, send + 4))
    findings = Fusion(None).findings(seg, [], outputs(qe=SignalOutput({}, {}, [qe]),
                                                      fluency=SignalOutput({}, {}, [fluency])))
    assert [f.span.text_in(seg) for f in findings] == ["Send them back in return"]
    lone = Fusion(None).findings(seg, [], outputs(qe=SignalOutput({}, {}, [cand("qe", (0, 1))])))
    assert [f.span.text_in(seg) for f in lone] == ['"']  # punctuation alone stays


def test_a_round_trip_loss_the_lexicon_explains_needs_another_source():
    explained = cand("roundtrip", MARKET, 2.0, explained_by="forward_translation")
    alone = Fusion(None).findings(SEG, [], outputs(roundtrip=SignalOutput({}, {}, [explained])))
    assert alone == []
    agreed = Fusion(None).findings(SEG, [], outputs(roundtrip=SignalOutput({}, {}, [explained]),
                                                    qe=SignalOutput({}, {}, [cand("qe", MARKET, 0.9)])))
    assert len(agreed) == 1 and agreed[0].evidence["explained_by"] == "forward_translation"
    assert finding_features(agreed[0], SEG, None)["explained"] == 1.0


def test_source_side_findings_are_kept_apart_from_mt_findings():
    sig = SignalOutput({}, {}, [cand("roundtrip", (0, 6), 1.0, Category.OMISSION, Side.SOURCE),
                                cand("roundtrip", (2, 5), 2.0)])
    findings = Fusion(None).findings(SEG, [], outputs(roundtrip=sig))
    assert sorted(f.span.side.value for f in findings) == ["mt", "source"]


# ----------------------------------------------------------------------------------------------------
# Severity from the measurement


def test_severity_and_hints_follow_the_measured_precision():
    # p_error = sigmoid(-3 + w), p_major = sigmoid(-5 + w'): qe shown minor, roundtrip major, fluency a hint
    measured = flag_model({"check=qe": 3.5, "check=roundtrip": 6.0, "check=fluency": 1.0},
                          {"check=qe": 1.0, "check=roundtrip": 5.5, "check=fluency": 0.0})
    cal = calibration(fr_en=PairCalibration((), measured))
    outs = outputs(qe=SignalOutput({}, {}, [cand("qe", (0, 4), 0.8)]),
                   roundtrip=SignalOutput({}, {}, [cand("roundtrip", MARKET, 2.0)]),
                   fluency=SignalOutput({}, {}, [cand("fluency", (11, 16), 3.0)]))
    flags = {f.check: f for f in Fusion(cal).fuse(SEG, [], outs).flags}
    assert (flags["qe"].severity, flags["qe"].hint) == (Severity.MINOR, False)
    assert flags["qe"].p_error == pytest.approx(sigmoid(0.5), abs=1e-4) and flags["qe"].p_error >= SHOW_FLOOR
    assert (flags["roundtrip"].severity, flags["roundtrip"].hint) == (Severity.MAJOR, False)
    assert flags["roundtrip"].p_major == pytest.approx(sigmoid(0.5), abs=1e-4)
    assert flags["roundtrip"].p_major >= MAJOR_FLOOR
    assert flags["fluency"].hint and flags["fluency"].p_error < SHOW_FLOOR


def test_a_check_the_calibration_never_measured_is_a_hint_unless_a_rule_declared_it():
    measured = flag_model({"check=qe": 4.0}, {"check=qe": 0.0})
    cal = calibration(fr_en=PairCalibration((), measured))
    rule = Flag("tags", Severity.CRITICAL, Category.MARKUP, "tag lost", Span(0, 4))
    flags = Fusion(cal).fuse(SEG, [rule], outputs(newsignal=SignalOutput({}, {}, [cand("newsignal", MARKET, 9.0)])))
    assert [(f.check, f.severity, f.hint, f.p_error) for f in flags.flags] == [
        ("tags", Severity.CRITICAL, False, None), ("newsignal", Severity.MINOR, True, None)]


def test_a_rule_declared_critical_stays_critical_when_measured_major():
    measured = flag_model({"check=tags": 6.0}, {"check=tags": 6.0})
    rule = Flag("tags", Severity.CRITICAL, Category.MARKUP, "tag lost", Span(0, 4))
    [flag] = Fusion(calibration(fr_en=PairCalibration((), measured))).fuse(SEG, [rule], {}).flags
    assert flag.severity is Severity.CRITICAL and flag.p_major >= MAJOR_FLOOR


def test_the_lead_of_a_finding_is_its_most_precise_source():
    measured = flag_model({"check=qe": 0.0, "check=roundtrip": 5.0}, {})
    cal = calibration(fr_en=PairCalibration((), measured))
    rt = Flag("roundtrip", Severity.MINOR, Category.MISTRANSLATION, "“market” may be a misreading of “marche”",
              Span(*MARKET), {"kind": "near_homograph", "source_word": "marche"}, confidence=3.0)
    qe = Flag("qe", Severity.MINOR, Category.NON_FLUENT, "“market” may be wrong", Span(*MARKET),
              {"kind": "qe"}, confidence=0.95)
    [flag] = Fusion(cal).fuse(SEG, [], outputs(qe=SignalOutput({}, {}, [qe]),
                                               roundtrip=SignalOutput({}, {}, [rt]))).flags
    assert flag.check == "roundtrip" and flag.message.startswith("“market” may be a misreading")
    assert flag.category is Category.MISTRANSLATION and flag.evidence["source_word"] == "marche"
    assert flag.evidence["also"]["qe"]["message"] == "“market” may be wrong"
    assert flag.evidence["sources"] == {"qe": 0.95, "roundtrip": 3.0}


def test_a_signal_that_leads_is_followed_by_the_reason_a_rule_check_gives_for_the_same_characters():
    measured = flag_model({"check=qe": 3.0, "check=brackets_quotes": 0.0}, {})
    cal = calibration(fr_en=PairCalibration((), measured))
    mt = '"Go brothers, continue! Encourage them on their way.'
    seg = Segment(id="q", mt=mt, source="« Allez les frères, continuez ! »", source_lang="fr", target_lang="en")
    rule = Flag("brackets_quotes", Severity.MINOR, Category.PUNCTUATION, "unbalanced quotes: '\"' is never closed",
                Span(0, 1))
    qe = Flag("qe", Severity.MINOR, Category.MISTRANSLATION, "“\"” may be wrong: the learned quality model marks it",
              Span(0, 1), {"kind": "qe"}, confidence=0.6)
    [flag] = Fusion(cal).fuse(seg, [rule], outputs(qe=SignalOutput({}, {}, [qe]))).flags
    assert flag.check == "qe"
    assert flag.message == ("“\"” may be wrong: the learned quality model marks it; "
                            "unbalanced quotes: '\"' is never closed")
    assert flag.evidence["also"]["brackets_quotes"]["message"] == "unbalanced quotes: '\"' is never closed"
    # A rule check that leads keeps its own message: the signals' are in its evidence.
    rule_first = calibration(fr_en=PairCalibration(
        (), flag_model({"check=qe": 0.0, "check=brackets_quotes": 3.0}, {})))
    [flag] = Fusion(rule_first).fuse(seg, [rule], outputs(qe=SignalOutput({}, {}, [qe]))).flags
    assert flag.check == "brackets_quotes" and flag.message == "unbalanced quotes: '\"' is never closed"


def test_a_risky_segment_without_a_major_finding_gets_one_segment_level_flag():
    cal = calibration(fr_en=PairCalibration((model(["fluency"], ["fluency.mean"], [1.0]),),
                                            flag_model({"check=fluency": 0.0}, {})))
    outs = outputs(fluency=SignalOutput({"fluency.mean": 3.0}, {}, [cand("fluency", MARKET, 4.0)]))
    flags = Fusion(cal).fuse(SEG, [], outs).flags
    assert [(f.check, f.severity, f.hint) for f in flags] == [("fluency", Severity.MINOR, True),
                                                             ("risk", Severity.MAJOR, False)]
    risk_flag = flags[-1]
    assert risk_flag.span is None and risk_flag.p_major == pytest.approx(sigmoid(3.0), abs=1e-4)
    assert risk_flag.evidence["scores"] == {"fluency.mean": 3.0}
    calm = outputs(fluency=SignalOutput({"fluency.mean": -3.0}))
    assert Fusion(cal).fuse(SEG, [], calm).flags == ()


def test_a_line_of_one_or_two_words_gets_no_segment_risk_flag():
    cal = calibration(fr_en=PairCalibration((model(["fluency"], ["fluency.mean"], [1.0]),)))
    outs = outputs(fluency=SignalOutput({"fluency.mean": 3.0}))
    fusion = Fusion(cal)
    for mt in ("Mexico!", '"Mexico! Mexico!"', "RESULTS:"):
        short = fusion.fuse(Segment(id="m", mt=mt, source="Mexique !", source_lang="fr", target_lang="en"), [], outs)
        assert short.risk > MAJOR_FLOOR and short.flags == ()  # the risk is kept, the alarm is not raised
    three = Segment(id="t", mt="Send them back.", source="Renvoyez-les.", source_lang="fr", target_lang="en")
    assert [f.check for f in fusion.fuse(three, [], outs).flags] == ["risk"]
    cjk = Segment(id="z", mt="我们今天在市场上买了很多新鲜的水果和蔬菜。", source="x", source_lang="fr",
                  target_lang="zh")
    assert [f.check for f in Fusion(calibration(pooled=cal.pairs["fr-en"])).fuse(cjk, [], outs).flags] == ["risk"]


def test_a_flag_model_clips_counts_and_strengths_to_its_fitting_range():
    measured = FlagModel(("strength:fluency",), (3.0,), (1.0,), (1.0,), 0.0, (0.0,), -5.0, low=(2.0,), high=(6.0,))
    assert measured.predict({"strength:fluency": 40.0}) == measured.predict({"strength:fluency": 6.0})
    assert measured.predict({})[0] == pytest.approx(0.5)  # absent: at its mean, contributes nothing
    assert FlagModel.from_dict(measured.to_dict()) == measured


# ----------------------------------------------------------------------------------------------------
# The file


def test_load_shipped_and_file_and_errors(tmp_path):
    cal = calibration(fr_en=PairCalibration((model([], ["rules.major"], [1.0]),), flag_model({"check=qe": 1.0}, {})))
    path = tmp_path / "cal.json"
    cal.write(path)
    fusion = Fusion.load(str(path))
    assert fusion.calibration.pairs["fr-en"] == cal.pairs["fr-en"]
    assert fusion.calibration_id.startswith("test-undated-sha:")
    assert Fusion.load(None).calibration_id  # the shipped default loads (or 'none' if absent)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ConfigError, match="not a tqcheck calibration file"):
        Fusion.load(str(bad))
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"format": "tqcheck-calibration/1", "pairs": {}}))
    with pytest.raises(ConfigError, match="re-run 'tqcheck calibrate'"):
        Fusion.load(str(old))
    with pytest.raises(ConfigError, match="calibration file not found"):
        Fusion.load(str(tmp_path / "missing.json"))
