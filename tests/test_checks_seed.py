"""The seed article (English MT of a French news story): what the rule checks must find, and only that.

These are the project's own expectations about the seed text, read off the text itself (not the
evaluation labels). Target-only, one segment per non-blank line, all default checks except the
dictionary and language-identification parts, which have their own tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tqcheck.checks import build_checks, run_checks
from tqcheck.config import CheckConfig
from tqcheck.model import Segment, Side

SEED = Path(__file__).resolve().parent.parent / "samples" / "caravan.en-mt.txt"
SOURCE = SEED.with_name("caravan.fr-reconstructed-source.txt")


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _find(line: str, text: str, occurrence: int = 1) -> tuple[int, int]:
    start = -1
    for _ in range(occurrence):
        start = line.index(text, start + 1)
    return start, start + len(text)


def _run(target_lang, with_source=False):
    config = CheckConfig(disable=("spelling",),
                         check_options={"untranslated": {"langid": False, "dictionary_words": False}})
    checks = build_checks(config)
    mts = _lines(SEED)
    sources = _lines(SOURCE) if with_source else [None] * len(mts)
    found = {}
    for i, (mt, src) in enumerate(zip(mts, sources)):
        segment = Segment(str(i), mt, src, "fr" if src else None, target_lang)
        found[i] = [(f.check, f.span.start, f.span.end, f.span.text_in(segment))
                    for f in run_checks(checks, segment) if f.span and f.span.side is Side.MT]
    return mts, found


def _expected(mts: list[str]) -> dict[int, list[tuple[str, int, int, str]]]:
    by_text = {i: line for i, line in enumerate(mts)}

    def idx(prefix: str) -> int:
        return next(i for i, line in by_text.items() if line.startswith(prefix))

    hashtags, tweet1, morning, tweet2 = idx("#Caravana"), idx("- Raphael"), idx("4am"), \
        [i for i, line in by_text.items() if line.startswith("- Raphael")][1]
    quote, chant, castaneda = idx('"I miss'), idx("In harsh heat"), idx("In the face")
    out: dict[int, list] = {}

    def add(i: int, check: str, text: str, occurrence: int = 1) -> None:
        start, end = _find(mts[i], text, occurrence)
        out.setdefault(i, []).append((check, start, end, mts[i][start:end]))

    add(hashtags, "urls_handles", "#mexico", 2)                  # #mexico #mexico
    add(tweet1, "urls_handles", "@ LaurentRaphael1")
    add(morning, "urls_handles", "#mexico")                      # #Mexico #mexico
    add(tweet2, "urls_handles", "@ LaurentRaphael1")
    # `my country , "` and `countries . "`: the space before the mark and the one before the
    # closing quote are one error, flagged as one span from the first space to the second.
    start, _ = _find(mts[quote], ' , "')
    out.setdefault(quote, []).append(("spacing", start, start + 3, " , "))
    start, _ = _find(mts[quote], ' . "')
    out[quote].append(("spacing", start, start + 3, " . "))
    # `"Go brothers, continue! ... "Mexico! Mexico! " Send`: the first quote never closes, and
    # a stray space sits before the closing quote.
    add(chant, "brackets_quotes", '"Go')
    out[chant][-1] = ("brackets_quotes", out[chant][-1][1], out[chant][-1][1] + 1, '"')
    start, _ = _find(mts[chant], 'Mexico! " Send')
    out[chant].append(("spacing", start + 7, start + 8, " "))
    start, _ = _find(mts[castaneda], ' . "')
    out.setdefault(castaneda, []).append(("spacing", start, start + 3, " . "))
    # "by deploying his army as needed. border, and threatened": a sentence cut by a stray full
    # stop ("si nécessaire son armée à la frontière" mangled).
    glued = idx('The "caravan"')
    start, _ = _find(mts[glued], "needed. border")
    out.setdefault(glued, []).append(("capitalization", start + 8, start + 14, "border"))
    return out


@pytest.mark.parametrize("target_lang", [None, "en"])
def test_seed_target_only_flags_exactly_the_known_problems(target_lang):
    mts, found = _run(target_lang)
    expected = _expected(mts)
    for i in range(len(mts)):
        assert sorted(found[i]) == sorted(expected.get(i, [])), mts[i]


def test_seed_clean_sentences_raise_nothing():
    mts, found = _run("en")
    for prefix in ("The caravan of migrants", "Dirty work", "According to the Mexican government",
                   "Mexico! Mexico!", "Thousands of migrants", "About 7,000 migrants"):
        i = next(i for i, line in enumerate(mts) if line.startswith(prefix))
        assert found[i] == [], mts[i]


def test_seed_with_reconstructed_source_keeps_the_mt_findings():
    mts, found = _run("en", with_source=True)
    expected = _expected(mts)
    for i, flags in expected.items():
        for flag in flags:
            assert flag in found[i], (mts[i], flag)
    # the source holds "#mexico #méxico": the MT's duplicate is still an error; and the MT's
    # translated hashtags (#caravana -> #caravan) are reported as altered
    hashtags = next(i for i, line in enumerate(mts) if line.startswith("#Caravana"))
    assert ("urls_handles", *_find(mts[hashtags], "#caravan"), "#caravan") in found[hashtags]
    # no number, name or glossary trouble on the article's sentences
    assert not [f for flags in found.values() for f in flags if f[0] in ("numbers", "entities")]
