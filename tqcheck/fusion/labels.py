"""Labelled data: human judgements of MT segments, in the schema of ``../shared/eval/README.md``.

``read_labelled`` turns a JSONL file into ``LabelledSegment`` records (MQM spans, a has-major label, an
MQM penalty or a DA score) and ``LabelledPair`` records (DEMETR: a clean MT and the same MT with one
deliberate error), each with the ``Segment`` tqcheck is run on and the group it is cross-validated in
(its source sentence: the same source appears once per MT system).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqcheck.errors import InputError, RecordError
from tqcheck.model import Segment


@dataclass(frozen=True)
class GoldSpan:
    """A human-marked error on the MT: ``[start, end)`` characters, MQM severity and category."""

    start: int
    end: int
    severity: str
    category: str

    @property
    def is_error(self) -> bool:
        return self.severity != "neutral"

    @property
    def is_major(self) -> bool:
        return self.severity in ("major", "critical")

    @property
    def is_accuracy(self) -> bool:
        """An error of meaning (MQM's Accuracy branch: mistranslation, omission, addition...)."""
        return self.category.split("/", 1)[0].lower() == "accuracy"


@dataclass(frozen=True)
class LabelledSegment:
    """One MT segment with its human labels.

    ``spans`` is None when the data has no span labels. ``badness`` is the number that should rise
    with the risk: the MQM penalty, or minus a DA score (``badness_kind`` says which).
    """

    segment: Segment
    group: str
    spans: tuple[GoldSpan, ...] | None = None
    has_major: bool | None = None
    badness: float | None = None
    badness_kind: str | None = None

    @property
    def has_error(self) -> bool | None:
        if self.spans is None:
            return None
        return any(s.is_error for s in self.spans)


@dataclass(frozen=True)
class LabelledPair:
    """A DEMETR item: a checked MT and the same MT with one deliberate error of a known kind."""

    clean: Segment
    perturbed: Segment
    group: str
    severity: str
    kind: str
    diff_span: tuple[int, int] | None = None  # on the perturbed MT; None when text was only deleted


@dataclass
class LabelledData:
    segments: list[LabelledSegment] = field(default_factory=list)
    pairs: list[LabelledPair] = field(default_factory=list)

    def all_segments(self) -> list[Segment]:
        """Every distinct segment to run tqcheck on, in first-seen order (a DEMETR clean MT is
        shared by all perturbations of its item and is run once)."""
        seen: dict[str, Segment] = {}
        for item in self.segments:
            seen.setdefault(item.segment.id, item.segment)
        for pair in self.pairs:
            seen.setdefault(pair.clean.id, pair.clean)
            seen.setdefault(pair.perturbed.id, pair.perturbed)
        return list(seen.values())


def _langs(lp: str | None, where: str) -> tuple[str | None, str | None]:
    if not lp:
        return None, None
    src, sep, tgt = lp.partition("-")
    if not sep or not src or not tgt:
        raise RecordError(f"bad language pair {lp!r}", where=where, fix="use e.g. 'fr-en'")
    return src, tgt


def parse_record(data: Mapping[str, Any], where: str) -> LabelledSegment | LabelledPair:
    """Turn one JSON record into a labelled segment or pair; a DEMETR row has ``mt_perturbed``."""
    try:
        rid = str(data["id"])
        mt = data["mt"]
    except KeyError as exc:
        raise RecordError(f"missing key {exc.args[0]!r}", where=where,
                          fix="see ../shared/eval/README.md for the schema") from None
    src_lang, tgt_lang = _langs(data.get("lp"), where)
    source = data.get("source")
    common: dict[str, Any] = dict(source=source, source_lang=src_lang, target_lang=tgt_lang,
                                  reference=data.get("reference"), doc_id=data.get("doc_id"), origin=where)
    group = f"{data.get('lp')}|{source if source is not None else mt}"
    if "mt_perturbed" in data:
        clean_id = f"clean:{data.get('lp')}:{data.get('item_id', rid)}"
        diff = data.get("perturbed_diff_span") or {}
        span = None
        if diff.get("start") is not None and diff.get("end") is not None and diff["end"] > diff["start"]:
            span = (int(diff["start"]), int(diff["end"]))
        return LabelledPair(
            clean=Segment(id=clean_id, mt=mt, **common),
            perturbed=Segment(id=rid, mt=data["mt_perturbed"], **common),
            group=group,
            severity=str(data.get("severity") or "unknown"),
            kind=str(data.get("pert_name") or "unknown"),
            diff_span=span,
        )
    spans = None
    if "spans" in data and data["spans"] is not None:
        try:
            spans = tuple(GoldSpan(int(s["start"]), int(s["end"]), str(s["severity"]),
                                   str(s.get("category") or "Other")) for s in data["spans"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordError(f"bad span: {exc}", where=where) from exc
    has_major = data.get("has_major")
    if has_major is None and spans is not None:
        has_major = any(s.is_major for s in spans)
    badness, kind = None, None
    if data.get("mqm_penalty") is not None:
        badness, kind = float(data["mqm_penalty"]), "mqm_penalty"
    elif data.get("da") is not None:
        badness, kind = -float(data["da"]), "-da"
    return LabelledSegment(Segment(id=rid, mt=mt, **common), group, spans,
                           None if has_major is None else bool(has_major), badness, kind)


def _unique_id(item: LabelledSegment | LabelledPair, seen: dict[str, int]) -> LabelledSegment | LabelledPair:
    """Give a repeated record id a suffix (``id#2``): the same MT judged by two annotators is two
    labels, and joining results to labels by id must not merge them."""
    import dataclasses

    seg = item.perturbed if isinstance(item, LabelledPair) else item.segment
    count = seen.get(seg.id, 0) + 1
    seen[seg.id] = count
    if count == 1:
        return item
    renamed = dataclasses.replace(seg, id=f"{seg.id}#{count}")
    if isinstance(item, LabelledPair):
        return dataclasses.replace(item, perturbed=renamed)
    return dataclasses.replace(item, segment=renamed)


def read_labelled(path: str | Path, *, limit: int | None = None) -> LabelledData:
    """Read a labelled JSONL file; ``limit`` keeps the first N records (for quick runs). A repeated
    id gets a ``#n`` suffix (two annotators of one MT are two labelled rows)."""
    path = Path(path)
    data = LabelledData()
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("labelled data file not found", where=str(path)) from None
    seen: dict[str, int] = {}
    with handle:
        n = 0
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            if limit is not None and n >= limit:
                break
            where = f"{path}:{lineno}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"invalid JSON: {exc.msg}", where=where) from exc
            item = parse_record(record, where)
            item = _unique_id(item, seen)
            if isinstance(item, LabelledPair):
                data.pairs.append(item)
            else:
                data.segments.append(item)
            n += 1
    if n == 0:
        raise InputError("no records", where=str(path), fix="expected one JSON object per line")
    return data
