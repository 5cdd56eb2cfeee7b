"""Plain text: one file (target only), parallel files, documents aligned sentence by sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from tqcheck.errors import InputError, UsageError
from tqcheck.io import detect_format, read_segments


def read(paths, **kwargs):
    return list(read_segments([str(p) for p in paths], **kwargs))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_one_txt_is_target_only_line_per_segment(tmp_path):
    # A blank line in a target-only text is a paragraph break, not a segment; ids stay line numbers.
    path = write(tmp_path / "mt.txt", "Hello.\n\nBye.\n")
    segments = read([path], target_lang="en")
    assert [(s.id, s.mt, s.source) for s in segments] == [("1", "Hello.", None), ("3", "Bye.", None)]
    assert segments[1].origin == f"{path}:3" and segments[0].target_lang == "en"


def test_crlf_and_missing_final_newline(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"One\r\nTwo")
    assert [s.mt for s in read([path])] == ["One", "Two"]


def test_parallel_files_keep_blank_lines_and_ids(tmp_path):
    src = write(tmp_path / "src.txt", "Bonjour.\n\nMerci.\n")
    mt = write(tmp_path / "mt.txt", "Hello.\nStray line.\nThanks.\n")
    assert detect_format([src, mt]) == "parallel"
    segments = read([src, mt], source_lang="fr", target_lang="en")
    assert [(s.id, s.source, s.mt) for s in segments] == [
        ("1", "Bonjour.", "Hello."), ("2", "", "Stray line."), ("3", "Merci.", "Thanks.")]
    assert segments[1].origin == f"{mt}:2"
    assert segments[0].language_pair == "fr-en"


def test_parallel_latin1_file_is_warned_about_once(tmp_path):
    src = write(tmp_path / "src.txt", "Café.\nThé.\n")
    mt = tmp_path / "mt.txt"
    mt.write_bytes("Coffee.\nTea, café style.\n".encode("latin-1"))
    warnings: list[str] = []
    segments = read([src, mt], on_warning=warnings.append)
    assert [s.mt for s in segments] == ["Coffee.", "Tea, café style."]
    assert warnings == [f"{mt}:2: not valid UTF-8; reading the whole file as Windows-1252 "
                        "(save it as UTF-8 to silence this)"]


def test_parallel_with_reference(tmp_path):
    files = [write(tmp_path / f"{n}.txt", t) for n, t in (("s", "Oui\n"), ("m", "Yes\n"), ("r", "Yes.\n"))]
    [seg] = read(files)
    assert (seg.source, seg.mt, seg.reference) == ("Oui", "Yes", "Yes.")


def test_parallel_files_of_different_length_give_the_exact_error(tmp_path):
    src = write(tmp_path / "src.txt", "a\nb\nc\n")
    mt = write(tmp_path / "mt.txt", "a\nb\n")
    with pytest.raises(InputError) as info:
        read_segments([str(src), str(mt)])  # raised before any segment is read
    assert str(info.value).startswith(f"parallel files differ in length: {src} has 3 lines and {mt} has 2 lines")


def test_docs_is_never_guessed(tmp_path):
    doc = write(tmp_path / "doc.txt", "One. Two.\n")
    assert detect_format([doc]) == "text"
    assert [s.mt for s in read([doc])] == ["One. Two."]
    assert [s.mt for s in read([doc], format="docs")] == ["One.", "Two."]


def test_target_document_alone(tmp_path):
    doc = write(tmp_path / "article.en.txt", "Title\n\nFirst sentence. Second one!\nStill second paragraph.\n\n\nLast.")
    segments = read([doc], format="docs", target_lang="en")
    assert [(s.id, s.mt) for s in segments] == [
        ("p1.s1", "Title"), ("p2.s1", "First sentence."), ("p2.s2", "Second one!"),
        ("p2.s3", "Still second paragraph."), ("p3.s1", "Last.")]
    assert [s.origin for s in segments] == [f"{doc}:{n}" for n in (1, 3, 3, 4, 7)]
    assert all(s.source is None and s.doc_id == "article.en.txt" for s in segments)
    start, end = segments[3].metadata["mt_offsets"]
    assert doc.read_text(encoding="utf-8")[start:end] == "Still second paragraph."


SOURCE_DOC = """Le budget 2025

Le gouvernement a présenté mardi un projet de budget qui prévoit une hausse des dépenses militaires et une baisse des aides au logement. Le vote aura lieu en mars.

Merci de votre attention.
"""  # noqa: E501 - a document: one paragraph a line

TARGET_DOC = """The 2025 budget

The government presented a draft budget on Tuesday. It provides for higher military spending and lower housing aid. The vote will take place in March.

Thank you for your attention.
"""  # noqa: E501 - a document: one paragraph a line


def test_document_pair_aligns_one_to_two(tmp_path):
    src = write(tmp_path / "src.fr.txt", SOURCE_DOC)
    tgt = write(tmp_path / "mt.en.txt", TARGET_DOC)
    segments = read([src, tgt], format="docs", source_lang="fr", target_lang="en")
    assert [s.id for s in segments] == ["p1.s1", "p2.s1", "p2.s2", "p3.s1"]
    one_to_two = segments[1]
    assert one_to_two.metadata["alignment"] == "1-2"
    assert one_to_two.source.startswith("Le gouvernement a présenté") and one_to_two.source.endswith("logement.")
    assert one_to_two.mt == ("The government presented a draft budget on Tuesday. "
                             "It provides for higher military spending and lower housing aid.")
    assert (segments[2].source, segments[2].mt) == ("Le vote aura lieu en mars.", "The vote will take place in March.")
    assert segments[1].origin == f"{tgt}:3" and segments[0].doc_id == "mt.en.txt"


def test_document_pair_with_a_missing_paragraph(tmp_path):
    # The omitted paragraph must come out alone with an empty MT (so the checks flag it), and nothing
    # may be lost or duplicated.
    src = write(tmp_path / "s.txt", "Premier paragraphe assez long pour compter.\n\n"
                                    "Deuxième paragraphe, qui sera omis par la traduction automatique.\n\n"
                                    "Troisième et dernier paragraphe du texte source.\n")
    tgt = write(tmp_path / "t.txt", "First paragraph, long enough to count.\n\n"
                                    "Third and last paragraph of the source text.\n")
    segments = read([src, tgt], format="docs")
    assert (segments[0].source, segments[0].mt) == ("Premier paragraphe assez long pour compter.",
                                                    "First paragraph, long enough to count.")
    holding = [s for s in segments if "Deuxième" in (s.source or "")]
    assert len(holding) == 1
    assert holding[0].mt == "" and holding[0].metadata["alignment"] == "1-0"
    assert holding[0].origin == f"{src}:3"  # no target line to point at: the source line
    assert "".join(s.mt for s in segments) == ("First paragraph, long enough to count."
                                               "Third and last paragraph of the source text.")
    assert sum(s.source.count("paragraphe") for s in segments) == 3


def test_docs_needs_one_or_two_files(tmp_path):
    files = [write(tmp_path / f"{i}.txt", "x\n") for i in range(3)]
    with pytest.raises(UsageError):
        read(files, format="docs")
