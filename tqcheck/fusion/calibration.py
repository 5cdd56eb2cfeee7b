"""The calibration file: what the fusion reads to turn evidence into a risk and measured flags.

One ``Calibration`` holds, per calibration key (a language pair such as ``fr-en``, ``fr-en/target-only``
for checking without a source, or the pooled ``*``), the risk models and the span models fit on human
labels (``tqcheck.fusion.fit``), with the provenance of the fit. The features the models read are
defined here too (``rule_scores``, ``span_features``), so that fitting and fusing cannot read a
candidate differently. Plain data and arithmetic only: nothing here imports numpy or scikit-learn.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from tqcheck.errors import ConfigError
from tqcheck.model import Flag, Segment, _frozen_mapping
from tqcheck.signals.base import SignalOutput

#: Signals whose scores are reported but never used in the risk (see tqcheck.signals.reference).
NOT_FUSED = frozenset({"reference"})
RULE_FEATURES = ("rules.minor", "rules.major", "rules.critical")
POOLED = "*"
#: A segment-level risk flag (no span) needs at least this many MT words, or (for scripts written
#: without spaces) this many characters. Sentence scores of a one- or two-word line (a mean
#: surprisal, a chrF, a TER) rest on one or two tokens, and such lines are rarely wrong: in the bio
#: dev data 3 of 124 one- and two-word segments have a major error, against 21 % of the others.
#: Their spans and rule flags are still shown.
MIN_WORDS_FOR_RISK_FLAG = 3
MIN_CHARS_FOR_RISK_FLAG = 20
#: Suffix of the calibration keys of target-only segments (no source): their signals are other signals
#: (the round trip MT -> source language -> MT, QE without a source) with other score distributions, so
#: they are fit and scored apart from the bilingual segments of the same pair.
TARGET_ONLY = "/target-only"
FORMAT = "tqcheck-calibration/1"


def calibration_key(segment: Segment) -> str:
    """Which fit scores a segment: its language pair, suffixed ``/target-only`` without a source."""
    return segment.language_pair + ("" if segment.source is not None else TARGET_ONLY)


def pooled_key(key: str) -> str:
    """The pooled fit a key falls back on: ``*``, or ``*/target-only`` for a target-only key."""
    return POOLED + (TARGET_ONLY if key.endswith(TARGET_ONLY) else "")


def in_fit(key: str, row_key: str) -> bool:
    """Whether a row of ``row_key`` belongs to the fit of ``key`` (its own, or the pooled one of its mode)."""
    return row_key == key or (key.startswith(POOLED) and pooled_key(row_key) == key)


def rule_scores(rule_flags: Iterable[Flag]) -> dict[str, float]:
    counts = {name: 0.0 for name in RULE_FEATURES}
    for flag in rule_flags:
        counts[f"rules.{flag.severity.value}"] += 1.0
    return counts


def signals_present(outputs: Mapping[str, SignalOutput]) -> frozenset[str]:
    """Signals that produced scores for this segment and may enter the risk."""
    return frozenset(name for name, out in outputs.items() if out.scores and name not in NOT_FUSED)



# ----------------------------------------------------------------------------------------------------
# The file


@dataclass(frozen=True)
class RiskModel:
    """A logistic model over standardised features: ``sigmoid(intercept + coef · (x - mean) / scale)``.

    A feature missing from a segment's scores is taken at its training mean (contributes nothing). A
    value outside the range the model was fit on is clipped to it (``low``/``high``: the 1st and 99th
    percentiles of the fitting rows): a linear model must not extrapolate, or a two-word line, shorter
    than anything in the fitting data, gets a risk from a length it never saw.
    """

    signals: tuple[str, ...]
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    major_threshold: float
    cv: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    low: tuple[float, ...] = ()
    high: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "cv", _frozen_mapping(self.cv))

    def fits(self, scores: Mapping[str, float]) -> bool:
        """Whether each of the model's signals has at least one of its features in ``scores``."""
        return all(any(f.startswith(sig + ".") and f in scores for f in self.features)
                   or not any(f.startswith(sig + ".") for f in self.features)
                   for sig in self.signals)

    def predict(self, scores: Mapping[str, float]) -> float:
        z = self.intercept
        bounded = len(self.low) == len(self.high) == len(self.features)
        for i, (name, mu, sd, w) in enumerate(zip(self.features, self.mean, self.scale, self.coef)):
            value = scores.get(name)
            if value is None or not math.isfinite(value):
                continue
            if bounded:
                value = min(max(value, self.low[i]), self.high[i])
            z += w * (value - mu) / (sd or 1.0)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_dict(self) -> dict[str, Any]:
        out = {"signals": list(self.signals), "features": list(self.features),
               "mean": list(self.mean), "scale": list(self.scale), "coef": list(self.coef),
               "intercept": self.intercept, "major_threshold": _json_float(self.major_threshold),
               "cv": dict(self.cv)}
        if self.low:
            out.update(low=list(self.low), high=list(self.high))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RiskModel":
        n = len(data["features"])
        for key in ("mean", "scale", "coef") + (("low", "high") if "low" in data else ()):
            if len(data[key]) != n:
                raise ValueError(f"{key} has {len(data[key])} values for {n} features")
        return cls(tuple(sorted(data["signals"])), tuple(data["features"]),
                   tuple(float(v) for v in data["mean"]), tuple(float(v) for v in data["scale"]),
                   tuple(float(v) for v in data["coef"]), float(data["intercept"]),
                   _from_json_float(data["major_threshold"]), data.get("cv") or {},
                   tuple(float(v) for v in data.get("low") or ()), tuple(float(v) for v in data.get("high") or ()))


def span_support(flag: Flag, candidates: Sequence[Flag], rule_flags: Sequence[Flag]) -> int:
    """How many other sources point at the same characters: other signals' candidates overlapping
    this one, plus one if any rule flag does."""
    if flag.span is None:
        return 0
    others = {c.check for c in candidates
              if c.check != flag.check and c.span is not None and c.span.overlaps(flag.span)}
    rules = any(r.span is not None and r.span.overlaps(flag.span) for r in rule_flags)
    return len(others) + int(rules)


def span_features(flag: Flag, scores: Mapping[str, float], support: int = 0) -> dict[str, float]:
    """What a span model sees of one candidate: its own strength, its kind, its length, how many
    other sources agree on it, and the sentence scores of the signal that raised it (a diff span
    means more where the reference model otherwise agrees, or less: the model learns which, per
    language pair)."""
    feats = {"confidence": float(flag.confidence or 0.0), "support": float(support)}
    if flag.span is not None:
        feats["log_chars"] = math.log1p(len(flag.span))
    kind = flag.evidence.get("kind")
    if kind:
        feats[f"kind={kind}"] = 1.0
    prefix = flag.check + "."
    for name, value in scores.items():
        if name.startswith(prefix) and value is not None and math.isfinite(value):
            feats[name] = float(value)
    return feats


@dataclass(frozen=True)
class SpanModel:
    """P(a candidate span lands on a human-marked error), a logistic model over ``span_features``.
    A missing ``kind=`` feature is 0 (another kind); a missing score is taken at its mean."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    kinds: tuple[str, ...] = ()  # the candidate kinds seen in fitting

    def knows(self, flag: Flag) -> bool:
        """Whether candidates of this flag's kind were among those the model was fit on."""
        kind = flag.evidence.get("kind")
        return not self.kinds or not kind or kind in self.kinds

    def predict(self, feats: Mapping[str, float]) -> float:
        z = self.intercept
        for name, mu, sd, w in zip(self.features, self.mean, self.scale, self.coef):
            value = feats.get(name)
            if value is None:
                value = 0.0 if name.startswith("kind=") else mu
            z += w * (value - mu) / (sd or 1.0)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "mean": list(self.mean), "scale": list(self.scale),
                "coef": list(self.coef), "intercept": self.intercept, "kinds": list(self.kinds)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SpanModel":
        return cls(tuple(data["features"]), tuple(map(float, data["mean"])), tuple(map(float, data["scale"])),
                   tuple(map(float, data["coef"])), float(data["intercept"]), tuple(data.get("kinds") or ()))


@dataclass(frozen=True)
class PairCalibration:
    """Everything fit for one language pair (or ``*``, pooled over pairs)."""

    models: tuple[RiskModel, ...] = ()
    span_thresholds: Mapping[str, float] = field(default_factory=dict, hash=False, compare=False)
    span_precision: Mapping[str, float] = field(default_factory=dict, hash=False, compare=False)
    span_models: Mapping[str, SpanModel] = field(default_factory=dict, hash=False, compare=False)
    major_span_thresholds: Mapping[str, float] = field(default_factory=dict, hash=False, compare=False)
    #: Rare detectors (no span model): the measured share of their kept candidates on major errors.
    rare_major_precision: Mapping[str, float] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "span_thresholds", _frozen_mapping(self.span_thresholds))
        object.__setattr__(self, "span_precision", _frozen_mapping(self.span_precision))
        object.__setattr__(self, "span_models", _frozen_mapping(self.span_models))
        object.__setattr__(self, "major_span_thresholds", _frozen_mapping(self.major_span_thresholds))
        object.__setattr__(self, "rare_major_precision", _frozen_mapping(self.rare_major_precision))

    def strength(self, flag: Flag, scores: Mapping[str, float], support: int = 0) -> float:
        """The calibrated probability that the candidate is on an error, or its raw strength when
        its signal has no span model here."""
        model = self.span_models.get(flag.check)
        if model is None:
            return float(flag.confidence or 0.0)
        if not model.knows(flag):
            return -math.inf  # a kind never measured (e.g. target-only round trip): not shown
        return model.predict(span_features(flag, scores, support))

    def to_dict(self) -> dict[str, Any]:
        return {"models": [m.to_dict() for m in self.models],
                "span_thresholds": {k: _json_float(v) for k, v in self.span_thresholds.items()},
                "span_precision": dict(self.span_precision),
                "span_models": {k: m.to_dict() for k, m in self.span_models.items()},
                "major_span_thresholds": {k: _json_float(v) for k, v in self.major_span_thresholds.items()},
                "rare_major_precision": dict(self.rare_major_precision)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PairCalibration":
        return cls(tuple(RiskModel.from_dict(m) for m in data.get("models") or ()),
                   {k: _from_json_float(v) for k, v in (data.get("span_thresholds") or {}).items()},
                   dict(data.get("span_precision") or {}),
                   {k: SpanModel.from_dict(m) for k, m in (data.get("span_models") or {}).items()},
                   {k: _from_json_float(v) for k, v in (data.get("major_span_thresholds") or {}).items()},
                   {k: float(v) for k, v in (data.get("rare_major_precision") or {}).items()})


def _json_float(v: float) -> float | str:
    return "inf" if v == math.inf else v


def _from_json_float(v: Any) -> float:
    return math.inf if v == "inf" else float(v)


@dataclass(frozen=True)
class Calibration:
    """A calibration file: per-pair models and span thresholds, and how they were made."""

    name: str
    pairs: Mapping[str, PairCalibration]
    created_at: str | None = None
    provenance: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pairs", _frozen_mapping(self.pairs))
        object.__setattr__(self, "provenance", _frozen_mapping(self.provenance))

    def select(self, lp: str, available: frozenset[str],
               scores: Mapping[str, float] | None = None) -> RiskModel | None:
        """The model with the most signals among those that all ran; own pair before pooled.

        ``lp`` is a calibration key (``calibration_key``): a target-only key falls back on the
        pooled target-only fit, never on a bilingual one.

        With ``scores``, a model also needs, for each of its signals, at least one of the features
        it was fit on: a round trip in target-only mode gives other scores than with a source, and
        a model fit on the latter must not read the former as all-missing.
        """
        best: tuple[int, int, RiskModel] | None = None
        for rank, key in ((1, lp), (0, pooled_key(lp))):
            pair = self.pairs.get(key)
            if pair is None:
                continue
            for model in pair.models:
                if set(model.signals) <= available and (scores is None or model.fits(scores)):
                    cand = (len(model.signals), rank, model)
                    if best is None or cand[:2] > best[:2]:
                        best = cand
        return best[2] if best else None

    def for_pair(self, lp: str) -> PairCalibration:
        return self.pairs.get(lp) or self.pairs.get(pooled_key(lp)) or PairCalibration()

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "name": self.name, "created_at": self.created_at,
                "provenance": dict(self.provenance),
                "pairs": {lp: p.to_dict() for lp, p in sorted(self.pairs.items())}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str | None = None) -> "Calibration":
        if data.get("format") != FORMAT:
            raise ConfigError(f"not a tqcheck calibration file (format {data.get('format')!r})",
                              where=where, fix="make one with 'tqcheck calibrate DATA.jsonl -o FILE'")
        try:
            pairs = {lp: PairCalibration.from_dict(p) for lp, p in (data.get("pairs") or {}).items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"invalid calibration: {exc}", where=where,
                              fix="re-run 'tqcheck calibrate'") from exc
        return cls(str(data.get("name") or "calibration"), pairs, data.get("created_at"),
                   data.get("provenance") or {})

    def write(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n",
                              encoding="utf-8")


def _shipped_calibration_text() -> str | None:
    from importlib import resources

    ref = resources.files("tqcheck").joinpath("data/calibration.json")
    try:
        return ref.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def load_calibration(path: str | Path | None) -> tuple[Calibration | None, str]:
    """A calibration file and its id (name, day and content hash), or the shipped default for None
    (``(None, "none")`` if none ships)."""
    if path is None:
        text, where = _shipped_calibration_text(), "tqcheck/data/calibration.json"
        if text is None:
            return None, "none"
    else:
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError("calibration file not found", where=where,
                              fix="make one with 'tqcheck calibrate DATA.jsonl -o FILE'") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON: {exc.msg}", where=where) from exc
    calibration = Calibration.from_dict(data, where=where)
    day = (calibration.created_at or "")[:10] or "undated"
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return calibration, f"{calibration.name}-{day}-sha:{digest}"


def new_calibration_name(prefix: str = "calibration") -> tuple[str, str]:
    """A name and a creation time for a calibration made now."""
    now = _dt.datetime.now(_dt.timezone.utc)
    return f"{prefix}-{now:%Y-%m-%d}", now.isoformat(timespec="seconds")
