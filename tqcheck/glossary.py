"""Glossaries: required translations and do-not-translate terms, read from CSV or TBX.

CSV (UTF-8, header row; ``;`` or tab separators are detected)::

    source,target,note,case_sensitive,dnt
    demandeur d'asile,asylum seeker|asylum-seeker,UNHCR usage,,
    Chiapas,,,true,
    AFP,,news agency,,true

* ``source`` (or ``src``, ``term``): the source term. Required.
* ``target`` (or ``tgt``, ``translation``): the required target term; alternatives separated by
  ``|``. Empty target means do-not-translate (the source term must appear as is in the MT).
* ``dnt`` (true/false, yes/no, 1/0): do-not-translate even if a target is given (the target is
  then the only other accepted form).
* ``case_sensitive`` (true/false): match case exactly; default false.
* ``note``: shown to the reviewer.
* ``source_lang`` / ``target_lang``: the entry applies only to that pair (base codes compared).

TBX (TBX-Basic / TBX 2 ``termEntry/langSet/tig/term`` and TBX 2019 / TBX v3
``conceptEntry/langSec/termSec/term``): every concept gives one entry per language pair asked for;
terms whose ``administrativeStatus`` is ``deprecatedTerm-admn-sts`` or
``supersededTerm-admn-sts`` become forbidden target terms, and a ``<note>`` / ``<descrip>``
becomes the entry's note. ``xml:lang`` region subtags are ignored.

Errors name the file and line and say how to fix them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqcheck.errors import InputError
from tqcheck.langcodes import base_lang

__all__ = ["Glossary", "GlossaryEntry", "load_glossary"]

_TRUE = {"true", "yes", "y", "1", "x", "vrai", "oui"}
_FALSE = {"false", "no", "n", "0", "", "faux", "non"}
_SOURCE_COLUMNS = ("source", "src", "term", "source_term")
_TARGET_COLUMNS = ("target", "tgt", "translation", "target_term")
_DEPRECATED = {"deprecatedterm-admn-sts", "supersededterm-admn-sts", "deprecated", "forbidden",
               "notrecommended"}


def _base(code: str | None) -> str | None:
    return base_lang(code)


@dataclass(frozen=True)
class GlossaryEntry:
    """One glossary rule: when a source term occurs, one of the target terms must be in the MT.

    ``dnt`` entries accept the source term itself in the MT (and the targets, if any).
    ``forbidden`` target terms must not be used for this source term.
    """

    source_terms: tuple[str, ...]
    target_terms: tuple[str, ...] = ()
    dnt: bool = False
    case_sensitive: bool = False
    note: str | None = None
    forbidden: tuple[str, ...] = ()
    source_lang: str | None = None
    target_lang: str | None = None
    origin: str = ""

    @property
    def accepted(self) -> tuple[str, ...]:
        """Target-side forms that satisfy the entry."""
        return (*self.target_terms, *self.source_terms) if self.dnt else self.target_terms

    def applies_to(self, source_lang: str | None, target_lang: str | None) -> bool:
        for mine, theirs in ((self.source_lang, source_lang), (self.target_lang, target_lang)):
            if mine and theirs and _base(mine) != _base(theirs):
                return False
        return True

    def to_dict(self) -> dict:
        return {"source": list(self.source_terms), "target": list(self.target_terms),
                "dnt": self.dnt, "case_sensitive": self.case_sensitive, "note": self.note,
                "forbidden": list(self.forbidden), "source_lang": self.source_lang,
                "target_lang": self.target_lang, "origin": self.origin}


@dataclass(frozen=True)
class _Concept:
    """A TBX concept: terms by language, each with whether it is deprecated."""

    terms: dict[str, list[tuple[str, bool]]]
    note: str | None
    origin: str


@dataclass(frozen=True)
class Glossary:
    """Entries from one file. ``entries_for(src, tgt)`` gives the rules for a language pair."""

    path: str
    entries: tuple[GlossaryEntry, ...] = ()
    concepts: tuple[_Concept, ...] = field(default=(), repr=False)

    @property
    def languages(self) -> set[str]:
        return {lang for c in self.concepts for lang in c.terms}

    def __len__(self) -> int:
        return len(self.entries) + len(self.concepts)

    def entries_for(self, source_lang: str | None, target_lang: str | None) -> list[GlossaryEntry]:
        out = [e for e in self.entries if e.applies_to(source_lang, target_lang)]
        src, tgt = _base(source_lang), _base(target_lang)
        if self.concepts and src and tgt:
            for concept in self.concepts:
                sources = [t for t, deprecated in concept.terms.get(src, []) if not deprecated]
                targets = concept.terms.get(tgt, [])
                if not sources or not targets:
                    continue
                good = tuple(t for t, deprecated in targets if not deprecated)
                bad = tuple(t for t, deprecated in targets if deprecated)
                out.append(GlossaryEntry(tuple(sources), good, dnt=False,
                                         note=concept.note, forbidden=bad, source_lang=src,
                                         target_lang=tgt, origin=concept.origin))
        return out


def load_glossary(path: str | Path, *, source_lang: str | None = None,
                  target_lang: str | None = None) -> Glossary:
    """Read a CSV/TSV or TBX glossary. ``source_lang``/``target_lang`` default the CSV entries' pair."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("glossary file not found", where=str(path),
                         fix="check the path given as [glossary] path or --glossary") from None
    except OSError as exc:
        raise InputError(f"cannot read the glossary: {exc}", where=str(path)) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError("the glossary is not UTF-8", where=f"{path}:{line}",
                         fix="save it as UTF-8") from exc
    head = text.lstrip()[:200].lower()
    if path.suffix.lower() in (".tbx", ".xml") or head.startswith("<?xml") or "<tbx" in head \
            or "<martif" in head:
        return _load_tbx(path, text)
    return _load_csv(path, text, source_lang, target_lang)


def _flag(value: str | None, where: str, column: str) -> bool:
    value = (value or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InputError(f"column {column!r} must be true or false, not {value!r}", where=where,
                     fix="write true/false, yes/no or 1/0")


def _load_csv(path: Path, text: str, source_lang: str | None, target_lang: str | None) -> Glossary:
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("the glossary is empty", where=f"{path}:1",
                         fix="add a header row: source,target,note,case_sensitive,dnt") from None
    columns = [h.strip().lower().lstrip("\ufeff") for h in header]
    src_col = next((columns.index(c) for c in _SOURCE_COLUMNS if c in columns), None)
    tgt_col = next((columns.index(c) for c in _TARGET_COLUMNS if c in columns), None)
    if src_col is None:
        raise InputError(f"no source column in the header {header!r}", where=f"{path}:1",
                         fix="name the first columns source,target (optional: note, "
                             "case_sensitive, dnt, source_lang, target_lang)")
    col = {name: columns.index(name) for name in ("note", "case_sensitive", "dnt", "source_lang",
                                                   "target_lang") if name in columns}
    entries = []
    for row in reader:
        line = reader.line_num
        where = f"{path}:{line}"
        if not row or all(not cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) > len(columns):
            raise InputError(f"{len(row)} fields where the header has {len(columns)}", where=where,
                             fix=f"quote terms that contain {delimiter!r}")

        def cell(index: int | None, row: list[str] = row) -> str:
            return row[index].strip() if index is not None and index < len(row) else ""

        source = cell(src_col)
        if not source:
            raise InputError("empty source term", where=where, fix="fill in the source column")
        targets = tuple(t.strip() for t in cell(tgt_col).split("|") if t.strip())
        dnt = _flag(cell(col.get("dnt")), where, "dnt") if "dnt" in col else False
        entries.append(GlossaryEntry(
            source_terms=(source,),
            target_terms=targets,
            dnt=dnt or not targets,
            case_sensitive=_flag(cell(col.get("case_sensitive")), where, "case_sensitive")
            if "case_sensitive" in col else False,
            note=cell(col.get("note")) or None,
            source_lang=cell(col.get("source_lang")) or source_lang,
            target_lang=cell(col.get("target_lang")) or target_lang,
            origin=where,
        ))
    return Glossary(str(path), tuple(entries))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element) -> str:
    return "".join(element.itertext()).strip()


def _load_tbx(path: Path, text: str) -> Glossary:
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree as DET

    try:
        root = DET.fromstring(text)
    except ParseError as exc:
        line = getattr(exc, "position", (None,))[0]
        raise InputError(f"invalid TBX/XML: {exc}", where=f"{path}:{line}" if line else str(path),
                         fix="check the XML at the line named") from exc
    except Exception as exc:  # defusedxml refuses entities and DTD tricks
        raise InputError(f"refused TBX/XML: {exc}", where=str(path)) from exc
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    concepts = []
    for number, entry in enumerate(
            (e for e in root.iter() if _local(e.tag) in ("termEntry", "conceptEntry")), start=1):
        terms: dict[str, list[tuple[str, bool]]] = {}
        notes = [_text(e) for e in entry if _local(e.tag) in ("note", "descrip", "descripGrp")
                 and _text(e)]
        for lang_block in entry:
            if _local(lang_block.tag) not in ("langSet", "langSec"):
                continue
            lang = _base(lang_block.get(xml_lang) or lang_block.get("lang"))
            if lang is None:
                raise InputError("a langSet/langSec without xml:lang",
                                 where=f"{path}: entry {number} ({entry.get('id') or 'no id'})",
                                 fix='add xml:lang="fr" (the language code)')
            for holder in lang_block:
                if _local(holder.tag) not in ("tig", "ntig", "termSec", "termGrp"):
                    continue
                term_el = next((e for e in holder.iter() if _local(e.tag) == "term"), None)
                if term_el is None or not _text(term_el):
                    continue
                status = " ".join(
                    _text(e).lower() for e in holder.iter()
                    if _local(e.tag) in ("termNote", "admin")
                    and (e.get("type") or "").lower() in ("administrativestatus", "normativeauthorization")
                )
                deprecated = any(s in status for s in _DEPRECATED)
                terms.setdefault(lang, []).append((_text(term_el), deprecated))
        if terms:
            concepts.append(_Concept(terms, "; ".join(notes) or None,
                                     f"{path}: entry {entry.get('id') or number}"))
    if not concepts:
        raise InputError("no termEntry/conceptEntry with terms found", where=str(path),
                         fix="a TBX glossary needs <termEntry> or <conceptEntry> elements with <term>s")
    return Glossary(str(path), (), tuple(concepts))


def entries_from(rows: Iterable[tuple[str, str]]) -> Glossary:
    """A glossary from (source, target) pairs, for programmatic use and tests."""
    return Glossary("<memory>", tuple(
        GlossaryEntry((s,), tuple(t for t in tgt.split("|") if t), dnt=not tgt, origin=f"<memory>:{i}")
        for i, (s, tgt) in enumerate(rows, start=1)))
