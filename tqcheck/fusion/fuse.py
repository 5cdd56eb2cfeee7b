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
F0.5 (see ``tqcheck.fusion.fit``); a signal whose spans never beat chance shows none (it still counts
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

import math
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from tqcheck.fusion.calibration import (
    NOT_FUSED,
    MIN_CHARS_FOR_RISK_FLAG,
    MIN_WORDS_FOR_RISK_FLAG,
    Calibration,
    PairCalibration,
    RiskModel,
    calibration_key,
    load_calibration,
    rule_scores,
    signals_present,
    span_support,
)
from tqcheck.model import Category, Flag, Segment, SegmentResult, Severity, Side, Span, _frozen_mapping
from tqcheck.signals.base import SignalOutput
from tqcheck.text.wordalign import words


@dataclass(frozen=True)
class Evidence:
    """What the fusion is given for one segment: its rule flags and each signal's output."""

    segment: Segment
    rule_flags: tuple[Flag, ...]
    outputs: Mapping[str, SignalOutput] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule_flags", tuple(self.rule_flags))
        object.__setattr__(self, "outputs", _frozen_mapping(self.outputs))

    def scores(self) -> dict[str, float]:
        """Every signal's sentence scores and the rule-flag counts, as the risk model reads them."""
        out: dict[str, float] = {}
        for output in self.outputs.values():
            out.update(output.scores)
        out.update(rule_scores(self.rule_flags))
        return out

    def to_dict(self) -> dict[str, Any]:
        """Lossless JSON: saved evidence refits a calibration without running any engine again."""
        return {"segment": self.segment.to_dict(), "rule_flags": [f.to_dict() for f in self.rule_flags],
                "outputs": {name: out.to_dict() for name, out in self.outputs.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Evidence":
        return cls(Segment.from_dict(data["segment"]), tuple(Flag.from_dict(f) for f in data.get("rule_flags") or ()),
                   {name: SignalOutput.from_dict(out) for name, out in (data.get("outputs") or {}).items()})

    def restricted(self, signals: Iterable[str]) -> "Evidence":
        """The same evidence as if only ``signals`` (and the rule checks) had run."""
        keep = set(signals) | set(NOT_FUSED)
        return Evidence(self.segment, self.rule_flags, {k: v for k, v in self.outputs.items() if k in keep})


class Fusion:
    """Turns rule flags and signal outputs into a ``SegmentResult`` (see the module docstring)."""

    def __init__(self, calibration: Calibration | None = None, *, calibration_id: str | None = None) -> None:
        self.calibration = calibration
        self.calibration_id = calibration_id or (calibration.name if calibration else "none")

    @classmethod
    def load(cls, path: str | Path | None) -> "Fusion":
        """A calibration file, or the shipped default for None (no calibration if none ships)."""
        calibration, calibration_id = load_calibration(path)
        return cls(calibration, calibration_id=calibration_id)

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


