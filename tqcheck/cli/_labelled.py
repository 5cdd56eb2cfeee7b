"""What ``tqcheck eval`` and ``tqcheck calibrate`` share: labelled files in, the checker's evidence out.

Running every engine over a labelled file is the expensive part of fitting and measuring (an hour on
two cores without an engine cache); the evidence it leaves (``tqcheck.fusion.Evidence``, one JSON line
per segment) is all that fitting and cross-validation need. ``--evidence FILE`` keeps it: written the
first time, reused while the data files, the configuration and the mode are the same (the file's
first line records them), so that a refit or a new evaluation table takes seconds.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from tqcheck.cli.options import config_from_options
from tqcheck.cli.progress import ProgressBar
from tqcheck.errors import InputError

EVIDENCE_FORMAT = "tqcheck-evidence/1"


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class LabelledRun:
    """Labelled files, the evidence of the checker on them, and how it was made."""

    data: list[Any]  # LabelledData, one per file, in the order given
    labelled: Any  # tqcheck.fusion.fit.Labelled over all of them
    signature: dict[str, Any]
    provenance: list[dict[str, Any]]
    reused: bool


def labelled_run(paths: Sequence[str], *, limit: int | None, target_only: bool, engine_kwargs: dict[str, Any],
                 quiet: bool, evidence_path: str | None, desc: str, split: str | None = None,
                 machine_only: bool = False) -> LabelledRun:
    """Read the labelled files (``machine_only``: without their human translations), run the checker on
    them (or reuse ``evidence_path``), join the labels."""
    from tqcheck.fusion.fit import Labelled
    from tqcheck.fusion.fuse import Evidence
    from tqcheck.fusion.labels import read_labelled
    from tqcheck.run import Checker

    data = [read_labelled(p, limit=limit, split=split, machine_only=machine_only) for p in paths]
    segments = [s for d in data for s in d.all_segments()]
    if target_only:
        segments = [replace(s, source=None) for s in segments]
    checker = Checker(config_from_options(**engine_kwargs))
    provenance = [{"data": str(p), "data_sha256": sha256(p)} for p in paths]
    from tqcheck import __version__

    header = {"type": "evidence", "format": EVIDENCE_FORMAT, "tqcheck_version": __version__,
              "config_hash": checker.config.hash(),
              "data": provenance, "limit": limit, "target_only": target_only}
    if split is not None:
        header["split"] = split
    if machine_only:
        header["machine_only"] = True
    evidence: list[Any] | None = None
    if evidence_path and Path(evidence_path).exists():
        evidence, engines = _read_evidence(evidence_path, header)
        why = "other data or settings"
        if evidence is not None and engines != _engines_now(checker, segments):
            evidence, why = None, "other engines (a model, its revision or its precision changed)"
        if evidence is None and not quiet:
            click.echo(f"tqcheck: {evidence_path} was made with {why}; running the checker again", err=True)
    reused = evidence is not None
    if evidence is None:
        progress = ProgressBar(quiet=quiet, desc=desc, total=len(segments))
        try:
            evidence = checker.evidence(segments, progress=progress.update)
        finally:
            progress.close()
        if evidence_path:
            _write_evidence(evidence_path, header | {"engines": _engine_keys(checker)}, evidence)
    signature = checker.signature(language_pairs={s.language_pair for s in segments}).to_dict()
    if reused:
        signature["evidence"] = str(evidence_path)
    assert evidence is not None
    labelled = Labelled.of([e if isinstance(e, Evidence) else Evidence.from_dict(e) for e in evidence], *data)
    return LabelledRun(data, labelled, signature, provenance, reused)


def _read_evidence(path: str, header: dict[str, Any]) -> tuple[list[Any] | None, list[str] | None]:
    """The evidence kept in ``path`` if it was made from the same data and settings (else None), and the
    keys of the engines that made it (None in files older than that record)."""
    from tqcheck.fusion.fuse import Evidence

    with gzip.open(path, "rt", encoding="utf-8") as fh:
        try:
            first = json.loads(fh.readline() or "{}")
        except json.JSONDecodeError as exc:
            raise InputError("is not an evidence file", where=f"{path}:1",
                             fix="delete it to run the checker again") from exc
        if {k: first.get(k) for k in header} != header:
            return None, None
        return [Evidence.from_dict(json.loads(line)) for line in fh if line.strip()], first.get("engines")


def _engine_keys(checker: Any) -> list[str]:
    return sorted(f"{info.role}|{info.key}" for info in checker.pipeline.engines())


def _engines_now(checker: Any, segments: Sequence[Any]) -> list[str]:
    """The engines a run would use now: the checker run on one segment per language pair and mode (with and
    without a source). Through the engine cache this loads no model while nothing changed; a changed engine
    (a model, its revision, bf16 or not) has another key, so kept evidence is not reused for it."""
    probe: dict[tuple[str, bool], Any] = {}
    for segment in segments:
        probe.setdefault((segment.language_pair, bool((segment.source or "").strip())), segment)
    checker.evidence(list(probe.values()))
    return _engine_keys(checker)


def _write_evidence(path: str, header: dict[str, Any], evidence: Sequence[Any]) -> None:
    from tqcheck.io._atomic import write_atomically

    def produce(fh: Any) -> None:
        with gzip.open(fh, "wt", encoding="utf-8") as out:
            out.write(json.dumps(header, ensure_ascii=False) + "\n")
            for item in evidence:
                out.write(json.dumps(item.to_dict(), ensure_ascii=False, default=str) + "\n")

    write_atomically(Path(path), produce, binary=True)
