"""empty: an empty MT, or an MT for an empty source."""

from __future__ import annotations

import pytest

from tqcheck.checks.empty import EmptyCheck
from tqcheck.model import Category, Segment, Severity


@pytest.mark.parametrize("source, mt, expected", [
    ("Bonjour le monde.", "", ("major", "Accuracy/Omission", None)),
    ("Bonjour le monde.", "   ", ("major", "Accuracy/Omission", None)),
    ("Bonjour le monde.", " ... ", ("major", "Accuracy/Omission", None)),
    ("", "Hello world.", ("major", "Accuracy/Addition", (0, 12))),
    ("  ", "Hello world.", ("major", "Accuracy/Addition", (0, 12))),
])
def test_empty(source, mt, expected):
    (flag,) = EmptyCheck().run(Segment("t", mt, source))
    span = (flag.span.start, flag.span.end) if flag.span else None
    assert (flag.severity.value, flag.category.value, span) == expected


@pytest.mark.parametrize("source, mt", [
    ("Bonjour.", "Hello."), (None, "Hello."), ("", ""), ("   ", " "), (None, "7"), ("...", "..."),
    (None, ""), (None, "  "),  # target-only: a blank line is not an omission
])
def test_not_empty(source, mt):
    assert list(EmptyCheck().run(Segment("t", mt, source))) == []


def test_target_only_option():
    (flag,) = EmptyCheck(target_only=True).run(Segment("t", " "))
    assert flag.category is Category.OMISSION and flag.span is None


def test_severity_option():
    (flag,) = EmptyCheck(severity="critical").run(Segment("t", "", "Bonjour."))
    assert flag.severity is Severity.CRITICAL and flag.category is Category.OMISSION
    with pytest.raises(TypeError):
        EmptyCheck(severity="fatal")
