"""spacing: spaces before punctuation, double spaces, missing spaces, French typography."""

from __future__ import annotations

import pytest

from tqcheck.checks.spacing import SpacingCheck
from tqcheck.model import Category, Segment, Severity

CHECK = SpacingCheck()


def found(mt, tl="en", source=None, check=CHECK):
    segment = Segment("t", mt, source, None, tl)
    return sorted((f.span.start, f.span.text_in(segment)) for f in check.run(segment))


@pytest.mark.parametrize("mt, expected", [
    ('"I miss my country , " says Delmer.', [(18, " , ")]),
    ('because of what is happening in our countries . "', [(45, " . ")]),
    ('expel 7000, 8000, or 9000 people . "', [(32, " . ")]),
    ('"Mexico! Mexico! " Send them back.', [(16, " ")]),
    ("Word  word", [(4, "  ")]),
    ("Hello , world", [(5, " ")]),
    ("Hello ! How are you ? He said : yes ; ok.", [(5, " "), (19, " "), (29, " "), (35, " ")]),
    ("A ( parenthesis ) here", [(3, " "), (15, " ")]),
    ("He said “ hello ”.", [(9, " "), (15, " ")]),
    ("  leading and trailing ", [(0, "  "), (22, " ")]),
    ("He left home.Then he came,and went.", [(12, "."), (25, ",")]),
    ("It is 50 % here", [(8, " ")]),
    ("He said « yes » here", [(8, "«"), (14, "»")]),
])
def test_english_problems(mt, expected):
    assert found(mt) == expected


@pytest.mark.parametrize("mt", [
    "The caravan of migrants, made up of 7,000 Hondurans, has returned. They are in Mexico.",
    '"Mexico does not have to do the dirty work for the United States," said Castaneda.',
    "Mexico! Mexico!",
    "See e.g. U.S.A. and .NET and a .45 calibre.",
    "And so on ... and wait ...",
    "How i treat. . . male stenosis",
    "Time is 10:30, see http://x.org/a; ok",
    "#mexico #mexico pic.twitter.com/xeyyuh3wEB",
    "- Raphael Laurent (@ LaurentRaphael1) October 24, 2018",
    "",
])
def test_english_clean(mt):
    assert found(mt) == []


@pytest.mark.parametrize("mt, tl, expected", [
    ("Bonjour ! Comment ça va ? Il dit : « oui ».", "fr", []),
    ("Bonjour\u202f! Il dit\u00a0: «\u202foui\u202f».", "fr", []),
    ("Bonjour! Comment ça va? Il dit: «oui».", "fr",
     [(7, "!"), (22, "?"), (30, ":"), (32, "«"), (36, "»")]),
    ("Bonjour! Comment ça va? Il dit: «oui».", "fr-CA", [(30, ":"), (32, "«"), (36, "»")]),
    ("Il est 10:30, voir http://x.fr. Bon , ok .", "fr", [(35, " "), (40, " ")]),
])
def test_french_typography(mt, tl, expected):
    assert found(mt, tl) == expected


def test_french_strict_no_break_spaces():
    strict = SpacingCheck(french_nbsp=True)
    assert found("Bonjour ! Il dit\u00a0: oui.", "fr", check=strict) == [(7, " ")]


def test_unknown_language_decides_by_language_id():
    # French text, no target language: spaces before ! ? : are French typography, not errors.
    assert found("Bonjour ! Comment ça va ? Il a dit : oui, mais non.", None) == []
    assert found("Hello ! How are you today ? He said : yes, but no.", None) == \
        [(5, " "), (25, " "), (35, " ")]
    # a space before a comma is wrong in every language, no identification needed
    assert found("Bonjour , monde", None) == [(7, " ")]


def test_edges_mirror_the_source():
    assert found("  leading", source="  source too") == []
    assert found("trailing ", source="source") == [(8, " ")]


def test_cjk_targets_are_skipped():
    assert found("你好 ， 世界", "zh") == []


def test_flag_fields():
    segment = Segment("t", "Hello , world", None, None, "en")
    (flag,) = CHECK.run(segment)
    assert flag.severity is Severity.MINOR and flag.category is Category.PUNCTUATION
    assert flag.evidence["suggestion"] == ","
    (flag,) = CHECK.run(Segment("t", "It is 50 % here", None, None, "en"))
    assert flag.category is Category.LOCALE_CONVENTION
