"""Readers of plain text: one segment per line (one file or parallel files) and whole documents.

How a plain ``.txt`` input is read, the rule:

* ``format="text"`` (the default for one ``.txt``): one segment per line, target only; ids ``"1"``,
  ``"2"``... are line numbers.
* ``format="parallel"`` (the default for two or three ``.txt``): line *i* of each file is one segment:
  source, MT and, with a third file, the reference. The files must have the same number of lines; they
  are counted before any segment is produced, so a mismatch stops the run before it starts.
* ``format="docs"`` (never guessed; ask for it): paragraphs separated by blank lines, split into
  sentences (``tqcheck.text.segment``). With two files (source document, target document) the
  paragraphs and then the sentences within each pair of paragraph groups are aligned by length
  (``tqcheck.text.align``; 1-2, 2-1, 1-0 and 0-1 correspondences included). One file alone is a target
  document, read as its sentences. Ids are ``p<paragraph>.s<sentence>``: paragraph groups and aligned
  units within them, counted from 1; equal to the paragraph number when both documents have the same
  paragraphs, which is when paragraphs are paired by position without alignment.

Blank lines are kept as empty segments in ``parallel`` so that line *i* stays segment *i* (the checks
flag them). In ``text`` (target only) a blank line is a paragraph break, not a segment, and is skipped;
ids stay line numbers.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from pathlib import Path

from tqcheck.errors import InputError, UsageError
from tqcheck.io._common import ReadContext, display_name, read_whole_text, text_lines
from tqcheck.model import Segment


def read_text(paths: Sequence[str | Path], ctx: ReadContext) -> Iterator[Segment]:
    """One file, one target-only segment per line."""
    for path in paths:
        name = display_name(path)
        doc_id = Path(path).name if ctx.several_files else None
        for number, line in enumerate(text_lines(path, ctx), 1):
            if not line.strip():
                continue
            yield Segment(id=str(number), mt=line, source_lang=ctx.source_lang, target_lang=ctx.target_lang,
                          doc_id=doc_id, origin=f"{name}:{number}")


def _count_lines(path: str | Path, ctx: ReadContext) -> int:
    return sum(1 for _ in text_lines(path, ctx))


def read_parallel(paths: Sequence[str | Path], ctx: ReadContext) -> Iterator[Segment]:
    """Source and MT files (and optionally a reference file), aligned by line number."""
    if not 2 <= len(paths) <= 3:
        raise UsageError(f"parallel text needs 2 or 3 files (source, MT[, reference]), got {len(paths)}",
                         fix="give the source file, then the MT file")
    if any(str(p) == "-" for p in paths):
        raise UsageError("parallel text files cannot be read from stdin", fix="give file names")
    names = [display_name(p) for p in paths]
    counts = [_count_lines(p, ctx) for p in paths]
    if len(set(counts)) > 1:
        listed = " and ".join(f"{n} has {c} lines" for n, c in zip(names, counts))
        raise InputError(f"parallel files differ in length: {listed}",
                         fix="each line of one file must translate the same line of the other")
    return _parallel(paths, names, ctx)


def _parallel(paths: Sequence[str | Path], names: list[str], ctx: ReadContext) -> Iterator[Segment]:
    streams = [text_lines(p, ctx) for p in paths]
    for number, lines in enumerate(zip(*streams), 1):
        yield Segment(
            id=str(number),
            source=lines[0],
            mt=lines[1],
            reference=lines[2] if len(lines) > 2 else None,
            source_lang=ctx.source_lang,
            target_lang=ctx.target_lang,
            origin=f"{names[1]}:{number}",
        )


class _Document:
    """A document's text, its paragraphs and sentences as offsets, and a way to turn offsets into lines."""

    def __init__(self, path: str | Path, lang: str | None, ctx: ReadContext) -> None:
        from tqcheck.text.segment import split_paragraphs, split_sentences

        self.name = display_name(path)
        self.text = read_whole_text(path, ctx)
        self._newlines = [i for i, ch in enumerate(self.text) if ch == "\n"]
        self.paragraphs: list[list[tuple[int, int]]] = []
        for p_start, p_end in split_paragraphs(self.text):
            sentences = split_sentences(self.text[p_start:p_end], lang)
            self.paragraphs.append([(p_start + s, p_start + e) for s, e in sentences])

    def line_of(self, offset: int) -> int:
        return bisect.bisect_left(self._newlines, offset) + 1

    def span(self, sentences: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
        return (sentences[0][0], sentences[-1][1]) if sentences else None

    def slice(self, span: tuple[int, int] | None) -> str:
        return self.text[span[0] : span[1]] if span else ""


def read_docs(paths: Sequence[str | Path], ctx: ReadContext) -> Iterator[Segment]:
    if len(paths) == 1:
        return _target_document(paths[0], ctx)
    if len(paths) == 2:
        return _document_pair(paths[0], paths[1], ctx)
    raise UsageError(f"documents: give a target document, or a source and a target document; got {len(paths)} files")


def _target_document(path: str | Path, ctx: ReadContext) -> Iterator[Segment]:
    doc = _Document(path, ctx.target_lang, ctx)
    doc_id = Path(path).name if str(path) != "-" else None
    for p, sentences in enumerate(doc.paragraphs, 1):
        for s, (start, end) in enumerate(sentences, 1):
            yield Segment(id=f"p{p}.s{s}", mt=doc.text[start:end], source_lang=ctx.source_lang,
                          target_lang=ctx.target_lang, doc_id=doc_id,
                          origin=f"{doc.name}:{doc.line_of(start)}",
                          metadata={"mt_offsets": [start, end]})


def _document_pair(source_path: str | Path, target_path: str | Path, ctx: ReadContext) -> Iterator[Segment]:
    from tqcheck.text.align import align_sentences

    src = _Document(source_path, ctx.source_lang, ctx)
    tgt = _Document(target_path, ctx.target_lang, ctx)
    doc_id = Path(target_path).name
    if len(src.paragraphs) == len(tgt.paragraphs):
        groups: list[tuple[tuple[int, ...], tuple[int, ...]]] = [((i,), (i,)) for i in range(len(src.paragraphs))]
    else:
        def paragraph_text(doc: _Document, sentences: list[tuple[int, int]]) -> str:
            return doc.slice(doc.span(sentences))

        groups = align_sentences([paragraph_text(src, p) for p in src.paragraphs],
                                 [paragraph_text(tgt, p) for p in tgt.paragraphs])
    for group_number, (src_paras, tgt_paras) in enumerate(groups, 1):
        src_sentences = [s for i in src_paras for s in src.paragraphs[i]]
        tgt_sentences = [s for j in tgt_paras for s in tgt.paragraphs[j]]
        alignment = align_sentences([src.text[a:b] for a, b in src_sentences],
                                    [tgt.text[a:b] for a, b in tgt_sentences])
        for unit_number, (si, ti) in enumerate(alignment, 1):
            src_span = src.span([src_sentences[i] for i in si])
            tgt_span = tgt.span([tgt_sentences[j] for j in ti])
            origin = (f"{tgt.name}:{tgt.line_of(tgt_span[0])}" if tgt_span
                      else f"{src.name}:{src.line_of(src_span[0])}" if src_span else tgt.name)
            yield Segment(
                id=f"p{group_number}.s{unit_number}",
                source=src.slice(src_span),
                mt=tgt.slice(tgt_span),
                source_lang=ctx.source_lang,
                target_lang=ctx.target_lang,
                doc_id=doc_id,
                origin=origin,
                metadata={
                    "alignment": f"{len(si)}-{len(ti)}",
                    "source_offsets": list(src_span) if src_span else None,
                    "mt_offsets": list(tgt_span) if tgt_span else None,
                },
            )
