"""Tokens with exact character offsets, for checks that must point at a span of the MT.

One precompiled regular expression splits a text into tokens whose offsets are Python string
indices, so ``text[t.start:t.end] == t.text`` always holds and every character of the text belongs
to exactly one token. The kinds are what the rule checks need to tell apart:

``url``, ``email``, ``handle`` (@name), ``hashtag`` (#tag), ``placeholder`` (inline tags and format
placeholders: ``{1}``, ``{/1}``, ``{2/}``, ``{name}``, ``%s``, ``%1$d``, ``<b>``, ``&amp;``),
``number`` (digits with group/decimal separators, optional ordinal suffix: ``3,000``, ``3 000``
with a no-break space, ``3,5``, ``13th``, ``1er``), ``word`` (letters and digits, with inner
apostrophes and hyphens: ``don't``, ``l'État``, ``US-Mexico``, ``4am``), ``space``, ``punct``
(runs of one repeated punctuation character: ``...``, ``!!``) and ``symbol`` (``$``, ``€``, ``+``).

It is regex-based on purpose: checks run it on every segment, and a language-specific tokenizer
would be slower and would disagree across languages about offsets.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Token", "tokenize", "tokens_of", "KINDS", "TLDS"]

KINDS = ("word", "number", "punct", "space", "url", "email", "handle", "hashtag", "placeholder",
         "symbol")


@dataclass(frozen=True, slots=True)
class Token:
    """A piece of text at ``[start, end)``; ``kind`` is one of ``KINDS``."""

    start: int
    end: int
    text: str
    kind: str


#: Top-level domains accepted for bare domains without a scheme (``pic.twitter.com/xyz``,
#: ``lemonde.fr``). A closed list, because "word.word" is far more often a missing space after a
#: full stop than a domain.
TLDS = frozenset(
    "com org net edu gov mil int info biz io co me tv fm ly gl gd be to news app dev ai uk us ca au nz "
    "ie fr de es it pt nl ch at se no dk fi pl cz ru ua jp cn kr in br mx ar cl pe ve uy ec bo py "
    "hn gt sv ni cr pa cu do ht za ng ke ma dz tn eg sn ci cm eu lu mc ma".split()
)

# A URL path: no spaces or quotes, parentheses only in balanced pairs (Wikipedia's "Foo_(bar)"),
# and never ending in punctuation that belongs to the sentence.
_URL_PATH = r"""(?:[^\s<>"«»“”()]|\([^\s<>"«»“”()]*\))*(?<![.,;:!?'’\]}])"""
_TLD_ALT = "|".join(sorted(TLDS, key=len, reverse=True))

_PATTERN = re.compile(
    r"""
    (?P<url>
        (?:(?:https?|ftp)://|www\.) """ + _URL_PATH + r"""
      | (?<![\w@.\-])(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+(?:""" + _TLD_ALT + r""")
        (?![\w\-])(?:/""" + _URL_PATH + r""")?
    )
  | (?P<email>(?<![\w.+\-])[\w.+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+(?<![.\-]))
  | (?P<handle>(?<![\w@])@\w+)
  | (?P<hashtag>(?<![\w&#])\#(?=\w*[^\W\d])\w+)
  | (?P<placeholder>
        \{\{\s*[\w.]+\s*\}\}                         # {{name}}
      | \$\{\w+\}                                    # ${name}
      | \{/?\w{0,30}/?\}                             # {1} {/1} {2/} {name} {}
      | %(?:\d+\$)?[-+\#0]?\d*(?:\.\d+)?[sdif]       # %s %d %1$s %.2f
      | %\(\w+\)[sdifr]                               # %(name)s
      | </?[A-Za-z][\w:\-]*(?:\s+[^<>]*?)?/?>        # <b> </b> <br/> <a href="x">
      | &(?:[A-Za-z][A-Za-z0-9]{1,31}|\#\d{1,7}|\#[xX][0-9A-Fa-f]{1,6});  # &amp; &#39;
    )
  | (?P<number>
        \d+(?:[.,\u00a0\u202f\u2009'’]\d+)*
        (?:st|nd|rd|th|er|re|e|ème|eme|º|ª|°)?(?!\w)
    )
  | (?P<word>\w+(?:['’\-]\w+)*)
  | (?P<space>\s+)
  | (?P<other>(?P<char>[^\w\s])(?P=char)*)
    """,
    re.VERBOSE,
)


def _punct_or_symbol(char: str) -> str:
    return "punct" if unicodedata.category(char).startswith("P") else "symbol"


@lru_cache(maxsize=4096)
def tokens_of(text: str) -> tuple[Token, ...]:
    """Cached, immutable tokenization: several checks tokenize the same MT, this does it once."""
    tokens = []
    append = tokens.append
    for match in _PATTERN.finditer(text):
        kind = match.lastgroup
        if kind == "other" or kind == "char":
            kind = _punct_or_symbol(match.group()[0])
        append(Token(match.start(), match.end(), match.group(), kind))
    return tuple(tokens)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens covering it completely, in order, with exact offsets."""
    return list(tokens_of(text))
