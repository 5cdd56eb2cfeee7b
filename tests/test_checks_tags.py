"""tags: inline tags and placeholders missing, added, reordered or badly nested."""

from __future__ import annotations

import pytest

from tqcheck.checks.tags import TagsCheck
from tqcheck.model import Segment

CHECK = TagsCheck()


def found(mt, source=None, check=CHECK):
    segment = Segment("t", mt, source)
    return [(f.span.side.value, f.span.text_in(segment)) for f in check.run(segment)]


@pytest.mark.parametrize("source, mt, expected", [
    ("Click {1}here{/1} to see {2/}", "Cliquez {1}ici{/1} pour voir", [("source", "{2/}")]),
    ("Click {1}here{/1}", "Cliquez ici{/1} {1}", [("mt", "{/1}"), ("mt", "{1}")]),
    ("%s has %d files", "%d fichiers pour %s", [("mt", "%d")]),
    ("<b>bold <i>it</i></b>", "<b>gras <i>it</b></i>", [("mt", "</b>"), ("mt", "</i>")]),
    ("Tom &amp; Jerry", "Tom & Jerry", [("source", "&amp;")]),
    ("Hello {name}", "Bonjour {nom}", [("mt", "{nom}")]),
    ("Hello", "Bonjour <br/>", [("mt", "<br/>")]),
])
def test_problems(source, mt, expected):
    assert found(mt, source) == expected


@pytest.mark.parametrize("source, mt", [
    ("Click {1}here{/1} to see {2/}", "Pour voir {2/}, cliquez {1}ici{/1}"),  # moved with the words
    ("%1$s has %2$d files", "%2$d fichiers pour %1$s"),  # numbered: may be reordered
    ("<b>bold</b> and <i>it</i>", "<i>it</i> et <b>gras</b>"),
    ('<a href="x">link</a>', '<a  href="x">lien</a>'),  # whitespace inside a tag
    ("50% of people", "50 % des gens"),
    ("No tags", "Pas de balises"),
])
def test_clean(source, mt):
    assert found(mt, source) == []


def test_strict_order_flags_any_reordering():
    strict = TagsCheck(strict_order=True)
    assert found("<i>it</i> et <b>gras</b>", "<b>bold</b> and <i>it</i>", strict) == [("mt", "<i>")]


@pytest.mark.parametrize("mt, expected", [
    ("Un <b>texte sans fin", [("mt", "<b>")]),
    ("Un texte</b> sans début", [("mt", "</b>")]),
    ("Ligne<br>suivante {1} ok", []),
    ("Un <b>texte</b> fini", []),
])
def test_target_only_nesting(mt, expected):
    assert found(mt) == expected


def test_source_problems_are_not_blamed_on_the_mt():
    assert found("Un <b>texte", "A <b>text") == []
