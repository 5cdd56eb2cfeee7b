"""The cascade's routing (tqcheck.cascade, Pipeline.run): cheap signals on every segment, the expensive ones
only where the cheap risk reaches the calibration's threshold, everything with --thorough; on fake
signals that record which segments they were given."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import pytest

from tqcheck.cascade import SKIPPED, active_rule, cheap_risk, needs_expensive_stage, stages
from tqcheck.cli.options import config_from_options
from tqcheck.config import CheckConfig
from tqcheck.errors import ConfigError, UsageError
from tqcheck.fusion.calibration import Calibration, CascadeRule, PairCalibration, RiskModel, load_calibration
from tqcheck.fusion.fuse import Evidence, Fusion
from tqcheck.model import Segment
from tqcheck.pipeline import Pipeline
from tqcheck.signals.base import EMPTY, SignalOutput

#: The QE score of each MT: the cheap model's risk is sigmoid(score).
QE = {"fine": -3.0, "doubtful": 3.0, "borderline": 0.0}


class FakeSignal:
    """A signal that gives each segment the scores ``score(segment)`` and records what it was given."""

    def __init__(self, name: str, score=None) -> None:
        self.name = name
        self.score = score or (lambda segment: {f"{name}.value": 1.0})
        self.seen: list[str] = []

    @property
    def engines(self):
        return ()

    def applies(self, segment: Segment) -> bool:
        return True

    def compute(self, segments: Sequence[Segment]) -> list[SignalOutput]:
        self.seen += [s.id for s in segments]
        out = []
        for segment in segments:
            scores = self.score(segment)
            out.append(SignalOutput(scores, {f"{self.name}_text": "x"}) if scores else EMPTY)
        return out


def model(signals, features, coef):
    n = len(features)
    return RiskModel(tuple(sorted(signals)), tuple(features), (0.0,) * n, (1.0,) * n, tuple(coef), 0.0)


def calibration(thresholds=None, default=True) -> Calibration:
    """Risk = sigmoid(qe.score) on QE alone; with fluency too, sigmoid(qe.score + fluency.value)."""
    models = (model([], ["rules.major"], [1.0]), model(["qe"], ["qe.score"], [1.0]),
              model(["qe", "fluency", "roundtrip"], ["qe.score", "fluency.value"], [1.0, 1.0]))
    pairs = {"*": PairCalibration(models), "*/target-only": PairCalibration(models)}
    rule = CascadeRule(("qe",), thresholds, default=default) if thresholds is not None else None
    return Calibration("test", pairs, cascade=rule)


def signals(qe_score=lambda s: {"qe.score": QE[s.mt]}):
    return {"qe": FakeSignal("qe", qe_score), "fluency": FakeSignal("fluency"),
            "roundtrip": FakeSignal("roundtrip"), "reference": FakeSignal("reference")}


def pipeline(sigs, cal, **config):
    return Pipeline(CheckConfig(**config), checks=[], signals=list(sigs.values()), fusion=Fusion(cal))


def seg(sid: str, mt: str, source: str | None = "une phrase") -> Segment:
    return Segment(id=sid, mt=mt, source=source, source_lang="fr", target_lang="en")


SEGMENTS = [seg("low", "fine"), seg("high", "doubtful"), seg("edge", "borderline")]


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# ----------------------------------------------------------------------------------------------------
# The routing decision


@pytest.mark.parametrize(("risk", "threshold", "expensive"), [
    (0.10, 0.5, False),   # below: skip
    (0.50, 0.5, True),    # at the threshold: every stage
    (0.90, 0.5, True),    # above
    (None, 0.5, True),    # no cheap risk (a cheap signal did not run): every stage
    (0.10, None, True),   # no threshold for this key: every stage
    (0.00, 0.0, True),    # threshold 0 is thorough
])
def test_needs_expensive_stage(risk, threshold, expensive):
    assert needs_expensive_stage(risk, threshold) is expensive


def test_stages_keep_the_order_and_count_reference_metrics_as_cheap():
    sigs = signals()
    cheap, expensive = stages(sigs.values(), ("qe",))
    assert [s.name for s in cheap] == ["qe", "reference"]
    assert [s.name for s in expensive] == ["fluency", "roundtrip"]


def test_cheap_risk_is_the_risk_of_the_model_of_exactly_the_cheap_signals():
    fusion = Fusion(calibration({"*": 0.5}))
    qe = SignalOutput({"qe.score": 1.0})
    assert cheap_risk(fusion, Evidence(SEGMENTS[0], (), {"qe": qe}), frozenset({"qe"})) == pytest.approx(sigmoid(1))
    # QE gave nothing: the rules-only model is not what the threshold was fit on.
    assert cheap_risk(fusion, Evidence(SEGMENTS[0], (), {"qe": EMPTY}), frozenset({"qe"})) is None


# ----------------------------------------------------------------------------------------------------
# The pipeline


def test_a_low_cheap_risk_skips_the_expensive_signals_and_says_so():
    sigs = signals()
    [low, high, edge] = pipeline(sigs, calibration({"*": 0.5})).check(SEGMENTS)
    assert sigs["qe"].seen == sigs["reference"].seen == ["low", "high", "edge"]
    assert sigs["fluency"].seen == sigs["roundtrip"].seen == ["high", "edge"]  # one call, the routed ones
    assert low.artifacts[SKIPPED] == "fluency, roundtrip"
    assert low.artifacts["cascade.cheap_risk"] == f"{sigmoid(-3):.4f} < 0.5000"
    assert "fluency.value" not in low.scores and low.risk == pytest.approx(sigmoid(-3), abs=1e-6)
    # A high cheap risk and one exactly at the threshold go through every stage, with the full model.
    for result, score in ((high, 3.0), (edge, 0.0)):
        assert SKIPPED not in result.artifacts and result.scores["fluency.value"] == 1.0
        assert result.risk == pytest.approx(sigmoid(score + 1.0), abs=1e-6)


def test_thorough_runs_every_signal_on_every_segment():
    sigs = signals()
    results = pipeline(sigs, calibration({"*": 0.5}), thorough=True).check(SEGMENTS)
    assert sigs["fluency"].seen == sigs["roundtrip"].seen == ["low", "high", "edge"]
    assert not any(SKIPPED in r.artifacts for r in results)


def test_without_a_threshold_or_a_cascade_nothing_is_skipped():
    for cal in (calibration(None), calibration({"en-fr": 0.5}), Calibration("empty", {})):
        sigs = signals()
        results = pipeline(sigs, cal).check(SEGMENTS)
        assert sigs["fluency"].seen == ["low", "high", "edge"]
        assert not any(SKIPPED in r.artifacts for r in results)


def test_a_rule_not_on_by_default_cascades_only_when_asked():
    sigs = signals()
    cal = calibration({"*": 0.5}, default=False)
    pipeline(sigs, cal).check(SEGMENTS)
    assert sigs["fluency"].seen == ["low", "high", "edge"]
    sigs = signals()
    [low, *_] = pipeline(sigs, cal, cascade=True).check(SEGMENTS)
    assert sigs["fluency"].seen == ["high", "edge"] and SKIPPED in low.artifacts


@pytest.mark.parametrize(("default", "thorough", "cascade", "active"), [
    (True, False, False, True), (True, True, False, False), (False, False, False, False),
    (False, False, True, True),
])
def test_active_rule(default, thorough, cascade, active):
    rule = CascadeRule(("qe",), {"*": 0.1}, default=default)
    assert (active_rule(rule, thorough=thorough, cascade=cascade) is rule) is active
    assert active_rule(None, cascade=True) is None


def test_evidence_for_fitting_always_has_every_signal():
    sigs = signals()
    evidence = list(pipeline(sigs, calibration({"*": 0.5})).evidence(SEGMENTS))
    assert all("fluency" in e.outputs and "cascade" not in e.outputs for e in evidence)


def test_a_segment_whose_cheap_signal_gave_nothing_runs_every_stage():
    sigs = signals(qe_score=lambda s: {} if s.id == "low" else {"qe.score": QE[s.mt]})
    [low, *_] = pipeline(sigs, calibration({"*": 0.5})).check(SEGMENTS)
    assert sigs["fluency"].seen == ["low", "high", "edge"] and SKIPPED not in low.artifacts


def test_target_only_segments_route_on_the_target_only_threshold():
    segments = [seg("low", "fine", None), seg("high", "doubtful", None), seg("bi", "fine")]
    sigs = signals()
    [low, high, bi] = pipeline(sigs, calibration({"*/target-only": 0.5})).check(segments)
    assert sigs["fluency"].seen == ["high", "bi"]  # the bilingual key has no threshold here
    assert low.artifacts[SKIPPED] == "fluency, roundtrip" and SKIPPED not in high.artifacts
    assert SKIPPED not in bi.artifacts


def test_a_batch_where_every_segment_skips_never_calls_the_expensive_signals():
    sigs = signals()
    pipeline(sigs, calibration({"*": 0.99})).check(SEGMENTS)
    assert sigs["fluency"].seen == [] and sigs["qe"].seen == ["low", "high", "edge"]


# ----------------------------------------------------------------------------------------------------
# Where the setting lives


def test_the_cascade_rule_round_trips_through_the_calibration_file(tmp_path):
    cal = calibration({"*": 0.25, "fr-en": 0.2}).with_cascade(
        CascadeRule(("qe",), {"*": 0.25, "fr-en": 0.2}, {"share_expensive": 0.4}, default=True))
    path = tmp_path / "cal.json"
    cal.write(path)
    assert json.loads(path.read_text())["cascade"]["thresholds"] == {"*": 0.25, "fr-en": 0.2}
    loaded, _ = load_calibration(path)
    assert loaded is not None and loaded.cascade is not None
    assert loaded.cascade.cheap_signals == ("qe",) and loaded.cascade.measured["share_expensive"] == 0.4
    assert loaded.cascade.threshold("fr-en") == 0.2 and loaded.cascade.threshold("de-en") == 0.25
    assert loaded.cascade.threshold("fr-en/target-only") is None and loaded.cascade.default is True
    # A calibration without one (every file before the cascade) loads with none.
    data = json.loads(path.read_text())
    del data["cascade"]
    assert Calibration.from_dict(data).cascade is None


def test_thorough_from_the_command_line_and_the_config_file(tmp_path):
    assert config_from_options(thorough=True).thorough is True
    assert config_from_options().thorough is False
    toml = tmp_path / "tqcheck.toml"
    toml.write_text("[run]\nthorough = true\n")
    assert CheckConfig.from_toml(toml).thorough is True
    # Off, it leaves the settings hash as it was before the option existed (evidence files record it).
    assert "thorough" not in CheckConfig().to_dict() and "cascade" not in CheckConfig().to_dict()
    assert CheckConfig(thorough=True).hash() != CheckConfig().hash() != CheckConfig(cascade=True).hash()
    # The command line wins over the file; both at once is a contradiction.
    toml.write_text("[run]\ncascade = true\n")
    assert CheckConfig.from_toml(toml).cascade is True
    assert config_from_options(config=str(toml), thorough=True).cascade is False
    with pytest.raises(UsageError, match="contradict"):
        config_from_options(thorough=True, cascade=True)
    toml.write_text("[run]\ncascade = true\nthorough = true\n")
    with pytest.raises(ConfigError, match="thorough and cascade"):
        CheckConfig.from_toml(toml)


def test_the_shipped_cascade_is_one_the_pipeline_can_follow():
    cal, _ = load_calibration(None)
    assert cal is not None and cal.cascade is not None
    rule = cal.cascade
    assert set(rule.cheap_signals) <= {"roundtrip", "pseudo_reference", "fluency", "crosslingual", "qe"}
    # The cheap risk comes from a model of exactly the cheap signals: the pooled fit has one.
    assert any(set(m.signals) == set(rule.cheap_signals) for m in cal.pairs["*"].models)
    # fr-en has its own fit: the pipeline asks for its own threshold (a pooled one would not hold for it).
    assert rule.threshold("fr-en", own_fit="fr-en" in cal.pairs) is not None
    assert rule.threshold("fr-en/target-only", own_fit=True) is None
    assert rule.measured["command"].startswith(".venv/bin/python benchmarks/cascade_quality.py")


def test_progress_moves_inside_a_batch_and_adds_up_to_each_batch():
    # Two batches (2 + 1 segments): the bar moves as each signal finishes, not only at a batch's end,
    # and what it is told adds up to the segments of each batch before that batch's results come out.
    sigs = signals()
    told: list[tuple[int, int]] = []  # (segments' worth reported, signals that have run so far)
    progress = lambda n: told.append((n, sum(len(s.seen) > 0 for s in sigs.values())))  # noqa: E731
    stream = pipeline(sigs, calibration({"*": 0.5}), batch_size=2).run(SEGMENTS, progress=progress)
    first = [next(stream), next(stream)]
    assert sum(n for n, _ in told) == 2 and len(told) == 2  # 2 segments over 5 steps: reported twice
    assert told[0][1] < 4  # the first report came before every signal had run
    rest = list(stream)
    assert [r.segment.id for r in first + rest] == ["low", "high", "edge"]
    assert sum(n for n, _ in told) == 3 and all(n > 0 for n, _ in told)
