"""`anisketch photo IMAGE --out DIR`: anime portraits of the face in a photo, as PNG files.

Writes, for N candidates (styles by seed): guidance line art in both modes, the colour render, the
sheet (photo | rough | detail | colour per candidate), the faces found, and photo.json with the
measurements, sampled colours and each candidate's attributes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from ..errors import BadRequest


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", type=Path, help="the photo (PNG, JPEG, ...)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNG files and photo.json")
    parser.add_argument("--n", type=int, default=4, help="number of candidates (styles), 1-8 (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="first style seed; candidates use seed, seed+1, ...")
    parser.add_argument("--size", type=int, default=512, help="side of each output image in px (default 512)")
    parser.add_argument("--selection", type=_rectangle, default=None, metavar="X0,Y0,X1,Y1",
                        help="use the face under this rectangle (photo pixels) instead of the largest")
    parser.add_argument("--backend", choices=("auto", "mediapipe", "haar"), default="auto",
                        help="face finder: MediaPipe's mesh when installed (auto), or OpenCV's Haar cascades")


def _rectangle(text: str) -> tuple[float, float, float, float]:
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("a selection is X0,Y0,X1,Y1 in photo pixels, e.g. 100,50,300,260") from None
    return x0, y0, x1, y1


def read_photo(path: Path) -> np.ndarray:
    """RGB or RGBA uint8, turned upright as the camera's EXIF orientation says (phone photos)."""
    from PIL import Image, ImageOps

    with Image.open(path) as stored:
        image = ImageOps.exif_transpose(stored)
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        return np.asarray(image.convert("RGBA" if has_alpha else "RGB"))


def run(args: argparse.Namespace) -> int:
    from ..engine import build_portrait, render, render_lines
    from ..engine.params import attributes_of
    from ..layers import GROUP_COLORS
    from .detect import as_rgb, find_face
    from .mapping import framed_crop, photo_to_params
    from .sheet import candidate_sheet, faces_overlay, on_white

    if not 1 <= args.n <= 8 or not 64 <= args.size <= 2048:
        print("error: --n must be 1-8 and --size 64-2048", file=sys.stderr)
        return 2
    try:
        photo = read_photo(args.image)
    except OSError as error:
        print(f"error: cannot read {args.image} as an image ({error})", file=sys.stderr)
        return 2
    try:
        detection = find_face(photo, selection=args.selection, backend=args.backend)
    except BadRequest as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    face = detection.face
    rgb = as_rgb(photo)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    write = lambda name, image: cv2.imwrite(str(out / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))  # noqa: E731
    write("faces.png", faces_overlay(rgb, detection))
    crop = framed_crop(rgb, face, args.size)
    write("photo_crop.png", crop)

    rows, labels, candidates = [], [], []
    for k in range(args.n):
        seed = args.seed + k
        params = photo_to_params(face, seed)
        portrait = build_portrait(params)
        images = render(portrait, args.size)
        rough = on_white(render_lines(portrait.strokes, args.size, colors=GROUP_COLORS))
        detail = np.repeat(255 - render_lines(portrait.strokes, args.size)[..., None], 3, axis=2)
        write(f"lines_rough_{seed}.png", rough)
        write(f"lines_detail_{seed}.png", detail)
        write(f"color_{seed}.png", images["color"])
        rows.append({"rough": rough, "detail": detail, "color": images["color"]})
        labels.append(f"seed {seed}")
        candidates.append({"seed": seed, "attributes": attributes_of(params)})
    write("sheet.png", candidate_sheet(crop, rows, labels))

    report = {
        "image": str(args.image),
        "faces_found": detection.count,
        "chosen": detection.chosen,
        "backend": detection.backend,
        "timing_ms": {k: round(v, 1) for k, v in detection.timing_ms.items()},
        "box": [round(v, 1) for v in (face.box.x0, face.box.y0, face.box.x1, face.box.y1)],
        "landmarks": face.source,
        "measurements": {k: None if v is None else round(v, 4) for k, v in face.measurements.as_dict().items()},
        "glasses": face.glasses,
        "colours": face.appearance.colours,
        "candidates": candidates,
        "warnings": face.warnings(),
    }
    (out / "photo.json").write_text(json.dumps(report, indent=2))
    print(f"{detection.count} face(s) found ({detection.backend}); portraits of face {detection.chosen + 1} "
          f"in {out}/sheet.png")
    for note in face.warnings():
        print(f"note: {note}")
    return 0
