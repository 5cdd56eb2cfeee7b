"""The target-only homograph test's cost when the engine cache is on (the default): fluency reads the MT
first, so the test only adds Apertium's word-level calls and the swapped sentences.

    .venv/bin/python benchmarks/bench_homograph.py [--n 256]

bench_throughput --target-only times every stage with the cache off, where the test also re-reads each MT
with the language model; this is the figure of a normal run. Inputs as in every benchmark (_common).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace

import _common as C

from tqcheck.engines.cache import EngineCache
from tqcheck.pipeline import batched
from tqcheck.signals import EngineSlot
from tqcheck.signals.fluency import FluencySignal
from tqcheck.signals.homograph import HomographSignal


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=256, help="segments (default 256)")
    args = p.parse_args()
    pairs = C.load_pairs()
    segments = [replace(s, source=None) for s in C.make_segments(pairs[:args.n])]
    warm = [replace(s, source=None) for s in C.make_segments(pairs[args.n:args.n + 16], prefix="warm")]
    cache = EngineCache(tempfile.mkdtemp(prefix="tqbench-homograph-") + "/engines.sqlite")
    translator, lm = EngineSlot("translator", "auto"), EngineSlot("lm", "auto")
    fluency, homograph = FluencySignal(lm, cache=cache), HomographSignal(translator, lm, cache=cache)
    fluency.compute(warm), homograph.compute(warm)  # loads the engines
    start = time.perf_counter()
    for batch in batched(segments, 128):
        fluency.compute(batch)
    middle = time.perf_counter()
    found = sum(len(o.flags) for batch in batched(segments, 128) for o in homograph.compute(batch))
    end = time.perf_counter()
    print(f"{C.describe_pairs(pairs[:args.n])}, sources withheld, batches of 128, one fresh engine cache")
    print(f"fluency {1000 * (middle - start) / len(segments):.1f} ms/segment; then the homograph test "
          f"{1000 * (end - middle) / len(segments):.1f} ms/segment ({found} candidates)")


if __name__ == "__main__":
    main()
