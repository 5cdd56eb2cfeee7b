"""Known false-alarm classes removed where they arise (issue 18, item 3), on hand-made cases: the
language model's surprise at names, numbers, dates and handles; round-trip losses that one engine's
lexicon explains; and the span classes both rest on."""

from __future__ import annotations

import pytest
from _signal_fakes import TableLM, TableTranslator

from tqcheck.model import Segment
from tqcheck.signals import EngineSlot
from tqcheck.signals.fluency import FluencySignal
from tqcheck.signals.roundtrip import RoundTripSignal
from tqcheck.text.spanclass import date_names, span_classes


def seg(mt: str, source: str | None = None) -> Segment:
    return Segment(id="s", mt=mt, source=source, source_lang="fr", target_lang="en")


@pytest.mark.parametrize("text, word, source, expected", [
    ("They left Huixtla on Friday at dawn.", "Huixtla", "Ils ont quitté Huixtla vendredi.", {"name", "copied"}),
    ("They left Huixtla on Friday at dawn.", "Friday", None, {"name", "date"}),
    ("The march lasted until October.", "October", None, {"name", "date"}),
    ("About 3,000 people came.", "3,000", None, {"number"}),
    ("Follow @LaurentRaphael1 now.", "@LaurentRaphael1", None, {"link", "number", "name"}),
    ("See #caravana today.", "#caravana", None, {"link"}),
    ("Send them back in return.", "Send", None, {"initial"}),
    ("They walked for twelve hours.", "walked", None, set()),
    ("The case of the mother.", "of the", None, {"function"}),
    ("Well , he said.", ",", None, {"punct"}),
])
def test_span_classes(text, word, source, expected):
    start = text.index(word)
    assert span_classes(text, start, start + len(word), lang="en", source=source) == expected


def test_date_names_come_from_cldr_for_any_locale():
    assert {"octobre", "vendredi"} <= date_names("fr") and {"oktober", "freitag"} <= date_names("de-AT")
    assert date_names(None) == frozenset() and date_names("xx") == frozenset()


def spikes(mt: str, source: str | None, surprising: dict[str, float]) -> list[str]:
    lm = TableLM(surprising, default=-3.0)
    out = FluencySignal(EngineSlot.of(lm, role="lm")).compute([seg(mt, source)])[0]
    return [f.span.text_in(seg(mt, source)) for f in out.flags]


def test_fluency_is_not_surprised_by_names_numbers_dates_or_handles():
    mt = "The migrants left Huixtla on Friday with 7000 others, says @LaurentRaphael1 of the local radio."
    surprising = {"Huixtla": -12.0, "Friday": -11.0, "7000": -11.0, "@": -12.0, "LaurentRaphael1": -12.0,
                  "radio": -11.5}
    source = "Les migrants ont quitté Huixtla vendredi avec 7000 autres, dit @LaurentRaphael1."
    assert spikes(mt, source, surprising) == ["radio"]  # only the plain word is a suspect
    # without a source nothing is "copied", but a name, a date, a number and a handle still are not suspects
    assert spikes(mt, None, surprising) == ["Huixtla", "radio"]


SOURCE = "Les migrants ont quitté la ville après une centaine de kilomètres."
MT = "The migrants left the city after 100 kilometres."


def roundtrip(table: dict) -> list:
    signal = RoundTripSignal(EngineSlot.of(TableTranslator(table), role="translator"))
    return list(signal.compute([seg(MT, SOURCE)])[0].flags)


BASE = {("en", "fr"): {MT: "Les migrants négligent la ville après 100 kilomètres.",
                       "migrants": "migrants", "left": "négligent", "city": "ville", "kilometres": "kilomètres"},
        ("fr", "en"): {"quitté": "left", "centaine": "hundred"}}


def test_a_loss_the_forward_translation_explains_is_marked():
    # Apertium reads "left" back as "négligent" (the adjective), but "quitté" itself translates to
    # "left": the MT renders the source word; the reverse lookup went astray.
    flags = {f.evidence["source_word"]: f for f in roundtrip(BASE)}
    assert flags["quitté"].evidence["explained_by"] == "forward_translation"
    assert flags["quitté"].evidence["source_word_translates_to"] == "left"


def test_a_number_word_lost_next_to_a_number_is_marked():
    flags = {f.evidence["source_word"]: f for f in roundtrip(BASE)}
    assert flags["centaine"].evidence["explained_by"] == "number"


def test_a_word_the_engine_does_not_know_is_marked_and_a_real_loss_is_not():
    table = {("en", "fr"): {**BASE[("en", "fr")], "left": "left"}, ("fr", "en"): {"centaine": "hundred"}}
    flags = {f.evidence["source_word"]: f for f in roundtrip(table)}
    assert flags["quitté"].evidence["explained_by"] == "unknown_word"  # "left" came back as "left"
    real = {("en", "fr"): {**BASE[("en", "fr")]}, ("fr", "en"): {"quitté": "abandoned", "centaine": "hundred"}}
    flags = {f.evidence["source_word"]: f for f in roundtrip(real)}
    assert "explained_by" not in flags["quitté"].evidence  # nothing explains it: a real suspect
