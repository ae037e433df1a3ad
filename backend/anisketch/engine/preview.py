"""Contact sheets of the engine's output for a person to look at (colour | line art | part map per seed), and a
timing of the engine core.

    python -m anisketch.engine.preview --out /tmp/engine.png --seeds 0-15 --size 256
    python -m anisketch.engine.preview --bench
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from anisketch.engine.geometry import build_portrait
from anisketch.engine.params import PART_LABELS, sample_params
from anisketch.engine.raster import render, render_lines

# One distinct colour per part label, for the false-colour part map.
PART_COLORS = np.array([
    (30, 30, 30), (250, 215, 185), (70, 130, 255), (40, 200, 255), (150, 90, 40), (220, 150, 60), (255, 120, 120),
    (220, 30, 60), (150, 60, 200), (255, 170, 60), (200, 170, 140), (40, 200, 90), (90, 110, 160),
], np.uint8)
assert len(PART_COLORS) == len(PART_LABELS)


def tile(params, size):
    out = render(build_portrait(params), size)
    line = np.repeat(255 - out["lineart"][..., None], 3, axis=2)
    return np.hstack([out["color"], line, PART_COLORS[out["parts"]]])


def contact_sheet(seeds, size, columns=2, attributes=None):
    tiles = [tile(sample_params(seed, attributes), size) for seed in seeds]
    while len(tiles) % columns:
        tiles.append(np.full_like(tiles[0], 255))
    rows = [np.hstack(tiles[i:i + columns]) for i in range(0, len(tiles), columns)]
    return np.vstack(rows)


def _cpu_ms(fn, items, repeats=3):
    """Best-of-N CPU time per item, in ms (CPU time: less disturbed by other processes than wall time)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for item in items:
            fn(item)
        best = min(best, time.process_time() - start)
    return 1e3 * best / len(items)


def bench(count=100):
    seeds = range(count)
    params = [sample_params(seed) for seed in seeds]
    portraits = [build_portrait(p) for p in params]
    figures = {
        "sample_params": _cpu_ms(sample_params, seeds),
        "build_portrait": _cpu_ms(build_portrait, params),
        "render 256": _cpu_ms(lambda p: render(p, 256), portraits),
        "render 512": _cpu_ms(lambda p: render(p, 512), portraits[:40]),
        "render_lines 1024": _cpu_ms(lambda p: render_lines(p.strokes, 1024), portraits[:40]),
    }
    for name, ms in figures.items():
        print(f"{name:>18}: {ms:6.2f} ms")
    total = figures["sample_params"] + figures["build_portrait"] + figures["render 256"]
    print(f"{'sample+build+256':>18}: {total:6.2f} ms  ({1e3 / total:.0f} portraits/s on one core)")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out")
    parser.add_argument("--bench", action="store_true", help="time the engine core instead")
    parser.add_argument("--seeds", default="0-15")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--columns", type=int, default=2)
    args = parser.parse_args()
    if args.bench:
        return bench()
    if not args.out:
        parser.error("--out is required (or --bench)")
    lo, _, hi = args.seeds.partition("-")
    seeds = range(int(lo), int(hi or lo) + 1)
    sheet = contact_sheet(seeds, args.size, args.columns)
    cv2.imwrite(args.out, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()
