"""XLIFF 1.2 / 2.x and TMX: ids, languages, placeholders and their metadata, write-back, XML bombs."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tqcheck.errors import InputError, RecordError, UsageError
from tqcheck.io import read_segments
from tqcheck.io.xliff import write_xliff

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def read(paths, **kwargs):
    return list(read_segments([str(p) for p in paths], **kwargs))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


XLIFF12 = """<?xml version="1.0" encoding="UTF-8"?>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">
 <file original="page.html" source-language="fr-FR" target-language="en-US" datatype="html">
  <body>
   <group id="g1">
    <trans-unit id="1">
     <source>Cliquez <g id="1">ici</g><x id="2"/> pour <bx id="3" rid="7"/>lire<ex id="4" rid="7"/> la suite.</source>
     <target state="translated">Click <g id="1">here</g> to <bx id="3" rid="7"/>read<ex id="4" rid="7"/> more.</target>
    </trans-unit>
   </group>
   <trans-unit id="2">
     <source>Texte sans traduction.</source>
   </trans-unit>
   <trans-unit id="3" translate="no">
     <source>ACME®</source>
   </trans-unit>
   <trans-unit id="4">
     <source>Prix : <ph id="1">&lt;span class="p"&gt;</ph>{0} €</source>
     <target xml:lang="en-GB">Price: <ph id="1">&lt;span class="p"&gt;</ph>€{0}</target>
   </trans-unit>
  </body>
 </file>
</xliff>
"""

SDLXLIFF = """<?xml version="1.0" encoding="utf-8"?>
<xliff xmlns:sdl="http://sdl.com/FileTypes/SdlXliff/1.0" xmlns="urn:oasis:names:tc:xliff:document:1.2" version="1.2">
 <file original="doc.docx" source-language="fr" target-language="en" datatype="x-sdlfilterframework2">
  <body>
   <trans-unit id="a7">
    <source>Premier. Second.</source>
    <seg-source><mrk mtype="seg" mid="1">Premier.</mrk> <mrk mtype="seg" mid="2">Second <g id="5">gras</g>.</mrk></seg-source>
    <target><mrk mtype="seg" mid="1">First.</mrk> <mrk mtype="seg" mid="2">Second <g id="5">bold</g>.</mrk></target>
   </trans-unit>
  </body>
 </file>
</xliff>
"""  # noqa: E501 - an XLIFF document as a tool writes it


def test_xliff2_sample_ids_languages_and_placeholders():
    segments = read([SAMPLES / "feed.xlf"])
    assert [s.id for s in segments] == ["u1/s1", "u2/s1", "u2/s2", "u3/s1", "u4/s1", "u5/s1", "u6/s1"]
    assert {(s.source_lang, s.target_lang) for s in segments} == {("fr", "en")}
    first = segments[0]
    assert first.source == "Le gouvernement a présenté mardi son {1}projet de budget{/1} pour 2025."
    assert first.mt == "The government presented its {1}draft budget{/1} for 2025 on Tuesday."
    records = first.metadata["placeholders"]["mt"]
    assert [(r["ph"], r["kind"], r["tag"]) for r in records] == [("{1}", "open", "pc"), ("{/1}", "close", "pc")]
    for r in records:
        assert first.mt[r["start"] : r["end"]] == r["ph"]
    assert 'dataRefStart="d1"' in records[0]["xml"]
    assert first.metadata["xliff"] == {"version": "2.1", "file": "f1", "unit": "u1", "segment": "s1",
                                       "state": "translated"}
    assert first.doc_id == "actualites/2025-03-12-budget.html"
    assert first.origin == f"{SAMPLES / 'feed.xlf'}:unit u1"
    lost_tag = segments[3]
    assert "{1/}" in lost_tag.source and "{1/}" not in lost_tag.mt
    assert lost_tag.metadata["placeholders"]["mt"] == []
    assert segments[5].mt == ""  # no target: kept, empty
    assert "u7/s1" not in [s.id for s in segments]  # translate="no"


def test_xliff12_inline_codes_and_languages(tmp_path):
    path = write(tmp_path / "page.xlf", XLIFF12)
    segments = read([path], source_lang="fr", target_lang="en")
    assert [s.id for s in segments] == ["1", "2", "4"]
    one, two, four = segments
    assert one.source == "Cliquez {1}ici{/1}{2/} pour {3}lire{/3} la suite."
    assert one.mt == "Click {1}here{/1} to {3}read{/3} more."  # {2/} lost: the tag check's business
    assert [r["kind"] for r in one.metadata["placeholders"]["source"]] == ["open", "close", "standalone",
                                                                          "begin", "end"]
    assert (one.source_lang, one.target_lang, one.doc_id) == ("fr-FR", "en-US", "page.html")
    assert one.origin == f"{path}:trans-unit 1"
    assert two.mt == "" and two.source == "Texte sans traduction."
    assert four.target_lang == "en-GB"  # the target's own xml:lang wins
    # Literal braces stay text; only the recorded offsets are placeholders.
    assert four.source == "Prix : {1/}{0} €"
    assert [(r["start"], r["end"]) for r in four.metadata["placeholders"]["source"]] == [(7, 11)]


def test_sdlxliff_segments_within_a_trans_unit(tmp_path):
    path = write(tmp_path / "doc.docx.sdlxliff", SDLXLIFF)
    segments = read([path])
    assert [(s.id, s.source, s.mt) for s in segments] == [
        ("a7/1", "Premier.", "First."), ("a7/2", "Second {1}gras{/1}.", "Second {1}bold{/1}.")]


def test_several_files_prefix_ids(tmp_path):
    doc = """<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="fr" trgLang="en">
      <file id="a"><unit id="1"><segment><source>Un</source><target>One</target></segment></unit></file>
      <file id="b"><unit id="1"><segment><source>Deux</source><target>Two</target></segment></unit></file>
    </xliff>"""
    segments = read([write(tmp_path / "two.xlf", doc)])
    assert [s.id for s in segments] == ["a/1/1", "b/1/1"]


def test_language_mismatch_is_warned_and_the_file_wins(tmp_path):
    warnings: list[str] = []
    segments = read([SAMPLES / "feed.xlf"], source_lang="de", target_lang="en", on_warning=warnings.append)
    assert segments[0].source_lang == "fr"
    assert len(warnings) == 1 and "fr->en" in warnings[0]


def test_unit_without_source_is_a_bad_record(tmp_path):
    doc = """<xliff version="1.2"><file source-language="fr" target-language="en"><body>
      <trans-unit id="x"><target>Orphan</target></trans-unit>
      <trans-unit id="y"><source>Oui</source><target>Yes</target></trans-unit></body></file></xliff>"""
    path = write(tmp_path / "nosrc.xlf", doc)
    bad: list[RecordError] = []
    assert [s.id for s in read([path], on_bad_record=bad.append)] == ["y"]
    assert bad[0].where == f"{path}:trans-unit x"


# ------------------------------------------------------------------------------------- write-back


def test_write_back_restores_markup_and_reads_back(tmp_path):
    out = tmp_path / "out.xlf"
    segments = {s.id: s for s in read([SAMPLES / "feed.xlf"])}
    edits = {
        "u1/s1": "The government unveiled its {1}draft budget{/1} for 2025 on Tuesday.",
        "u3/s1": "Read also:{1/}our special report on pension reform.",  # restores the lost <ph>
        "u5/s1": "Negotiations will resume in Brussels next week.",  # creates the missing <target>
    }
    assert write_xliff(SAMPLES / "feed.xlf", out, edits, state="reviewed") == 3
    again = {s.id: s for s in read([out])}
    for key, text in edits.items():
        assert again[key].mt == text
    assert again["u2/s1"].mt == segments["u2/s1"].mt  # untouched
    assert again["u3/s1"].metadata["placeholders"]["mt"][0]["xml"].endswith('dataRef="d3" />')
    assert again["u1/s1"].metadata["xliff"]["state"] == "reviewed"
    raw = out.read_text(encoding="utf-8")
    assert "ns0:" not in raw and 'xmlns="urn:oasis:names:tc:xliff:document:2.0"' in raw
    assert '<pc id="1" dataRefStart="d1" dataRefEnd="d2">draft budget</pc>' in raw


def test_write_back_xliff12_and_errors(tmp_path):
    src = write(tmp_path / "page.xlf", XLIFF12)
    out = tmp_path / "page.out.xlf"
    write_xliff(src, out, {"1": "Click {1}here{/1}{2/} to {3}read{/3} more.", "2": "Untranslated text."})
    again = {s.id: s for s in read([out])}
    assert again["1"].mt == "Click {1}here{/1}{2/} to {3}read{/3} more."
    assert again["2"].mt == "Untranslated text."
    with pytest.raises(InputError, match="never closed") as info:
        write_xliff(src, tmp_path / "bad.xlf", {"1": "Click {1}here to read more."})
    assert info.value.where == "segment 1"
    assert not (tmp_path / "bad.xlf").exists()
    with pytest.raises(InputError, match="not in the file"):
        write_xliff(src, tmp_path / "bad.xlf", {"nope": "x"})


# ------------------------------------------------------------------------------------------- TMX


def test_tmx_sample():
    segments = read([SAMPLES / "feed.tmx"])
    assert [s.id for s in segments] == ["t1", "t2", "t3", "t4", "t5", "t6"]
    assert {(s.source_lang, s.target_lang) for s in segments} == {("fr", "en")}
    assert segments[1].source == "Le festival attire chaque année près de {1}150 000 visiteurs{/1}."
    assert segments[1].mt == "The festival attracts nearly {1}150,000 visitors{/1} every year."
    assert [r["kind"] for r in segments[1].metadata["placeholders"]["mt"]] == ["begin", "end"]
    assert segments[3].mt.endswith("the fire.{1/}")
    assert segments[5].mt == ""  # no English variant: kept, empty
    assert segments[0].origin == f"{SAMPLES / 'feed.tmx'}:tu t1"


def test_tmx_with_several_targets_needs_target_lang(tmp_path):
    doc = """<tmx version="1.4"><header srclang="*all*" segtype="sentence" o-tmf="x" adminlang="en"
      datatype="plaintext" creationtool="t" creationtoolversion="1"/><body>
      <tu><tuv xml:lang="en-US"><seg>Yes</seg></tuv><tuv xml:lang="fr-FR"><seg>Oui</seg></tuv>
          <tuv xml:lang="de-DE"><seg>Ja</seg></tuv></tu></body></tmx>"""
    path = write(tmp_path / "multi.tmx", doc)
    with pytest.raises(UsageError, match="several target languages"):
        read([path], source_lang="en")
    [seg] = read([path], source_lang="en", target_lang="de")
    assert (seg.id, seg.source, seg.mt, seg.source_lang, seg.target_lang) == ("1", "Yes", "Ja", "en-US", "de")


# ----------------------------------------------------------------------------------- hostile XML


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE xliff [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<xliff version="1.2"><file source-language="fr" target-language="en"><body>
<trans-unit id="1"><source>&lol9;</source><target>x</target></trans-unit></body></file></xliff>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE tmx [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<tmx version="1.4"><header srclang="fr"/><body><tu><tuv xml:lang="fr"><seg>&secret;</seg></tuv></tu></body></tmx>
"""


@pytest.mark.parametrize(("name", "doc"), [("bomb.xlf", BILLION_LAUGHS), ("ext.tmx", EXTERNAL_ENTITY)])
def test_entity_declarations_are_refused(tmp_path, name, doc):
    path = write(tmp_path / name, doc)
    with pytest.raises(InputError) as info:
        read([path])
    assert "refused" in str(info.value) and info.value.where == str(path)
    if name.endswith(".xlf"):
        with pytest.raises(InputError, match="refused"):
            write_xliff(path, tmp_path / "out.xlf", {"1": "y"})


def test_doctype_without_entities_is_fine(tmp_path):
    doc = ('<?xml version="1.0"?><!DOCTYPE tmx SYSTEM "tmx14.dtd"><tmx version="1.4"><header srclang="fr"/>'
           '<body><tu><tuv xml:lang="fr"><seg>Oui</seg></tuv><tuv xml:lang="en"><seg>Yes</seg></tuv></tu></body></tmx>')
    assert [s.mt for s in read([write(tmp_path / "d.tmx", doc)])] == ["Yes"]


def test_malformed_xml_names_the_line(tmp_path):
    path = write(tmp_path / "broken.xlf", '<xliff version="1.2">\n<file>\n<body>\n</file></xliff>')
    with pytest.raises(InputError) as info:
        read([path])
    assert info.value.where == f"{path}:4" and "not well-formed" in str(info.value)


def test_wrong_root_element(tmp_path):
    with pytest.raises(InputError, match="not an XLIFF document"):
        read([write(tmp_path / "x.xlf", "<html><body/></html>")])


def test_xliff_from_stdin():
    stream = io.TextIOWrapper(io.BytesIO((SAMPLES / "feed.xlf").read_bytes()), encoding="utf-8")
    segments = read(["-"], format="xliff", stdin=stream)
    assert len(segments) == 7 and segments[0].origin == "<stdin>:unit u1"


def test_parse_is_well_formed_output_for_et():
    ET.fromstring((SAMPLES / "feed.xlf").read_bytes())  # the sample itself is well-formed XML
