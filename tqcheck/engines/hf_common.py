"""What every transformers-backed engine shares: offline-aware loading, error messages that say
how to get a missing model, device and dtype choice, and the model's exact revision.

Imported only by the transformers engines, and it imports torch/transformers inside functions, so
naming an engine costs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from tqcheck.errors import EngineError, EngineUnavailable, ModelNotFound

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}


def hub_offline() -> bool:
    """True when the user asked transformers/huggingface_hub never to touch the network.

    Read at call time (not import time) so that a test or a caller can set it just before loading.
    """
    return any(os.environ.get(var, "").strip().lower() in _TRUE
               for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def is_local(model: str) -> bool:
    return Path(model).expanduser().exists()


def resolve_device(device: str | None) -> str:
    """``cpu``, ``cuda``, ``cuda:1``, or ``auto`` (cuda when available)."""
    if device in (None, "", "auto"):
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise EngineUnavailable(f"device {device!r} requested but CUDA is not available",
                                    fix="use --device cpu, or install a CUDA build of torch")
    return device


#: CPU flags (Linux ``/proc/cpuinfo``) of native bf16 arithmetic: AVX512-BF16 and Intel AMX.
_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def native_bf16() -> bool:
    """Whether this CPU does bf16 arithmetic natively (AVX512-BF16 or AMX), read from ``/proc/cpuinfo``
    without importing torch (engine cache keys need the answer before any model loads). Elsewhere bf16 is
    emulated and no faster than float32, so engines keep float32 there."""
    global _NATIVE_BF16
    if _NATIVE_BF16 is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as handle:
                flags = next((line.split(":", 1)[1].split() for line in handle if line.startswith("flags")), [])
        except OSError:
            flags = []
        _NATIVE_BF16 = bool(_BF16_FLAGS & set(flags)) and os.environ.get("TQCHECK_BF16", "1") not in ("0", "off")
    return _NATIVE_BF16


_NATIVE_BF16: bool | None = None


def uses_bf16_autocast(device: str | None, dtype: Any = None) -> bool:
    """Whether a float32 engine on ``device`` runs its forward passes under bf16 autocast: on a CPU with
    native bf16 and no dtype asked for. Measured at parity for the offline engines (SmolLM2 and the QE model:
    r >= 0.9998 with float32; e5: cosine >= 0.9998) and 2.3-4x faster (``benchmarks/bf16_parity.py``);
    ``dtype="float32"`` or ``TQCHECK_BF16=0`` turns it off. Engines put it in their revision, so the engine
    cache never mixes the two precisions."""
    return (device or "cpu") == "cpu" and dtype in (None, "auto") and native_bf16()


def with_precision(revision: str | None, bf16: bool) -> str | None:
    """An engine's ``revision`` marked ``bf16`` when it runs under bf16 autocast: the engine cache keys on it."""
    return f"{revision or ''} bf16".strip() if bf16 else revision


def padded(rows: Sequence[Sequence[int]], pad: int) -> tuple[Any, Any]:
    """Token id rows as one right-padded ``(input_ids, attention_mask)`` pair of long tensors."""
    import torch

    width = max(len(ids) for ids in rows)
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for row, ids in enumerate(rows):
        input_ids[row, :len(ids)] = torch.tensor(list(ids), dtype=torch.long)
        mask[row, :len(ids)] = 1
    return input_ids, mask


def bf16_autocast(enabled: bool) -> Any:
    """``torch.autocast`` to bf16 on CPU when ``enabled``, else a context that does nothing."""
    import contextlib

    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16) if enabled else contextlib.nullcontext()


def bf16_linears(model: Any) -> Any:
    """Hold every ``nn.Linear``'s weight and bias in bf16, for a model that runs under bf16 autocast.

    Autocast casts a float32 linear weight to bf16 on every forward pass (or once per ``autocast`` block):
    for SmolLM2, 135M weights read and written again per batch, with the allocations that go with it.
    Stored in bf16 they give the same numbers (the same rounding of the same float32 values; checked
    bit-identical on SmolLM2's token log-probabilities) at no cost per batch. Norms, embeddings and the
    rest stay float32. A weight tied to an embedding (SmolLM2's ``lm_head``) is untied: the embedding keeps
    its float32 copy."""
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            module.weight = torch.nn.Parameter(module.weight.detach().to(torch.bfloat16), requires_grad=False)
            if module.bias is not None:
                module.bias = torch.nn.Parameter(module.bias.detach().to(torch.bfloat16), requires_grad=False)
    return model


def resolve_dtype(dtype: Any, device: str) -> Any:
    """A torch dtype from a name (``float16``, ``bfloat16``, ``float32``) or None for the default:
    float32 on CPU (half precision is slow there), the checkpoint's own dtype on GPU."""
    import torch

    if dtype is None or dtype == "auto":
        return torch.float32 if device == "cpu" else "auto"
    if isinstance(dtype, torch.dtype):
        return dtype
    names = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16,
             "fp16": torch.float16, "half": torch.float16, "bfloat16": torch.bfloat16,
             "bf16": torch.bfloat16}
    try:
        return names[str(dtype).lower()]
    except KeyError:
        raise EngineError(f"unknown dtype {dtype!r}", fix=f"use one of {sorted(names)}") from None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


_NETWORK_NAMES = ("ConnectError", "ConnectionError", "NetworkError", "Timeout", "ReadTimeout",
                  "ConnectTimeout", "gaierror", "ProxyError", "SSLError")


def _network_cause(exc: BaseException) -> BaseException | None:
    for link in _chain(exc):
        if any(type(link).__name__ == name or type(link).__name__.endswith(name)
               for name in _NETWORK_NAMES):
            return link
    return None


def download_hint(model: str) -> str:
    return (f"on a machine with internet run `huggingface-cli download {model}` (or `hf download "
            f"{model}`) and copy its ~/.cache/huggingface here, or point tqcheck to a local "
            "directory that holds the model (hf:/path/to/model)")


def load_hf(model: str, loader: Callable[..., T], *, what: str, **kwargs: Any) -> T:
    """Call ``loader(model, **kwargs)`` (a ``from_pretrained``) and turn its failures into errors
    that say what is missing and how to get it; a network failure reads as a network failure.

    Never trusts remote code; passes ``local_files_only`` when the hub is set offline.
    """
    kwargs.setdefault("trust_remote_code", False)
    local = is_local(model)
    if local:
        model = str(Path(model).expanduser())
    elif hub_offline():
        kwargs["local_files_only"] = True
    try:
        return loader(model, **kwargs)
    except (OSError, ValueError) as exc:
        raise translate_load_error(exc, model, what=what, local=local) from exc


def translate_load_error(exc: BaseException, model: str, *, what: str, local: bool) -> EngineError:
    names = {type(link).__name__ for link in _chain(exc)}
    if local:
        return ModelNotFound(
            f"cannot load the {what} from local directory {model}: {exc}",
            fix="check that the directory holds a complete transformers model (config.json, "
                "weights and tokenizer files), e.g. one saved with save_pretrained",
        )
    if "GatedRepoError" in names:
        return ModelNotFound(f"{what} {model!r} is gated on the Hugging Face hub",
                             fix="accept its licence on the hub, `huggingface-cli login`, "
                                 "then download it")
    if "RepositoryNotFoundError" in names:
        return ModelNotFound(f"there is no {what} named {model!r} on the Hugging Face hub",
                             fix="check the model id (e.g. Helsinki-NLP/opus-mt-fr-en)")
    network = _network_cause(exc)
    if network is not None:
        return ModelNotFound(
            f"{what} {model!r} is not in the local Hugging Face cache and the hub could not be "
            f"reached (network error: {type(network).__name__}: {network})",
            fix=download_hint(model) + "; set HF_HUB_OFFLINE=1 to skip the network",
        )
    if "LocalEntryNotFoundError" in names or hub_offline():
        return ModelNotFound(f"{what} {model!r} is not in the local Hugging Face cache",
                             fix=download_hint(model))
    return EngineError(f"cannot load {what} {model!r}: {type(exc).__name__}: {exc}")


def hub_revision(model: str, config: Any = None) -> str | None:
    """The commit hash of a hub model as loaded, or a fingerprint of a local directory."""
    if is_local(model):
        from tqcheck.engines.provenance import dir_fingerprint

        return dir_fingerprint(Path(model).expanduser())
    commit = getattr(config, "_commit_hash", None) if config is not None else None
    if commit:
        return str(commit)
    return cached_commit(model)


def cached_commit(model: str) -> str | None:
    """The snapshot (commit) of ``model`` in the local hub cache, without any network access."""
    path = cached_file(model, "config.json")
    if path is None:
        return None
    parts = Path(path).parts
    if "snapshots" in parts:
        return parts[parts.index("snapshots") + 1]
    return None


def cached_file(model: str, filename: str) -> str | None:
    """Path of ``filename`` of hub model ``model`` in the local cache, or None. Never networks."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        found = try_to_load_from_cache(model, filename)
    except Exception:  # an invalid repo id, an unreadable cache: not cached, for our purpose
        return None
    return found if isinstance(found, str) else None


class quiet_transformers:
    """Silence transformers' warnings and progress bars while a model loads, then restore them.

    Loading a GGUF prints a dequantization warning and progress bars (one of them a plain tqdm
    that transformers' own switch does not reach, hence the stderr redirect); a command line tool
    should not. Restores the caller's settings, so no global state is changed.
    """

    def __enter__(self) -> quiet_transformers:
        import contextlib
        import io

        from transformers.utils import logging as hf_logging

        self._verbosity = hf_logging.get_verbosity()
        self._bars = hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        self._stderr = contextlib.redirect_stderr(io.StringIO())
        self._stderr.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        from transformers.utils import logging as hf_logging

        self._stderr.__exit__(None, None, None)
        hf_logging.set_verbosity(self._verbosity)
        if self._bars:
            hf_logging.enable_progress_bar()
