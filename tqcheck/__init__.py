"""tqcheck: find machine-translation artifacts that metrics miss, say where and why.

The public API, in the style of sacrebleu and COMET::

    import tqcheck
    result = tqcheck.check(df, source_lang="fr", target_lang="en")   # a DataFrame, dicts, Segments or a path
    result.to_pandas()          # one row per segment, the feed's columns kept, flags nested
    result.flags_frame()        # one row per flag, with its measured precision (p_error, p_major)
    result.summary, result.signature

``Checker`` keeps engines loaded between runs and streams into sinks (reports, the review store).
Importing the package loads nothing heavy: engines, pandas and the UI are imported where used.
"""

from typing import Any

__version__ = "0.1.0"

__all__ = ["check", "CheckResult", "Checker", "CheckConfig", "EngineConfig", "Segment", "SegmentResult",
           "Flag", "Span", "Severity", "Category", "Summary", "RunSignature", "TqcheckError", "__version__"]

_EXPORTS = {
    "check": "tqcheck.run", "CheckResult": "tqcheck.run", "Checker": "tqcheck.run",
    "CheckConfig": "tqcheck.config", "EngineConfig": "tqcheck.config",
    "Segment": "tqcheck.model", "SegmentResult": "tqcheck.model", "Flag": "tqcheck.model",
    "Span": "tqcheck.model", "Severity": "tqcheck.model", "Category": "tqcheck.model",
    "Summary": "tqcheck.model", "RunSignature": "tqcheck.model", "TqcheckError": "tqcheck.errors",
}


def __getattr__(name: str) -> Any:
    # Lazy, so that ``import tqcheck`` (and ``tqcheck --help``) costs nothing.
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tqcheck' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
