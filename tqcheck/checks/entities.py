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
Accuracy/Omission. Severity minor. A name followed by a lower-case word ("Enquêtes mondiales", "Mouvement
canadien": a common noun capitalised in a title, as French does) is not reported when the source
language's hunspell dictionary knows it in lower case and the MT has a capitalised phrase of its own
that may translate it ("Global Surveys").

German capitalises every noun; for a German source the check stands aside.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Literal

from tqcheck.checks._names import concept_names, concepts, max_name_words
from tqcheck.checks._text import base_lang, fold, has_digit, sentence_initial_indexes
from tqcheck.checks.base import Check
from tqcheck.model import Category, Flag, Segment, Severity, Side
from tqcheck.text.tokens import Token, tokens_of

if TYPE_CHECKING:
    from tqcheck.text.hunspell import SpellerSet

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
#: Scripts written without spaces between words: a name is found in the MT as a substring.
_UNSPACED_LANGS = frozenset({"zh", "ja", "th", "lo", "km", "my"})
#: A translation of a name matches an MT word that starts with all but this many of its letters
#: (at least ``_MIN_STEM``): case endings ("środa" -> "w środę", "keskiviikko" -> "keskiviikkona").
_INFLECTION = 2
_MIN_STEM = 4


def _translation_in(translation: str, mt_text: str, mt_unspaced: str | None) -> bool:
    """Whether a (folded) translation of a name is in the MT: as words, inflected, or, in a script
    without spaces, as a substring."""
    phrase = _NORMALIZE.sub(" ", translation).strip()
    if not phrase:
        return False
    if f" {phrase} " in mt_text:
        return True
    if mt_unspaced is not None:
        return phrase.replace(" ", "") in mt_unspaced
    words = phrase.split()
    if len(words) == 1 and len(phrase) > _MIN_STEM:
        stem = phrase[: max(_MIN_STEM, len(phrase) - _INFLECTION)]
        return f" {stem}" in mt_text
    return False


_ROMAN = re.compile(r"[IVXLC]+(?:e|er|ème|th|st|nd|rd)?")


def _is_acronym(text: str) -> bool:
    """"ONU", "VMs" (plural), "UE": short all-capital words, which translation changes."""
    core = text[:-1] if text.endswith("s") and len(text) > 2 else text
    return core.isupper() and len(core) < _CAPS_UNDER


class _MtWords:
    """The MT's folded words, indexed so that finding the ones that match a source word
    (``_prefix_match``) costs the same however long the MT is.

    ``_prefix_match`` needs a shared prefix of three letters at least: four, or three when either word
    has at most five letters. So the words are grouped by their first three and first four letters,
    with the short ones (five letters or less) apart; scanning every word of the same first letter
    made a long segment quadratic."""

    def __init__(self, words: Iterable[str]) -> None:
        self.exact: set[str] = set()
        self.by3: dict[str, set[str]] = {}
        self.by4: dict[str, set[str]] = {}
        self.short3: dict[str, set[str]] = {}
        for word in words:
            self.exact.add(word)
            if len(word) >= 3:
                self.by3.setdefault(word[:3], set()).add(word)
                if len(word) <= 5:
                    self.short3.setdefault(word[:3], set()).add(word)
            if len(word) >= 4:
                self.by4.setdefault(word[:4], set()).add(word)

    def groups(self, part: str) -> list[tuple[str, str]]:
        """Keys of the groups of MT words matching ``part`` (each word of them matches it)."""
        if len(part) < 3:
            return [("exact", part)] if part in self.exact else []
        if len(part) <= 5:  # every word sharing three letters matches a short word
            return [("by3", part[:3])] if part[:3] in self.by3 else []
        return [(name, key) for name, key in (("by4", part[:4]), ("short3", part[:3])) if key in getattr(self, name)]

    def words(self, group: tuple[str, str]) -> set[str]:
        name, key = group
        return {key} if name == "exact" else getattr(self, name)[key]


class _Candidates:
    """Capitalised MT words that match nothing in the source, in order, read five at a time; a word
    that a later name uses drops out for good (a linked list, so that it is passed over once)."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items = items  # (folded key, text)
        self.next = list(range(1, len(items) + 1))
        self.head = 0

    def first(self, used: set[str], count: int = 5) -> list[str]:
        out: list[str] = []
        previous, i = None, self.head
        while i < len(self.items) and len(out) < count:
            key, text = self.items[i]
            following = self.next[i]
            if key in used:
                if previous is None:
                    self.head = following
                else:
                    self.next[previous] = following
            else:
                out.append(text)
                previous = i
            i = following
        return out


def _prefix_match(a: str, b: str) -> bool:
    """Whether folded words ``a`` and ``b`` look like the same name in two languages."""
    n = 0
    for ca, cb in zip(a, b):
        if ca != cb:
            break
        n += 1
    shortest = min(len(a), len(b))
    return n >= 4 or (n >= 3 and shortest <= 5) or (n == shortest and n >= 3)


_ELIDED = re.compile(r"^(?:[A-Za-z]{1,2}|qu|Qu|jusqu|lorsqu|puisqu|dell|dall|nell|sull|all)['’]"
                     r"(?=[^\W\d_])")


def _split_elisions(tokens: tuple[Token, ...]) -> tuple[Token, ...]:
    """"l'Amazone" -> "l'" + "Amazone", so that an elided article does not hide a name."""
    if not any(t.kind == "word" and ("'" in t.text or "’" in t.text) for t in tokens):
        return tokens
    out: list[Token] = []
    for tok in tokens:
        match = _ELIDED.match(tok.text) if tok.kind == "word" else None
        if match and tok.text[match.end()].isupper():
            cut = tok.start + match.end()
            out.append(Token(tok.start, cut, tok.text[:match.end()], "punct"))
            out.append(Token(cut, tok.end, tok.text[match.end():], "word"))
        else:
            out.append(tok)
    return tuple(out)


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
                   and not has_digit(text) and fold(text) not in _STOP
                   and not all(_ROMAN.fullmatch(p) for p in text.split("-"))
                   and (keep_acronyms or not _is_acronym(text)))
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


def _lower_follows(tokens: tuple[Token, ...], index: int) -> bool:
    """Whether the word after ``tokens[index]`` is a lower-case content word ("Enquêtes mondiales")."""
    for j in range(index + 1, len(tokens)):
        tok = tokens[j]
        if tok.kind == "space":
            continue
        return tok.kind == "word" and tok.text[0].islower() and fold(tok.text) not in _FUNCTION
    return False


def _adjacent_words(tokens: tuple[Token, ...]) -> set[tuple[str, str]]:
    words = [t.text for t in tokens if t.kind == "word"]
    return set(zip(words, words[1:]))


def _title_run(adjacent: set[tuple[str, str]], names: list[str]) -> bool:
    """Whether two of ``names`` are adjacent words of the MT (a title-case phrase); ``adjacent`` holds
    the MT's pairs of adjacent words."""
    return len(names) >= 2 and any((a, b) in adjacent for a in names for b in names)


def _close(runs: list[list[int]], current: list[int]) -> list[int]:
    if current:
        runs.append(current)
    return []


def _trim(run: list[int], tokens: tuple[Token, ...]) -> list[int]:
    """A run without function words at its end ("Dia-Stron The" -> "Dia-Stron"); a leading one
    belongs to the name ("La Paz", "The Hague")."""
    start, end = 0, len(run)
    while end > start and fold(tokens[run[end - 1]].text) in _FUNCTION:
        end -= 1
    return run[start:end]


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
        src_tokens = _split_elisions(tokens_of(source))
        runs = _runs(src_tokens, self.acronyms)
        if not runs:
            return
        mt_tokens = _split_elisions(tokens_of(mt))
        mt_words = _MtWords(part for tok in mt_tokens if tok.kind in ("word", "hashtag", "handle")
                            for part in fold(tok.text.lstrip("#@")).replace("'", "-").split("-") if part)
        mt_text = " " + " ".join(_NORMALIZE.sub(" ", fold(mt)).split()) + " "
        mt_unspaced = mt_text.replace(" ", "") if base_lang(segment.target_lang) in _UNSPACED_LANGS else None
        langs = (segment.source_lang, segment.target_lang)
        index = concepts(*langs)
        names = concept_names(*langs)
        longest = max_name_words(*langs)
        used_mt: set[str] = set()
        used_groups: set[tuple[str, str]] = set()  # groups of MT words already in used_mt
        src_words = [j for j, tok in enumerate(src_tokens) if tok.kind == "word"]
        exonyms: dict[str, tuple[set[str], str | None]] = {}  # phrase -> translations, the one in the MT
        candidates: _Candidates | None = None
        adjacent: set[tuple[str, str]] = set()  # the MT's adjacent words, filled with ``candidates``

        src_speller: SpellerSet | Literal[False] | None = None  # False: no dictionary
        for run in runs:
            run = _trim(run, src_tokens)
            words = [i for i in run if fold(src_tokens[i].text) not in _FUNCTION]
            if not words:
                continue
            in_run = set(run)
            found: dict[int, bool] = {}
            expected: list[str] = []
            # Exonyms: the longest phrase starting at each name word, lowercase words allowed after
            # ("Amérique centrale", "Nations unies").
            for i in words:
                if i in found:
                    continue
                start = bisect.bisect_left(src_words, i)
                phrase_tokens = src_words[start:start + longest]
                for n in range(len(phrase_tokens), 0, -1):
                    phrase = " ".join(fold(src_tokens[j].text) for j in phrase_tokens[:n])
                    ids = index.get(phrase)
                    if not ids:
                        continue
                    if phrase not in exonyms:
                        translations = set().union(*(names[c] for c in ids))
                        exonyms[phrase] = translations, next(
                            (t for t in sorted(translations) if _translation_in(t, mt_text, mt_unspaced)), None)
                    translations, hit = exonyms[phrase]
                    if hit is None:
                        # Not translated as listed; it may still be kept or adapted ("Canada" /
                        # "Canadian"): the word comparison below decides.
                        expected.extend(sorted(translations)[:6])
                    else:
                        for j in phrase_tokens[:n]:
                            if j in in_run:
                                found[j] = True
                        used_mt.update(hit.split())
                    break
            for i in words:
                if i in found:
                    continue
                key = fold(src_tokens[i].text)
                parts = [p for p in key.replace("'", "-").split("-") if p]
                groups = [mt_words.groups(p) for p in parts]
                ok = all(groups)
                found[i] = ok
                if ok:
                    for group in (g for part_groups in groups for g in part_groups):
                        if group not in used_groups:
                            used_groups.add(group)
                            used_mt.update(mt_words.words(group))
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
            if candidates is None:
                candidates = _Candidates(self._unmatched_mt_names(mt_tokens, source, index))
                adjacent = _adjacent_words(mt_tokens)
            replacements = candidates.first(used_mt)
            if _title_run(adjacent, replacements) and _lower_follows(src_tokens, run[-1]) \
                    and all(len(src_tokens[i].text) > 3 for i in missing):
                # "Enquêtes mondiales" -> "Global Surveys": a common noun capitalised in a title,
                # translated into capitalised words. Only when the source dictionary knows the
                # word in lower case, so that names ("Tracy Ullman") are still reported.
                if src_speller is None:
                    src_speller = self._speller(segment.source_lang) or False
                if src_speller and all(src_speller.known(src_tokens[i].text.lower())
                                       for i in missing):
                    continue
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
    def _speller(lang: str | None):
        from tqcheck.text.hunspell import speller_for

        try:
            return speller_for(base_lang(lang))
        except Exception:  # a broken dictionary: judge without it
            return None

    @staticmethod
    def _unmatched_mt_names(mt_tokens: tuple[Token, ...], source: str,
                            index: Mapping[str, frozenset[int]]) -> list[tuple[str, str]]:
        """Capitalised MT words (folded, as written) that are not in the source: what a missing name
        may have become. Which of them a name of the source uses is decided later (``_Candidates``)."""
        initial = sentence_initial_indexes(mt_tokens)
        src_fold = fold(source)
        in_source: dict[str, bool] = {}
        out = []
        for i, tok in enumerate(mt_tokens):
            if tok.kind != "word" or not tok.text[0].isupper() or i in initial:
                continue
            key = fold(tok.text)
            if key not in in_source:
                in_source[key] = key in _STOP or key in src_fold or key in index
            if not in_source[key]:
                out.append((key, tok.text))
        return out
