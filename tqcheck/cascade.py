"""The cascade: cheap signals on every segment, the expensive ones only where they can change the outcome.

Most segments of a feed are fine, and the cheap stage (the rule checks and the signals the calibration
names in ``Calibration.cascade``, the learned QE model in the shipped one) already gives them a
calibrated risk: the fusion's risk from its model of exactly those signals. A segment whose cheap risk
is below the threshold fit with the calibration (``CascadeRule.threshold`` of its calibration key)
skips the expensive signals (fluency, round trip, embedding...) and is fused on what the cheap stage
found, as if only those signals had run; its evidence and result say so (the artifact
``cascade.skipped`` names the signals not run, ``cascade.cheap_risk`` the risk and the threshold).
Every other segment runs every signal, as ``--thorough`` does for all of them.

Whether a run cascades: ``--thorough`` never; ``--cascade`` whenever the calibration has a threshold;
otherwise as the calibration says (``CascadeRule.default``, set only where the measured losses of every
figure were within the tolerance: benchmarks/cascade_quality.py).

Nothing is skipped when the calibration has no threshold for the segment's key (fit by
benchmarks/cascade_quality.py on cross-validated dev data; a calibration fresh from ``tqcheck calibrate``
has none), or when its cheap risk does not come from the model of exactly the cheap signals (a cheap
signal did not run for this segment): a threshold is only meaningful on the risk it was fit on.
Calibration and evaluation always compute every signal (``Pipeline.evidence`` without a rule).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from tqcheck.fusion.calibration import NOT_FUSED, CascadeRule, calibration_key
from tqcheck.signals.base import SignalOutput

if TYPE_CHECKING:
    from tqcheck.fusion.fuse import Evidence, Fusion
    from tqcheck.signals.base import Signal

#: The output name under which a segment's evidence records what the cascade skipped (no scores, no
#: flags: the fusion passes its artifacts on to the result).
CASCADE = "cascade"
SKIPPED = "cascade.skipped"
CHEAP_RISK = "cascade.cheap_risk"


def active_rule(rule: CascadeRule | None, *, thorough: bool = False, cascade: bool = False) -> CascadeRule | None:
    """The cascade rule a run follows: none when thorough, the calibration's when asked for (``cascade``)
    or when the calibration turns it on by default."""
    if rule is None or thorough:
        return None
    return rule if cascade or rule.default else None


def needs_expensive_stage(cheap_risk: float | None, threshold: float | None) -> bool:
    """Whether a segment goes on to the expensive signals: always, unless a threshold and a cheap risk
    are known and the risk is below the threshold."""
    return threshold is None or cheap_risk is None or cheap_risk >= threshold


def stages(signals: Iterable[Signal], cheap_signals: Iterable[str]) -> tuple[list[Signal], list[Signal]]:
    """The signals split into the cheap stage and the expensive one, each in the given order. Signals
    that never enter the risk (reference metrics against a human reference) cost nothing and are
    always reported, so they are cheap."""
    cheap = set(cheap_signals) | set(NOT_FUSED)
    first: list[Signal] = []
    rest: list[Signal] = []
    for signal in signals:
        (first if signal.name in cheap else rest).append(signal)
    return first, rest


def cheap_risk(fusion: Fusion, evidence: Evidence, cheap_signals: frozenset[str]) -> float | None:
    """The fusion's risk for the cheap stage's evidence, from its model of exactly ``cheap_signals``;
    None if that is not the model the fusion selects (a cheap signal gave no scores for this segment,
    or the calibration has no such model)."""
    scores = evidence.scores()
    model = fusion.risk_model(calibration_key(evidence.segment), evidence.outputs, scores)
    if model is None or frozenset(model.signals) != cheap_signals:
        return None
    return model.predict(scores)


def skip_note(fusion: Fusion, rule: CascadeRule, evidence: Evidence, expensive: Sequence[str]) -> SignalOutput | None:
    """What the evidence of a segment that skips the expensive stage records (None: it runs every signal)."""
    if not expensive:
        return None
    key = calibration_key(evidence.segment)
    threshold = rule.threshold(key, own_fit=fusion.calibration is not None and key in fusion.calibration.pairs)
    risk = None if threshold is None else cheap_risk(fusion, evidence, frozenset(rule.cheap_signals))
    if needs_expensive_stage(risk, threshold):
        return None
    return SignalOutput(artifacts={SKIPPED: ", ".join(expensive), CHEAP_RISK: f"{risk:.4f} < {threshold:.4f}"})
