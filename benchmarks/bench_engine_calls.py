"""Apertium mode servers, the faster TER and SmolLM2's log-probabilities: before and after, one process (issue 13).

Why: each of the three gives the engines' outputs unchanged (or to 2e-6), so the calibration stays valid,
and each is measured here against what it replaced, in turns in the same process: on this 2-core VM the
speed of the whole machine drifts by 10-25% within minutes, so two benchmark runs minutes apart cannot
show a change of that size.

    .venv/bin/python benchmarks/bench_engine_calls.py [--n 256] [--record]

- Apertium: one call of 1, 16 and 128 sentences, ``ApertiumTranslator(persistent=False)`` (one
  ``apertium`` pipeline per call, as before) against the mode servers; outputs compared.
- TER: sacrebleu's ``TER(normalized=True)`` against ``tqcheck.text.ter.ter_metric`` on the round trip's
  pairs (the source against Apertium's back-translation of the MT); scores compared.
- SmolLM2: the float32 normaliser over a whole batch's logits at once against ``token_logprobs`` (8
  positions at a time), on the same logits; log-probabilities compared.
"""

from __future__ import annotations

import time

import _common as C


def main() -> None:
    import torch
    from sacrebleu.metrics import TER

    from tqcheck.engines.hf_common import bf16_autocast, padded
    from tqcheck.engines.lm.hf_causal import SmolLM2, token_logprobs
    from tqcheck.engines.translate.apertium import ApertiumTranslator
    from tqcheck.text.ter import ter_metric

    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=None, help="segments (default 256; 32 with --quick)")
    args = p.parse_args()
    n = args.n or (32 if args.quick else 256)
    pairs = C.load_pairs()[:n]
    sources, mts = [s for s, _ in pairs], [m for _, m in pairs]
    section = C.Section("Apertium mode servers, faster TER, chunked log-probabilities: before and after (issue 13)")
    table = C.Table(["what", "items", "before (ms/item)", "after (ms/item)", "speed-up", "outputs"])

    before, after = ApertiumTranslator(persistent=False), ApertiumTranslator()
    for source_lang, target_lang, texts in (("en", "fr", mts), ("fr", "en", sources)):
        after.translate(texts[:2], source_lang=source_lang, target_lang=target_lang)  # start the servers
        for size in sorted({min(size, len(texts)) for size in (1, 16, 128)}):
            langs = {"source_lang": source_lang, "target_lang": target_lang}
            old_ms, old = C.ms_per(lambda c=texts[:size], k=langs: before.translate(c, **k), size, repeat=3)
            new_ms, new = C.ms_per(lambda c=texts[:size], k=langs: after.translate(c, **k), size, repeat=3)
            same = sum(a == b for a, b in zip(old, new))  # type: ignore[arg-type]
            table.add(f"Apertium {source_lang}->{target_lang} ({'+'.join(after.route(source_lang, target_lang))}),"
                      f" one call of {size}", size, old_ms, new_ms, f"{old_ms / new_ms:.1f}x",
                      f"{same} of {size} equal")

    back = after.translate(mts, source_lang="en", target_lang="fr")
    plain, fast = TER(normalized=True), ter_metric(normalized=True)
    old_ms, old = C.ms_per(lambda: [plain.sentence_score(h, [r]).score for h, r in zip(back, sources)], n)
    new_ms, new = C.ms_per(lambda: [fast.sentence_score(h, [r]).score for h, r in zip(back, sources)], n)
    same = sum(a == b for a, b in zip(old, new))  # type: ignore[arg-type]
    table.add("TER (normalized) of source vs back-translation", n, old_ms, new_ms, f"{old_ms / new_ms:.1f}x",
              f"{same} of {n} equal")

    lm = SmolLM2()
    lm.token_scores(mts[:8], lang="en")
    encoded = sorted((lm._encode(text) for text in mts), key=lambda item: len(item[0]))
    old_total = new_total = 0.0
    differ = tokens = 0
    with torch.inference_mode(), bf16_autocast(lm.bf16):
        for start in range(0, len(encoded), lm.batch_size):
            batch = encoded[start:start + lm.batch_size]
            ids, mask = padded([item[0] for item in batch], lm.tokenizer.pad_token_id or 0)
            logits = lm.model(input_ids=ids, attention_mask=mask).logits
            t0 = time.perf_counter()
            whole = logits[:, :-1].float()
            picked = whole.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            old_rows = picked - torch.logsumexp(whole, dim=-1)
            t1 = time.perf_counter()
            new_rows = [token_logprobs(logits[row, :len(item[0]) - 1], ids[row, 1:len(item[0])])
                        for row, item in enumerate(batch)]
            t2 = time.perf_counter()
            old_total, new_total = old_total + t1 - t0, new_total + t2 - t1
            for row, item in enumerate(batch):
                a, b = old_rows[row, :len(item[0]) - 1], new_rows[row]
                differ += int((a != b).sum())
                tokens += len(b)
    table.add("SmolLM2 log p(token) from the logits (per segment)", n, 1000 * old_total / n, 1000 * new_total / n,
              f"{old_total / new_total:.1f}x", f"{tokens - differ} of {tokens} token log-probs equal"
              + (f" (the others within {2e-6:g})" if differ else ""))

    section.tables.append((None, table))
    section.notes += [
        f"Inputs: {C.describe_pairs(pairs)}.",
        "Apertium and TER rows: the best of 3 runs (TER: 1 run), each configuration in turn; Apertium's servers "
        "were started before timing (the first call of an engine starts them, once per process).",
        "SmolLM2 row: the time to turn one batch's bf16 logits into token log-probabilities, without the "
        "forward pass (the same logits for both), batches of 8 sorted by length.",
    ]
    C.finish(section, args)


if __name__ == "__main__":
    main()
