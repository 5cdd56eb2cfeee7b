"""Round trip: translate the MT back into the source language and compare it with the source.

Sentence scores (sacrebleu, back-translation vs source): ``roundtrip.chrf``, ``roundtrip.bleu``,
``roundtrip.ter``; and word-level shares: ``roundtrip.lost`` (source content words that did not come
back), ``roundtrip.unaligned`` (lost *and* not the translation of any MT word: the back-translation
engine is not to blame), ``roundtrip.unsupported`` (MT content words whose own translation matches no
source word), ``roundtrip.homographs`` (near-homograph findings).

Which MT span to blame (``tqcheck.text.wordalign`` explains the matching). Candidates, strongest first;
``confidence`` holds the strength so that the fusion can keep only the kinds that prove precise on
labelled data:

3. **near-homograph**: the MT word's own translation matches a source word only up to accents
   ("market" -> "marché" vs source "marche"); or a lost source word has a dictionary accent variant
   whose translation is the MT word while its own translation is not in the MT.
2. **lost and replaced**: a lost, unaligned source word and an unsupported MT word at about the same
   relative position: the MT word is probably its mistranslation.
1. **lost**: a lost, unaligned source word with no candidate in the MT: an omission, on the source.

A lost word that one engine's lexicon explains is marked ``evidence["explained_by"]`` and shown only
where another signal or a rule check points at the same characters (the fusion drops it otherwise):
``forward_translation`` (the source word's own translation is in the MT: the MT renders it, the
reverse lookup merely went elsewhere: "quitté" -> "left" read back as "négligent"),
``unknown_word`` (the engine passed the MT word through untranslated: its "reading" says nothing),
``number`` (a number or a number word: the numbers check compares those exactly) and
``function_word``.

A message quotes an engine's reading of a word only when the reading is a word of its language: a
reading that is a word passed through or a pivot language's word ("reexpedeixen") is left in the
evidence, and the message says what the round trip lost instead.

Target-only mode (no source): MT -> source language -> target language, compared with the MT:
``roundtrip.target_chrf`` and ``roundtrip.target_lost``; MT content words that did not survive are
candidates of strength 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tqcheck.checks._numwords import word_value
from tqcheck.model import Category, Flag, Segment, Severity, Side, Span
from tqcheck.signals._common import (
    TranslatorSignal,
    group_indices,
    translate,
)
from tqcheck.signals._lexicon import known_word, non_words
from tqcheck.signals.base import EMPTY, SignalOutput
from tqcheck.text.wordalign import (
    MatchLevel,
    Word,
    accent_variants,
    align,
    greedy_match,
    is_content,
    match_level,
    phrase_match,
    words,
)

#: A lost source word and an unsupported MT word "sit at the same place" when their relative positions
#: (offset / length) differ by at most this much. Word order differs between languages; a fifth of
#: the sentence absorbs the usual reordering without pairing words from different clauses.
POSITION_WINDOW = 0.2
#: Shortest source word for which accent variants are tried (short words have many accidental ones).
MIN_VARIANT_LENGTH = 4


class RoundTripSignal(TranslatorSignal):
    """Back-translation evidence. ``translator`` is an ``EngineSlot`` of role ``translator``."""

    name = "roundtrip"

    def applies(self, segment: Segment) -> bool:
        return bool(segment.mt.strip()) and bool(segment.source_lang) and bool(segment.target_lang) \
            and segment.source_lang != segment.target_lang

    def compute(self, segments: Sequence[Segment]) -> list[SignalOutput]:
        out: list[SignalOutput] = [EMPTY] * len(segments)
        groups = group_indices(segments, lambda s: (s.source_lang, s.target_lang, bool(s.source and s.source.strip()))
                               if self.applies(s) else None)
        for (src, tgt, with_source), idx in groups.items():
            engine = self.translator.get(tgt, src)
            if engine is None:
                continue
            batch = [segments[i] for i in idx]
            if with_source:
                results = self._with_source(engine, batch, src, tgt)
            else:
                back = self.translator.get(src, tgt)
                if back is None:
                    continue
                results = self._target_only(engine, back, batch, src, tgt)
            for i, result in zip(idx, results):
                out[i] = result
        return out

    # -- source + MT ---------------------------------------------------------------------------------

    def _with_source(self, engine: Any, batch: list[Segment], src: str, tgt: str) -> list[SignalOutput]:
        back = translate(self.cache, engine, [s.mt for s in batch], source_lang=tgt, target_lang=src)
        mt_words = [words(s.mt) for s in batch]
        vocab = sorted({w.lower for ws in mt_words for w in ws if is_content(w, tgt)})
        word_tr = dict(zip(vocab, translate(self.cache, engine, vocab, source_lang=tgt, target_lang=src)))

        analyses = [self._analyse(seg, bt, mws, word_tr, src, tgt) for seg, bt, mws in zip(batch, back, mt_words)]
        self._homographs(analyses, src, tgt)
        return [a.output() for a in analyses]

    def _analyse(self, segment: Segment, back: str, mt_words: list[Word], word_tr: dict[str, str],
                 src: str, tgt: str) -> _Analysis:
        source = segment.source or ""
        src_words = words(source)
        bt_words = words(back)
        alignment = align(mt_words, src_words, word_tr, source_lang=src, target_lang=tgt)
        a = _Analysis(segment, back, src_words, alignment, word_tr, src, tgt)
        a.scores.update({f"{self.name}.{k}": v for k, v in
                         self.metrics.score(back, source, lang=src).items()})
        content = [i for i, w in enumerate(src_words) if is_content(w, src)]
        aligned_to = {si: (mi, lv) for mi, (si, lv) in alignment.pairs.items()}
        content_words = [src_words[i] for i in content]
        came_back = greedy_match(content_words, bt_words)
        for k, si in enumerate(content):
            j, level = came_back.get(k, (None, MatchLevel.NONE))
            if level in (MatchLevel.EXACT, MatchLevel.STEM):
                continue
            a.lost.append(si)
            if level == MatchLevel.ACCENT and j is not None:
                a.changed_to[si] = bt_words[j].text
            if si not in aligned_to or aligned_to[si][1] == MatchLevel.ACCENT:
                a.unaligned.append(si)
        n_mt_content = sum(1 for w in mt_words if is_content(w, tgt))
        a.scores[f"{self.name}.lost"] = len(a.lost) / len(content) if content else 0.0
        a.scores[f"{self.name}.unaligned"] = len(a.unaligned) / len(content) if content else 0.0
        a.scores[f"{self.name}.unsupported"] = (len(alignment.unsupported) / n_mt_content
                                                if n_mt_content else 0.0)
        # Near-homograph candidates through the MT word's own translation (confirmed later).
        for mi, (si, level) in alignment.pairs.items():
            mw = alignment.mt_words[mi]
            via = word_tr.get(mw.lower, "")
            if level == MatchLevel.ACCENT and si in a.lost and not _cognate(mw, src_words[si], via):
                a.suspects.append((mi, si, via))
        return a

    def _homographs(self, analyses: list[_Analysis], src: str, tgt: str) -> None:
        """Confirm near-homographs, translating the source words involved (and their dictionary
        accent variants) on their own. A suspect whose source word's own translation is the MT word
        is an inflection (French "accompagne" / "accompagné" both give "accompanied"), not a
        confusion. A lost source word with an accent variant whose translation is an MT word,
        while its own translation is not in the MT, is a confusion found from the source side."""
        asks: dict[str, list[str]] = {}
        for a in analyses:
            for _, si, _ in a.suspects:
                asks.setdefault(a.src_words[si].lower, [])
            for si in a.unaligned:
                word = a.src_words[si]
                asks.setdefault(word.lower, [])  # its own translation tells whether the MT renders it
                if len(word.norm) < MIN_VARIANT_LENGTH or si in a.homograph_sources:
                    continue
                variants = [v for v in accent_variants(word.lower) if known_word(src, v)]
                if variants:
                    asks[word.lower] = asks.get(word.lower, []) + variants
        if not asks:
            return
        texts = sorted({w for w in asks} | {v for vs in asks.values() for v in vs})
        tr = dict(zip(texts, translate(self.cache, self.translator.get(src, tgt) or _Missing(),
                                       texts, source_lang=src, target_lang=tgt)))
        for a in analyses:
            a.forward = tr
            for mi, si, via in a.suspects:
                own_tr = tr.get(a.src_words[si].lower, "")
                own, _ = phrase_match(own_tr, [a.alignment.mt_words[mi]], tgt)
                if own < MatchLevel.STEM:
                    a.homograph(mi, si, via=via, own_translation=own_tr)
            mt_content = [w for w in a.alignment.mt_words if is_content(w, tgt)]
            for si in list(a.unaligned):
                word = a.src_words[si]
                if not asks.get(word.lower) or si in a.homograph_sources:
                    continue
                own, _ = phrase_match(tr.get(word.lower, ""), mt_content, tgt)
                if own >= MatchLevel.STEM:
                    continue  # the source word's own translation is in the MT: nothing confused
                for variant in asks[word.lower]:
                    reads = tr.get(variant, "")
                    if reads.lower() == variant:
                        continue  # the engine passed the word through: it did not know it
                    level, hit = phrase_match(reads, mt_content, tgt)
                    if hit is not None and level >= MatchLevel.STEM and not _cognate(hit, word, variant):
                        mi = a.alignment.mt_words.index(hit)
                        a.homograph(mi, si, via=variant, own_translation=tr.get(word.lower, ""))
                        break

    # -- MT only ---------------------------------------------------------------------------------------

    def _target_only(self, to_src: Any, to_tgt: Any, batch: list[Segment], src: str,
                     tgt: str) -> list[SignalOutput]:
        back = translate(self.cache, to_src, [s.mt for s in batch], source_lang=tgt, target_lang=src)
        again = translate(self.cache, to_tgt, back, source_lang=src, target_lang=tgt)
        outputs = []
        for segment, bt, rt in zip(batch, back, again):
            scores = {f"{self.name}.target_{k}": v
                      for k, v in self.metrics.score(rt, segment.mt, lang=tgt, names=("chrf",)).items()}
            content = [w for w in words(segment.mt) if is_content(w, tgt)]
            survived = greedy_match(content, words(rt))
            lost = [w for k, w in enumerate(content)
                    if survived.get(k, (None, MatchLevel.NONE))[1] < MatchLevel.STEM]
            scores[f"{self.name}.target_lost"] = len(lost) / len(content) if content else 0.0
            flags = [
                Flag(self.name, Severity.MINOR, Category.MISTRANSLATION,
                     f"“{w.text}” did not survive the round trip through {src}: the engine read the "
                     f"sentence back as “{rt}”",
                     Span(w.start, w.end), {"back_translation": bt, "round_trip_target": rt,
                                            "kind": "lost_in_round_trip"}, confidence=1.0)
                for w in lost
            ]
            outputs.append(SignalOutput(scores, {"back_translation": bt, "round_trip_target": rt}, tuple(flags)))
        return outputs


def _cognate(mt_word: Word, source_word: Word, reads_as: str) -> bool:
    """Not a near-homograph but a cognate or a copied word: the MT word is the source word itself up
    to accents ("integrative" / "intégrative"), or the engine gave the MT word back unchanged (it did
    not know it, so its 'translation' says nothing)."""
    return match_level(mt_word.text, source_word.text) >= MatchLevel.ACCENT \
        or reads_as.strip().lower() == mt_word.lower


class _Missing:
    """Stands in for a missing reverse engine: every word 'translates' to nothing."""

    def translate(self, texts: Sequence[str], **_: Any) -> list[str]:
        return [""] * len(texts)


class _Analysis:
    """The round trip of one segment, being worked out."""

    def __init__(self, segment: Segment, back: str, src_words: list[Word], alignment: Any,
                 word_tr: dict[str, str], src: str, tgt: str) -> None:
        self.segment = segment
        self.back = back
        self.src_words = src_words
        self.alignment = alignment
        self.word_tr = word_tr
        self.src, self.tgt = src, tgt
        self.scores: dict[str, float] = {}
        self.lost: list[int] = []
        self.unaligned: list[int] = []
        self.changed_to: dict[int, str] = {}
        self.flags: list[Flag] = []
        self.homograph_sources: set[int] = set()
        self.suspects: list[tuple[int, int, str]] = []  # (MT word, source word, MT word reads as)
        self.blamed_mt: set[int] = set()
        self.forward: dict[str, str] = {}  # source word -> its own translation into the MT's language

    def homograph(self, mi: int, si: int, *, via: str, own_translation: str | None = None) -> None:
        if mi in self.blamed_mt:
            return
        mw, sw = self.alignment.mt_words[mi], self.src_words[si]
        self.blamed_mt.add(mi)
        self.homograph_sources.add(si)
        came_back = self.changed_to.get(si)
        means = (f" (“{own_translation}”)" if own_translation and own_translation.lower() != mw.lower
                 and not non_words(own_translation, self.tgt) else "")
        message = (f"“{mw.text}” may be a misreading of “{sw.text}”{means} as “{via}”, a word spelled alike"
                   + (f": the back-translation reads “{came_back}”" if came_back else ""))
        evidence = {"kind": "near_homograph", "back_translation": self.back, "source_word": sw.text,
                    "source_span": [sw.start, sw.end], "mt_word_reads_as": via,
                    "lost_source_words": self._lost_texts()}
        if came_back:
            evidence["came_back_as"] = came_back
        if own_translation:
            evidence["source_word_translates_to"] = own_translation
        self.flags.append(Flag("roundtrip", Severity.MINOR, Category.MISTRANSLATION, message,
                               Span(mw.start, mw.end), evidence, confidence=3.0))

    def _lost_texts(self) -> list[str]:
        return [self.src_words[i].text for i in self.lost]

    def output(self) -> SignalOutput:
        self._lost_and_replaced()
        self.scores["roundtrip.homographs"] = float(len(self.homograph_sources))
        return SignalOutput(self.scores, {"back_translation": self.back}, tuple(self.flags))

    def _lost_and_replaced(self) -> None:
        """Pair each remaining lost source word with an unsupported MT word at the same place."""
        source, mt = self.segment.source or "", self.segment.mt
        mt_words = self.alignment.mt_words
        mt_content = [w for w in mt_words if is_content(w, self.tgt)]
        free = [mi for mi in self.alignment.unsupported if mi not in self.blamed_mt]
        for si in self.unaligned:
            if si in self.homograph_sources:
                continue
            sw = self.src_words[si]
            own = self.forward.get(sw.lower, "")
            rendered = bool(own) and phrase_match(own, mt_content, self.tgt)[0] >= MatchLevel.STEM
            where = sw.start / max(1, len(source))
            near = sorted(((abs(mt_words[mi].start / max(1, len(mt)) - where), mi) for mi in free),
                          key=lambda p: p[0])
            if near and near[0][0] <= POSITION_WINDOW:
                mi = near[0][1]
                free.remove(mi)
                self.blamed_mt.add(mi)
                mw = mt_words[mi]
                reads = self.word_tr.get(mw.lower, "")
                evidence = {"kind": "lost_and_replaced", "back_translation": self.back, "source_word": sw.text,
                            "source_span": [sw.start, sw.end], "mt_word_reads_as": reads,
                            "lost_source_words": self._lost_texts()}
                if own:
                    evidence["source_word_translates_to"] = own
                explained = _explained(sw, mw, reads, rendered, self.src, self.tgt)
                if explained:
                    evidence["explained_by"] = explained
                said = (f"read back, it says “{reads}”" if reads and not non_words(reads, self.src)
                        else f"the sentence read back has no “{sw.text}”")
                self.flags.append(Flag(
                    "roundtrip", Severity.MINOR, Category.MISTRANSLATION,
                    f"“{mw.text}” may not render “{sw.text}”: {said}",
                    Span(mw.start, mw.end), evidence, confidence=2.0))
            else:
                evidence = {"kind": "lost", "back_translation": self.back, "source_word": sw.text,
                            "lost_source_words": self._lost_texts()}
                if own:
                    evidence["source_word_translates_to"] = own
                explained = _explained(sw, None, "", rendered, self.src, self.tgt)
                if explained:
                    evidence["explained_by"] = explained
                self.flags.append(Flag(
                    "roundtrip", Severity.MINOR, Category.OMISSION,
                    f"“{sw.text}” of the source may be missing: nothing in the MT translates it",
                    Span(sw.start, sw.end, Side.SOURCE), evidence, confidence=1.0))


def _explained(source_word: Word, mt_word: Word | None, reads_as: str, rendered: bool, src: str,
               tgt: str) -> str | None:
    """Why a lost source word may say more about the engine's lexicon than about the MT (see the
    module docstring), or None."""
    if rendered:
        return "forward_translation"
    if any(ch.isdigit() for ch in source_word.text) or (mt_word is not None and any(
            ch.isdigit() for ch in mt_word.text)) or word_value(source_word.lower, src) is not None:
        return "number"
    if mt_word is not None and reads_as.strip().lower() == mt_word.lower:
        return "unknown_word"
    if mt_word is not None and not is_content(mt_word, tgt):
        return "function_word"
    return None
