"""Tabular feeds: CSV, TSV, JSONL, Parquet, Excel; column maps, languages, encodings, bad records."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from tqcheck.errors import InputError, RecordError, UsageError
from tqcheck.io import ColumnMap, read_segments

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def read(paths, **kwargs):
    return list(read_segments([str(p) for p in paths], **kwargs))


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ------------------------------------------------------------------------------------ every format


def test_sample_csv_and_jsonl_agree():
    csv_segments = read([SAMPLES / "feed.csv"], source_lang="fr", target_lang="en")
    jsonl_segments = read([SAMPLES / "feed.jsonl"])
    assert [s.id for s in csv_segments] == [f"n{i:02d}" for i in range(1, 13)]
    assert [s.id for s in jsonl_segments] == [s.id for s in csv_segments]
    for a, b in zip(csv_segments, jsonl_segments, strict=True):
        assert (a.source, a.mt, a.reference) == (b.source, b.mt, b.reference)
        assert (b.source_lang, b.target_lang) == ("fr", "en")  # from the lp field
    assert csv_segments[1].mt.startswith("More than 300 ")
    assert csv_segments[7].mt.startswith('"We will not give in')  # CSV-quoted quote kept
    assert csv_segments[2].reference is None  # empty reference cell
    assert csv_segments[0].origin == f"{SAMPLES / 'feed.csv'}:2"
    assert jsonl_segments[4].origin == f"{SAMPLES / 'feed.jsonl'}:5"


@pytest.mark.parametrize("kind", ["csv", "tsv", "jsonl", "parquet", "excel"])
def test_each_table_format_reads_ids_and_fields(tmp_path, kind):
    import pandas as pd

    frame = pd.DataFrame({
        "id": ["a1", "007", "c3"],
        "source": ["Bonjour.", "Deux mots", "Trois"],
        "mt": ["Hello.", "", "Three"],
        "reference": ["Hello!", "Two words", ""],
        "engine": ["e1", "e1", "e2"],
    })
    path = tmp_path / f"feed.{ {'excel': 'xlsx'}.get(kind, kind) }"
    if kind == "csv":
        frame.to_csv(path, index=False)
    elif kind == "tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif kind == "jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    elif kind == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_excel(path, index=False)
    segments = read([path], source_lang="fr", target_lang="en")
    assert [s.id for s in segments] == ["a1", "007", "c3"]  # "007" is not turned into 7
    assert [s.mt for s in segments] == ["Hello.", "", "Three"]  # an empty translation is kept
    assert segments[0].source == "Bonjour." and segments[0].reference == "Hello!"
    assert segments[2].reference is None
    assert segments[1].metadata["fields"] == {"engine": "e1"}
    assert {(s.source_lang, s.target_lang) for s in segments} == {("fr", "en")}
    expected_origin = {"csv": ":2", "tsv": ":2", "jsonl": ":1", "parquet": ":record 1", "excel": ":row 2"}[kind]
    assert segments[0].origin == f"{path}{expected_origin}"


def test_missing_id_column_gives_row_numbers_and_target_only(tmp_path):
    path = write(tmp_path / "t.csv", "mt\nFirst.\nSecond.\n")
    segments = read([path])
    assert [s.id for s in segments] == ["1", "2"]
    assert all(s.source is None and not s.has_source for s in segments)


def test_column_map_and_comet_aliases(tmp_path):
    mapped = write(tmp_path / "m.csv", "key,texte,traduction\nk1,Bonjour,Hello\n")
    [seg] = read([mapped], columns=ColumnMap(source="texte", mt="traduction", id="key"))
    assert (seg.id, seg.source, seg.mt) == ("k1", "Bonjour", "Hello")

    comet = write(tmp_path / "c.jsonl", json.dumps({"src": "Salut", "mt": "Hi", "ref": "Hello"}) + "\n")
    [seg] = read([comet])
    assert (seg.source, seg.mt, seg.reference) == ("Salut", "Hi", "Hello")


def test_mapped_column_that_does_not_exist_is_a_clear_error(tmp_path):
    path = write(tmp_path / "m.csv", "id,source,translation\n1,a,b\n")
    with pytest.raises(InputError) as info:
        read([path])
    assert "no MT column 'mt'" in str(info.value)
    assert "'translation'" in str(info.value) and "--mt-col" in str(info.value)
    with pytest.raises(InputError, match="no source column 'texte'"):
        read([path], columns=ColumnMap(source="texte", mt="translation"))


def test_per_record_languages_win_over_arguments(tmp_path):
    lines = [
        {"id": "1", "lp": "fr-en", "source": "Oui", "mt": "Yes"},
        {"id": "2", "source_lang": "de", "target_lang": "en", "source": "Ja", "mt": "Yes"},
        {"id": "3", "source": "Sí", "mt": "Yes"},
        {"id": "4", "lp": "pt-BR-en-US", "source": "Sim", "mt": "Yes"},
    ]
    path = write(tmp_path / "l.jsonl", "".join(json.dumps(r) + "\n" for r in lines))
    segments = read([path], source_lang="es", target_lang="en")
    assert [(s.source_lang, s.target_lang) for s in segments] == [
        ("fr", "en"), ("de", "en"), ("es", "en"), ("pt-BR", "en-US")]


def test_explicit_language_columns(tmp_path):
    path = write(tmp_path / "l.csv", "id,mt,from,to\n1,Hello,fr,en\n")
    [seg] = read([path], columns=ColumnMap(source=None, source_lang="from", target_lang="to"))
    assert (seg.source_lang, seg.target_lang) == ("fr", "en")


def test_quoted_multiline_field_origin_is_its_first_line(tmp_path):
    path = write(tmp_path / "q.csv", 'id,source,mt\n1,"Deux\nlignes","Two\nlines"\n2,Un,One\n')
    segments = read([path])
    assert segments[0].mt == "Two\nlines"
    assert [s.origin for s in segments] == [f"{path}:2", f"{path}:5"]  # record 1 spans lines 2-4


def test_semicolon_csv_and_tsv_without_quoting(tmp_path):
    semi = write(tmp_path / "s.csv", "id;source;mt\n1;Bonjour, toi;Hello, you\n")
    [seg] = read([semi])
    assert seg.mt == "Hello, you"
    tsv = write(tmp_path / "t.tsv", 'id\tsource\tmt\n1\t« Oui\t"Yes\n2\tNon\tNo\n')
    segments = read([tsv])
    assert [s.mt for s in segments] == ['"Yes', "No"]  # a lone quote does not swallow the next row


def test_gzipped_jsonl(tmp_path):
    path = tmp_path / "f.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "z", "mt": "Zipped"}) + "\n")
    assert [s.mt for s in read([path])] == ["Zipped"]


def test_several_files_get_their_name_as_doc_id(tmp_path):
    a = write(tmp_path / "a.jsonl", json.dumps({"id": "1", "mt": "A"}) + "\n")
    b = write(tmp_path / "b.jsonl", json.dumps({"id": "1", "mt": "B", "doc_id": "own"}) + "\n")
    assert [(s.doc_id, s.mt) for s in read([a, b])] == [("a.jsonl", "A"), ("own", "B")]


# ----------------------------------------------------------------------------------------- stdin


def test_stdin_is_jsonl_by_default():
    stream = io.StringIO('{"id": "s1", "source": "Salut", "mt": "Hi"}\n\n{"id": "s2", "mt": "Bye"}\n')
    segments = read(["-"], stdin=stream)
    assert [(s.id, s.origin) for s in segments] == [("s1", "<stdin>:1"), ("s2", "<stdin>:3")]


def test_stdin_bytes_with_bom_and_latin1_line():
    raw = "\ufeff".encode() + b'{"id": "1", "mt": "caf\xc3\xa9"}\n{"id": "2", "mt": "caf\xe9"}\n'
    stream = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")
    warnings: list[str] = []
    segments = read(["-"], stdin=stream, on_warning=warnings.append)
    assert [s.mt for s in segments] == ["café", "café"]
    assert len(warnings) == 1 and "<stdin>:2" in warnings[0]


def test_stdin_csv_when_told():
    stream = io.StringIO("id,mt\n1,Hello\n")
    [seg] = read(["-"], format="csv", stdin=stream)
    assert (seg.id, seg.mt, seg.origin) == ("1", "Hello", "<stdin>:2")


# ------------------------------------------------------------------------------------- encodings


def test_utf8_bom_and_utf16(tmp_path):
    text = "id,source,mt\n1,Déjà vu,Déjà vu\n"
    bom = write(tmp_path / "bom.csv", "\ufeff" + text)
    utf16 = write(tmp_path / "u16.csv", text, encoding="utf-16")
    for path in (bom, utf16):
        [seg] = read([path])
        assert (seg.id, seg.source) == ("1", "Déjà vu")  # the BOM is not part of the "id" header


def test_latin1_fallback_warns_once_with_the_first_bad_line(tmp_path):
    path = write(tmp_path / "l1.csv", "id,mt\n1,plain\n2,café\n3,naïve\n", encoding="latin-1")
    warnings: list[str] = []
    segments = read([path], on_warning=warnings.append)
    assert [s.mt for s in segments] == ["plain", "café", "naïve"]
    assert len(warnings) == 1
    assert f"{path}:3" in warnings[0] and "not valid UTF-8" in warnings[0]


def test_windows_1252_quotes_survive(tmp_path):
    path = tmp_path / "w.txt"
    path.write_bytes(b"\x93Bonjour\x94 \x96 dit-il\n")
    [seg] = read([path], on_warning=lambda m: None)
    assert seg.mt == "\u201cBonjour\u201d \u2013 dit-il"


def test_utf16_without_bom_is_refused_with_file_and_line(tmp_path):
    path = tmp_path / "nobom.jsonl"
    path.write_bytes('{"mt": "x"}\n'.encode("utf-16-le"))
    with pytest.raises(InputError) as info:
        read([path])
    assert info.value.where == f"{path}:1"
    assert "UTF-16 without a byte-order mark" in str(info.value)


def test_broken_utf16_names_the_line(tmp_path):
    path = tmp_path / "bad16.txt"
    data = "one\ntwo\n".encode("utf-16") + b"\x00\xd8" + "x\n".encode("utf-16-le")  # lone surrogate
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        read([path])
    assert info.value.where == f"{path}:3"


# ----------------------------------------------------------------------------------- bad records


BAD_JSONL = (
    '{"id": "1", "mt": "Good one"}\n'
    "this is not json\n"
    '{"id": "3", "source": "Pas de traduction"}\n'
    '["a", "list"]\n'
    '{"id": "5", "mt": null}\n'
    '{"id": "6", "mt": {"nested": 1}}\n'
    '{"id": "7", "lp": "english", "mt": "x"}\n'
    '{"id": "8", "mt": ""}\n'
)


def test_bad_jsonl_records_are_skipped_and_reported_with_file_and_line(tmp_path):
    path = write(tmp_path / "bad.jsonl", BAD_JSONL)
    bad: list[RecordError] = []
    segments = read([path], on_bad_record=bad.append)
    assert [(s.id, s.mt) for s in segments] == [("1", "Good one"), ("8", "")]
    assert [e.where for e in bad] == [f"{path}:{n}" for n in (2, 3, 4, 5, 6, 7)]
    assert "not a JSON object" in str(bad[0]) and bad[0].fix
    assert "no 'mt' value" in str(bad[1])
    assert all(isinstance(e, RecordError) and e.fix for e in bad)


def test_strict_raises_the_first_bad_record(tmp_path):
    path = write(tmp_path / "bad.jsonl", BAD_JSONL)
    with pytest.raises(RecordError) as info:
        read([path], strict=True)
    assert info.value.where == f"{path}:2"


def test_bad_csv_rows(tmp_path):
    path = write(tmp_path / "bad.csv", "id,source,mt\n1,a,A\n2,b,B,extra\n3,c\n4,d,\n")
    bad: list[RecordError] = []
    segments = read([path], on_bad_record=bad.append)
    assert [(s.id, s.mt) for s in segments] == [("1", "A"), ("4", "")]
    assert [e.where for e in bad] == [f"{path}:3", f"{path}:4"]
    assert "4 fields, but the header has 3" in str(bad[0])


def test_parquet_null_mt_is_a_bad_record(tmp_path):
    import pandas as pd

    path = tmp_path / "n.parquet"
    pd.DataFrame({"mt": ["ok", None, "fine"]}).to_parquet(path, index=False)
    bad: list[RecordError] = []
    segments = read([path], on_bad_record=bad.append)
    assert [s.id for s in segments] == ["1", "3"]  # ids keep the record numbers
    assert [e.where for e in bad] == [f"{path}:record 2"]


def test_bad_records_are_logged_when_no_callback(tmp_path, caplog):
    path = write(tmp_path / "bad.jsonl", '{"mt": "a"}\nnope\n')
    with caplog.at_level("WARNING", logger="tqcheck.io"):
        assert len(read([path])) == 1
    assert f"{path}:2" in caplog.text


# ----------------------------------------------------------------------------- streaming, errors


def test_jsonl_streams_lazily(tmp_path):
    path = write(tmp_path / "big.jsonl", "".join(json.dumps({"id": str(i), "mt": f"s{i}"}) + "\n"
                                                 for i in range(1000)) + "not json\n")
    iterator = read_segments([str(path)], strict=True)
    first = next(iterator)
    assert first.id == "0"  # read before the bad last line was reached


def test_missing_file_and_unknown_extension_fail_before_reading(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_segments([str(tmp_path / "nope.csv")])
    odd = write(tmp_path / "feed.docx", "x")
    with pytest.raises(UsageError) as info:
        read_segments([str(odd)])
    assert "feed.docx" in str(info.value) and "csv, tsv, jsonl" in str(info.value)


def test_a_repeated_id_is_renamed_and_reported_so_no_segment_is_lost(tmp_path):
    path = write(tmp_path / "feed.csv", "id,source,mt\n12,Un,One\n13,Deux,Two\n12,Trois,Three\n12,Quatre,Four\n")
    warnings: list[str] = []
    segs = list(read_segments([path], source_lang="fr", target_lang="en", on_warning=warnings.append))
    assert [s.id for s in segs] == ["12", "13", "12#2", "12#3"]
    assert [s.mt for s in segs] == ["One", "Two", "Three", "Four"]
    # each renamed segment says which id it repeated (the run counts them in one line, not one per row)
    assert [s.metadata.get("repeated_id") for s in segs] == [None, None, "12", "12"]
    assert segs[2].origin.endswith("feed.csv:4")
    # two files both numbered from 1 (no id column) keep both of their first rows
    a = write(tmp_path / "a.txt", "Hello.\n")
    b = write(tmp_path / "b.txt", "World.\n")
    assert len({s.id for s in read_segments([a, b], format="text", target_lang="en",
                                            on_warning=warnings.append)}) == 2


def test_the_compact_id_set_is_exact_across_growth():
    from tqcheck.io import _HashSet64

    ids = _HashSet64(capacity=8)
    assert all(ids.add(f"seg-{i}") for i in range(5000))  # grows many times
    assert not any(ids.add(f"seg-{i}") for i in range(5000))
    assert ids.add("seg-5000")
