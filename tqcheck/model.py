"""The data model of tqcheck: what goes in, what comes out, and how it was made.

Every value here is a frozen dataclass so that a result can be shared between the pipeline, the
writers, the store and the UI without anybody changing it behind another's back. This module imports
nothing of tqcheck's own; everything else imports it.

Serialisation (``to_dict`` / ``from_dict``) lives next to each class because JSONL reports must be
lossless and re-readable: a report written today is imported into the review store tomorrow.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


def _frozen_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


class Severity(str, enum.Enum):
    """MQM severities, ordered: ``Severity.MINOR < Severity.MAJOR < Severity.CRITICAL``."""

    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @property
    def weight(self) -> int:
        """MQM penalty weight (1 / 5 / 10), as in the human labels of ../shared/eval."""
        return _SEVERITY_WEIGHT[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank


_SEVERITY_RANK = {Severity.MINOR: 1, Severity.MAJOR: 2, Severity.CRITICAL: 3}
_SEVERITY_WEIGHT = {Severity.MINOR: 1, Severity.MAJOR: 5, Severity.CRITICAL: 10}


class Category(str, enum.Enum):
    """MQM error categories (the subset tqcheck can detect), spelled as in MQM annotations."""

    MISTRANSLATION = "Accuracy/Mistranslation"
    OMISSION = "Accuracy/Omission"
    ADDITION = "Accuracy/Addition"
    UNTRANSLATED = "Accuracy/Untranslated"
    PUNCTUATION = "Fluency/Punctuation"
    SPELLING = "Fluency/Spelling"
    GRAMMAR = "Fluency/Grammar"
    INCONSISTENCY = "Fluency/Inconsistency"
    NON_FLUENT = "Style/Non_fluent"
    TERMINOLOGY = "Terminology"
    LOCALE_CONVENTION = "Locale convention"
    MARKUP = "Markup"
    OTHER = "Other"


class Side(str, enum.Enum):
    """Which text a span points into: the MT (most flags) or the source (omissions)."""

    MT = "mt"
    SOURCE = "source"


@dataclass(frozen=True)
class Span:
    """Character offsets ``[start, end)`` into the MT or the source, as Python string indices."""

    start: int
    end: int
    side: Side = Side.MT

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"bad span [{self.start}, {self.end})")

    def __len__(self) -> int:
        return self.end - self.start

    def text_in(self, segment: Segment) -> str:
        text = segment.mt if self.side is Side.MT else (segment.source or "")
        return text[self.start : self.end]

    def overlaps(self, other: Span) -> bool:
        return self.side == other.side and self.start < other.end and other.start < self.end

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "side": self.side.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Span:
        return cls(int(data["start"]), int(data["end"]), Side(data.get("side", "mt")))


@dataclass(frozen=True)
class Segment:
    """One unit to check: an MT sentence, optionally with its source and a human reference.

    ``origin`` says where the segment came from (``feed.csv:12``) so that every message about it can
    point a user back to the line to fix.
    """

    id: str
    mt: str
    source: str | None = None
    source_lang: str | None = None
    target_lang: str | None = None
    reference: str | None = None
    doc_id: str | None = None
    origin: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "metadata", _frozen_mapping(self.metadata))

    @property
    def has_source(self) -> bool:
        return self.source is not None

    @property
    def language_pair(self) -> str:
        return f"{self.source_lang or 'xx'}-{self.target_lang or 'xx'}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "mt": self.mt,
            "source_lang": self.source_lang,
            "target_lang": self.target_lang,
            "reference": self.reference,
            "doc_id": self.doc_id,
            "origin": self.origin,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Segment:
        return cls(
            id=str(data["id"]),
            mt=data["mt"],
            source=data.get("source"),
            source_lang=data.get("source_lang"),
            target_lang=data.get("target_lang"),
            reference=data.get("reference"),
            doc_id=data.get("doc_id"),
            origin=data.get("origin"),
            metadata=data.get("metadata") or {},
        )


@dataclass(frozen=True)
class Flag:
    """A finding: which check or signal raised it, where, how bad, and why.

    ``evidence`` holds what a reviewer needs to judge the flag without re-running anything: the
    back-translation, the source words that did not come back, token probabilities, the glossary entry.
    ``span`` is None for a segment-level finding (e.g. a length-ratio outlier).

    A flag is a claim to a busy person, so it says how often such a claim is right: ``p_error`` is
    the measured probability that a human marks an error overlapping it, ``p_major`` that the error
    is major or critical (fit on human labels: ``tqcheck.fusion``); both are None where nothing was
    measured. ``hint`` marks a finding below the display floor: kept in the JSONL report and the
    review store, left out of the default views, the counts and ``--fail-on``. ``confidence`` is
    the raw strength of the engine that raised it (its own scale), kept as evidence.
    """

    check: str
    severity: Severity
    category: Category
    message: str
    span: Span | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    confidence: float | None = None
    p_error: float | None = None
    p_major: float | None = None
    hint: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "evidence", _frozen_mapping(self.evidence))


    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity.value,
            "category": self.category.value,
            "message": self.message,
            "span": self.span.to_dict() if self.span else None,
            "evidence": dict(self.evidence),
            "confidence": self.confidence,
            "p_error": self.p_error,
            "p_major": self.p_major,
            "hint": self.hint,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Flag:
        span = data.get("span")
        return cls(
            check=data["check"],
            severity=Severity(data["severity"]),
            category=Category(data["category"]),
            message=data["message"],
            span=Span.from_dict(span) if span else None,
            evidence=data.get("evidence") or {},
            confidence=data.get("confidence"),
            p_error=data.get("p_error"),
            p_major=data.get("p_major"),
            hint=bool(data.get("hint", False)),
        )


@dataclass(frozen=True)
class SegmentResult:
    """What tqcheck concluded about one segment.

    ``scores`` are named sentence-level numbers (``roundtrip.chrf``, ``fluency.surprisal_z``,
    ``reference.chrf``...); ``artifacts`` are the texts engines produced for the reviewer
    (``back_translation``, ``pseudo_reference``); ``risk`` is the calibrated probability in [0, 1]
    that the segment has a major or critical error, or None in rules-only runs without calibration.
    """

    segment: Segment
    flags: tuple[Flag, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict, hash=False, compare=False)
    artifacts: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    risk: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "flags", tuple(self.flags))
        object.__setattr__(self, "scores", _frozen_mapping(self.scores))
        object.__setattr__(self, "artifacts", _frozen_mapping(self.artifacts))

    @property
    def shown_flags(self) -> tuple[Flag, ...]:
        """The flags a reviewer sees by default: all but the hints."""
        return tuple(f for f in self.flags if not f.hint)

    @property
    def hints(self) -> tuple[Flag, ...]:
        return tuple(f for f in self.flags if f.hint)

    @property
    def worst_severity(self) -> Severity | None:
        """The worst severity among the shown flags (hints never gate a delivery)."""
        return max((f.severity for f in self.shown_flags), default=None, key=lambda s: s.rank)

    @property
    def mqm_penalty(self) -> int:
        return sum(f.severity.weight for f in self.shown_flags)

    @property
    def priority(self) -> float:
        """Where the segment goes in a queue: the chance that it holds a major error, by its strongest
        evidence: the largest of its calibrated risk and the measured ``p_major`` of its shown flags,
        so that a measured, near-certain number error outranks a sentence that merely reads oddly.
        Shown flags nobody measured (a run without calibration) count together by MQM's weights,
        ``1 - exp(-penalty / 10)``: one critical = two majors = ten minors.
        """
        best = self.risk or 0.0
        unmeasured = 0
        for flag in self.shown_flags:
            if flag.p_major is None:
                unmeasured += flag.severity.weight
            else:
                best = max(best, flag.p_major)
        return max(best, 1.0 - math.exp(-unmeasured / 10.0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment.to_dict(),
            "flags": [f.to_dict() for f in self.flags],
            "scores": dict(self.scores),
            "artifacts": dict(self.artifacts),
            "risk": self.risk,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentResult:
        return cls(
            segment=Segment.from_dict(data["segment"]),
            flags=tuple(Flag.from_dict(f) for f in data.get("flags") or ()),
            scores=data.get("scores") or {},
            artifacts=data.get("artifacts") or {},
            risk=data.get("risk"),
        )


@dataclass(frozen=True)
class EngineInfo:
    """Which engine produced a signal, exactly: enough to reproduce or to invalidate a cache."""

    role: str
    name: str
    model_id: str | None = None
    revision: str | None = None
    version: str | None = None

    @property
    def key(self) -> str:
        return "|".join(str(x) for x in (self.name, self.model_id, self.revision, self.version))

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "name": self.name,
            "model_id": self.model_id,
            "revision": self.revision,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EngineInfo:
        fields: dict[str, Any] = {k: data.get(k) for k in ("role", "name", "model_id", "revision", "version")}
        return cls(**fields)


@dataclass(frozen=True)
class RunSignature:
    """How a run was made, so that every number in a report can be reproduced (cf. sacrebleu)."""

    tqcheck_version: str
    config_hash: str
    engines: tuple[EngineInfo, ...] = ()
    versions: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    language_pairs: tuple[str, ...] = ()
    metric_signatures: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    calibration: str | None = None
    created_at: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "engines", tuple(self.engines))
        object.__setattr__(self, "language_pairs", tuple(self.language_pairs))
        object.__setattr__(self, "versions", _frozen_mapping(self.versions))
        object.__setattr__(self, "metric_signatures", _frozen_mapping(self.metric_signatures))

    def to_dict(self) -> dict[str, Any]:
        return {
            "tqcheck_version": self.tqcheck_version,
            "config_hash": self.config_hash,
            "engines": [e.to_dict() for e in self.engines],
            "versions": dict(self.versions),
            "language_pairs": list(self.language_pairs),
            "metric_signatures": dict(self.metric_signatures),
            "calibration": self.calibration,
            "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSignature:
        return cls(
            tqcheck_version=data["tqcheck_version"],
            config_hash=data["config_hash"],
            engines=tuple(EngineInfo.from_dict(e) for e in data.get("engines") or ()),
            versions=data.get("versions") or {},
            language_pairs=tuple(data.get("language_pairs") or ()),
            metric_signatures=data.get("metric_signatures") or {},
            calibration=data.get("calibration"),
            created_at=data.get("created_at"),
        )


@dataclass(frozen=True)
class Summary:
    """Counts at the end of a run: what a desk reads first."""

    segments: int = 0
    flagged: int = 0
    by_severity: Mapping[str, int] = field(default_factory=dict, hash=False, compare=False)
    by_category: Mapping[str, int] = field(default_factory=dict, hash=False, compare=False)
    by_check: Mapping[str, int] = field(default_factory=dict, hash=False, compare=False)
    skipped_records: int = 0
    corpus_metrics: Mapping[str, float] = field(default_factory=dict, hash=False, compare=False)
    hints: int = 0
    #: Per language pair: which signals ran, which did not and how to add them, which calibration
    #: measured the flags (``tqcheck.coverage``).
    coverage: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("by_severity", "by_category", "by_check", "corpus_metrics", "coverage"):
            object.__setattr__(self, name, _frozen_mapping(getattr(self, name)))

    @classmethod
    def of(
        cls,
        results: Iterable[SegmentResult],
        *,
        skipped_records: int = 0,
        corpus_metrics: Mapping[str, float] | None = None,
    ) -> Summary:
        tally = SummaryTally()
        for result in results:
            tally.add(result)
        return tally.summary(skipped_records=skipped_records, corpus_metrics=corpus_metrics)

    def to_dict(self) -> dict[str, Any]:
        return {
            "segments": self.segments,
            "flagged": self.flagged,
            "by_severity": dict(self.by_severity),
            "by_category": dict(self.by_category),
            "by_check": dict(self.by_check),
            "skipped_records": self.skipped_records,
            "corpus_metrics": dict(self.corpus_metrics),
            "hints": self.hints,
            "coverage": {pair: dict(entry) for pair, entry in self.coverage.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Summary:
        counts = ("segments", "flagged", "skipped_records", "hints")
        fields: dict[str, Any] = {k: data.get(k) or (0 if k in counts else {})
                                  for k in ("segments", "flagged", "by_severity", "by_category", "by_check",
                                            "skipped_records", "corpus_metrics", "hints", "coverage")}
        return cls(**fields)


class SummaryTally:
    """Counts results one at a time, so that a summary of a million-segment feed costs no memory.

    The counts are of the shown flags (what a reviewer sees and ``--fail-on`` gates on); hints are
    only counted. ``worst`` is the worst shown severity so far.
    """

    def __init__(self) -> None:
        self.segments = 0
        self.flagged = 0
        self.hints = 0
        self.by_severity: dict[str, int] = {}
        self.by_category: dict[str, int] = {}
        self.by_check: dict[str, int] = {}
        self.worst: Severity | None = None

    def add(self, result: SegmentResult) -> None:
        self.segments += 1
        shown = result.shown_flags
        self.flagged += bool(shown)
        self.hints += len(result.flags) - len(shown)
        for flag in shown:
            self.by_severity[flag.severity.value] = self.by_severity.get(flag.severity.value, 0) + 1
            self.by_category[flag.category.value] = self.by_category.get(flag.category.value, 0) + 1
            self.by_check[flag.check] = self.by_check.get(flag.check, 0) + 1
            if self.worst is None or flag.severity > self.worst:
                self.worst = flag.severity

    def summary(
        self, *, skipped_records: int = 0, corpus_metrics: Mapping[str, float] | None = None,
        coverage: Mapping[str, Any] | None = None,
    ) -> Summary:
        return Summary(self.segments, self.flagged, self.by_severity, self.by_category,
                       self.by_check, skipped_records, corpus_metrics or {}, self.hints, coverage or {})
