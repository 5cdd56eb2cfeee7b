"""Sentence-final punctuation of the MT differs from the source's (Xbench's "ending punctuation").

The last mark of each text is compared after trailing closing quotes and brackets are set aside:
full stop (``.`` ``。`` ``．``), ``!``, ``?``, ``:``, ``;``, ellipsis (``...`` = ``…``) or none. A
question turned into a statement, a heading that gained a full stop, a sentence that lost its full
stop: all are flagged (Fluency/Punctuation, minor). The span is the MT's final mark, or its last
character when the MT has no final mark. Source texts of fewer than ``min_words`` words (headings,
labels) are skipped: their final punctuation is a house-style matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tqcheck.checks.base import Check
from tqcheck.model import Category, Flag, Segment, Severity

_TRAILING_CLOSERS = "\"'”’»)]}›」』）\u00a0\u202f \t\n"
_CLASSES = {".": "full stop", "。": "full stop", "．": "full stop", "!": "exclamation mark",
            "！": "exclamation mark", "?": "question mark", "？": "question mark", ":": "colon",
            "：": "colon", ";": "semicolon", "；": "semicolon", "…": "ellipsis"}
_ELLIPSIS = re.compile(r"(?:\.\s?){3}$")


def _ending(text: str) -> tuple[str, int]:
    """(class of the final mark or "none", offset of that mark or of the last character)."""
    stripped = text.rstrip(_TRAILING_CLOSERS)
    if not stripped:
        return "none", max(len(text.rstrip()) - 1, 0)
    last = len(stripped) - 1
    if _ELLIPSIS.search(stripped):
        return "ellipsis", last
    char = stripped[-1]
    if char in ("!", "?", "！", "？") and len(stripped) > 1 and stripped[-2] in "!?！？":
        # "?!" / "!?": the question counts
        return ("question mark" if "?" in stripped[-2:] or "？" in stripped[-2:] else
                "exclamation mark"), last
    return _CLASSES.get(char, "none"), last


class EndPunctuationCheck(Check):
    name = "end_punctuation"
    severity = Severity.MINOR
    category = Category.PUNCTUATION
    needs_source = True
    description = "final punctuation of the MT differs from the source's"

    def __init__(self, *, min_words: int = 3) -> None:
        super().__init__(min_words=min_words)
        self.min_words = min_words

    def run(self, segment: Segment) -> Iterator[Flag]:
        source, mt = segment.source or "", segment.mt
        if not source.strip() or not mt.strip() or len(source.split()) < self.min_words:
            return
        src_end, _ = _ending(source)
        mt_end, where = _ending(mt)
        if src_end == mt_end:
            return
        if mt_end == "none":
            message = f"the source ends with a {src_end}, the MT has none"
        elif src_end == "none":
            message = f"the MT ends with a {mt_end}, the source has no final mark"
        else:
            message = f"the source ends with a {src_end}, the MT with a {mt_end}"
        yield self.flag(message, (where, where + 1),
                        evidence={"source_end": src_end, "mt_end": mt_end})
