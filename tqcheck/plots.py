"""Pictures of a calibration: reliability (predicted risk vs observed error rate) and precision-recall.

People would rather look than read: a reliability curve on the diagonal says "a risk of 0.3 means
three in ten"; one below it says the risk overstates. matplotlib is imported here, lazily, with the
Agg backend, so that nothing opens a window and the CLI stays fast when no plot is asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

#: Equal-width bins of predicted risk in the reliability diagram.
BINS = 10

Curve = tuple[Sequence[bool], Sequence[float]]  # (labels, risks)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def reliability_points(labels: Sequence[bool], risks: Sequence[float], bins: int = BINS
                       ) -> list[tuple[float, float, int]]:
    """(mean predicted risk, observed rate, count) per non-empty bin of predicted risk."""
    sums = [[0.0, 0.0, 0] for _ in range(bins)]
    for y, r in zip(labels, risks):
        b = min(bins - 1, max(0, int(r * bins)))
        sums[b][0] += r
        sums[b][1] += bool(y)
        sums[b][2] += 1
    return [(p / n, o / n, int(n)) for p, o, n in sums if n]


def pr_points(labels: Sequence[bool], risks: Sequence[float]) -> list[tuple[float, float]]:
    """(recall, precision) at every distinct threshold, highest risk first."""
    pos = sum(bool(y) for y in labels)
    if not pos:
        return []
    pairs = sorted(zip(risks, labels), key=lambda p: -p[0])
    out, tp, i = [], 0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            tp += bool(pairs[j][1])
            j += 1
        out.append((tp / pos, tp / j))
        i = j
    return out


def save_calibration_plots(curves: Mapping[str, Curve], prefix: str | Path, *, title: str = "") -> list[Path]:
    """Write ``<prefix>.reliability.png`` and ``<prefix>.pr.png``, one line per language pair."""
    plt = _pyplot()
    prefix = Path(prefix)
    paths = []

    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    for name, (labels, risks) in sorted(curves.items()):
        pts = reliability_points(labels, risks)
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{name} (n={len(labels)})")
            for x, y, n in pts:
                ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set_xlabel("predicted risk of a major error")
    ax.set_ylabel("observed share with a major error")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(("Reliability " + title).strip())
    ax.legend(loc="upper left", fontsize=8)
    path = prefix.with_name(prefix.name + ".reliability.png")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    paths.append(path)

    fig, ax = plt.subplots(figsize=(5.5, 5))
    for name, (labels, risks) in sorted(curves.items()):
        pr = pr_points(labels, risks)
        if pr:
            base = sum(bool(y) for y in labels) / len(labels)
            line, = ax.step([p[0] for p in pr], [p[1] for p in pr], where="post", label=f"{name}")
            ax.axhline(base, color=line.get_color(), linestyle=":", linewidth=1)
    ax.set_xlabel("recall (segments with a major error)")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(("Precision-recall " + title).strip() + "\n(dotted: share of positives, a random ranker)",
                 fontsize=10)
    ax.legend(loc="upper right", fontsize=8)
    path = prefix.with_name(prefix.name + ".pr.png")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    paths.append(path)
    return paths


def save_flag_plot(curves: Mapping[str, Sequence[Sequence[float]]], path: str | Path, *, title: str = "",
                   floors: Mapping[str, float] | None = None) -> Path:
    """The precision-recall curve of flags: every finding ordered by its measured ``p_error``; x the
    share of the findings on a human error that are kept, y the share of kept findings on one. Points
    come from ``tqcheck.fusion.evaluate`` (``flags.pr_curve``: threshold, precision, recall), one line
    per language pair; the display floors are marked where each curve crosses them."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for name, points in sorted(curves.items()):
        if not points:
            continue
        line, = ax.step([p[2] for p in points], [p[1] for p in points], where="post", label=name)
        for label, floor in (floors or {}).items():
            kept = [p for p in points if p[0] >= floor]
            if kept:
                ax.plot([kept[-1][2]], [kept[-1][1]], marker="o", color=line.get_color())
                ax.annotate(f"{label} ({floor:g})", (kept[-1][2], kept[-1][1]), textcoords="offset points",
                            xytext=(5, 4), fontsize=7)
    ax.set_xlabel("recall (findings on a human error that are shown)")
    ax.set_ylabel("precision (shown findings on a human error)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(("Flags by measured precision " + title).strip(), fontsize=10)
    ax.legend(loc="upper right", fontsize=8)
    out = Path(path)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
