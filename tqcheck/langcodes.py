"""Language codes as engines spell them.

tqcheck speaks ISO 639-1 (``fr``, ``en``) with an optional region (``pt-BR``); Apertium mixes
two- and three-letter codes (``fr-es``, ``spa-eng``), NLLB wants ``fra_Latn`` and M2M100 wants
``fr``. These tables cover the languages those engines ship; extend them as needed.
"""

from __future__ import annotations

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


def base_lang(code: str) -> str:
    """``pt-BR`` -> ``pt``, ``fra`` -> ``fr``, ``EN`` -> ``en``: the ISO 639-1 code where known."""
    primary = code.strip().replace("_", "-").split("-")[0].lower()
    return ISO3_TO_ISO1.get(primary, primary)


def same_lang(a: str, b: str) -> bool:
    return base_lang(a) == base_lang(b)
