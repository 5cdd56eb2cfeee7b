"""Regenerate tqcheck/checks/_cldr_names.py from CLDR (needs ``pip install babel``; not a runtime dependency).

Run ``python -m tqcheck.checks._cldr_names_build`` from the repository root.
"""

from __future__ import annotations


def main() -> None:
    import babel
    from babel import Locale
    LANGS = ["en", "fr", "es", "de", "it", "pt", "nl"]
    terr: dict[str, set[str]] = {}
    for lang in LANGS:
        loc = Locale(lang)
        for code, name in loc.territories.items():
            if code in ("ZZ", "QO", "EZ", "UN", "XA", "XB"):
                continue
            terr.setdefault(code, set()).add(name)
    months = {lang: [Locale(lang).months["format"]["wide"][i] for i in range(1, 13)] for lang in LANGS}
    days = {lang: [Locale(lang).days["format"]["wide"][i] for i in range(7)] for lang in LANGS}
    langs: dict[str, set[str]] = {}
    for lang in LANGS:
        for code in LANGS + ["ar", "zh", "ja", "ru"]:
            langs.setdefault(code, set()).add(Locale(lang).languages[code])
    out = ['"""Names of countries, regions, languages, months and days in several languages, from CLDR.',
           '',
           f'Generated with babel {babel.__version__} (Unicode CLDR data, Unicode License v3) by',
           'tqcheck/checks/_cldr_names_build.py; do not edit by hand.',
           '"""', '', '# fmt: off',
           'TERRITORIES: dict[str, tuple[str, ...]] = {']
    for code in sorted(terr):
        out.append(f'    {code!r}: {tuple(sorted(terr[code]))!r},')
    out.append('}')
    out.append('LANGUAGES: dict[str, tuple[str, ...]] = {')
    for code in sorted(langs):
        out.append(f'    {code!r}: {tuple(sorted(langs[code]))!r},')
    out.append('}')
    out.append('MONTHS: dict[str, tuple[str, ...]] = {')
    for lang in LANGS:
        out.append(f'    {lang!r}: {tuple(months[lang])!r},')
    out.append('}')
    out.append('DAYS: dict[str, tuple[str, ...]] = {')
    for lang in LANGS:
        out.append(f'    {lang!r}: {tuple(days[lang])!r},')
    out.append('}')
    out.append('# fmt: on')
    with open("tqcheck/checks/_cldr_names.py", "w", encoding="utf-8") as handle:
        handle.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
