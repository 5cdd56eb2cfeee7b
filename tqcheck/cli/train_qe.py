"""``tqcheck train-qe``: train the learned QE model (see tqcheck/data/qe/MODEL_CARD.md).

The defaults are the options the shipped weights were trained with; the command prints where the
best weights are and how to ship them. Heavy imports happen inside the command.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command("train-qe")
@click.option("--train-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("../shared/train"),
              show_default=True, help="Folder of the labelled training files (gzip JSONL).")
@click.option("--eval-file", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("../shared/eval/bio_mqm_fr.dev.jsonl"), show_default=True,
              help="Dev file; its source-split selection half chooses checkpoints.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/qe"),
              show_default=True, help="Where checkpoints (last/, best/) and history.json go.")
@click.option("--steps", type=int, default=2400, show_default=True, help="Optimiser steps.")
@click.option("--batch-size", type=int, default=16, show_default=True)
@click.option("--lr", type=float, default=5e-5, show_default=True, help="Learning rate of the encoder layers.")
@click.option("--head-lr", type=float, default=5e-4, show_default=True)
@click.option("--train-layers", type=int, default=6, show_default=True,
              help="Top encoder layers to train (the rest and the embeddings stay frozen).")
@click.option("--max-length", type=int, default=112, show_default=True, help="Tokens per (MT, source) pair.")
@click.option("--seed", type=int, default=13, show_default=True)
@click.option("--val-every", type=int, default=200, show_default=True)
@click.option("--val-rows", type=int, default=400, show_default=True)
@click.option("--threads", type=int, default=2, show_default=True, help="torch CPU threads.")
@click.option("--max-rows-per-file", type=int, default=None, help="Read only this many rows per file (smoke tests).")
@click.option("--max-minutes", type=float, default=None,
              help="Stop (with a checkpoint) after this long; continue later with --resume.")
@click.option("--stop-after", type=int, default=None,
              help="Stop (with a checkpoint) after this step; the schedule still follows --steps.")
@click.option("--resume", is_flag=True, help="Continue from <out>/last.")
@click.option("--source-dropout", type=float, default=0.0, show_default=True,
              help="Share of examples trained without their source (the target-only input).")
@click.option("--init-from", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Start from these weights (e.g. tqcheck/data/qe) with a fresh optimiser and schedule.")
def train_qe(train_dir: Path, eval_file: Path, out_dir: Path, steps: int, batch_size: int, lr: float,
             head_lr: float, train_layers: int, max_length: int, seed: int, val_every: int, val_rows: int,
             threads: int, max_rows_per_file: int | None, max_minutes: float | None, stop_after: int | None,
             resume: bool, source_dropout: float, init_from: Path | None) -> None:
    """Train the learned quality-estimation model on human error labels plus synthetic errors."""
    from tqcheck.errors import InputError
    from tqcheck.qe.train import TrainOptions, train

    if not train_dir.is_dir():
        raise InputError(f"training folder not found: {train_dir}", fix="pass --train-dir")
    if not eval_file.is_file():
        raise InputError(f"dev file not found: {eval_file}", fix="pass --eval-file")
    options = TrainOptions(train_dir=train_dir, eval_file=eval_file, out_dir=out_dir, steps=steps,
                           batch_size=batch_size, lr=lr, head_lr=head_lr, train_layers=train_layers,
                           max_length=max_length, seed=seed, val_every=val_every, val_rows=val_rows,
                           threads=threads, max_rows_per_file=max_rows_per_file,
                           source_dropout=source_dropout, init_from=init_from)
    best = train(options, resume=resume, log=lambda m: click.echo(m, err=True), max_minutes=max_minutes,
                 stop_after=stop_after)
    click.echo(f"best: {best}")
    click.echo(f"ship with: cp {out_dir / 'best'}/* tqcheck/data/qe/")
