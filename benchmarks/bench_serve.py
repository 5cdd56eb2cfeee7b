"""``tqcheck serve`` under a bounded loopback load: 8 concurrent clients, 2,000 requests of 1-20 segments.

Why: a desk's tools call the service concurrently, in small requests; the service must answer every
one (no error, no hang), batch them for the engines, and refuse what is over its limits at once with a
4xx a client can act on. Rules only by default, so that the table measures the service (HTTP, JSON, the
micro-batcher, the run per request) rather than an engine; ``--engine apertium`` adds one real offline
engine (Apertium back-translation, the round trip) with the engine cache off, so that every segment is
translated.

    tqcheck serve --port PORT --rules-only                    # the server, in its own process
    tqcheck serve --port PORT --back-translator apertium --reference-model none --lm none \
        --embedder none --qe none --cache none --warm fr-en   # --engine apertium
    8 client threads (httpx, one connection each) send 2,000 POST /v1/check of 1-20 segments (seeded)

Then two limit checks: one request over ``--max-segments`` (413 expected), and a second server with
``--max-queue 2`` flooded by 32 concurrent requests of 20 segments (429 with Retry-After expected for
those over the bound; every request answered).

    .venv/bin/python benchmarks/bench_serve.py [--quick] [--record] [--requests 2000] [--clients 8]
        [--engine rules|apertium]
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import _common as C


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: What the server runs: the rule checks only, or the rules plus Apertium's round trip (one real engine).
ENGINES = {
    "rules": ["--rules-only"],
    "apertium": ["--back-translator", "apertium", "--reference-model", "none", "--lm", "none", "--embedder",
                 "none", "--qe", "none", "--cache", "none", "--warm", "fr-en"],
}


@contextmanager
def server(*extra: str, engine: str = "rules") -> Iterator[str]:
    """A ``tqcheck serve`` process on a free loopback port, ready; terminated after."""
    import httpx

    port = free_port()
    exe = C.ROOT / ".venv" / "bin" / "tqcheck"
    argv = [str(exe) if exe.exists() else "tqcheck", "serve", "--port", str(port), *ENGINES[engine], *extra]
    env = {k: v for k, v in os.environ.items() if k != "TQCHECK_TOKEN"}
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"tqcheck serve exited with {proc.returncode}")
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("tqcheck serve never became ready")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(30)


def requests_for(total: int, seed: int = 0, size: int | None = None) -> list[list[dict[str, str]]]:
    """``total`` requests of ``size`` segments each (default: uniform in 1-20), seeded."""
    pairs = C.load_pairs()
    rng = random.Random(seed)
    batches = []
    for i in range(total):
        size_i = size or rng.randint(1, 20)
        batches.append([{"id": f"r{i}-{k}", "source": src, "mt": mt}
                        for k, (src, mt) in enumerate(rng.sample(pairs, size_i))])
    return batches


def load(base: str, batches: list[list[dict[str, str]]], clients: int) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    lock = threading.Lock()
    local = threading.local()
    checked = 0

    def one(segments: list[dict[str, str]]) -> None:
        nonlocal checked
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, timeout=120)
        start = time.perf_counter()
        try:
            response = local.client.post("/v1/check", json={"segments": segments, "language_pair": "fr-en"})
            status = response.status_code
            ok = status == 200 and len(response.json()["results"]) == len(segments)
        except httpx.HTTPError as exc:
            status, ok = -1, False
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        elapsed = time.perf_counter() - start
        with lock:
            latencies.append(elapsed)
            statuses[status] = statuses.get(status, 0) + 1
            if ok:
                checked += len(segments)
            elif status != -1:
                errors.append(f"HTTP {status}")

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, batches))
    wall = time.perf_counter() - start
    latencies.sort()
    return {"wall": wall, "latencies": latencies, "statuses": statuses, "errors": errors, "checked": checked}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=None, help="requests (default 2000; 200 with --quick)")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    p.add_argument("--engine", choices=sorted(ENGINES), default="rules",
                   help="rules only (default), or the rules plus Apertium back-translation")
    args = p.parse_args()
    import httpx

    total = args.requests or (200 if args.quick else 2000)
    batches = requests_for(total)
    segments = sum(len(b) for b in batches)
    what = "rules only" if args.engine == "rules" else "rules + Apertium round trip, cache off"
    section = C.Section(f"tqcheck serve: {args.clients} concurrent clients, {total} requests of 1-20 segments "
                        f"({what})")
    table = C.Table(["requests", "segments", "clients", "errors", "wall s", "requests/s", "segments/s",
                     "p50 ms", "p95 ms", "max ms"])
    limits = C.Table(["check", "expected", "got", "met?"])
    with server(engine=args.engine) as base:
        httpx.post(f"{base}/v1/check", json={"segments": batches[0], "language_pair": "fr-en"}, timeout=60)  # warm
        result = load(base, batches, args.clients)
        lat = result["latencies"]
        table.add(total, segments, args.clients, len(result["errors"]), result["wall"], total / result["wall"],
                  result["checked"] / result["wall"], percentile(lat, 0.5) * 1000, percentile(lat, 0.95) * 1000,
                  lat[-1] * 1000 if lat else None)
        over = [{"source": "Bonjour.", "mt": "Hello."}] * 1001
        response = httpx.post(f"{base}/v1/check", json={"segments": over, "language_pair": "fr-en"}, timeout=60)
        limits.add("1,001 segments in one request (--max-segments 1000)", "413 with a message",
                   f"{response.status_code}: {response.json().get('detail', '')[:80]}",
                   C.target(response.status_code == 413))
    with server("--max-queue", "2") as base:
        flood = requests_for(32, seed=1, size=20)
        answers: list[tuple[int, str | None, float]] = []

        def one(segments: list[dict[str, str]]) -> None:
            start = time.perf_counter()
            r = httpx.post(f"{base}/v1/check", json={"segments": segments, "language_pair": "fr-en"}, timeout=120)
            answers.append((r.status_code, r.headers.get("retry-after"), time.perf_counter() - start))

        with ThreadPoolExecutor(32) as pool:
            list(pool.map(one, flood))
        refused = [a for a in answers if a[0] in (429, 503)]
        served = [a for a in answers if a[0] == 200]
        other = [a for a in answers if a[0] not in (200, 429, 503)]
        limits.add("32 concurrent requests of 20 segments, --max-queue 2",
                   "the overflow refused with 429/503 + Retry-After, the rest 200, none lost",
                   f"{len(served)} x 200, {len(refused)} x 429/503 (Retry-After on "
                   f"{sum(1 for a in refused if a[1])}), {len(other)} other; slowest answer "
                   f"{max(a[2] for a in answers) * 1000:.0f} ms",
                   C.target(bool(refused) and all(a[1] for a in refused) and not other
                            and len(answers) == 32))
    section.tables += [(None, table), ("Limits:", limits)]
    section.notes += [
        f"Requests: {total} POST /v1/check, sizes uniform in 1-20 segments (seed 0), {segments} segments in all, "
        "drawn from the fr->en pairs of ../shared/eval (source and MT only), `language_pair` fr-en.",
        f"Server: `tqcheck serve --port PORT {' '.join(ENGINES[args.engine])}` (defaults: --max-queue 64, "
        "--max-segments 1000, "
        f"micro-batches of up to 128 segments gathered within 20 ms); clients: {args.clients} threads of this "
        "script, one httpx connection each, on the same 2 cores as the server (the clients' JSON work competes "
        "with the server's).",
        "Latency: from sending the request to the parsed answer, per request; errors: any status but 200 or a "
        "response whose result count differs from its segment count.",
    ]
    if result["errors"]:
        section.notes.append("First errors: " + "; ".join(result["errors"][:3]))
    C.finish(section, args)


if __name__ == "__main__":
    sys.exit(main())
