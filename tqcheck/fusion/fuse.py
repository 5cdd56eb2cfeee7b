"""Fusion: one segment's evidence becomes its calibrated risk and its flags, each one measured.

**Risk.** The probability that the segment has a major or critical error, from a logistic model over
sentence scores (``roundtrip.chrf``, ``fluency.mean``...) and the counts of rule flags by declared
severity (``rules.minor``...). The weights come from a calibration file (``tqcheck calibrate``; the
default one ships in ``tqcheck/data/calibration.json``), which holds one model per calibration key
*and per set of signals*: a run with only the language model uses the model fit on exactly that
evidence. Choosing a model: among the models whose signals all ran, the one with the most signals, the
segment's own key before the pooled one (``*``). Only without any calibration is the risk None.

**Findings.** Every rule flag and every signal candidate is a claim about some characters. Claims on
overlapping characters (of the same side, MT or source) are one finding: one flag per cause, never
five stacked on a word. Spans are snapped to whole words and tokens (a QE tag on half of
``#Mexico`` covers the hashtag) and trimmed of edge punctuation. A finding whose only support is a
round-trip loss that the engine's lexicon explains (``evidence["explained_by"]``, see
``tqcheck.signals.roundtrip``) is dropped: unless another signal or a rule check agrees, it is the
engine's blind spot, not the MT's error.

**Measured precision.** Each finding is then measured by the calibration's ``FlagModel`` (fit on
human error spans: ``tqcheck.fusion.fit``): ``p_error``, the probability that a human marks an error
overlapping it, and ``p_major``, a major or critical one, from which checks point at it and how
strongly, the kind of text it covers, its length and the segment's risk. Severity follows the
measurement, with floors fixed here and documented: **major** from ``MAJOR_FLOOR`` (the shown majors land
on a human major error at least 40 % of the time; critical where a rule check declared critical), **minor** from
``SHOW_FLOOR`` (right at least half of the time), and below that a **hint**, kept in the JSONL report and
the store, out of the default views and of ``--fail-on``. The finding's message is its most precise
member's (a rule check's before a signal's on a tie), followed, where a signal leads, by the reasons of
the rule checks on the same characters (the model says *that*, the rule *what*); the others are in its
evidence. A finding the calibration never measured (a
check or signal it does not know, or no flag model at all) keeps a rule check's declared severity
and is a hint when it comes from a signal: a flag nobody measured is a hint.

**Segment-level risk flag.** A segment whose risk reaches ``MAJOR_FLOOR`` but where no finding was
measured major gets one segment-level flag (``check="risk"``) saying so, with ``p_major`` = the risk
(the risk model is calibrated), unless the line is too short for sentence scores to mean anything
(``MIN_WORDS_FOR_RISK_FLAG``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqcheck.fusion.calibration import (
    MIN_CHARS_FOR_RISK_FLAG,
    MIN_CHECK_FINDINGS,
    MIN_WORDS_FOR_RISK_FLAG,
    NOT_FUSED,
    Calibration,
    FlagModel,
    RiskModel,
    calibration_key,
    finding_features,
    load_calibration,
    rule_scores,
    signals_present,
)
from tqcheck.model import Category, Flag, Segment, SegmentResult, Severity, Side, Span, _frozen_mapping
from tqcheck.signals.base import SignalOutput
from tqcheck.text.tokens import tokens_of
from tqcheck.text.wordalign import words

#: ``p_major`` from which a finding (or a segment's risk) is major. Chosen on the dev data by measurement
#: (benchmarks/major_floor.py; RESULTS.md, "Major floor"), by one rule: the middle of the range of floors at
#: which the shown majors land on a human major/critical error at least 40 % of the time in both directions
#: (cross-validated). With the DEMETR pair weight at 0.2 that range is 0.34-0.36 (French->English
#: 0.404-0.414, English->French 0.683-0.696; 0.33 and 0.37 give 0.39 fr-en): 0.35, where fr-en majors reach
#: 0.159 of the segments with a human major error and en-fr 0.191. At the top French->English risks no
#: longer sort majors from the rest, so a higher floor only hides majors; 0.5 (the issue's aim) would show
#: a third of them.
MAJOR_FLOOR = 0.35
#: ``p_error`` from which a finding is shown (minor); below it, a hint: right less often than not.
SHOW_FLOOR = 0.5
#: Token kinds a span is snapped to as a whole (a tag on half a hashtag covers the hashtag).
_WHOLE_TOKENS = frozenset({"word", "number", "url", "email", "handle", "hashtag", "placeholder"})


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
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(Segment.from_dict(data["segment"]), tuple(Flag.from_dict(f) for f in data.get("rule_flags") or ()),
                   {name: SignalOutput.from_dict(out) for name, out in (data.get("outputs") or {}).items()})

    def restricted(self, signals: Iterable[str]) -> Evidence:
        """The same evidence as if only ``signals`` (and the rule checks) had run."""
        keep = set(signals) | set(NOT_FUSED)
        return Evidence(self.segment, self.rule_flags, {k: v for k, v in self.outputs.items() if k in keep})


class Fusion:
    """Turns one segment's evidence into a ``SegmentResult`` (see the module docstring)."""

    def __init__(self, calibration: Calibration | None = None, *, calibration_id: str | None = None) -> None:
        self.calibration = calibration
        self.calibration_id = calibration_id or (calibration.name if calibration else "none")

    @classmethod
    def load(cls, path: str | Path | None) -> Fusion:
        """A calibration file, or the shipped default for None (no calibration if none ships)."""
        calibration, calibration_id = load_calibration(path)
        return cls(calibration, calibration_id=calibration_id)

    # -- the one entry point ----------------------------------------------------------------------------

    def fuse(self, segment: Segment, rule_flags: Sequence[Flag],
             outputs: Mapping[str, SignalOutput]) -> SegmentResult:
        scores, artifacts = _gather(outputs, rule_flags)
        key = calibration_key(segment)
        model = self.risk_model(key, outputs, scores)
        risk = model.predict(scores) if model else None
        models = self.calibration.flag_models(key) if self.calibration else ()
        flags = [measure(f, segment, risk, models, scores) for f in self.findings(segment, rule_flags, outputs)]
        if risk is not None and risk >= MAJOR_FLOOR and not _too_short_for_a_risk_flag(segment.mt) \
                and not any(f.severity >= Severity.MAJOR and not f.hint for f in flags):
            flags.append(_risk_flag(risk, model, scores))
        flags.sort(key=lambda f: (f.span is None, f.span.side.value if f.span else "",
                                  f.span.start if f.span else 0, -f.severity.rank))
        return SegmentResult(segment, tuple(flags), scores, artifacts, None if risk is None else round(risk, 6))

    # -- pieces ---------------------------------------------------------------------------------------

    def risk_model(self, key: str, outputs: Mapping[str, SignalOutput],
                   scores: Mapping[str, float]) -> RiskModel | None:
        if self.calibration is None:
            return None
        return self.calibration.select(key, signals_present(outputs), scores)

    def findings(self, segment: Segment, rule_flags: Sequence[Flag],
                 outputs: Mapping[str, SignalOutput]) -> list[Flag]:
        """Every claim about the segment merged into findings, not yet measured (see the module
        docstring): the flags ``measure`` turns into a result's flags, and what fitting labels.

        Rule checks point at exactly what they mean (a broken ``@ handle``): only signal candidates
        are snapped to whole tokens, rule flags on the same characters are one finding, and signal
        candidates on a rule finding's characters support it without moving its span (a QE tag over
        a whole tweet does not glue two hashtag findings into one)."""
        signal_claims = [_snapped(f, segment) if f.span is not None else f
                         for name, out in outputs.items() if name not in NOT_FUSED for f in out.flags]
        rules = {id(f) for f in rule_flags}
        out = [_finding([c], segment, rules) for c in (*rule_flags, *signal_claims) if c.span is None]
        rule_clusters = _clusters([f for f in rule_flags if f.span is not None])
        support: list[list[Flag]] = [[] for _ in rule_clusters]
        for cluster in _clusters([c for c in signal_claims if c.span is not None]):
            hits = [i for i, rule_cluster in enumerate(rule_clusters) if _cluster_overlap(rule_cluster, cluster)]
            for i in hits:  # the signals agree with a rule check: support for its finding, on its span
                support[i].extend(cluster)
            if not hits and not all(c.evidence.get("explained_by") for c in cluster):
                out.append(_finding(cluster, segment, rules))  # (an explained loss alone: the engine's blind spot)
        out += [_finding(rule_cluster + extra, segment, rules) for rule_cluster, extra in zip(rule_clusters, support)]
        return out


def _gather(outputs: Mapping[str, SignalOutput], rule_flags: Sequence[Flag]) -> tuple[dict[str, float], dict[str, str]]:
    scores: dict[str, float] = {}
    artifacts: dict[str, str] = {}
    for out in outputs.values():
        scores.update(out.scores)
        artifacts.update(out.artifacts)
    scores.update(rule_scores(rule_flags))
    return scores, artifacts


def _finding(cluster: Sequence[Flag], segment: Segment, rules: set[int]) -> Flag:
    """One unmeasured finding from overlapping claims (``rules``: the ids of the rule checks' flags):
    the union span, every source with its strength (None for a rule check), the candidate kinds,
    what the rule checks declared. Its lead (message, category) is provisional: ``measure`` re-chooses
    it by measured precision."""
    from_rules = [c for c in cluster if id(c) in rules]
    lead = (max(from_rules, key=lambda c: c.severity.rank) if from_rules
            else max(cluster, key=lambda c: c.confidence or 0.0))
    sources: dict[str, float | None] = {}
    for c in cluster:
        strength = None if id(c) in rules else float(c.confidence or 0.0)
        if c.check not in sources or (strength is not None and strength > (sources[c.check] or 0.0)):
            sources[c.check] = strength
    evidence: dict[str, Any] = dict(lead.evidence)
    evidence["sources"] = sources
    kinds = sorted({f"{c.check}:{c.evidence['kind']}" for c in cluster if c.evidence.get("kind")})
    if kinds:
        evidence["kinds"] = kinds
    explained = [c.evidence["explained_by"] for c in cluster if c.evidence.get("explained_by")]
    if explained and len(explained) == sum(1 for c in cluster if c.check == "roundtrip"):
        evidence["explained_by"] = explained[0]
    else:
        evidence.pop("explained_by", None)
    if from_rules:
        evidence["rule_severity"] = max((c.severity for c in from_rules), key=lambda s: s.rank).value
    others = {c.check: {"message": c.message, "category": c.category.value, **dict(c.evidence)}
              for c in cluster if c is not lead and c.check != lead.check}
    if others:
        evidence["also"] = others
    span = None
    if lead.span is not None:
        placed = [c.span for c in (from_rules or cluster) if c.span is not None]
        span = Span(min(p.start for p in placed), max(p.end for p in placed), lead.span.side)
    return Flag(lead.check, lead.severity, lead.category, lead.message, span, evidence, lead.confidence)


def measure(finding: Flag, segment: Segment, risk: float | None, models: Sequence[FlagModel] | FlagModel | None,
            scores: Mapping[str, float] | None = None) -> Flag:
    """The finding with its measured ``p_error`` and ``p_major`` and the severity they give (see the
    module docstring); unmeasured: a rule check's declared severity, a signal's hint. ``models`` are
    tried in order (the segment's own key, the pooled one, the rule checks' own model): the first that
    saw the finding's check ``MIN_CHECK_FINDINGS`` times measures it, else the last that saw it at all,
    so a check a pair's data barely showed gets the pooled measurement. Models that know every check
    and signal behind the finding come first: an unbalanced quote the QE model also marks is measured
    by a model that has seen the QE's agreement, not by the rule checks' model, blind to it."""
    if isinstance(models, FlagModel):
        models = (models,)
    knowing = [m for m in models or () if m.seen(finding.check)]
    sources = finding.evidence.get("sources") or {}
    knowing = [m for m in knowing if all(m.seen(check) for check in sources)] or knowing
    model = next((m for m in knowing if m.seen(finding.check) >= MIN_CHECK_FINDINGS), knowing[-1] if knowing else None)
    declared = finding.evidence.get("rule_severity")
    check, category, message = _best_lead(finding, segment, risk, model, scores)
    evidence = _led_by(finding, check)
    message = _with_rule_reasons(message, check, evidence)
    if model is None or f"check={check}" not in model.features:
        hint = declared is None
        severity = Severity(declared) if declared else Severity.MINOR
        return Flag(check, severity, category, message, finding.span, evidence, finding.confidence, hint=hint)
    p_error, p_major = model.predict(finding_features(finding, segment, risk, scores))
    if p_major >= MAJOR_FLOOR:
        severity = Severity.CRITICAL if declared == "critical" else Severity.MAJOR
    else:
        severity = Severity.MINOR
    hint = p_error < SHOW_FLOOR and p_major < MAJOR_FLOOR
    return Flag(check, severity, category, message, finding.span, evidence, finding.confidence,
                round(p_error, 4), round(p_major, 4), hint)


def _best_lead(finding: Flag, segment: Segment, risk: float | None, model: FlagModel | None,
               scores: Mapping[str, float] | None = None) -> tuple[str, Category, str]:
    """(check, category, message) of the finding's most precise source: each source measured alone
    when there is a flag model, a rule check before a signal otherwise."""
    also = finding.evidence.get("also") or {}
    if model is None or not also:
        return finding.check, finding.category, finding.message
    sources = finding.evidence.get("sources") or {}
    best = (-1.0, finding.check, finding.category, finding.message)
    candidates = [(finding.check, finding.category, finding.message)] + [
        (check, _category_of(info, finding.category), str(info.get("message", ""))) for check, info in also.items()]
    for check, category, message in candidates:
        if f"check={check}" not in model.features:
            continue  # never measured: it cannot lead a measured finding
        alone = Flag(check, Severity.MINOR, category, message, finding.span,
                     {"sources": {check: sources.get(check)}}, None)
        p_error, _ = model.predict(finding_features(alone, segment, risk, scores))
        if p_error > best[0] + 1e-9:
            best = (p_error, check, category, message)
    return best[1], best[2], best[3]


def _with_rule_reasons(message: str, check: str, evidence: Mapping[str, Any]) -> str:
    """A signal's message followed by the reasons of the rule checks that point at the same characters.

    A signal that leads (it was measured the more precise) often says only *that* something is wrong
    ("the learned quality model marks it"); a rule check there says *what* ("unbalanced quotes: '\"' is
    never closed", "unknown word 'mv'"). The copy editor gets both in the one line they read; the rule
    checks' own records stay under ``also``."""
    sources = evidence.get("sources") or {}
    if sources.get(check, 0.0) is None:
        return message  # a rule check leads: its message already says what is wrong
    also = evidence.get("also") or {}
    reasons = [str(also[name].get("message", "")) for name in sorted(also)
               if name in sources and sources[name] is None and also[name].get("message")]
    return "; ".join([message, *reasons]) if reasons else message


#: Evidence keys that describe the whole finding, not its lead.
_FINDING_KEYS = ("sources", "kinds", "explained_by", "rule_severity")


def _led_by(finding: Flag, check: str) -> dict[str, Any]:
    """The finding's evidence with ``check`` as its lead: the lead's own evidence first, every other
    source (the old lead included) under ``also``."""
    evidence = dict(finding.evidence)
    if check == finding.check:
        return evidence
    also = dict(evidence.pop("also", {}) or {})
    new_lead = dict(also.pop(check, {}))
    new_lead.pop("message", None)
    new_lead.pop("category", None)
    shared = {k: evidence[k] for k in _FINDING_KEYS if k in evidence}
    old_lead = {k: v for k, v in evidence.items() if k not in _FINDING_KEYS}
    also[finding.check] = {"message": finding.message, "category": finding.category.value, **old_lead}
    return {**new_lead, **shared, "also": also}


def _category_of(info: Mapping[str, Any], default: Category) -> Category:
    value = info.get("category")
    try:
        return Category(value) if value else default
    except ValueError:
        return default


def _risk_flag(risk: float, model: RiskModel | None, scores: Mapping[str, float]) -> Flag:
    used = {name: round(scores[name], 4) for name in (model.features if model else ()) if name in scores}
    return Flag(
        "risk", Severity.MAJOR, Category.OTHER,
        f"this sentence has a {risk:.0%} chance of a major error, but no single word stands out: read it whole",
        None, {"segment_risk": round(risk, 4), "signals": list(model.signals) if model else [], "scores": used},
        confidence=round(risk, 4), p_error=round(risk, 4), p_major=round(risk, 4))


def _snapped(flag: Flag, segment: Segment) -> Flag:
    """The claim trimmed of edge punctuation and spaces, then widened to whole tokens (a hashtag keeps
    its ``#``)."""
    assert flag.span is not None
    text = segment.mt if flag.span.side is Side.MT else (segment.source or "")
    start, end = _trim_to_words(text, min(flag.span.start, len(text)), min(flag.span.end, len(text)))
    for token in tokens_of(text):
        if token.kind not in _WHOLE_TOKENS or token.end <= start:
            continue
        if token.start >= end:
            break
        if token.start < start < token.end:
            start = token.start
        if token.start < end < token.end:
            end = token.end
    if (start, end) == (flag.span.start, flag.span.end):
        return flag
    return Flag(flag.check, flag.severity, flag.category, flag.message, Span(start, end, flag.span.side),
                flag.evidence, flag.confidence, flag.p_error, flag.p_major, flag.hint)


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


def _cluster_overlap(a: Sequence[Flag], b: Sequence[Flag]) -> bool:
    return any(x.span is not None and y.span is not None and x.span.overlaps(y.span) for x in a for y in b)


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
