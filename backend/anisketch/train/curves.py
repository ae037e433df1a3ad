"""Training curves: one CSV row per logged step, and a PNG redrawn from it (look at it)."""

from __future__ import annotations

import csv
from pathlib import Path


class CurveLog:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.fields: list[str] | None = None
        if self.path.is_file():
            with open(self.path) as f:
                self.fields = next(csv.reader(f), None)

    def append(self, row: dict[str, float]) -> None:
        if self.fields is None:
            self.fields = list(row)
            with open(self.path, "w", newline="") as f:
                csv.writer(f).writerow(self.fields)
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerow([row.get(k, "") for k in self.fields])

    def rows(self) -> list[dict[str, float]]:
        if not self.path.is_file():
            return []
        with open(self.path) as f:
            return [{k: float(v) for k, v in r.items() if v not in ("", None)} for r in csv.DictReader(f)]

    def plot(self, png: Path, x: str = "step", extra: "CurveLog | None" = None) -> None:
        """One panel per column (losses on a log scale), then `extra`'s columns (e.g. validation metrics)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        panels = [(log, c) for log in (self, extra) if log is not None for c in (log.fields or []) if c not in (x, "time")]
        if not panels or not self.rows():
            return
        fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 2.8), squeeze=False)
        cache = {id(log): log.rows() for log, _ in panels}
        for ax, (log, col) in zip(axes[0], panels):
            pts = [(r.get(x, 0.0), r[col]) for r in cache[id(log)] if col in r]
            if not pts:
                continue
            ax.plot([p[0] for p in pts], [p[1] for p in pts], lw=1)
            if "loss" in col and all(p[1] > 0 for p in pts):
                ax.set_yscale("log")
            ax.set_title(col, fontsize=9)
            ax.set_xlabel(x, fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(png, dpi=90)
        plt.close(fig)
