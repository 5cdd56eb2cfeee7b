"""Untranslated text: the MT copies the source, keeps a stretch or a word of it, or is in another
language than the target.

Four tests, from cheapest to dearest (Accuracy/Untranslated, major):

1. **copy**: the MT equals the source (ignoring case, spacing and punctuation) and the source has
   at least ``min_words`` translatable words (lower-case words of two letters or more; names,
   numbers, URLs, handles and hashtags do not count, since they are rightly copied);
2. **copied stretch**: ``min_copy_words`` or more consecutive words shared by source and MT, at
   least three of them translatable words of four letters or more ("dépendent souvent en grande
   partie" left in an English MT);
3. **untranslated word** (when hunspell dictionaries of both languages are installed): a word of
   the MT (not a name: lower case, or capitalised at the start of a sentence) that is also in the
   source (or an inflection of a source word), unknown to the target dictionary in any case and
   known to the source one ("comportement", "aujourd'hui" in an English MT);
4. **wrong language** (lingua, ``langid=True``): the MT, stripped of names, numbers and other
   copied tokens, has at least ``min_words`` words and is identified as another language than
   ``target_lang`` with confidence >= ``min_confidence``; or a stretch of at least
   ``min_stretch_words`` words is in the source language (code-mixing; looked for only when the
   MT shares two or more words with the source, since multi-language detection is the dearest
   step). Candidates are the segment's two languages plus, for the whole-MT test, ``rivals``
   (en fr es de it pt nl by default), so a Spanish MT of a French source is named as Spanish.
   Where the target language has a hunspell dictionary, lingua only runs on MTs with at least two
   words (and ``unknown_share`` of them) unknown to it: an MT made of target-language words is in
   the target language, and on the dev MTs this skips lingua on all but a handful. What is left
   goes to lingua's low-accuracy (trigram) mode (``low_accuracy``), a fifth of the memory; without
   a dictionary, or with ``dictionary_prefilter=False``, every MT of ``min_words`` words goes to
   lingua's high-accuracy mode (alone, low accuracy calls short English sentences French).

Tests 3 and 4 need the target language (and 3 and the stretch part of 4 the source language);
without it they are skipped silently, the other tests still run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tqcheck.checks._text import base_lang, fold, has_digit, sentence_initial_indexes
from tqcheck.checks.base import Check
from tqcheck.model import Category, Flag, Segment, Severity
from tqcheck.text.hunspell import speller_for
from tqcheck.text.langid import language_name
from tqcheck.text.tokens import Token, tokens_of

_NON_WORD = re.compile(r"[\W_]+")
def _translatable(tok: Token, min_len: int = 2) -> bool:
    text = tok.text
    return (tok.kind == "word" and len(text) >= min_len and text[0].islower()
            and not has_digit(text))


def _content_text(tokens: tuple[Token, ...]) -> tuple[str, int]:
    """The words language identification should see (no names, numbers, URLs...), and their count."""
    initial = sentence_initial_indexes(tokens)
    kept = []
    for i, tok in enumerate(tokens):
        if tok.kind != "word" or has_digit(tok.text):
            continue
        if tok.text[0].isupper() and (i not in initial or tok.text.isupper()):
            continue
        kept.append(tok.text)
    return " ".join(kept), len(kept)


def _shared_words(mt_tokens: tuple[Token, ...], source: str) -> int:
    src = {fold(t.text) for t in tokens_of(source) if _translatable(t, 3)}
    return sum(1 for t in mt_tokens if _translatable(t, 3) and fold(t.text) in src)


def _unknown_words(text: str, lang: str) -> int | None:
    """How many words of ``text`` the hunspell dictionary of ``lang`` does not know (in lower case
    or as written), or None without a dictionary."""
    try:
        speller = speller_for(lang)
    except Exception:  # noqa: BLE001 - a broken dictionary: the spelling check reports it
        return None
    if speller is None:
        return None
    unknown = 0
    for word in text.split():
        lower = word.lower()
        if speller.known(lower) or speller.known(word):
            continue
        parts = [part for part in lower.split("-") if part]
        if len(parts) > 1 and all(speller.known(part) for part in parts):
            continue  # "well-known"
        unknown += 1
    return unknown


class UntranslatedCheck(Check):
    name = "untranslated"
    severity = Severity.MAJOR
    category = Category.UNTRANSLATED
    description = "MT copied from the source, or in the wrong language, in whole or in part"

    #: Languages the whole MT is compared against besides its pair (each costs detection time:
    #: about 25 µs a language on a news sentence).
    RIVALS = ("en", "fr", "es", "de", "it", "pt", "nl")

    def __init__(
        self,
        *,
        rivals: tuple[str, ...] | list[str] = RIVALS,
        min_words: int = 4,
        min_copy_words: int = 5,
        langid: bool = True,
        min_confidence: float = 0.9,
        min_stretch_words: int = 4,
        dictionary_words: bool = True,
        dictionary_prefilter: bool = True,
        unknown_share: float = 0.25,
        low_accuracy: bool = True,
    ) -> None:
        self.rivals = tuple(rivals)
        super().__init__(rivals=self.rivals, min_words=min_words, min_copy_words=min_copy_words,
                         langid=langid,
                         min_confidence=min_confidence, min_stretch_words=min_stretch_words,
                         dictionary_words=dictionary_words,
                         dictionary_prefilter=dictionary_prefilter, unknown_share=unknown_share,
                         low_accuracy=low_accuracy)
        self.min_words = min_words
        self.min_copy_words = min_copy_words
        self.langid = langid
        self.min_confidence = min_confidence
        self.min_stretch_words = min_stretch_words
        self.dictionary_words = dictionary_words
        self.dictionary_prefilter = dictionary_prefilter
        self.unknown_share = unknown_share
        self.low_accuracy = low_accuracy

    def run(self, segment: Segment) -> Iterator[Flag]:
        mt = segment.mt
        if not mt.strip():
            return
        src_lang = base_lang(segment.source_lang)
        tgt_lang = base_lang(segment.target_lang)
        if src_lang and tgt_lang and src_lang == tgt_lang:
            return  # monolingual post-editing: copying is not an error
        mt_tokens = tokens_of(mt)
        source = segment.source
        flagged: list[tuple[int, int]] = []
        if source and source.strip():
            src_tokens = tokens_of(source)
            copy = self._copy(segment, mt_tokens, src_tokens)
            if copy is not None:
                yield copy
                return
            for flag in self._stretches(mt_tokens, src_tokens):
                assert flag.span is not None  # a copied stretch is always placed
                flagged.append((flag.span.start, flag.span.end))
                yield flag
            if self.dictionary_words and src_lang and tgt_lang:
                for flag in self._words(mt_tokens, src_tokens, src_lang, tgt_lang):
                    assert flag.span is not None  # a copied word is always placed
                    if not any(s < flag.span.end and flag.span.start < e for s, e in flagged):
                        flagged.append((flag.span.start, flag.span.end))
                        yield flag
        if self.langid and tgt_lang:
            yield from self._language(segment, mt_tokens, src_lang, tgt_lang, flagged)

    # 1. the whole MT is a copy
    def _copy(self, segment: Segment, mt_tokens, src_tokens) -> Flag | None:
        if _NON_WORD.sub(" ", segment.mt).casefold().split() != \
                _NON_WORD.sub(" ", segment.source or "").casefold().split():
            return None
        words = [t for t in src_tokens if _translatable(t)]
        if len(words) < self.min_words:
            return None
        return self.flag(
            "the MT is a copy of the source", (0, len(segment.mt)), kind="copy_of_source",
            evidence={"translatable_words": [t.text for t in words][:20]},
        )

    # 2. long copied stretches
    def _stretches(self, mt_tokens, src_tokens) -> Iterator[Flag]:
        n = self.min_copy_words
        src_words = [fold(t.text) for t in src_tokens if t.kind in ("word", "number")]
        if len(src_words) < n:
            return
        grams = {tuple(src_words[i:i + n]) for i in range(len(src_words) - n + 1)}
        src_lower = {fold(t.text) for t in src_tokens if _translatable(t, 4)}
        mt_words = [t for t in mt_tokens if t.kind in ("word", "number")]
        keys = [fold(t.text) for t in mt_words]
        i = 0
        while i + n <= len(keys):
            if tuple(keys[i:i + n]) not in grams:
                i += 1
                continue
            j = i + n
            while j < len(keys) and tuple(keys[j - n + 1:j + 1]) in grams:
                j += 1
            run = mt_words[i:j]
            content = [t for t in run if _translatable(t, 4) and fold(t.text) in src_lower]
            if len(content) >= 3:
                start, end = run[0].start, run[-1].end
                yield self.flag(
                    f"{j - i} words copied from the source", (start, end), kind="copied_words",
                    evidence={"copied": " ".join(t.text for t in run)},
                )
            i = j

    # 3. single source words left in the MT
    def _words(self, mt_tokens, src_tokens, src_lang: str, tgt_lang: str) -> Iterator[Flag]:
        initial = sentence_initial_indexes(mt_tokens)
        candidates = []
        for i, tok in enumerate(mt_tokens):
            text = tok.text
            if tok.kind != "word" or len(text) < 3 or has_digit(text):
                continue
            if any(c.isupper() for c in text[1:]) or (text[0].isupper() and i not in initial):
                continue  # names and acronyms
            candidates.append(tok)
        if not candidates:
            return
        src_words = {fold(t.text) for t in src_tokens if t.kind == "word"}

        def in_source(word: str) -> bool:
            # "historique" in the MT, "historiques" in the source: the same word, inflected
            key = fold(word)
            return key in src_words or (len(key) >= 5 and any(
                w.startswith(key) or (len(w) >= 5 and key.startswith(w)) for w in src_words))

        try:
            target = speller_for(tgt_lang)
            source = speller_for(src_lang)
        except Exception:  # noqa: BLE001 - a broken dictionary: the spelling check reports it
            return
        if target is None or source is None:
            return
        for tok in candidates:
            word = tok.text
            lower = word[0].lower() + word[1:]
            capital = word[0].upper() + word[1:]
            # known to the target in any case ("Gaza" lower-cased is a name, not French); asked
            # first because a cached dictionary lookup is cheaper than the source prefix search
            if target.known(word) or target.known(lower) or target.known(capital):
                continue
            if not in_source(word):
                continue
            if source.known(lower) or source.known(word):
                yield self.flag(
                    f"{word!r} is a {language_name(src_lang)} word left untranslated",
                    (tok.start, tok.end), evidence={"word": word, "language": src_lang}, kind="source_word",
                )

    # 4. language identification
    def _language(self, segment: Segment, mt_tokens, src_lang: str | None, tgt_lang: str,
                  flagged: list[tuple[int, int]]) -> Iterator[Flag]:
        from tqcheck.text.langid import detect_language, detect_stretches

        text, count = _content_text(mt_tokens)
        if count < self.min_words:
            return
        low_accuracy = False
        if self.dictionary_prefilter:
            unknown = _unknown_words(text, tgt_lang)
            if unknown is not None:
                if unknown < max(2, self.unknown_share * count):
                    # Nearly every word is in the target dictionary: neither the whole MT nor a
                    # stretch of min_stretch_words words is in another language, and lingua (the
                    # dearest step of the rules) is skipped. Measured on the dev MTs: most of them.
                    return
                # The dictionary already vouches for the few MTs left, so lingua's trigram-only
                # mode (a fifth of the memory) is enough; alone it calls short English French.
                low_accuracy = self.low_accuracy
        candidates = tuple(sorted({tgt_lang, *(c for c in (src_lang,) if c), *self.rivals}))
        lang, confidence = detect_language(text, candidates, low_accuracy=low_accuracy)
        if lang is not None and lang != tgt_lang and confidence >= self.min_confidence:
            if not flagged:
                yield self.flag(
                    f"the MT seems to be in {language_name(lang)}, not {language_name(tgt_lang)}",
                    (0, len(segment.mt)), kind="wrong_language",
                    evidence={"detected": lang, "confidence": round(confidence, 3),
                              "expected": tgt_lang},
                )
            return
        if not src_lang or count < 2 * self.min_stretch_words:
            return
        if segment.source and _shared_words(mt_tokens, segment.source) < 2:
            # A stretch left in the source language shares its words with the source; without two
            # shared words there is none, and multi-language detection (about 0.5 ms) is skipped.
            return
        pair = (src_lang, tgt_lang)
        for start, end, stretch_lang, words in detect_stretches(segment.mt, pair,
                                                                low_accuracy=low_accuracy):
            if stretch_lang != src_lang or words < self.min_stretch_words:
                continue
            stretch_tokens = [t for t in mt_tokens if start <= t.start and t.end <= end]
            stretch_text, stretch_count = _content_text(tuple(stretch_tokens))
            if stretch_count < self.min_stretch_words:
                continue
            lang2, conf2 = detect_language(stretch_text, pair, low_accuracy=low_accuracy)
            if lang2 != src_lang or conf2 < self.min_confidence:
                continue
            words_only = [t for t in stretch_tokens if t.kind == "word"]
            if not words_only:
                continue
            s, e = words_only[0].start, words_only[-1].end
            if any(fs < e and s < fe for fs, fe in flagged):
                continue
            yield self.flag(
                f"a stretch of the MT seems to be in {language_name(src_lang)}: "
                f"{segment.mt[s:e]!r}", (s, e), kind="source_language_stretch",
                evidence={"detected": src_lang, "confidence": round(conf2, 3)},
            )
