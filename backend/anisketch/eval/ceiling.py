"""How much of a robustness condition's gap no reader of the sketch could close: the information ceiling.

A beginner's circle eyes do not say how the finished eyes are shaped, a zigzag fringe does not say where the
fringe's locks fall, and after 25 % of a features-first drawing nothing says what the hair will be. The engine
samples every parameter on its own, so what the drawn strokes do not show cannot be inferred from what they do.

The ceiling of a condition at a level is the F1 (eval.metrics.line_f1, as every guidance figure) of the true line
art against the line art of a *reader that knows exactly what is drawn and guesses the rest*:
- a part with no stroke drawn yet (its kind, engine/sketch_style.KINDS) has all its parameters guessed;
- a style's simplifications hide parameters even when drawn (`STYLE_HIDES`: circle eyes keep the eyes' place
  and width and hide their shape, a plain jaw hides the jaw, a stick neck the neck and clothes, no ears the ears,
  a zigzag fringe the fringe);
- a part drawn at all counts as known in full (one stroke of the hair reveals the hair style: an optimistic
  reader), and a guess is the prior's median (floats) or most common option (choices).

So it is an estimate, not a proof: a guess cleverer than the prior's middle could score a little higher. What it
shows is how far below in-distribution a condition must stay whatever the model: where the ceiling itself is
more than 0.05 below the in-distribution ceiling, the issue's "within 0.05" asks for lines the sketch never drew.

The framing conditions (eval/framing.py: large, off-centre, cut, and the engine's own framing as their reference)
get the same reader, told only what the strokes inside the request show and scored on the request's area as the
guidance is (`framing_ceiling_seed`). The engine draws a symmetric face, so the half a cut leaves shows nearly all
of it: there the ceiling says how much is lost to reading, not to what was hidden.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Callable

import numpy as np

from ..engine import params as P
from ..engine.geometry import build_portrait
from ..engine.raster import render_lines
from ..engine.sketch_style import kinds_of
from ..errors import BadRequest
from ..guidance.faithfulness import DEFAULT_FAITHFULNESS
from .guidance import LEVELS, SIZE, drawn_count
from . import framing
from .metrics import line_f1
from .styles import CONDITIONS, drawn_strokes, gaps_to_reference, level_means, sketch_pixels

PRIOR_SAMPLES = 2000
PRIOR_SEED = 1_500_000_000  # far from the training and evaluation seeds

_EYE_SHAPE = ("eye_h", "eye_tilt", "lid_peak", "lid_flat", "lower_lid", "iris_w", "gaze_x", "gaze_y", "lash_len",
              "lid_weight", "crease", "lashes")
_FRINGE = ("bang_len", "bang_depth", "bang_sweep", *[f"bang_x{i}" for i in range(7)],
           *[f"bang_l{i}" for i in range(7)], "parting", "bangs")

# The parameters each kind of stroke shows (engine/sketch_style.KINDS); the pose is shown by any stroke.
KIND_PARAMS = {
    "contour": ("cheek_w", "cheek_y", "jaw_x", "jaw_y", "chin_y", "chin_round"),
    "ears": ("ear_y", "ear_size"),
    "neck": ("neck_w", "neck_len", "shoulder_w", "shoulder_drop", "clothes"),
    "blush": ("blush", "blush_size"),
    **{group: tuple(s.name for s in P.PARAM_SPECS if s.group == group and s.kind != "color")
       for group in ("eyes", "brows", "nose", "mouth", "hair", "accessories")},
}

# Construction guides draw the neck and shoulders where the portrait has them (sketch_style.construction_guides).
GUIDES_SHOW = ("neck_w", "shoulder_w")

# What a beginner's simplified shapes hide even once drawn (engine/sketch_style.beginner_strokes).
BEGINNER_HIDES = (*_EYE_SHAPE, *KIND_PARAMS["contour"], *KIND_PARAMS["ears"], *KIND_PARAMS["neck"], *_FRINGE)
STYLE_HIDES = {"circle": BEGINNER_HIDES, "dot": (*BEGINNER_HIDES, "eye_w")}


@lru_cache(maxsize=1)
def prior_guess() -> dict:
    """The reader's guess for a parameter it cannot see: the prior's median float, its most common option."""
    samples = [P.sample_params(PRIOR_SEED + i) for i in range(PRIOR_SAMPLES)]
    guess = {}
    for spec in P.PARAM_SPECS:
        values = [s[spec.name] for s in samples]
        if spec.kind == "float":
            guess[spec.name] = float(np.median(values))
        elif spec.kind == "choice":
            guess[spec.name] = Counter(values).most_common(1)[0][0]
    return guess


def hidden_params(kinds_drawn: set[str], style) -> set[str]:
    """The parameters a reader of these strokes cannot see: undrawn parts, and what the style simplifies."""
    hidden = {name for kind, names in KIND_PARAMS.items() if kind not in kinds_drawn for name in names}
    if style is not None and style.beginner:
        hidden |= set(STYLE_HIDES[style.eyes])
    if "guide" in kinds_drawn:
        hidden -= set(GUIDES_SHOW)
    if not kinds_drawn - {"guide"}:
        hidden |= {s.name for s in P.PARAM_SPECS if s.group == "pose" and s.kind == "float"}
    return hidden


def reader_params(params, hidden: set[str], guess: dict):
    """The portrait's parameters with the hidden ones guessed."""
    seen = params.copy()
    for name in hidden:
        if name in guess:
            seen[name] = guess[name]
    return seen


def reader_lines(params, hidden: set[str], guess: dict) -> np.ndarray:
    """The line art of the portrait with the hidden parameters guessed."""
    return render_lines(build_portrait(reader_params(params, hidden, guess)).strokes, SIZE)


def ceiling_seed(seed: int, names, model=None) -> dict:
    """{condition: {level: ceiling F1}} for one unseen portrait. With a guidance `model`, the reader guesses the
    hidden parameters both from the prior and as the model reads the sketch, and keeps the better (the model
    knows a likelier fringe than the median of each lock's own parameters)."""
    params = P.sample_params(seed)
    portrait = build_portrait(params)
    truth = render_lines(portrait.strokes, SIZE)
    out: dict[str, dict[int, float]] = {}
    for name in names:
        condition = CONDITIONS[name]
        strokes = drawn_strokes(portrait, seed, condition)
        kinds = kinds_of(strokes, params)
        out[name] = {}
        for level in LEVELS:
            count = drawn_count(strokes, level)
            hidden = hidden_params(set(kinds[:count]), condition.style)
            guesses = [prior_guess()]
            if model is not None:
                sketch = sketch_pixels(strokes, seed, count, condition.ink)
                guide = model.guide(sketch, faithfulness=DEFAULT_FAITHFULNESS)
                guesses.append(P.decode(guide.floats, guide.choices))
            out[name][level] = max(line_f1(reader_lines(params, hidden, g), truth) for g in guesses)
    return out


# The framing conditions a ceiling is measured for: the engine's own framing (their in-distribution figure) and
# the three whose faces the request does not show whole. What lies beyond the request is neither drawn nor scored.
FRAMINGS = ("engine", "large", "off_centre", "cut")


def framing_ceiling_seed(seed: int, conditions=FRAMINGS, model=None) -> dict:
    """{condition: {level: ceiling F1}} for one portrait framed as eval/framing.py frames it: the reader knows
    what the strokes inside the request show, and is scored on the request's area, as the guidance is."""
    drawing = framing.drawing_of(seed)
    kinds = kinds_of(drawing.strokes, drawing.params)
    out: dict[str, dict[int, float]] = {}
    for condition in conditions:
        out[condition] = {}
        for level in LEVELS:
            count = drawn_count(drawing.strokes, level)
            request = framing.request_at(drawing, drawing.strokes[:count], condition, seed, level)
            seen = framing.request_mask(request)
            shown = {kind for stroke, kind in zip(drawing.strokes[:count], kinds) if shows(stroke, drawing, seen)}
            hidden = hidden_params(shown, None)
            guesses = [prior_guess()] + ([] if model is None else model_guess(model, request))
            out[condition][level] = max(
                line_f1(framed_lines(drawing, reader_params(drawing.params, hidden, g)) * seen, drawing.truth * seen)
                for g in guesses)
    return out


def model_guess(model, request) -> list[dict]:
    """What the model reads in the request, as a guess (none for a request without ink). Its pose lives in its
    window, so a hidden pose is still the prior's."""
    try:
        guide = model.guide(request.darkness, faithfulness=DEFAULT_FAITHFULNESS, origin=request.origin,
                            scale=request.scale, canvas=request.canvas)
    except BadRequest:
        return []
    prior = prior_guess()
    pose = {s.name: prior[s.name] for s in P.PARAM_SPECS if s.group == "pose" and s.name in prior}
    return [{**P.decode(guide.floats, guide.choices), **pose}]


def shows(stroke, drawing, seen: np.ndarray) -> bool:
    """Whether any of a drawn stroke's points lies inside the request's area (`seen`, the face frame)."""
    points = framing.in_own_face_frame([stroke], drawing.face)[0].points * SIZE
    pixel = np.floor(points).astype(np.intp)
    inside = (pixel >= 0).all(axis=1) & (pixel < SIZE).all(axis=1)
    return bool(seen[pixel[inside, 1], pixel[inside, 0]].any())


def framed_lines(drawing, params) -> np.ndarray:
    """The reader's line art on the face-frame canvas, placed as the truth is."""
    return render_lines(framing.in_own_face_frame(build_portrait(params).strokes, drawing.face), SIZE)


def evaluate(seeds: list[int], names=tuple(CONDITIONS), model=None,
             progress: Callable[[int, int], None] | None = None, framings=FRAMINGS) -> dict:
    """Keys `ceiling.COND.f1.LEVEL` and, against in_distribution when measured, `ceiling.COND.gap.LEVEL`; for the
    framing conditions `ceiling.framing.COND.f1.LEVEL` and `.gap.LEVEL` against the engine's own framing."""
    per_seed, per_framing = [], []
    for i, seed in enumerate(seeds):
        per_seed.append(ceiling_seed(seed, names, model))
        per_framing.append(framing_ceiling_seed(seed, framings, model))
        if progress:
            progress(i + 1, len(seeds))
    metrics: dict = {}
    for name in names:
        metrics.update(level_means(f"ceiling.{name}", [s[name] for s in per_seed]))
    metrics.update(gaps_to_reference("ceiling", names, metrics))
    for name in framings:
        metrics.update(level_means(f"ceiling.framing.{name}", [s[name] for s in per_framing]))
    metrics.update(gaps_to_reference("ceiling.framing", framings, metrics, reference="engine"))
    return metrics
