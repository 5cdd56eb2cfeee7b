"""The data model: ordering of severities, span checks, lossless serialisation."""

import json

import pytest

from tqcheck.model import (
    Category,
    EngineInfo,
    Flag,
    RunSignature,
    Segment,
    SegmentResult,
    Severity,
    Side,
    Span,
    Summary,
)


def test_severity_order_and_weights():
    assert Severity.MINOR < Severity.MAJOR < Severity.CRITICAL
    assert max([Severity.MAJOR, Severity.CRITICAL, Severity.MINOR]) is Severity.CRITICAL
    assert [s.weight for s in Severity] == [1, 5, 10]


@pytest.mark.parametrize("start,end", [(-1, 2), (5, 4)])
def test_bad_spans_are_refused(start, end):
    with pytest.raises(ValueError):
        Span(start, end)


def test_span_text_and_overlap():
    seg = Segment(id="1", source="douze heures de marche", mt="twelve hours of market")
    assert Span(16, 22).text_in(seg) == "market"
    assert Span(16, 22, Side.SOURCE).text_in(seg) == "marche"
    assert Span(0, 5).overlaps(Span(4, 9))
    assert not Span(0, 5).overlaps(Span(5, 9))
    assert not Span(0, 5).overlaps(Span(0, 5, Side.SOURCE))


def test_segment_result_round_trips_through_json():
    seg = Segment(id="s1", source="Bonjour", mt="Hello <script>", source_lang="fr", target_lang="en",
                  reference="Hello", doc_id="d", origin="feed.csv:2", metadata={"feed": "afp"})
    flag = Flag(check="spacing", severity=Severity.MINOR, category=Category.PUNCTUATION,
                message="space before ','", span=Span(5, 6), evidence={"context": "a ,"},
                confidence=0.5)
    result = SegmentResult(segment=seg, flags=(flag,), scores={"roundtrip.chrf": 41.5},
                           artifacts={"back_translation": "Bonjour"}, risk=0.25)
    again = SegmentResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result
    assert again.to_dict() == result.to_dict()
    assert again.worst_severity is Severity.MINOR and again.mqm_penalty == 1


def test_value_objects_are_frozen():
    seg = Segment(id="1", mt="x", metadata={"a": 1})
    with pytest.raises(AttributeError):
        seg.mt = "y"  # type: ignore[misc]
    with pytest.raises(TypeError):
        seg.metadata["a"] = 2  # type: ignore[index]


def test_signature_round_trip():
    sig = RunSignature(tqcheck_version="0.1.0", config_hash="abc",
                       engines=(EngineInfo("lm", "smollm2", "SmolLM2-135M", None, "0.1.2"),),
                       versions={"sacrebleu": "2.5"}, language_pairs=("fr-en",),
                       metric_signatures={"chrF": "nrefs:1|case:mixed"}, calibration="default")
    assert RunSignature.from_dict(json.loads(json.dumps(sig.to_dict()))) == sig


def test_summary_counts():
    seg = Segment(id="1", mt="x")
    f1 = Flag("a", Severity.MAJOR, Category.MISTRANSLATION, "m")
    f2 = Flag("b", Severity.MINOR, Category.PUNCTUATION, "m")
    summary = Summary.of([SegmentResult(seg, (f1, f2)), SegmentResult(seg, ())], skipped_records=3)
    assert summary.segments == 2 and summary.flagged == 1 and summary.skipped_records == 3
    assert summary.by_severity == {"major": 1, "minor": 1}
    assert summary.by_check == {"a": 1, "b": 1}
    assert Summary.from_dict(summary.to_dict()) == summary
