"""Synthetic translation errors injected into human reference translations, each with its span.

Why: human MQM labels are few for the errors a copy editor fears most (a French "marche" rendered
as "market", a dropped "not", a changed number), and a reference translation with one known error is
a clean contrastive pair. Each generator takes a reference (and its source) and returns the damaged
text with the character span of the damage on it and an MQM severity, or None when it does not apply.

Generators: omission, addition, word swap, negation, number change, name change, untranslated /
code-mixed words, near-homograph (false friend) substitution, random mistranslation, spacing and
punctuation damage. Word lists (for additions, homographs, names) come from other references of the
same target language, given to ``ErrorMaker``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

_WORD = re.compile(r"\w+(?:[’'-]\w+)*", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class Damaged:
    """A reference with one injected error: the new text, its spans and whether it is major."""

    text: str
    spans: tuple[tuple[int, int, str], ...]
    kind: str

    @property
    def has_major(self) -> int:
        return int(any(sev in ("major", "critical") for _, _, sev in self.spans) or self.kind == "omission")


_NEGATION_ADD = {
    "en": [(r"\b(is|are|was|were|can|could|should|will|would|does|did|do|has|have|had|must|may)\b", r"\1 not")],
    "de": [(r"\b(ist|sind|war|waren|kann|können|wird|werden|hat|haben|muss)\b", r"\1 nicht")],
    "fr": [(r"\b(est|sont|était|peut|doit|a|ont)\b", r"n'\1 pas")],
    "es": [(r"\b(es|son|está|están|fue|puede|pueden|tiene|tienen|ha|han)\b", r"no \1")],
    "it": [(r"\b(è|sono|era|può|possono|ha|hanno)\b", r"non \1")],
    "pt": [(r"\b(é|são|está|estão|foi|pode|podem|tem|têm)\b", r"não \1")],
    "ru": [(r"\b(является|может|были|был|была|будет)\b", r"не \1")],
}
_NEGATION_DROP = {
    "en": r"\s(not|never|no)\b|n't\b",
    "de": r"\s(nicht|kein|keine|nie)\b",
    "fr": r"\s(ne|n')\s?|\s(pas|jamais)\b",
    "es": r"\s(no|nunca)\b",
    "it": r"\s(non|mai)\b",
    "pt": r"\s(não|nunca)\b",
    "ru": r"\s(не|нет|никогда)\b",
}


def _levenshtein(a: str, b: str, cap: int = 3) -> int:
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


class ErrorMaker:
    """Inject one error into a reference. ``words`` are words of the reference language."""

    def __init__(self, words: Iterable[str], rng: random.Random) -> None:
        vocab = sorted({w for w in words if len(w) >= 3 and not w.isdigit()})
        self.rng = rng
        self.words = vocab
        self.names = [w for w in vocab if w[0].isupper() and w[1:].islower() and len(w) >= 4]
        self._by_prefix: dict[str, list[str]] = {}
        for w in vocab:
            if len(w) >= 4 and w.islower():
                self._by_prefix.setdefault(w[:2], []).append(w)
        self.generators: dict[str, Callable[[str, str, str], Damaged | None]] = {
            "omission": self.omission,
            "addition": self.addition,
            "swap": self.swap,
            "negation": self.negation,
            "number": self.number,
            "name": self.name,
            "untranslated": self.untranslated,
            "homograph": self.homograph,
            "mistranslation": self.mistranslation,
            "punctuation": self.punctuation,
        }

    def make(self, reference: str, source: str, lang: str, kinds: Sequence[str] | None = None) -> Damaged | None:
        """Try generators in random order until one applies."""
        names = list(kinds or self.generators)
        self.rng.shuffle(names)
        for name in names:
            out = self.generators[name](reference, source, lang)
            if out is not None and out.text != reference and out.text.strip():
                return out
        return None

    # --- generators ------------------------------------------------------------------------------
    def _words(self, text: str) -> list[re.Match[str]]:
        return [m for m in _WORD.finditer(text) if not m.group().isdigit()]

    def omission(self, ref: str, src: str, lang: str) -> Damaged | None:
        words = self._words(ref)
        if len(words) < 6:
            return None
        n = self.rng.choice([1, 2, 2, 3, 4])
        i = self.rng.randrange(0, len(words) - n)
        start, end = words[i].start(), words[i + n - 1].end()
        text = (ref[:start].rstrip() + " " + ref[end:].lstrip()).strip()
        return Damaged(text, (), "omission")

    def addition(self, ref: str, src: str, lang: str) -> Damaged | None:
        words = self._words(ref)
        if len(words) < 3 or not self.words:
            return None
        extra = " ".join(self.rng.choice(self.words) for _ in range(self.rng.choice([1, 2, 3])))
        at = self.rng.choice(words[1:]).start()
        text = ref[:at] + extra + " " + ref[at:]
        return Damaged(text, ((at, at + len(extra), "major"),), "addition")

    def swap(self, ref: str, src: str, lang: str) -> Damaged | None:
        words = [w for w in self._words(ref) if len(w.group()) > 2]
        pairs = [(a, b) for a, b in zip(words, words[1:]) if ref[a.end() : b.start()] == " "]
        if not pairs:
            return None
        a, b = self.rng.choice(pairs)
        text = ref[: a.start()] + b.group() + " " + a.group() + ref[b.end() :]
        return Damaged(text, ((a.start(), b.end(), "minor"),), "swap")

    def negation(self, ref: str, src: str, lang: str) -> Damaged | None:
        lang = lang[:2]
        drop = _NEGATION_DROP.get(lang)
        if drop:
            hits = list(re.finditer(drop, ref))
            if hits:
                m = self.rng.choice(hits)
                text = ref[: m.start()] + ref[m.end() :]
                at = m.start()
                # the sentence now says the opposite: tag the word the negation was attached to
                nxt = _WORD.search(text, at) or _WORD.search(text)
                if nxt is None:
                    return None
                prev = [w for w in _WORD.finditer(text[:at])]
                s = prev[-1].start() if prev else nxt.start()
                return Damaged(text, ((s, nxt.end(), "major"),), "negation")
        for pattern, repl in _NEGATION_ADD.get(lang, []):
            hits = list(re.finditer(pattern, ref))
            if hits:
                m = self.rng.choice(hits)
                new = m.expand(repl)
                text = ref[: m.start()] + new + ref[m.end() :]
                return Damaged(text, ((m.start(), m.start() + len(new), "major"),), "negation")
        return None

    def number(self, ref: str, src: str, lang: str) -> Damaged | None:
        hits = list(_NUMBER.finditer(ref))
        if not hits:
            return None
        m = self.rng.choice(hits)
        digits = [i for i, c in enumerate(m.group()) if c.isdigit()]
        chars = list(m.group())
        i = self.rng.choice(digits)
        chars[i] = self.rng.choice([d for d in "0123456789" if d != chars[i]])
        if self.rng.random() < 0.3:
            chars.append(self.rng.choice("0123456789"))
        new = "".join(chars)
        return Damaged(ref[: m.start()] + new + ref[m.end() :], ((m.start(), m.start() + len(new), "major"),), "number")

    def name(self, ref: str, src: str, lang: str) -> Damaged | None:
        caps = [w for w in self._words(ref)[1:] if w.group()[0].isupper() and len(w.group()) >= 3]
        if not caps or not self.names:
            return None
        m = self.rng.choice(caps)
        new = self.rng.choice(self.names)
        if new == m.group():
            return None
        return Damaged(ref[: m.start()] + new + ref[m.end() :], ((m.start(), m.start() + len(new), "major"),), "name")

    def untranslated(self, ref: str, src: str, lang: str) -> Damaged | None:
        ref_words = self._words(ref)
        src_words = [w.group() for w in self._words(src) if len(w.group()) >= 4]
        if len(ref_words) < 3 or not src_words:
            return None
        n = self.rng.choice([1, 1, 2, 3])
        i = self.rng.randrange(0, len(src_words))
        new = " ".join(src_words[i : i + n])
        m = self.rng.choice(ref_words)
        if new.lower() == m.group().lower() or new.lower() in ref.lower():
            return None
        return Damaged(ref[: m.start()] + new + ref[m.end() :], ((m.start(), m.start() + len(new), "major"),),
                       "untranslated")

    def homograph(self, ref: str, src: str, lang: str) -> Damaged | None:
        cands = [w for w in self._words(ref) if len(w.group()) >= 4 and w.group().islower()]
        self.rng.shuffle(cands)
        for m in cands[:6]:
            word = m.group()
            pool = self._by_prefix.get(word[:2], [])
            if not pool:
                continue
            near = [w for w in self.rng.sample(pool, min(len(pool), 300))
                    if w != word and 0 < _levenshtein(w, word, 2) <= 2]
            if near:
                new = self.rng.choice(near)
                return Damaged(ref[: m.start()] + new + ref[m.end() :],
                               ((m.start(), m.start() + len(new), "major"),), "homograph")
        return None

    def mistranslation(self, ref: str, src: str, lang: str) -> Damaged | None:
        cands = [w for w in self._words(ref) if len(w.group()) >= 4]
        if not cands or not self.words:
            return None
        m = self.rng.choice(cands)
        new = self.rng.choice(self.words)
        if m.group()[0].isupper():
            new = new[:1].upper() + new[1:]
        return Damaged(ref[: m.start()] + new + ref[m.end() :], ((m.start(), m.start() + len(new), "major"),),
                       "mistranslation")

    def punctuation(self, ref: str, src: str, lang: str) -> Damaged | None:
        choice = self.rng.randrange(4)
        if choice == 0:  # glue two words
            spaces = [m.start() for m in re.finditer(r"(?<=\w) (?=\w)", ref)]
            if not spaces:
                return None
            at = self.rng.choice(spaces)
            text = ref[:at] + ref[at + 1 :]
            left = max(ref.rfind(" ", 0, at) + 1, 0)
            right = text.find(" ", at)
            right = len(text) if right < 0 else right
            return Damaged(text, ((left, right, "minor"),), "punctuation")
        if choice == 1:  # space before a comma or full stop
            marks = [m.start() for m in re.finditer(r"(?<=\w)[,.;:]", ref)]
            if not marks:
                return None
            at = self.rng.choice(marks)
            return Damaged(ref[:at] + " " + ref[at:], ((at, at + 2, "minor"),), "punctuation")
        if choice == 2:  # duplicated or wrong punctuation
            marks = [m.start() for m in re.finditer(r"[,.;:!?]", ref)]
            if not marks:
                return None
            at = self.rng.choice(marks)
            new = self.rng.choice([ref[at] * 2, ";", ",", " ."])
            return Damaged(ref[:at] + new + ref[at + 1 :], ((at, at + len(new), "minor"),), "punctuation")
        words = self._words(ref)  # a space inside a word or handle
        long = [w for w in words if len(w.group()) >= 6]
        if not long:
            return None
        m = self.rng.choice(long)
        cut = m.start() + self.rng.randrange(2, len(m.group()) - 2)
        text = ref[:cut] + " " + ref[cut:]
        return Damaged(text, ((m.start(), m.end() + 1, "minor"),), "punctuation")
