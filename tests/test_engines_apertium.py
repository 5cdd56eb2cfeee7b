"""Apertium for real: pivot routing, many sentences per call mapping back one to one."""

from __future__ import annotations

import pytest

from tqcheck.engines.base import Translator
from tqcheck.engines.translate.apertium import ApertiumTranslator, apertium_installed, find_route, mode_graph
from tqcheck.errors import EngineUnavailable

needs_apertium = pytest.mark.skipif(
    not apertium_installed() or "fr-es" not in ApertiumTranslator().modes
    or "spa-eng" not in ApertiumTranslator().modes,
    reason="needs Debian apertium, apertium-fr-es and apertium-eng-spa (scripts/setup.sh)",
)

TRICKY_FR = [
    "Le chat est sur le tapis.",
    "",
    "« Bonjour », dit-il : 3,5 % des 1 200 élèves.",
    "M. Dupont habite à Paris. Il aime le vin.",
    "#Macron @elysee https://t.co/x zorglubix",
    "Ligne sans point",
    'Il a dit "oui" et puis [non] {x} <b>gras</b> \\ fin',
    "1.",
    "...",
    "Ça coûte 12,50 € (environ 13 $).",
    "[",
    "Une ligne\navec un saut de ligne.",
    "   ",
    "La réunion aura lieu le 3 mars 2024 à 14 h 30.",
]


def test_routes_mix_two_and_three_letter_codes():
    graph = mode_graph(["fr-es", "es-fr", "spa-eng", "spa-eng_US", "eng-spa", "eco-es-fr"])
    assert graph[("es", "en")] == "spa-eng"  # the plain mode wins over the _US variant
    assert find_route(graph, "fr", "en") == ["fr-es", "spa-eng"]
    assert find_route(graph, "en-GB", "fra") == ["eng-spa", "es-fr"]
    assert find_route(graph, "fr", "es") == ["fr-es"]
    assert find_route(graph, "fr", "de") is None
    assert find_route(graph, "fr", "en", max_hops=1) is None


def test_among_routes_of_one_length_the_preferred_pivot_wins():
    graph = mode_graph(["fr-es", "es-fr", "spa-eng", "eng-spa", "fra-cat", "cat-fra", "cat-eng", "eng-cat",
                        "eng-deu", "deu-fra"])
    assert find_route(graph, "fr", "en") == ["fra-cat", "cat-eng"]  # PREFERRED_PIVOTS: Catalan first
    assert find_route(graph, "en", "fr", prefer=("es",)) == ["eng-spa", "es-fr"]
    assert find_route(graph, "en", "fr", prefer=("de",)) == ["eng-deu", "deu-fra"]
    assert find_route(graph, "en", "fr", prefer=()) == ["eng-cat", "cat-fra"]  # then alphabetical
    assert find_route(mode_graph(["fr-es", "spa-eng"]), "fr", "en") == ["fr-es", "spa-eng"]  # the only one


@needs_apertium
def test_supports_and_info():
    engine = ApertiumTranslator()
    assert isinstance(engine, Translator)
    assert engine.supports("fr", "en") and engine.supports("en", "fr")
    assert not engine.supports("fr", "de")
    assert ApertiumTranslator("via-es").route("fr", "en") == ["fr-es", "spa-eng"]
    info = engine.info
    assert info.name == "apertium" and "apertium-fr-es" in info.version
    with pytest.raises(EngineUnavailable, match="no Apertium route from fr to de"):
        engine.translate(["Bonjour."], source_lang="fr", target_lang="de")


@needs_apertium
def test_french_to_english_through_spanish():
    out = ApertiumTranslator("via-es").translate(["Le chat est sur le tapis.", "Il aime le vin."],
                                         source_lang="fr", target_lang="en")
    assert out == ["The cat is on the carpet.", "It loves the wine."]


@needs_apertium
def test_english_to_french_through_spanish():
    out = ApertiumTranslator("via-es").translate(["The cat is black.", "I like the house."],
                                         source_lang="en", target_lang="fr")
    assert len(out) == 2
    assert "chat" in out[0] and "noir" in out[0]
    assert "maison" in out[1]


@needs_apertium
def test_a_batch_maps_back_one_to_one():
    engine = ApertiumTranslator()
    batched = engine.translate(TRICKY_FR, source_lang="fr", target_lang="en")
    assert len(batched) == len(TRICKY_FR)
    one_by_one = [engine.translate([text], source_lang="fr", target_lang="en")[0]
                  for text in TRICKY_FR]
    assert batched == one_by_one
    assert batched[1] == "" and batched[12] == ""
    # No unknown-word marks, and hashtags and handles keep their own # and @.
    assert "#Macron" in batched[4] and "@elysee" in batched[4] and "*" not in batched[4]
    assert "zorglubix" in batched[4]
    assert "12,50" in batched[9] and "2024" in batched[13]


@needs_apertium
def test_small_batches_give_the_same_result():
    whole = ApertiumTranslator().translate(TRICKY_FR, source_lang="fr", target_lang="en")
    chunked = ApertiumTranslator(batch_size=3).translate(TRICKY_FR, source_lang="fr",
                                                         target_lang="en")
    assert chunked == whole


@needs_apertium
def test_pinned_pair():
    engine = ApertiumTranslator("fr-es")
    assert engine.supports("fr", "es") and not engine.supports("fr", "en")
    assert engine.translate(["Le chat."], source_lang="fr", target_lang="es") == ["El gato."]
    with pytest.raises(EngineUnavailable, match="not installed"):
        ApertiumTranslator("fr-xx+xx-en").supports("fr", "en")


@needs_apertium
def test_unknown_words_of_the_source():
    engine = ApertiumTranslator("via-es")  # fr-es's analyser (fra-cat's knows "Macron")
    unknown = engine.unknown_words(
        ["Le zorglub mange une pomme.", "", "Le chat dort.", "#Macron a dit blurf."],
        source_lang="fr", target_lang="en")
    assert unknown == [["zorglub"], [], [], ["Macron", "blurf"]]


# -- long-lived mode servers ---------------------------------------------------------------------

ENGLISH = [
    "The caravan of migrants has returned to the United States.",
    "Send them back in return.",
    "They hoped to reach the city after twelve hours of walking.",
    "Can it be limited? It can be.",
    "#Mexico @user 3,000 people (about 40%) said \"no\" [twice] {x} <b>bold</b> \\ end",
    "",
    "The treatment can be difficult in atypical forms.",
]


@needs_apertium
@pytest.mark.parametrize("source_lang,target_lang,texts",
                         [("fr", "en", TRICKY_FR), ("en", "fr", ENGLISH), ("fr", "es", TRICKY_FR)])
def test_servers_give_what_one_apertium_call_per_batch_gives(source_lang, target_lang, texts):
    """The servers keep state between batches only where it does not change a translation: the
    same batches, in any order and after any other batch, come back as a fresh ``apertium`` gives
    them (the HMM tagger, which would remember, is started afresh for each batch)."""
    fresh = ApertiumTranslator(persistent=False)
    served = ApertiumTranslator()
    batches = [texts, texts[3:], texts[:2], list(reversed(texts)), texts[1:2], texts]
    for batch in batches:
        want = fresh.translate(batch, source_lang=source_lang, target_lang=target_lang)
        assert served.translate(batch, source_lang=source_lang, target_lang=target_lang) == want
    assert served._servers and served._server_failures == 0
    served.close()
    assert not served._servers


@needs_apertium
def test_a_dead_server_is_replaced_and_the_batch_still_translated():
    import os
    import signal

    engine = ApertiumTranslator("via-es")
    first = engine.translate(["Le chat dort."], source_lang="fr", target_lang="en")
    for runner in engine._servers.values():
        for part in runner._parts:
            if not isinstance(part, str):
                os.killpg(part._proc.pid, signal.SIGKILL)
                part._proc.wait()
    assert engine.translate(["Le chat dort."], source_lang="fr", target_lang="en") == first
    assert all(runner.alive for runner in engine._servers.values())


@needs_apertium
def test_a_pickled_engine_starts_its_own_servers():
    import pickle

    engine = ApertiumTranslator("via-es")
    engine.translate(["Le chat dort."], source_lang="fr", target_lang="en")
    copy = pickle.loads(pickle.dumps(engine))
    assert copy._servers == {}
    assert copy.translate(["Le chat dort."], source_lang="fr", target_lang="en") == \
        engine.translate(["Le chat dort."], source_lang="fr", target_lang="en")
