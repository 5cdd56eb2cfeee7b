"""The calibration file: what the fusion reads to turn evidence into a risk and measured flags.

One ``Calibration`` holds, per calibration key (a language pair such as ``fr-en``, ``fr-en/target-only``
for checking without a source, or the pooled ``*``), the risk models and the flag model fit on human
labels (``tqcheck.fusion.fit``), with the provenance of the fit, and optionally the cascade's setting
(``CascadeRule``: which signals make the cheap stage and the cheap risk from which a segment goes on to
the expensive signals; see ``tqcheck.cascade``) and the rule checks' own flag model (``RuleChecks``: the
rule checks alone, measured on labelled data far larger than a pair's, since they need no engine). The
features the models read are defined here too (``rule_scores``, ``finding_features``), so that fitting
and fusing cannot read a finding differently. Plain data and arithmetic only: nothing here imports numpy
or scikit-learn.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from tqcheck.errors import ConfigError
from tqcheck.model import Flag, Segment, Side, _frozen_mapping
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
#: Version 2: findings are measured by a ``FlagModel`` (version 1 had per-signal span models and
#: thresholds, which a copy editor could not read as a precision).
FORMAT = "tqcheck-calibration/2"
#: Platt (slope, offset) of the error logit, then of the major logit.
Recalibration = tuple[float, float, float, float]


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
    """A logistic model over standardised features: ``sigmoid(intercept + coef · (x - mean) / scale)``,
    then recalibrated: ``sigmoid(slope · z + offset)`` (Platt scaling fit on out-of-fold predictions,
    so that a risk of 0.6 means six segments in ten have a major error; the ranking loss of DEMETR pairs
    spreads the raw scores wider than the probabilities they stand for).

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
    cv: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    low: tuple[float, ...] = ()
    high: tuple[float, ...] = ()
    slope: float = 1.0
    offset: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "cv", _frozen_mapping(self.cv))

    def fits(self, scores: Mapping[str, float]) -> bool:
        """Whether each of the model's signals has at least one of its features in ``scores``."""
        return all(any(f.startswith(sig + ".") and f in scores for f in self.features)
                   or not any(f.startswith(sig + ".") for f in self.features)
                   for sig in self.signals)

    def predict(self, scores: Mapping[str, float]) -> float:
        return _sigmoid(self.slope * self.raw(scores) + self.offset)

    def raw(self, scores: Mapping[str, float]) -> float:
        """The linear score before recalibration (a logit)."""
        z = self.intercept
        bounded = len(self.low) == len(self.high) == len(self.features)
        for i, (name, mu, sd, w) in enumerate(zip(self.features, self.mean, self.scale, self.coef)):
            value = scores.get(name)
            if value is None or not math.isfinite(value):
                continue
            if bounded:
                value = min(max(value, self.low[i]), self.high[i])
            z += w * (value - mu) / (sd or 1.0)
        return z

    def recalibrated(self, slope: float, offset: float) -> RiskModel:
        from dataclasses import replace

        return replace(self, slope=round(float(slope), 6), offset=round(float(offset), 6))

    def to_dict(self) -> dict[str, Any]:
        out = {"signals": list(self.signals), "features": list(self.features),
               "mean": list(self.mean), "scale": list(self.scale), "coef": list(self.coef),
               "intercept": self.intercept, "slope": self.slope, "offset": self.offset, "cv": dict(self.cv)}
        if self.low:
            out.update(low=list(self.low), high=list(self.high))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RiskModel:
        n = len(data["features"])
        for key in ("mean", "scale", "coef") + (("low", "high") if "low" in data else ()):
            if len(data[key]) != n:
                raise ValueError(f"{key} has {len(data[key])} values for {n} features")
        return cls(tuple(sorted(data["signals"])), tuple(data["features"]),
                   tuple(float(v) for v in data["mean"]), tuple(float(v) for v in data["scale"]),
                   tuple(float(v) for v in data["coef"]), float(data["intercept"]), data.get("cv") or {},
                   tuple(float(v) for v in data.get("low") or ()), tuple(float(v) for v in data.get("high") or ()),
                   float(data.get("slope", 1.0)), float(data.get("offset", 0.0)))


# ----------------------------------------------------------------------------------------------------
# What a finding's precision is measured from


#: Features of a finding (``finding_features``) that are counts or strengths, standardised before
#: fitting; every other feature is a 0/1 indicator, left as it is so that the fit's L2 penalty acts as
#: a prior of one logit unit on each indicator's effect (a check seen five times is not taken at its
#: word: ``tqcheck.fusion.fit``).
CONTINUOUS_PREFIXES = ("strength:", "sources", "log_chars", "risk", "score:")


#: A pair's flag model measures a check it saw at least this often; below, the pooled model does (six
#: numbers flags from two French->English segments are no measurement of the numbers check).
MIN_CHECK_FINDINGS = 20


def is_continuous(feature: str) -> bool:
    return feature.startswith(CONTINUOUS_PREFIXES)


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def finding_features(flag: Flag, segment: Segment, risk: float | None,
                     scores: Mapping[str, float] | None = None) -> dict[str, float]:
    """What the precision model sees of one finding (a merged flag, before it is measured): which
    checks and signals point at it and how strongly (``evidence["sources"]``: check -> raw strength,
    None for a rule check), the candidate kinds, whether a round-trip loss is explained by the
    engine's lexicon, what the rule checks declared, how long the span is and what kind of text it
    covers (``tqcheck.text.spanclass``), the segment's risk, and the sentence scores of the signals
    that point at it (a round-trip loss means more where the round trip otherwise came back well)."""
    from tqcheck.text.spanclass import span_classes

    evidence = flag.evidence
    sources = evidence.get("sources") or {flag.check: flag.confidence}
    feats: dict[str, float] = {"sources": float(len(sources))}
    if len(sources) >= 3:  # agreement is not linear: three or four independent sources on one span
        feats[f"agree={min(len(sources), 4)}"] = 1.0
    for check, strength in sources.items():
        feats[f"check={check}"] = 1.0
        if strength is not None:
            feats[f"strength:{check}"] = float(strength)
    for kind in evidence.get("kinds") or ():
        feats[f"kind={kind}"] = 1.0
    if evidence.get("explained_by"):
        feats["explained"] = 1.0
    declared = evidence.get("rule_severity")
    if declared in ("major", "critical"):
        feats["rule=major"] = 1.0
    if declared == "critical":
        feats["rule=critical"] = 1.0
    if flag.span is None:
        feats["segment_level"] = 1.0
    else:
        feats["log_chars"] = math.log1p(len(flag.span))
        if flag.span.side is Side.SOURCE:
            feats["side=source"] = 1.0
            text, lang, other = segment.source or "", segment.source_lang, None
        else:
            text, lang, other = segment.mt, segment.target_lang, segment.source
        for name in span_classes(text, flag.span.start, flag.span.end, lang=lang, source=other):
            feats[f"class={name}"] = 1.0
    if segment.source is None:
        feats["target_only"] = 1.0
    feats[f"pair={segment.language_pair}"] = 1.0
    if risk is not None:
        feats["risk"] = _logit(risk)
    for name, value in (scores or {}).items():
        if name.split(".", 1)[0] in sources and value is not None and math.isfinite(value):
            feats[f"score:{name}"] = float(value)
    return feats


@dataclass(frozen=True)
class FlagModel:
    """The measured precision of findings: two logistic models over ``finding_features``, one for
    "a human marks an error overlapping it" (``p_error``) and one for "... a major or critical one"
    (``p_major``), fit on human labels (or reviewer decisions) by ``tqcheck.fusion.fit``.

    A feature absent from a finding is 0 for an indicator and its training mean for a count or a
    strength (it contributes nothing); a count or strength is clipped to the range the model was fit
    on (``low``/``high``: the 1st and 99th percentiles), as in ``RiskModel``. ``cv`` holds the
    out-of-fold figures of the fit.
    """

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef_error: tuple[float, ...]
    intercept_error: float
    coef_major: tuple[float, ...]
    intercept_major: float
    cv: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    low: tuple[float, ...] = ()
    high: tuple[float, ...] = ()
    #: Platt recalibration of each logit, fit on out-of-fold predictions (a logistic model over many
    #: indicators is overconfident at its top, where the flags that become major are).
    recalibration: Recalibration = (1.0, 0.0, 1.0, 0.0)
    #: How many findings of each check the model was fit on: a check seen fewer than
    #: ``MIN_CHECK_FINDINGS`` times is measured by the pooled model instead, where one exists.
    counts: Mapping[str, int] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cv", _frozen_mapping(self.cv))
        object.__setattr__(self, "counts", _frozen_mapping(self.counts))

    def seen(self, check: str) -> int:
        """Findings of ``check`` among those the model was fit on (0: it cannot measure that check)."""
        if f"check={check}" not in self.features:
            return 0
        return int(self.counts.get(check, MIN_CHECK_FINDINGS))

    def _z(self, feats: Mapping[str, float], coef: Sequence[float], intercept: float) -> float:
        z = intercept
        bounded = len(self.low) == len(self.high) == len(self.features)
        for i, (name, mu, sd, w) in enumerate(zip(self.features, self.mean, self.scale, coef)):
            value = feats.get(name)
            if value is None or not math.isfinite(value):
                value = mu if is_continuous(name) else 0.0
            elif bounded:
                value = min(max(value, self.low[i]), self.high[i])
            z += w * (value - mu) / (sd or 1.0)
        return z

    def predict(self, feats: Mapping[str, float]) -> tuple[float, float]:
        """(p_error, p_major); p_major never exceeds p_error."""
        se, oe, sm, om = self.recalibration
        p_error = _sigmoid(se * self._z(feats, self.coef_error, self.intercept_error) + oe)
        p_major = _sigmoid(sm * self._z(feats, self.coef_major, self.intercept_major) + om)
        return p_error, min(p_major, p_error)

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "mean": list(self.mean), "scale": list(self.scale),
                "coef_error": list(self.coef_error), "intercept_error": self.intercept_error,
                "coef_major": list(self.coef_major), "intercept_major": self.intercept_major,
                "low": list(self.low), "high": list(self.high), "recalibration": list(self.recalibration),
                "counts": dict(self.counts), "cv": dict(self.cv)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FlagModel:
        n = len(data["features"])
        for key in ("mean", "scale", "coef_error", "coef_major"):
            if len(data[key]) != n:
                raise ValueError(f"{key} has {len(data[key])} values for {n} features")
        return cls(tuple(data["features"]), tuple(map(float, data["mean"])), tuple(map(float, data["scale"])),
                   tuple(map(float, data["coef_error"])), float(data["intercept_error"]),
                   tuple(map(float, data["coef_major"])), float(data["intercept_major"]), data.get("cv") or {},
                   tuple(map(float, data.get("low") or ())), tuple(map(float, data.get("high") or ())),
                   cast(Recalibration, tuple(map(float, data.get("recalibration") or (1.0, 0.0, 1.0, 0.0)))),
                   {str(k): int(v) for k, v in (data.get("counts") or {}).items()})


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True)
class PairCalibration:
    """Everything fit for one calibration key (a language pair, its target-only mode, or pooled)."""

    models: tuple[RiskModel, ...] = ()
    flag_model: FlagModel | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"models": [m.to_dict() for m in self.models],
                "flag_model": self.flag_model.to_dict() if self.flag_model else None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PairCalibration:
        flag_model = data.get("flag_model")
        return cls(tuple(RiskModel.from_dict(m) for m in data.get("models") or ()),
                   FlagModel.from_dict(flag_model) if flag_model else None)


#: Features a rule-check model leaves out: it is fit with no engine and on other language pairs, so
#: it has no segment risk or signal score to read, and a pair it was fit on says nothing of another.
RULE_MODEL_SKIPS = ("risk", "score:", "pair=")


def rule_model_features(features: Mapping[str, float]) -> dict[str, float]:
    """``finding_features`` as the rule checks' own model reads them (``RULE_MODEL_SKIPS`` left out)."""
    return {k: v for k, v in features.items() if not k.startswith(RULE_MODEL_SKIPS)}


@dataclass(frozen=True)
class RuleChecks:
    """The rule checks measured alone, on labelled data of many pairs (``tqcheck calibrate
    --rule-checks``).

    A pair's own fit and the pooled one see a rule check only as often as their data holds it: the
    French<->English development data has two unbalanced brackets and not one URL, handle or hashtag, so
    their findings would keep the severity the check declares, a claim nobody measured. Rule checks need
    no engine, so they can be run on the hundreds of thousands of MQM-labelled segments of other pairs;
    this flag model measures a rule check wherever the pair's own and the pooled fits saw it fewer than
    ``MIN_CHECK_FINDINGS`` times (``Calibration.flag_models``). ``provenance`` names its data and command.
    """

    flag_model: FlagModel
    provenance: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "provenance", _frozen_mapping(self.provenance))

    def to_dict(self) -> dict[str, Any]:
        return {"flag_model": self.flag_model.to_dict(), "provenance": dict(self.provenance)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleChecks:
        return cls(FlagModel.from_dict(data["flag_model"]), data.get("provenance") or {})


@dataclass(frozen=True)
class CascadeRule:
    """The cascade's setting, fit with the calibration whose risks it reads (``tqcheck.cascade``).

    ``cheap_signals`` run on every segment (with the rule checks); a segment whose risk from the model of exactly
    those signals is below ``thresholds[key]`` (its calibration key, else the pooled one for a key without its
    own fit) skips the other signals. A key with no threshold, own or pooled, runs every signal. ``measured``
    says how the threshold was chosen (benchmarks/cascade_quality.py: the command, the share of segments that
    reach the expensive stage, what each figure lost in cross-validation). ``default``: whether runs cascade
    without being asked (``--cascade``): only where the measured losses were within tolerance.
    """

    cheap_signals: tuple[str, ...]
    thresholds: Mapping[str, float]
    measured: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    default: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "cheap_signals", tuple(sorted(self.cheap_signals)))
        object.__setattr__(self, "thresholds", _frozen_mapping(self.thresholds))
        object.__setattr__(self, "measured", _frozen_mapping(self.measured))

    def threshold(self, key: str, *, own_fit: bool = False) -> float | None:
        """The cheap risk from which a segment of calibration key ``key`` runs every signal. The pooled
        threshold holds only for a key scored by the pooled risk models: a key with its ``own_fit`` (laid
        over the file after the threshold was chosen) has risks the pooled threshold was never fit on."""
        if key in self.thresholds:
            return self.thresholds[key]
        return None if own_fit else self.thresholds.get(pooled_key(key))

    def to_dict(self) -> dict[str, Any]:
        return {"cheap_signals": list(self.cheap_signals), "thresholds": dict(self.thresholds),
                "default": self.default, "measured": dict(self.measured)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CascadeRule:
        return cls(tuple(str(s) for s in data["cheap_signals"]),
                   {str(k): float(v) for k, v in (data.get("thresholds") or {}).items()},
                   data.get("measured") or {}, bool(data.get("default", False)))


@dataclass(frozen=True)
class Calibration:
    """A calibration file: per-key risk and flag models, how they were made, and the cascade's setting
    (None: no cascade, every signal on every segment)."""

    name: str
    pairs: Mapping[str, PairCalibration]
    created_at: str | None = None
    provenance: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    cascade: CascadeRule | None = None
    rule_checks: RuleChecks | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "pairs", _frozen_mapping(self.pairs))
        object.__setattr__(self, "provenance", _frozen_mapping(self.provenance))

    def with_cascade(self, cascade: CascadeRule | None) -> Calibration:
        from dataclasses import replace

        return replace(self, cascade=cascade)

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

    def flag_models(self, lp: str) -> tuple[FlagModel, ...]:
        """The flag models for a calibration key: own, pooled, then the rule checks' own model."""
        models = tuple(pair.flag_model for key in dict.fromkeys((lp, pooled_key(lp)))
                       if (pair := self.pairs.get(key)) is not None and pair.flag_model is not None)
        return models + ((self.rule_checks.flag_model,) if self.rule_checks is not None else ())

    def with_rule_checks(self, rule_checks: RuleChecks | None) -> Calibration:
        from dataclasses import replace

        return replace(self, rule_checks=rule_checks)

    def flag_model(self, lp: str) -> tuple[FlagModel | None, str | None]:
        """The flag model for a calibration key and the key it came from (own, else pooled)."""
        for key in (lp, pooled_key(lp)):
            pair = self.pairs.get(key)
            if pair is not None and pair.flag_model is not None:
                return pair.flag_model, key
        return None, None

    def to_dict(self) -> dict[str, Any]:
        out = {"format": FORMAT, "name": self.name, "created_at": self.created_at,
               "provenance": dict(self.provenance),
               "pairs": {lp: p.to_dict() for lp, p in sorted(self.pairs.items())}}
        if self.cascade is not None:
            out["cascade"] = self.cascade.to_dict()
        if self.rule_checks is not None:
            out["rule_checks"] = self.rule_checks.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str | None = None) -> Calibration:
        if data.get("format") == "tqcheck-calibration/1":
            raise ConfigError("a calibration of an older tqcheck (format 1: per-signal span thresholds)",
                              where=where, fix="re-run 'tqcheck calibrate' to measure every flag's precision")
        if data.get("format") != FORMAT:
            raise ConfigError(f"not a tqcheck calibration file (format {data.get('format')!r})",
                              where=where, fix="make one with 'tqcheck calibrate DATA.jsonl -o FILE'")
        try:
            pairs = {lp: PairCalibration.from_dict(p) for lp, p in (data.get("pairs") or {}).items()}
            cascade = CascadeRule.from_dict(data["cascade"]) if data.get("cascade") else None
            rule_checks = RuleChecks.from_dict(data["rule_checks"]) if data.get("rule_checks") else None
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"invalid calibration: {exc}", where=where,
                              fix="re-run 'tqcheck calibrate'") from exc
        return cls(str(data.get("name") or "calibration"), pairs, data.get("created_at"),
                   data.get("provenance") or {}, cascade, rule_checks)

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
    (``(None, "none")`` if none ships, or for the path ``"none"``)."""
    if str(path) == "none":
        return None, "none"
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
    now = _dt.datetime.now(_dt.UTC)
    return f"{prefix}-{now:%Y-%m-%d}", now.isoformat(timespec="seconds")
