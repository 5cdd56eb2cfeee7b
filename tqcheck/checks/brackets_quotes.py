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
#: The openers each closer may close (the straight double quote closes itself).
_CLOSED_BY: dict[str, tuple[str, ...]] = {
    closer: tuple(o for o, closers in _OPENERS.items() if closer in closers) + (('"',) if closer == '"' else ())
    for closer in {c for closers in _OPENERS.values() for c in closers} | {'"'}
}


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
    # How many of each opener the stack holds: a closer that matches none of them is known at once,
    # without a walk down the stack (thousands of unclosed brackets made that quadratic).
    open_count: Counter[str] = Counter()

    def push(opener: str, i: int) -> None:
        stack.append((opener, i))
        open_count[opener] += 1

    def pop(depth: int = -1) -> None:
        for opener, _ in stack[depth:]:
            open_count[opener] -= 1
        del stack[depth:]

    def close_matching(i: int, char: str) -> None:
        if any(open_count[opener] for opener in _CLOSED_BY.get(char, ())):
            for depth in range(len(stack) - 1, -1, -1):
                opener = stack[depth][0]
                if char in _OPENERS.get(opener, "") or (opener == '"' and char == '"'):
                    for inner, inner_pos in stack[depth + 1:]:  # "«r": a reversed guillemet
                        problems.append((inner_pos, _FAMILY.get(inner, "double"),
                                         f"{plain[inner_pos]!r} is not closed before {char!r}"))
                    pop(depth)
                    return
        if char == ")" and (_LIST_MARKER.search(plain, max(0, i - 4), i + 1)
                            or _EMOTICON.search(plain, max(0, i - 2), i)):
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
                    pop()
                    push('"', i)
                else:
                    pop()
            elif open_count['"']:
                close_matching(i, char)
            else:
                push('"', i)
            continue
        if symmetric and char in "”»":
            if top == char:
                pop()
            else:
                push(char, i)
            continue
        if reversed_guillemets and char in "«»":
            if char == "»":
                push("«r", i)
            elif top == "«r":
                pop()
            else:
                problems.append((i, "double", f"{char!r} closes nothing"))
            continue
        if char == "“" and top == "„":
            pop()
            continue
        if char == "‘" and top == "‚":
            pop()
            continue
        if char == "’" and top not in ("‘", "‚"):
            continue  # an apostrophe
        if char in _OPENERS:
            push(char, i)
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
