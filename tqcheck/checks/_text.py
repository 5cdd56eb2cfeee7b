"""Small text helpers shared by the rule checks: accent folding, masking (language codes: ``tqcheck.langcodes``).

Kept here (not in ``tqcheck.text``) because they encode the checks' own conventions, e.g. which
languages follow French typography or how two spellings of a name are compared.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from tqcheck.langcodes import base_lang, region  # noqa: F401  (re-used by the checks)
from tqcheck.text.tokens import Token, tokens_of

#: Token kinds whose text must survive translation byte for byte and that other checks must not
#: look inside (a URL's digits are not numbers, a hashtag's word is not a name).
OPAQUE_KINDS = frozenset({"url", "email", "handle", "hashtag", "placeholder"})



_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_DIGIT = re.compile(r"\d")


def has_digit(text: str) -> bool:
    return _DIGIT.search(text) is not None


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Case- and accent-insensitive form: ``Castañeda`` and ``castaneda`` compare equal.

    Typographic apostrophes and hyphens are unified too, since MT systems change them freely.
    """
    if text.isascii():
        return text.casefold()
    stripped = _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))
    return stripped.replace("’", "'").replace("‘", "'").replace("‐", "-").replace("‑", "-")


def masked(text: str, kinds: frozenset[str] = OPAQUE_KINDS, fill: str = " ") -> str:
    """``text`` with tokens of ``kinds`` overwritten by ``fill`` (same length, offsets kept)."""
    tokens = tokens_of(text)
    if not any(t.kind in kinds for t in tokens):
        return text
    return "".join(fill * (t.end - t.start) if t.kind in kinds else t.text for t in tokens)


def words(text: str) -> list[Token]:
    """Word tokens of ``text`` (cached tokenization)."""
    return [t for t in tokens_of(text) if t.kind == "word"]


def is_capitalised(word: str) -> bool:
    return word[:1].isupper()


_SENTENCE_OPENERS = frozenset(".!?…:;\"“”«»„‚‘'([{¿¡—–-•")


def sentence_initial_indexes(tokens: tuple[Token, ...] | list[Token]) -> set[int]:
    """Indexes (into ``tokens``) of word tokens that open a sentence, a quote or a bracket.

    A capital there says nothing about whether the word is a name.
    """
    initial: set[int] = set()
    expect = True
    for i, tok in enumerate(tokens):
        kind = tok.kind
        if kind == "space":
            continue
        if kind in ("word", "number"):
            if expect and kind == "word":
                initial.add(i)
            expect = False
        elif kind in ("punct", "symbol"):
            if tok.text[0] in _SENTENCE_OPENERS:
                expect = True
        else:
            # Handles, hashtags, URLs: tweets put a name or a sentence right after them.
            expect = True
    return initial
