"""urls_handles: broken, altered, missing, added and duplicated URLs, e-mails, handles, hashtags."""

from __future__ import annotations

import pytest

from tqcheck.checks.urls_handles import UrlsHandlesCheck
from tqcheck.model import Category, Segment, Severity

CHECK = UrlsHandlesCheck()


def found(mt, source=None):
    segment = Segment("t", mt, source)
    return [(f.span.side.value, f.span.text_in(segment), f.severity.value, f.category.value)
            for f in CHECK.run(segment)]


@pytest.mark.parametrize("mt, expected", [
    ("- Raphael Laurent (@ LaurentRaphael1) October 24, 2018",
     [("mt", "@ LaurentRaphael1", "minor", "Markup")]),
    ("#CaravanaDeMigrantes #caravan #migrants #honduras #mexico #mexico #cantaynollores",
     [("mt", "#mexico", "minor", "Markup")]),
    ("4am The caravan leaves #huixtla #CaravanaMigrantes #Mexico #mexico pic.twitter.com/g4OZBVpQIY",
     [("mt", "#mexico", "minor", "Markup")]),
    ("See pic.twitter.com/ xeyyuh3wEB now", [("mt", "pic.twitter.com/ xeyyuh3wEB", "major", "Markup")]),
    ("See https: //example.com/a", [("mt", "https: //example.com/a", "major", "Markup")]),
    ("Read www. lemonde.fr daily", [("mt", "www. lemonde.fr", "major", "Markup")]),
    ("See pic.twitter. com/abc.", [("mt", "pic.twitter. com/abc", "major", "Markup")]),
    ("Follow # mexico #caravan", [("mt", "# mexico", "minor", "Markup")]),
])
def test_target_only_problems(mt, expected):
    assert found(mt) == expected


@pytest.mark.parametrize("mt", [
    "- Raphael Laurent (@LaurentRaphael1) October 24, 2018",
    "#mexico is nice. Later: #mexico again",        # not in one run of hashtags
    "#caravan #migrants #mexico pic.twitter.com/xeyyuh3wEB",
    "Meet me @ home at 5",                           # an "at" sign, not a handle
    "Ranked # 1 in the world",
    "He went home. twitter.com is down",             # a domain after a full stop is fine
    "Write to info@example.org or see https://example.org/a?b=1#top.",
    "See pic.twitter.com/xeyyuh3wEB for details",
    "",
])
def test_target_only_clean(mt):
    assert found(mt) == []


@pytest.mark.parametrize("source, mt, expected", [
    ("(@LaurentRaphael1) 24 octobre", "(@ LaurentRaphael1) October 24",
     [("mt", "@ LaurentRaphael1", "minor", "Markup")]),  # broken, not also "missing"
    ("#caravana #migrantes", "#caravan #migrants",
     [("mt", "#caravan", "minor", "Markup"), ("mt", "#migrants", "minor", "Markup")]),
    ("#mexico #méxico", "#mexico #mexico", [("mt", "#mexico", "minor", "Markup")]),
    ("Écrivez à info@exemple.org", "Write to info@example.org",
     [("mt", "info@example.org", "major", "Markup")]),
    ("Voir https://x.org/a", "See the site", [("source", "https://x.org/a", "major", "Accuracy/Omission")]),
    ("Voir le site", "See https://x.org/a", [("mt", "https://x.org/a", "minor", "Accuracy/Addition")]),
])
def test_with_source(source, mt, expected):
    assert found(mt, source) == expected


@pytest.mark.parametrize("source, mt", [
    ("Voir https://WWW.X.org/a/ et @User", "See https://x.org/a and @user"),  # host case, slash
    ("#mexico #mexico !", "#mexico #mexico!"),   # the source repeats it too
    ("pic.twitter.com/xeyyuh3wEB", "pic.twitter.com/xeyyuh3wEB"),
])
def test_with_source_clean(source, mt):
    assert found(mt, source) == []


def test_evidence_gives_the_repair():
    (flag,) = CHECK.run(Segment("t", "(@ LaurentRaphael1)"))
    assert flag.evidence["expected"] == "@LaurentRaphael1"
    assert flag.severity is Severity.MINOR and flag.category is Category.MARKUP  # measured: minor to MQM raters
