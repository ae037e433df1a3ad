"""Faithful colour renders: the artist's own lines, coloured by the colouriser network as drawn.

The network colours at its training size (256 px), which is plenty for flat cel fills; the fills are then
upsampled smoothly to the request's size and the artist's *own full-resolution lines* are inked on top, in
colour-traced ink (each line pixel a dark tone of the fill under it, as the engine inks), so every line stays
exactly as crisp as drawn (running the net at 512 px would cost 4x the time and it has never
seen lines that thin).

Candidates: the first is the network's own colouring; each further one adds *style dabs*: for every part the
artist left unhinted (hair, skin, irises, clothes, background), a dab of the style donor's colour at the
part's deepest interior point, placed with the guidance's part map (so candidate k has the palette of refined
candidate k wherever the artist gave no hint).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import torch

from ..blocks import for_inference
from ..engine import params as P
from ..errors import ModelUnavailable
from ..weights import default_weights_dir, load_tensors, read_manifest
from .dabs import ALPHA_THRESHOLD, find_dabs
from .drawn import at_side
from .layered import rgba_of
from .model import Colorizer, ColorizerConfig, make_input
from .refined import COLOR_OF_LABEL, donor_palette

STYLE_DAB_RADIUS = 0.02  # of the square's side
STYLED_LABELS = ("hair", "skin", "eye_l", "eye_r", "clothes", "background")


class ColorizerModel:
    """The loaded network plus what inference needs around it (input size, device)."""

    def __init__(self, net: Colorizer, input_size: int, device: str):
        self.net = for_inference(net, device)  # folded, and NHWC on the CPU (oneDNN's fast convolutions want it)
        self.input_size = input_size
        self.device = device
        # Where the predictions are clustered into the layers' colours (faithful_layers): on a GPU, there,
        # next to the predictions; on the CPU, with OpenCV (None), much faster than torch there.
        self.shapes_device: str | None = None if device == "cpu" else device

    @classmethod
    def load(cls, weights_dir: Path | None = None, device: str = "cpu") -> "ColorizerModel":
        tensors, meta, _ = load_tensors(weights_dir or default_weights_dir(), "colorizer")
        net = Colorizer(ColorizerConfig.from_dict(json.loads(meta["colorizer_config"])))
        net.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=False)  # no num_batches_tracked
        return cls(net, int(meta.get("input_size", 256)), device)

    def fills(self, lines: np.ndarray, hints: np.ndarray) -> np.ndarray:
        """lines uint8 [B, S, S], hints uint8 [B, S, S, 4] at the input size -> fills uint8 [B, S, S, 3]."""
        # the bytes go to the device as they are, and the floats are made there: a quarter of the copy, and on a
        # GPU none of the arithmetic on the CPU
        lines_t = torch.from_numpy(lines[:, None]).to(self.device)
        hints_t = torch.from_numpy(hints).to(self.device).permute(0, 3, 1, 2)
        with torch.inference_mode():
            x = make_input(lines_t, hints_t)
            if self.device == "cpu":
                x = x.contiguous(memory_format=torch.channels_last)
            y = self.net(x).clamp_(0, 1).mul_(255).round_()
        return y.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def load_colorizer(weights_dir: Path | None = None, device: str = "cpu") -> ColorizerModel | None:
    """The shipped colouriser, or None when no colouriser is shipped yet (faithful mode then says so).

    A colouriser that is listed but missing or corrupt raises ModelUnavailable (that is a broken install)."""
    weights_dir = Path(weights_dir or default_weights_dir())
    try:
        listed = "colorizer" in read_manifest(weights_dir)
    except ModelUnavailable:
        listed = False
    return ColorizerModel.load(weights_dir, device) if listed else None


def lines_at(darkness: np.ndarray, size: int) -> np.ndarray:
    """The square darkness image at the network's size; thin lines faded by downscaling get their ink back."""
    img = cv2.resize(darkness, (size, size), interpolation=cv2.INTER_AREA) if darkness.shape[0] != size else darkness
    inked = img[img > 12]
    if inked.size >= 12:
        strong = float(np.percentile(inked, 90))
        if strong < 200:
            img = cv2.convertScaleAbs(img, alpha=230.0 / max(strong, 25.0))
    return img


def hints_at(hints_rgba: np.ndarray, size: int) -> np.ndarray:
    """The hint layer at the network's size: colours averaged over solid pixels only, small dabs kept."""
    if hints_rgba.shape[0] == size:
        return hints_rgba
    solid = (hints_rgba[..., 3] >= ALPHA_THRESHOLD).view(np.uint8)
    # colours premultiplied by solidity (0 or 1) and the solidity itself, in one 4-channel image: half the time
    # of a strided float product, the same values
    premultiplied = cv2.bitwise_and(hints_rgba, hints_rgba, mask=solid)
    premultiplied[..., 3] = solid
    small = cv2.resize(premultiplied.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    coverage = small[..., 3]
    rgb = small[..., :3] / np.maximum(coverage, 1e-6)[..., None]
    # a dab a third of a pixel wide at 256 px still counts
    return rgba_of(np.clip(np.rint(rgb), 0, 255).astype(np.uint8), np.where(coverage >= 0.3, 255, 0))


def style_dabs(hints: np.ndarray, parts: np.ndarray, style_seed: int, candidate: int,
               open_parts: dict | None = None) -> np.ndarray:
    """`hints` (at the network's size) plus one dab of the donor's colour on every part the artist left open.
    `open_parts`: those parts' `dab_spot`s, found once for all the candidates (None: found here)."""
    donor = donor_palette(style_seed, candidate)
    out = hints.copy()
    for label, spot in (unhinted_parts(hints, parts) if open_parts is None else open_parts).items():
        if spot is not None:
            cv2.circle(out, spot[:2], spot[2], (*(int(round(255 * c)) for c in donor[COLOR_OF_LABEL[label]]), 255),
                       -1, cv2.LINE_8)
    return out


def unhinted_parts(hints: np.ndarray, parts: np.ndarray) -> dict:
    """label -> `dab_spot` of each part a style dab goes on: those the artist left open."""
    hinted = hints[..., 3] >= ALPHA_THRESHOLD
    regions = {label: parts == P.LABEL[label] for label in STYLED_LABELS}
    return {label: dab_spot(region, hints.shape[0]) for label, region in regions.items() if not (hinted & region).any()}


def both_eyes(hints: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """`hints` with a dab on one iris repeated on the other, as refined mode colours both irises from one dab
    (the network, left alone, colours only the eye it was shown)."""
    solid = hints[..., 3] >= ALPHA_THRESHOLD
    eyes = [parts == P.LABEL["eye_l"], parts == P.LABEL["eye_r"]]
    hinted = [(solid & eye).any() for eye in eyes]
    if hinted[0] == hinted[1]:
        return hints
    source, target = (eyes[0], eyes[1]) if hinted[0] else (eyes[1], eyes[0])
    out = hints.copy()
    color = np.rint(hints[solid & source][:, :3].astype(np.float64).mean(axis=0))
    dab_inside(out, target, tuple(int(c) for c in color))
    return out


def dab_inside(hints: np.ndarray, region: np.ndarray, rgb: tuple[int, ...]) -> None:
    """Paint (in place) a round dab of `rgb` at the deepest interior point of `region`, if it has room."""
    spot = dab_spot(region, hints.shape[0])
    if spot is not None:
        cv2.circle(hints, spot[:2], spot[2], (*rgb, 255), -1, cv2.LINE_8)


def dab_spot(region: np.ndarray, side: int) -> tuple[int, int, int] | None:
    """(x, y, radius) of a round dab at the deepest interior point of `region` (bool, side x side), or None
    when it has no room."""
    region = region.astype(np.uint8)
    if region.sum() < 16:
        return None
    depth = cv2.distanceTransform(region, cv2.DIST_L2, 3)
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    return int(x), int(y), int(max(1, min(STYLE_DAB_RADIUS * side, 0.7 * depth[y, x])))


TRACE_VALUE, TRACE_CEILING = 0.38, 0.42  # as the engine's colour trace (palette._trace): v * 0.38, at most 0.42


def trace_ink(fill: np.ndarray) -> np.ndarray:
    """Per pixel, the line colour the engine would trace from this fill (float32 RGB 0..255, any [..., 3]
    shape): the same hue, more saturated, dark enough to read as ink on any colour (hair lines in a dark hair
    tone, skin lines in warm brown...)."""
    hsv = cv2.cvtColor(fill.reshape(1, -1, 3).astype(np.float32) * (1.0 / 255.0), cv2.COLOR_RGB2HSV)
    hsv[..., 1] = np.minimum(hsv[..., 1] * 1.3 + 0.1, 1.0)
    hsv[..., 2] = np.minimum(hsv[..., 2] * TRACE_VALUE, TRACE_CEILING)
    return (cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255.0).reshape(fill.shape)


def ink_lines(fill: np.ndarray, darkness: np.ndarray, ink=None) -> np.ndarray:
    """The artist's lines over the fills: out = fill * (1 - a) + ink * a, with a = darkness / 255.

    ink: one RGB colour, or None for colour-traced lines (`trace_ink` of the fill under each line pixel), as
    the engine's portraits and cel animation ink them. On the evaluation's true fills and lines, traced lines
    reach 33.2 dB against the true colour image, one flat ink 30.9 dB, a PaintsChainer-style multiply
    (black lines) 25.5 dB: a line drawn in the fill's own dark tone is what the truth has.
    Only the pixels with some ink are touched (a tenth of a portrait), so tracing costs little."""
    out = fill.copy()
    inked = np.flatnonzero(darkness)
    if inked.size == 0:
        return out
    flat = out.reshape(-1, 3)
    under = np.take(flat, inked, axis=0).astype(np.float32)
    alpha = np.take(darkness.reshape(-1), inked).astype(np.float32)[:, None] * (1.0 / 255.0)
    ink = trace_ink(under) if ink is None else np.asarray(ink, np.float32)
    flat[inked] = np.clip(under * (1.0 - alpha) + ink * alpha + 0.5, 0, 255).astype(np.uint8)
    return out


def predict_fills(model: ColorizerModel, darkness: np.ndarray, hints_rgba: np.ndarray | None,
                  parts: np.ndarray | None, n: int, style_seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The network's fills of n candidates (uint8 [n, S, S, 3] at its input size) and the outside of the
    portrait (`portrait_outside`). Arguments: as `network_inputs`."""
    lines, hints = network_inputs(model.input_size, darkness, hints_rgba, parts, n, style_seed)
    return model.fills(lines, hints), portrait_outside(darkness, hints[0], parts)


def network_inputs(size: int, darkness: np.ndarray, hints_rgba: np.ndarray | None, parts: np.ndarray | None,
                   n: int, style_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The colouriser's inputs for n candidates at its input size: the lines (uint8 [n, S, S]) and the hints
    (uint8 [n, S, S, 4]: the artist's, a dab on one iris repeated on the other, and for candidates 2.. style
    dabs on the parts the artist left open).

    parts: the guidance's part map at the network's size, for the eyes and the style dabs; None gives n copies
    of candidate 1."""
    lines = lines_at(darkness, size)
    hints = hints_at(hints_rgba, size) if hints_rgba is not None else np.zeros((size, size, 4), np.uint8)
    if parts is not None:
        hints = both_eyes(hints, parts)
    # the candidates differ in their style dabs' colours, not in where they go: the spots are found once
    open_parts = unhinted_parts(hints, parts) if parts is not None and n > 1 else None
    inputs = [hints] + [style_dabs(hints, parts, style_seed, i, open_parts) if parts is not None else hints
                        for i in range(1, n)]
    return np.repeat(lines[None], n, axis=0), np.stack(inputs)


def portrait_outside(darkness: np.ndarray, hints: np.ndarray, parts: np.ndarray | None) -> np.ndarray | None:
    """The outside of the portrait (bool, the darkness image's size), left transparent unless the artist hinted
    the background (as in refined mode); None when it is all inside: no part map, or a hinted background.
    `hints`, `parts`: the hint layer and the guidance's part map at the network's size."""
    if parts is None or background_hinted(hints, parts):
        return None
    return outside(darkness, parts)


def faithful_candidates(model: ColorizerModel, darkness: np.ndarray, hints_rgba: np.ndarray | None,
                        parts: np.ndarray | None, params: P.Params | None, n: int, style_seed: int) -> list[np.ndarray]:
    """n RGBA renders of the square darkness image's size, the artist's lines inked over the fills in one
    picture (the evaluation's and the ceilings' view; the service answers with production layers instead).
    parts: as `predict_fills`."""
    side = darkness.shape[0]
    fills, out = predict_fills(model, darkness, hints_rgba, parts, n, style_seed)
    alpha = np.full((side, side), 255, np.uint8)
    if out is not None:
        # the outline's outer half (anti-aliased) lies outside: keep it, as refined mode does
        alpha = np.maximum(np.where(out, 0, 255).astype(np.uint8), darkness)
    renders = []
    for fill in fills:
        if side != model.input_size:  # flat fills upsample smoothly; the lines that bound them come next
            fill = cv2.resize(fill, (side, side), interpolation=cv2.INTER_LINEAR)
        rgba = np.empty((side, side, 4), np.uint8)
        rgba[..., :3] = ink_lines(fill, darkness)
        rgba[..., 3] = alpha
        renders.append(rgba)
    return renders


OPEN_LEVEL = 96  # darkness below which a pixel lies between the lines
GAP_CLOSING = 0.012  # of the side: lines are thickened by this much so that small gaps in a sketch close
CLEAR_SHARE = 0.8  # a region this much on one side of the guidance's outline belongs there as a whole


def background_hinted(hints: np.ndarray, parts: np.ndarray) -> bool:
    """Whether a dab of the hint layer (at the part map's size) lands on the guidance's background."""
    return any(dab.label == "background" for dab in find_dabs(hints, parts))


def outside(darkness: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """bool [S, S]: the outside of the portrait, bounded by the artist's own lines where they are clear.

    The regions between the artist's lines (thickened a little, so that a sketchy gap does not join the
    background to the face) vote with the guidance's part map, whose face sits a few pixels off the artist's
    lines: a region at least 80 % on the guidance's background is outside as a whole, one at most 20 % on it
    is inside as a whole; in mixed regions (a gap too wide) and on the thickened lines the guidance decides
    pixel by pixel."""
    side = darkness.shape[0]
    background = at_side(parts == P.LABEL["background"], side).astype(np.uint8)
    radius = max(1, int(round(GAP_CLOSING * side)))
    lines = cv2.dilate((darkness >= OPEN_LEVEL).astype(np.uint8), cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))
    count, regions = cv2.connectedComponents(1 - lines, connectivity=4)
    flat = regions.ravel()
    share = np.bincount(flat, weights=background.ravel(), minlength=count) / np.maximum(
        np.bincount(flat, minlength=count), 1)
    share[0] = 0.5  # label 0: the (thickened) lines, where the guidance decides
    verdict = share[regions]
    return np.where(verdict >= CLEAR_SHARE, True, np.where(verdict <= 1 - CLEAR_SHARE, False, background > 0))
