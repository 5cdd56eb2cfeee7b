"""Spelling of the MT against the target language's hunspell dictionary (enchant, or spylls).

Words that cannot be judged by a dictionary are skipped, because a false alarm on a name costs the
editor as much as a real typo saves: capitalised words (names, sentence starts), all-caps words and
words with inner capitals (acronyms, ``iPhone``), words with digits or underscores, single letters,
URLs, e-mails, handles, hashtags and placeholders (other token kinds), and words that also occur in
the source (kept names, loanwords; a source-language word left in the MT is the ``untranslated``
check's business). Hyphenated words pass if the whole or every part is known; French and Italian
elisions (``l'``, ``qu'``) are looked up without the elided article when the whole is unknown;
a productive prefix on a known word ("sociodemographic") passes. A word the dictionary knows only
with a capital ("india") is reported as such. For a language code without a region, every installed
national dictionary counts (en_US and en_GB: "behaviour" and "behavior").

Where no dictionary is installed for the target language (or the language is unknown) the check
stands aside with a reason (logged once). Suggestions are not computed during a run (the spylls
fallback takes about 0.3 s per word); ``suggestions(word, lang)`` gives them on demand, e.g. in the
review UI. The backend is chosen in ``tqcheck.text.hunspell`` (enchant when installed, spylls otherwise).

Domain vocabulary (biomedical terms such as "hepcidine", product names) is accepted with the
``accept`` option (a list of words) or ``accept_file`` (one word per line, ``#`` comments).

Severity minor, Fluency/Spelling, span on the word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from tqcheck.checks._text import base_lang, fold
from tqcheck.checks.base import Check
from tqcheck.errors import ConfigError
from tqcheck.model import Category, Flag, Segment, Severity
from tqcheck.text.hunspell import (
    DEBIAN_PACKAGES,
    SpellerSet,
    search_dirs,
    speller_for,
)
from tqcheck.text.tokens import tokens_of

_ELISION = re.compile(r"^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu|presqu|quelqu|dell|dall|nell|"
                      r"sull|all|coll|un|quell|bell|sant)['’](?=\w)", re.IGNORECASE)
_SKIP = re.compile(r"[\d_]")
#: Abbreviations written without their dots ("eg"), which dictionaries list only with them.
_ABBREVIATIONS = frozenset("eg ie etc vs cf approx ca nb resp".split())
#: Productive prefixes of scientific and news vocabulary (English, French, Spanish...): a word made of
#: one of them and a known word is not a misspelling, though no dictionary lists it.
_PREFIX = re.compile(
    r"(?:socio|psycho|neuro|cardio|immuno|gastro|physio|patho|pharmaco|electro|radio|thermo|hydro|"
    r"photo|bio|geo|nano|micro|macro|mega|multi|inter|intra|extra|trans|ultra|super|sub|hyper|hypo|"
    r"pseudo|semi|auto|anti|counter|contra|post|pre|pré|re|ré|de|dé|des|dés|non|un|co|over|under|"
    r"mis|out|poly|mono|bi|tri|peri|péri|para|meta|méta|endo|exo|pan|proto|infra|thrombo|angio|"
    r"osteo|ostéo|hepato|hépato|nephro|néphro|onco|derm|dermato|histo|cyto|myo|lympho|uro|gyneco|"
    r"gynéco|pneumo|broncho|oto|rhino|chemo|chimio|radio|tele|télé|cyber|eco|éco|agro|euro|franco|"
    r"anglo|afro|sino|indo|russo|germano|italo|hispano|luso)"
)


def _read_word_list(path: str) -> set[str]:
    """Words of a domain word list (one per line, ``#`` comments), folded."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError("word list not found", where=path,
                          fix="check [checks.spelling] accept_file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the word list: {exc}", where=path,
                          fix="save it as UTF-8 text, one word per line") from exc
    return {fold(line.strip()) for line in lines if line.strip() and not line.lstrip().startswith("#")}


def suggestions(word: str, lang: str, limit: int = 5) -> tuple[str, ...]:
    """Dictionary suggestions for ``word`` in ``lang`` (slow; for display)."""
    speller = speller_for(lang)
    return speller.suggest(word, limit) if speller else ()


class SpellingCheck(Check):
    name = "spelling"
    severity = Severity.MINOR
    category = Category.SPELLING
    description = "words of the MT unknown to the target language's hunspell dictionary"

    def __init__(
        self,
        *,
        dictionary_dirs: list[str] | tuple[str, ...] = (),
        min_length: int = 2,
        accept: list[str] | tuple[str, ...] = (),
        accept_file: str | None = None,
    ) -> None:
        super().__init__(dictionary_dirs=tuple(dictionary_dirs), min_length=min_length,
                         accept=tuple(accept), accept_file=accept_file)
        self.dictionary_dirs = tuple(dictionary_dirs)
        self.min_length = min_length
        self.accepted = {fold(w) for w in accept}
        if accept_file:
            self.accepted |= _read_word_list(accept_file)
        self._errors: dict[str, str] = {}

    def _speller(self, lang: str) -> SpellerSet | None:
        try:
            return speller_for(lang, self.dictionary_dirs)
        except Exception as exc:  # a broken .aff: stand aside, say why
            self._errors[lang] = f"cannot load the hunspell dictionary for {lang!r}: {exc}"
            return None

    def unavailable_reason(self, segment: Segment) -> str | None:
        lang = segment.target_lang
        if not lang:
            return "the target language is unknown (give --target-lang or let it be detected)"
        if lang in self._errors:
            return self._errors[lang]
        if self._speller(lang) is None:
            if lang in self._errors:
                return self._errors[lang]
            base = base_lang(lang) or lang
            package = DEBIAN_PACKAGES.get(base, f"hunspell-{base}")
            where = ", ".join(str(d) for d in search_dirs(self.dictionary_dirs)[:4])
            return (f"no hunspell dictionary for {lang!r} (searched {where}, ...); install {package} "
                    "or point DICPATH at a directory with <lang>.dic/.aff")
        return None

    def run(self, segment: Segment) -> Iterator[Flag]:
        speller = self._speller(segment.target_lang or "")
        if speller is None:
            return
        source_words = None
        for tok in tokens_of(segment.mt):
            if tok.kind != "word":
                continue
            word = tok.text
            if len(word) < self.min_length or not word[0].islower() or _SKIP.search(word):
                continue
            if any(c.isupper() for c in word):
                continue  # "iPhone", "eBay": brand spellings
            if speller.known(word) or self._known_parts(speller, word):
                continue
            if source_words is None:
                source_words = {fold(t.text) for t in tokens_of(segment.source or "")
                                if t.kind == "word"}
            if fold(word) in source_words or fold(word) in self.accepted:
                continue
            if word.casefold() in _ABBREVIATIONS:
                continue
            capitalised = word[0].upper() + word[1:]
            if len(word) > 2 and speller.known(capitalised):
                message = f"{word!r} is written with a capital: {capitalised!r}"
            else:
                message = f"unknown word {word!r}"
            yield self.flag(message, (tok.start, tok.end),
                            evidence={"word": word, "dictionary": speller.name})

    @staticmethod
    def _known_parts(speller: SpellerSet, word: str) -> bool:
        elided = _ELISION.match(word)
        if elided:
            rest = word[elided.end():]
            if speller.known(rest) or rest[:1].isupper():
                return True
            word = rest
        if "-" in word:
            parts = [p for p in word.split("-") if p]
            return all(speller.known(p) or p[:1].isupper() or _SKIP.search(p) for p in parts)
        prefix = _PREFIX.match(word)
        if prefix and len(word) - prefix.end() >= 4:
            # "sociodemographic", "dematerialization": a productive prefix on a known word.
            return speller.known(word[prefix.end():])
        return False
