"""Results to put in a review store in tests: a handful of real-looking MT artifacts.

Built straight from the model dataclasses (the pipeline is not needed to test the store), with
spans computed from the text so that they always point at the words they name.
"""

from __future__ import annotations

import json
from pathlib import Path

from tqcheck.model import (
    Category,
    EngineInfo,
    Flag,
    RunSignature,
    Segment,
    SegmentResult,
    Severity,
    Side,
    Span,
    Summary,
)

XSS_MT = 'Click <script>alert("x")</script> and <img src=x onerror=alert(1)> now'


def span_of(text: str, needle: str, side: Side = Side.MT) -> Span:
    start = text.index(needle)
    return Span(start, start + len(needle), side)


def signature(created_at: str = "2025-01-15T10:00:00+00:00") -> RunSignature:
    return RunSignature(
        tqcheck_version="0.1.0",
        config_hash="abc123def456",
        engines=(EngineInfo("back_translator", "apertium", None, None, "3.8"),),
        versions={"python": "3.11"},
        language_pairs=("fr-en",),
        created_at=created_at,
    )


def results() -> list[SegmentResult]:
    """Five segments: three with flags of several kinds, one clean, one carrying markup. Every flag
    carries a measured precision, as the fusion gives it."""
    s1 = Segment("s1", mt="He went to the market every morning.",
                 source="Il partait en marche chaque matin.", source_lang="fr", target_lang="en",
                 doc_id="caravan", origin="caravan.xlf:3")
    s2 = Segment("s2", mt="Send them back in return.", source="Leur renvoient-ils en retour ?",
                 source_lang="fr", target_lang="en", doc_id="caravan", origin="caravan.xlf:4")
    s3 = Segment("s3", mt="Follow @ LaurentRaphael1 for 3,000 updates.",
                 source="Suivez @LaurentRaphael1 pour 3 000 nouvelles.", source_lang="fr",
                 target_lang="en", origin="caravan.xlf:5")
    s4 = Segment("s4", mt="The caravan stopped at dusk.", source="La caravane s'arrêta au crépuscule.",
                 source_lang="fr", target_lang="en", origin="caravan.xlf:6")
    s5 = Segment("s5", mt=XSS_MT, source='Cliquez <script>alert("x")</script> maintenant',
                 source_lang="fr", target_lang="en", origin="caravan.xlf:7")
    return [
        SegmentResult(
            s1,
            flags=(Flag("roundtrip", Severity.MAJOR, Category.MISTRANSLATION,
                        "'market' did not come back as 'marche'", span_of(s1.mt, "market"),
                        evidence={"back_translation": "Il allait au marché chaque matin.",
                                  "missing_source_words": ["marche"]}, confidence=0.8,
                        p_error=0.7, p_major=0.5),),
            scores={"roundtrip.chrf": 41.5, "reference.chrf": 55.0},
            artifacts={"back_translation": "Il allait au marché chaque matin.",
                       "pseudo_reference": "He walked every morning."},
            risk=0.81,
        ),
        SegmentResult(
            s2,
            flags=(Flag("forced_decoding", Severity.CRITICAL, Category.MISTRANSLATION,
                        "low probability under the reference model", span_of(s2.mt, "Send them back"),
                        evidence={"token_logprobs": [-7.2, -6.9, -5.1]}, p_error=0.8, p_major=0.6),
                   Flag("punctuation", Severity.MINOR, Category.PUNCTUATION,
                        "question mark lost", span_of(s2.mt, "."), p_error=0.3, p_major=0.02)),
            scores={"roundtrip.chrf": 22.0},
            artifacts={"back_translation": "Renvoyez-les en retour.",
                       "pseudo_reference": "Do they shout back in reply?"},
            risk=0.95,
        ),
        SegmentResult(
            s3,
            flags=(Flag("handles", Severity.MAJOR, Category.LOCALE_CONVENTION,
                        "handle broken by a space", span_of(s3.mt, "@ LaurentRaphael1"),
                        evidence={"source_handle": "@LaurentRaphael1"}, p_error=0.9, p_major=0.4),
                   Flag("numbers", Severity.MINOR, Category.LOCALE_CONVENTION,
                        "number format kept from the source", span_of(s3.mt, "3,000"), p_error=0.6, p_major=0.1),
                   Flag("length_ratio", Severity.MINOR, Category.OTHER, "segment-level finding",
                        p_error=0.2, p_major=0.05)),
            scores={"roundtrip.chrf": 60.0},
            artifacts={},
            risk=0.55,
        ),
        SegmentResult(s4, scores={"roundtrip.chrf": 88.0}, risk=0.05),
        SegmentResult(
            s5,
            flags=(Flag("tags", Severity.MAJOR, Category.MARKUP, "<img> tag added by the MT",
                        span_of(s5.mt, "<img src=x onerror=alert(1)>"),
                        evidence={"html": "<b onmouseover=alert(2)>evidence</b>"}, p_error=0.8, p_major=0.3),),
            artifacts={"back_translation": 'Cliquez <script>alert("x")</script> et maintenant'},
            risk=0.40,
        ),
    ]


def write_report(path: Path, items: list[SegmentResult] | None = None) -> Path:
    """A JSONL report in the format tqcheck.io.reports writes: signature, results, summary."""
    items = results() if items is None else items
    with path.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"type": "signature", **signature().to_dict()}) + "\n")
        for item in items:
            fh.write(json.dumps({"type": "result", **item.to_dict()}) + "\n")
        fh.write(json.dumps({"type": "summary", **Summary.of(items).to_dict()}) + "\n")
    return path
