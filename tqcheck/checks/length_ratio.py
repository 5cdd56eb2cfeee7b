"""MT/source length ratio outliers: a sign of omission, addition or a misaligned segment.

The ratio is counted in characters (whitespace-trimmed) and judged against what the language pair
normally gives: French runs about 17 % longer than English (median MT/source ratio 1.17 for en->fr
and 0.85 for fr->en on the WMT21 biomedical dev data in ../shared/eval), Chinese about a third of
English. The expected ratio of a pair is ``EXPANSION[target] / EXPANSION[source]`` (1.0 for a
language not in the table); the segment is flagged when its ratio falls outside
``expected * [min_ratio, max_ratio]`` (default [0.5, 2.0]) and **major** outside
``expected * [major_min_ratio, major_max_ratio]`` (default [0.33, 3.0]).

Short sources (under ``min_chars``, default 20) are not judged: "Oui." -> "Yes, indeed." is fine.
A too-short MT is Accuracy/Omission, a too-long one Accuracy/Addition; the flag is segment-level
(no span) and its evidence holds the lengths, the ratio and the bounds used.

``expected`` (a number) overrides the pair's table value, e.g. for a domain with long compounds.
"""

from __future__ import annotations

from collections.abc import Iterator

from tqcheck.checks._text import base_lang
from tqcheck.checks.base import Check
from tqcheck.model import Category, Flag, Segment, Severity

#: Characters per unit of meaning relative to English (medians of news and biomedical parallel text).
EXPANSION: dict[str, float] = {
    "en": 1.0, "fr": 1.17, "es": 1.15, "it": 1.12, "pt": 1.12, "de": 1.18, "nl": 1.12, "ca": 1.15,
    "ro": 1.12, "ru": 1.10, "uk": 1.08, "pl": 1.12, "cs": 1.02, "sv": 1.03, "da": 1.04, "nb": 1.02,
    "fi": 1.10, "el": 1.15, "tr": 1.05, "hu": 1.12, "ar": 0.92, "he": 0.80, "hi": 1.05,
    "zh": 0.33, "ja": 0.45, "ko": 0.50, "th": 0.95, "vi": 1.10, "id": 1.12,
}


class LengthRatioCheck(Check):
    name = "length_ratio"
    severity = Severity.MINOR
    category = Category.OMISSION
    needs_source = True
    description = "MT much shorter or longer than the source (omission, addition, misalignment)"

    def __init__(
        self,
        *,
        min_ratio: float = 0.5,
        max_ratio: float = 2.0,
        major_min_ratio: float = 0.33,
        major_max_ratio: float = 3.0,
        min_chars: int = 20,
        expected: float | None = None,
    ) -> None:
        super().__init__(min_ratio=min_ratio, max_ratio=max_ratio, major_min_ratio=major_min_ratio,
                         major_max_ratio=major_max_ratio, min_chars=min_chars, expected=expected)
        if not (0 < major_min_ratio <= min_ratio < 1 < max_ratio <= major_max_ratio):
            raise TypeError("ratios must satisfy 0 < major_min_ratio <= min_ratio < 1 < max_ratio "
                            "<= major_max_ratio")
        self.min_ratio, self.max_ratio = min_ratio, max_ratio
        self.major_min_ratio, self.major_max_ratio = major_min_ratio, major_max_ratio
        self.min_chars = min_chars
        self.expected = expected

    def expected_ratio(self, source_lang: str | None, target_lang: str | None) -> float:
        if self.expected is not None:
            return self.expected
        src = EXPANSION.get(base_lang(source_lang) or "", 1.0)
        tgt = EXPANSION.get(base_lang(target_lang) or "", 1.0)
        return tgt / src

    def run(self, segment: Segment) -> Iterator[Flag]:
        source = (segment.source or "").strip()
        mt = segment.mt.strip()
        if len(source) < self.min_chars or not mt:
            return  # an empty MT is the empty check's
        expected = self.expected_ratio(segment.source_lang, segment.target_lang)
        ratio = len(mt) / len(source)
        relative = ratio / expected
        if self.min_ratio <= relative <= self.max_ratio:
            return
        short = relative < self.min_ratio
        major = relative < self.major_min_ratio if short else relative > self.major_max_ratio
        bounds = [round(expected * self.min_ratio, 3), round(expected * self.max_ratio, 3)]
        message = (f"the MT is {'short' if short else 'long'}: {len(mt)} characters for "
                   f"{len(source)} in the source (ratio {ratio:.2f}, expected {bounds[0]}-{bounds[1]}"
                   f" for {segment.language_pair})")
        yield self.flag(
            message,
            severity=Severity.MAJOR if major else Severity.MINOR,
            category=Category.OMISSION if short else Category.ADDITION,
            evidence={"source_chars": len(source), "mt_chars": len(mt), "ratio": round(ratio, 3),
                      "expected": round(expected, 3), "bounds": bounds},
        )
