"""Fusion: rule flags and signal outputs become one segment's flags and its calibrated risk.

**Risk.** The risk is the probability that the segment has a major or critical error, from a logistic
model over sentence scores (``roundtrip.chrf``, ``fluency.mean``...) and the counts of rule flags by
severity (``rules.minor``, ``rules.major``, ``rules.critical``). The weights come from a calibration
file (``tqcheck calibrate``; the default one ships in ``tqcheck/data/calibration.json``), which holds
one model per language pair *and per set of signals*: a run with only the language model uses the
model fit on exactly that evidence, not a bigger model with holes in it. Choosing a model for a
segment: among the models whose signals all ran, the one with the most signals, the segment's own
language pair before the pooled model (``*``) fit on all pairs. The ``rules`` model (no signal) gives
a rules-only run a calibrated risk too; only without any calibration is the risk None.

**Span candidates** from signals are scored by a span model per signal and language pair (a
logistic model over the candidate's strength, kind, length and its signal's sentence scores, fit on
human error spans: ``SpanModel``), giving the probability that the span is on an error; the flag's
``confidence`` becomes that probability. A candidate is kept when it reaches the signal's span
threshold: the probability from which the kept spans are more precise than chance and best in
F0.5 (see ``tqcheck.calibrate``); a signal whose spans never beat chance shows none (it still counts
in the risk). Without a span model (e.g. a calibration from reviewer decisions) the raw strength is
compared with the threshold; a candidate of a kind the span model never saw (the target-only round
trip) is not shown, its precision being unmeasured. Overlapping candidates are merged into one flag,
led by the most likely candidate (span-model probability, else the signal's measured span
precision), whose message comes first, the others' after it; every supporter's evidence is kept. A signal
the calibration does not know at all (a new signal, not yet calibrated) shows its candidates as
minor flags.

**Severity** of a merged signal flag, decided from calibrated quantities only: *major* when the
segment's risk reaches the model's ``major_threshold`` (the out-of-fold risk best at telling
segments with a major error, by F0.5, and significantly better than the base rate) *and* the lead
candidate's span probability reaches its signal's ``major_span_thresholds`` (the probability best
at landing on human major/critical spans, by F0.5, above chance). Agreement counts through the span
model, which sees how many other sources (signals, rule checks) point at the same characters.
A rare detector (too few candidates in the labelled data for a span model, e.g. the target-only
homograph test) has instead a measured ``rare_major_precision``: the share of its kept candidates
that landed on human major/critical errors. A segment holding such a candidate has a major error
with at least that probability, so its risk is raised to it, and the candidate's flag is major when
that risk reaches the threshold. Without either (a calibration from reviewer decisions) agreement
decides directly: two sources. Otherwise *minor*. Signals never say *critical*; rule checks may. A
high-risk segment where no span reached major gets one segment-level *major* flag (``check="risk"``)
that says so, with the scores as evidence, unless the line is too short for sentence scores to mean
anything (``MIN_WORDS_FOR_RISK_FLAG``).

**Rule flags** pass through unchanged, except that overlapping flags of the same category are
merged (the most severe kept, the others named in its evidence), and a signal flag that overlaps a
rule flag of the same category is folded into it as support.
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
from tqcheck.model import Category, Flag, Segment, SegmentResult, Severity, Side, Span, _frozen_mapping
from tqcheck.signals.base import SignalOutput
from tqcheck.text.wordalign import words

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
# Calibration file


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


# ----------------------------------------------------------------------------------------------------
# Fusion


def _shipped_calibration_text() -> str | None:
    from importlib import resources

    ref = resources.files("tqcheck").joinpath("data/calibration.json")
    try:
        return ref.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


class Fusion:
    """Turns rule flags and signal outputs into a ``SegmentResult`` (see the module docstring)."""

    def __init__(self, calibration: Calibration | None = None, *, calibration_id: str | None = None) -> None:
        self.calibration = calibration
        self.calibration_id = calibration_id or (calibration.name if calibration else "none")

    @classmethod
    def load(cls, path: str | Path | None) -> "Fusion":
        """A calibration file, or the shipped default for None (no calibration if none ships)."""
        if path is None:
            text, where = _shipped_calibration_text(), "tqcheck/data/calibration.json"
            if text is None:
                return cls(None)
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
        return cls(calibration, calibration_id=f"{calibration.name}-{day}-sha:{digest}")

    # -- the one entry point ----------------------------------------------------------------------------

    def fuse(self, segment: Segment, rule_flags: Sequence[Flag],
             outputs: Mapping[str, SignalOutput]) -> SegmentResult:
        scores: dict[str, float] = {}
        artifacts: dict[str, str] = {}
        candidates: list[Flag] = []
        for out in outputs.values():
            scores.update(out.scores)
            artifacts.update(out.artifacts)
            candidates.extend(out.flags)
        scores.update(rule_scores(rule_flags))
        lp = calibration_key(segment)
        available = signals_present(outputs)
        model = self.calibration.select(lp, available, scores) if self.calibration else None
        risk = model.predict(scores) if model else None
        pair = self.calibration.for_pair(lp) if self.calibration else PairCalibration()

        kept = []
        for c in candidates:
            strength = pair.strength(c, scores, span_support(c, candidates, rule_flags))
            if strength >= pair.span_thresholds.get(c.check, -math.inf):
                kept.append(c if c.check not in pair.span_models else _with_confidence(c, strength))
        signal_flags = self._merge_candidates(segment, kept, rule_flags, risk, model, pair)
        if risk is not None:
            risk = max([risk] + [_rare_precision(c, pair) for c in kept])
        flags = _merge_same_category(list(rule_flags), signal_flags)
        if risk is not None and model is not None and risk >= model.major_threshold \
                and not any(f.severity >= Severity.MAJOR for f in flags) \
                and not _too_short_for_a_risk_flag(segment.mt):
            flags.append(self._risk_flag(risk, model, scores))
        flags.sort(key=lambda f: (f.span is None, f.span.side.value if f.span else "",
                                  f.span.start if f.span else 0, -f.severity.rank))
        return SegmentResult(segment, tuple(flags), scores, artifacts,
                             None if risk is None else round(risk, 6))

    # -- pieces ---------------------------------------------------------------------------------------

    def _merge_candidates(self, segment: Segment, kept: list[Flag], rule_flags: Sequence[Flag],
                          risk: float | None, model: RiskModel | None, pair: PairCalibration) -> list[Flag]:
        out = []
        for cluster in _clusters(kept):
            lead = max(cluster, key=lambda f: _precision(f, pair))
            # A rare detector's candidate raises its segment's risk, and so can make its own flag
            # major, never the other spans of the segment: they did not earn it.
            lead_risk = None if risk is None else max([risk] + [_rare_precision(f, pair) for f in cluster])
            high = lead_risk is not None and model is not None and lead_risk >= model.major_threshold
            start = min(f.span.start for f in cluster)  # type: ignore[union-attr]
            end = max(f.span.end for f in cluster)  # type: ignore[union-attr]
            side = lead.span.side  # type: ignore[union-attr]
            text = segment.mt if side is Side.MT else (segment.source or "")
            span = Span(*_trim_to_words(text, start, end), side)
            supporters = sorted({f.check for f in cluster})
            rules = sorted({f.check for f in rule_flags if f.span is not None and f.span.overlaps(span)})
            support = len(supporters) + (1 if rules else 0)
            if lead.check in pair.span_models:
                likely = (lead.confidence or 0.0) >= pair.major_span_thresholds.get(lead.check, math.inf)
            elif lead.check in pair.rare_major_precision:
                likely = True  # measured on major errors; the segment's risk already holds it
            else:
                likely = support >= 2  # no span model (decisions): two sources must agree
            severity = Severity.MAJOR if high and likely else Severity.MINOR
            evidence = dict(lead.evidence)
            evidence.update({"signals": supporters, "support": support})
            if rules:
                evidence["rule_checks"] = rules
            if lead_risk is not None:
                evidence["segment_risk"] = round(lead_risk, 4)
            others = {f.check: dict(f.evidence) | {"message": f.message} for f in cluster
                      if f is not lead and f.check != lead.check}
            if others:
                evidence["also"] = others
            message = lead.message
            seconds = [f.message for f in sorted(cluster, key=lambda f: -_precision(f, pair))
                       if f is not lead and f.check != lead.check]
            if seconds:
                message += ". Also: " + "; ".join(dict.fromkeys(seconds))
            out.append(Flag(lead.check, severity, lead.category, message, span, evidence, lead.confidence))
        return out

    def _risk_flag(self, risk: float, model: RiskModel, scores: Mapping[str, float]) -> Flag:
        used = {name: round(scores[name], 4) for name in model.features if name in scores}
        return Flag(
            "risk", Severity.MAJOR, Category.OTHER,
            f"the signals together put this sentence at a {risk:.0%} chance of a major error "
            f"(flagged from {model.major_threshold:.0%}); no single span stands out, read it whole",
            None, {"segment_risk": round(risk, 4), "major_threshold": model.major_threshold,
                   "signals": list(model.signals), "scores": used},
            confidence=round(risk, 4))


def _trim_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """A merged span without the punctuation and spaces at its edges, when it has words inside: a
    token-level signal that also tags the quote mark before a mistranslation should not move the
    copy editor's highlight onto the quote. Punctuation alone is left as it is."""
    piece = text[start:end]
    if not any(ch.isalnum() for ch in piece):
        return start, end
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return start, end


def _too_short_for_a_risk_flag(mt: str) -> bool:
    return len(words(mt)) < MIN_WORDS_FOR_RISK_FLAG and len(mt.strip()) < MIN_CHARS_FOR_RISK_FLAG


def _precision(flag: Flag, pair: PairCalibration) -> float:
    """How likely a candidate is to be right: its span model's probability (its confidence after
    scoring) when its signal has one, else its signal's measured span precision."""
    if flag.check in pair.span_models:
        return float(flag.confidence or 0.0)
    return float(pair.span_precision.get(flag.check, 0.0))


def _rare_precision(flag: Flag, pair: PairCalibration) -> float:
    """A rare detector's measured share of candidates on major errors (0 for other signals)."""
    if flag.check in pair.span_models:
        return 0.0
    return float(pair.rare_major_precision.get(flag.check, 0.0))


def _clusters(flags: list[Flag]) -> list[list[Flag]]:
    """Groups of candidates whose spans overlap (transitively), on the same side."""
    spanned = sorted((f for f in flags if f.span is not None),
                     key=lambda f: (f.span.side.value, f.span.start, f.span.end))  # type: ignore[union-attr]
    groups: list[list[Flag]] = []
    end = -1
    side = None
    for f in spanned:
        assert f.span is not None
        if groups and f.span.side == side and f.span.start < end:
            groups[-1].append(f)
            end = max(end, f.span.end)
        else:
            groups.append([f])
            side, end = f.span.side, f.span.end
    return groups


def _merge_same_category(rule_flags: list[Flag], signal_flags: list[Flag]) -> list[Flag]:
    """Merge overlapping flags of one category: rules among themselves (most severe kept), then
    signal flags into an overlapping rule flag of their category (the rule flag is more precise)."""
    merged: list[Flag] = []
    for flag in sorted(rule_flags, key=lambda f: -f.severity.rank):
        twin = _same_category_overlap(merged, flag)
        if twin is None:
            merged.append(flag)
            continue
        evidence = dict(twin.evidence)
        evidence["also_flagged_by"] = sorted(set(evidence.get("also_flagged_by", [])) | {flag.check})
        merged[merged.index(twin)] = _with_evidence(twin, evidence)
    for flag in signal_flags:
        twin = _same_category_overlap(merged, flag)
        if twin is None:
            merged.append(flag)
            continue
        evidence = dict(twin.evidence)
        evidence["supported_by"] = sorted(set(evidence.get("supported_by", [])) | {flag.check})
        evidence.setdefault("signal_evidence", {})[flag.check] = dict(flag.evidence)
        merged[merged.index(twin)] = _with_evidence(twin, evidence)
    return merged


def _same_category_overlap(merged: Sequence[Flag], flag: Flag) -> Flag | None:
    """The first of ``merged`` with ``flag``'s category whose span overlaps ``flag``'s."""
    return next((m for m in merged if m.category == flag.category and m.span is not None
                 and flag.span is not None and m.span.overlaps(flag.span)), None)


def _with_confidence(flag: Flag, p: float) -> Flag:
    """The candidate with its calibrated probability of being on an error as its confidence."""
    evidence = dict(flag.evidence)
    evidence["raw_strength"] = flag.confidence
    return Flag(flag.check, flag.severity, flag.category, flag.message, flag.span, evidence, round(p, 4))


def _with_evidence(flag: Flag, evidence: Mapping[str, Any]) -> Flag:
    return Flag(flag.check, flag.severity, flag.category, flag.message, flag.span, evidence, flag.confidence)


def new_calibration_name(prefix: str = "calibration") -> tuple[str, str]:
    """A name and a creation time for a calibration made now."""
    now = _dt.datetime.now(_dt.timezone.utc)
    return f"{prefix}-{now:%Y-%m-%d}", now.isoformat(timespec="seconds")
