"""Is this a word of the language? Hunspell dictionaries, shared with the spelling check.

The round-trip signal asks this of accent variants ("marche" -> "marché") before translating them:
only a real word can be the near-homograph an engine confused the source word with. Without a
dictionary for the language the answer is None and the variant path is skipped, never guessed.

The dictionaries are the spelling check's (``tqcheck.text.hunspell``: found in the standard
places, loaded once per process), so a run that checks spelling loads each dictionary once.
"""

from __future__ import annotations

from functools import lru_cache

from tqcheck.langcodes import base_lang


@lru_cache(maxsize=200_000)
def known_word(lang: str, word: str) -> bool | None:
    """True or False when a dictionary of ``lang`` is installed, None otherwise."""
    from tqcheck.text.hunspell import speller_for

    speller = speller_for(base_lang(lang) or lang)
    if speller is None:
        return None
    return bool(speller.known(word))


def non_words(text: str, lang: str) -> list[str]:
    """The lower-case words of ``text`` that a dictionary of ``lang`` does not know, in order, once each.

    In an engine's output they are words it passed through untranslated ("honduriens") or words of a
    pivot language that leaked out (Apertium's French->Catalan->English route leaves "reexpedeixen"
    where the second leg does not know the Catalan word). A message should not quote such a reading as
    if it were the language's: the copy editor would read it as the engine's proposal. Capitalised
    words are left alone (names are missing from dictionaries), and so are words with digits ("4am")
    and everything without a dictionary for ``lang``."""
    from tqcheck.text.tokens import tokens_of

    found: list[str] = []
    for token in tokens_of(text):
        word = token.text
        if token.kind != "word" or word[0].isupper() or word in found or any(ch.isdigit() for ch in word):
            continue
        if known_word(lang, word) is False:
            found.append(word)
    return found
