"""Hunspell dictionaries: found in the standard places, loaded once, looked up cached.

Debian's hunspell-* packages install ``<lang>_<REGION>.dic/.aff`` under /usr/share/hunspell;
other systems use /usr/share/myspell, Homebrew's share/hunspell or ~/Library/Spelling. ``DICPATH``
(hunspell's own variable) and ``TQCHECK_HUNSPELL_PATH`` (``:``-separated) are searched first; both are
read when a dictionary is looked for, never at import.

Two backends. The C hunspell library through pyenchant (Debian libenchant-2-2) is the default: it
loads a dictionary in well under a second and looks words up in microseconds, with little memory.
spylls (pure Python hunspell) is the fallback where enchant, or enchant's hunspell provider for the
dictionary, is missing: loading the French dictionary takes 10-20 s and hundreds of MB, a lookup
about 0.1 ms. Enchant is only used for a dictionary in a system directory that its hunspell provider
searches itself, so both backends read the same files; a dictionary found through ``DICPATH``,
``TQCHECK_HUNSPELL_PATH`` or the check's ``dictionary_dirs`` goes to spylls, which takes a path.
``TQCHECK_SPELLING_BACKEND=spylls`` (or ``enchant``) forces a backend. Dictionaries are loaded once
per process and every lookup is cached.
"""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

STANDARD_DIRS = (
    "/usr/share/hunspell",
    "/usr/share/myspell/dicts",
    "/usr/share/myspell",
    "/usr/local/share/hunspell",
    "/opt/homebrew/share/hunspell",
    "/usr/share/hunspell-dictionaries",
    "~/Library/Spelling",
    "/Library/Spelling",
)

#: Dictionary file stems to try per language, best first (a region in the code goes first).
PREFERRED: dict[str, tuple[str, ...]] = {
    "en": ("en_US", "en_GB", "en_CA", "en_AU", "en"),
    "fr": ("fr_FR", "fr", "fr_BE", "fr_CA", "fr_CH"),
    "es": ("es_ES", "es", "es_MX", "es_AR", "es_CO", "es_CL"),
    "de": ("de_DE", "de_DE_frami", "de", "de_AT", "de_CH"),
    "it": ("it_IT", "it"),
    "pt": ("pt_PT", "pt_BR", "pt"),
    "nl": ("nl_NL", "nl", "nl_BE"),
    "ru": ("ru_RU", "ru"),
    "pl": ("pl_PL", "pl"),
    "sv": ("sv_SE", "sv"),
    "da": ("da_DK", "da"),
    "nb": ("nb_NO", "no_NO", "nb"),
    "ca": ("ca_ES", "ca"),
    "ro": ("ro_RO", "ro"),
    "cs": ("cs_CZ", "cs"),
    "uk": ("uk_UA", "uk"),
}

#: Debian package that provides each language's dictionary (for the "how to fix" of a message).
DEBIAN_PACKAGES = {"en": "hunspell-en-us", "fr": "hunspell-fr", "es": "hunspell-es",
                   "de": "hunspell-de-de", "it": "hunspell-it", "pt": "hunspell-pt-pt",
                   "nl": "hunspell-nl", "ru": "hunspell-ru", "pl": "hunspell-pl", "sv": "hunspell-sv",
                   "da": "hunspell-da", "ca": "hunspell-ca", "ro": "hunspell-ro", "cs": "hunspell-cs",
                   "uk": "hunspell-uk", "nb": "hunspell-no"}


#: Directories that enchant's hunspell provider searches by itself (it takes a tag, not a path).
ENCHANT_DIRS = ("/usr/share/hunspell", "/usr/share/myspell/dicts", "/usr/share/myspell")


def _enchant_dict(path: Path):
    """An enchant dictionary backed by hunspell for the same files as ``path``, or None."""
    backend = os.environ.get("TQCHECK_SPELLING_BACKEND", "auto").lower()
    if backend == "spylls":
        return None
    try:
        resolved_parent = str(path.parent.resolve())
    except OSError:
        return None
    if backend != "enchant" and resolved_parent not in {str(Path(d).resolve()) for d in ENCHANT_DIRS}:
        return None
    try:
        import enchant
    except (ImportError, OSError):  # pyenchant, or the C library libenchant-2, missing
        return None
    try:
        broker = enchant.Broker()
        # Enchant's ordering sends English to aspell when installed; hunspell reads the same files.
        broker.set_ordering(path.name, "hunspell")
        if not broker.dict_exists(path.name):
            return None
        dictionary = broker.request_dict(path.name)
    except (enchant.errors.Error, OSError, ValueError):
        return None
    if dictionary.provider.name != "hunspell":
        return None
    return dictionary


def search_dirs(extra: tuple[str, ...] = ()) -> list[Path]:
    dirs: list[str] = list(extra)
    for var in ("TQCHECK_HUNSPELL_PATH", "DICPATH"):
        value = os.environ.get(var)
        if value:
            dirs.extend(p for p in value.split(os.pathsep) if p)
    dirs.extend(STANDARD_DIRS)
    return [Path(d).expanduser() for d in dirs]


def candidate_stems(lang: str) -> list[str]:
    """``en-GB`` -> ``en_GB`` first, then the language's preferred stems."""
    code = lang.replace("-", "_")
    base, _, region = code.partition("_")
    base = base.lower()
    stems = []
    if region:
        stems.append(f"{base}_{region.upper()}")
    stems.extend(PREFERRED.get(base, (f"{base}_{base.upper()}", base)))
    return list(dict.fromkeys(stems))


def find_dictionary(lang: str, dirs: tuple[str, ...] = ()) -> Path | None:
    """The path stem (without .dic/.aff) of the best dictionary for ``lang``, or None."""
    for stem in candidate_stems(lang):
        for directory in search_dirs(dirs):
            path = directory / stem
            if path.with_suffix(".dic").is_file() and path.with_suffix(".aff").is_file():
                return path
    return None


class Speller:
    """A loaded dictionary with cached lookups. ``known(word)`` is what the checks call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._enchant = _enchant_dict(path)
        #: "enchant" (C hunspell) or "spylls" (pure Python), for logs and benchmarks.
        self.backend = "enchant" if self._enchant is not None else "spylls"
        if self._enchant is None:
            from spylls.hunspell import Dictionary

            self._dictionary = Dictionary.from_files(str(path))
        self._known: dict[str, bool] = {}
        self._suggestions: dict[tuple[str, int], tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def known(self, word: str) -> bool:
        cached = self._known.get(word)
        if cached is not None:
            return cached
        result = self._lookup(word)
        if len(self._known) > 200_000:
            self._known.clear()
        self._known[word] = result
        return result

    def _lookup(self, word: str) -> bool:
        if not word:
            return False
        lookup = self._enchant.check if self._enchant is not None else self._dictionary.lookup
        with self._lock:
            if lookup(word):
                return True
            # Dictionaries differ on the apostrophe they list ("don't" vs "don’t").
            if "’" in word and lookup(word.replace("’", "'")):
                return True
            if "'" in word and lookup(word.replace("'", "’")):
                return True
        return False

    def suggest(self, word: str, limit: int = 5) -> tuple[str, ...]:
        """Spelling suggestions (slow with spylls, about 0.3 s a word: for display, not in a batch)."""
        key = (word, limit)
        if key not in self._suggestions:
            with self._lock:
                out = []
                found = (self._enchant.suggest(word) if self._enchant is not None
                         else self._dictionary.suggest(word))
                for suggestion in found:
                    out.append(suggestion)
                    if len(out) >= limit:
                        break
            if len(self._suggestions) > 2048:
                self._suggestions.clear()
            self._suggestions[key] = tuple(out)
        return self._suggestions[key]


_LOADED: dict[str, Speller] = {}
_LOAD_LOCK = threading.Lock()


def load_speller(path: Path) -> Speller:
    """The speller for a dictionary path stem, loaded once per process."""
    key = str(path)
    speller = _LOADED.get(key)
    if speller is None:
        with _LOAD_LOCK:
            speller = _LOADED.get(key)
            if speller is None:
                speller = _LOADED[key] = Speller(path)
                if speller.backend == "enchant":
                    return speller  # lives in C memory: nothing for the collector to walk
                # A spylls dictionary is millions of Python objects that live as long as the process.
                # Left to the cyclic garbage collector, every full collection walks them all,
                # which made the other checks ten times slower (measured); frozen, they are
                # skipped. Only objects alive now are frozen.
                gc.freeze()
    return speller


#: Languages whose spelling varies by country: without a region in the code, a word is accepted if
#: any of these dictionaries knows it ("behaviour" and "behavior" are both English).
VARIANTS: dict[str, tuple[str, ...]] = {"en": ("en_US", "en_GB"), "pt": ("pt_PT", "pt_BR"),
                                        "de": ("de_DE", "de_CH", "de_AT")}


class SpellerSet:
    """Several dictionaries of one language, a word being known if any of them knows it."""

    def __init__(self, spellers: list[Speller]) -> None:
        self.spellers = spellers
        self.path = spellers[0].path
        self.name = "+".join(s.path.name for s in spellers)
        self._known: dict[str, bool] = {}

    def known(self, word: str) -> bool:
        cached = self._known.get(word)
        if cached is None:
            cached = any(s.known(word) for s in self.spellers)
            if len(self._known) > 200_000:
                self._known.clear()
            self._known[word] = cached
        return cached

    def suggest(self, word: str, limit: int = 5) -> tuple[str, ...]:
        return self.spellers[0].suggest(word, limit)


_FOUND: dict[tuple, Path | None] = {}
_SETS: dict[tuple, SpellerSet | None] = {}


def _find_cached(lang: str, dirs: tuple[str, ...]) -> Path | None:
    key = (lang, dirs, os.environ.get("TQCHECK_HUNSPELL_PATH"), os.environ.get("DICPATH"))
    if key not in _FOUND:
        _FOUND[key] = find_dictionary(lang, dirs)
    return _FOUND[key]


def speller_for(lang: str | None, dirs: tuple[str, ...] = ()) -> SpellerSet | None:
    """The speller of ``lang``, or None if no dictionary is installed for it.

    A plain language code (``en``) gets every installed national variant (en_US and en_GB); a code
    with a region (``en-GB``) gets that dictionary. Where dictionaries were found is remembered per
    language, search path and environment, so the file system is searched once, not per segment.
    """
    if not lang:
        return None
    key = (lang, dirs, os.environ.get("TQCHECK_HUNSPELL_PATH"), os.environ.get("DICPATH"))
    if key in _SETS:
        return _SETS[key]
    code = lang.replace("-", "_")
    paths: list[Path] = []
    if "_" not in code and code.lower() in VARIANTS:
        paths = [p for v in VARIANTS[code.lower()] if (p := _find_cached(v, dirs)) is not None]
    if not paths:
        path = _find_cached(lang, dirs)
        paths = [path] if path is not None else []
    speller = SpellerSet([load_speller(p) for p in dict.fromkeys(paths)]) if paths else None
    _SETS[key] = speller
    return speller
