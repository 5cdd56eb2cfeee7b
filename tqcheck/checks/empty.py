"""Empty MT (nothing translated) and empty source (nothing to translate, yet an MT).

* MT empty, whitespace-only or without a letter or digit while the source has words:
  Accuracy/Omission, major (the whole sentence is missing; severity can be raised to critical with
  ``severity="critical"``). In target-only mode an empty MT says nothing is missing (a blank line
  between paragraphs is one), so it is only flagged with ``target_only=True`` (for feeds where
  every record must carry an MT).
* Source empty or whitespace-only while the MT has words: Accuracy/Addition, major (the MT says
  something the source does not), on the whole MT.

Both empty is a blank line, not an error. Flags are segment-level (no span) for an empty MT, since
there is no text to point into.
"""

from __future__ import annotations

from collections.abc import Iterator

from tqcheck.checks.base import Check
from tqcheck.model import Category, Flag, Segment, Severity


def _has_content(text: str | None) -> bool:
    return bool(text) and any(c.isalnum() for c in text)  # type: ignore[union-attr]


class EmptyCheck(Check):
    name = "empty"
    severity = Severity.MAJOR
    category = Category.OMISSION
    description = "empty MT, or empty source with an MT"

    def __init__(self, *, severity: str = "major", target_only: bool = False) -> None:
        super().__init__(severity=severity, target_only=target_only)
        self.target_only = target_only
        try:
            self.empty_severity = Severity(severity)
        except ValueError:
            raise TypeError(f"severity must be one of {[s.value for s in Severity]}, not {severity!r}") from None

    def run(self, segment: Segment) -> Iterator[Flag]:
        mt, source = segment.mt, segment.source
        if source is None:
            if self.target_only and not mt.strip():
                yield self.flag("the MT is empty", severity=self.empty_severity,
                                evidence={"mt": mt})
            return
        if _has_content(source) and not _has_content(mt):
            what = "empty" if not mt.strip() else "has no words"
            yield self.flag(f"the MT is {what} but the source is not", severity=self.empty_severity,
                            evidence={"mt": mt})
        elif not source.strip() and _has_content(mt):
            yield self.flag("the source is empty but the MT is not", (0, len(mt)),
                            category=Category.ADDITION, evidence={"source": source})
