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
