"""Guidance inference: sketch pixels in, a finished portrait (vector + strokes) out.

    model = GuidanceModel.load(weights_dir, device="cpu")
    result = model.guide(darkness, faithfulness=0.75, pins=("eyes",), state=previous.state)
    result.portrait.strokes  # vector line art: draw at any size with engine.raster.render_lines

Steps: read the sketch into the engine's vector (the encoder), project each group onto plausible faces
(nearest training vectors, weights summing to one) as far as the artist's faithfulness allows, put back the
pinned groups from the previous state, and let the engine draw it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from ..engine import params as P
from ..engine.geometry import Portrait, build_portrait
from ..engine.raster import render_lines
from ..errors import BadRequest, ModelUnavailable
from ..weights import default_weights_dir, load_tensors
from .faithfulness import DEFAULT_FAITHFULNESS
from ..blocks import fold_batchnorm
from .model import EncoderConfig, SketchEncoder, predict
from .projection import ManifoldProjector
from .train import layout_fingerprint

GUIDE_GROUPS = P.GROUPS  # face, eyes, brows, nose, mouth, hair, accessories
MIN_INK_PIXELS = 12  # fewer inked pixels than this at the model's input size: nothing drawn yet
# A part whose every float moved less than this since the previous guidance keeps its previous values: a
# stroke on the mouth must not make the eyes shimmer by a pixel (normalised units; ~1.5 px of face shift at 512).
STABLE_CHANGE = 0.02


@dataclass
class Guide:
    floats: np.ndarray  # [D] the vector drawn
    choices: np.ndarray  # [C]
    portrait: Portrait
    confidence: dict[str, float]  # per group: how much of the predicted part the sketch already supports
    state: str  # opaque token: send it back with `pins` to keep parts exactly
    read_floats: np.ndarray  # what the encoder read, before projection and pins


def to_model_input(darkness: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    """Pad to a square (top-left anchored), resize to `size`, and restore ink strength lost by downscaling.

    Returns the float image [size, size] in [0, 1] and the square's side in input pixels."""
    if darkness.ndim != 2 or darkness.dtype != np.uint8:
        raise BadRequest("the sketch must be a 2-D uint8 darkness image")
    h, w = darkness.shape
    if min(h, w) < 16:
        raise BadRequest(f"the sketch region is too small ({w}x{h} px); select at least 16x16 px")
    side = max(h, w)
    square = np.zeros((side, side), np.uint8)
    square[:h, :w] = darkness
    img = cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA) if side != size else square
    img = img.astype(np.float32) / 255.0
    inked = img[img > 0.05]
    if inked.size >= MIN_INK_PIXELS:
        strong = float(np.percentile(inked, 90))
        if strong < 0.8:  # thin lines on a large canvas fade when averaged down: bring them back to pen strength
            img = np.clip(img * (0.9 / max(strong, 0.1)), 0.0, 1.0)
    return img, side


STATE_PREFIX = "g1."


def encode_state(floats: np.ndarray, choices: np.ndarray) -> str:
    """The vector exactly (float32 bytes), tagged with the layout it belongs to, as a short URL-safe string."""
    payload = (bytes.fromhex(layout_fingerprint()) + np.asarray(floats, "<f4").tobytes()
               + np.asarray(choices, np.uint8).tobytes())
    return STATE_PREFIX + base64.urlsafe_b64encode(payload).decode()


def decode_state(state: str) -> tuple[np.ndarray, np.ndarray]:
    expected = 8 + 4 * P.FLOAT_DIM + P.CHOICE_DIM
    try:
        if not isinstance(state, str) or not state.startswith(STATE_PREFIX):
            raise ValueError("not a guidance state")
        payload = base64.urlsafe_b64decode(state[len(STATE_PREFIX):].encode())
    except ValueError as exc:
        raise BadRequest("the pin state is not one this backend produced; request guidance again") from exc
    if len(payload) != expected or payload[:8].hex() != layout_fingerprint():
        raise BadRequest("the pin state comes from another model version; request guidance again")
    floats = np.frombuffer(payload, "<f4", P.FLOAT_DIM, 8).astype(np.float32)
    choices = np.frombuffer(payload, np.uint8, P.CHOICE_DIM, 8 + 4 * P.FLOAT_DIM).astype(np.int64)
    if not np.isfinite(floats).all():
        raise BadRequest("the pin state is damaged; request guidance again")
    return np.clip(floats, 0.0, 1.0), choices


def load_encoder(weights_dir: Path | None = None) -> tuple[SketchEncoder, dict, dict]:
    """The shipped encoder in fp32 (trainable: BatchNorm not folded), with the file's tensors and metadata.

    Refuses weights made for another vector layout or another network, with a message that says so."""
    tensors, meta, _ = load_tensors(weights_dir or default_weights_dir(), "guidance")
    if meta.get("layout") != layout_fingerprint():
        raise ModelUnavailable(
            f"guidance weights were trained for engine {meta.get('engine_version')} (layout {meta.get('layout')}), "
            f"but this engine is {P.ENGINE_VERSION} (layout {layout_fingerprint()}): retrain or reinstall"
        )
    encoder = SketchEncoder(EncoderConfig.from_dict(json.loads(meta["encoder_config"])))
    state = {k[len("encoder.") :]: v.float() for k, v in tensors.items() if k.startswith("encoder.")}
    found = encoder.load_state_dict(state, strict=False)  # num_batches_tracked is not shipped
    missing = [k for k in found.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or found.unexpected_keys:
        raise ModelUnavailable(f"guidance weights do not fit this network (missing {missing[:3]}, "
                               f"unexpected {found.unexpected_keys[:3]}): reinstall or retrain")
    return encoder, tensors, meta


class GuidanceModel:
    def __init__(self, encoder: SketchEncoder, projector: ManifoldProjector, input_size: int, device: str):
        self.encoder = encoder.eval()
        self.projector = projector
        self.input_size = input_size
        self.device = device
        self.float_groups = np.array(P.ALL_GROUPS)[P.float_groups()]  # group name of each float
        self.choice_groups = np.array(P.ALL_GROUPS)[P.choice_groups()]

    @classmethod
    def load(cls, weights_dir: Path | None = None, device: str = "cpu") -> "GuidanceModel":
        encoder, tensors, meta = load_encoder(weights_dir)
        bank = tensors["bank.floats"].float().numpy()
        projector = ManifoldProjector(bank, P.float_groups(), P.ALL_GROUPS)
        return cls(fold_batchnorm(encoder).to(device), projector, int(meta.get("input_size", 256)), device)

    def read(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Encoder only: images float [B, S, S] in [0, 1] -> (floats [B, D], choices [B, C])."""
        x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))[:, None].to(self.device)
        pred = predict(self.encoder, x)
        return pred.floats.cpu().numpy(), pred.choices.cpu().numpy()

    def guide(
        self,
        darkness: np.ndarray,
        faithfulness: float | dict[str, float] = DEFAULT_FAITHFULNESS,
        pins: tuple[str, ...] = (),
        state: str | None = None,
        origin: tuple[int, int] = (0, 0),
    ) -> Guide:
        # `origin` (the crop's place on the canvas) is accepted now; the frame in canvas coordinates that uses
        # it comes with the framing stage.
        image = self.model_input(darkness)
        floats, choices = self.read(image[None])
        return self.finish(floats[0], choices[0], image, faithfulness, pins, state)

    def guide_batch(self, requests: list[dict]) -> list[Guide | BadRequest]:
        """Several guides (each a dict of `guide`'s arguments), the encoder run once over all of them: on a GPU
        one batch of B costs little more than one image. Each request gets its Guide, or the BadRequest that
        it alone raised (an empty sketch fails only itself)."""
        outcomes: list[Guide | BadRequest | None] = [None] * len(requests)
        images: dict[int, np.ndarray] = {}
        for i, request in enumerate(requests):
            try:
                images[i] = self.model_input(request["darkness"])
            except BadRequest as error:
                outcomes[i] = error
        if images:
            floats, choices = self.read(np.stack(list(images.values())))
            for k, (i, image) in enumerate(images.items()):
                request = requests[i]
                try:
                    outcomes[i] = self.finish(floats[k], choices[k], image,
                                              request.get("faithfulness", DEFAULT_FAITHFULNESS),
                                              tuple(request.get("pins", ())), request.get("state"))
                except BadRequest as error:
                    outcomes[i] = error
        return [outcome for outcome in outcomes if outcome is not None]

    def model_input(self, darkness: np.ndarray) -> np.ndarray:
        image, _ = to_model_input(darkness, self.input_size)
        if (image > 0.05).sum() < MIN_INK_PIXELS:
            raise BadRequest("the sketch layer is empty in this region: draw a few strokes first")
        return image

    def finish(self, read_floats, choices, image, faithfulness, pins, state) -> Guide:
        faith = resolve_faithfulness(faithfulness)
        check_pins(pins, state)
        floats, _ = self.projector.project(read_floats, faith)
        choices = choices.copy()
        if state is not None:
            previous = decode_state(state)
            floats, choices = self.hold_still(floats, choices, *previous)
            if pins:
                floats, choices = self.apply_pins(floats, choices, pins, *previous)
        portrait = build_portrait(P.decode(floats, choices))
        return Guide(floats, choices, portrait, group_support(portrait, image), encode_state(floats, choices), read_floats)

    def hold_still(self, floats, choices, old_floats, old_choices):
        """Keep the previous values of every part (and the pose) that changed by less than STABLE_CHANGE."""
        floats, choices = floats.copy(), choices.copy()
        for group in P.ALL_GROUPS:
            f_cols, c_cols = self.float_groups == group, self.choice_groups == group
            small = np.abs(floats[f_cols] - old_floats[f_cols]).max(initial=0.0) < STABLE_CHANGE
            if small and np.array_equal(choices[c_cols], old_choices[c_cols]):
                floats[f_cols] = old_floats[f_cols]
        return floats, choices

    def apply_pins(self, floats, choices, pins, old_floats, old_choices):
        # A pinned part keeps its place on the canvas too, so the pose is kept whenever anything is pinned.
        keep = set(pins) | {"pose"}
        f_mask = np.isin(self.float_groups, list(keep))
        c_mask = np.isin(self.choice_groups, list(keep))
        return np.where(f_mask, old_floats, floats), np.where(c_mask, old_choices, choices)


def check_pins(pins: tuple[str, ...], state: str | None) -> None:
    unknown = [p for p in pins if p not in GUIDE_GROUPS]
    if unknown:
        raise BadRequest(f"unknown part to pin: {', '.join(map(str, unknown))} (parts: {', '.join(GUIDE_GROUPS)})")
    if pins and state is None:
        raise BadRequest("pinning needs the state of a previous guidance reply")


def resolve_faithfulness(faithfulness: float | dict[str, float]) -> dict[str, float]:
    if isinstance(faithfulness, dict):
        unknown = [g for g in faithfulness if g not in GUIDE_GROUPS]
        if unknown:
            raise BadRequest(f"unknown part in faithfulness: {', '.join(unknown)} (parts: {', '.join(GUIDE_GROUPS)})")
        values = {g: float(faithfulness.get(g, DEFAULT_FAITHFULNESS)) for g in GUIDE_GROUPS}
    else:
        values = {g: float(faithfulness) for g in GUIDE_GROUPS}
    for g, v in values.items():
        if not np.isfinite(v) or not 0.0 <= v <= 1.0:
            raise BadRequest(f"faithfulness must be between 0 and 1 (got {v} for {g})")
    return values


def group_support(portrait: Portrait, image: np.ndarray, size: int = 128, tolerance_px: float = 2.5) -> dict[str, float]:
    """Per group, the share of its predicted line length lying near ink the artist has drawn: 0 = guessed,
    1 = drawn. Measured along the strokes' centre lines (each vertex weighted by the length it stands for)
    rather than on rasterised strokes, which cost 3 ms a guide."""
    ink = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA) > 0.15
    distance = cv2.distanceTransform((~ink).astype(np.uint8), cv2.DIST_L2, 3)
    near = distance <= tolerance_px
    support = {}
    for group in GUIDE_GROUPS:
        lines = [s.points for s in portrait.strokes if s.group == group and len(s.points) >= 2]
        if lines:
            points, weights = centre_line_samples(lines, size)
            pixel = np.floor(points).astype(np.intp)
            on_canvas = ((pixel >= 0) & (pixel < size)).all(axis=1)  # lines leaving the canvas count where seen
            pixel, weights = pixel[on_canvas], weights[on_canvas]
            if weights.sum() > 0:
                hits = near[pixel[:, 1], pixel[:, 0]]
                support[group] = round(float((weights * hits).sum() / weights.sum()), 3)
    return support


def centre_line_samples(lines: list[np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray]:
    """All vertices of the polylines in pixels [N, 2], each weighted by half of its two segments' lengths."""
    points = np.concatenate(lines).astype(np.float64) * size
    seg = np.sqrt(((points[1:] - points[:-1]) ** 2).sum(axis=1))
    ends = np.cumsum([len(line) for line in lines])[:-1]
    seg[ends - 1] = 0.0  # no segment joins the last vertex of one line to the first of the next
    weights = np.zeros(len(points))
    weights[:-1] += seg / 2
    weights[1:] += seg / 2
    return points, weights
