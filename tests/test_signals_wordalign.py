"""Word matching used by the round trip: folding, match levels, accent variants, alignment."""

from __future__ import annotations

import pytest

from tqcheck.text.wordalign import MatchLevel, accent_variants, align, fold, is_content, match_level, words


@pytest.mark.parametrize("a, b, level", [
    ("market", "Market", MatchLevel.EXACT),
    ("Etats", "États", MatchLevel.EXACT),          # accent on a capital: typography
    ("marche", "marché", MatchLevel.ACCENT),       # walk vs market
    ("hour", "hours", MatchLevel.STEM),
    ("walk", "walking", MatchLevel.STEM),
    ("marcher", "marchaient", MatchLevel.STEM),
    ("mark", "market", MatchLevel.NONE),
    ("halle", "career", MatchLevel.NONE),
])
def test_match_levels(a, b, level):
    assert match_level(a, b) is level


def test_words_split_elisions_and_keep_offsets():
    text = "qu'ils l'atteindront d'halle, États-Unis"
    ws = words(text)
    assert [w.text for w in ws] == ["qu'", "ils", "l'", "atteindront", "d'", "halle", "États", "Unis"]
    assert all(text[w.start:w.end] == w.text for w in ws)
    assert fold("Œuvre Marché") == "oeuvre marche"


def test_content_words():
    assert not is_content("de", "fr") and not is_content("the", "en") and not is_content("qu'", "fr")
    assert is_content("marche", "fr") and is_content("12", "en")
    assert not is_content("und", "xx") and is_content("Haus", "xx") is True  # length rule


def test_accent_variants_include_the_homograph_and_skip_the_first_letter():
    variants = accent_variants("marche")
    assert "marché" in variants and "marche" not in variants
    assert not any(v[0] != "m" for v in variants)
    assert "peche" in accent_variants("pêche")


def test_align_pairs_mt_words_with_source_words_through_translations():
    mt = words("twelve hours of market in Chiapas")
    src = words("douze heures de marche au Chiapas")
    al = align(mt, src, {"twelve": "douze", "hours": "heures", "market": "marché"},
               source_lang="fr", target_lang="en")
    pairs = {al.mt_words[i].text: (al.source_words[j].text, lv) for i, (j, lv) in al.pairs.items()}
    assert pairs["twelve"] == ("douze", MatchLevel.EXACT)
    assert pairs["market"] == ("marche", MatchLevel.ACCENT)
    assert pairs["Chiapas"] == ("Chiapas", MatchLevel.EXACT)   # same spelling needs no translation
    assert al.unsupported == ()
