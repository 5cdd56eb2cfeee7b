"""URLs, e-mail addresses and @handles reach no engine: placeholders out, originals back."""

from __future__ import annotations

import pytest
from _signal_fakes import TableTranslator

from tqcheck.engines.translate.apertium import ApertiumTranslator, apertium_installed
from tqcheck.signals._common import translate
from tqcheck.text.protect import mask

TWEET = "4am The caravan leaves #huixtla pic.twitter.com/g4OZBVpQIY, say press@example.org and @LaurentRaphael1."


def test_mask_swaps_links_for_placeholders_and_restore_puts_them_back():
    masked = mask(TWEET)
    assert masked.originals == ("pic.twitter.com/g4OZBVpQIY", "press@example.org", "@LaurentRaphael1")
    assert masked.text == "4am The caravan leaves #huixtla ZQXA, say ZQXB and ZQXC."  # hashtags are words
    moved = "ZQXC et ZQXB disent : la caravane quitte #huixtla ZQXA à 4 h."
    assert masked.restore(moved) == ("@LaurentRaphael1 et press@example.org disent : la caravane quitte "
                                     "#huixtla pic.twitter.com/g4OZBVpQIY à 4 h.")


@pytest.mark.parametrize("translated", ["ZQXA, ZQXB.", "ZQXA ZQXA ZQXB ZQXC", "ZQXAB ZQXB ZQXC", "zqxa ZQXB ZQXC"])
def test_a_placeholder_lost_doubled_or_altered_cannot_be_restored(translated):
    assert mask(TWEET).restore(translated) is None


def test_text_without_links_is_left_exactly_as_it_is():
    for text in ("Twelve hours of walking.", "50 % of patients (n = 12) <b>", "Le #Mexique !"):
        masked = mask(text)
        assert masked.text == text and masked.originals == ()
        assert masked.restore("anything") == "anything"
    assert mask("ZQXA wrote to @x").text == "ZQXA wrote to @x"  # it holds the prefix: not masked at all


def test_translate_gives_the_engine_placeholders_and_falls_back_when_it_drops_them():
    source = "Voir https://example.org/marche?a=1 et @AFP."
    keeps = TableTranslator({("fr", "en"): {"Voir ZQXA et ZQXB.": "See ZQXA and ZQXB."}})
    assert translate(None, keeps, [source], source_lang="fr", target_lang="en") == [
        "See https://example.org/marche?a=1 and @AFP."]
    drops = TableTranslator({("fr", "en"): {"Voir ZQXA et ZQXB.": "See and ZQXB.",
                                            source: "See https://example.org/walk?has=1 and @AFP."}})
    assert translate(None, drops, [source], source_lang="fr", target_lang="en") == [
        "See https://example.org/walk?has=1 and @AFP."]  # the engine's own reading of the original


@pytest.mark.skipif(not apertium_installed(), reason="Apertium is not installed (scripts/setup.sh)")
def test_apertium_no_longer_translates_inside_a_url_or_an_address():
    engine = ApertiumTranslator()
    source = "La caravane quitte Huixtla pic.twitter.com/g4OZBVpQIY, écrit press@example.org."
    [back] = translate(None, engine, [source], source_lang="fr", target_lang="en")
    assert "pic.twitter.com/g4OZBVpQIY" in back and "press@example.org" in back
    # as it was: the engine alone reads ".com" as the Catalan-pivoted "how"
    [raw] = engine.translate(["pic.twitter.com/g4OZBVpQIY"], source_lang="fr", target_lang="en")
    assert raw != "pic.twitter.com/g4OZBVpQIY"
