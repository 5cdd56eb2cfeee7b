"""Language codes: the one place that reads, shortens, validates and translates them.

tqcheck speaks ISO 639-1 (``fr``, ``en``) with an optional region or script (``pt-BR``, ``zh-Hant``),
BCP 47 style; ``base_lang`` shortens any spelling (``fr_CA``, ``FR``, ``fra``) to the ISO 639-1 code
every table of the checks and engines is keyed by. ``check_code`` validates what a user typed, with a
"did you mean" for a language name or a near miss. Apertium mixes two- and three-letter codes
(``fr-es``, ``spa-eng``), NLLB wants ``fra_Latn`` and M2M100 wants ``fr``: the tables below cover the
languages those engines ship; extend them as needed. Imports nothing of tqcheck's but its errors.
"""

from __future__ import annotations

import re

#: ISO 639-3 (and 639-2/B) -> ISO 639-1, for the languages engines here name with three letters.
ISO3_TO_ISO1: dict[str, str] = {
    "afr": "af", "amh": "am", "ara": "ar", "arg": "an", "ast": "ast", "bel": "be", "ben": "bn",
    "bos": "bs", "bre": "br", "bul": "bg", "cat": "ca", "ces": "cs", "cze": "cs", "cym": "cy",
    "wel": "cy", "dan": "da", "deu": "de", "ger": "de", "ell": "el", "gre": "el", "eng": "en",
    "epo": "eo", "est": "et", "eus": "eu", "baq": "eu", "fas": "fa", "per": "fa", "fin": "fi",
    "fra": "fr", "fre": "fr", "gle": "ga", "glg": "gl", "guj": "gu", "heb": "he", "hin": "hi",
    "hrv": "hr", "hun": "hu", "hye": "hy", "ind": "id", "isl": "is", "ice": "is", "ita": "it",
    "jpn": "ja", "kat": "ka", "kaz": "kk", "kor": "ko", "lat": "la", "lav": "lv", "lit": "lt",
    "mkd": "mk", "mlt": "mt", "msa": "ms", "nld": "nl", "dut": "nl", "nno": "nn", "nob": "nb",
    "nor": "no", "oci": "oc", "pol": "pl", "por": "pt", "ron": "ro", "rum": "ro", "rus": "ru",
    "slk": "sk", "slo": "sk", "slv": "sl", "spa": "es", "sqi": "sq", "srp": "sr", "swa": "sw",
    "swe": "sv", "tam": "ta", "tha": "th", "tur": "tr", "ukr": "uk", "urd": "ur", "vie": "vi",
    "zho": "zh", "chi": "zh",
}

#: ISO 639-1 -> NLLB-200 (FLORES-200) code.
NLLB_CODES: dict[str, str] = {
    "af": "afr_Latn", "am": "amh_Ethi", "ar": "arb_Arab", "be": "bel_Cyrl", "bg": "bul_Cyrl",
    "bn": "ben_Beng", "bs": "bos_Latn", "ca": "cat_Latn", "cs": "ces_Latn", "cy": "cym_Latn",
    "da": "dan_Latn", "de": "deu_Latn", "el": "ell_Grek", "en": "eng_Latn", "eo": "epo_Latn",
    "es": "spa_Latn", "et": "est_Latn", "eu": "eus_Latn", "fa": "pes_Arab", "fi": "fin_Latn",
    "fr": "fra_Latn", "ga": "gle_Latn", "gl": "glg_Latn", "gu": "guj_Gujr", "he": "heb_Hebr",
    "hi": "hin_Deva", "hr": "hrv_Latn", "hu": "hun_Latn", "hy": "hye_Armn", "id": "ind_Latn",
    "is": "isl_Latn", "it": "ita_Latn", "ja": "jpn_Jpan", "ka": "kat_Geor", "kk": "kaz_Cyrl",
    "ko": "kor_Hang", "lt": "lit_Latn", "lv": "lvs_Latn", "mk": "mkd_Cyrl", "mt": "mlt_Latn",
    "ms": "zsm_Latn", "nb": "nob_Latn", "nl": "nld_Latn", "nn": "nno_Latn", "no": "nob_Latn",
    "oc": "oci_Latn", "pl": "pol_Latn", "pt": "por_Latn", "ro": "ron_Latn", "ru": "rus_Cyrl",
    "sk": "slk_Latn", "sl": "slv_Latn", "sq": "als_Latn", "sr": "srp_Cyrl", "sv": "swe_Latn",
    "sw": "swh_Latn", "ta": "tam_Taml", "th": "tha_Thai", "tr": "tur_Latn", "uk": "ukr_Cyrl",
    "ur": "urd_Arab", "vi": "vie_Latn", "zh": "zho_Hans",
}

#: Languages of facebook/m2m100_418M and _1.2B (they use ISO 639-1 codes directly).
M2M100_CODES: frozenset[str] = frozenset(
    "af am ar ast az ba be bg bn br bs ca ceb cs cy da de el en es et fa ff fi fr fy ga gd gl gu ha "
    "he hi hr ht hu hy id ig ilo is it ja jv ka kk km kn ko lb lg ln lo lt lv mg mk ml mn mr ms my "
    "ne nl no ns oc or pa pl ps pt ro ru sd si sk sl so sq sr ss su sv sw ta th tl tn tr uk ur uz vi "
    "wo xh yi yo zh zu".split()
)


_SPLIT = re.compile(r"[-_]")
#: A BCP 47 tag as users write it: a 2-3 letter language, then subtags (script, region, variant).
_TAG = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


def base_lang(code: str | None) -> str | None:
    """``pt-BR`` -> ``pt``, ``fr_CA`` -> ``fr``, ``fra`` -> ``fr``, ``EN`` -> ``en``: the ISO 639-1
    code where known; None (or an empty code) stays None."""
    if not code or not code.strip():
        return None
    primary = _SPLIT.split(code.strip(), maxsplit=1)[0].lower()
    return ISO3_TO_ISO1.get(primary, primary) or None


def region(code: str | None) -> str | None:
    """``fr-CA`` -> ``CA``; None without a region."""
    if not code:
        return None
    parts = _SPLIT.split(code.strip(), maxsplit=1)
    return parts[1].upper() if len(parts) > 1 and parts[1] else None


def same_lang(a: str | None, b: str | None) -> bool:
    return base_lang(a) == base_lang(b)


#: English names of common languages, for "did you mean" when a user types a name, not a code.
_NAMES = {"english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it",
          "portuguese": "pt", "dutch": "nl", "russian": "ru", "chinese": "zh", "japanese": "ja",
          "korean": "ko", "arabic": "ar", "catalan": "ca", "polish": "pl", "czech": "cs",
          "romanian": "ro", "swedish": "sv", "danish": "da", "finnish": "fi", "greek": "el",
          "turkish": "tr", "ukrainian": "uk", "hindi": "hi", "estonian": "et", "basque": "eu",
          "galician": "gl", "norwegian": "no", "hungarian": "hu", "bulgarian": "bg", "croatian": "hr",
          "français": "fr", "anglais": "en", "deutsch": "de", "español": "es", "allemand": "de"}


def known_codes() -> frozenset[str]:
    """ISO 639-1 codes tqcheck's tables name."""
    return frozenset(ISO3_TO_ISO1.values()) | frozenset(NLLB_CODES) | M2M100_CODES


def check_code(code: str, *, option: str = "language") -> str:
    """``code`` if it is a language tag tqcheck can read, else a ``UsageError`` with a suggestion.

    Accepted: BCP 47 style tags whose language is two or three letters (``fr``, ``pt-BR``,
    ``zh-Hant``, ``fra``); the language part need not be in tqcheck's tables (engines and checks say
    for themselves what they cover), but a language *name* or a near miss of a known code is refused
    with "did you mean".
    """
    from tqcheck.errors import UsageError

    value = code.strip()
    lowered = value.lower()
    if lowered in _NAMES:
        raise UsageError(f"{option} {code!r} is a language name, not a code",
                         fix=f"did you mean {_NAMES[lowered]!r}?")
    if not _TAG.match(value):
        suggestion = _suggest(lowered)
        raise UsageError(f"{option} {code!r} is not a language code",
                         fix=(f"did you mean {suggestion!r}? " if suggestion else "")
                         + "use an ISO 639-1 code such as fr or en, optionally with a region: pt-BR")
    return value


def _suggest(text: str) -> str | None:
    import difflib

    if text in _NAMES:
        return _NAMES[text]
    names = difflib.get_close_matches(text, list(_NAMES), n=1, cutoff=0.75)
    if names:
        return _NAMES[names[0]]
    base = base_lang(text[:3]) if len(text) >= 2 else None
    return base if base in known_codes() else None
