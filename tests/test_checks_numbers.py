"""numbers: source numbers missing or changed in the MT, MT numbers not in the source, MT format."""

from __future__ import annotations

import pytest

from tqcheck.checks.numbers import NumbersCheck
from tqcheck.model import Category, Segment, Severity, Side

CHECK = NumbersCheck()


def found(source, mt, sl="fr", tl="en", check=CHECK):
    segment = Segment("t", mt, source, sl, tl)
    return [(f.span.side.value, f.span.text_in(segment), f.category) for f in check.run(segment)]


@pytest.mark.parametrize("source, mt", [
    ("7 000 Honduriens", "7,000 Hondurans"),
    ("7\u202f000 Honduriens", "7000 Hondurans"),
    ("7\u00a0000 Honduriens", "7.000 Hondurans"),
    ("3,5 %", "3.5%"),
    ("3,5 pour cent", "3.5 percent"),
    ("le 13 octobre", "October 13th"),
    ("le 1er mai", "on May 1st"),
    ("douze heures de marche", "twelve hours of walking"),
    ("une centaine de kilomètres", "about 100 kilometers"),
    ("7 000, 8 000 ou 9 000 personnes", "7000, 8000, or 9000 people"),
    ("1,5 milliard d'euros", "1.5 billion euros"),
    ("1,5 milliard d'euros", "1,500,000,000 euros"),
    ("dans les années 80", "in the 1980s"),
    ("à 16h", "at 4 p.m."),
    ("à 12\u00a0h GMT", "at 12:00 GMT"),
    ("le 24.10.2018", "on 10/24/2018"),
    ("24 100 personnes", "24,100 people"),
    ("en 2018 300 personnes", "in 2018, 300 people"),
    ("entre les Xe-XIe siècles et le XIVe siècle", "between the 10th-11th century and the 14th century"),
    ("L'A320 de 1980", "The A320 from 1980"),
    ("Il a 1 an", "He is a year old"),
    ("Visitez https://x.com/a1b2 ou @user99 #g7", "Visit https://x.com/a1b2"),
    ("Pas de chiffres ici.", "No numbers here."),
])
def test_same_numbers_are_not_flagged(source, mt):
    assert found(source, mt) == []


@pytest.mark.parametrize("source, mt, expected", [
    ("1 700 personnes", "1600 people", [("mt", "1600", Category.MISTRANSLATION)]),
    ("7 000, 8 000 ou 9 000 personnes", "7000, 8000, or 8000 people",
     [("mt", "8000", Category.MISTRANSLATION)]),
    ("le 13 octobre 2018", "October 2018", [("source", "13", Category.OMISSION)]),
    ("Il a 2 ans", "He is a year old", [("source", "2", Category.OMISSION)]),
    ("environ 800 kilomètres", "about 800 kilometers in 12 days",
     [("mt", "12", Category.ADDITION)]),
    ("3,5 %", "35%", [("mt", "35", Category.MISTRANSLATION)]),
    ("en 1980", "in 1960", [("mt", "1960", Category.MISTRANSLATION)]),
])
def test_missing_changed_added(source, mt, expected):
    assert found(source, mt) == expected


def test_changed_number_has_evidence_and_severity():
    segment = Segment("t", "1600 people", "1 700 personnes", "fr", "en")
    (flag,) = CHECK.run(segment)
    assert flag.severity is Severity.MAJOR
    assert flag.evidence["source_number"] == "1 700" and flag.evidence["source_span"] == [0, 5]
    assert flag.span.side is Side.MT


def test_additions_can_be_turned_off():
    assert found("800 km", "800 km in 12 days", check=NumbersCheck(additions=False)) == []


@pytest.mark.parametrize("mt, tl, expected", [
    ("There are 7\u202f000 people", "en", ["7\u202f000"]),
    ("It rose by 3,5 %", "en", ["3,5"]),
    ("It cost 1.000.000 euros", "en", ["1.000.000"]),
    ("It cost 1,000,000 euros", "en", []),
    ("Il y a 1,234,567 personnes", "fr", ["1,234,567"]),
    ("Il y a 7 000 personnes et 3,5 %", "fr", []),
    ("Es gibt 3,5 Millionen", "de", []),
    ("There are 7\u202f000 people", None, []),  # language unknown: no convention to apply
])
def test_target_only_number_format(mt, tl, expected):
    segment = Segment("t", mt, None, None, tl)
    flags = list(CHECK.run(segment))
    assert [f.span.text_in(segment) for f in flags] == expected
    assert all(f.category is Category.LOCALE_CONVENTION and f.severity is Severity.MINOR
               for f in flags)


def test_english_grouping_copied_into_french():
    segment = Segment("t", "Il y a 7,000 personnes", "There are 7,000 people", "en", "fr")
    (flag,) = CHECK.run(segment)
    assert flag.category is Category.LOCALE_CONVENTION and "reads as a decimal" in flag.message


@pytest.mark.parametrize("mt", ["", "   "])
def test_empty_mt_is_left_to_the_empty_check(mt):
    assert found("12 personnes", mt) == []
