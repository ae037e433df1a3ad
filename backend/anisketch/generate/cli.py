"""`anisketch generate`: a portrait from attributes and a noise seed, as PNG files.

    anisketch generate --attr hair=blonde,style=twin_tail,eyes=blue,smile=on,ribbon=on --seed 7 --out DIR
    anisketch generate --attr hair=pink|silver,hat=on --out DIR                  # random noise, printed
    anisketch generate --attr ... --seed an-aaaaaaaaaaaaok --interpolate-to an-... --steps 8 --out DIR

DIR receives `portrait.png` (colour), `guidance_rough.png` and `guidance_detail.png` (transparent line art,
the rough one with each part in its colour), `guidance_over_portrait.png` (the mode you chose, over a faded
portrait: what tracing looks like in Krita) and `portrait.json` (noise, attributes, guidance state). With
`--interpolate-to`, also `interpolation/frame_NN.png` and `interpolation_strip.png`.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import BadRequest
from . import attributes as A


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = ("attributes (each also 'random'; several values with '|'):\n" + A.describe()
                     + "\nshort names: hair=hair_color, style=hair_style, eyes=eye_color")
    parser.add_argument("--attr", default="", metavar="NAME=VALUE,...",
                        help="attributes to fix, e.g. hair=blonde,style=twin_tail,eyes=blue,smile=on (missing: random)")
    parser.add_argument("--seed", "--noise", dest="noise", default=None, metavar="NOISE",
                        help="a noise string (an-...) or an integer seed; default: a fresh random one")
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNG and JSON files")
    parser.add_argument("--mode", choices=("rough", "detail"), default="rough",
                        help="guidance mode drawn over the portrait preview (both modes are always written)")
    parser.add_argument("--size", type=int, default=512, help="side of the square portrait in px (64..2048)")
    parser.add_argument("--transparent", action="store_true", help="leave the background out of portrait.png")
    parser.add_argument("--interpolate-to", default=None, metavar="NOISE",
                        help="also write the transition to the portrait of this noise (same attributes)")
    parser.add_argument("--steps", type=int, default=8, help="portraits in the transition, both ends included")


def flatten(layers, size: int) -> np.ndarray:
    """Layers composited (alpha over) onto a transparent RGBA canvas of the portrait's size."""
    canvas = np.zeros((size, size, 4), np.float32)
    for layer in layers:
        h, w = layer.rgba.shape[:2]
        src = layer.rgba.astype(np.float32) / 255.0
        dst = canvas[layer.y:layer.y + h, layer.x:layer.x + w]
        a = src[..., 3:4]
        out_a = a + dst[..., 3:4] * (1 - a)
        dst[..., :3] = np.where(out_a > 0, (src[..., :3] * a + dst[..., :3] * dst[..., 3:4] * (1 - a)) / np.maximum(out_a, 1e-6), 0)
        dst[..., 3:4] = out_a
    return (canvas * 255 + 0.5).astype(np.uint8)


def faded(rgba: np.ndarray, amount: float = 0.55) -> np.ndarray:
    out = rgba.copy()
    out[..., :3] = (rgba[..., :3] * (1 - amount) + 255 * amount).astype(np.uint8)
    return out


def write_portrait(out: Path, attributes: dict, noise, size: int, mode: str, transparent: bool):
    from PIL import Image

    from .api import generate

    results = {m: generate(attributes, noise, size=size, mode=m, transparent=transparent) for m in ("rough", "detail")}
    portrait = results[mode].layers[0]
    Image.fromarray(portrait.rgba).save(out / "portrait.png")
    for m, result in results.items():
        Image.fromarray(flatten(result.layers[1:], size)).save(out / f"guidance_{m}.png")
    preview = flatten([replace(portrait, rgba=faded(portrait.rgba))] + results[mode].layers[1:], size)
    Image.fromarray(preview).save(out / "guidance_over_portrait.png")
    info = {k: v for k, v in results[mode].info.items() if k != "candidates"}
    (out / "portrait.json").write_text(json.dumps(info, indent=2) + "\n")
    return results[mode]


def write_interpolation(out: Path, start, attributes: dict, noise_to, steps: int, size: int, mode: str):
    from PIL import Image

    from .api import generate, interpolate

    end = generate(attributes, noise_to, size=size, mode=mode)
    frames = interpolate(start, end, steps, size=size, mode=mode)
    folder = out / "interpolation"
    folder.mkdir(exist_ok=True)
    images = []
    for i, frame in enumerate(frames):
        Image.fromarray(frame.layers[0].rgba).save(folder / f"frame_{i:02d}.png")
        images.append(frame.layers[0].rgba[..., :3])
    thumb = max(64, min(size, 256))
    strip = np.concatenate([np.asarray(Image.fromarray(im).resize((thumb, thumb), Image.Resampling.LANCZOS)) for im in images], 1)
    Image.fromarray(strip).save(out / "interpolation_strip.png")
    (folder / "frames.json").write_text(json.dumps(
        {"from": start.info["noise"], "to": end.info["noise"], "frames": [f.info for f in frames]}, indent=2) + "\n")
    return end


def run(args: argparse.Namespace) -> int:
    try:
        request = A.normalize(A.parse_cli(args.attr))
        args.out.mkdir(parents=True, exist_ok=True)
        result = write_portrait(args.out, request, args.noise, args.size, args.mode, args.transparent)
        print(f"noise {result.info['noise']}  (reuse it with --seed to keep this face)")
        print("attributes " + ", ".join(f"{k}={v}" for k, v in result.info["attributes"].items()))
        if args.interpolate_to is not None:
            end = write_interpolation(args.out, result, request, args.interpolate_to, args.steps, args.size, args.mode)
            print(f"transition to {end.info['noise']}: {args.steps} frames in {args.out / 'interpolation'}")
    except BadRequest as exc:
        print(f"anisketch generate: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0
