"""The rule-check protocol: one small class per check, with a name, a default severity and category.

A check looks at one segment and yields flags. Checks are cheap to construct; anything heavy (a
language detector, a dictionary) is loaded on first use, and a check whose resource is missing says so
once (``unavailable_reason``) and stands aside rather than failing the run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from tqcheck.model import Category, Flag, Segment, Severity, Side, Span


class Check:
    """Base class of rule checks. Subclasses set the class variables and implement ``run``."""

    name: ClassVar[str]
    severity: ClassVar[Severity] = Severity.MINOR
    category: ClassVar[Category] = Category.OTHER
    #: Whether the check needs a source; it is skipped silently in target-only mode.
    needs_source: ClassVar[bool] = False
    description: ClassVar[str] = ""

    def __init__(self, **options: Any) -> None:
        self.options = options

    #: Set by a check whose resource is missing (e.g. no hunspell dictionary for the language).
    def unavailable_reason(self, segment: Segment) -> str | None:
        return None

    def run(self, segment: Segment) -> Iterator[Flag]:
        raise NotImplementedError

    def flag(
        self,
        message: str,
        span: Span | tuple[int, int] | None = None,
        *,
        side: Side = Side.MT,
        severity: Severity | None = None,
        category: Category | None = None,
        evidence: Mapping[str, Any] | None = None,
        kind: str | None = None,
    ) -> Flag:
        """Make a flag of this check, with its default severity and category unless overridden.

        ``kind`` names the claim where a check makes several (a broken handle, a changed hashtag): it is
        kept in the evidence, and the flag model measures each kind apart (``finding_features``)."""
        if isinstance(span, tuple):
            span = Span(span[0], span[1], side)
        return Flag(
            check=self.name,
            severity=severity or self.severity,
            category=category or self.category,
            message=message,
            span=span,
            evidence={**(evidence or {}), "kind": kind} if kind else (evidence or {}),
        )
