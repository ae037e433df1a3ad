"""`anisketch client`: talk to a running backend from the command line, with PNG files in and out.

    anisketch client info
    anisketch client guide --sketch sketch.png --out out/ --mode rough --pins eyes,mouth
    anisketch client render --sketch sketch.png --hints hints.png --n 4 --out out/
    anisketch client generate --attr hair_color=blonde,smile=on --seed 7 --out out/
    anisketch client photo face.jpg --out out/

Each verb writes one PNG per result layer and reply.json (the result, each layer's file and placement,
timings); guide also writes preview.png, the layers drawn over the sketch.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from anisketch.protocol import ProtocolError
from anisketch.server.client import DEFAULT_ENDPOINT, Client, Result, ServerError, ServerTimeout


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", default=DEFAULT_ENDPOINT, help=f"the server (default {DEFAULT_ENDPOINT})")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for a reply (default 120)")
    parser.add_argument("--curve-keys", metavar="DIR", help="CURVE key folder (server.key and NAME.key_secret)")
    parser.add_argument("--curve-client", default="client", metavar="NAME", help="which client key pair to use")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    verbs.add_parser("info", help="what the server runs: version, device, models, limits")

    guide = verbs.add_parser("guide", help="guidance line art for a sketch")
    guide.add_argument("--sketch", required=True, type=Path, help="the sketch layer as a PNG (ink = dark or opaque)")
    guide.add_argument("--out", required=True, type=Path)
    guide.add_argument("--mode", choices=["rough", "detail"], default="rough")
    guide.add_argument("--pins", default="", help="part groups to keep as they were, e.g. eyes,mouth (needs --state)")
    guide.add_argument("--faithfulness", default=None,
                       help="0..1, or per group: eyes=0.9,hair=0.2 (default: the server's, 1.0: the strokes as read)")
    guide.add_argument("--state", type=Path, help="a reply.json from an earlier guide, whose state the pins keep")

    render = verbs.add_parser("render", help="colour renders of a sketch from colour hints")
    render.add_argument("--sketch", required=True, type=Path)
    render.add_argument("--hints", type=Path, help="the colour hint layer as a PNG (transparent where no hint)")
    render.add_argument("--n", type=int, default=4, help="how many candidates")
    render.add_argument("--mode", choices=["refined", "faithful"], default="refined")
    render.add_argument("--style-seed", type=int, default=0)
    render.add_argument("--out", required=True, type=Path)

    generate = verbs.add_parser("generate", help="a portrait from attributes and a noise seed")
    generate.add_argument("--attr", default="", help="attributes, e.g. hair_color=blonde,hair_style=twin_tail,smile=on")
    noise = generate.add_mutually_exclusive_group()
    noise.add_argument("--seed", type=int, help="noise seed (default: a fresh one, printed)")
    noise.add_argument("--noise", help="a noise string from an earlier reply.json")
    generate.add_argument("--out", required=True, type=Path)

    photo = verbs.add_parser("photo", help="anime portraits from a photo")
    photo.add_argument("image", type=Path)
    photo.add_argument("--n", type=int, default=4)
    photo.add_argument("--out", required=True, type=Path)


def run(args: argparse.Namespace) -> int:
    try:
        with Client(args.endpoint, timeout=args.timeout, curve_keys=args.curve_keys,
                    curve_client=args.curve_client) as client:
            if args.verb == "info":
                print(json.dumps(client.info(), indent=2))
                return 0
            started = time.perf_counter()
            result, background = _call(client, args)
            round_trip = (time.perf_counter() - started) * 1e3
    except (ServerError, ProtocolError) as error:
        print(f"anisketch client: {error}", file=sys.stderr)
        return 1
    except ServerTimeout as error:
        print(f"anisketch client: {error}. Is `anisketch serve` running at {args.endpoint}?", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"anisketch client: {error}", file=sys.stderr)
        return 2
    write_result(result, args.out, background)
    print(f"{args.verb}: {len(result.layers)} layers in {args.out} ({round_trip:.0f} ms round trip, "
          f"server {result.timing_ms.get('total', float('nan')):.0f} ms)")
    return 0


def _call(client: Client, args: argparse.Namespace) -> tuple[Result, np.ndarray | None]:
    if args.verb == "guide":
        sketch = read_png(args.sketch)
        params: dict = {"mode": args.mode}
        if args.faithfulness is not None:
            params["faithfulness"] = _faithfulness(args.faithfulness)
        if args.pins:
            params["pins"] = args.pins.split(",")
        if args.state:
            params["state"] = json.loads(args.state.read_text())["result"]["state"]
        return client.guide(sketch, **params), sketch
    if args.verb == "render":
        hints = read_png(args.hints) if args.hints else None
        return client.render(read_png(args.sketch), hints, n=args.n, mode=args.mode, style_seed=args.style_seed), None
    if args.verb == "generate":
        noise = args.noise if args.noise is not None else args.seed
        return client.generate(_pairs(args.attr), **({} if noise is None else {"noise": noise})), None
    if args.verb == "photo":
        return client.photo(read_png(args.image), n=args.n), None
    raise AssertionError(args.verb)


def read_png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))


def write_result(result: Result, out: Path, background: np.ndarray | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    placed = []
    for index, layer in enumerate(result.layers):
        name = f"{index:02d}-{re.sub(r'[^A-Za-z0-9]+', '-', layer.name).strip('-').lower() or 'layer'}.png"
        Image.fromarray(layer.rgba, "RGBA").save(out / name)
        placed.append({"file": name, "name": layer.name, "group": layer.group, "x": layer.x, "y": layer.y,
                       "width": layer.rgba.shape[1], "height": layer.rgba.shape[0]})
    reply = {"id": result.id, "op": result.op, "result": result.result, "layers": placed, "timing_ms": result.timing_ms}
    (out / "reply.json").write_text(json.dumps(reply, indent=2))
    if background is not None:
        Image.fromarray(composite(background, result.layers)).save(out / "preview.png")


def composite(background: np.ndarray, layers: list) -> np.ndarray:
    """The layers drawn at their offsets over the background on white, clipped to the background's size."""
    canvas = _over(np.full(background.shape[:2] + (3,), 255.0), background)
    for layer in layers:
        h, w = layer.rgba.shape[:2]
        y0, x0 = max(layer.y, 0), max(layer.x, 0)
        y1, x1 = min(layer.y + h, canvas.shape[0]), min(layer.x + w, canvas.shape[1])
        if y1 > y0 and x1 > x0:
            crop = layer.rgba[y0 - layer.y: y1 - layer.y, x0 - layer.x: x1 - layer.x]
            canvas[y0:y1, x0:x1] = _over(canvas[y0:y1, x0:x1], crop)
    return canvas.round().astype(np.uint8)


def _over(below: np.ndarray, rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[..., 3:4] / 255.0
    return below * (1 - alpha) + rgba[..., :3] * alpha


def _pairs(text: str) -> dict[str, str]:
    pairs = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"attribute {item!r} must be NAME=VALUE, e.g. hair_color=blonde")
        pairs[key.strip()] = value.strip()
    return pairs


def _faithfulness(text: str) -> float | dict[str, float]:
    if "=" in text:
        return {group: float(value) for group, value in _pairs(text).items()}
    return float(text)
