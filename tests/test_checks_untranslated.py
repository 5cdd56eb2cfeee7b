"""untranslated: copies of the source, copied stretches and words, wrong-language MT (lingua)."""

from __future__ import annotations

import pytest

from tqcheck.checks.untranslated import UntranslatedCheck
from tqcheck.model import Category, Segment, Severity
from tqcheck.text.hunspell import find_dictionary

NO_LANGID = UntranslatedCheck(langid=False, dictionary_words=False)


def found(check, mt, source=None, sl="fr", tl="en"):
    segment = Segment("t", mt, source, sl if source is not None or sl else None, tl)
    return [(f.span.text_in(segment), f.message) for f in check.run(segment)]


# -- copies and copied stretches (no dictionary, no language id) --------------------------------

@pytest.mark.parametrize("source, mt", [
    ("Les migrants marchent vers le nord du pays.", "Les migrants marchent vers le nord du pays."),
    ("Les migrants marchent vers le nord du pays.", "les migrants  marchent vers le nord du pays"),
])
def test_copy(source, mt):
    ((span, message),) = found(NO_LANGID, mt, source)
    assert span == mt and message == "the MT is a copy of the source"


@pytest.mark.parametrize("source, mt, sl, tl", [
    ("Jorge Castañeda, Mexico City, 2018", "Jorge Castañeda, Mexico City, 2018", "fr", "en"),  # names
    ("Sale boulot", "Sale boulot", "fr", "en"),                                  # too short
    ("#mexico pic.twitter.com/xeyyuh3wEB", "#mexico pic.twitter.com/xeyyuh3wEB", "fr", "en"),
    ("The cat sat on the mat today.", "The cat sat on the mat today.", "en", "en-GB"),  # same language
])
def test_not_a_copy(source, mt, sl, tl):
    assert found(NO_LANGID, mt, source, sl, tl) == []


def test_copied_stretch():
    source = ("De nombreux rythmes dépendent souvent en grande partie de la présence de cycles "
              "endogènes.")
    mt = "Many rhythms dépendent souvent en grande partie de la présence of endogenous cycles."
    ((span, message),) = found(NO_LANGID, mt, source)
    assert span == "dépendent souvent en grande partie de la présence"
    assert message == "8 words copied from the source"


def test_copied_names_are_not_a_stretch():
    source = "Allez à Paris Rue des Francs Bourgeois où les boutiques sont ouvertes."
    mt = "Go to Paris Rue des Francs Bourgeois where the shops are open."
    assert found(NO_LANGID, mt, source) == []


# -- untranslated words (hunspell dictionaries of both languages) -------------------------------

HAS_DICTS = find_dictionary("fr") is not None and find_dictionary("en_US") is not None


@pytest.mark.slow
@pytest.mark.skipif(not HAS_DICTS, reason="hunspell-fr and hunspell-en-us are needed (scripts/setup.sh)")
@pytest.mark.parametrize("source, mt, expected", [
    ("la physiologie et le comportement", "physiology and comportement", ["comportement"]),
    ("les traces historiques", "historique traces", ["historique"]),         # inflected in source
    ("Il a présenté son rapport aujourd’hui.", "He presented his report aujourd’hui.",
     ["aujourd’hui"]),
    ("Cependant, quand vous voyagiez", "Cependant, when you travelled", ["Cependant"]),
    ("la réalisation est proche de la perfection", "the realisation is close to perfection", []),
    ("Elle parle catalan.", "She speaks catalan.", []),      # English knows "Catalan": a name
    ("un yacht ou des bateaux", "a yacht or bateaux", []),    # English has the loanword
])
def test_untranslated_words(source, mt, expected):
    check = UntranslatedCheck(langid=False)
    assert [span for span, _ in found(check, mt, source)] == expected


# -- wrong language (lingua) --------------------------------------------------------------------

LANGID = UntranslatedCheck(dictionary_words=False)


def test_whole_mt_in_the_source_language():
    mt = "Des milliers de migrants ont repris mercredi leur marche vers le nord."
    ((span, message),) = found(LANGID, mt, None, "fr", "en")
    assert span == mt and message == "the MT seems to be in French, not English"


def test_whole_mt_in_a_third_language():
    mt = "Miles de migrantes reanudaron el miércoles su marcha hacia el norte del país."
    ((_, message),) = found(LANGID, mt, None, "fr", "en")
    assert message == "the MT seems to be in Spanish, not English"


@pytest.mark.parametrize("mt, tl", [
    ("Thousands of migrants resumed their march towards the north on Wednesday.", "en"),
    ("Mexico! Mexico!", "en"),                                     # too few words to judge
    ("- Raphael Laurent (@ LaurentRaphael1) October 24, 2018", "en"),  # names and numbers only
    ("Jorge Castañeda, Mapastepec, Huixtla, Chiapas, Suchiate", "en"),
    ("Des milliers de migrants ont repris mercredi leur marche vers le nord.", "fr"),
])
def test_right_language(mt, tl):
    assert found(LANGID, mt, None, "fr", tl) == []


def test_code_mixed_stretch():
    source = ("Des milliers de migrants, majoritairement honduriens, ont repris mercredi leur marche "
              "vers les États-Unis à travers le Mexique.")
    mt = ("Thousands of migrants, mainly Hondurans, ont repris mercredi leur marche vers les "
          "États-Unis through Mexico on Wednesday.")
    flags = found(UntranslatedCheck(dictionary_words=False, min_copy_words=50), mt, source)
    assert len(flags) == 1
    span, message = flags[0]
    assert "ont repris mercredi leur marche" in span and message.startswith(
        "a stretch of the MT seems to be in French")


def test_flag_fields():
    segment = Segment("t", "Les migrants marchent vers le nord du pays.",
                      "Les migrants marchent vers le nord du pays.", "fr", "en")
    (flag,) = NO_LANGID.run(segment)
    assert flag.severity is Severity.MAJOR and flag.category is Category.UNTRANSLATED


def test_seed_article_is_english_throughout():
    from pathlib import Path

    seed = Path(__file__).resolve().parent.parent / "samples" / "caravan.en-mt.txt"
    check = UntranslatedCheck()
    for line in seed.read_text(encoding="utf-8").splitlines():
        if line.strip():
            # target-only, with the source language known (as the pipeline sets it)
            assert list(check.run(Segment("t", line, None, "fr", "en"))) == [], line


@pytest.mark.skipif(not HAS_DICTS, reason="hunspell-fr and hunspell-en-us are needed (scripts/setup.sh)")
def test_dictionary_prefilter_decides_when_lingua_runs(monkeypatch):
    """lingua runs only on MTs with enough words unknown to the target dictionary, in low accuracy;
    without the pre-filter (or without a dictionary) it runs on every long MT, in high accuracy."""
    from tqcheck.text import langid

    calls = []
    real = langid.detect_language

    def spy(text, candidates=None, *, low_accuracy=False):
        calls.append((text, low_accuracy))
        return real(text, candidates, low_accuracy=low_accuracy)

    monkeypatch.setattr(langid, "detect_language", spy)
    english = "Thousands of migrants resumed their march towards the north on Wednesday."
    french = "Des milliers de migrants ont repris mercredi leur marche vers le nord."
    assert found(LANGID, english, None, "fr", "en") == [] and calls == []
    ((_, message),) = found(LANGID, french, None, "fr", "en")
    assert message == "the MT seems to be in French, not English" and calls[-1][1] is True
    calls.clear()
    no_filter = UntranslatedCheck(dictionary_words=False, dictionary_prefilter=False)
    assert found(no_filter, english, None, "fr", "en") == [] and [c[1] for c in calls] == [False]
    calls.clear()
    found(LANGID, "Ceci est une phrase écrite dans une langue sans dictionnaire.", None, "fr", "xx")
    assert [c[1] for c in calls] == [False]  # no "xx" dictionary: lingua decides, high accuracy
