"""The production layers judged as the artist sees them (issue 19's measures), and a side-by-side sheet to look at.

    python -m anisketch.render.layers_eval --count 40 --out runs/layers      # CPU; --device cuda on a GPU

On unseen engine seeds (the eval's: the truth at 512 px, the simulator's complete messy sketch, 10 simulated
dabs), one candidate per mode (`--candidates N`: N, see below). Each figure per mode:
- `composite_psnr`: the layers composed bottom to top with their blending over white, the sketch on top,
  against the finished portrait; `old_psnr`: the one-picture render of before (transparent outside the figure)
  over white with the sketch on top, as the docker showed it, on the same inputs;
- `flatness_part` (the issue's measure): per true face part (skin, hair, eyes, clothes, neck, ears), the share
  of its Flat-colours pixels within dE76 6 of the part's most common colour, averaged over parts. An eye holds
  a sclera, an iris and a pupil and clothes a collar, so a correct render cannot reach 100 %: the engine's own
  flats score `engine.flatness_part` (about 74 %), and a render scores higher by painting an eye one colour;
- `flatness_pixels`: the same shares pooled over all the face parts' pixels (not averaged over parts), so a
  part weighs by its size: the engine's own flats score about 90 % on it, as the issue's 92 % says its
  measure gives them (a reading of "within each part ... 85 % of the pixels" that the issue's figure fits);
- `flatness_region`: the same per true *flat region* (the pixels of one part that the engine's own flats give
  one colour: the sclera, the iris, the collar, all the hair), pooled over each part's regions, averaged over
  parts: one colour per region, as a colourist fills it (the engine's own flats score about 100 %);
- `coverage`: the share of the true figure's pixels (part map not background) the flats cover opaquely;
- `dab_hit`: the share of dab pixels where the composite (without the sketch: a dab on a line is a dab on the
  artist's ink) lies within dE76 10 of the dab's colour; `engine.dab_hit` the same of the engine's own layers
  of the true portrait, whose dabs they are (the simulated dab takes its part's colour where it lands, and the
  finished portrait shades and lights that part, and an eye is an iris, a pupil and catch-lights);
  `old_dab_hit` the same of the one-picture render of before over white, on the same dabs: the issue's "hints are
  kept" compares with it (its "today 91 %" fits no figure of this protocol);
- where the shadows fall on the skin (skin, ears and neck of the true part map): the engine's own portrait
  shades exactly where light would not reach (under the fringe, under the chin, on the neck, beside the nose),
  so its Shadows layer there is the *shade zone*. `shade_precision`: the share of the render's skin shadow
  within SHADE_REACH of the zone (the render's face lies a few pixels off the truth's); `shade_recall`: the
  share of the zone within SHADE_REACH of the render's skin shadow; `shade_chance`: the share of the skin
  within SHADE_REACH of the zone, which is what shadows dropped anywhere on the skin would score as precision;
  `sheen_precision`, `sheen_recall`, `sheen_chance`: the same for the Highlights layer on the true hair,
  against the engine's sheen band;
- cel shapes, not blur: `shadow_opaque`, the share of the Shadows layer's painted pixels that are fully opaque
  (a blurred shadow fades out in alpha); `shadow_interior`, their share inside a shape of one tone (the 3 x 3
  pixels around all the same: a gradient has next to none); `shadow_tones`, how many colours paint 95 % of
  those interior pixels (a cel shadow is a handful of tones, a posterised gradient dozens).
- `face_found` (the issue's last check): the share of pictures in which an independent anime-face detector,
  trained on real illustrations (eval/anime_faces.py, AnimeFace 2009), finds a face: the composite with the
  sketch on top (`old_face_found`: the old render as the docker showed it), against `engine.face_found`, the
  engine's own finished portraits (the truth), which a render should match, and `engine.sketched_face_found`,
  the engine's own layers of the truth under the same sketch: a perfect colourist's picture in this protocol,
  where the artist's rough lines take the place of the finished line art. Left out, with a note, where the
  detector is not installed (`python3 install.py --test` installs it).
With `--candidates N` the flatness, coverage and dab figures pool all N candidates of each render (the others
take their unhinted colours from style donors), the PSNRs stay the first candidate's.
With `--framing crop` (held out for the colouriser, which trained on the engine's frame alone; the guidance's
frame finder trained on the plugin's crop rule) the portrait is drawn as a bust on a canvas and sent as the
plugin crops it (plugin/anisketch_krita/region.py: the ink's bounds and a quarter of their extent round them,
square): the engine's frame lies inside a request 1.5 times the sketch's extent, paper all round it and below
the shoulders' ends. The render's layers are cut back to the engine's frame and judged there as above (the
`old_*` figures are left out).
The sheet (PNG): target | old render | new composite | flats | shadows | highlights (over mid grey), one row
per seed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from ..engine import params as P
from ..engine.sketch import sketch_to_rgba
from ..eval.framing import CROP_MARGIN  # the plugin's margin round the ink's bounds
from ..eval.metrics import psnr
from .evaluate import truth_and_inputs
from .lab import to_lab
from .layered import BLEND_OF, FLATS, HIGHLIGHTS, SHADOWS, candidate_stacks, composite, refined_production

FLAT_DE, DAB_DE = 6.0, 10.0
SHADE_REACH = 0.01  # of the side: how far off the true shade zone a shadow may lie and still count as in it
SKIN_PARTS = ("skin", "ears", "neck")
MIN_REGION = 20  # pixels: a true flat colour on fewer is an anti-aliased edge, not a region
FACE_PARTS = ("skin", "hair", "eye_l", "eye_r", "clothes", "neck", "ears")
LAYER_NAMES = (FLATS, SHADOWS, HIGHLIGHTS)  # a candidate's stack, bottom to top (refined adds its line art)


def mode_share(lab: np.ndarray, rgb: np.ndarray, region: np.ndarray) -> tuple[int, int]:
    """(pixels of `region` within dE76 6 of its most common colour, pixels of `region`)."""
    colors, counts = np.unique(rgb[region], axis=0, return_counts=True)
    mode = to_lab(colors[np.argmax(counts)][None].astype(np.float32))[0]
    return int((np.linalg.norm(lab[region] - mode, axis=1) <= FLAT_DE).sum()), int(region.sum())


def flatness(flats: np.ndarray, parts: np.ndarray, true_flats: np.ndarray | None = None,
             pooled: bool = False) -> float:
    """Mean over the parts present of the share of opaque flat pixels within dE76 6 of their mode colour: the
    part's mode, or with `true_flats` (RGB) each true flat region's own mode, pooled over the part's regions.
    `pooled`: the share over all the parts' pixels together instead of the mean of the parts' shares."""
    lab = to_lab(flats[..., :3])
    shares, hits, totals = [], 0, 0
    for name in FACE_PARTS:
        part = (parts == P.LABEL[name]) & (flats[..., 3] == 255)
        if part.sum() < 50:
            continue
        if true_flats is None:
            hit, total = mode_share(lab, flats[..., :3], part)
        else:
            key = true_flats[..., 0].astype(np.int32) << 16 | true_flats[..., 1].astype(np.int32) << 8 | true_flats[..., 2]
            values, counts = np.unique(key[part], return_counts=True)
            pairs = [mode_share(lab, flats[..., :3], part & (key == v)) for v in values[counts >= MIN_REGION]]
            hit, total = sum(h for h, _ in pairs), sum(t for _, t in pairs)
        if total:
            shares.append(hit / total)
            hits, totals = hits + hit, totals + total
    if pooled:
        return hits / totals if totals else float("nan")
    return float(np.mean(shares)) if shares else float("nan")


def engine_layers(seed: int, side: int) -> dict[str, np.ndarray]:
    """The engine's own production layers of the seed's true portrait (name -> RGBA)."""
    from ..engine.geometry import build_portrait

    return refined_production(build_portrait(P.sample_params(seed)), side, background_hinted=True)


def shade_placement(shadows: np.ndarray, true_shadows: np.ndarray, parts: np.ndarray) -> dict[str, float]:
    """Where a Shadows layer (RGBA) shades the skin against the true shade zone (the engine's own Shadows layer
    on the skin): precision, recall and chance (the module docstring). NaN where there is nothing to count."""
    return zone_placement(shadows, true_shadows, parts, SKIN_PARTS, "shade")


def sheen_placement(highlights: np.ndarray, true_highlights: np.ndarray, parts: np.ndarray) -> dict[str, float]:
    """The same for a Highlights layer on the hair, against the engine's hair sheen."""
    return zone_placement(highlights, true_highlights, parts, ("hair",), "sheen")


def zone_placement(layer: np.ndarray, true_layer: np.ndarray, parts: np.ndarray, names: tuple[str, ...],
                   prefix: str) -> dict[str, float]:
    """`prefix`_precision, _recall and _chance of where `layer` (RGBA) paints on the parts `names` against
    where `true_layer` does (within SHADE_REACH)."""
    on = np.isin(parts, [P.LABEL[name] for name in names])
    radius = max(1, int(round(SHADE_REACH * parts.shape[0])))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    near = lambda mask: cv2.dilate(mask.astype(np.uint8), kernel) > 0  # noqa: E731
    zone = on & (true_layer[..., 3] > 0)
    painted = on & (layer[..., 3] > 0)
    share = lambda part, whole: float(part.sum() / whole.sum()) if whole.any() else float("nan")  # noqa: E731
    return {f"{prefix}_precision": share(painted & near(zone), painted),
            f"{prefix}_recall": share(zone & near(painted), zone), f"{prefix}_chance": share(on & near(zone), on)}


def cel_shading(shadows: np.ndarray) -> dict[str, float]:
    """How cel-like a Shadows layer (RGBA) is: the share of its painted pixels fully opaque, the share inside a
    shape of one tone, and the number of colours painting 95 % of those (NaN when it paints nothing)."""
    painted = shadows[..., 3] > 0
    if not painted.any():
        return dict.fromkeys(("shadow_opaque", "shadow_interior", "shadow_tones"), float("nan"))
    square = np.ones((3, 3), np.uint8)
    uniform = np.all(cv2.dilate(shadows, square) == cv2.erode(shadows, square), axis=2)
    interior = painted & uniform
    _, counts = np.unique(shadows[interior][:, :3], axis=0, return_counts=True)
    counts = np.sort(counts)[::-1]
    tones = int(np.searchsorted(np.cumsum(counts), 0.95 * counts.sum()) + 1) if counts.size else 0
    return {"shadow_opaque": float((shadows[..., 3][painted] == 255).mean()),
            "shadow_interior": float(interior.sum() / painted.sum()), "shadow_tones": float(tones)}


def dab_hit(shown: np.ndarray, hints: np.ndarray) -> tuple[int, int]:
    """(dab pixels within dE76 10 of their dab's colour in `shown`, dab pixels)."""
    from .dabs import find_dabs

    lab = to_lab(shown)
    hit = total = 0
    for dab in find_dabs(hints):
        wanted = to_lab(np.asarray(dab.color, np.float32)[None])[0]
        hit += int((np.linalg.norm(lab[dab.mask] - wanted, axis=1) <= DAB_DE).sum())
        total += int(dab.mask.sum())
    return hit, total


def count_dab_hits(tally: list[int], stack: list, hints: np.ndarray) -> None:
    """Add a stack's (rgba, blend) `dab_hit` figures to `tally` ([hits, dab pixels])."""
    hit, total = dab_hit(np.rint(composite(stack)).astype(np.uint8), hints)
    tally[0] += hit
    tally[1] += total


def layer_view(layer: tuple[np.ndarray, str]) -> np.ndarray:
    """One layer to look at: over white paper, a screen layer over mid grey (over white it shows nothing)."""
    grey = np.full(layer[0].shape[:2] + (3,), 128.0, np.float32)
    return composite([layer], under=grey if layer[1] == "screen" else None)


def framed_stacks(guidance, colorizer, sketch: np.ndarray, hints: np.ndarray, candidates: int, mode: str,
                  framing: str | None) -> list[list[tuple[np.ndarray, str]]]:
    """The render's candidate stacks over the engine's frame (the sketch's square), rendered in that frame or,
    with `framing` "crop", in the plugin's crop around the sketch and cut back to the frame."""
    from .api import render

    side = sketch.shape[0]
    if framing is None:
        result = render(guidance, sketch, hints, n=candidates, mode=mode, colorizer=colorizer)
        return candidate_stacks(result.layers, side, side)
    request, x, y = plugin_crop(sketch)
    big_sketch, big_hints = (on_page(layer, request, x, y) for layer in (sketch, hints))
    result = render(guidance, big_sketch, big_hints, n=candidates, mode=mode, colorizer=colorizer)
    return [[(rgba[y:y + side, x:x + side], blend) for rgba, blend in stack]
            for stack in candidate_stacks(result.layers, request, request)]


def plugin_crop(sketch: np.ndarray) -> tuple[int, int, int]:
    """The square the plugin would send round this sketch drawn on a larger canvas (its side), and where the
    sketch's own square lies in it (x, y): centred on the ink's bounds, made to hold the whole square."""
    ink = sketch[..., 3] > 0
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    side = sketch.shape[0]
    extent = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    request = max(side, int(round(extent * (1 + 2 * CROP_MARGIN))))
    place = lambda lo, hi: int(np.clip(round(request / 2 - (lo + hi + 1) / 2), 0, request - side))  # noqa: E731
    return request, place(cols[0], cols[-1]), place(rows[0], rows[-1])


def on_page(layer: np.ndarray, request: int, x: int, y: int) -> np.ndarray:
    """An RGBA layer drawn at (x, y) of a transparent request x request page."""
    page = np.zeros((request, request, 4), np.uint8)
    page[y:y + layer.shape[0], x:x + layer.shape[1]] = layer
    return page


def old_view(rgba: np.ndarray, sketch_rgba: np.ndarray) -> np.ndarray:
    """Before: one picture above the sketch, transparent outside the figure, over white paper."""
    under = composite([(sketch_rgba, "normal")])
    return composite([(rgba, "normal")], under=under)


def evaluate(count: int, seed: int, device: str, out: Path | None, candidates: int = 1,
             modes: tuple[str, ...] = ("faithful", "refined"), torch_shapes: bool = False,
             framing: str | None = None) -> dict:
    """`torch_shapes`: faithful layers clustered with torch on `device` (`clusters_torch`, what a GPU does)
    even on the CPU, where OpenCV's clustering is the default. `framing`: None (the engine's) or "crop"."""
    from ..guidance.predictor import GuidanceModel
    from .api import load_colorizer

    guidance = GuidanceModel.load(None, device=device)
    colorizer = load_colorizer(None, device)
    if colorizer is not None and torch_shapes:
        colorizer.shapes_device = device
    scores: dict[str, list[float]] = {}
    hits: dict[str, list[int]] = {f"{mode}.dab_hit": [0, 0] for mode in ("engine", *modes)}  # figure: [hits, pixels]
    rows = []
    judged: dict[str, list[np.ndarray]] = {}  # pictures for the face detector, by figure name
    for s in range(seed, seed + count):
        case = truth_and_inputs(s)
        truth, hints = case["truth"], case["hints"][10]
        sketch = sketch_to_rgba(case["sketch"])
        row = [truth["color"]]
        judged.setdefault("engine.face_found", []).append(truth["color"])
        own = engine_layers(s, sketch.shape[0])
        engine = own[FLATS]
        scores.setdefault("engine.flatness_part", []).append(flatness(engine, truth["parts"]))
        scores.setdefault("engine.flatness_pixels", []).append(flatness(engine, truth["parts"], pooled=True))
        scores.setdefault("engine.flatness_region", []).append(flatness(engine, truth["parts"], engine[..., :3]))
        own_stack = [(own[name], BLEND_OF[name]) for name in LAYER_NAMES]
        count_dab_hits(hits["engine.dab_hit"], own_stack, hints)
        # the engine's own layers under the same sketch: what a perfect colourist would show the detector
        judged.setdefault("engine.sketched_face_found", []).append(
            np.rint(composite(own_stack + [(sketch, "normal")])).astype(np.uint8))
        for mode in modes:
            stacks = framed_stacks(guidance, colorizer, sketch, hints, candidates, mode, framing)
            stack = stacks[0]
            shown = composite(stack + [(sketch, "normal")])
            scores.setdefault(f"{mode}.composite_psnr", []).append(psnr(np.rint(shown).astype(np.uint8),
                                                                         truth["color"]))
            judged.setdefault(f"{mode}.face_found", []).append(np.rint(shown).astype(np.uint8))
            if framing is None:
                old = old_render(guidance, colorizer, case, mode)
                count_dab_hits(hits.setdefault(f"{mode}.old_dab_hit", [0, 0]), [(old, "normal")], hints)
                old_shown = old_view(old, sketch)
                judged.setdefault(f"{mode}.old_face_found", []).append(np.rint(old_shown).astype(np.uint8))
                scores.setdefault(f"{mode}.old_psnr", []).append(psnr(np.rint(old_shown).astype(np.uint8),
                                                                       truth["color"]))
            else:  # the sheet's second column: what the artist drew and dabbed
                old_shown = composite([(hints, "normal"), (sketch, "normal")])
            for candidate in stacks:  # the other candidates' palettes are the style donors', not the truth's
                flats = candidate[0][0]
                scores.setdefault(f"{mode}.flatness_part", []).append(flatness(flats, truth["parts"]))
                scores.setdefault(f"{mode}.flatness_pixels", []).append(flatness(flats, truth["parts"], pooled=True))
                scores.setdefault(f"{mode}.flatness_region", []).append(
                    flatness(flats, truth["parts"], engine[..., :3]))
                figure = truth["parts"] != P.LABEL["background"]
                scores.setdefault(f"{mode}.coverage", []).append(float((flats[..., 3][figure] == 255).mean()))
                named = dict(zip(LAYER_NAMES, (rgba for rgba, _ in candidate)))
                for key, value in (shade_placement(named[SHADOWS], own[SHADOWS], truth["parts"])
                                   | sheen_placement(named[HIGHLIGHTS], own[HIGHLIGHTS], truth["parts"])
                                   | cel_shading(named[SHADOWS])).items():
                    scores.setdefault(f"{mode}.{key}", []).append(value)
                count_dab_hits(hits[f"{mode}.dab_hit"], candidate, hints)
            if mode == modes[0]:  # the sheet shows the first mode asked for
                row += [old_shown, shown] + [layer_view(layer) for layer in stack[:3]]
        rows.append([np.rint(np.asarray(image, np.float32)).astype(np.uint8) for image in row])
    scores |= faces_found_scores(judged)
    metrics = {key: round(float(np.nanmean(values)), 3) for key, values in scores.items()}
    for name, (hit, total) in hits.items():
        metrics[name] = round(hit / max(total, 1), 3)
    if out is not None:
        from PIL import Image

        out.mkdir(parents=True, exist_ok=True)
        Image.fromarray(sheet(rows, modes[0])).save(out / "layers_sheet.png")
    return metrics


def faces_found_scores(judged: dict[str, list[np.ndarray]]) -> dict[str, list[float]]:
    """name -> 1.0 / 0.0 per picture: whether the independent anime-face detector finds a face in it."""
    from ..eval.anime_faces import detector_installed, faces_found

    if not detector_installed():
        print("face_found: left out, the anime-face detector is not installed (python3 install.py --test)")
        return {}
    names = list(judged)
    found = iter(faces_found([image for name in names for image in judged[name]]))
    return {name: [float(next(found)) for _ in judged[name]] for name in names}


def old_render(guidance, colorizer, case: dict, mode: str) -> np.ndarray:
    """Candidate 1 as the render of before made it: one RGBA picture, lines painted in."""
    from .faithful import faithful_candidates
    from .refined import refined_candidates

    sketch = sketch_to_rgba(case["sketch"])
    guide = guidance.guide(case["sketch"])
    hints = case["hints"][10]
    side = sketch.shape[0]
    if mode == "refined":
        return refined_candidates(guide.floats, guide.choices, hints, side, 1, 0, guide.placement)[0][0]
    from ..engine.geometry import build_portrait
    from ..engine.raster import render as render_portrait

    portrait = guide.placement.portrait(build_portrait(P.decode(guide.floats, guide.choices)))
    parts = render_portrait(portrait, colorizer.input_size)["parts"]
    return faithful_candidates(colorizer, case["sketch"], hints, parts, None, 1, 0)[0]


def sheet(rows: list[list[np.ndarray]], mode: str, thumb: int = 256) -> np.ndarray:
    names = ["target", f"old {mode} render", "composite", "Flat colours", "Shadows", "Highlights"]
    header = np.full((24, thumb * len(names), 3), 255, np.uint8)
    for j, name in enumerate(names):
        cv2.putText(header, name, (j * thumb + 6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    lines = [np.concatenate([cv2.resize(image, (thumb, thumb), interpolation=cv2.INTER_AREA) for image in row[:6]],
                            axis=1) for row in rows[:8]]
    return np.concatenate([header] + lines, axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2_000_000_000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--candidates", type=int, default=1,
                        help="candidates per render: flatness, coverage and dab hits count them all, the PSNRs "
                             "the first")
    parser.add_argument("--modes", default="faithful,refined", help="comma-separated render modes to judge")
    parser.add_argument("--torch-shapes", action="store_true",
                        help="cluster the faithful layers with torch on --device, as on a GPU (CPU default: OpenCV)")
    parser.add_argument("--framing", choices=["engine", "crop"], default="engine",
                        help="engine: the engine's own frame; crop: a bust on a canvas, as the plugin crops it")
    args = parser.parse_args()
    metrics = evaluate(args.count, args.seed, args.device, args.out, args.candidates, tuple(args.modes.split(",")),
                       args.torch_shapes, None if args.framing == "engine" else args.framing)
    for key, value in sorted(metrics.items()):
        print(f"{key:28s} {value}")


if __name__ == "__main__":
    main()
