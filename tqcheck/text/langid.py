"""Language identification with lingua (models bundled in the wheel, nothing to download).

A lingua detector is built once per set of candidate languages and kept (building is cheap, but the
first detection of each language loads its n-gram models, about a second in all); results are
cached by text. Detection over fewer candidates is both faster and more accurate on short texts,
so callers that know the language pair pass it as ``candidates``.

Codes are ISO 639-1 (``en``, ``fr``); region subtags (``fr-CA``) are ignored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from tqcheck.langcodes import base_lang

if TYPE_CHECKING:
    from lingua import Language

    from tqcheck.model import Segment

__all__ = ["DEFAULT_LANGUAGES", "detect_language", "detect_pair", "detect_stretches", "language_name"]

#: Languages considered when the caller names none: the news languages tqcheck is used on most.
DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "de", "it", "pt", "nl", "ru", "pl", "zh",
                                      "ja", "ar", "tr")

_MIN_LETTERS = 3

#: English names of the default languages, for messages a copy editor reads.
_NAMES = {"en": "English", "fr": "French", "es": "Spanish", "de": "German", "it": "Italian",
          "pt": "Portuguese", "nl": "Dutch", "ru": "Russian", "pl": "Polish", "zh": "Chinese",
          "ja": "Japanese", "ar": "Arabic", "tr": "Turkish", "ca": "Catalan"}


def language_name(code: str | None) -> str:
    """"French" for ``fr`` (and ``fr-CA``); the code itself for a language without a name here."""
    return _NAMES.get(_base(code or ""), code or "?")


def _base(code: str) -> str:
    return base_lang(code) or ""


@cache
def _supported() -> dict[str, Language]:
    from lingua import Language

    return {lang.iso_code_639_1.name.lower(): lang for lang in Language.all()}


def _codes(candidates: Iterable[str] | None) -> tuple[str, ...]:
    supported = _supported()
    if candidates:
        codes = {_base(c) for c in candidates if c and _base(c) in supported}
        if len(codes) >= 2:
            return tuple(sorted(codes))
        # One known candidate cannot be "detected" against nothing: add the defaults as rivals.
        return tuple(sorted(codes | set(DEFAULT_LANGUAGES)))
    return tuple(sorted(DEFAULT_LANGUAGES))


@lru_cache(maxsize=16)
def _detector(codes: tuple[str, ...], low_accuracy: bool = False):
    from lingua import LanguageDetectorBuilder

    supported = _supported()
    builder = LanguageDetectorBuilder.from_languages(*(supported[c] for c in codes))
    if low_accuracy:
        # Trigram models only: a fraction of the memory and time, less reliable on a few words.
        builder = builder.with_low_accuracy_mode()
    return builder.build()


def _has_letters(text: str) -> bool:
    count = 0
    for char in text:
        if char.isalpha():
            count += 1
            if count >= _MIN_LETTERS:
                return True
    return False


@lru_cache(maxsize=8192)
def _detect(text: str, codes: tuple[str, ...], low_accuracy: bool = False) -> tuple[str | None, float]:
    values = _detector(codes, low_accuracy).compute_language_confidence_values(text)
    if not values or values[0].value <= 0:
        return None, 0.0
    top = values[0]
    return top.language.iso_code_639_1.name.lower(), float(top.value)


def detect_language(
    text: str, candidates: Sequence[str] | None = None, *, low_accuracy: bool = False
) -> tuple[str | None, float]:
    """The most likely language of ``text`` among ``candidates`` and lingua's confidence in [0, 1].

    ``(None, 0.0)`` for a text with fewer than three letters. The confidence is relative to the
    candidates: with two candidates, 0.5 means lingua cannot tell them apart. ``low_accuracy``
    uses lingua's trigram-only mode (less memory and time, weaker on texts of a few words).
    """
    if not text or not _has_letters(text):
        return None, 0.0
    return _detect(text, _codes(candidates), low_accuracy)


def detect_stretches(
    text: str, candidates: Sequence[str] | None = None, *, low_accuracy: bool = False
) -> list[tuple[int, int, str, int]]:
    """Runs of one language inside ``text``: ``(start, end, code, word_count)``, offsets into text.

    lingua's multi-language detection; reliable on stretches of several words, not on single words.
    """
    if not text or not _has_letters(text):
        return []
    results = _detector(_codes(candidates), low_accuracy).detect_multiple_languages_of(text)
    return [(r.start_index, r.end_index, r.language.iso_code_639_1.name.lower(), r.word_count)
            for r in results]


def _vote(texts: Iterable[str], candidates: Sequence[str] | None) -> str | None:
    votes: Counter[str] = Counter()
    for text in texts:
        if len(text.split()) < 3:
            continue
        lang, confidence = detect_language(text, candidates)
        if lang is not None and confidence >= 0.5:
            votes[lang] += 1
    if not votes:
        return None
    lang, count = votes.most_common(1)[0]
    return lang if count * 2 > sum(votes.values()) else None


def detect_pair(
    segments: Sequence[Segment], *, sample: int = 200, candidates: Sequence[str] | None = None
) -> tuple[str | None, str | None]:
    """The majority language of the sources and of the MTs over the first ``sample`` segments.

    A language is returned only when it has more than half of the confident votes; segments of
    fewer than three words do not vote. ``None`` for a side without votes (no sources: target-only).
    """
    head = list(segments[:sample]) if hasattr(segments, "__getitem__") else list(segments)[:sample]
    source = _vote((s.source for s in head if s.source), candidates)
    target = _vote((s.mt for s in head if s.mt), candidates)
    return source, target
