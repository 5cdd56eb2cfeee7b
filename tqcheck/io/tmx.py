"""TMX translation memories (``.tmx``): one segment per ``<tu>``, streamed, parsed with defusedxml.

The source language is the one given to ``read_segments``, else the header's ``srclang`` (unless it is
``*all*``), else the language of each unit's first ``<tuv>``. The target is the language given, else the
one other language of the unit (for a unit with only the source, the target language of the units before
it); a memory with several other languages needs ``target_lang`` and says so.
Language codes match case-insensitively, and ``en`` matches ``en-US`` when there is no exact match.

Ids are ``tuid`` or the unit's position (1-based); origins ``name.tmx:tu <id>``. Inline codes
(``<bpt>``/``<ept>``, ``<ph>``, ``<it>``, ``<hi>``, ``<ut>``) become placeholders as in XLIFF
(``tqcheck.io.inline``). A unit without the target language gets MT ``""`` (kept, flagged later); one
without the source language is a bad record.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tqcheck.errors import InputError, UsageError
from tqcheck.io._common import ReadContext, display_name, record_error
from tqcheck.io._xml import XML_LANG, open_source, parser, xml_error
from tqcheck.io.inline import Numbering, extract, local_name
from tqcheck.model import Segment


def _match(wanted: str, available: Sequence[str]) -> str | None:
    lowered = {a.lower(): a for a in available}
    if wanted.lower() in lowered:
        return lowered[wanted.lower()]
    base = wanted.lower().replace("_", "-").split("-")[0]
    candidates = [a for a in available if a.lower().replace("_", "-").split("-")[0] == base]
    return candidates[0] if len(candidates) == 1 else None


def read_tmx(paths: Sequence[str | Path], ctx: ReadContext) -> Iterator[Segment]:
    for path in paths:
        yield from _read_one(path, ctx)


def _read_one(path: str | Path, ctx: ReadContext) -> Iterator[Segment]:
    import defusedxml
    import defusedxml.ElementTree as SafeET

    name = display_name(path)
    source = open_source(path, ctx)
    try:
        events = SafeET.iterparse(source, events=("start", "end"), parser=parser())
        header_source: str | None = None
        seen_targets: list[str] = []  # the target language of earlier units, for units that lack it
        root_seen = False
        position = 0
        for event, el in events:
            local = local_name(el.tag)
            if event == "start":
                if not root_seen:
                    root_seen = True
                    if local != "tmx":
                        raise InputError(f"not a TMX document: the root element is <{local}>", where=name,
                                         fix="pass --format to read it as another format")
                elif local == "header":
                    srclang = el.get("srclang")
                    header_source = None if not srclang or srclang == "*all*" else srclang
                continue
            if local != "tu":
                continue
            position += 1
            segment = _segment(el, position, header_source, seen_targets, name, ctx)
            if segment is not None:
                yield segment
            el.clear()
    except (ET.ParseError, defusedxml.DefusedXmlException) as exc:
        raise xml_error(exc, name) from exc
    finally:
        source.close()


def _segment(tu: ET.Element, position: int, header_source: str | None, seen_targets: list[str], name: str,
             ctx: ReadContext) -> Segment | None:
    tu_id = tu.get("tuid") or str(position)
    where = f"{name}:tu {tu_id}"
    variants: dict[str, ET.Element | None] = {}
    for tuv in tu:
        if local_name(tuv.tag) != "tuv":
            continue
        lang = tuv.get(XML_LANG) or tuv.get("lang")
        if lang:
            variants.setdefault(lang, next((c for c in tuv if local_name(c.tag) == "seg"), None))
    langs = list(variants)
    wanted_source = ctx.source_lang or header_source or (langs[0] if langs else None)
    source_lang = _match(wanted_source, langs) if wanted_source else None
    if source_lang is None:
        ctx.bad(record_error(where, f"has no {wanted_source or 'source'} variant (it has {', '.join(langs) or 'none'})",
                             "give the source language with --source-lang"))
        return None
    others = [lang for lang in langs if lang != source_lang]
    if ctx.target_lang:
        target_lang = _match(ctx.target_lang, others)
        target_label: str | None = ctx.target_lang
    elif len(others) > 1:
        raise UsageError(f"{where} holds several target languages ({', '.join(others)})",
                         fix="choose one with --target-lang")
    else:
        target_lang = others[0] if others else None
        target_label = target_lang or (seen_targets[-1] if seen_targets else None)
    if target_lang and (not seen_targets or seen_targets[-1] != target_lang):
        seen_targets.append(target_lang)
    numbering = Numbering()
    try:
        source, source_codes = extract(variants[source_lang], numbering)
        mt, mt_codes = extract(variants.get(target_lang) if target_lang else None, numbering)
    except InputError as exc:  # markup nested too deep
        ctx.bad(record_error(where, exc.message, exc.fix))
        return None
    metadata: dict[str, Any] = {"tmx": {"tuid": tu.get("tuid"), "position": position}}
    if source_codes or mt_codes:
        metadata["placeholders"] = {"source": source_codes, "mt": mt_codes}
    return Segment(id=tu_id, mt=mt, source=source, source_lang=source_lang, target_lang=target_label,
                   origin=where, metadata=metadata)
