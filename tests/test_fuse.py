"""Fusion: risk from a calibration (model choice, fallbacks), span severities, merging of flags."""

from __future__ import annotations

import json
import math

import pytest

from tqcheck.errors import ConfigError
from tqcheck.fusion.calibration import Calibration, PairCalibration, RiskModel
from tqcheck.fusion.fuse import Fusion
from tqcheck.model import Category, Flag, Segment, Severity, Side, Span
from tqcheck.signals.base import EMPTY, SignalOutput

MT = "They hoped to reach it after twelve hours of market."
SEG = Segment(id="s", mt=MT, source="Ils espéraient l'atteindre après douze heures de marche.",
              source_lang="fr", target_lang="en")
MARKET = (MT.index("market"), MT.index("market") + len("market"))


def cand(check, span, confidence=1.0, category=Category.MISTRANSLATION, side=Side.MT):
    return Flag(check, Severity.MINOR, category, f"{check} says so", Span(*span, side),
                {"kind": check}, confidence=confidence)


def model(signals, features, coef, intercept=0.0, threshold=0.5):
    n = len(features)
    return RiskModel(tuple(sorted(signals)), tuple(features), (0.0,) * n, (1.0,) * n, tuple(coef),
                     intercept, threshold)


def calibration(**pairs):
    return Calibration("test", {k.replace("_", "-") if k != "pooled" else "*": v for k, v in pairs.items()})


def outputs(**kw):
    return {name: out for name, out in kw.items()}


def test_without_calibration_risk_is_none_and_candidates_stay_minor():
    fusion = Fusion(None)
    out = fusion.fuse(SEG, [], outputs(roundtrip=SignalOutput({"roundtrip.chrf": 40.0}, {"back_translation": "x"},
                                                             [cand("roundtrip", MARKET, 3.0)])))
    assert out.risk is None
    assert [(f.check, f.severity) for f in out.flags] == [("roundtrip", Severity.MINOR)]
    assert out.scores["roundtrip.chrf"] == 40.0 and out.scores["rules.minor"] == 0.0
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
    r = fusion.fuse(SEG, [], outputs(fluency=flu, roundtrip=rt)).risk
    assert r == pytest.approx(1 / (1 + math.exp(-(2.0 - 0.5))), abs=1e-6)
    # only fluency ran: the fr-en fluency model (own pair wins over pooled at equal size)
    assert fusion.fuse(SEG, [], outputs(fluency=flu)).risk == pytest.approx(1 / (1 + math.exp(-1.0)), abs=1e-6)
    # nothing ran (rules only): the fr-en rules model, fed by the count of major rule flags
    rule = Flag("numbers", Severity.MAJOR, Category.MISTRANSLATION, "12 vs 21", Span(0, 4))
    assert fusion.fuse(SEG, [rule], {}).risk == pytest.approx(1 / (1 + math.exp(1.0)), abs=1e-6)
    # a pair never seen falls back to the pooled model
    de = Segment(id="d", mt="Hallo", source="Bonjour", source_lang="fr", target_lang="de")
    assert fusion.fuse(de, [], {}).risk == pytest.approx(1 / (1 + math.exp(-5.0)), abs=1e-6)
    # a round trip in target-only mode has other scores: the fluency model is used, not a model
    # that would read every round-trip feature as missing
    target_only = SignalOutput({"roundtrip.target_chrf": 50.0})
    assert fusion.fuse(SEG, [], outputs(fluency=flu, roundtrip=target_only)).risk == \
        pytest.approx(1 / (1 + math.exp(-1.0)), abs=1e-6)
    # an empty signal output does not count as having run
    assert fusion.fuse(SEG, [], outputs(fluency=EMPTY)).risk == pytest.approx(1 / (1 + math.exp(2.0)), abs=1e-6)


def test_target_only_segments_use_their_own_fit_and_never_a_bilingual_one():
    bilingual = PairCalibration((model(["fluency"], ["fluency.mean"], [1.0], intercept=3.0),))
    mono = PairCalibration((model(["fluency"], ["fluency.mean"], [1.0], intercept=-3.0),))
    flu = outputs(fluency=SignalOutput({"fluency.mean": 0.0}))
    no_source = Segment(id="t", mt=MT, source_lang="fr", target_lang="en")
    cal = Calibration("test", {"fr-en": bilingual, "*": bilingual, "fr-en/target-only": mono})
    assert Fusion(cal).fuse(SEG, [], flu).risk == pytest.approx(1 / (1 + math.exp(-3.0)), abs=1e-6)
    assert Fusion(cal).fuse(no_source, [], flu).risk == pytest.approx(1 / (1 + math.exp(3.0)), abs=1e-6)
    # another pair falls back on the pooled target-only fit
    cal = Calibration("test", {"fr-en": bilingual, "*": bilingual, "*/target-only": mono})
    de = Segment(id="d", mt="Hallo", source_lang="fr", target_lang="de")
    assert Fusion(cal).fuse(de, [], flu).risk == pytest.approx(1 / (1 + math.exp(3.0)), abs=1e-6)
    # a calibration without any target-only fit gives no risk to a target-only segment
    assert Fusion(Calibration("test", {"fr-en": bilingual, "*": bilingual})).fuse(no_source, [], flu).risk is None


def test_a_risk_model_does_not_extrapolate_beyond_the_range_it_was_fit_on():
    clipped = RiskModel(("fluency",), ("fluency.log_tokens",), (3.0,), (1.0,), (2.0,), 0.0, 0.5,
                        low=(1.5,), high=(4.5,))
    at_low = clipped.predict({"fluency.log_tokens": 1.5})
    assert clipped.predict({"fluency.log_tokens": 0.1}) == at_low  # a two-word line: as short as seen
    assert clipped.predict({"fluency.log_tokens": 9.0}) == clipped.predict({"fluency.log_tokens": 4.5})
    assert clipped.predict({"fluency.log_tokens": 2.0}) > at_low  # inside the range: unchanged
    assert RiskModel.from_dict(clipped.to_dict()) == clipped
    unbounded = RiskModel.from_dict({k: v for k, v in clipped.to_dict().items() if k not in ("low", "high")})
    assert unbounded.predict({"fluency.log_tokens": 0.1}) < at_low  # older files: no clipping


def test_agreeing_signals_on_a_high_risk_segment_make_a_major_flag():
    cal = calibration(fr_en=PairCalibration(
        (model(["roundtrip", "fluency"], ["fluency.mean"], [1.0], threshold=0.6),),
        span_precision={"roundtrip": 0.4, "fluency": 0.2}))
    fusion = Fusion(cal)
    outs = outputs(roundtrip=SignalOutput({"roundtrip.chrf": 30.0}, {}, [cand("roundtrip", MARKET, 3.0)]),
                   fluency=SignalOutput({"fluency.mean": 3.0}, {},
                                        [cand("fluency", (MARKET[0] - 3, MARKET[1]), 4.0,
                                              Category.NON_FLUENT)]))
    result = fusion.fuse(SEG, [], outs)
    assert result.risk > 0.6
    assert len(result.flags) == 1
    flag = result.flags[0]
    assert flag.severity is Severity.MAJOR
    assert flag.check == "roundtrip"                     # the more precise signal leads
    assert flag.span == Span(MARKET[0] - 3, MARKET[1])   # the union of the agreeing spans
    assert flag.evidence["signals"] == ["fluency", "roundtrip"] and flag.evidence["support"] == 2
    assert "fluency" in flag.evidence["also"]
    # the same evidence at low risk stays minor
    low = Fusion(calibration(fr_en=PairCalibration(
        (model(["roundtrip", "fluency"], ["fluency.mean"], [1.0], intercept=-10.0, threshold=0.6),))))
    assert [f.severity for f in low.fuse(SEG, [], outs).flags] == [Severity.MINOR]


def test_a_lone_span_at_high_risk_is_minor_but_the_segment_gets_a_risk_flag():
    cal = calibration(fr_en=PairCalibration(
        (model(["roundtrip", "fluency"], ["fluency.mean"], [1.0], threshold=0.6),)))
    outs = outputs(roundtrip=SignalOutput({"roundtrip.chrf": 30.0}, {}, [cand("roundtrip", (0, 4))]),
                   fluency=SignalOutput({"fluency.mean": 3.0}, {}, [cand("fluency", MARKET, 4.0)]))
    flags = Fusion(cal).fuse(SEG, [], outs).flags
    assert [(f.check, f.severity) for f in flags] == [("roundtrip", Severity.MINOR), ("fluency", Severity.MINOR),
                                                     ("risk", Severity.MAJOR)]
    assert flags[-1].span is None and flags[-1].evidence["scores"] == {"fluency.mean": 3.0}


def test_a_line_of_one_or_two_words_gets_no_segment_risk_flag():
    cal = calibration(fr_en=PairCalibration((model(["fluency"], ["fluency.mean"], [1.0], threshold=0.6),)))
    outs = outputs(fluency=SignalOutput({"fluency.mean": 3.0}))
    fusion = Fusion(cal)
    for mt in ("Mexico!", '"Mexico! Mexico!"', "RESULTS:"):
        short = fusion.fuse(Segment(id="m", mt=mt, source="Mexique !", source_lang="fr", target_lang="en"), [], outs)
        assert short.risk > 0.6 and short.flags == ()  # the risk is kept, the alarm is not raised
    three = Segment(id="t", mt="Send them back.", source="Renvoyez-les.", source_lang="fr", target_lang="en")
    assert [f.check for f in fusion.fuse(three, [], outs).flags] == ["risk"]
    cjk = Segment(id="z", mt="我们今天在市场上买了很多新鲜的水果和蔬菜。", source="x", source_lang="fr", target_lang="zh")
    assert [f.check for f in Fusion(calibration(pooled=cal.pairs["fr-en"])).fuse(cjk, [], outs).flags] == ["risk"]


def test_with_a_span_model_a_likely_span_on_a_risky_segment_is_major():
    from tqcheck.fusion.calibration import SpanModel

    # P(on an error) = sigmoid(confidence - 4): 0.18 at strength 2.5, 0.88 at strength 6
    span_model = SpanModel(("confidence",), (0.0,), (1.0,), (1.0,), -4.0)
    pair = PairCalibration((model(["fluency"], ["fluency.mean"], [1.0], threshold=0.6),),
                           span_thresholds={"fluency": 0.1}, span_models={"fluency": span_model},
                           major_span_thresholds={"fluency": 0.5})
    outs = outputs(fluency=SignalOutput({"fluency.mean": 3.0}, {},
                                        [cand("fluency", (0, 4), 2.5), cand("fluency", MARKET, 6.0)]))
    flags = Fusion(calibration(fr_en=pair)).fuse(SEG, [], outs).flags
    assert [(MT[f.span.start:f.span.end], f.severity) for f in flags] == [("They", Severity.MINOR),
                                                                          ("market", Severity.MAJOR)]
    # the same spans on a low-risk segment stay minor, and get no segment-level risk flag
    calm = outputs(fluency=SignalOutput({"fluency.mean": -3.0}, {}, outs["fluency"].flags))
    assert [f.severity for f in Fusion(calibration(fr_en=pair)).fuse(SEG, [], calm).flags] == [Severity.MINOR] * 2


def test_span_thresholds_filter_candidates():
    cal = calibration(fr_en=PairCalibration((), span_thresholds={"fluency": 3.0, "roundtrip": math.inf}))
    outs = outputs(fluency=SignalOutput({"fluency.mean": 1.0}, {},
                                        [cand("fluency", (0, 4), 2.5), cand("fluency", MARKET, 6.0)]),
                   roundtrip=SignalOutput({"roundtrip.chrf": 1.0}, {}, [cand("roundtrip", (5, 10), 3.0)]))
    flags = Fusion(cal).fuse(SEG, [], outs).flags
    assert [MT[f.span.start:f.span.end] for f in flags] == ["market"]


def test_rule_flags_pass_through_deduplicated_and_absorb_signal_flags_of_their_category():
    a = Flag("numbers", Severity.MAJOR, Category.MISTRANSLATION, "number changed", Span(0, 10))
    b = Flag("entities", Severity.MINOR, Category.MISTRANSLATION, "entity", Span(5, 12))
    c = Flag("punctuation", Severity.MINOR, Category.PUNCTUATION, "space", Span(5, 6))
    sig = SignalOutput({"roundtrip.chrf": 1.0}, {}, [cand("roundtrip", (8, 11), 3.0)])
    flags = Fusion(None).fuse(SEG, [b, c, a], outputs(roundtrip=sig)).flags
    assert [(f.check, f.severity) for f in flags] == [("numbers", Severity.MAJOR), ("punctuation", Severity.MINOR)]
    assert flags[0].evidence["also_flagged_by"] == ["entities"]
    assert flags[0].evidence["supported_by"] == ["roundtrip"]


def test_source_side_spans_are_kept_apart_from_mt_spans():
    sig = SignalOutput({"roundtrip.chrf": 1.0}, {},
                       [cand("roundtrip", (0, 6), 1.0, Category.OMISSION, Side.SOURCE),
                        cand("roundtrip", (2, 5), 2.0)])
    flags = Fusion(None).fuse(SEG, [], outputs(roundtrip=sig)).flags
    assert sorted(f.span.side.value for f in flags) == ["mt", "source"]


def test_load_shipped_and_file_and_errors(tmp_path):
    cal = calibration(fr_en=PairCalibration((model([], ["rules.major"], [1.0]),), {"fluency": math.inf}))
    path = tmp_path / "cal.json"
    cal.write(path)
    fusion = Fusion.load(str(path))
    assert fusion.calibration.pairs["fr-en"].span_thresholds["fluency"] == math.inf
    assert fusion.calibration_id.startswith("test-undated-sha:")
    assert Fusion.load(None).calibration_id  # the shipped default loads (or 'none' if absent)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ConfigError, match="not a tqcheck calibration file"):
        Fusion.load(str(bad))
    with pytest.raises(ConfigError, match="calibration file not found"):
        Fusion.load(str(tmp_path / "missing.json"))


def test_span_models_score_candidates_and_their_probability_becomes_the_confidence():
    from tqcheck.fusion.calibration import SpanModel

    # P(on an error) = sigmoid(4 * [kind=near_homograph] - 2): 0.88 for a homograph, 0.12 otherwise
    model = SpanModel(("kind=near_homograph",), (0.0,), (1.0,), (4.0,), -2.0,
                      kinds=("near_homograph", "lost_and_replaced"))
    cal = calibration(fr_en=PairCalibration((), span_thresholds={"roundtrip": 0.5},
                                            span_models={"roundtrip": model}))
    homograph = Flag("roundtrip", Severity.MINOR, Category.MISTRANSLATION, "market reads marché",
                     Span(*MARKET), {"kind": "near_homograph"}, confidence=3.0)
    lost = Flag("roundtrip", Severity.MINOR, Category.MISTRANSLATION, "lost", Span(0, 4),
                {"kind": "lost_and_replaced"}, confidence=2.0)
    out = Fusion(cal).fuse(SEG, [], outputs(roundtrip=SignalOutput({"roundtrip.chrf": 50.0}, {}, [homograph, lost])))
    assert [f.span.text_in(SEG) for f in out.flags] == ["market"]
    assert out.flags[0].confidence == pytest.approx(1 / (1 + math.exp(-2.0)), abs=1e-4)
    assert out.flags[0].evidence["raw_strength"] == 3.0
    # a kind the model never saw (target-only round trip) is not shown: its precision is unmeasured
    unseen = Flag("roundtrip", Severity.MINOR, Category.MISTRANSLATION, "gone", Span(*MARKET),
                  {"kind": "lost_in_round_trip"}, confidence=1.0)
    assert Fusion(cal).fuse(SEG, [], outputs(roundtrip=SignalOutput({"roundtrip.target_chrf": 5.0}, {},
                                                                    [unseen]))).flags == ()
    # and the model survives the file
    again = Calibration.from_dict(json.loads(json.dumps(cal.to_dict())))
    assert again.pairs["fr-en"].span_models["roundtrip"] == model


def test_a_merged_signal_span_does_not_start_or_end_on_punctuation():
    mt = '"Mexico! Mexico! " Send them back in return.'
    seg = Segment(id="q", mt=mt, source="« Mexique ! Mexique ! », leur renvoient-ils en retour.",
                  source_lang="fr", target_lang="en")
    send = mt.index("Send")
    qe = cand("qe", (send - 4, len(mt)))  # a token tagger that also took '! " ' and the full stop
    fluency = cand("fluency", (send, send + 4))
    flags = Fusion(None).fuse(seg, [], outputs(qe=SignalOutput({}, {}, [qe]), fluency=SignalOutput({}, {}, [fluency]))).flags
    assert [mt[f.span.start:f.span.end] for f in flags] == ["Send them back in return"]
    lone = Fusion(None).fuse(seg, [], outputs(qe=SignalOutput({}, {}, [cand("qe", (0, 1))]))).flags
    assert [mt[f.span.start:f.span.end] for f in lone] == ['"']  # punctuation alone stays


def test_a_rare_detector_raises_the_risk_and_makes_only_its_own_flag_major():
    # The homograph test has no span model (too few candidates) but a measured 0.6 share on major
    # errors; the segment's own risk model says 0.27, under the 0.5 threshold.
    pair = PairCalibration((model(["fluency"], ["fluency.mean"], [1.0], threshold=0.5),),
                           span_thresholds={"fluency": 1.0, "homograph": 0.2},
                           span_precision={"fluency": 0.3, "homograph": 1.0},
                           rare_major_precision={"homograph": 0.6})
    fusion = Fusion(calibration(fr_en=pair))
    flu = SignalOutput({"fluency.mean": -1.0}, {}, [cand("fluency", (0, 4), 3.0)])
    fired = fusion.fuse(SEG, [], outputs(fluency=flu, homograph=SignalOutput({}, {}, [cand("homograph", MARKET, 6.8)])))
    assert fired.risk == 0.6
    assert [(MT[f.span.start:f.span.end], f.check, f.severity) for f in fired.flags] == [
        ("They", "fluency", Severity.MINOR), ("market", "homograph", Severity.MAJOR)]
    assert fired.flags[1].evidence["segment_risk"] == 0.6
    # a candidate under the detector's threshold is not kept and raises nothing
    weak = fusion.fuse(SEG, [], outputs(fluency=flu, homograph=SignalOutput({}, {}, [cand("homograph", MARKET, 0.1)])))
    assert weak.risk == pytest.approx(0.268941, abs=1e-6)
    assert all(f.severity is Severity.MINOR for f in weak.flags)
    # and the calibration file keeps the measure
    again = Calibration.from_dict(json.loads(json.dumps(calibration(fr_en=pair).to_dict())))
    assert again.pairs["fr-en"].rare_major_precision == {"homograph": 0.6}
