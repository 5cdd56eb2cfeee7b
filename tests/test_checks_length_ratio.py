"""length_ratio: MT much shorter or longer than the source for the language pair."""

from __future__ import annotations

import pytest

from tqcheck.checks.length_ratio import LengthRatioCheck
from tqcheck.model import Segment

CHECK = LengthRatioCheck()
SOURCE = "Des milliers de migrants ont repris mercredi leur marche vers les États-Unis."  # 77 chars


@pytest.mark.parametrize("mt, expected", [
    ("Thousands of migrants resumed their march towards the United States on Wednesday.", None),
    ("Thousands of migrants.", ("minor", "Accuracy/Omission")),          # ratio 0.29 vs 0.85
    ("Migrants.", ("major", "Accuracy/Omission")),
    (("Thousands of migrants resumed their march towards the United States on Wednesday, and "
      "thousands more are expected to follow them in the coming weeks, officials said."),
     ("minor", "Accuracy/Addition")),
])
def test_fr_en(mt, expected):
    flags = list(CHECK.run(Segment("t", mt, SOURCE, "fr", "en")))
    got = (flags[0].severity.value, flags[0].category.value) if flags else None
    assert got == expected
    if flags:
        assert flags[0].span is None and flags[0].evidence["expected"] == pytest.approx(0.855, 0.01)


@pytest.mark.parametrize("source, mt, sl, tl", [
    ("Oui.", "Yes, indeed, absolutely.", "fr", "en"),                # short source: not judged
    ("None of them required surgery.", "Aucun d'entre eux n'a nécessité d'intervention chirurgicale.",
     "en", "fr"),                                                    # French runs longer
    ("The migrants left the city early in the morning.", "移民们一大早就离开了这座城市。", "en", "zh"),
    (SOURCE, "", "fr", "en"),                                        # empty: the empty check's
])
def test_not_flagged(source, mt, sl, tl):
    assert list(CHECK.run(Segment("t", mt, source, sl, tl))) == []


def test_options():
    loose = LengthRatioCheck(min_ratio=0.2, major_min_ratio=0.1)
    assert list(loose.run(Segment("t", "Thousands of migrants.", SOURCE, "fr", "en"))) == []
    fixed = LengthRatioCheck(expected=1.0)
    assert fixed.expected_ratio("fr", "en") == 1.0
    with pytest.raises(TypeError):
        LengthRatioCheck(min_ratio=2.0)
