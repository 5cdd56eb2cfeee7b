"""capitalization: a lower-case sentence start, names lower-cased in the MT."""

from __future__ import annotations

import pytest

from tqcheck.checks.capitalization import CapitalizationCheck
from tqcheck.model import Segment

CHECK = CapitalizationCheck()


def found(mt, source=None):
    segment = Segment("t", mt, source)
    return [f.span.text_in(segment) for f in CHECK.run(segment)]


@pytest.mark.parametrize("source, mt, expected", [
    ("Les rythmes dépendent des horloges.", "many rhythms depend on clocks.", ["many"]),
    ("Il vit à Paris et à Lyon.", "He lives in paris and Lyon.", ["paris"]),
    ("Il vit à Paris.", "he lives in paris.", ["he", "paris"]),
    (None, "many rhythms observed in physiology depend on clocks.", ["many"]),
])
def test_flagged(source, mt, expected):
    assert found(mt, source) == expected


@pytest.mark.parametrize("source, mt", [
    ("L'iPhone se vend bien.", "iPhone sales are rising fast."),
    ("iPhone : les ventes montent.", "sales of the iPhone are rising."),  # source starts lower too
    (None, "continued from the previous line"),                          # not a full sentence
    (None, "4am The migrants caravan leaves."),
    ("Il utilise Internet.", "Il utilise internet."),                    # either case is fine
    ("Il vit à Paris.", "He lives in Paris."),
    (None, ""),
])
def test_not_flagged(source, mt):
    assert found(mt, source) == []


@pytest.mark.parametrize("source, mt, expected", [
    (None, "He would deploy his army as needed. border, and threatened to cut aid.", ["border"]),
    (None, "Many rhythms observed in physiology and behavior. often depend on clocks.", ["often"]),
    ("Il a dit ceci. puis cela.", "He said this. then that.", []),     # the source has it too
    (None, "See e.g. the report; Smith et al. found it, approx. five times.", []),
    (None, "He left. Then he came back at 5 p. m. today.", []),
    (None, "Visit pic.twitter.com/xyz. Then go.", []),
])
def test_lower_case_after_a_full_stop(source, mt, expected):
    assert found(mt, source) == expected
