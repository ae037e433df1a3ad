"""Guidance evaluation on engine samples never used in training.

Each sample: a portrait, the messy strokes a beginner draws for it in a random order, and the guidance after
25/50/75/100 % of them, scored by line F1 within 3 px at 512 px against the portrait's true line art. Two
baselines put the numbers in context: the sketch itself, and the line art of the nearest training portrait by
sketch features. A subset replays the drawing stroke by stroke from 50 % to 100 % for consistency (how much
the guidance jumps between strokes) and locality (how much changes outside the part the new stroke belongs to).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from ..engine import params as P
from ..engine.geometry import Portrait, build_portrait
from ..engine.raster import render_lines
from ..engine.sketch import render_sketch, simulate_sketch
from ..guidance.faithfulness import DEFAULT_FAITHFULNESS
from ..guidance.predictor import GuidanceModel
from ..parallel import parallel_map
from .metrics import LINE_THRESHOLD, line_f1

LEVELS = (25, 50, 75, 100)
EVAL_MESSINESS = 0.6
SIZE = 512
LOCALITY_MARGIN = 0.05  # the part's region is dilated by this fraction of the canvas


@dataclass
class DrawnSample:
    seed: int
    truth: np.ndarray  # true line art, darkness at SIZE
    strokes: list  # the beginner's strokes in drawing order
    portrait: Portrait


def drawn_sample(seed: int) -> DrawnSample:
    rng = np.random.default_rng([seed, 0xE7A1])
    portrait = build_portrait(P.sample_params(seed))
    strokes = simulate_sketch(portrait, rng, fraction=1.0, order="random", messiness=EVAL_MESSINESS)
    return DrawnSample(seed, render_lines(portrait.strokes, SIZE), strokes, portrait)


def sketch_of(sample: DrawnSample, count: int, size: int = SIZE) -> np.ndarray:
    return render_sketch(sample.strokes[:count], size, rng=np.random.default_rng([sample.seed, count]))


def strokes_at(sample: DrawnSample, level: int) -> int:
    return int(round(len(sample.strokes) * level / 100))


def drawn_count(strokes: list, level: int) -> int:
    """How many of a drawing's strokes are down at `level` % of it (at least the first)."""
    return max(1, int(round(len(strokes) * level / 100)))


class NearestTrainingSketch:
    """baseline.knn: the line art of the training portrait whose line art looks most like the sketch."""

    def __init__(self, count: int = 4000, feature_size: int = 48):
        self.feature_size = feature_size
        self.seeds = np.arange(count)
        self.features = np.stack(parallel_map(self._feature_of_seed, self.seeds.tolist()))

    def _feature_of_seed(self, seed: int) -> np.ndarray:
        return self.feature(render_lines(build_portrait(P.sample_params(seed)).strokes, 128))

    def feature(self, darkness: np.ndarray) -> np.ndarray:
        small = cv2.resize(darkness.astype(np.float32), (self.feature_size,) * 2, interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), 1.5).ravel()
        return small / (np.linalg.norm(small) + 1e-6)

    def __call__(self, sketch: np.ndarray) -> np.ndarray:
        best = int(self.seeds[np.argmax(self.features @ self.feature(sketch))])
        return render_lines(build_portrait(P.sample_params(best)).strokes, SIZE)


def guidance_lines(model: GuidanceModel, sketch: np.ndarray, faithfulness: float) -> np.ndarray:
    return replayed_guide(model, sketch, faithfulness, None)[0]


def replayed_guide(model: GuidanceModel, sketch: np.ndarray, faithfulness: float, state: str | None):
    """Guidance as the plugin asks for it while drawing: with the previous reply's state."""
    guide = model.guide(sketch, faithfulness=faithfulness, state=state)
    return render_lines(guide.portrait.strokes, SIZE), guide.state


def locality(before: np.ndarray, after: np.ndarray, part_region: np.ndarray) -> float:
    """Share of guidance line pixels that changed outside the new stroke's part region."""
    a, b = before >= LINE_THRESHOLD, after >= LINE_THRESHOLD
    lines = (a | b).sum()
    return 0.0 if lines == 0 else float(((a ^ b) & ~part_region).sum() / lines)


def part_regions(sample: DrawnSample) -> dict[str, np.ndarray]:
    """Each group's true strokes at SIZE, dilated: where a stroke of that group may rightly change things."""
    radius = int(LOCALITY_MARGIN * SIZE)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    regions = {}
    for group in P.GROUPS:
        strokes = [s for s in sample.portrait.strokes if s.group == group]
        if strokes:
            regions[group] = cv2.dilate((render_lines(strokes, SIZE) > 0).astype(np.uint8), kernel) > 0
    return regions


def replay(model: GuidanceModel, sample: DrawnSample, faithfulness: float) -> tuple[list[float], list[float], float]:
    """Stroke by stroke from 50 % to 100 %: F1 between consecutive guidances, locality of each change, and F1
    of the last guidance against the truth (what holding parts still costs or gains in accuracy)."""
    regions = part_regions(sample)
    start = strokes_at(sample, 50)
    previous, state = replayed_guide(model, sketch_of(sample, start), faithfulness, None)
    consistency, local = [], []
    for k in range(start + 1, len(sample.strokes) + 1):
        current, state = replayed_guide(model, sketch_of(sample, k), faithfulness, state)
        consistency.append(line_f1(current, previous))
        region = regions.get(sample.strokes[k - 1].group, np.zeros((SIZE, SIZE), bool))
        local.append(locality(previous, current, region))
        previous = current
    return consistency, local, line_f1(previous, sample.truth)


def evaluate_guidance(model: GuidanceModel, seeds: list[int], replay_count: int = 12, faithfulness: float = DEFAULT_FAITHFULNESS,
                      progress=None) -> tuple[dict, list[dict]]:
    """metrics (flat dict) and per-sample images for the report."""
    knn = NearestTrainingSketch()
    scores: dict[str, list[float]] = {f"{name}.f1.{level}": [] for name in ("guidance", "baseline.knn", "baseline.sketch") for level in LEVELS}
    timings, rows = [], []
    for i, seed in enumerate(seeds):
        sample = drawn_sample(seed)
        row: dict[str, Any] = {"truth": sample.truth, "levels": {}}
        for level in LEVELS:
            sketch = sketch_of(sample, strokes_at(sample, level))
            t = time.perf_counter()
            guide = guidance_lines(model, sketch, faithfulness)
            timings.append((time.perf_counter() - t) * 1000)
            scores[f"guidance.f1.{level}"].append(line_f1(guide, sample.truth))
            scores[f"baseline.sketch.f1.{level}"].append(line_f1(sketch, sample.truth))
            scores[f"baseline.knn.f1.{level}"].append(line_f1(knn(sketch), sample.truth))
            row["levels"][level] = (sketch, guide)
        rows.append(row)
        if progress:
            progress(i + 1, len(seeds))
    consistency, local, replayed = [], [], []
    for seed in seeds[:replay_count]:
        consistent, kept_local, f1 = replay(model, drawn_sample(seed), faithfulness)
        consistency += consistent
        local += kept_local
        replayed.append(f1)
    metrics = {k: round(float(np.mean(v)), 4) for k, v in scores.items()}
    metrics["guidance.consistency"] = round(float(np.mean(consistency)), 4)
    metrics["guidance.locality"] = round(float(np.mean(local)), 4)
    # the same drawings at 100 %, replayed stroke by stroke with the state (held parts) and asked for afresh
    metrics["guidance.replayed.f1.100"] = round(float(np.mean(replayed)), 4)
    metrics["guidance.replayed.fresh_f1.100"] = round(float(np.mean(scores["guidance.f1.100"][:len(replayed)])), 4)
    metrics["timing.guidance_ms"] = round(float(np.median(timings)), 1)
    return metrics, rows


def report_image(rows: list[dict], thumb: int = 160, max_rows: int = 8) -> np.ndarray:
    """Rows of samples; columns: sketch and guidance at each level, then the truth (white paper, dark ink)."""
    def tile(darkness, label):
        img = 255 - cv2.resize(darkness, (thumb, thumb), interpolation=cv2.INTER_AREA)
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        cv2.putText(img, label, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (40, 40, 200), 1, cv2.LINE_AA)
        return cv2.copyMakeBorder(img, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=(180, 180, 180))

    lines = []
    for row in rows[:max_rows]:
        tiles = []
        for level, (sketch, guide) in row["levels"].items():
            tiles += [tile(sketch, f"sketch {level}%"), tile(guide, f"guidance {level}%")]
        tiles.append(tile(row["truth"], "truth"))
        lines.append(np.hstack(tiles))
    return cv2.cvtColor(np.vstack(lines), cv2.COLOR_BGR2RGB)
