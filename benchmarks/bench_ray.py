"""The Ray executor: a local Ray cluster of 2 workers against one process, on the same feed.

Why: ``tqcheck check --executor ray`` must give the very report a local run gives (results, summary,
signature) and should scale with the workers it is given. This machine has 2 cores, so what it can show
is the identity of the reports, the throughput ratio on 2 cores (with Ray's own processes, the driver and
Apertium's pipes sharing them) and the costs from which a cluster's throughput can be projected.

Each run is the real CLI in its own process, end to end (start-up, Ray's start-up, reading, writing):

    tqcheck check FEED.jsonl -l fr-en -o OUT.jsonl -q --cache none CONFIG [--executor ray --jobs 2]

with CONFIG rules only plus Apertium back-translation (``--back-translator apertium``, the other roles
``none``) when Apertium is installed, and rules only as a second, engine-free row. The engine cache is off
so that the second run of a feed does no less work than the first.

    .venv/bin/python benchmarks/bench_ray.py [--quick] [--record] [--n 2000]
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as C

ENGINE_NONE = ["--reference-model", "none", "--lm", "none", "--embedder", "none", "--qe", "none"]


def apertium_ready() -> bool:
    try:
        from tqcheck.engines.translate.apertium import ApertiumTranslator, apertium_installed

        return apertium_installed() and ApertiumTranslator().supports("en", "fr")
    except Exception:  # noqa: BLE001 - a probe
        return False


def run_cli(feed: Path, out: Path, extra: list[str]) -> tuple[float, float, int, str]:
    """Run the CLI once: wall seconds, CPU seconds of it and every process it waited for (Apertium's pipes,
    Ray's processes), exit code, stderr tail."""
    exe = C.ROOT / ".venv" / "bin" / "tqcheck"
    argv = [str(exe) if exe.exists() else "tqcheck", "check", str(feed), "-l", "fr-en", "-o", str(out), "-q",
            "--cache", "none", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode, proc.stderr[-500:]


def code_fingerprint() -> str:
    """A hash of the library's source: other engineers change the tree while a benchmark runs, and two
    reports made by different code are not a test of the executor."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((C.ROOT / "tqcheck").rglob("*")):
        if path.suffix in (".py", ".json") and path.is_file():
            digest.update(str(path.relative_to(C.ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def report_body(path: Path) -> list[dict]:
    """The report without the signature's time, the one field two runs may differ in."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    lines[0].pop("created_at", None)
    return lines


def driver_cost(report: Path) -> float:
    """Seconds per segment the driver spends on a result that came back from a worker: rebuilding it from
    the wire dicts and writing it into a JSONL report (what the driver does that no worker can take)."""
    from tqcheck.io.reports import open_report, read_report
    from tqcheck.model import SegmentResult, Summary

    signature, results, _ = read_report(report)
    wire = [r.to_dict() for r in results]
    out = report.with_name("driver.jsonl")
    start = time.perf_counter()
    writer = open_report(out, signature=signature)
    for data in wire:
        writer.write(SegmentResult.from_dict(data))
    writer.close(Summary())
    seconds = time.perf_counter() - start
    out.unlink(missing_ok=True)
    return seconds / max(1, len(wire))


def main() -> None:
    p = C.parser(__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=None, help="segments (default 2000; 200 with --quick)")
    p.add_argument("--jobs", type=int, default=2, help="Ray workers (default 2)")
    args = p.parse_args()
    n = args.n or (200 if args.quick else 2000)
    apertium = apertium_ready()
    configs = [("rules only", ["--rules-only"])]
    if apertium:
        configs.insert(0, ("rules + Apertium back-translation", ["--back-translator", "apertium", *ENGINE_NONE]))
    section = C.Section(f"Ray executor: {args.jobs} local workers vs one process")
    table = C.Table(["configuration", "run", "segments", "wall s", "segments/s", "ratio to one process",
                     "CPU s", "cores busy (CPU s / wall s)", "report identical", "exit"])
    work = Path(tempfile.mkdtemp(prefix="tqbench-ray-"))
    facts: dict[str, float] = {}
    try:
        feed = C.write_feed(work / "feed.jsonl", n)
        small = C.write_feed(work / "small.jsonl", 10)
        for label, extra in configs:
            local_out, ray_out = work / "local.jsonl", work / "ray.jsonl"
            code_before = code_fingerprint()
            local_wall, local_cpu, local_code, local_err = run_cli(feed, local_out, extra)
            ray_wall, _, ray_code, ray_err = run_cli(feed, ray_out, [*extra, "--executor", "ray", "--jobs",
                                                                           str(args.jobs)])
            same = (local_code == ray_code == 0 and report_body(local_out) == report_body(ray_out))
            changed = code_fingerprint() != code_before
            for err, code in ((local_err, local_code), (ray_err, ray_code)):
                if code != 0:
                    print(err, file=sys.stderr)
            table.add(label, "one process", n, local_wall, n / local_wall, 1.0, local_cpu, local_cpu / local_wall,
                      "—", local_code)
            table.add(label, f"Ray, {args.jobs} workers", n, ray_wall, n / ray_wall, local_wall / ray_wall, None,
                      None, ("yes" if same else "**no**") + (" (tqcheck/ changed during the pair)" if changed else ""),
                      ray_code)
            facts[f"{label} local"], facts[f"{label} ray"] = local_wall, ray_wall
            if label != "rules only":
                facts["driver"] = driver_cost(local_out)
            local_out.unlink(missing_ok=True)
            ray_out.unlink(missing_ok=True)
        tiny_local, _, _, _ = run_cli(small, work / "t.jsonl", ["--rules-only"])
        tiny_ray, _, _, _ = run_cli(small, work / "t.jsonl", ["--rules-only", "--executor", "ray", "--jobs",
                                                           str(args.jobs)])
        facts["overhead"] = tiny_ray - tiny_local
        if "driver" not in facts:
            facts["driver"] = 0.0
    finally:
        shutil.rmtree(work, ignore_errors=True)

    main_label = configs[0][0]
    jobs = args.jobs
    # A worker's cost per segment while the workers run side by side here: the Ray run's wall less Ray's
    # fixed cost, spread over the workers. A node like this one adds ``jobs`` such workers.
    busy = max(1e-9, facts[f"{main_label} ray"] - facts["overhead"])
    t_worker = jobs * busy / n
    node_rate = jobs / t_worker
    t_driver = facts["driver"]
    costs = C.Table(["measure", "value"])
    costs.add("Ray's fixed cost: a 10-segment rules-only run, Ray minus one process (start the local instance, "
              "start the workers, build their pipelines, stop)", f"{facts['overhead']:.1f} s")
    costs.add(f"one worker's cost per segment ({main_label}; {jobs} workers side by side on this machine: "
              f"{jobs} x (Ray wall - fixed cost) / {n})", f"{t_worker * 1000:.1f} ms")
    costs.add(f"segments/s of one node like this one ({jobs} workers), fixed cost left out",
              f"{node_rate:.1f}")
    costs.add("the driver's cost per segment that came back (rebuild the result from the wire dicts, write the "
              "JSONL report)", f"{t_driver * 1000:.3f} ms" if t_driver else "not measured")
    projection = C.Table([f"nodes like this one ({jobs} workers each)", "projected segments/s", "limited by",
                          f"projected wall for {n} segments, fixed cost included"])
    ceiling = 1 / t_driver if t_driver else float("inf")
    for nodes in (1, 2, 4, 8, 16):
        rate = min(nodes * node_rate, ceiling)
        projection.add(nodes, rate, "the workers" if nodes * node_rate < ceiling else "the driver",
                       f"{facts['overhead'] + n / rate:.0f} s")
    section.tables += [(None, table), ("Costs measured here:", costs),
                       ("Projection, not a measurement: segments/s = min(nodes x one node's segments/s, 1 / the "
                        "driver's cost), from the costs above, for an idle cluster of nodes like this machine "
                        "(the fixed cost is lower on a running cluster: no instance to start):", projection)]
    section.notes += [
        f"Feed: {C.describe_pairs(C.feed_pairs(n))}, JSONL `id`, `source`, `mt`.",
        "Each run: `tqcheck check FEED.jsonl -l fr-en -o OUT.jsonl -q --cache none CONFIG` in its own process, "
        f"Ray adding `--executor ray --jobs {args.jobs}` (a local Ray instance started and stopped by the run); "
        "CONFIG is `--back-translator apertium --reference-model none --lm none --embedder none --qe none` "
        "or `--rules-only`. 'CPU s': user + system time of the one-process run and of the processes it waited "
        "for (Apertium's pipes); not given for Ray, whose workers are not processes the run waits for. "
        "'report identical': every "
        "line of the two JSONL reports equal but the signature's created_at.",
        "The driver's cost leaves out Ray's transfer of the blocks (serialised dicts through the object store); "
        "on a real network that adds to it, so the driver's ceiling is an upper bound.",
        "Apertium " + ("installed: its row is the main configuration." if apertium
                       else "not installed: rules only."),
        f"Why {facts[f'{main_label} local'] / facts[f'{main_label} ray']:.2f}x on this machine: its 2 cores are "
        f"shared by the {jobs} workers, the driver, Ray's own processes (GCS, raylet) and"
        + (" Apertium's pipes (several processes per batch). One process alternates between Python (rule "
           "checks, comparison, fusion) and waiting for each batch's pipes; workers side by side overlap "
           "one's Python with the other's pipes (one process keeps the 'cores busy' figure of its row busy, of 2). "
           if apertium else " nothing else. ")
        + "Under load from other jobs (the load averages above), a run of more processes also gets a larger "
        "share of the cores, which flatters Ray. Rules only, Ray's fixed cost is larger than the whole "
        "one-process run: Ray pays for feeds whose engine work outweighs its start-up, and for workers that "
        "get cores of their own (more nodes, or more cores than one process can use).",
    ]
    C.finish(section, args)


if __name__ == "__main__":
    main()
