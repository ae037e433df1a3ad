"""Guidance inference: sketch pixels in, a finished portrait (vector + strokes) out.

    model = GuidanceModel.load(weights_dir, device="cpu")
    result = model.guide(darkness, faithfulness=0.75, pins=("eyes",), state=previous.state)
    result.portrait.strokes  # vector line art: draw at any size with engine.raster.render_lines

Steps: read the sketch into the engine's vector (the encoder), move the face's pose onto the sketch (the pose
refiner), project each group onto plausible faces (nearest training vectors, weights summing to one) as far as the
artist's faithfulness allows, put back the pinned groups from the previous state, and let the engine draw it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import torch

from ..engine import params as P
from ..engine.geometry import Portrait
from ..errors import BadRequest, ModelUnavailable
from ..weights import default_weights_dir, load_tensors
from .faithfulness import DEFAULT_FAITHFULNESS
from ..blocks import for_inference
from .model import SketchEncoder, from_tensors, predict
from .projection import BANK_MODEL, ManifoldProjector
from .refine import PoseRefiner, load_pose_refiner
from . import completion
from . import framing
from .framing import IDENTITY, FrameFinder, Placement, Window, cut_window, frame_input, restore_ink
from .hold import (HOLD_SHIFT, INK_READ, POSE, Drawn, ink_map, moved_less_than, seen_cells, untouched_parts,
                   vertex_shift)
from .state import GuideState, decode_state, encode_state, layout_fingerprint
from .support import drop_unsupported_accessories, group_support

GUIDE_GROUPS = P.GROUPS  # face, eyes, brows, nose, mouth, hair, accessories
MIN_INK_PIXELS = 12  # fewer inked pixels than this at the model's input size: nothing drawn yet
# A held part rejoins the face's pose (fewer poses to place in later guides) only when that moves its lines by
# less than this many canvas pixels: an untouched part must not visibly move.
SETTLE_PX = 0.5
# The refiner is asked again once the encoder's reading moves a line vertex this far (window units: 3 px of a 512
# px window) from the reading it was last shown; nearer, that answer's move is taken unasked
# (GuidanceModel.carried). Across such moves the refiner's fresh answer and the carried one differ by 1.2 px
# (median), where its answers for readings 1.5 px apart differ by 0.8 px. The refiner is asked on 1 stroke in 8
# instead of 3 in 4; a replay's F1, consistency and locality stay as they were (docs/guidance.md).
REASK_SHIFT = 2 * HOLD_SHIFT


@dataclass
class Guide:
    floats: np.ndarray  # [D] the vector drawn
    choices: np.ndarray  # [C]
    portrait: Portrait  # the lines guidance draws (line art: no regions)
    confidence: dict[str, float]  # per group: how much of the predicted part the sketch already supports
    state: str  # opaque token: send it back with `pins` to keep parts exactly
    read_floats: np.ndarray  # what the encoder read (its pose refined, where refined), before projection and pins
    placement: Placement = IDENTITY  # the vector's canvas (the window) in the request: portrait is already placed
    window: Window | None = None  # the window in canvas pixels


@dataclass(frozen=True)
class Crop:
    """A request's pixels and where they lie on the canvas: what a window is cut from (not protocol.Request,
    the message)."""

    darkness: np.ndarray  # uint8 [H, W]
    origin: tuple[int, int]  # its top-left pixel on the canvas
    scale: float = 1.0  # canvas px per pixel (above 1 for a crop sent shrunk)
    canvas: tuple[int, int] | None = None  # the canvas's size, where told

    @property
    def side(self) -> float:
        """The crop's side on the canvas."""
        return max(self.darkness.shape) * self.scale


@dataclass
class Look:
    """What the encoder is shown of one request: the window's pixels, the window, and where it lies."""

    image: np.ndarray  # float32 [S, S] in [0, 1]
    window: Window
    placement: Placement
    crop: Crop
    framed_afresh: bool  # cut round the finder's estimate with no previous window: the encoder may re-frame it
    ink: np.ndarray | None = None  # bool [INK_MAP]^2: the ink in the window (the next state's evidence)
    # where the request's edge cuts the face: (the window beyond the sides the ink runs off, the request), bool
    # [S, S] each (completion.cut_part); None when the ink stays clear of the request's sides
    cut: tuple[np.ndarray, np.ndarray] | None = None
    # the ink now in the previous window, and which of its cells this request shows (hold.untouched_parts)
    ink_then_window: np.ndarray | None = None
    seen_then_window: np.ndarray | None = None
    # the previous guide's state where its window is kept without asking the frame finder: the encoder's reading
    # through it confirms the window, or the finder is asked after all (GuidanceModel.confirmed); else None
    unconfirmed: GuideState | None = None


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
    return restore_ink(img.astype(np.float32) / 255.0), side


def load_encoder(weights_dir: Path | None = None) -> tuple[SketchEncoder, dict, dict]:
    """The shipped encoder in fp32 (trainable: BatchNorm not folded), with the file's tensors and metadata.

    Refuses weights made for another vector layout or another network, with a message that says so."""
    tensors, meta, _ = load_tensors(weights_dir or default_weights_dir(), "guidance")
    if meta.get("layout") != layout_fingerprint():
        raise ModelUnavailable(
            f"guidance weights were trained for engine {meta.get('engine_version')} (layout {meta.get('layout')}), "
            f"but this engine is {P.ENGINE_VERSION} (layout {layout_fingerprint()}): retrain or reinstall"
        )
    try:
        encoder = from_tensors(tensors, meta["encoder_config"], "encoder.")
    except ValueError as error:
        raise ModelUnavailable(f"guidance weights do not fit this network ({error}): reinstall or retrain") from None
    return encoder, tensors, meta


def load_projection_bank(weights_dir: Path | None, encoder_tensors: dict) -> np.ndarray:
    """The projection bank's training vectors [N, D] float32: from its own file, or from inside the encoder's for
    weights exported before the bank had one."""
    if "bank.floats" in encoder_tensors:
        return encoder_tensors["bank.floats"].float().numpy()
    return load_tensors(weights_dir or default_weights_dir(), BANK_MODEL)[0]["bank.floats"].float().numpy()


class GuidanceModel:
    """Sketch pixels in, a finished portrait out: frame finder (where is the face), window (show it to the
    encoder as it learned), encoder + pose refiner + projection (what is drawn, and exactly where), state (pins,
    parts that hold still)."""

    def __init__(self, encoder: SketchEncoder, projector: ManifoldProjector, input_size: int, device: str,
                 finder: FrameFinder | None = None, refiner: PoseRefiner | None = None):
        self.encoder = encoder.eval()
        self.projector = projector
        self.input_size = input_size
        self.device = device
        self.finder = finder  # None: the request is read as it is framed (weights without a frame finder)
        self.refiner = refiner  # None: the face is drawn where the encoder read it (weights without a refiner)

    @classmethod
    def load(cls, weights_dir: Path | None = None, device: str = "cpu") -> "GuidanceModel":
        encoder, tensors, meta = load_encoder(weights_dir)
        projector = ManifoldProjector(load_projection_bank(weights_dir, tensors), P.float_groups(), P.ALL_GROUPS)
        return cls(for_inference(encoder, device), projector, int(meta.get("input_size", 256)), device,
                   load_frame_finder(weights_dir, device), load_pose_refiner(weights_dir, device))

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
        scale: float = 1.0,
        canvas: tuple[int, int] | None = None,
    ) -> Guide:
        """`origin`: the request's top-left pixel on the artist's canvas (states and windows live there);
        `scale`: canvas px per pixel of `darkness` (above 1 for a crop sent shrunk); `canvas`: the canvas's size
        [w, h], where a crop reaches past it (None: the request's own edges are where the drawing ends). A batch
        of one: its BadRequest is raised."""
        [outcome] = self.guide_batch([dict(darkness=darkness, faithfulness=faithfulness, pins=pins, state=state,
                                           origin=origin, scale=scale, canvas=canvas)])
        if isinstance(outcome, BadRequest):
            raise outcome
        return outcome

    def guide_batch(self, requests: list[dict]) -> list[Guide | BadRequest]:
        """Several guides (each a dict of `guide`'s arguments), the encoder run once over all of them, and the
        pose refiner once over those it is asked for: on a GPU one batch of B costs little more than one image.
        Each request gets its Guide, or the BadRequest that it alone raised (an empty sketch fails only
        itself)."""
        outcomes: list[Guide | BadRequest | None] = [None] * len(requests)
        looks: dict[int, tuple[Look, GuideState | None]] = {}
        for i, request in enumerate(requests):
            try:
                pins = tuple(request.get("pins", ()))
                check_pins(pins, request.get("state"))
                previous = decode_state(request["state"]) if request.get("state") is not None else None
                source = Crop(request["darkness"], request.get("origin", (0, 0)), request.get("scale", 1.0),
                                 request.get("canvas"))
                looks[i] = self.look(source, previous, bool(pins)), previous
            except BadRequest as error:
                outcomes[i] = error
        if looks:
            read, floats, choices = self.read_looks([look for look, _ in looks.values()])
            previouses = [previous for _, previous in looks.values()]
            olds = [previous_face(previous, look.window) for look, previous in zip(read, previouses)]
            floats, refinements = self.refined(floats, choices, read, previouses, olds)
            for k, i in enumerate(looks):
                request = requests[i]
                try:
                    outcomes[i] = self.finish(floats[k], choices[k], read[k],
                                              request.get("faithfulness", DEFAULT_FAITHFULNESS),
                                              tuple(request.get("pins", ())), previouses[k], olds[k], refinements[k])
                except BadRequest as error:
                    outcomes[i] = error
        return [outcome for outcome in outcomes if outcome is not None]

    def read_looks(self, looks: list[Look]) -> tuple[list[Look], np.ndarray, np.ndarray]:
        """The encoder's readings of the looks, in as few batches as can be: each read once; again through the
        frame finder's window where the reading doubts a window kept unasked (`confirmed`); again through a
        better window where its reading places the face away from a window cut afresh (`reframed`); once more
        where the canvas's edge cuts the face (`completed`). Returns the looks read last, with their floats and
        choices."""
        looks = list(looks)
        floats, choices = self.read(np.stack([look.image for look in looks]))
        for step in (self.confirmed, self.reframed):
            better = {k: new for k, look in enumerate(looks) if (new := step(look, floats[k])) is not None}
            if better:
                looks = [better.get(k, look) for k, look in enumerate(looks)]
                floats[list(better)], choices[list(better)] = self.read(
                    np.stack([look.image for look in better.values()]))
        again = {k: image for k, look in enumerate(looks)
                 if (image := self.completed(look, floats[k], choices[k])) is not None}
        if again:
            floats[list(again)], choices[list(again)] = self.read(np.stack(list(again.values())))
        return looks, floats, choices

    def confirmed(self, look: Look, floats: np.ndarray) -> Look | None:
        """For a previous window kept without asking the frame finder: None while the encoder, reading through it,
        finds the face still framed well there; else the look the finder chooses (a new window, or the same one
        when the finder would keep it: then the reading stands)."""
        if look.unconfirmed is None or (ink_shown(look) >= KEPT_INK_SHOWN and look.window.frames_well(
                framing.read_frame(floats, look.window), 1, (0, 0))):
            return None
        chosen = self.look(look.crop, look.unconfirmed, pinned=False, ask_finder=True)
        return None if chosen.window == look.window else chosen

    def reframed(self, look: Look, floats: np.ndarray) -> Look | None:
        """A window cut afresh round the finder's estimate, cut again between its own framing and the face where
        the encoder read it, when the two disagree (framing.between); None when they agree, when the window was
        kept, or when the request was read as it is."""
        if not look.framed_afresh:
            return None
        window = framing.between(look.window, framing.read_frame(floats, look.window))
        return None if window is None else self.cut(look.crop, window, None)

    def completed(self, look: Look, floats: np.ndarray, choices: np.ndarray) -> np.ndarray | None:
        """The window's image for a second reading of a face the request's edge cuts (completion.py), or None
        where one reading is all there is to it."""
        if look.cut is None:
            return None
        return completion.completed(look.image, Drawn(floats, choices).portrait().strokes, *look.cut)

    def look(self, crop: Crop, previous: GuideState | None, pinned: bool, ask_finder: bool = False) -> Look:
        """Find the face and cut the window the encoder reads. The previous window (canvas pixels) is kept while
        it still frames the face well, and always while something is pinned: the encoder then sees the same
        pixels for the same strokes, however the crop moved, so untouched parts cannot move. Windows are canvas
        squares, cut from the pixels sent.

        While the artist draws on, the previous window is read without asking the frame finder (`unconfirmed`):
        the encoder's reading through it says whether the face still sits well there (`confirmed`), and only
        when it does not is the finder asked (`ask_finder`). A stroke then costs one encoder pass and no finder."""
        overview = check_sketch(crop.darkness)
        side, origin = crop.side, crop.origin
        old = previous.window if previous is not None else None
        whole = Window(float(origin[0]), float(origin[1]), float(side))  # the request as it is framed
        if self.finder is None:
            window = whole
        elif old is not None and pinned:  # kept whatever the frame finder would say: it is not asked
            window = old
        elif old is not None and not ask_finder:
            return replace(self.cut(crop, old, previous), unconfirmed=previous)
        else:
            frame = self.finder.find(overview[None])[0]
            if old is not None and old.frames_well(frame, side, origin):
                window = old
            elif whole.frames_well(frame, side, origin):  # already framed as the encoder reads best
                window = whole
            else:
                # Cut round the finder's estimate, none kept: the encoder's reading may re-frame it (reframed).
                # A request read as it is is left so: there the two agree to within what F1 can tell, and a guide
                # while drawing costs what it did.
                return self.cut(crop, Window.around(frame, side, origin), previous, afresh=old is None)
        return self.cut(crop, window, previous)

    def cut(self, crop: Crop, window: Window, previous: GuideState | None, afresh: bool = False) -> Look:
        """The look through `window`: its pixels, ink map and cut (completion.cut_part), and what the previous
        window now holds (hold.untouched_parts). `afresh`: the window is the finder's, cut with none kept."""
        darkness, origin, scale = crop.darkness, crop.origin, crop.scale
        sent = window.in_pixels(origin, scale)
        image = restore_ink(cut_window(darkness, sent, (0, 0), self.input_size))
        ink = ink_map(darkness, sent, (0, 0), image if self.input_size == INK_READ else None)
        old = previous.window if previous is not None else None
        look = Look(image, window, Placement.of(window, origin, crop.side), crop, afresh, ink,
                    cut=completion.cut_part(darkness, sent, self.input_size,
                                            completion.on_canvas(darkness.shape, origin, scale, crop.canvas)))
        if previous is not None and old is not None and previous.ink is not None:
            old_sent = old.in_pixels(origin, scale)
            look.ink_then_window = ink if old == window else ink_map(darkness, old_sent, (0, 0))
            look.seen_then_window = seen_cells(darkness.shape, old_sent, (0, 0))
        return look

    def finish(self, read_floats, choices, look: Look, faithfulness, pins, previous: GuideState | None,
               old: Drawn | None, refinement: np.ndarray | None) -> Guide:
        """The guide of one reading (its pose refined): projected, holding what the artist left alone and what
        they pinned, without accessories the strokes do not support. `old`: the previous guide's face in this
        window's units; `refinement`: the refiner's answer the state carries on."""
        faith = resolve_faithfulness(faithfulness)
        floats, _ = self.projector.project(read_floats, faith)
        face = Drawn(floats.astype(np.float32), choices.astype(np.int64))
        if previous is not None and old is not None:
            face = self.hold_still(face, old, previous, look)
            if pins:  # a pinned part keeps its values and its place on the canvas
                face = face.holding(old, pins)
        floats, choices = drop_unsupported_accessories(face.floats, face.choices, look.image, pins)
        face = Drawn(floats, choices, face.poses)
        # A part that rejoins the face's pose is drawn there, as the state records it: a pin set after this guide
        # holds exactly these lines. It moves by less than SETTLE_PX on the canvas: no artist sees it.
        face = face.settled(SETTLE_PX / look.window.side, pins)
        portrait = face.portrait()
        state = encode_state(floats, choices, look.window, look.ink, face.poses, refinement)
        return Guide(floats, choices, look.placement.portrait(portrait), group_support(portrait, look.image), state,
                     read_floats, look.placement, look.window)

    def refined(self, floats: np.ndarray, choices: np.ndarray, looks: list[Look],
                previouses: list[GuideState | None], olds: list[Drawn | None]
                ) -> tuple[np.ndarray, list[np.ndarray | None]]:
        """The readings [B, D] with their poses moved onto the sketches (refine.py), and the refiner's answer
        for each state. A reading takes the move its state carries while it stays near the one the refiner was
        shown (`carried`); the refiner is asked for the others, all in one batch."""
        if self.refiner is None:
            return floats, [None] * len(looks)
        out = np.array(floats, np.float32, copy=True)
        answers: list[np.ndarray | None] = [None] * len(looks)
        asked = []
        for k, (look, previous, old) in enumerate(zip(looks, previouses, olds)):
            last = previous.refinement if previous is not None and previous.window == look.window else None
            if last is not None and old is not None and self.carried(floats[k], last, old):
                out[k, P.PLACING_SLOTS] = np.clip(floats[k, P.PLACING_SLOTS] + last[1], 0.0, 1.0)
                answers[k] = last
            else:
                asked.append(k)
        if asked:
            out[asked] = self.refiner.refine(np.stack([looks[k].image for k in asked]), floats[asked], choices[asked])
            for k in asked:
                answers[k] = np.stack([floats[k, P.PLACING_SLOTS], out[k, P.PLACING_SLOTS] - floats[k, P.PLACING_SLOTS]])
        return out, answers

    @staticmethod
    def carried(floats: np.ndarray, last: np.ndarray, old: Drawn) -> bool:
        """Whether a reading may take the refiner's last move unasked: its pose lies within REASK_SHIFT of the
        reading the refiner was shown (`last`: that reading's placing floats and the move), in the same window. A
        stroke that barely moves the encoder's reading leaves its error about where it was. The move is measured
        on the lines of the previous guide's face (`old`), whose parts are built already: the reading's own are
        drawn only at faithfulness 1, and at any other, measuring on them cost a build of its parts (1.1 ms)
        every stroke."""
        shown, _ = last
        then, now = old.floats.copy(), old.floats.copy()
        then[P.PLACING_SLOTS], now[P.PLACING_SLOTS] = shown, floats[P.PLACING_SLOTS]
        return vertex_shift(then, old.choices, now[POSE], set(P.GROUPS)) < REASK_SHIFT

    def hold_still(self, face: Drawn, old: Drawn, previous: GuideState, look: Look) -> Drawn:
        """The previous values of every part the artist has not touched (hold.py): parts they had drawn whose
        ink did not change keep theirs exactly, with the pose they were drawn with; any other part whose lines
        would move by less than HOLD_SHIFT keeps them too, and so does the face's pose when it alone would move
        the drawing by less. `old` is already in this window's units."""
        before = old.portrait().strokes
        read = face.portrait().strokes
        held = self.untouched(before, read, previous, look)
        face = face.holding(old, held)
        if old.pose_barely_moves(face.floats[POSE]):
            face.floats[POSE] = old.floats[POSE]
            face = face.tidy()
            read = face.strokes_of(set(GUIDE_GROUPS) - held)  # only these are compared below
        # The parts not held are drawn as read (the held ones differ only where they hide or show a little of
        # them): every build saved is 4 ms of a guide.
        still = {group for group in set(GUIDE_GROUPS) - held if lines_held(before, read, group)}
        return face.holding(old, still)

    def untouched(self, before: list, read: list, previous: GuideState, look: Look) -> set[str]:
        """The groups the artist had drawn and not touched since the previous guidance (empty without its ink)."""
        then = previous.window
        if look.ink_then_window is None or look.seen_then_window is None or previous.ink is None or then is None:
            return set()
        if then != look.window:  # the lines, in the window the previous ink was read in
            to_then = Placement.of(look.window, (then.x, then.y), then.side)
            before, read = to_then.strokes(before), to_then.strokes(read)
        return untouched_parts(before, read, previous.ink, look.ink_then_window, look.seen_then_window)


def previous_face(previous: GuideState | None, window: Window) -> Drawn | None:
    """The previous guide's face (its parts' own poses too) in `window`'s units; None without one."""
    if previous is None:
        return None
    old = Drawn(previous.floats, previous.choices, previous.poses or {})
    if previous.window is not None and previous.window != window:
        old = old.in_window(previous.window, window)
    return old


# A window kept without asking the frame finder must still show at least this share of the request's ink: the
# encoder, shown a window the drawing has left, would read a face in it all the same.
KEPT_INK_SHOWN = 0.5


def ink_shown(look: Look) -> float:
    """The share of the request's ink (sampled every 4th pixel) that lies inside the look's window."""
    darkness = look.crop.darkness[::4, ::4]
    ink = darkness > completion.EDGE_INK
    total = int(ink.sum())
    if total == 0:
        return 0.0
    sent = look.window.in_pixels(look.crop.origin, look.crop.scale * 4)
    x0, y0 = max(0, int(sent.x)), max(0, int(sent.y))
    x1, y1 = max(0, int(math.ceil(sent.x + sent.side))), max(0, int(math.ceil(sent.y + sent.side)))
    return int(ink[y0:y1, x0:x1].sum()) / total


def lines_held(before: list, after: list, group: str | None = None) -> bool:
    """Whether a group's lines (all lines: None) moved by less than HOLD_SHIFT between two drawings."""
    pick = lambda strokes: [s.points for s in strokes if group is None or s.group == group]  # noqa: E731
    return moved_less_than(pick(before), pick(after), HOLD_SHIFT)


def load_frame_finder(weights_dir: Path | None, device: str) -> FrameFinder | None:
    """The shipped frame finder, or None for a weights folder made before it existed (guidance then reads the
    request as framed, as it did then)."""
    try:
        return FrameFinder.load(weights_dir, device)
    except ModelUnavailable:
        return None


def check_sketch(darkness: np.ndarray) -> np.ndarray:
    """The request's overview for the frame finder; BadRequest when there is nothing to read."""
    if darkness.ndim != 2 or darkness.dtype != np.uint8:
        raise BadRequest("the sketch must be a 2-D uint8 darkness image")
    h, w = darkness.shape
    if min(h, w) < 16:
        raise BadRequest(f"the sketch region is too small ({w}x{h} px); select at least 16x16 px")
    overview = frame_input(darkness)
    if (overview > 0.05).sum() < MIN_INK_PIXELS:
        raise BadRequest("the sketch layer is empty in this region: draw a few strokes first")
    return overview


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
