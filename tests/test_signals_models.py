"""Pseudo-reference, forced decoding, fluency, cross-lingual and reference signals on fake engines."""

from __future__ import annotations

import math

import pytest
from _signal_fakes import BagEmbedder, ScoringTable, TableLM, TableTranslator

from tqcheck.config import CheckConfig, EngineConfig
from tqcheck.engines.base import TokenScore
from tqcheck.model import Category, Segment
from tqcheck.signals import EMPTY, EngineSlot, build_signals
from tqcheck.signals.crosslingual import CrossLingualSignal
from tqcheck.signals.fluency import FluencySignal
from tqcheck.signals.forced import ForcedDecodingSignal
from tqcheck.signals.pseudo_reference import PseudoReferenceSignal
from tqcheck.signals.reference import CorpusMetrics, ReferenceSignal
from tqcheck.signals.surprisal import sentence_scores
from tqcheck.text.hunspell import find_dictionary

SOURCE = "Ils espéraient l'atteindre après douze heures de marche."
MT_BAD = "They hoped to reach it after twelve hours of market."
MT_GOOD = "They hoped to reach it after twelve hours of walking."


def seg(mt, source=SOURCE, **kw):
    return Segment(id=kw.pop("id", "s"), mt=mt, source=source, source_lang="fr", target_lang="en", **kw)


def test_pseudo_reference_marks_the_word_the_reference_model_wrote_differently():
    engine = TableTranslator({("fr", "en"): {SOURCE: "They hoped to reach it after twelve hours of walking."}})
    sig = PseudoReferenceSignal(EngineSlot.of(engine, role="translator"))
    bad, good = sig.compute([seg(MT_BAD), seg(MT_GOOD)])
    assert [f.span.text_in(seg(MT_BAD)) for f in bad.flags] == ["market"]
    assert bad.flags[0].evidence["reference_wording"] == "walking"
    assert "walking" in bad.flags[0].message
    assert bad.artifacts["pseudo_reference"].endswith("walking.")
    assert good.flags == () and good.scores["pseudo_reference.chrf"] == pytest.approx(100.0)
    assert bad.scores["pseudo_reference.chrf"] < 100.0
    assert bad.scores["pseudo_reference.unmatched"] > good.scores["pseudo_reference.unmatched"] == 0.0


def test_pseudo_reference_ignores_reordering_and_inflection():
    engine = TableTranslator({("fr", "en"): {SOURCE: "After twelve hours of walking they hoped to reach it."}})
    out = PseudoReferenceSignal(EngineSlot.of(engine, role="translator")).compute([seg(MT_GOOD)])[0]
    assert out.flags == ()


@pytest.mark.skipif(find_dictionary("en_US") is None, reason="hunspell-en-us is not installed (scripts/setup.sh)")
def test_pseudo_reference_does_not_quote_words_the_reference_model_could_not_translate():
    # Apertium's French->Catalan->English route leaves the Catalan "reexpedeixen" for "renvoient":
    # the message says the reference model could not translate the part, not that it proposes that.
    source = "« Mexique ! Mexique ! », leur renvoient-ils en retour."
    mt = "\"Mexico! Mexico!\" Send them back in return."
    engine = TableTranslator({("fr", "en"): {source: "« Mexico! Mexico! », the reexpedeixen at return."}})
    out = PseudoReferenceSignal(EngineSlot.of(engine, role="translator")).compute([seg(mt, source)])[0]
    flag = next(f for f in out.flags if "reexpedeixen" in f.evidence["reference_wording"])
    assert flag.evidence["reference_non_words"] == ["reexpedeixen"]
    assert "wrote" not in flag.message
    assert flag.message.endswith("could not translate this part itself: “reexpedeixen” is not English")
    assert flag.message.startswith(f"the reference model has other words than “{flag.span.text_in(seg(mt, source))}”")


def test_forced_decoding_spans_the_improbable_word():
    engine = ScoringTable({("fr", "en"): {}}, {"market": -9.0})
    out = ForcedDecodingSignal(EngineSlot.of(engine, role="translator")).compute([seg(MT_BAD)])[0]
    assert [f.span.text_in(seg(MT_BAD)) for f in out.flags] == ["market"]
    assert out.flags[0].category is Category.MISTRANSLATION
    assert out.flags[0].evidence["tokens"] == [["market", -9.0]]
    assert out.scores["forced.min_logprob"] == -9.0


def test_forced_decoding_needs_a_scoring_translator():
    engine = TableTranslator({("fr", "en"): {}})
    assert ForcedDecodingSignal(EngineSlot.of(engine, role="translator")).compute([seg(MT_BAD)]) == [EMPTY]


def test_fluency_spike_and_no_spike():
    lm = TableLM({"market": -11.0}, default=-3.0)
    sig = FluencySignal(EngineSlot.of(lm, role="lm"))
    bad, good = sig.compute([seg(MT_BAD), seg(MT_GOOD)])
    assert [f.span.text_in(seg(MT_BAD)) for f in bad.flags] == ["market"]
    assert bad.flags[0].evidence["probability"] == pytest.approx(math.exp(-11.0), rel=1e-2)
    assert good.flags == ()
    assert bad.scores["fluency.max_z"] > good.scores["fluency.max_z"]
    assert bad.scores["fluency.mean"] > good.scores["fluency.mean"]


def test_fluency_does_not_penalise_a_short_line_for_its_first_token():
    # Every text's first token is hard to predict; it is not judged, so a short, plain line has the
    # same mean as a long plain one.
    def tokens(n):
        return [TokenScore(i, i + 1, "x", -9.0 if i == 0 else -2.0) for i in range(n)]
    short, long = sentence_scores("f", tokens(3)), sentence_scores("f", tokens(30))
    assert short["f.mean"] == pytest.approx(long["f.mean"]) == pytest.approx(2.0)
    assert short["f.log_tokens"] < long["f.log_tokens"]


def test_fluency_skips_languages_the_model_does_not_have():
    lm = TableLM({}, langs=("fr",))
    assert FluencySignal(EngineSlot.of(lm, role="lm")).compute([seg(MT_GOOD)]) == [EMPTY]


def test_crosslingual_cosine_orders_faithful_above_unrelated():
    lexicon = {"ils": "they", "esperaient": "hoped", "atteindre": "reach", "douze": "twelve",
               "heures": "hours", "marche": "walking", "apres": "after"}
    sig = CrossLingualSignal(EngineSlot.of(BagEmbedder(lexicon), role="embedder"))
    good, other, no_source = sig.compute([seg(MT_GOOD), seg("The stock market fell sharply on Monday."),
                                          seg(MT_GOOD, source=None)])
    assert good.scores["crosslingual.cosine"] > other.scores["crosslingual.cosine"]
    assert no_source is EMPTY


def test_reference_signal_and_corpus_metrics():
    sig = ReferenceSignal()
    with_ref, without = sig.compute([seg(MT_GOOD, reference=MT_GOOD), seg(MT_GOOD)])
    assert with_ref.scores["reference.chrf"] == pytest.approx(100.0)
    assert with_ref.scores["reference.ter"] == pytest.approx(0.0)
    assert set(with_ref.scores) == {"reference.chrf", "reference.chrf++", "reference.bleu", "reference.ter"}
    assert without is EMPTY
    corpus = CorpusMetrics()
    corpus.add(MT_GOOD, MT_GOOD)
    corpus.add(MT_BAD, MT_GOOD)
    result = corpus.result()
    assert 0 < result["chrf"] < 100 and 0 < result["bleu"] < 100
    assert corpus.signatures()["chrf"].startswith("nrefs:1")


def test_streamed_corpus_metrics_equal_sacrebleu_on_the_whole_corpus():
    from sacrebleu.metrics import BLEU, CHRF, TER

    hyps = ["The cat sat on the mat.", "Hello world", "More than 300 people came.", "", "Le chat, dit-il ."]
    refs = ["The cat is on the mat.", "Hello, world!", "More than 3,000 people came.", "Nothing.", "The cat."]
    corpus = CorpusMetrics()
    for h, r in zip(hyps, refs):
        corpus.add(h, r)
    whole = {"chrf": CHRF(), "chrf++": CHRF(word_order=2), "bleu": BLEU(), "ter": TER()}
    for name, metric in whole.items():
        assert corpus.result()[name] == pytest.approx(round(metric.corpus_score(hyps, [refs]).score, 4), abs=1e-4)
        assert corpus.signatures()[name] == str(metric.get_signature())


def test_build_signals_follows_the_configuration():
    def resolver(role, spec, *, source_lang, target_lang):
        raise AssertionError("engines must resolve lazily, not while building signals")

    none = CheckConfig(engines=EngineConfig.rules_only())
    assert [s.name for s in build_signals(none, resolver=resolver)] == ["reference"]
    only_lm = CheckConfig(engines=EngineConfig(back_translator="none", reference_model="none",
                                               lm="smollm2", embedder="none", qe="none"))
    assert [s.name for s in build_signals(only_lm, resolver=resolver)] == ["fluency", "reference"]
    everything = [s.name for s in build_signals(CheckConfig(engines=EngineConfig(qe="none")), resolver=resolver)]
    assert everything == ["roundtrip", "pseudo_reference", "forced", "fluency", "homograph", "crosslingual",
                          "reference"]
    no_lm = CheckConfig(engines=EngineConfig(lm="none", qe="none"))
    assert "homograph" not in [s.name for s in build_signals(no_lm, resolver=resolver)]
    with_qe = build_signals(CheckConfig(engines=EngineConfig(qe="/some/weights")), resolver=resolver)
    assert [s.name for s in with_qe][-2:] == ["qe", "reference"]


def test_build_signals_resolves_per_pair_through_the_resolver():
    lm = TableLM({}, langs=("en",))
    asked = []

    def resolver(role, spec, *, source_lang, target_lang, **options):
        assert options == {"device": "cpu", "beam_size": 1}
        asked.append((role, spec, source_lang, target_lang))
        return lm if role == "lm" and target_lang == "en" else None

    config = CheckConfig(engines=EngineConfig(back_translator="none", reference_model="none",
                                              lm="auto", embedder="none", qe="none"))
    fluency = build_signals(config, resolver=resolver)[0]
    de = Segment(id="d", mt="Guten Tag, wie geht es?", source_lang="fr", target_lang="de")
    outs = fluency.compute([seg(MT_GOOD), de, seg(MT_BAD)])
    assert outs[0] is not EMPTY and outs[1] is EMPTY
    assert asked == [("lm", "auto", None, "en"), ("lm", "auto", None, "de")]
    assert {e.name for e in fluency.engines} == {"table-lm", "none"}


def test_engine_calls_go_through_the_cache(tmp_path):
    from tqcheck.engines.cache import EngineCache

    engine = TableTranslator({("fr", "en"): {SOURCE: MT_GOOD}})
    cache = EngineCache(tmp_path / "c.sqlite")
    for _ in range(2):
        sig = PseudoReferenceSignal(EngineSlot.of(engine, role="translator"), cache=cache)
        out = sig.compute([seg(MT_BAD), seg(MT_BAD, id="again")])
        assert out[0].artifacts["pseudo_reference"] == MT_GOOD
    assert len(engine.calls) == 1 and engine.calls[0][2] == [SOURCE]


def test_the_registry_resolves_per_pair_and_says_when_nothing_serves():
    from tqcheck.engines.translate.apertium import apertium_installed

    if not apertium_installed():
        pytest.skip("apertium is not installed (scripts/setup.sh installs it)")
    config = CheckConfig(engines=EngineConfig(back_translator="apertium", reference_model="none", lm="none",
                                              embedder="none", qe="none"), metrics=False)
    (roundtrip,) = build_signals(config)
    ja = Segment(id="j", mt="こんにちは", source="Bonjour", source_lang="fr", target_lang="ja")
    assert roundtrip.compute([ja]) == [EMPTY]
    assert [(e.role, e.name, e.model_id) for e in roundtrip.engines] == [
        ("back_translator", "none", "no engine for ja-fr")]
