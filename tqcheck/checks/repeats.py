"""Repeated words and short phrases: "the the", "clocks clocks clocks", "in the in the".

Only repeats separated by whitespace alone count: "Mexico! Mexico!" is a chant, "Mexico Mexico"
is a stutter. Comparison is case-insensitive ("The the").

Not flagged:

* grammatical or idiomatic doubles of the target language ("that that", "had had", French
  "nous nous" / "vous vous", "bye bye");
* with a source, a repeat the source has too (the same word repeated, or as many adjacent repeats
  in the source as in the MT, e.g. "vite vite" -> "quickly quickly");
* single letters ("a a"). Numbers count ("since 2007 2007").

Severity minor, Fluency/Grammar. The span covers the extra copies (from the second one on); evidence
has the repeated text, the number of copies and the span of the first copy.
"""

from __future__ import annotations

from collections.abc import Iterator

from tqcheck.checks._text import base_lang, fold
from tqcheck.checks.base import Check
from tqcheck.model import Category, Flag, Segment, Severity
from tqcheck.text.tokens import Token, tokens_of

#: Doubles that are grammatical or idiomatic in each language.
LEGIT_DOUBLES: dict[str, frozenset[str]] = {
    "en": frozenset("that had is bye ha haha no yeah so very knock tut tsk chop".split()),
    "fr": frozenset("nous vous bye ha non si très tout toc".split()),
    "es": frozenset("no ya ha muy poco".split()),
    "de": frozenset("die der das ha nein".split()),
    "it": frozenset("no ha piano".split()),
    "pt": frozenset("no ha".split()),
    "nl": frozenset("ha nee".split()),
}
_ALL_LEGIT = frozenset().union(*LEGIT_DOUBLES.values())
_MAX_N = 3


def _sequence(text: str) -> list[tuple[Token, bool]]:
    """(word token, joined_to_previous_by_whitespace_only) for each word of ``text``."""
    out: list[tuple[Token, bool]] = []
    joined = False
    for tok in tokens_of(text):
        kind = tok.kind
        if kind == "space":
            continue
        if kind in ("word", "number"):
            out.append((tok, joined))
            joined = True
        else:
            # Punctuation breaks a repeat; so do hashtags and handles (urls_handles checks those).
            joined = False
    return out


def _repeats(text: str, legit: frozenset[str]) -> list[tuple[int, int, int, str, int]]:
    """(first_index, n, copies, folded_text, end_index) of each run of an n-gram repeated."""
    seq = _sequence(text)
    keys = [fold(tok.text) for tok, _ in seq]
    found = []
    i = 0
    while i < len(seq):
        best = None
        for n in range(1, _MAX_N + 1):
            if i + 2 * n > len(seq):
                break
            copies = 1
            while True:
                j = i + copies * n
                if j + n > len(seq) or keys[j:j + n] != keys[i:i + n]:
                    break
                # every word of the copy must follow its predecessor with only whitespace between
                if not all(seq[k][1] for k in range(j, j + n)):
                    break
                copies += 1
            if copies > 1:
                best = (n, copies)
                break
        if best is None:
            i += 1
            continue
        n, copies = best
        gram = keys[i:i + n]
        end = i + n * copies
        tokens = [seq[k][0] for k in range(i, i + n)]
        if n == 1 and (gram[0] in legit or len(gram[0]) < 2 and tokens[0].kind == "word"):
            i = end
            continue
        found.append((i, n, copies, " ".join(gram), end))
        i = end
    return found


def _source_repeats(source: str) -> tuple[set[str], int]:
    """Words the source repeats adjacently (punctuation allowed between) and how many repeats."""
    # Numbers stay in the sequence: "20 % de l'eau" must not make "de ... de" adjacent.
    words = [fold(t.text) for t in tokens_of(source) if t.kind in ("word", "number")]
    repeated = {a for a, b in zip(words, words[1:]) if a == b and a not in _ALL_LEGIT}
    count = sum(1 for a, b in zip(words, words[1:]) if a == b and a not in _ALL_LEGIT)
    return repeated, count


class RepeatsCheck(Check):
    name = "repeats"
    severity = Severity.MINOR
    category = Category.GRAMMAR
    description = "the same word or phrase twice in a row"

    def __init__(self) -> None:
        super().__init__()

    def run(self, segment: Segment) -> Iterator[Flag]:
        lang = base_lang(segment.target_lang)
        legit = LEGIT_DOUBLES.get(lang, _ALL_LEGIT) if lang else _ALL_LEGIT
        found = _repeats(segment.mt, legit)
        if not found:
            return
        seq = _sequence(segment.mt)
        if segment.source:
            src_words, src_count = _source_repeats(segment.source)
            found = [f for f in found if f[3] not in src_words]
            if len(found) <= src_count:
                return
        for i, n, copies, gram, end in found:
            first = seq[i][0]
            start = seq[i + n][0].start
            stop = seq[end - 1][0].end
            text = segment.mt[start:stop]
            yield self.flag(
                f"{gram!r} repeated {copies} times" if copies > 2 else f"{gram!r} repeated",
                (start, stop),
                evidence={"repeated": text, "copies": copies, "first": [first.start, seq[i + n - 1][0].end]},
            )
