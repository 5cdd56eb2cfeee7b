"""Unbalanced or mismatched brackets and quotes in the MT.

Brackets ``() [] {}`` and quotes ``“” ‘’ «» „“ ‚‘ ‹› 「」 『』`` are matched with a stack; the
same character may open in one convention and close in another (``“`` opens in English, closes
German ``„…“``), so a closing role is only taken when a matching opener is open. ``’`` without an
open ``‘`` is an apostrophe. Straight double quotes ``"`` are paired by position: a quote after a
space and before a letter opens, one after a letter and before a space or punctuation closes, and
a floating one (space on both sides) closes whatever straight quote is open. An opening straight
quote while another is open means the first was never closed.

Content of URLs, handles, hashtags and placeholders (``{1}``) is ignored, and so are list markers
(``a)``, ``2)``) and emoticons (``:)``).

With a source, a problem is only reported if the source does not have the same one: the count of
problems per family (round, square, curly, double quotes, single quotes) in the source is
subtracted, since the MT faithfully reproduces an unbalanced source. Quote styles are one family
across languages (« » in French becomes “ ” in English).

Severity minor, Fluency/Punctuation; the span is the offending bracket or quote.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from tqcheck.checks._text import base_lang, masked
from tqcheck.checks.base import Check
from tqcheck.model import Category, Flag, Segment, Severity

_OPENERS = {"(": ")", "[": "]", "{": "}", "“": "”", "‘": "’", "«": "»", "„": "“”", "‚": "‘’",
            "‹": "›", "「": "」", "『": "』", "（": "）", "【": "】", "《": "》"}
_CLOSERS = frozenset(")]}”’»›」』）】》")
_FAMILY = {
    **dict.fromkeys("()（）", "round"), **dict.fromkeys("[]【】", "square"), **dict.fromkeys("{}", "curly"),
    **dict.fromkeys("\"“”«»„「」『』《》", "double"), **dict.fromkeys("‘’‚‹›", "single"),
}
_INTERESTING = re.compile(r"[()\[\]{}\"“”‘’«»„‚‹›「」『』（）【】《》]")
_LIST_MARKER = re.compile(r"(?:^|[\s(])[a-zA-Z0-9ivx]{1,3}\)$")
_EMOTICON = re.compile(r"[:;=8][-^']?$")
#: Languages that may write »…« (reversed guillemets) or ”…” / »…» (same mark both sides).
_REVERSED_GUILLEMETS = frozenset({"de", "da", "hr", "sl", "cs", "sk", "hu", "pl"})
_SYMMETRIC = frozenset({"sv", "fi"})
_SPACE_BEFORE_OPEN = " \t\n\u00a0\u202f([{-—–/"


def _problems(text: str, lang: str | None) -> list[tuple[int, str, str]]:
    """(offset, family, message) for each bracket or quote problem in ``text``."""
    if not _INTERESTING.search(text):
        return []
    plain = masked(text)
    problems: list[tuple[int, str, str]] = []
    stack: list[tuple[str, int]] = []
    reversed_guillemets = False
    if lang in _REVERSED_GUILLEMETS or lang is None:
        first = re.search(r"[«»]", plain)
        reversed_guillemets = bool(first and first.group() == "»" and lang != "fr")
    symmetric = lang in _SYMMETRIC
    n = len(plain)

    def close_matching(i: int, char: str) -> None:
        for depth in range(len(stack) - 1, -1, -1):
            opener = stack[depth][0]
            if char in _OPENERS.get(opener, "") or (opener == '"' and char == '"'):
                for inner, inner_pos in stack[depth + 1:]:
                    problems.append((inner_pos, _FAMILY[inner],
                                     f"{inner!r} is not closed before {char!r}"))
                del stack[depth:]
                return
        if char == ")" and (_LIST_MARKER.search(plain, 0, i + 1) or _EMOTICON.search(plain, 0, i)):
            return
        problems.append((i, _FAMILY[char], f"{char!r} closes nothing"))

    for match in _INTERESTING.finditer(plain):
        i = match.start()
        char = match.group()
        top = stack[-1][0] if stack else None
        if char == '"':
            prev = plain[i - 1] if i else " "
            nxt = plain[i + 1] if i + 1 < n else " "
            opens = prev in _SPACE_BEFORE_OPEN and not nxt.isspace()
            if top == '"':
                if opens and (nxt.isalnum() or nxt in "'‘¿¡…"):
                    problems.append((stack[-1][1], "double", "'\"' is never closed"))
                    stack[-1] = ('"', i)
                else:
                    stack.pop()
            elif any(o == '"' for o, _ in stack):
                close_matching(i, char)
            else:
                stack.append(('"', i))
            continue
        if symmetric and char in "”»":
            if top == char:
                stack.pop()
            else:
                stack.append((char, i))
            continue
        if reversed_guillemets and char in "«»":
            if char == "»":
                stack.append(("«r", i))
            elif top == "«r":
                stack.pop()
            else:
                problems.append((i, "double", f"{char!r} closes nothing"))
            continue
        if char == "“" and top == "„":
            stack.pop()
            continue
        if char == "‘" and top == "‚":
            stack.pop()
            continue
        if char == "’" and top not in ("‘", "‚"):
            continue  # an apostrophe
        if char in _OPENERS:
            stack.append((char, i))
        elif char in _CLOSERS:
            close_matching(i, char)
    for opener, pos in stack:
        problems.append((pos, _FAMILY.get(opener, "double"), f"{plain[pos]!r} is never closed"))
    return problems


class BracketsQuotesCheck(Check):
    name = "brackets_quotes"
    severity = Severity.MINOR
    category = Category.PUNCTUATION
    description = "unbalanced or mismatched brackets and quotes"

    def __init__(self) -> None:
        super().__init__()

    def run(self, segment: Segment) -> Iterator[Flag]:
        problems = _problems(segment.mt, base_lang(segment.target_lang))
        if not problems:
            return
        if segment.source is not None:
            allowance = Counter(f for _, f, _ in _problems(segment.source,
                                                          base_lang(segment.source_lang)))
            kept = []
            for problem in problems:
                if allowance[problem[1]] > 0:
                    allowance[problem[1]] -= 1
                else:
                    kept.append(problem)
            problems = kept
        for pos, family, message in sorted(problems):
            what = "quotes" if family in ("double", "single") else "brackets"
            yield self.flag(f"unbalanced {what}: {message}", (pos, pos + 1),
                            evidence={"family": family, "char": segment.mt[pos]})
