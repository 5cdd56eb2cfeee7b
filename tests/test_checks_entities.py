"""entities: names of the source missing from the MT, exonyms and spelling variants allowed."""

from __future__ import annotations

import pytest

from tqcheck.checks.entities import EntitiesCheck
from tqcheck.model import Category, Segment, Severity, Side

CHECK = EntitiesCheck()


def found(source, mt, sl="fr", tl="en"):
    segment = Segment("t", mt, source, sl, tl)
    flags = list(CHECK.run(segment))
    assert all(f.span.side is Side.SOURCE for f in flags)
    return [f.span.text_in(segment) for f in flags]


@pytest.mark.parametrize("source, mt", [
    ("Le Mexique n'a pas à faire le sale boulot pour les États-Unis, a déclaré Jorge Castañeda.",
     "Mexico does not have to do the dirty work for the United States, said Jorge Castaneda."),
    ("Des milliers de migrants, majoritairement honduriens, vers Mapastepec, dans l'État du Chiapas.",
     "Thousands of migrants, mainly Hondurans, towards Mapastepec, in the state of Chiapas."),
    ("Il est allé en Allemagne et à Londres avec Jacques Chirac.",
     "He went to Germany and London with Chirac."),                 # first name dropped: fine
    ("le ministre des Affaires étrangères et l'ONU", "the Foreign Minister and the UN"),
    ("les pays d'Amérique centrale", "Central American countries"),
    ("Il a travaillé sur The Tracy Ullman Show.", "He worked on The Tracy Ullman Show."),
    ("entre les Xe-XIe siècles", "between the 10th and 11th centuries"),  # Roman numerals
    ("Il vit à La Paz.", "He lives in La Paz."),
    ("4h du matin La caravane quitte #huixtla", "4am The caravan leaves #huixtla"),
    ("Sale boulot", "Dirty work"),
    ("Il a parlé mercredi, en octobre, à Noël.", "He spoke on Wednesday, in October, at Christmas."),
])
def test_present(source, mt):
    assert found(source, mt) == []


@pytest.mark.parametrize("source, mt, expected", [
    ("Il a travaillé sur Taxi, Cheers et The Tracy Ullman Show.",
     "He worked on shows such as Taxi, Cheers and The Oprah Winfrey Show.", ["Tracy Ullman"]),
    ("Il est allé en Allemagne et à Londres avec Jacques Chirac.",
     "He went to Spain and Paris with Sarkozy.", ["Allemagne", "Londres", "Jacques Chirac"]),
    ("par amour pour la drogue et pour le Japon.", "for love of drugs and for .", ["Japon"]),
    ("Il vit à La Paz.", "He lives in Lima.", ["La Paz"]),
    ("Les eaux se jettent dans l'Amazone.", "The waters flow into the Czech Republic.", ["Amazone"]),
])
def test_missing(source, mt, expected):
    assert found(source, mt) == expected


def test_evidence_and_category():
    segment = Segment("t", "He went to Paris.", "Il est allé à Londres.", "fr", "en")
    (flag,) = CHECK.run(segment)
    assert flag.severity is Severity.MINOR
    assert flag.category is Category.MISTRANSLATION  # the MT has another name instead
    assert flag.evidence["mt_candidates"] == ["Paris"]
    assert "london" in flag.evidence["translations_looked_for"]
    segment = Segment("t", "He went there.", "Il est allé à Londres.", "fr", "en")
    (flag,) = CHECK.run(segment)
    assert flag.category is Category.OMISSION


def test_acronyms_are_optional():
    assert found("Selon la CEDH, c'est faux.", "According to the court, it is wrong.") == []
    strict = EntitiesCheck(acronyms=True)
    segment = Segment("t", "According to the court, it is wrong.", "Selon la CEDH, c'est faux.",
                      "fr", "en")
    assert [f.span.text_in(segment) for f in strict.run(segment)] == ["CEDH"]


def test_german_source_stands_aside():
    assert found("Die Regierung hat das Gesetz beschlossen.", "The cabinet passed it.", "de") == []


def test_weekday_and_month_names_in_any_cldr_locale_are_not_missing_names():
    from babel import Locale, localedata

    from tqcheck.checks.entities import EntitiesCheck

    check = EntitiesCheck()
    source = "The minister speaks on Wednesday and leaves in October."
    missed = []
    codes = sorted(code for code in localedata.locale_identifiers() if "_" not in code and len(code) == 2)
    assert len(codes) > 100
    for code in codes:
        locale = Locale.parse(code)
        wednesday, october = locale.days["format"]["wide"][2], locale.months["format"]["wide"][10]
        mt = f"X {wednesday} Y {october} Z."
        flags = [f for f in check.run(Segment("w", mt, source, "en", code))]
        if flags:
            missed.append((code, wednesday, october, [f.message for f in flags]))
    assert missed == []
