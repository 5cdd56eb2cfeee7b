"""What kind of text a flagged span covers: the classes that decide whether a finding is likely right.

A language model finds "Huixtla", "October" and "7000" surprising because it has rarely seen them, not
because they are wrong; a word the source already has verbatim (a name, a number, an id) was copied,
not mistranslated; a function word or a number lost in a round trip says more about the engine's
lexicon than about the MT. ``span_classes`` names these classes for one span, so that the signals can
leave such candidates out where they arise and the fusion's precision model can weigh what is left.

Classes (a span may have several):

``number``        a digit in it (``3,000``, ``13th``, ``4am``);
``link``          a URL, e-mail address, @handle or #hashtag token, or an inline placeholder;
``date``          a month or weekday name of the text's language (CLDR, through Babel);
``name``          capitalised words not at the start of a sentence (proper nouns, in scripts with case);
``copied``        the span's text occurs verbatim in the source (names, ids and numbers are copied);
``function``      only function words of the language (``of``, ``the``, ``de``);
``punct``         no letter or digit at all;
``initial``       starts a sentence.
"""

from __future__ import annotations

import bisect
from functools import lru_cache

from tqcheck.langcodes import base_lang
from tqcheck.text.tokens import tokens_of
from tqcheck.text.wordalign import is_content, words

CLASSES = ("number", "link", "date", "name", "copied", "function", "punct", "initial")
_LINK_KINDS = frozenset({"url", "email", "handle", "hashtag", "placeholder"})
#: What ends a sentence before a span for it to count as sentence-initial.
_SENTENCE_END = ".!?:;\"“”«»()[]\n"


def span_classes(text: str, start: int, end: int, *, lang: str | None,
                 source: str | None = None) -> frozenset[str]:
    """The classes of ``text[start:end]`` (see the module docstring)."""
    piece = text[start:end]
    out: set[str] = set()
    if not any(ch.isalnum() for ch in piece):
        return frozenset({"punct"})
    if any(ch.isdigit() for ch in piece):
        out.add("number")
    if _overlaps_link(text, start, end):
        out.add("link")
    before = text[:start].rstrip()
    initial = not before or before[-1] in _SENTENCE_END
    if initial:
        out.add("initial")
    pieces = words(piece)
    if pieces:
        names = date_names(lang)
        if names and all(w.lower in names for w in pieces):
            out.add("date")
        first_is_name = pieces[0].text[:1].isupper() and not initial
        if first_is_name and all(w.text[:1].isupper() or not is_content(w, lang) for w in pieces):
            out.add("name")
        if all(not is_content(w, lang) and not w.text.isdigit() for w in pieces):
            out.add("function")
    if source and piece.strip() and len(piece.strip()) > 1 and piece.strip() in source:
        out.add("copied")
    return frozenset(out)


def _overlaps_link(text: str, start: int, end: int) -> bool:
    """Whether ``[start, end)`` overlaps a link token of ``text``: a binary search in the text's link
    tokens, so that a segment with thousands of findings is not a scan of every token per finding."""
    starts, ends = _links(text)
    i = bisect.bisect_left(ends, start + 1)  # the first link ending after ``start``
    return i < len(starts) and starts[i] < end


@lru_cache(maxsize=256)
def _links(text: str) -> tuple[list[int], list[int]]:
    """The link tokens' starts and ends, in text order (tokens do not overlap)."""
    links = [t for t in tokens_of(text) if t.kind in _LINK_KINDS]
    return [t.start for t in links], [t.end for t in links]


@lru_cache(maxsize=64)
def date_names(lang: str | None) -> frozenset[str]:
    """Month and weekday names of a language, lower-cased, wide and abbreviated (CLDR via Babel);
    empty for a language Babel does not know."""
    code = base_lang(lang)
    if not code:
        return frozenset()
    try:
        from babel import Locale, UnknownLocaleError
        from babel.dates import get_day_names, get_month_names
    except ImportError:  # Babel is a dependency; a broken install only loses this class
        return frozenset()
    try:
        locale = Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return frozenset()
    names: set[str] = set()
    for width in ("wide", "abbreviated"):
        for context in ("format", "stand-alone"):
            names.update(n.lower().rstrip(".") for n in get_month_names(width, context, locale).values())
            names.update(n.lower().rstrip(".") for n in get_day_names(width, context, locale).values())
    return frozenset(n for n in names if n)
