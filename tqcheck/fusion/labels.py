"""Labelled data: human judgements of MT segments, in the schema of ``../shared/eval/README.md``.

``read_labelled`` turns a JSONL file (gzipped or not) into ``LabelledSegment`` records (MQM spans, a
has-major label, and the graded labels a row has: the MQM penalty, a DA z-score, HTER) and
``LabelledPair`` records (DEMETR: a clean MT and the same MT with one deliberate error), each with the
``Segment`` tqcheck is run on and the group it is cross-validated in (its source sentence: the same
source appears once per MT system).
"""

from __future__ import annotations

import gzip
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


#: MQM severities: spans with these say how bad an error is. Post-edit word tags (severity "bad") say
#: only where the post-editor changed the MT.
MQM_SEVERITIES = frozenset({"neutral", "minor", "major", "critical"})

#: Graded labels, each as a number that rises with the error (the risk should correlate positively),
#: in the order the first one present is a row's main ``badness``. ``-da`` is minus the raters' raw
#: 0-100 DA score (``da``, or ``da_mean`` as in ../shared/train's MLQE-PE rows).
GRADES = ("mqm_penalty", "-da_z", "-da", "hter")


@dataclass(frozen=True)
class LabelledSegment:
    """One MT segment with its human labels.

    ``spans`` is None when the data has no span labels. ``has_major`` is None when the labels carry no
    MQM severity (DA and post-edit data). ``grades`` holds every graded label of the row, keyed as in
    ``GRADES`` (minus the DA z-score, HTER...); ``badness``/``badness_kind`` is the first of them.
    """

    segment: Segment
    group: str
    spans: tuple[GoldSpan, ...] | None = None
    has_major: bool | None = None
    badness: float | None = None
    badness_kind: str | None = None
    grades: Mapping[str, float] = field(default_factory=dict)

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
    if has_major is None and spans is not None and _has_mqm_severities(data, spans):
        has_major = any(s.is_major for s in spans)
    grades = _grades(data, where)
    kind = next((k for k in GRADES if k in grades), None)
    return LabelledSegment(Segment(id=rid, mt=mt, **common), group, spans,
                           None if has_major is None else bool(has_major),
                           grades[kind] if kind else None, kind, grades)


def _has_mqm_severities(data: Mapping[str, Any], spans: tuple[GoldSpan, ...]) -> bool:
    """Whether the spans grade errors by MQM severity. Post-edit word tags ("bad") do not, and a row of
    DA or post-edit data with no span at all is not "judged error-free" by an MQM annotator."""
    if any(s.severity not in MQM_SEVERITIES for s in spans):
        return False
    if spans or "mqm_penalty" in data:
        return True
    return not any(key in data for key in ("da_z_mean", "da", "hter", "word_tags"))


def _grades(data: Mapping[str, Any], where: str) -> dict[str, float]:
    grades: dict[str, float] = {}
    for key, kind, sign in (("mqm_penalty", "mqm_penalty", 1.0), ("da_z_mean", "-da_z", -1.0),
                            ("da", "-da", -1.0), ("da_mean", "-da", -1.0), ("hter", "hter", 1.0)):
        value = data.get(key)
        if value is None or kind in grades:
            continue
        try:
            grades[kind] = sign * float(value)
        except (TypeError, ValueError):
            raise RecordError(f"{key} is not a number: {value!r}", where=where) from None
    return grades


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


def _lines(handle: Any, path: Path) -> Any:
    try:
        yield from handle
    except (OSError, EOFError, UnicodeDecodeError) as exc:  # a damaged gzip stream, a binary file
        raise InputError(f"unreadable: {exc}", where=str(path)) from exc


def read_labelled(path: str | Path, *, limit: int | None = None, split: str | None = None,
                  machine_only: bool = False) -> LabelledData:
    """Read a labelled JSONL file (``.gz`` too); ``limit`` keeps the first N records (for quick runs),
    ``split`` only the rows of that ``split`` (the training data's ``train``/``dev``/``test``),
    ``machine_only`` leaves out the annotated human translations (``human_translation: true`` in
    ../shared/train: the MQM sets rate human references beside the MT systems). A repeated id gets a
    ``#n`` suffix (two annotators of one MT are two labelled rows)."""
    path = Path(path)
    data = LabelledData()
    try:
        handle = (gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz"
                  else path.open(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("labelled data file not found", where=str(path)) from None
    seen: dict[str, int] = {}
    splits: set[str] = set()
    with handle:
        n = 0
        for lineno, line in enumerate(_lines(handle, path), 1):
            if not line.strip():
                continue
            if limit is not None and n >= limit:
                break
            where = f"{path}:{lineno}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"invalid JSON: {exc.msg}", where=where) from exc
            if split is not None and isinstance(record, dict):
                splits.add(str(record.get("split")))
                if record.get("split") != split:
                    continue
            if machine_only and isinstance(record, dict) and record.get("human_translation"):
                continue
            item = parse_record(record, where)
            item = _unique_id(item, seen)
            if isinstance(item, LabelledPair):
                data.pairs.append(item)
            else:
                data.segments.append(item)
            n += 1
    if n == 0 and split is not None:
        raise InputError(f"no records of split {split!r}", where=str(path),
                         fix=f"the file's splits: {', '.join(sorted(splits)) or 'none'}")
    if n == 0:
        raise InputError("no records", where=str(path), fix="expected one JSON object per line")
    return data
