"""Language identification with lingua (real models, bundled in the wheel)."""

from __future__ import annotations

import pytest

from tqcheck.model import Segment
from tqcheck.text.langid import detect_language, detect_pair, detect_stretches


@pytest.mark.parametrize("text, candidates, expected", [
    ("Thousands of migrants resumed their march towards the United States on Wednesday.", None, "en"),
    ("Des milliers de migrants ont repris mercredi leur marche vers les États-Unis.", None, "fr"),
    ("Miles de migrantes reanudaron el miércoles su marcha hacia Estados Unidos.", None, "es"),
    ("Tausende Migranten setzten am Mittwoch ihren Marsch in Richtung USA fort.", None, "de"),
    ("Des milliers de migrants ont repris leur marche.", ["en", "fr"], "fr"),
    ("Des milliers de migrants ont repris leur marche.", ["en-US", "fr_CA"], "fr"),
])
def test_detect_language(text, candidates, expected):
    lang, confidence = detect_language(text, candidates)
    assert lang == expected
    assert 0.5 < confidence <= 1.0


@pytest.mark.parametrize("text", ["", "  ", "12 000", "!!", "ok"])
def test_too_little_text_is_not_detected(text):
    assert detect_language(text) == (None, 0.0)


def test_one_candidate_still_gets_rivals():
    # A single candidate cannot be detected against nothing: the defaults are added as rivals.
    lang, _ = detect_language("Des milliers de migrants ont repris leur marche vers le nord.", ["en"])
    assert lang == "fr"


def test_stretches_have_character_offsets():
    text = "Les élèves étaient très déçus. And then many rhythms observed in physiology often depend."
    stretches = detect_stretches(text, ["en", "fr"])
    langs = [lang for _, _, lang, _ in stretches]
    assert langs == ["fr", "en"]
    start, end, _, _ = stretches[0]
    assert text[start:end].strip() == "Les élèves étaient très déçus."


def test_detect_pair_majority():
    segments = [
        Segment(str(i), mt, src) for i, (src, mt) in enumerate([
            ("La caravane de migrants a repris la route vers les États-Unis.",
             "The migrant caravan set off again towards the United States."),
            ("Ils se trouvent actuellement au Mexique, près de la frontière.",
             "They are currently in Mexico, near the border."),
            ("Sale boulot", "Dirty work"),  # too short to vote
            ("Le Mexique n'a pas à faire le sale boulot pour les États-Unis.",
             "Mexico does not have to do the dirty work for the United States."),
        ])
    ]
    assert detect_pair(segments) == ("fr", "en")


def test_detect_pair_target_only():
    segments = [Segment("1", "The migrant caravan set off again towards the United States."),
                Segment("2", "They are currently in Mexico, near the southern border.")]
    assert detect_pair(segments) == (None, "en")
    assert detect_pair([]) == (None, None)


def test_low_accuracy_mode_on_sentences():
    """Trigram-only mode still names the language of news sentences (the untranslated check uses it
    only after the dictionary pre-filter)."""
    text = "Des milliers de migrants ont repris mercredi leur marche vers les États-Unis."
    lang, confidence = detect_language(text, ["en", "fr", "es"], low_accuracy=True)
    assert lang == "fr" and confidence > 0.5
    english = "Thousands of migrants resumed their march towards the United States on Wednesday."
    assert detect_language(english, ["en", "fr", "es"], low_accuracy=True)[0] == "en"
