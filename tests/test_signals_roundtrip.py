"""Round trip: the back-translation and single-word translations locate a mistranslated MT word."""

from __future__ import annotations

import pytest
from _signal_fakes import TableTranslator

from tqcheck.model import Category, Segment, Side
from tqcheck.signals import EMPTY, EngineSlot
from tqcheck.signals.roundtrip import RoundTripSignal
from tqcheck.text.hunspell import find_dictionary

needs_dictionaries = pytest.mark.skipif(
    find_dictionary("fr_FR") is None or find_dictionary("en_US") is None,
    reason="hunspell-fr and hunspell-en-us are not installed (scripts/setup.sh)")

SOURCE = "Ils espéraient l'atteindre après douze heures de marche."
MT_BAD = "They hoped to reach it after twelve hours of market."
MT_GOOD = "They hoped to reach it after twelve hours of walking."

WORDS_EN_FR = {"they": "ils", "hoped": "espéraient", "reach": "atteindre", "after": "après",
               "twelve": "douze", "hours": "heures", "walking": "marche"}


def segment(mt: str, source: str | None = SOURCE) -> Segment:
    return Segment(id="s1", mt=mt, source=source, source_lang="fr", target_lang="en")


def signal_with(table) -> RoundTripSignal:
    return RoundTripSignal(EngineSlot.of(TableTranslator(table), role="translator"))


def test_neural_style_engine_flags_market_as_near_homograph():
    # The engine reads "market" back as "marché": the back-translation and the word both say so.
    table = {("en", "fr"): {MT_BAD: "Ils espéraient l'atteindre après douze heures de marché.",
                            **WORDS_EN_FR, "market": "marché"},
             ("fr", "en"): {"marche": "walk"}}
    out = signal_with(table).compute([segment(MT_BAD)])[0]
    assert out.artifacts["back_translation"].endswith("de marché.")
    homographs = [f for f in out.flags if f.evidence.get("kind") == "near_homograph"]
    assert len(homographs) == 1
    flag = homographs[0]
    assert flag.span.text_in(segment(MT_BAD)) == "market"
    assert flag.category is Category.MISTRANSLATION
    assert flag.evidence["source_word"] == "marche"
    assert flag.evidence["came_back_as"] == "marché"
    assert "marché" in flag.message and "marche" in flag.message
    assert out.scores["roundtrip.homographs"] == 1.0
    assert out.scores["roundtrip.lost"] > 0


def test_apertium_style_engine_finds_it_through_the_accent_variant():
    # Apertium reads "market" as "halle", so no match up to accents; but the source word "marche"
    # has the dictionary variant "marché", which translates to "market", while "marche" itself
    # ("career") is not in the MT.
    table = {("en", "fr"): {MT_BAD: "Ils espéraient l'atteindre après douze heures d'halle.",
                            **WORDS_EN_FR, "market": "halle"},
             ("fr", "en"): {"marche": "career", "marché": "market"}}
    out = signal_with(table).compute([segment(MT_BAD)])[0]
    homographs = [f for f in out.flags if f.evidence.get("kind") == "near_homograph"]
    assert [f.span.text_in(segment(MT_BAD)) for f in homographs] == ["market"]
    assert homographs[0].evidence["mt_word_reads_as"] == "marché"
    assert homographs[0].evidence["source_word_translates_to"] == "career"


def test_a_faithful_translation_raises_nothing():
    table = {("en", "fr"): {MT_GOOD: SOURCE, **WORDS_EN_FR}, ("fr", "en"): {}}
    out = signal_with(table).compute([segment(MT_GOOD)])[0]
    assert out.flags == ()
    assert out.scores["roundtrip.lost"] == 0.0
    assert out.scores["roundtrip.chrf"] == pytest.approx(100.0)
    assert out.scores["roundtrip.homographs"] == 0.0


def test_lost_word_with_a_stand_in_and_a_plain_omission():
    source = "Le président a visité la clinique rurale hier."
    mt = "The president visited the bakery yesterday."
    table = {("en", "fr"): {mt: "Le président a visité la boulangerie hier.",
                            "president": "président", "visited": "visité", "bakery": "boulangerie",
                            "yesterday": "hier"},
             ("fr", "en"): {}}
    seg = Segment(id="s2", mt=mt, source=source, source_lang="fr", target_lang="en")
    out = signal_with(table).compute([seg])[0]
    kinds = {f.evidence["kind"]: f for f in out.flags}
    # "clinique" is lost and "bakery" (read as "boulangerie") stands in its place
    assert kinds["lost_and_replaced"].span.text_in(seg) == "bakery"
    assert kinds["lost_and_replaced"].evidence["source_word"] == "clinique"
    assert kinds["lost_and_replaced"].message.endswith("read back, it says “boulangerie”")
    # "rurale" is lost too, with nothing left to blame in the MT: an omission on the source side
    assert kinds["lost"].span.side is Side.SOURCE
    assert kinds["lost"].span.text_in(seg) == "rurale"
    assert kinds["lost"].category is Category.OMISSION


def test_target_only_round_trip_marks_words_that_do_not_survive():
    mt = "Send them back in return."
    table = {("en", "fr"): {mt: "Renvoyez-les en retour."},
             ("fr", "en"): {"Renvoyez-les en retour.": "Return them in return."}}
    seg = Segment(id="t", mt=mt, source=None, source_lang="fr", target_lang="en")
    out = signal_with(table).compute([seg])[0]
    assert out.artifacts["round_trip_target"] == "Return them in return."
    assert [f.span.text_in(seg) for f in out.flags] == ["Send", "back"]
    assert 0 < out.scores["roundtrip.target_chrf"] < 100
    assert out.scores["roundtrip.target_lost"] == pytest.approx(2 / 3)  # of "Send", "back", "return"


def test_pairs_without_an_engine_get_empty_and_the_signature_says_so():
    table = {("en", "fr"): {MT_GOOD: SOURCE}, ("fr", "en"): {}}
    sig = signal_with(table)
    other = Segment(id="d", mt="Guten Tag", source="Bonjour", source_lang="fr", target_lang="de")
    outs = sig.compute([segment(MT_GOOD), other])
    assert outs[1] is EMPTY and outs[0] is not EMPTY
    names = {(e.name, e.model_id) for e in sig.engines}
    assert ("table", "test-table") in names and ("none", "no engine for de-fr") in names  # MT -> source direction


def test_batch_translates_each_distinct_word_once():
    engine = TableTranslator({("en", "fr"): {**WORDS_EN_FR}, ("fr", "en"): {}})
    sig = RoundTripSignal(EngineSlot.of(engine, role="translator"))
    sig.compute([segment(MT_GOOD), segment(MT_GOOD), segment(MT_BAD)])
    word_calls = [texts for src, tgt, texts in engine.calls if len(texts) > 2]
    assert all(len(texts) == len(set(texts)) for _, _, texts in engine.calls)
    assert any("market" in texts and "walking" in texts for texts in word_calls)


def test_a_repeated_source_word_needs_two_words_back():
    # "marche" twice in the source; the back-translation keeps an untranslated "marching" once (it
    # STEM-matches "marche") and "marché" for the second: the second "marche" did not come back.
    source = "Ils ont repris leur marche, et après douze heures de marche ils dorment."
    mt = "They resumed their marching, and after twelve hours of market they sleep."
    table = {("en", "fr"): {mt: "Ils ont repris leur marching, et après douze heures de marché ils dorment.",
                            "resumed": "repris", "marching": "marchant", "twelve": "douze", "hours": "heures",
                            "market": "marché", "sleep": "dorment"},
             ("fr", "en"): {}}
    seg = Segment(id="r", mt=mt, source=source, source_lang="fr", target_lang="en")
    out = signal_with(table).compute([seg])[0]
    assert [f.span.text_in(seg) for f in out.flags if f.evidence["kind"] == "near_homograph"] == ["market"]


@pytest.mark.slow
def test_real_apertium_flags_twelve_hours_of_market(seed_lines, samples_dir):
    from tqcheck.engines.translate.apertium import ApertiumTranslator, apertium_installed

    if not apertium_installed():
        pytest.skip("apertium is not installed (scripts/setup.sh installs it)")
    source_par = (samples_dir / "caravan.fr-reconstructed-source.txt").read_text(encoding="utf-8")
    source = next(p for p in source_par.split("\n\n") if "douze heures de marche" in p).strip()
    mt = next(line for line in seed_lines if "twelve hours of market" in line).strip()
    seg = Segment(id="caravan-3", mt=mt, source=source, source_lang="fr", target_lang="en")
    out = RoundTripSignal(EngineSlot.of(ApertiumTranslator(), role="translator")).compute([seg])[0]
    homographs = [f for f in out.flags if f.evidence["kind"] == "near_homograph"]
    assert [f.span.text_in(seg) for f in homographs] == ["market"]
    assert homographs[0].evidence["source_word"] == "marche"
    assert homographs[0].evidence["mt_word_reads_as"] == "marché"


def test_a_cognate_left_as_it_is_is_not_a_near_homograph():
    # "intégrative" -> MT "integrative": the engine does not know the English word and gives it back
    # unchanged, which matches the source word only up to accents. Not a mistranslation.
    source = "Une approche intégrative du soin."
    mt = "An integrative approach to care."
    table = {("en", "fr"): {mt: "Une approche integrative du soin.", "approach": "approche", "care": "soin"},
             ("fr", "en"): {}}
    seg = Segment(id="c", mt=mt, source=source, source_lang="fr", target_lang="en")
    out = signal_with(table).compute([seg])[0]
    assert not [f for f in out.flags if f.evidence["kind"] == "near_homograph"]


def test_an_inflection_is_not_a_near_homograph():
    # "accompagne" (present) and "accompagné" (participle) are one verb: the source word translated
    # on its own gives the MT word, so nothing was confused.
    source = "Le traitement accompagne la chirurgie."
    mt = "The treatment accompanied the surgery."
    table = {("en", "fr"): {mt: "Le traitement accompagné la chirurgie.", "treatment": "traitement",
                            "accompanied": "accompagné", "surgery": "chirurgie"},
             ("fr", "en"): {"accompagne": "accompanies"}}
    seg = Segment(id="i", mt=mt, source=source, source_lang="fr", target_lang="en")
    out = signal_with(table).compute([seg])[0]
    assert not [f for f in out.flags if f.evidence["kind"] == "near_homograph"]


@needs_dictionaries
def test_a_reading_that_is_no_word_of_the_source_language_is_not_quoted():
    # Through a pivot, "bakery" comes back as the Catalan "fleca": no French word, so the message
    # says what the round trip lost instead of offering "fleca" as the MT word's meaning.
    source = "Le président a visité la clinique hier."
    mt = "The president visited the bakery yesterday."
    table = {("en", "fr"): {mt: "Le président a visité la fleca hier.", "president": "président",
                            "visited": "visité", "bakery": "fleca", "yesterday": "hier"},
             ("fr", "en"): {}}
    seg = Segment(id="s3", mt=mt, source=source, source_lang="fr", target_lang="en")
    flag = next(f for f in signal_with(table).compute([seg])[0].flags
                if f.evidence["kind"] == "lost_and_replaced")
    assert flag.span.text_in(seg) == "bakery"
    assert flag.evidence["mt_word_reads_as"] == "fleca"  # kept as evidence
    assert "fleca" not in flag.message
    assert flag.message == "“bakery” may not render “clinique”: the sentence read back has no “clinique”"


@needs_dictionaries
def test_a_source_word_left_in_a_pivot_language_is_not_offered_as_its_meaning():
    # The source word's own translation comes out Catalan ("marxa"): the near-homograph is still found,
    # and its message leaves the non-word out (the evidence keeps it).
    table = {("en", "fr"): {MT_BAD: "Ils espéraient l'atteindre après douze heures d'halle.",
                            **WORDS_EN_FR, "market": "halle"},
             ("fr", "en"): {"marche": "marxa", "marché": "market"}}
    flag = next(f for f in signal_with(table).compute([segment(MT_BAD)])[0].flags
                if f.evidence.get("kind") == "near_homograph")
    assert flag.evidence["source_word_translates_to"] == "marxa"
    assert "marxa" not in flag.message
    assert flag.message.startswith("“market” may be a misreading of “marche” as “marché”")
