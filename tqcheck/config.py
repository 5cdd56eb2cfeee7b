"""Run configuration: which checks and engines, with which thresholds, from TOML and CLI options.

A ``tqcheck.toml`` looks like::

    [checks]
    disable = ["spelling"]          # by check name; or enable = [...] to run only those

    [checks.length_ratio]           # options of one check, passed to its constructor
    max_ratio = 2.5

    [glossary]
    path = "glossary.csv"

    [engines]
    back_translator = "auto"        # a spec (apertium, hf:Helsinki-NLP/opus-mt-en-fr) or "none"
    reference_model = "auto"
    lm = "auto"
    embedder = "auto"
    qe = "auto"

    [run]
    batch_size = 512                # segments per pipeline batch (see DEFAULT_BATCH_SIZE)
    cache = "~/.cache/tqcheck/engines.sqlite"
    thorough = false                # true: every signal on every segment, no cascade (tqcheck.cascade)
    cascade = false                 # true: cascade even where the calibration does not by default

The configuration hash in a run signature is computed from ``to_dict()``, so two runs with the same
hash used the same settings. ``thorough`` and ``cascade`` enter it only when set, so that the hashes of earlier
settings (recorded in evidence files and calibrations, which always run every signal) stay valid; the
cascade's threshold is part of the calibration, whose id the run signature records.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from tqcheck.errors import ConfigError

ENGINE_ROLES = ("back_translator", "reference_model", "lm", "embedder", "qe")


def default_cache_path() -> Path:
    """Where engine outputs are cached; read at call time, never at import."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tqcheck" / "engines.sqlite"


@dataclass(frozen=True)
class EngineConfig:
    """Engine specs by role. ``auto`` picks the best installed engine; ``none`` turns a role off."""

    back_translator: str = "auto"
    reference_model: str = "auto"
    lm: str = "auto"
    embedder: str = "auto"
    qe: str = "auto"
    device: str = "cpu"
    dtype: str | None = None
    beam_size: int = 1
    #: A model revision (branch, tag or commit) for hub models; engines without revisions ignore it.
    revision: str | None = None

    @classmethod
    def rules_only(cls) -> EngineConfig:
        return cls(**{role: "none" for role in ENGINE_ROLES})  # type: ignore[arg-type]  # roles: str fields


#: Segments per pipeline batch. Apertium's modes stay loaded between batches (``ModeServer``), but each
#: call still starts the tagger and the text formatters (about 40 ms for a pivot route), and under the
#: cascade only some of a batch reaches the round trip and the pseudo-reference (41 % on news), so a larger
#: batch gives those calls more sentences, and the neural engines sort a larger pool by length (less
#: padding): with the cascade, 512 ran 1.25x and 256 1.10x as fast as 128 (benchmarks/RESULTS.md, "Pipeline
#: batch size under the cascade"). Results move a little with the batch, as they already did with where the
#: batch boundaries fall (Apertium's output for a sentence depends on the sentences before it in the same
#: call, bf16 rounding on which sentences share an engine batch): 512 against 128 moved risks by at most
#: 0.031 and changed no shown flag on 512 news segments, as much as moving the boundaries of 128 by 64 did.
#: Neural engines batch inside a pipeline batch with their own (smaller) sizes, so memory barely changes;
#: a killed run redoes at most one batch.
DEFAULT_BATCH_SIZE = 512


@dataclass(frozen=True)
class CheckConfig:
    """Everything that decides what a run computes (and so goes into its configuration hash)."""

    enable: tuple[str, ...] | None = None
    disable: tuple[str, ...] = ()
    check_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    glossary: str | None = None
    engines: EngineConfig = field(default_factory=EngineConfig)
    batch_size: int = DEFAULT_BATCH_SIZE
    cache: str | None = None
    calibration: str | None = None
    metrics: bool = True
    #: Every signal on every segment: no cascade (``tqcheck.cascade``), the behaviour before it.
    thorough: bool = False
    #: Cascade with the calibration's threshold even where its rule is not on by default.
    cascade: bool = False

    def __post_init__(self) -> None:
        if self.thorough and self.cascade:
            raise ConfigError("thorough and cascade both set", fix="choose one: thorough runs every signal "
                              "on every segment, cascade skips the expensive ones where the cheap risk is low")

    @property
    def rules_only(self) -> bool:
        return all(getattr(self.engines, role) == "none" for role in ENGINE_ROLES)

    def with_rules_only(self) -> CheckConfig:
        return replace(self, engines=EngineConfig.rules_only())

    def to_dict(self) -> dict[str, Any]:
        out = {
            "enable": list(self.enable) if self.enable is not None else None,
            "disable": list(self.disable),
            "check_options": {k: dict(v) for k, v in self.check_options.items()},
            "glossary": self.glossary,
            "engines": {f.name: getattr(self.engines, f.name) for f in fields(EngineConfig)},
            "batch_size": self.batch_size,
            "calibration": self.calibration,
            "metrics": self.metrics,
        }
        if self.thorough:
            out["thorough"] = True
        if self.cascade:
            out["cascade"] = True
        return out

    def hash(self) -> str:
        """A short, stable hash of the settings (the cache location is not a setting)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    @classmethod
    def from_toml(cls, path: str | Path) -> CheckConfig:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError("configuration file not found", where=str(path)) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {exc}", where=str(path),
                              fix="check the syntax at the line named") from exc
        return cls.from_mapping(data, base_dir=path.parent, where=str(path))

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, base_dir: Path | None = None, where: str | None = None
    ) -> CheckConfig:
        known = {"checks", "glossary", "engines", "run", "calibration"}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown section(s) {sorted(unknown)}", where=where,
                              fix=f"known sections: {sorted(known)}")
        checks = dict(data.get("checks", {}))
        enable = checks.pop("enable", None)
        disable = checks.pop("disable", [])
        options = {name: dict(opts) for name, opts in checks.items() if isinstance(opts, Mapping)}
        glossary = data.get("glossary", {}).get("path")
        if glossary and base_dir is not None and not Path(glossary).is_absolute():
            glossary = str(base_dir / glossary)
        engine_data = dict(data.get("engines", {}))
        engine_names = {f.name for f in fields(EngineConfig)}
        bad = set(engine_data) - engine_names
        if bad:
            raise ConfigError(f"unknown engine setting(s) {sorted(bad)}", where=where,
                              fix=f"known: {sorted(engine_names)}")
        run = dict(data.get("run", {}))
        calibration = data.get("calibration", {}).get("path")
        try:
            return cls(
                enable=tuple(enable) if enable is not None else None,
                disable=tuple(disable),
                check_options=options,
                glossary=glossary,
                engines=EngineConfig(**engine_data),
                batch_size=int(run.get("batch_size", DEFAULT_BATCH_SIZE)),
                cache=run.get("cache"),
                calibration=calibration,
                metrics=bool(run.get("metrics", True)),
                thorough=bool(run.get("thorough", False)),
                cascade=bool(run.get("cascade", False)),
            )
        except ConfigError as exc:
            raise ConfigError(exc.message, where=where, fix=exc.fix) from exc
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"invalid value: {exc}", where=where) from exc
