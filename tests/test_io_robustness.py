"""Malformed input the fuzzing of issue 17 found: each is a typed error naming the file and the place.

Every case here once escaped a reader as a bare Python exception (RecursionError, LookupError,
ValueError, OverflowError), crashed the report writer (UnicodeEncodeError) or hung a check. Now a
file that cannot be read is one ``InputError``; a bad record is a ``RecordError`` handed to
``on_bad_record`` while the rest of the feed is read, or raised under ``strict``.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from tqcheck.errors import InputError, RecordError
from tqcheck.io import read_segments
from tqcheck.io._common import MAX_JSON_DEPTH, MAX_MARKUP_DEPTH, MAX_SEGMENT_CHARS
from tqcheck.io.reports import open_report, read_report
from tqcheck.model import RunSignature, Segment, SegmentResult

SIGNATURE = RunSignature(tqcheck_version="0.1.0", config_hash="robust01")


def read(path: Path, **kwargs):
    """Segments, bad records and warnings of one file."""
    bad: list[RecordError] = []
    warnings: list[str] = []
    segments = list(read_segments([path], on_bad_record=bad.append, on_warning=warnings.append, **kwargs))
    return segments, bad, warnings


def one_bad(path: Path, **kwargs) -> tuple[list[Segment], RecordError]:
    segments, bad, _ = read(path, **kwargs)
    assert len(bad) == 1, bad
    assert type(bad[0]) is RecordError
    return segments, bad[0]


def jsonl(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "feed.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


GOOD = '{"id": "ok", "source": "Bonjour.", "mt": "Hello."}'


def xliff12(unit_source: str, unit_target: str = "Fine.") -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">\n'
            ' <file original="page.html" source-language="fr" target-language="en" datatype="html"><body>\n'
            f'  <trans-unit id="1"><source>{unit_source}</source><target>{unit_target}</target></trans-unit>\n'
            '  <trans-unit id="2"><source>Bien.</source><target>Good.</target></trans-unit>\n'
            ' </body></file>\n</xliff>\n')


def xliff2(unit_source: str, unit_target: str = "Fine.") -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="fr" trgLang="en">\n'
            ' <file id="f1">\n'
            f'  <unit id="u1"><segment><source>{unit_source}</source><target>{unit_target}</target></segment></unit>\n'
            '  <unit id="u2"><segment><source>Bien.</source><target>Good.</target></segment></unit>\n'
            ' </file>\n</xliff>\n')


def tmx(seg_source: str, seg_target: str = "Fine.", declaration: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    return (f'{declaration}\n<tmx version="1.4"><header srclang="fr" adminlang="en" segtype="sentence" '
            'datatype="plaintext" o-tmf="x" creationtool="t" creationtoolversion="1"/><body>\n'
            f'<tu tuid="t1"><tuv xml:lang="fr"><seg>{seg_source}</seg></tuv>'
            f'<tuv xml:lang="en"><seg>{seg_target}</seg></tuv></tu>\n'
            '<tu tuid="t2"><tuv xml:lang="fr"><seg>Bien.</seg></tuv><tuv xml:lang="en"><seg>Good.</seg></tuv></tu>\n'
            '</body></tmx>\n')


# ------------------------------------------------------------------------- JSON nested too deep


@pytest.mark.parametrize("depth", [5000, 300, MAX_JSON_DEPTH + 1])
def test_a_jsonl_value_nested_deeply_is_a_bad_record_and_the_feed_goes_on(tmp_path, depth):
    # 5000: json.loads itself raised RecursionError; 300: parsed, then failed in the writers downstream
    path = jsonl(tmp_path, '{"id": "deep", "mt": "x", "metadata": {"v": ' + "[" * depth + "]" * depth + "}}", GOOD)
    segments, error = one_bad(path)
    assert [s.id for s in segments] == ["ok"]
    assert error.where == f"{path}:1"
    assert f"nested more than {MAX_JSON_DEPTH}" in error.message and error.fix
    with pytest.raises(RecordError) as raised:
        list(read_segments([path], strict=True))
    assert str(raised.value).startswith(f"{path}:1: ")


def test_json_nested_up_to_the_limit_is_read(tmp_path):
    depth = MAX_JSON_DEPTH - 1  # the record object itself is the first level
    path = jsonl(tmp_path, '{"id": "a", "mt": "x", "metadata": {"v": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}}")
    segments, bad, _ = read(path)
    assert not bad and [s.id for s in segments] == ["a"]


# ------------------------------------------------------------------------------ lone surrogates


def test_a_lone_surrogate_escape_is_read_as_the_replacement_character_and_said(tmp_path):
    path = jsonl(tmp_path, '{"id": "s", "source": "Caf\\udfff", "mt": "Caf\\udfff \\ud83d\\ude00", '
                           '"metadata": {"note": "\\ud800"}}', GOOD)
    segments, bad, warnings = read(path)
    assert not bad
    assert segments[0].mt == "Caf\ufffd \U0001F600"  # a correct pair is kept: it is one character
    assert segments[0].source == "Caf\ufffd"
    assert segments[0].metadata["note"] == "\ufffd"
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{path}:1: ") and "'source'" in warnings[0] and "'mt'" in warnings[0]
    assert "U+FFFD" in warnings[0]


def test_lone_surrogate_warnings_stop_being_listed_after_ten(tmp_path):
    path = jsonl(tmp_path, *(f'{{"id": "{i}", "mt": "x\\udfff"}}' for i in range(30)))
    segments, bad, warnings = read(path)
    assert len(segments) == 30 and not bad
    assert len(warnings) == 11 and "not listed" in warnings[-1]


def test_a_result_whose_mt_holds_a_lone_surrogate_is_written_and_read_back(tmp_path):
    result = SegmentResult(Segment("s1", "broken \udfff text", "texte", "fr", "en"), risk=0.5)
    path = tmp_path / "report.jsonl"
    with open_report(path, signature=SIGNATURE) as writer:
        writer.write(result)
    raw = path.read_bytes()
    raw.decode("utf-8")  # valid UTF-8, strictly
    assert b"\\udfff" in raw
    _, results, _ = read_report(path)
    assert [r.segment.mt for r in results] == ["broken \udfff text"]


def test_a_jsonl_feed_with_a_lone_surrogate_goes_through_a_rules_only_run_into_a_report(tmp_path):
    from tqcheck.config import CheckConfig
    from tqcheck.pipeline import Pipeline

    path = jsonl(tmp_path, '{"id": "s", "source": "Prix : 3 000 \\udfff", "mt": "Price: 300 \\udfff"}')
    segments, _, _ = read(path, source_lang="fr", target_lang="en")
    results = Pipeline(CheckConfig().with_rules_only()).check(segments)
    report = tmp_path / "report.jsonl"
    with open_report(report, signature=SIGNATURE) as writer:
        for result in results:
            writer.write(result)
    _, back, _ = read_report(report)
    assert [r.segment.mt for r in back] == ["Price: 300 \ufffd"]


# ------------------------------------------------------------------------ NUL and bidi controls


def test_a_nul_character_in_a_text_is_a_bad_record(tmp_path):
    path = jsonl(tmp_path, '{"id": "n", "mt": "Hello\\u0000world"}', GOOD)
    segments, error = one_bad(path)
    assert [s.id for s in segments] == ["ok"]
    assert error.where == f"{path}:1" and "NUL" in error.message and "'mt'" in error.message and error.fix


def test_bidi_controls_are_kept_and_said(tmp_path):
    path = jsonl(tmp_path, '{"id": "b", "mt": "abc \\u202edcba\\u202c end"}')
    segments, bad, warnings = read(path)
    assert not bad and segments[0].mt == "abc \u202edcba\u202c end"
    assert len(warnings) == 1 and warnings[0].startswith(f"{path}:1: ")
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in warnings[0] and "offset 4" in warnings[0]


# ----------------------------------------------------------------------------- segment size


def test_a_segment_over_the_size_limit_is_a_bad_record_and_the_feed_goes_on(tmp_path):
    huge = "word " * 400_000  # one line of 2 MB: this once hung the rule checks
    path = jsonl(tmp_path, json.dumps({"id": "huge", "source": "Bonjour.", "mt": huge}), GOOD)
    segments, error = one_bad(path)
    assert [s.id for s in segments] == ["ok"]
    assert error.where == f"{path}:1"
    assert "'mt' is 2,000,000 characters long" in error.message and f"{MAX_SEGMENT_CHARS:,}" in error.message


def test_a_segment_at_the_size_limit_is_read(tmp_path):
    path = jsonl(tmp_path, json.dumps({"id": "max", "mt": "a" * MAX_SEGMENT_CHARS}),
                 json.dumps({"id": "over", "mt": "a" * (MAX_SEGMENT_CHARS + 1)}))
    segments, error = one_bad(path)
    assert [s.id for s in segments] == ["max"] and error.where == f"{path}:2"


def test_a_huge_tmx_segment_is_a_bad_record_of_its_unit(tmp_path):
    path = tmp_path / "memory.tmx"
    path.write_text(tmx("mot " * 100_000), encoding="utf-8")
    segments, error = one_bad(path)
    assert [s.id for s in segments] == ["t2"]
    assert error.where == f"{path}:tu t1" and "'source' is 400,000 characters long" in error.message


# -------------------------------------------------------------------- inline markup nested deeply


@pytest.mark.parametrize("depth", [3000, MAX_MARKUP_DEPTH + 1])
def test_xliff_inline_tags_nested_deeply_are_a_bad_record_of_their_unit(tmp_path, depth):
    path = tmp_path / "job.xlf"
    path.write_text(xliff12('<g id="1">' * depth + "x" + "</g>" * depth), encoding="utf-8")
    segments, error = one_bad(path)
    assert [(s.id, s.mt) for s in segments] == [("2", "Good.")]
    assert error.where == f"{path}:trans-unit 1"
    assert f"nested more than {MAX_MARKUP_DEPTH}" in error.message and error.fix


def test_tmx_inline_tags_nested_deeply_are_a_bad_record_of_their_unit(tmp_path):
    path = tmp_path / "memory.tmx"
    path.write_text(tmx('<hi>' * 2000 + "x" + "</hi>" * 2000), encoding="utf-8")
    segments, error = one_bad(path)
    assert [s.id for s in segments] == ["t2"] and error.where == f"{path}:tu t1"


def test_inline_tags_nested_up_to_the_limit_are_read(tmp_path):
    depth = MAX_MARKUP_DEPTH - 1
    path = tmp_path / "job.xlf"
    path.write_text(xliff12('<g id="1">' * depth + "x" + "</g>" * depth), encoding="utf-8")
    segments, bad, _ = read(path)
    assert not bad and segments[0].source == "{1}" * depth + "x" + "{/1}" * depth


# ------------------------------------------------------------------------ <cp> code points


@pytest.mark.parametrize("value, reason", [
    ("99999999999999999999", "beyond U+10FFFF"),  # once an OverflowError
    ("110000", "beyond U+10FFFF"),
    ("D800", "a surrogate"),
    ("zz", "not a hexadecimal code point"),
    ("", "not a hexadecimal code point"),
])
def test_an_invalid_cp_is_a_bad_record_of_its_unit(tmp_path, value, reason):
    path = tmp_path / "job.xlf"
    path.write_text(xliff2(f'a<cp hex="{value}"/>b'), encoding="utf-8")
    segments, error = one_bad(path)
    assert [s.id for s in segments] == ["u2/1"]
    assert error.where == f"{path}:unit u1" and reason in error.message and error.fix


def test_a_valid_cp_becomes_its_character(tmp_path):
    path = tmp_path / "job.xlf"
    path.write_text(xliff2('a<cp hex="1F600"/><cp hex="0009"/>b'), encoding="utf-8")
    segments, bad, _ = read(path)
    assert not bad and segments[0].source == "a\U0001F600\tb"


# --------------------------------------------------------------------------- XML encodings


@pytest.mark.parametrize("fmt", ["job.xlf", "memory.tmx"])
@pytest.mark.parametrize("declared, expected", [
    ("bogus", "not a known character encoding"),  # once a LookupError
    ("hex", "not a character encoding"),  # once a LookupError too
    ("UTF-16", "the bytes are not UTF-16"),  # once an expat error, with other wide names a ValueError
    ("UTF-32", "the bytes are not UTF-32"),  # once "ValueError: multi-byte encodings are not supported"
    ("cp037", "does not read as '<?xml'"),
])
def test_an_unusable_encoding_declaration_is_an_input_error_on_line_1(tmp_path, fmt, declared, expected):
    path = tmp_path / fmt
    body = tmx("Bonjour.") if fmt.endswith(".tmx") else xliff12("Bonjour.")
    path.write_bytes(body.replace('encoding="UTF-8"', f'encoding="{declared}"', 1).encode("utf-8"))
    with pytest.raises(InputError) as raised:
        list(read_segments([path]))
    assert type(raised.value) is InputError
    assert raised.value.where == f"{path}:1" and expected in raised.value.message
    assert "UTF-8" in raised.value.fix


def test_a_byte_order_mark_that_contradicts_the_declaration_is_an_input_error(tmp_path):
    path = tmp_path / "memory.tmx"
    path.write_bytes(codecs.BOM_UTF16_LE + tmx("Bonjour.").encode("utf-16-le"))
    with pytest.raises(InputError) as raised:
        list(read_segments([path]))
    assert raised.value.where == f"{path}:1" and "byte-order mark of UTF-16" in raised.value.message


def test_bytes_that_are_not_in_the_declared_encoding_are_an_input_error_with_their_line(tmp_path):
    path = tmp_path / "memory.tmx"
    text = tmx("Bonjour.", declaration='<?xml version="1.0" encoding="UTF-16"?>')
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le") + b"\x00")  # an odd byte at the end
    with pytest.raises(InputError) as raised:
        list(read_segments([path]))
    assert raised.value.where.startswith(f"{path}:") and "not valid UTF-16-LE" in raised.value.message


@pytest.mark.parametrize("declared, codec, bom, source", [
    ("UTF-16", "utf-16-le", codecs.BOM_UTF16_LE, "Café à 3 € 😀"),
    ("UTF-16", "utf-16-be", b"", "Café à 3 €"),
    ("UTF-32", "utf-32-le", codecs.BOM_UTF32_LE, "Café à 3 € 😀"),  # expat alone cannot read UTF-32
    ("Shift_JIS", "shift_jis", b"", "東京で 3 円"),
    ("ISO-8859-1", "latin-1", b"", "Café à 3 F"),
])
def test_a_document_in_the_encoding_it_declares_is_read(tmp_path, declared, codec, bom, source):
    path = tmp_path / "memory.tmx"
    text = tmx(source, declaration=f'<?xml version="1.0" encoding="{declared}"?>')
    path.write_bytes(bom + text.encode(codec))
    segments, bad, _ = read(path)
    assert not bad and [s.source for s in segments] == [source, "Bien."]


def test_a_utf16_xliff_with_several_files_gets_file_prefixed_ids(tmp_path):
    body = xliff12("Bonjour.").replace(" </body></file>\n", " </body></file>\n" + xliff12("Salut.").split(
        "<xliff", 1)[1].split(">", 1)[1].split("</xliff>")[0].replace('original="page.html"', 'original="b.html"'))
    path = tmp_path / "job.xlf"
    path.write_bytes(codecs.BOM_UTF16_LE + body.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16-le"))
    segments, bad, _ = read(path)
    assert not bad and [s.id for s in segments] == ["page.html/1", "page.html/2", "b.html/1", "b.html/2"]


def test_an_unknown_encoding_on_stdin_is_an_input_error_naming_stdin():
    import io

    data = xliff12("Bonjour.").replace('encoding="UTF-8"', 'encoding="bogus"').encode("utf-8")
    with pytest.raises(InputError) as raised:
        list(read_segments(["-"], format="xliff", stdin=io.TextIOWrapper(io.BytesIO(data))))
    assert raised.value.where == "<stdin>:1" and "bogus" in raised.value.message


# ------------------------------------------------------------------- damaged Parquet and Excel


def test_a_parquet_file_damaged_in_its_second_row_group_is_an_input_error_at_that_record(tmp_path):
    import pandas as pd
    import pyarrow.parquet as pq

    path = tmp_path / "feed.parquet"
    rows = [{"id": f"n{i}", "source": f"Phrase {i}.", "mt": f"Sentence {i}."} for i in range(20_000)]
    pd.DataFrame(rows).to_parquet(path, row_group_size=10_000)
    chunk = pq.ParquetFile(path).metadata.row_group(1).column(2)  # the mt column of records 10,001-20,000
    data = bytearray(path.read_bytes())
    data[chunk.data_page_offset:chunk.data_page_offset + 64] = b"\xff" * 64  # its first data page's header
    path.write_bytes(bytes(data))
    read = []
    with pytest.raises(InputError) as raised:
        for segment in read_segments([path], source_lang="fr", target_lang="en"):
            read.append(segment.id)
    assert len(read) == 10_000  # the first row group was read
    assert raised.value.where == f"{path}:record 10001"
    assert "row group 2 (records 10,001 to 20,000)" in raised.value.message and raised.value.fix


def test_an_excel_workbook_with_a_truncated_sheet_is_an_input_error(tmp_path):
    import zipfile

    import pandas as pd

    good = tmp_path / "good.xlsx"
    pd.DataFrame([{"id": f"n{i}", "mt": f"Sentence {i}."} for i in range(200)]).to_excel(good, index=False)
    path = tmp_path / "feed.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            content = src.read(item)
            dst.writestr(item, content[: len(content) // 2] if item.filename.endswith("sheet1.xml") else content)
    with pytest.raises(InputError) as raised:
        list(read_segments([path], source_lang="fr", target_lang="en"))
    assert type(raised.value) is InputError
    assert raised.value.where.startswith(str(path)) and raised.value.fix
