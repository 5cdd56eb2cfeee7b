"""Near-homographs without a source: would the MT read better with a word its source language spells alike?

"They hoped to reach it after twelve hours of market" (French *marche*, walk, read as *marché*,
market) leaves no trace a source-free check can see in the word itself: "market" is a fine English
word. The slip can still be reconstructed from the MT alone, the way a bilingual copy editor does it
("market... that's *marché*... did the source say *marche*?"):

1. the MT word's translation into the source language: "market" -> "marché";
2. that word's accent variants that are real words of the source language (hunspell): "marche";
3. their translations back into the MT's language: "march";
4. the language model reads the MT as it is and with the word swapped for that reading. When the
   swapped sentence is more probable ("... twelve hours of march." beats "... twelve hours of
   market." by 6.8 nats with SmolLM2), the MT word is a candidate of strength ``gain`` (nats).

Not candidates: words whose translation is the word itself (untranslated, or unknown to the engine:
the untranslated check's business), variants the engine passes through unchanged (it does not know
them), and readings that are the MT word again (an inflection: "entraîné"/"entraîne" -> "trained").

Only for target-only segments: with a source, the round trip confirms a near-homograph against the
source word itself (``tqcheck.signals.roundtrip``). The signal gives no sentence score: it fires on
about one segment in two hundred, and a score that is zero almost everywhere teaches a risk model
nothing; the calibration instead measures how often its candidates land on human-marked major
errors (``tqcheck.fusion.fit``), and the fusion uses that (``tqcheck.fusion.fuse``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tqcheck.model import Category, EngineInfo, Flag, Segment, Severity, Span
from tqcheck.signals._common import EngineSlot, group_indices, token_scores, translate
from tqcheck.signals._lexicon import known_word
from tqcheck.signals.base import EMPTY, SignalOutput
from tqcheck.signals.surprisal import robust_z, word_surprisal
from tqcheck.text.langid import language_name
from tqcheck.text.wordalign import MatchLevel, Word, accent_variants, fold, is_content, phrase_match, words

#: Shortest MT word (and source-language translation) tried: short words have many accidental variants.
MIN_WORD_LENGTH = 4

#: lexicon(lang, word) -> True/False, or None without a dictionary for ``lang``.
Lexicon = Callable[[str, str], "bool | None"]


@dataclass(frozen=True)
class Swap:
    """One alternative reading of an MT word."""

    word: Word
    translation: str  # the MT word in the source language ("marché")
    variant: str  # a source-language word spelled alike ("marche")
    reading: str  # the variant translated back ("march")
    swapped: str  # the MT with the word replaced by the reading


class HomographSignal:
    """``translator`` serves both directions (MT language <-> source language); ``lm`` reads the MT
    language."""

    name = "homograph"

    def __init__(self, translator: EngineSlot, lm: EngineSlot, *, cache: Any = None,
                 lexicon: Lexicon = known_word) -> None:
        self.translator = translator
        self.lm = lm
        self.cache = cache
        self.lexicon = lexicon

    @property
    def engines(self) -> tuple[EngineInfo, ...]:
        return self.translator.used() + self.lm.used()

    def applies(self, segment: Segment) -> bool:
        return not (segment.source and segment.source.strip()) and bool(segment.mt.strip()) \
            and bool(segment.source_lang) and bool(segment.target_lang) \
            and segment.source_lang != segment.target_lang

    def compute(self, segments: Sequence[Segment]) -> list[SignalOutput]:
        out: list[SignalOutput] = [EMPTY] * len(segments)
        groups = group_indices(segments, lambda s: (s.source_lang, s.target_lang) if self.applies(s) else None)
        for (src, tgt), idx in groups.items():
            to_src, to_tgt = self.translator.get(tgt, src), self.translator.get(src, tgt)
            lm = self.lm.get(None, tgt)
            if to_src is None or to_tgt is None or lm is None:
                continue
            batch = [segments[i] for i in idx]
            swaps = self._swaps(batch, to_src, to_tgt, src, tgt)
            for i, mine in zip(idx, self._scored(lm, batch, swaps, tgt)):
                if mine:
                    out[i] = SignalOutput({}, {}, tuple(self._flag(swap, gain, src) for swap, gain in mine))
        return out

    def _swaps(self, batch: list[Segment], to_src: Any, to_tgt: Any, src: str, tgt: str) -> list[list[Swap]]:
        """Every alternative reading of every long enough content word, per segment."""
        mt_words = [[w for w in words(s.mt) if is_content(w, tgt) and len(w.norm) >= MIN_WORD_LENGTH]
                    for s in batch]
        vocab = sorted({w.lower for ws in mt_words for w in ws})
        own = {word: translation.strip().lower() for word, translation
               in zip(vocab, translate(self.cache, to_src, vocab, source_lang=tgt, target_lang=src))}
        variants: dict[str, list[str]] = {}
        for word, translation in own.items():
            if " " in translation or len(translation) < MIN_WORD_LENGTH or fold(translation) == fold(word):
                continue
            found = [v for v in accent_variants(translation) if self.lexicon(src, v)]
            if found:
                variants[word] = found
        asked = sorted({v for vs in variants.values() for v in vs})
        reading = dict(zip(asked, translate(self.cache, to_tgt, asked, source_lang=src, target_lang=tgt)))
        out = []
        for segment, ws in zip(batch, mt_words):
            mine = []
            for w in ws:
                for variant in variants.get(w.lower, ()):
                    text = reading[variant].strip()
                    if not text or text.lower() == variant:
                        continue  # passed through: the engine does not know the variant
                    if phrase_match(text, [w], tgt)[0] >= MatchLevel.STEM:
                        continue  # the same word again: an inflection, not another word
                    if w.text[:1].isupper():
                        text = text[:1].upper() + text[1:]
                    mine.append(Swap(w, own[w.lower], variant, text,
                                     segment.mt[:w.start] + text + segment.mt[w.end:]))
            out.append(mine)
        return out

    def _scored(self, lm: Any, batch: list[Segment], swaps: list[list[Swap]],
                tgt: str) -> list[list[tuple[Swap, float]]]:
        """Per segment, the swaps the language model prefers to the MT, with the gain in nats (the
        best one per MT word). Only words at or above their sentence's median surprisal are swapped
        (``_stands_out``): a confused word does not fit where it is, and reading each swapped sentence
        is what this test costs."""
        originals = [s.mt for s, mine in zip(batch, swaps) if mine]
        read = dict(zip(originals, token_scores(self.cache, lm, originals, lang=tgt)))
        kept = []
        for segment, mine in zip(batch, swaps):
            starts = _stands_out(segment.mt, read[segment.mt]) if mine else set()
            kept.append([x for x in mine if x.word.start in starts])
        swapped = [x.swapped for mine in kept for x in mine]
        read.update(zip(swapped, token_scores(self.cache, lm, swapped, lang=tgt)))
        total = {text: sum(tok.surprisal for tok in tokens) for text, tokens in read.items()}
        out = []
        for segment, mine in zip(batch, kept):
            best: dict[int, tuple[Swap, float]] = {}
            for swap in mine:
                gain = total[segment.mt] - total[swap.swapped]
                if gain > 0 and gain > best.get(swap.word.start, (None, 0.0))[1]:
                    best[swap.word.start] = (swap, gain)
            out.append([best[k] for k in sorted(best)])
        return out

    def _flag(self, swap: Swap, gain: float, src: str) -> Flag:
        w = swap.word
        message = (f"“{w.text}” may be “{swap.reading}” misread: in {language_name(src)} “{w.text}” is "
                   f"“{swap.translation}”, spelled like “{swap.variant}” (“{swap.reading}”), and the sentence reads "
                   f"{_times(gain)} more likely with “{swap.reading}”")
        return Flag(self.name, Severity.MINOR, Category.MISTRANSLATION, message, Span(w.start, w.end),
                    {"kind": "near_homograph_reading", "mt_word_in_source_language": swap.translation,
                     "spelled_alike": swap.variant, "spelled_alike_reads_as": swap.reading,
                     "reads_better": swap.swapped, "gain_nats": round(gain, 3)},
                    confidence=round(gain, 3))


def _stands_out(text: str, tokens: Sequence[Any]) -> set[int]:
    """Start offsets of the words whose surprisal is at or above the median of their sentence."""
    per_word = word_surprisal(text, tokens)
    return {w.start for (w, _, _), z in zip(per_word, robust_z([s for _, s, _ in per_word])) if z >= 0}


def _times(gain: float) -> str:
    ratio = math.exp(min(gain, 50.0))
    return f"{ratio:,.0f} times" if ratio >= 10 else f"{ratio:.1f} times"
