"""Number words by language, so that "douze heures" -> "twelve hours" is not a missing 12.

Only what MT commonly writes out: 0-20, the tens, hundred/thousand, and the collective nouns news
uses for round figures ("une centaine" -> "about 100"). Compound number words ("twenty-five") are
read as the sum of their parts when every part is a number word.
"""

from __future__ import annotations

from decimal import Decimal

_UNITS = {
    "en": "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
          "fifteen sixteen seventeen eighteen nineteen twenty",
    "fr": "zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze "
          "seize dix-sept dix-huit dix-neuf vingt",
    "es": "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince "
          "dieciséis diecisiete dieciocho diecinueve veinte",
    "it": "zero uno due tre quattro cinque sei sette otto nove dieci undici dodici tredici quattordici "
          "quindici sedici diciassette diciotto diciannove venti",
    "pt": "zero um dois três quatro cinco seis sete oito nove dez onze doze treze catorze quinze "
          "dezesseis dezessete dezoito dezenove vinte",
    "de": "null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn vierzehn "
          "fünfzehn sechzehn siebzehn achtzehn neunzehn zwanzig",
    "nl": "nul een twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien vijftien "
          "zestien zeventien achttien negentien twintig",
}
_TENS = {
    "en": "thirty forty fifty sixty seventy eighty ninety",
    "fr": "trente quarante cinquante soixante soixante-dix quatre-vingt quatre-vingt-dix",
    "es": "treinta cuarenta cincuenta sesenta setenta ochenta noventa",
    "it": "trenta quaranta cinquanta sessanta settanta ottanta novanta",
    "pt": "trinta quarenta cinquenta sessenta setenta oitenta noventa",
    "de": "dreißig vierzig fünfzig sechzig siebzig achtzig neunzig",
    "nl": "dertig veertig vijftig zestig zeventig tachtig negentig",
}
# Extra words: alternative forms, round-figure nouns, "a"/"an" for 1 ("1 an" -> "a year").
_EXTRA: dict[str, dict[str, int]] = {
    "en": {"a": 1, "an": 1, "once": 1, "twice": 2, "both": 2, "pair": 2, "couple": 2, "dozen": 12,
           "dozens": 12, "hundred": 100, "hundreds": 100, "thousand": 1000,
           "thousands": 1000, "single": 1, "first": 1, "second": 2, "third": 3, "fourth": 4,
           "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "twelfth": 12},
    "fr": {"une": 1, "premier": 1, "première": 1, "deuxième": 2, "second": 2, "seconde": 2,
           "troisième": 3, "quatrième": 4, "cinquième": 5, "dixième": 10, "douzaine": 12,
           "dizaine": 10, "dizaines": 10, "quinzaine": 15, "vingtaine": 20, "trentaine": 30,
           "quarantaine": 40, "cinquantaine": 50, "soixantaine": 60, "centaine": 100,
           "centaines": 100, "cent": 100, "cents": 100, "mille": 1000, "millier": 1000,
           "milliers": 1000, "quatre-vingts": 80, "double": 2},
    "es": {"un": 1, "una": 1, "primero": 1, "primera": 1, "segundo": 2, "tercero": 3, "docena": 12,
           "decena": 10, "cien": 100, "ciento": 100, "centenar": 100, "mil": 1000, "millar": 1000},
    "it": {"un": 1, "una": 1, "primo": 1, "secondo": 2, "terzo": 3, "dozzina": 12, "decina": 10,
           "cento": 100, "centinaio": 100, "mille": 1000, "migliaio": 1000},
    "pt": {"uma": 1, "primeiro": 1, "segundo": 2, "terceiro": 3, "dúzia": 12, "dezena": 10,
           "cem": 100, "cento": 100, "centena": 100, "mil": 1000, "milhar": 1000},
    "de": {"ein": 1, "eine": 1, "einen": 1, "einem": 1, "einer": 1, "erste": 1, "zweite": 2,
           "dritte": 3, "dutzend": 12, "hundert": 100, "tausend": 1000},
    "nl": {"één": 1, "eerste": 1, "tweede": 2, "derde": 3, "dozijn": 12, "honderd": 100,
           "duizend": 1000},
}

#: Words that multiply the number before them ("1,5 milliard" == "1.5 billion" == 1500000000).
SCALES: dict[str, int] = {
    "thousand": 10**3, "mille": 10**3, "mil": 10**3, "tausend": 10**3, "duizend": 10**3, "k": 10**3,
    "million": 10**6, "millions": 10**6, "millón": 10**6, "millones": 10**6, "milione": 10**6,
    "milioni": 10**6, "milhão": 10**6, "milhões": 10**6, "millionen": 10**6, "miljoen": 10**6,
    "mio": 10**6, "mn": 10**6,
    "billion": 10**9, "billions": 10**9, "milliard": 10**9, "milliards": 10**9, "mrd": 10**9,
    "miliardo": 10**9, "miliardi": 10**9, "bilhão": 10**9, "bilhões": 10**9, "milliarde": 10**9,
    "milliarden": 10**9, "miljard": 10**9, "bn": 10**9, "mds": 10**9,
    "trillion": 10**12, "billón": 10**12, "billones": 10**12, "billiarde": 10**12,
}


def _build() -> dict[str, dict[str, int]]:
    tables: dict[str, dict[str, int]] = {}
    for lang, units in _UNITS.items():
        table = {word: i for i, word in enumerate(units.split())}
        for i, word in enumerate(_TENS[lang].split()):
            table[word] = 30 + 10 * i
        table.update(_EXTRA.get(lang, {}))
        tables[lang] = table
    return tables


WORDS: dict[str, dict[str, int]] = _build()


def word_value(word: str, lang: str | None) -> Decimal | None:
    """The value of a number word in ``lang`` (any known language when None), or None."""
    word = word.casefold()
    tables = [WORDS[lang]] if lang in WORDS else list(WORDS.values())
    for table in tables:
        if word in table:
            return Decimal(table[word])
        if "-" in word:
            parts = word.split("-")
            if all(p in table for p in parts):
                return Decimal(sum(table[p] for p in parts))
    return None
