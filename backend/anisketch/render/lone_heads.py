"""Heads drawn alone: does the render invent a body the artist never drew? (`drawn.undrawn_body`)

    python -m anisketch.render.lone_heads --count 40 --out runs/lone_heads.png

A beginner often draws a head and nothing below it, and leaves a stray mark somewhere on the page. Each unseen
engine portrait's complete messy sketch (layers_eval's) is erased below the chin, a short stroke is drawn below and
to the left of it, and the page is sent as the plugin crops it (`layers_eval.plugin_crop`), with the portrait's
dabs above the chin (a dab on the background makes the flats opaque all round). Per mode and per whether the
background was dabbed, the share of heads whose band under the chin (from 6 % to 22 % of the portrait's side
below it, across the figure's width) is more than BODY_SHARE body: opaque flats without a background dab, flats
off the background's colour with one. The band holds long hair too, which the guidance draws on below a chin where
the drawing stops. `--before` judges the renders with every body part counted as drawn (the rule off).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from ..engine import params as P
from ..engine.sketch import sketch_to_rgba
from .evaluate import truth_and_inputs
from .layered import candidate_stacks, composite
from .layers_eval import on_page, plugin_crop

BODY_SHARE = 0.2
BAND = (0.06, 0.22)  # of the side, below the chin
OFF_BACKGROUND = 30  # sum of RGB differences from which a flat is not the dabbed background's colour


def lone_head(seed: int) -> tuple[np.ndarray, np.ndarray, int, slice, bool]:
    """(sketch RGBA, hints RGBA, the chin's row, the figure's columns, whether a dab lies on the background) in
    the engine's frame."""
    case = truth_and_inputs(seed)
    parts = case["truth"]["parts"]
    chin = int(np.flatnonzero((parts == P.LABEL["skin"]).any(axis=1))[-1])
    columns = np.flatnonzero((parts != P.LABEL["background"]).any(axis=0))
    darkness = case["sketch"].copy()
    darkness[chin + 4:] = 0
    cv2.line(darkness, (60, chin + 120), (110, chin + 135), 200, 5)  # the stray stroke
    hints = case["hints"][10].copy()
    hints[chin + 4:] = 0
    dabbed = bool(((parts == P.LABEL["background"]) & (hints[..., 3] > 0)).any())
    return sketch_to_rgba(darkness), hints, chin, slice(columns[0], columns[-1]), dabbed


def body_under_chin(flats: np.ndarray, chin: int, columns: slice, background_dabbed: bool) -> float:
    """The share of the band under the chin that the flats paint as figure (see the module docstring)."""
    side = flats.shape[0]
    band = flats[chin + round(BAND[0] * side):chin + round(BAND[1] * side), columns]
    if not background_dabbed:
        return float((band[..., 3] == 255).mean())
    backdrop = flats[5, 5, :3].astype(int)
    return float((np.abs(band[..., :3].astype(int) - backdrop).sum(axis=-1) > OFF_BACKGROUND).mean())


def evaluate(count: int, seed: int, modes: tuple[str, ...], before: bool) -> tuple[dict, list[np.ndarray]]:
    from ..guidance.predictor import GuidanceModel
    from . import api

    guidance, colorizer = GuidanceModel.load(None, device="cpu"), api.load_colorizer(None, "cpu")
    rule = api.undrawn_body
    if before:
        api.undrawn_body = lambda parts, darkness: ()  # every body part counts as drawn
    try:
        return judged_heads(guidance, colorizer, range(seed, seed + count), modes)
    finally:
        api.undrawn_body = rule


def judged_heads(guidance, colorizer, seeds, modes: tuple[str, ...]) -> tuple[dict, list[np.ndarray]]:
    from . import api

    shares: dict[str, list[float]] = {}
    pictures = []
    for s in seeds:
        sketch, hints, chin, figure, dabbed = lone_head(s)
        request, x, y = plugin_crop(sketch)
        page, page_hints = on_page(sketch, request, x, y), on_page(hints, request, x, y)
        row = [composite([(page_hints, "normal"), (page, "normal")])]
        for mode in modes:
            result = api.render(guidance, page, page_hints, n=1, mode=mode, colorizer=colorizer)
            stack = candidate_stacks(result.layers, request, request)[0]
            flats = stack[0][0][y:y + sketch.shape[0], x:x + sketch.shape[1]]
            share = body_under_chin(flats, chin, figure, dabbed)
            shares.setdefault(f"{mode}.{'dabbed' if dabbed else 'plain'}_background", []).append(share)
            row.append(composite(stack + [(page, "normal")]))
        pictures.append(np.hstack([cv2.resize(np.rint(p).astype(np.uint8), (256, 256), interpolation=cv2.INTER_AREA)
                                   for p in row]))
    metrics = {f"{key}.with_body": round(float(np.mean(np.array(v) > BODY_SHARE)), 3) for key, v in shares.items()}
    metrics |= {f"{key}.heads": len(v) for key, v in shares.items()}
    return metrics, pictures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2_000_000_000)
    parser.add_argument("--modes", default="faithful,refined")
    parser.add_argument("--before", action="store_true", help="every body part counted as drawn (the rule off)")
    parser.add_argument("--out", type=Path, default=None, help="a PNG: the page and each mode's render, per head")
    args = parser.parse_args()
    metrics, pictures = evaluate(args.count, args.seed, tuple(args.modes.split(",")), args.before)
    for key, value in sorted(metrics.items()):
        print(f"{key:40s} {value}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(args.out), cv2.cvtColor(np.vstack(pictures[:8]), cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()
