"""Names of the source missing from the MT: people, places, organisations, titles.

Names are found in the source as capitalised words that do not open a sentence, quote or bracket,
grouped into runs ("Jorge Castañeda", "Charles de Gaulle"). Acronyms of up to four capitals are left
out by default (they are translated: ONU -> UN, OTAN -> NATO); numbers are the ``numbers`` check's.

A name is present in the MT when each of its words is, compared without case or accents
(Castañeda = Castaneda), or by a shared prefix (Honduriens / Hondurans, Mexique / Mexico: four
letters, or three for short words, or one word a prefix of the other); or when the MT has a
translation of it from a table of exonyms: CLDR's names of countries, regions, languages, months
and days in en/fr/es/de/it/pt/nl, plus hand-listed cities, institutions, holidays and demonyms
("Allemagne" / "Germany", "Affaires étrangères" / "Foreign", "mercredi" / "Wednesday"). Names
translated in other ways cannot be known, so a run counts as present when its last word and at
least half of its words are found (a dropped first name is not worth a flag).

Missing names are reported on their **source span** (side SOURCE), since the MT has no place to
point at; if the MT has capitalised words that match nothing in the source, they are listed in the
evidence as possible replacements and the category is Accuracy/Mistranslation instead of
Accuracy/Omission. Severity minor.

German capitalises every noun; for a German source the check stands aside.
"""

from __future__ import annotations

import re
from typing import Iterator

from tqcheck.checks._names import concept_names, concepts, max_name_words
from tqcheck.checks._text import base_lang, fold, sentence_initial_indexes
from tqcheck.checks.base import Check
from tqcheck.model import Category, Flag, Segment, Severity, Side
from tqcheck.text.tokens import Token, tokens_of

_PARTICLES = frozenset("de del della di da du des le la van von der den ter bin ben al el y e "
                       "of the and & dos das do".split())
#: Capitalised words that are not names in any language (titles, the English "I").
_STOP = frozenset(fold(w) for w in
                  "I M Mme Mmes Mlle Mr Mrs Ms Dr Pr Prof Me Mgr St Ste Sr Sra Herr Frau Sir Dame "
                  "Lord Lady".split())
#: Function words that are capitalised after a heading or a dateline ("4h du matin La caravane"):
#: never a name on their own, and not counted when judging a longer name ("The Tracy Ullman Show").
_FUNCTION = _PARTICLES | frozenset("la le les l the a an el los las il lo gli i un une uno una en au "
                                   "aux der die das ein eine het een o os as um uma".split())
_CAPS_UNDER = 5
_NORMALIZE = re.compile(r"[^\w']+")
_NO_NAME_LANGS = frozenset({"de", "lb"})


def _prefix_match(a: str, b: str) -> bool:
    """Whether folded words ``a`` and ``b`` look like the same name in two languages."""
    n = 0
    for ca, cb in zip(a, b):
        if ca != cb:
            break
        n += 1
    shortest = min(len(a), len(b))
    return n >= 4 or (n >= 3 and shortest <= 5) or (n == shortest and n >= 3)


def _runs(tokens: tuple[Token, ...], keep_acronyms: bool) -> list[list[int]]:
    """Indexes of the word tokens of each capitalised run (names)."""
    initial = sentence_initial_indexes(tokens)
    runs: list[list[int]] = []
    current: list[int] = []
    pending: list[int] = []  # particles waiting for a capitalised word
    for i, tok in enumerate(tokens):
        kind = tok.kind
        if kind == "space":
            if "\n" in tok.text:
                current, pending = _close(runs, current), []
            continue
        text = tok.text
        is_name = (kind == "word" and text[0].isupper() and i not in initial
                   and not any(c.isdigit() for c in text) and fold(text) not in _STOP
                   and (keep_acronyms or not (text.isupper() and len(text) < _CAPS_UNDER)))
        if is_name:
            current.extend(pending)
            pending = []
            current.append(i)
        elif current and kind == "word" and text.lower() in _PARTICLES:
            pending.append(i)
        elif current and kind == "punct" and text in ("-", "'", "’"):
            continue
        else:
            current, pending = _close(runs, current), []
    _close(runs, current)
    return runs


def _close(runs: list[list[int]], current: list[int]) -> list[int]:
    if current:
        runs.append(current)
    return []


class EntitiesCheck(Check):
    name = "entities"
    severity = Severity.MINOR
    category = Category.OMISSION
    needs_source = True
    description = "names of the source missing from the MT"

    def __init__(self, *, acronyms: bool = False) -> None:
        super().__init__(acronyms=acronyms)
        self.acronyms = acronyms

    def run(self, segment: Segment) -> Iterator[Flag]:
        source = segment.source or ""
        mt = segment.mt
        if not source.strip() or not mt.strip() or base_lang(segment.source_lang) in _NO_NAME_LANGS:
            return
        src_tokens = tokens_of(source)
        runs = _runs(src_tokens, self.acronyms)
        if not runs:
            return
        mt_tokens = tokens_of(mt)
        mt_words: dict[str, list[str]] = {}  # first letter -> folded MT words
        for tok in mt_tokens:
            if tok.kind in ("word", "hashtag", "handle"):
                for part in fold(tok.text.lstrip("#@")).replace("'", "-").split("-"):
                    if part:
                        mt_words.setdefault(part[0], []).append(part)
        mt_text = " " + " ".join(_NORMALIZE.sub(" ", fold(mt)).split()) + " "
        index = concepts()
        names = concept_names()
        longest = max_name_words()
        used_mt: set[str] = set()

        for run in runs:
            words = [i for i in run if fold(src_tokens[i].text) not in _FUNCTION]
            if not words:
                continue
            found: dict[int, bool] = {}
            expected: list[str] = []
            # Exonyms: the longest phrase starting at each name word, lowercase words allowed after
            # ("Amérique centrale", "Nations unies").
            for i in words:
                if i in found:
                    continue
                phrase_tokens = [j for j in range(i, len(src_tokens))
                                 if src_tokens[j].kind in ("word",)][:longest]
                for n in range(len(phrase_tokens), 0, -1):
                    phrase = " ".join(fold(src_tokens[j].text) for j in phrase_tokens[:n])
                    ids = index.get(phrase)
                    if not ids:
                        continue
                    translations = set().union(*(names[c] for c in ids))
                    hit = next((t for t in translations if f" {_NORMALIZE.sub(' ', t).strip()} " in mt_text),
                               None)
                    for j in phrase_tokens[:n]:
                        if j in run:
                            found[j] = hit is not None
                    if hit is None:
                        expected.extend(sorted(translations)[:6])
                    else:
                        used_mt.update(hit.split())
                    break
            for i in words:
                if i in found:
                    continue
                key = fold(src_tokens[i].text)
                parts = [p for p in key.replace("'", "-").split("-") if p]
                ok = all(any(p == w or _prefix_match(p, w) for w in mt_words.get(p[0], ()))
                         for p in parts)
                found[i] = ok
                if ok:
                    used_mt.update(w for p in parts for w in mt_words.get(p[0], ())
                                   if p == w or _prefix_match(p, w))
            hits = sum(found[i] for i in words)
            if found[words[-1]] and hits * 2 >= len(words):
                continue
            missing = [i for i in words if not found[i]]
            if not missing:
                continue
            if len(missing) == len(words):  # the whole name: "La Paz", not "Paz"
                start, end = src_tokens[run[0]].start, src_tokens[run[-1]].end
            else:
                start, end = src_tokens[missing[0]].start, src_tokens[missing[-1]].end
            name = source[src_tokens[run[0]].start:src_tokens[run[-1]].end]
            replacements = self._unmatched_mt_names(mt_tokens, source, used_mt)
            evidence = {"name": name, "missing": [src_tokens[i].text for i in missing]}
            if expected:
                evidence["translations_looked_for"] = expected
            if replacements:
                evidence["mt_candidates"] = replacements
            yield self.flag(
                f"name {source[start:end]!r} of the source is not in the MT",
                (start, end), side=Side.SOURCE,
                category=Category.MISTRANSLATION if replacements else Category.OMISSION,
                evidence=evidence,
            )

    @staticmethod
    def _unmatched_mt_names(mt_tokens: tuple[Token, ...], source: str, used: set[str]) -> list[str]:
        initial = sentence_initial_indexes(mt_tokens)
        src_fold = fold(source)
        out = []
        for i, tok in enumerate(mt_tokens):
            if tok.kind != "word" or not tok.text[0].isupper() or i in initial:
                continue
            key = fold(tok.text)
            if key in used or key in _STOP or key in src_fold or key in concepts():
                continue
            out.append(tok.text)
        return out[:5]
