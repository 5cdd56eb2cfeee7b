"""repeats: the same word or phrase twice in a row, with whitespace only between."""

from __future__ import annotations

import pytest

from tqcheck.checks.repeats import RepeatsCheck
from tqcheck.model import Category, Segment, Severity

CHECK = RepeatsCheck()


def found(mt, source=None, tl="en"):
    segment = Segment("t", mt, source, "fr" if source else None, tl)
    return [f.span.text_in(segment) for f in CHECK.run(segment)]


@pytest.mark.parametrize("mt, expected", [
    ("by biological clocks clocks.", ["clocks"]),
    ("by biological clocks clocks clocks clocks.", ["clocks clocks clocks"]),
    ("The the cat", ["the"]),
    ("it is in the in the house", ["in the"]),
    ("Mexico Mexico", ["Mexico"]),
    ("He went to to the the market", ["to", "the"]),
])
def test_repeats(mt, expected):
    assert found(mt) == expected


@pytest.mark.parametrize("mt, tl", [
    ("Mexico! Mexico!", "en"),                        # a chant, punctuation between
    ("New York, New York is a song", "en"),
    ("He said that that was fine and he had had enough.", "en"),
    ("Score 10-10 today", "en"),
    ("nous nous sommes levés et vous vous êtes assis", "fr"),
    ("#mexico #mexico", "en"),                         # hashtags are urls_handles' business
    ("a a", "en"),                                     # single letters
    ("", "en"),
])
def test_not_repeats(mt, tl):
    assert found(mt, tl=tl) == []


@pytest.mark.parametrize("source, mt, expected", [
    ("Mexique ! Mexique !", "Mexico Mexico", []),     # the source repeats it
    ("vite vite", "quickly quickly", []),              # as many repeats in the source
    ("le chat", "the the cat", ["the"]),
    ("nous nous levons", "we we get up", ["we"]),       # a reflexive double does not excuse it
])
def test_with_source(source, mt, expected):
    assert found(mt, source) == expected


def test_flag_fields():
    segment = Segment("t", "the the cat")
    (flag,) = CHECK.run(segment)
    assert flag.severity is Severity.MINOR and flag.category is Category.GRAMMAR
    assert flag.evidence == {"repeated": "the", "copies": 2, "first": [0, 3]}


def test_numbers_repeat_too_and_numbers_do_not_count_as_addition():
    from tqcheck.checks.numbers import NumbersCheck

    segment = Segment("t", "prisoners of the blockade since 2007 2007.",
                      "prisonniers du blocus depuis 2007.", "fr", "en")
    assert [f.span.text_in(segment) for f in CHECK.run(segment)] == ["2007"]
    assert list(NumbersCheck().run(segment)) == []


def test_numbers_between_source_words_break_a_repeat():
    # "de 20 % de": not a repeat in the source, so it cannot excuse one in the MT
    assert found("comes from the Amazon Amazon.",
                 "Pas moins de 20 % de l'eau provient de l'Amazone.") == ["Amazon"]
