"""An opus-mt-sized back-translator: transformers ``generate`` against CTranslate2 int8, fixed output length.

Why: users with real opus-mt weights (Helsinki-NLP/opus-mt-en-fr, -fr-en) run them through tqcheck's
``hf:`` or ``ct2:`` engine; this says what speed to expect from each backend and which to pick. The
model is a MarianMTModel of opus-mt's exact shape (d_model 512, 6+6 layers, 8 heads, FFN 2048, vocabulary
58,101, random weights); a sentencepiece model trained on the inputs tokenises the French sources.
Every backend decodes greedily exactly ``--out-len`` tokens (default 40), so speed does not depend on
when a random model would have stopped.

Rows: raw transformers ``generate`` (float32), raw CTranslate2 ``translate_batch`` (int8 by default), and
tqcheck's own wrappers over the same saved model (``hf:DIR`` and ``ct2:DIR`` through the engine
registry) where they exist, to show what the wrappers add.

    .venv/bin/python benchmarks/bench_marian.py [--quick] [--record] [--n 160] [--device cuda]
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import traceback
from pathlib import Path

import _common as C
from _baselines import build_marian_dir, convert_ct2, fix_output_length


def hf_generate(folder: Path, sources, *, batch_size: int, out_len: int, device: str, dtype: str | None):
    import torch
    from transformers import MarianMTModel, MarianTokenizer

    start = time.perf_counter()
    tok = MarianTokenizer.from_pretrained(folder)
    model = MarianMTModel.from_pretrained(folder, dtype=getattr(torch, dtype) if dtype else None).to(device).eval()
    load_s = time.perf_counter() - start

    def run() -> int:
        produced = 0
        order = sorted(range(len(sources)), key=lambda i: len(sources[i]))  # length-sorted, as tqcheck does
        with torch.inference_mode():
            for chunk in C.chunks(order, batch_size):
                enc = tok([sources[i] for i in chunk], return_tensors="pt", padding=True, truncation=True,
                          max_length=256).to(device)
                out = model.generate(**enc, num_beams=1, do_sample=False, min_new_tokens=out_len,
                                     max_new_tokens=out_len)
                produced += int((out[:, 1:] != tok.pad_token_id).sum())
        return produced

    if device.startswith("cuda"):
        run_warm = sources[:batch_size]
        with torch.inference_mode():
            model.generate(**tok(list(run_warm), return_tensors="pt", padding=True).to(device),
                           max_new_tokens=2)
    timing, produced = C.timed(run, len(sources))
    return timing, load_s, produced / len(sources)


def ct2_translate(ct2_dir: Path, hf_dir: Path, sources, *, batch_size: int, out_len: int, device: str,
                  compute_type: str):
    import ctranslate2
    from transformers import MarianTokenizer

    start = time.perf_counter()
    tok = MarianTokenizer.from_pretrained(hf_dir)
    translator = ctranslate2.Translator(str(ct2_dir), device="cuda" if device.startswith("cuda") else "cpu",
                                        compute_type=compute_type, inter_threads=1,
                                        intra_threads=0 if device.startswith("cuda") else C.nproc())
    load_s = time.perf_counter() - start
    tokens = [tok.convert_ids_to_tokens(tok(s, truncation=True, max_length=256).input_ids) for s in sources]

    def run() -> int:
        results = translator.translate_batch(tokens, max_batch_size=batch_size, beam_size=1,
                                             min_decoding_length=out_len, max_decoding_length=out_len,
                                             batch_type="examples")
        return sum(len(r.hypotheses[0]) for r in results)

    timing, produced = C.timed(run, len(sources))
    return timing, load_s, produced / len(sources)


def tqcheck_engine(spec: str, sources, *, device: str, batch_size: int, out_len: int):
    """tqcheck's wrapper over the same saved model, through the engine registry, as users call it."""
    from tqcheck.engines.registry import load_engine

    start = time.perf_counter()
    options: dict = {"batch_size": batch_size}
    if device != "cpu":
        options["device"] = device
    if spec.startswith("hf:"):
        # max_new_tokens caps the new tokens; the saved generation config sets min_new_tokens, so
        # every sentence decodes exactly out_len tokens (sources are cut at 256, as in the raw run).
        options.update(max_length=256, max_new_tokens=out_len)
    else:  # ct2: max_decoding_length = max_new_tokens - 1 (one step is kept for the end token)
        options.update(max_length=256, max_new_tokens=out_len + 1)
    engine = load_engine("translator", spec, **options)
    engine.translate(list(sources[:2]), source_lang="fr", target_lang="en")  # loads the weights
    load_s = time.perf_counter() - start
    timing, outputs = C.timed(lambda: engine.translate(list(sources), source_lang="fr", target_lang="en"),
                              len(sources))
    # Most tokens a random model emits are padding pieces of the vocabulary, each decoded as one word.
    mean_words = sum(len(o.split()) for o in outputs) / len(outputs)
    return timing, load_s, mean_words


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=None, help="number of French sentences (default 160; 32 with --quick)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--out-len", type=int, default=40, help="tokens decoded per sentence")
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default=None, help="transformers dtype (default float32; float16 on cuda)")
    p.add_argument("--ct2-compute-type", action="append", default=None,
                   help="CTranslate2 compute type(s) (default int8; repeatable)")
    p.add_argument("--keep", default=None, help="keep the built models in this folder")
    args = p.parse_args()
    n = args.n or (32 if args.quick else 160)
    compute_types = args.ct2_compute_type or ["int8"]
    pairs = C.load_pairs()
    sources = [src for src, _ in pairs[:n]]
    section = C.Section("opus-mt-sized back-translator: transformers vs CTranslate2", device=args.device)

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="tqbench-marian-"))
    try:
        start = time.perf_counter()
        hf_dir = build_marian_dir([t for pair in pairs for t in pair], work / "hf")
        fix_output_length(hf_dir, args.out_len)
        build_s = time.perf_counter() - start

        table = C.Table(["backend", "sentences", "load s", "run s", "sentences/s", "tokens out / sentence"])
        try:
            timing, load_s, out = hf_generate(hf_dir, sources, batch_size=args.batch_size, out_len=args.out_len,
                                              device=args.device, dtype=args.dtype)
            table.add(f"transformers generate, greedy, {args.dtype or 'float32'}, batch {args.batch_size}",
                      timing.items, load_s, timing.seconds, timing.rate, out)
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            table.add("transformers generate", n, None, None, None, f"not measured: {exc}")

        ct2_dir = None
        try:
            ct2_dir = convert_ct2(hf_dir, work / "ct2", quantization=compute_types[0])
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            table.add("CTranslate2", n, None, None, None, f"not measured: conversion failed: {exc}")
        if ct2_dir is not None:
            for compute_type in compute_types:
                try:
                    timing, load_s, out = ct2_translate(ct2_dir, hf_dir, sources, batch_size=args.batch_size,
                                                        out_len=args.out_len, device=args.device,
                                                        compute_type=compute_type)
                    table.add(f"CTranslate2 translate_batch, greedy, {compute_type}, batch {args.batch_size}",
                              timing.items, load_s, timing.seconds, timing.rate, out)
                except Exception as exc:  # noqa: BLE001
                    traceback.print_exc()
                    table.add(f"CTranslate2 {compute_type}", n, None, None, None, f"not measured: {exc}")

        for label, spec in (("tqcheck engine hf:DIR (HFTranslator)", f"hf:{hf_dir}"),
                            ("tqcheck engine ct2:DIR (CTranslate2Translator)", f"ct2:{ct2_dir}")):
            if spec.endswith("None"):
                continue
            try:
                timing, load_s, out = tqcheck_engine(spec, sources, device=args.device,
                                                     batch_size=args.batch_size, out_len=args.out_len)
                table.add(label, timing.items, load_s, timing.seconds, timing.rate, f"~{out:.0f} (words out)")
            except Exception as exc:  # noqa: BLE001 - the engine may not have landed
                traceback.print_exc()
                table.add(label, n, None, None, None, f"not measured: {type(exc).__name__}: {exc}")

        section.tables.append((None, table))
        section.notes += [
            f"Inputs: the French sources of {C.describe_pairs(pairs[:n])}; tokenised with a sentencepiece "
            f"unigram model (8k pieces) trained on the inputs, vocabulary padded to opus-mt's 58,101.",
            f"Model: MarianMTModel, d_model 512, 6+6 layers, 8 heads, FFN 2048, 58,101 tokens, random weights "
            f"(built and saved in {build_s:.0f} s); greedy decoding of exactly {args.out_len} new tokens "
            "(min = max length), length-sorted batches.",
            "tqcheck's wrappers: `hf:DIR` runs with max_new_tokens = the output length "
            "and the saved generation config's min_new_tokens, so it decodes the same length; "
            "`ct2:DIR` runs with max_new_tokens = output length + 1 (at most that many tokens; no minimum, "
            "so a random model may stop earlier); for "
            "both wrappers the output length is shown as words out (a random model emits mostly "
            "whole-word pieces), which approximates tokens.",
        ]
        if args.device == "cpu":
            import torch

            section.notes.append(f"torch {torch.__version__} with {torch.get_num_threads()} threads; "
                                 f"CTranslate2 with {C.nproc()} intra-op threads.")
        C.finish(section, args)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
