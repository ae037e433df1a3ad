"""`anisketch demo --out DIR`: the main job on the shipped sample, no Krita needed.

Reads the sample sketch (and colour hints) shipped with the backend, asks the Service for guidance in both
modes and for colour renders, and writes each result as a PNG plus a preview of the guidance over the sketch,
as the artist would see it in Krita.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ASSETS = Path(__file__).resolve().parent / "assets"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("demo"), help="output folder (default ./demo)")
    parser.add_argument("--sketch", type=Path, default=ASSETS / "sample_sketch.png", help="RGBA sketch PNG")
    parser.add_argument("--hints", type=Path, default=ASSETS / "sample_hints.png", help="RGBA colour-hint PNG")
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto")
    parser.add_argument("--candidates", type=int, default=4, help="colour render candidates")


def load_rgba(path: Path) -> np.ndarray:
    from PIL import Image

    if not path.is_file():
        raise SystemExit(f"anisketch demo: {path} not found")
    return np.asarray(Image.open(path).convert("RGBA"))


def paste(canvas: np.ndarray, layer, opacity: float = 1.0) -> None:
    """Alpha-composite a service Layer onto an RGB float canvas, in place."""
    h, w = layer.rgba.shape[:2]
    region = canvas[layer.y : layer.y + h, layer.x : layer.x + w]
    rgba = layer.rgba[: region.shape[0], : region.shape[1]].astype(np.float32) / 255.0
    alpha = rgba[..., 3:] * opacity
    region[:] = region * (1 - alpha) + rgba[..., :3] * alpha


def preview(sketch_rgba: np.ndarray, layers, opacity: float = 0.6) -> np.ndarray:
    """The sketch on white paper with the guidance over it."""
    canvas = np.ones(sketch_rgba.shape[:2] + (3,), np.float32)
    ink = sketch_rgba.astype(np.float32) / 255.0
    canvas[:] = canvas * (1 - ink[..., 3:]) + ink[..., :3] * ink[..., 3:]
    for layer in layers:
        paste(canvas, layer, opacity)
    return (canvas * 255 + 0.5).astype(np.uint8)


def save_layers(out: Path, prefix: str, layers, size: tuple[int, int]) -> None:
    from PIL import Image

    for layer in layers:
        full = np.zeros(size + (4,), np.uint8)
        h, w = layer.rgba.shape[:2]
        full[layer.y : layer.y + h, layer.x : layer.x + w] = layer.rgba[: size[0] - layer.y, : size[1] - layer.x]
        name = layer.name.lower().replace(": ", "_").replace(" ", "_")
        Image.fromarray(full).save(out / f"{prefix}{name}.png")


def run(args: argparse.Namespace) -> int:
    from PIL import Image

    from .render.layered import candidate_stacks, composite
    from .service import Service

    args.out.mkdir(parents=True, exist_ok=True)
    sketch = load_rgba(args.sketch)
    service = Service(device=args.device)
    for mode in ("rough", "detail"):
        result = service.guide(sketch, mode=mode)
        save_layers(args.out, f"guidance_{mode}_", result.layers, sketch.shape[:2])
        Image.fromarray(preview(sketch, result.layers)).save(args.out / f"preview_{mode}.png")
        confidence = ", ".join(f"{g} {c:.2f}" for g, c in result.info["confidence"].items())
        print(f"guidance ({mode}): {len(result.layers)} layer(s) in {sum(result.timing_ms.values()):.0f} ms; "
              f"drawn so far: {confidence}")
    if hasattr(service, "render") and args.hints.is_file():
        hints = load_rgba(args.hints)
        for mode in ("refined", "faithful"):
            try:
                result = service.render(sketch, hints, n=args.candidates, mode=mode, style_seed=0)
            except Exception as exc:  # noqa: BLE001 - a missing model must not hide the guidance results above
                print(f"render ({mode}): unavailable: {exc}")
                continue
            stacks = candidate_stacks(result.layers, *sketch.shape[:2])
            for i, stack in enumerate(stacks):  # as the artist sees it: the layers beneath the sketch, over white
                shown = composite(stack + [(sketch, "normal")])
                Image.fromarray(np.rint(shown).astype(np.uint8)).save(args.out / f"render_{mode}_{i + 1}.png")
                save_layers(args.out, f"render_{mode}_{i + 1}_",
                            [layer for layer in result.layers if layer.group == f"Candidate {i + 1}"], sketch.shape[:2])
            print(f"render ({mode}): {len(stacks)} candidates ({len(result.layers)} layers) in "
                  f"{sum(result.timing_ms.values()):.0f} ms")
    print(f"wrote {args.out}/")
    return 0
