"""end_punctuation: the MT's final mark differs from the source's."""

from __future__ import annotations

import pytest

from tqcheck.checks.end_punctuation import EndPunctuationCheck
from tqcheck.model import Segment

CHECK = EndPunctuationCheck()


@pytest.mark.parametrize("source, mt, expected", [
    ("Il est parti hier soir.", "He left last night", "t"),
    ("Est-il parti hier soir ?", "Did he leave last night.", "."),
    ("Il part demain matin", "He leaves tomorrow morning.", "."),
    ("Many rhythms depend on clocks.", "Do many rhythms depend on clocks?", "?"),
    ("Il a dit « oui ».", 'He said "yes!"', "!"),
])
def test_mismatch(source, mt, expected):
    segment = Segment("t", mt, source)
    (flag,) = CHECK.run(segment)
    assert flag.span.text_in(segment) == expected


@pytest.mark.parametrize("source, mt", [
    ("Il a dit « oui ».", 'He said "yes."'),
    ("Il a dit « oui. »", 'He said "yes".'),
    ("Quoi, vraiment ?!", "What, really?!"),
    ("Et puis, enfin...", "And then, finally…"),
    ("Sale boulot", "Dirty work."),                      # a two-word heading: house style
    ("Il est parti (hier).", "He left (yesterday)."),
    ("Il est parti.", ""),
])
def test_same(source, mt):
    assert list(CHECK.run(Segment("t", mt, source))) == []
