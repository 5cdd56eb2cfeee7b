"""Rule checks on segments as long as a reader hands on: none may hang (issue 17).

Each text below, repeated to ``MAX_SEGMENT_CHARS`` characters, once kept a check busy for minutes:
spans compared with every span flagged before (spacing: stray spaces), numbers matched by scanning
every number left (numbers: "1 1 1 ..."), look-behinds searched from the start of the text (numbers:
dates, brackets: a list marker before ")"), names compared with every MT word of the same letter
(entities), host names split every way by a failing pattern (urls_handles: "www.www..."), unclosed
brackets and tags walked down at each closer. The limit is the fuzzing's 10 s per case, far above
what a linear check takes (well under a second here), so it catches a hang, not a slow machine.
"""

from __future__ import annotations

import pytest
from fuzzcases import CASE_LIMIT_S, time_limit

from tqcheck.checks import build_checks, run_checks
from tqcheck.checks.brackets_quotes import BracketsQuotesCheck
from tqcheck.config import CheckConfig
from tqcheck.io._common import MAX_SEGMENT_CHARS
from tqcheck.model import Segment

SHAPES = ["1 ", "-1", "$1 ", "1st ", "1 000 ", "12/03/2025 ", "14:00 ", "( ", "« ", " ?", "(»", "((]]",
          "Aa ", "Marie Lefèvre ", "Word ", "www.", "www.1.", "a-", "@ a ", "# a ", "<b>", "<a ", "{1}", "</b>"]
#: Shapes that the checks comparing source and MT also see in the source (numbers, names, tags, URLs).
BOTH_SIDES = ["1 ", "12/03/2025 ", "Aa ", "Marie Lefèvre ", "www.", "@ a ", "# a ", "<b>", "{1}"]
SHORT_SOURCE = "Le gouvernement a présenté son budget de 3 000 euros le 12/03/2025."


def long_text(unit: str) -> str:
    return (unit * (MAX_SEGMENT_CHARS // len(unit) + 1))[:MAX_SEGMENT_CHARS - 2] + " x"


@pytest.fixture(scope="module")
def checks():
    return build_checks(CheckConfig().with_rules_only())


@pytest.mark.parametrize("unit, same_source", [*((u, False) for u in SHAPES), *((u, True) for u in BOTH_SIDES)])
def test_every_rule_check_finishes_on_a_segment_at_the_size_limit(checks, unit, same_source):
    text = long_text(unit)
    segment = Segment("long", text, text if same_source else SHORT_SOURCE, "fr", "en")
    with time_limit(CASE_LIMIT_S):
        flags = run_checks(checks, segment)
    assert all(f.span is None or 0 <= f.span.start <= f.span.end <= MAX_SEGMENT_CHARS for f in flags)


def test_a_bracket_closed_over_a_reversed_guillemet_is_reported_not_a_crash():
    # German writes »...«: "»" opens. A ")" closing the "(" below it once raised KeyError('«r').
    flags = list(BracketsQuotesCheck().run(Segment("1", "Er sagte (»Ja) und ging.", target_lang="de")))
    assert [f.message for f in flags] == ["unbalanced quotes: '»' is not closed before ')'"]
    assert (flags[0].span.start, flags[0].span.end) == (10, 11)  # the guillemet
