"""glossary: the reader (CSV, TBX; errors with file:line) and the check (required, DNT, forbidden)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tqcheck.checks.glossary import GlossaryCheck
from tqcheck.errors import InputError
from tqcheck.glossary import load_glossary
from tqcheck.model import Category, Segment, Severity, Side

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "glossary.csv"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def found(check, source, mt, sl="fr", tl="en"):
    segment = Segment("t", mt, source, sl, tl)
    return [(f.span.side.value, f.span.text_in(segment)) for f in check.run(segment)]


# -- reading -----------------------------------------------------------------------------------

def test_sample_glossary_loads():
    glossary = load_glossary(SAMPLE)
    entries = {e.source_terms[0]: e for e in glossary.entries}
    assert entries["Chiapas"].dnt and entries["Chiapas"].case_sensitive
    assert entries["demandeur d'asile"].target_terms == ("asylum seeker", "asylum-seeker")
    assert entries["AFP"].dnt and entries["AFP"].note == "news agency: never translated"
    assert entries["Chiapas"].origin == f"{SAMPLE}:4"


def test_csv_variants(tmp_path):
    path = write(tmp_path, "g.tsv", "term\ttranslation\tsource_lang\ttarget_lang\nasile\tasylum\tfr\ten\n")
    (entry,) = load_glossary(path).entries
    assert entry.target_terms == ("asylum",) and entry.applies_to("fr-FR", "en")
    assert not entry.applies_to("es", "en")
    path = write(tmp_path, "g2.csv", "source;target\n# a comment\n\nasile;asylum\n")
    assert len(load_glossary(path).entries) == 1


@pytest.mark.parametrize("text, where, message", [
    ("", ":1", "the glossary is empty"),
    ("french,english\nasile,asylum\n", ":1", "no source column"),
    ("source,target\nasile,asylum\n,asylum seeker\n", ":3", "empty source term"),
    ("source,target,dnt\nasile,asylum,maybe\n", ":2", "column 'dnt' must be true or false"),
    ("source,target\nasile,asylum,extra\n", ":2", "3 fields where the header has 2"),
])
def test_csv_errors_name_the_line(tmp_path, text, where, message):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(InputError) as info:
        load_glossary(path)
    assert info.value.where == f"{path}{where}" and message in info.value.message


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(InputError, match="glossary file not found"):
        load_glossary(tmp_path / "nope.csv")
    path = tmp_path / "latin1.csv"
    path.write_bytes("source,target\nd\xe9fense,defence\n".encode("latin-1"))
    with pytest.raises(InputError) as info:
        load_glossary(path)
    assert info.value.where == f"{path}:2" and "not UTF-8" in info.value.message


TBX_BASIC = """<?xml version="1.0" encoding="UTF-8"?>
<martif type="TBX-Basic" xml:lang="en">
 <text><body>
  <termEntry id="c1">
   <descrip type="definition">A person seeking international protection.</descrip>
   <langSet xml:lang="fr"><tig><term>demandeur d'asile</term></tig></langSet>
   <langSet xml:lang="en-GB">
    <tig><term>asylum seeker</term></tig>
    <tig><term>asylum applicant</term>
     <termNote type="administrativeStatus">deprecatedTerm-admn-sts</termNote></tig>
   </langSet>
  </termEntry>
 </body></text>
</martif>"""

TBX_V3 = """<?xml version="1.0" encoding="UTF-8"?>
<tbx type="TBX-Basic" style="dca" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2">
 <text><body>
  <conceptEntry id="c7">
   <langSec xml:lang="fr"><termSec><term>frontière</term></termSec></langSec>
   <langSec xml:lang="en"><termSec><term>border</term></termSec>
    <termSec><term>frontier</term>
     <termNote type="administrativeStatus">supersededTerm-admn-sts</termNote></termSec></langSec>
  </conceptEntry>
 </body></text>
</tbx>"""


@pytest.mark.parametrize("text, source_term, good, bad", [
    (TBX_BASIC, "demandeur d'asile", ("asylum seeker",), ("asylum applicant",)),
    (TBX_V3, "frontière", ("border",), ("frontier",)),
])
def test_tbx(tmp_path, text, source_term, good, bad):
    glossary = load_glossary(write(tmp_path, "g.tbx", text))
    (entry,) = glossary.entries_for("fr", "en")
    assert entry.source_terms == (source_term,) and entry.target_terms == good
    assert entry.forbidden == bad
    assert glossary.entries_for("en", "fr")[0].source_terms == good  # either direction
    assert glossary.entries_for("fr", "de") == []


def test_tbx_errors(tmp_path):
    with pytest.raises(InputError, match="invalid TBX/XML"):
        load_glossary(write(tmp_path, "bad.tbx", "<martif><text><body><termEntry>"))
    with pytest.raises(InputError, match="no termEntry/conceptEntry"):
        load_glossary(write(tmp_path, "empty.tbx", "<martif><text><body/></text></martif>"))
    with pytest.raises(InputError, match="without xml:lang"):
        load_glossary(write(tmp_path, "nolang.tbx",
                            "<martif><text><body><termEntry><langSet><tig><term>x</term></tig>"
                            "</langSet></termEntry></body></text></martif>"))


# -- checking ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_check():
    return GlossaryCheck(path=str(SAMPLE))


@pytest.mark.parametrize("source, mt, expected", [
    ("1 700 demandeurs d'asile ont été enregistrés.", "1,700 asylum applicants were registered.",
     [("source", "demandeurs d'asile")]),
    ("Un demandeur d’asile.", "An asylum seeker.", []),               # typographic apostrophe
    ("Deux demandeurs d'asile.", "Two asylum-seekers.", []),            # plural, variant
    ("dans l'État du Chiapas", "in the state of Chiapas", []),
    ("dans l'État du Chiapas", "in the state of Chiapa", [("source", "Chiapas")]),
    ("dans l'État du chiapas", "in the state of Chiapa", []),           # case-sensitive entry
    ("une dépêche AFP", "an AFP dispatch", []),
    ("une dépêche AFP", "an FPA dispatch", [("source", "AFP")]),
    ("la caravane de migrants", "the migrant caravan", []),             # longest entry wins
    ("la caravane et la caravane", "the caravan and the convoy", [("source", "caravane")]),
    ("Pas de terme ici.", "No term here.", []),
])
def test_sample_entries(sample_check, source, mt, expected):
    assert found(sample_check, source, mt) == expected


def test_flag_fields(sample_check):
    segment = Segment("t", "An asylum applicant.", "Un demandeur d'asile.", "fr", "en")
    (flag,) = sample_check.run(segment)
    assert flag.severity is Severity.MAJOR and flag.category is Category.TERMINOLOGY
    assert flag.span.side is Side.SOURCE
    assert flag.evidence["entry"]["target"] == ["asylum seeker", "asylum-seeker"]
    assert flag.evidence["origin"].endswith("glossary.csv:2")
    assert "must be translated as 'asylum seeker / asylum-seeker'" in flag.message


def test_forbidden_terms_flagged_on_the_mt(tmp_path):
    check = GlossaryCheck(path=str(write(tmp_path, "g.tbx", TBX_V3)))
    assert found(check, "à la frontière", "at the frontier") == [("source", "frontière"),
                                                                  ("mt", "frontier")]
    assert found(check, "à la frontière", "at the border") == []


def test_tbx_needs_the_language_pair(tmp_path):
    check = GlossaryCheck(path=str(write(tmp_path, "g.tbx", TBX_V3)))
    assert check.unavailable_reason(Segment("t", "x", "y")) is not None
    assert check.unavailable_reason(Segment("t", "x", "y", "fr", "en")) is None
    with_pair = GlossaryCheck(path=str(write(tmp_path, "g.tbx", TBX_V3)), source_lang="fr",
                              target_lang="en")
    assert with_pair.unavailable_reason(Segment("t", "x", "y")) is None


def test_inflections_can_be_turned_off(tmp_path):
    check = GlossaryCheck(path=str(SAMPLE), inflections=False)
    assert found(check, "Deux demandeurs d'asile.", "Two asylum-seekers.") == []  # not matched
    assert found(check, "Un demandeur d'asile.", "An asylum seekers.") == [("source", "demandeur d'asile")]
