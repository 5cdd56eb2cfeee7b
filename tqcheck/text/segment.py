"""Sentence and paragraph boundaries, as character offsets into the text given.

Sentences come from ``sentencex`` (Wikimedia): rule-based, no model to load, a Rust core that splits a
long document in milliseconds, and about 300 languages through fallback chains (a language without rules
of its own borrows a related language's, then English's), where pysbd covers ~20 and spaCy/NLTK need
models per language. Its boundaries are kept as offsets rather than strings because every flag points
into the text by offsets.

sentencex reports start/end indices; each is checked against the text, and if one disagrees (a version
counting bytes, a normalised character) the sentence is found by searching from the previous end, so the
offsets are always Python string indices. Returned spans exclude the surrounding whitespace.

Two repairs on top:

* sentencex's rules miss titles before names in French and English news ("M. Dupont", "Le Dr. Martin"),
  which would cut a sentence in two; a piece ending in such a title is joined to the next piece when that
  starts with a capital letter.
* Quoted exclamations. A crowd's ``"Mexico! Mexico!" they shout back`` is one sentence, as the French
  source's ``« Mexique ! Mexique ! », leur renvoient-ils`` is; cut at each ``!`` it becomes three
  segments that no longer align with the source, and two-word "sentences" that every model finds odd.
  So a ``!`` or ``?`` inside a quotation that is still open does not end the sentence: such a piece is
  joined to the next. A straight quote that sentencex hung on the end of a piece although it opens the
  next (``water. "Mexico!``: a space before it, a letter right after) is moved to the piece it opens.
  Quotations are counted within the piece (guillemets and curly quotes by depth, straight quotes by
  parity), so a quotation that an MT never closed cannot swallow the rest of the paragraph.
"""

from __future__ import annotations

import re

# Titles written before a name; a sentence rarely ends on one.
_TITLES = frozenset(
    "M. MM. Mme. Mmes. Mlle. Mlles. Me. Mgr. Dr. Drs. Pr. Prof. St. Ste. Mr. Mrs. Ms. Messrs. "
    "Gen. Gov. Sen. Rep. Rev. Hon. Capt. Lt. Col. Sgt. Cpt. Fr. Sr. Sra. Srta. Hr. Fr. Frl. Dott. Sig. "
    "Sig.ra".split()
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\f\v\r]*\n\s*")


def _language(lang: str | None) -> str:
    if not lang:
        return "en"
    return re.split(r"[-_]", lang.strip(), maxsplit=1)[0].lower() or "en"


def _raw_pieces(text: str, lang: str) -> list[tuple[int, int]]:
    import sentencex

    pieces: list[tuple[int, int]] = []
    cursor = 0
    for item in sentencex.get_sentence_boundaries(lang, text):
        piece = item.get("text", "")
        start, end = item.get("start_index", -1), item.get("end_index", -1)
        if not (0 <= start <= end <= len(text) and text[start:end] == piece):
            found = text.find(piece, cursor) if piece else -1
            if found < 0:
                # Not found as written (normalised by the splitter): skip; the gap joins the next piece.
                continue
            start, end = found, found + len(piece)
        if start < cursor:
            continue
        pieces.append((start, end))
        cursor = end
    return pieces


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_sentences(text: str, lang: str | None = None) -> list[tuple[int, int]]:
    """Sentences of ``text`` as ``[start, end)`` offsets, whitespace excluded, in order.

    ``lang`` is a language code (``fr``, ``pt-BR``); None splits with the English rules.
    """
    if not text or text.isspace():
        return []
    spans = [_strip(text, s, e) for s, e in _raw_pieces(text, _language(lang))]
    spans = [(s, e) for s, e in spans if e > s]
    if not spans:
        return [_strip(text, 0, len(text))]
    spans = _move_opening_quotes(text, spans)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and (_ends_with_title(text, *merged[-1]) and text[start : start + 1].isupper()
                       or _ends_inside_quotation(text[merged[-1][0] : merged[-1][1]])):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _ends_with_title(text: str, start: int, end: int) -> bool:
    words = text[start:end].split()
    return bool(words) and words[-1] in _TITLES


_OPENING = "«“„‹"
_CLOSING = "»”›"


def _move_opening_quotes(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Give a trailing straight quote that opens the next piece (space before, none after) to that piece."""
    out = list(spans)
    for i in range(len(out) - 1):
        start, end = out[i]
        q = end - 1
        if (end - start >= 2 and text[q] == '"' and text[q - 1].isspace()
                and q + 1 < len(text) and not text[q + 1].isspace()):
            out[i] = _strip(text, start, q)
            out[i + 1] = (q, out[i + 1][1])
    return [(s, e) for s, e in out if e > s]


def _ends_inside_quotation(piece: str) -> bool:
    """Whether ``piece`` ends on ``!`` or ``?`` with a quotation opened in it still open."""
    tail = piece.rstrip(" \u00a0\u202f")
    if not tail or tail[-1] not in "!?":
        return False
    depth = sum(ch in _OPENING for ch in tail) - sum(ch in _CLOSING for ch in tail)
    return depth > 0 or tail.count('"') % 2 == 1


def split_paragraphs(text: str) -> list[tuple[int, int]]:
    """Paragraphs (blocks separated by one or more blank lines) as offsets, whitespace excluded."""
    spans: list[tuple[int, int]] = []
    position = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        spans.append(_strip(text, position, match.start()))
        position = match.end()
    spans.append(_strip(text, position, len(text)))
    return [(s, e) for s, e in spans if e > s]
