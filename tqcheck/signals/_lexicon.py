"""Is this a word of the language? Hunspell dictionaries (Debian hunspell-*) read with spylls.

The round-trip signal asks this of accent variants ("marche" -> "marché") before translating them:
only a real word can be the near-homograph an engine confused the source word with. Without a
dictionary for the language the answer is None and the variant path is skipped, never guessed.
"""

from __future__ import annotations

import glob
import os
from functools import lru_cache
from typing import Any

#: Where Debian and most distributions install hunspell dictionaries.
_DIRS = ("/usr/share/hunspell", "/usr/share/myspell", "/usr/share/myspell/dicts")
_PREFERRED = {"fr": "fr_FR", "en": "en_US", "es": "es_ES", "de": "de_DE", "pt": "pt_PT", "it": "it_IT"}


def _find(lang: str) -> str | None:
    extra = os.environ.get("TQCHECK_HUNSPELL_DIR")
    dirs = ((extra,) if extra else ()) + _DIRS
    names = [_PREFERRED.get(lang), lang]
    for d in dirs:
        for name in filter(None, names):
            if os.path.exists(os.path.join(d, name + ".dic")):
                return os.path.join(d, name)
        hits = sorted(glob.glob(os.path.join(d, f"{lang}_*.dic")))
        if hits:
            return hits[0][: -len(".dic")]
    return None


@lru_cache(maxsize=None)
def dictionary(lang: str) -> Any:
    """The spylls dictionary of ``lang`` (two-letter code), or None when none is installed."""
    path = _find(lang.split("-")[0].lower())
    if path is None:
        return None
    try:
        from spylls.hunspell import Dictionary
    except ImportError:
        return None
    return Dictionary.from_files(path)


@lru_cache(maxsize=200_000)
def known_word(lang: str, word: str) -> bool | None:
    """True or False when a dictionary of ``lang`` is installed, None otherwise."""
    d = dictionary(lang)
    if d is None:
        return None
    return bool(d.lookup(word))
