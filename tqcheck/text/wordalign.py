"""Word matching across a round trip, without a neural aligner.

The round-trip and pseudo-reference signals need to say *which* words went wrong, not only that a
sentence score is low. A neural word aligner is not available offline, so this module aligns by
*lexical matching through translation*, in three explainable steps:

1. **Words and their normal forms.** ``words(text)`` splits a text into words with character offsets,
   cutting French/Italian elisions (``d'halle`` -> ``d'`` + ``halle``) so that the content word can
   match. ``fold(word)`` lower-cases and strips accents (``Marché`` -> ``marche``).
2. **Match levels.** ``match_level(a, b)`` compares two words of the *same* language: ``EXACT``
   (equal ignoring case), ``ACCENT`` (equal only once accents are stripped: ``marche`` / ``marché``),
   ``STEM`` (a long common prefix of the folded forms: ``marcher`` / ``marchaient``, ``hours`` /
   ``hour``), or ``NONE``.
3. **Crossing languages by translating single words.** To relate an MT word to the source, the caller
   translates the MT word on its own into the source language (with the same engine, batched and
   cached) and matches that translation against the source words. ``align`` then pairs each MT
   content word with the best-matching source word.

The key case this is built for: French source "douze heures de marche" (marche = walk), MT "twelve
hours of market". The back-translation returns "marché" where the source has "marche": an ``ACCENT``
match, not an ``EXACT`` one, so the source word did *not* come back; and the MT word "market"
translates on its own to "marché", which again matches the source's "marche" only at ``ACCENT``
level. An MT word whose translation matches a source word only up to accents is a near-homograph
(false-friend) mistranslation, and the span to flag is "market".

Accent differences on the first letter are ignored (``Etats`` / ``États``): capital letters often
lose their accents in French typesetting, and an error there is a spelling matter, not a change of
meaning.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from tqcheck.langcodes import base_lang

__all__ = ["Word", "words", "fold", "MatchLevel", "match_level", "is_content", "Alignment", "align",
           "accent_variants", "FUNCTION_WORDS"]

#: Letters (and digits), with elided articles/pronouns split off (``l'``, ``qu'``), hyphens splitting
#: compounds so each part can match on its own.
_WORD = re.compile(r"(?:[^\W\d_]{1,3}['’](?=[^\W\d_]))|[^\W_]+", re.UNICODE)

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "’": "'"})


@dataclass(frozen=True, slots=True)
class Word:
    start: int
    end: int
    text: str
    norm: str  # folded: lower case, no accents

    @property
    def lower(self) -> str:
        return self.text.lower().translate(_LIGATURES)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower case without accents or ligatures: the form words are compared in."""
    text = text.translate(_LIGATURES).lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[Word]:
    """Words of ``text`` with character offsets (``text[w.start:w.end] == w.text``)."""
    return [Word(m.start(), m.end(), m.group(), fold(m.group())) for m in _WORD.finditer(text)]


# Function words per language: words that carry grammar, not content, so that a missing "the" or
# "de" is not reported as a lost meaning. Short closed lists; unknown languages fall back to the
# length rule in ``is_content``.
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("""a an the and or but nor so yet if then than that this these those there here of to in
        on at by for from with without within into onto over under about above below after before
        between through during against among as is are was were be been being am do does did done
        have has had having will would shall should can could may might must not no it its it's he
        she they them their theirs his her hers him we us our ours you your yours i me my mine
        who whom whose which what when where why how all any both each few more most other some
        such only own same very just also too up down out off again further once s t don isn
        aren wasn weren hasn haven hadn won wouldn doesn didn can't cannot one""".split()),
    "fr": frozenset("""le la les l' un une des du de d' au aux et ou mais donc or ni car que qu' qui quoi
        dont où ce cet cette ces c' se s' sa son ses leur leurs mon ma mes ton ta tes notre nos votre
        vos il elle ils elles on nous vous je j' tu me m' te t' lui y en ne n' pas plus est sont
        était étaient être été a ont avait avaient avoir eu fait dans sur sous par pour avec sans
        chez entre vers comme si aussi très tout tous toute toutes même autre autres quand lors
        puis alors ainsi cela ça ceci celui celle ceux celles lequel laquelle lesquels auquel
        duquel après avant depuis pendant selon contre""".split()),
    "es": frozenset("""el la los las lo un una unos unas de del al y e o u pero sino ni que quien cual
        cuyo donde cuando como se su sus mi mis tu tus nuestro nuestra vuestro él ella ellos
        ellas nosotros vosotros yo me te le les nos os no sí es son era eran ser sido fue fueron
        ha han había habían haber en por para con sin sobre entre hacia desde hasta muy más
        todo todos toda todas otro otra otros otras este esta estos estas ese esa esos esas""".split()),
    "pt": frozenset("""o a os as um uma uns umas de do da dos das no na nos nas ao aos à às e ou mas
        que quem qual cujo onde quando como se seu sua seus suas meu minha ele ela eles elas nós
        eu me te lhe lhes não é são era eram ser sido foi foram tem têm havia em por para com sem
        sobre entre até muito mais todo todos toda todas outro outra este esta esse essa""".split()),
    "de": frozenset("""der die das den dem des ein eine einen einem einer eines und oder aber sondern
        dass daß wer was welcher welche wo wann wie sich sein seine ihr ihre er sie es wir ihr ich
        du mich dich ihn ihm uns euch nicht kein keine ist sind war waren sein gewesen hat haben
        hatte hatten wird werden in im an am auf aus bei mit nach von vor zu zum zur über unter
        durch für gegen ohne um sehr mehr auch nur schon noch""".split()),
    "it": frozenset("""il lo la i gli le un uno una di del della dei degli delle a al alla ai agli alle
        da dal dalla in nel nella con su sul per tra fra e o ma che chi cui dove quando come se
        suo sua suoi sue lui lei loro noi voi io tu mi ti ci vi si non è sono era erano essere
        stato ha hanno aveva molto più tutto tutti questo questa quello quella""".split()),
}
_FOLDED_FUNCTION_WORDS = {lang: frozenset(fold(w) for w in ws) for lang, ws in FUNCTION_WORDS.items()}


def is_content(word: Word | str, lang: str | None) -> bool:
    """Whether a word carries content: not a function word of ``lang``, and, for a language without a
    list, longer than three letters. Numbers count as content (a lost number is a lost meaning)."""
    text = word.text if isinstance(word, Word) else word
    norm = fold(text).rstrip("'")
    if not norm:
        return False
    if norm.isdigit():
        return True
    listed = _FOLDED_FUNCTION_WORDS.get(base_lang(lang) or "")
    if listed is None:
        return len(norm) > 3
    return norm not in listed and fold(text) not in listed and len(norm) > 1


class MatchLevel(enum.IntEnum):
    NONE = 0
    STEM = 1
    ACCENT = 2
    EXACT = 3


#: A shared prefix must cover this share of the longer folded word (and at least ``_MIN_STEM``
#: letters) for a STEM match: "walk"/"walking" 4/7 no, "marcher"/"marchaient" 6/10 yes.
_STEM_SHARE = 0.5
_MIN_STEM = 5
#: Endings that turn a short word into its inflected form in the languages tqcheck meets most.
_INFLECTIONS = frozenset({"s", "es", "e", "d", "ed", "x", "r", "er", "n", "en", "ee", "ees", "ing", "ly"})


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def match_level(a: str, b: str) -> MatchLevel:
    """How two words of one language match (see the module docstring)."""
    # NFKC first: a PDF's "ﬁ" ligature is the letters "fi", not an accent.
    la = unicodedata.normalize("NFKC", a).lower().translate(_LIGATURES)
    lb = unicodedata.normalize("NFKC", b).lower().translate(_LIGATURES)
    if la == lb:
        return MatchLevel.EXACT
    fa, fb = fold(a), fold(b)
    if fa == fb:
        # An accent difference only on the first letter is typography (Etats/États), not meaning.
        if la[1:] == lb[1:]:
            return MatchLevel.EXACT
        return MatchLevel.ACCENT
    shortest = min(len(fa), len(fb))
    if shortest >= 3 and fa[:shortest] == fb[:shortest]:
        longer = fa if len(fa) > len(fb) else fb
        if longer[shortest:] in _INFLECTIONS:
            return MatchLevel.STEM  # hour/hours, walk/walked, marché/marchés
    prefix = _common_prefix(fa, fb)
    if prefix >= _MIN_STEM and prefix >= _STEM_SHARE * max(len(fa), len(fb)):
        return MatchLevel.STEM
    return MatchLevel.NONE


def best_match(word: str, candidates: Iterable[Word]) -> tuple[MatchLevel, Word | None]:
    """The best-matching candidate (first one on ties) and the level of the match."""
    best, level = None, MatchLevel.NONE
    for cand in candidates:
        lv = match_level(word, cand.text)
        if lv > level:
            best, level = cand, lv
            if lv == MatchLevel.EXACT:
                break
    return level, best


def phrase_match(phrase: str, candidates: Sequence[Word], lang: str | None) -> tuple[MatchLevel, Word | None]:
    """Match a (possibly multi-word) translation of one word against candidate words: the best match
    of any of its content words (an engine may render "market" as "le marché")."""
    best: tuple[MatchLevel, Word | None] = (MatchLevel.NONE, None)
    parts = [w for w in words(phrase) if is_content(w, lang)] or words(phrase)
    for part in parts:
        level, cand = best_match(part.text, candidates)
        if level > best[0]:
            best = (level, cand)
    return best


_ACCENTS = {
    "a": "àâä", "e": "éèêë", "i": "îï", "o": "ôö", "u": "ùûü", "c": "ç", "n": "ñ", "y": "ÿ",
}


def accent_variants(word: str, *, limit: int = 24) -> list[str]:
    """Spellings of ``word`` that differ by one accent added or removed on one letter after the first
    (``marche`` -> ``marché``, ``marchè``, ``mârche``...): the candidates of a near-homograph."""
    lower = word.lower()
    out: list[str] = []
    for i in range(1, len(lower)):
        ch = lower[i]
        base = fold(ch)
        options = {base, *_ACCENTS.get(base, "")} - {ch}
        for repl in sorted(options):
            if fold(repl) != base:
                continue
            out.append(lower[:i] + repl + lower[i + 1:])
            if len(out) >= limit:
                return out
    return out


@dataclass(frozen=True)
class Alignment:
    """MT content words paired with source content words through single-word translations.

    ``pairs`` maps an MT word index (into ``mt_words``) to ``(source word index, level)``;
    ``unsupported`` lists MT content words whose translation matches no source word.
    """

    mt_words: tuple[Word, ...]
    source_words: tuple[Word, ...]
    pairs: dict[int, tuple[int, MatchLevel]]
    unsupported: tuple[int, ...]


def align(
    mt_words: Sequence[Word],
    source_words: Sequence[Word],
    translations: dict[str, str],
    *,
    source_lang: str | None,
    target_lang: str | None,
) -> Alignment:
    """Pair MT content words with source words via ``translations`` (MT word, lower case -> its
    translation into the source language). An MT word spelled the same as a source word (a name, a
    number) pairs with it directly."""
    source_content = [w for w in source_words if is_content(w, source_lang)]
    index = {id(w): i for i, w in enumerate(source_words)}
    pairs: dict[int, tuple[int, MatchLevel]] = {}
    unsupported: list[int] = []
    used: set[int] = set()
    for i, mw in enumerate(mt_words):
        if not is_content(mw, target_lang):
            continue
        # Same spelling in both languages (names, numbers) aligns directly, but only exactly: a
        # shared prefix across languages ("march"/"marche") is a coincidence, not evidence.
        level, cand = _prefer_unused(lambda cands: best_match(mw.text, cands), source_content, used, index)  # noqa: B023 - called at once
        if level < MatchLevel.EXACT:
            level, cand = MatchLevel.NONE, None
            tr = translations.get(mw.lower)
            if tr:
                level, cand = _prefer_unused(lambda cands: phrase_match(tr, cands, source_lang),  # noqa: B023 - called at once
                                             source_content, used, index)
        if cand is not None and level > MatchLevel.NONE:
            pairs[i] = (index[id(cand)], level)
            used.add(index[id(cand)])
        else:
            unsupported.append(i)
    return Alignment(tuple(mt_words), tuple(source_words), pairs, tuple(unsupported))


def _prefer_unused(match, candidates: Sequence[Word], used: set[int], index: dict[int, int]):
    """The best match, taken from source words not yet aligned when one of them matches as well: a
    source word repeated twice is two words to account for ("leur marche ... de marche")."""
    level, cand = match(candidates)
    if cand is None or index[id(cand)] not in used:
        return level, cand
    free_level, free_cand = match([w for w in candidates if index[id(w)] not in used])
    return (free_level, free_cand) if free_cand is not None and free_level >= level else (level, cand)


def greedy_match(a_words: Sequence[Word], b_words: Sequence[Word]) -> dict[int, tuple[int, MatchLevel]]:
    """One-to-one matching of two word lists of one language: strongest level first, then the
    nearest relative position. A word repeated in ``a`` needs as many matches in ``b`` ("leur
    marche ... de marche" needs two), so one back-translated word cannot vouch for two source words."""
    if not a_words or not b_words:
        return {}
    la = max(1, a_words[-1].end)
    lb = max(1, b_words[-1].end)
    candidates = []
    for i, a in enumerate(a_words):
        for j, b in enumerate(b_words):
            level = match_level(a.text, b.text)
            if level > MatchLevel.NONE:
                candidates.append((-int(level), abs(a.start / la - b.start / lb), i, j, level))
    candidates.sort()
    out: dict[int, tuple[int, MatchLevel]] = {}
    used_b: set[int] = set()
    for _, _, i, j, level in candidates:
        if i in out or j in used_b:
            continue
        out[i] = (j, level)
        used_b.add(j)
    return out
