"""Contact sheets of the engine's output for a person to look at (colour | line art | part map per seed), and a
timing of the engine core.

    python -m anisketch.engine.preview --out /tmp/engine.png --seeds 0-15 --size 256
    python -m anisketch.engine.preview --bench
    python -m anisketch.engine.preview --specs      # the parameter space as a Markdown table
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from anisketch.engine.geometry import build_portrait
from anisketch.engine.params import (CHOICE_DIM, ENGINE_VERSION, FLOAT_DIM, PARAM_SPECS, PART_LABELS,
                                     sample_params)
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


def _timings_ms(fn, items, repeats=3):
    """(median, best) wall time per call in ms, each item timed `repeats` times. On a shared machine the median
    carries the others' load; the best of many short calls is close to what an idle core does."""
    times = []
    for item in items:
        for _ in range(repeats):
            start = time.perf_counter()
            fn(item)
            times.append(time.perf_counter() - start)
    times.sort()
    return 1e3 * times[len(times) // 2], 1e3 * times[0]


def bench(count=100):
    seeds = range(count)
    params = [sample_params(seed) for seed in seeds]
    portraits = [build_portrait(p) for p in params]
    figures = {
        "sample_params": _timings_ms(sample_params, seeds),
        "build_portrait": _timings_ms(build_portrait, params),
        "render 256": _timings_ms(lambda p: render(p, 256), portraits),
        "render 512": _timings_ms(lambda p: render(p, 512), portraits[:40]),
        "render_lines 1024": _timings_ms(lambda p: render_lines(p.strokes, 1024), portraits[:40]),
    }
    print(f"{'':>18}  median    best   (ms per call, wall time)")
    for name, (median, best) in figures.items():
        print(f"{name:>18}: {median:6.2f}  {best:6.2f}")
    median = sum(figures[k][0] for k in ("sample_params", "build_portrait", "render 256"))
    print(f"{'sample+build+256':>18}: {median:6.2f} ms median = {1e3 / median:.0f} portraits/s on one core")


def specs_table() -> str:
    """The parameter space, one row per spec, in vector order."""
    rows = [f"Engine {ENGINE_VERSION}: {FLOAT_DIM} floats, {CHOICE_DIM} choices.", "",
            "| name | group | kind | range / options | drawn |", "| --- | --- | --- | --- | --- |"]
    for spec in PARAM_SPECS:
        if spec.kind == "float":
            values = f"[{spec.lo:g}, {spec.hi:g}]"
        elif spec.kind == "choice":
            values = ", ".join(map(str, spec.options))
        else:
            values = "r, g, b in [0, 1]"
        rows.append(f"| {spec.name} | {spec.group} | {spec.kind} | {values} | {'yes' if spec.drawn else 'no'} |")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out")
    parser.add_argument("--bench", action="store_true", help="time the engine core instead")
    parser.add_argument("--specs", action="store_true", help="print the parameter space as a Markdown table")
    parser.add_argument("--seeds", default="0-15")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--columns", type=int, default=2)
    args = parser.parse_args()
    if args.bench:
        return bench()
    if args.specs:
        return print(specs_table())
    if not args.out:
        parser.error("--out is required (or --bench)")
    lo, _, hi = args.seeds.partition("-")
    seeds = range(int(lo), int(hi or lo) + 1)
    sheet = contact_sheet(seeds, args.size, args.columns)
    cv2.imwrite(args.out, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()
