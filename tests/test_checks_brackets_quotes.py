"""brackets_quotes: unbalanced or mismatched brackets and quotes, the source taken into account."""

from __future__ import annotations

import pytest

from tqcheck.checks.brackets_quotes import BracketsQuotesCheck
from tqcheck.model import Category, Segment, Severity

CHECK = BracketsQuotesCheck()


def found(mt, source=None, tl=None, sl=None):
    segment = Segment("t", mt, source, sl, tl)
    return [(f.span.start, f.span.text_in(segment)) for f in CHECK.run(segment)]


@pytest.mark.parametrize("mt, tl, expected", [
    ('"Go brothers, continue! Encourage them. "Mexico! Mexico! " Send them back.', None, [(0, '"')]),
    ("He said (this is [wrong) here].", None, [(17, "["), (29, "]")]),
    ("Unclosed (paren here", None, [(9, "(")]),
    ("Closed paren) here", None, [(12, ")")]),
    ("He said “hello and left", "en", [(8, "“")]),
    ("Il a dit « bonjour » et « au revoir", "fr", [(24, "«")]),
    ('He said "hello', "en", [(8, '"')]),
])
def test_problems(mt, tl, expected):
    assert found(mt, tl=tl) == expected


@pytest.mark.parametrize("mt, tl", [
    ('"I miss my country," says Delmer. "I\'m not doing it for fun."', "en"),
    ('"there are two options: expel them or let them continue," he explained.', "en"),
    ("- Raphael Laurent (@ LaurentRaphael1) October 24, 2018", "en"),
    ("Options: a) first b) second :)", "en"),
    ("Er sagte „Hallo“ und ging.", "de"),
    ("Er sagte »Hallo« und ging.", "de"),
    ("Il a dit « bonjour » puis (enfin) « au revoir ».", "fr"),
    ("He said “hello” and it’s fine ‘ok’", "en"),
    ("the countries’ leaders and the cat’s toy", "en"),
    ("Han sa ”hej” och »bye»", "sv"),
    ("See https://en.wikipedia.org/wiki/Foo_(bar) and {1}", "en"),
    ('The "caravan" has already traveled', "en"),
    ('"Quote one." "Quote two."', "en"),
    ("", "en"),
])
def test_clean(mt, tl):
    assert found(mt, tl=tl) == []


@pytest.mark.parametrize("source, mt, expected", [
    ("Il a dit « bonjour", 'He said "hello', []),                  # unbalanced the same way
    ("Il a dit « bonjour »", 'He said "hello', [(8, '"')]),
    ("Il a dit « bonjour (ok", 'He said "hello (ok', []),
    ("Il a dit « bonjour » (ok", 'He said "hello (ok', [(8, '"')]),  # quotes are the MT's own
])
def test_source_taken_into_account(source, mt, expected):
    assert found(mt, source, tl="en", sl="fr") == expected


def test_flag_fields():
    (flag,) = CHECK.run(Segment("t", "Unclosed (paren"))
    assert flag.severity is Severity.MINOR and flag.category is Category.PUNCTUATION
    assert flag.evidence == {"family": "round", "char": "("}
