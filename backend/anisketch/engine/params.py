"""The portrait parameter space: what a face is made of, and how it becomes a vector.

Every portrait the engine draws is a pure function of a `Params` (a plain dict: name -> value). The vector that
the models predict is that dict normalised: each float spec maps its `[lo, hi]` range to `[0, 1]`, each colour
adds three floats (r, g, b in `[0, 1]`), each choice adds one integer. `PARAM_SPECS` fixes the order.

Sampling is built for isolation: each group draws its shape from its own random stream, its colours from another,
and each attribute from its own, so with a fixed seed, changing one attribute or one group changes nothing else.
Every random detail of the drawing (bang tips, lash count, strand positions...) is a parameter: geometry has no
randomness of its own.

Learnability: repeated elements are ordered canonically (fringe tips left to right, each in its own slot), and a
parameter that has no visible effect (the hat's shape without a hat, the parting without a parted fringe, the
mouth's curve when it is open...) takes a fixed canonical value (`inactive`, `canonicalize`), also in `decode`.

Groups: every spec belongs to one of GROUPS (the stroke groups) or to "pose" (placement and background);
`float_groups()` / `choice_groups()` give indices into ALL_GROUPS = GROUPS + ("pose",). Colours are floats of
kind "color" (drawn=False), grouped with the part they colour.

Why one file of this size: the specs table, the vector layout and the sampling streams are one contract that
ENGINE_VERSION and the shipped weights' manifests cover together; the table alone is a fifth of it.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from anisketch.errors import BadRequest

# Bump whenever the same seed would draw a different portrait (layout, ranges, sampling or geometry).
ENGINE_VERSION = "0.9.0"

GROUPS = ("face", "eyes", "brows", "nose", "mouth", "hair", "accessories")
# `pose` is global (placement of the whole face and the background): it belongs to no stroke group.
ALL_GROUPS = GROUPS + ("pose",)

# Part-map labels. "_l" and "_r" are the image's left and right (the character's right and left).
PART_LABELS = ("background", "skin", "eye_l", "eye_r", "brow_l", "brow_r", "nose", "mouth", "hair", "ears",
               "neck", "accessory", "clothes")
LABEL = {name: index for index, name in enumerate(PART_LABELS)}

HAIR_COLORS = {  # MakeGirlsMoe's hair colours and the RGB each one stands for
    "blonde": (0.98, 0.87, 0.52), "brown": (0.52, 0.33, 0.20), "black": (0.17, 0.16, 0.21),
    "blue": (0.30, 0.45, 0.86), "pink": (0.98, 0.63, 0.77), "purple": (0.58, 0.40, 0.80),
    "green": (0.38, 0.70, 0.40), "red": (0.82, 0.20, 0.20), "silver": (0.77, 0.80, 0.87),
    "white": (0.97, 0.96, 0.94), "orange": (0.98, 0.58, 0.24), "aqua": (0.42, 0.85, 0.85),
    "grey": (0.50, 0.50, 0.53),
}
EYE_COLORS = {
    "blue": (0.22, 0.42, 0.90), "red": (0.82, 0.12, 0.16), "brown": (0.52, 0.30, 0.15),
    "green": (0.22, 0.64, 0.30), "purple": (0.55, 0.30, 0.78), "yellow": (0.92, 0.78, 0.18),
    "pink": (0.96, 0.48, 0.68), "aqua": (0.18, 0.80, 0.80), "black": (0.20, 0.18, 0.21),
    "orange": (0.94, 0.50, 0.12),
}
HAIR_STYLES = ("long", "short", "twin_tail", "drill", "ponytail")
ON_OFF = ("off", "on")

ATTRIBUTES = {
    "hair_color": list(HAIR_COLORS),
    "hair_style": list(HAIR_STYLES),
    "eye_color": list(EYE_COLORS),
    "blush": list(ON_OFF),
    "smile": list(ON_OFF),
    "open_mouth": list(ON_OFF),
    "hat": list(ON_OFF),
    "ribbon": list(ON_OFF),
    "glasses": list(ON_OFF),
    "dark_skin": list(ON_OFF),
}
# How often an attribute is on (or each value, for the multi-valued ones) when the caller leaves it random.
ATTRIBUTE_PRIORS = {
    "hair_color": None, "eye_color": None,
    "hair_style": (0.32, 0.22, 0.18, 0.1, 0.18),
    "blush": 0.35, "smile": 0.5, "open_mouth": 0.3, "hat": 0.15, "ribbon": 0.2, "glasses": 0.12,
    "dark_skin": 0.2,
}

# Skin tones: light ones lie above this luminance, dark ones below; `attributes_of` reads dark_skin from it.
DARK_SKIN_LUMA = 0.62


@dataclass(frozen=True)
class ParamSpec:
    name: str
    group: str
    kind: str  # "float" | "choice" | "color"
    lo: float = 0.0
    hi: float = 1.0
    options: tuple = ()
    drawn: bool = True  # False: a line sketch cannot show it (colours)
    canonical: float | int | tuple | None = None  # value taken when the parameter has no visible effect


def F(name, group, lo, hi, canonical=None, drawn=True):
    return ParamSpec(name, group, "float", float(lo), float(hi), drawn=drawn, canonical=canonical)


def C(name, group, options, drawn=True):
    return ParamSpec(name, group, "choice", options=tuple(options), drawn=drawn)


def K(name, group):
    return ParamSpec(name, group, "color", drawn=False)


# Lengths are in face units: the face's half-width is 1, the cranium circle is centred at (0, 0), y points down,
# the eyes sit around y = 0.25 and the chin around y = 1.45. Angles are radians.
PARAM_SPECS = [
    # pose: where the face sits on the canvas, and the background behind it
    F("cx", "pose", 0.42, 0.58), F("cy", "pose", 0.42, 0.58),
    F("scale", "pose", 0.15, 0.27),  # face half-width, in canvas units
    F("roll", "pose", -0.2, 0.2), F("yaw", "pose", -1.0, 1.0),
    C("background", "pose", ("flat", "gradient"), drawn=False), K("bg_color", "pose"),
    # face: contour, jaw, ears, neck, shoulders and clothes, blush
    F("cheek_w", "face", 0.93, 1.0), F("cheek_y", "face", 0.35, 0.6),
    F("jaw_x", "face", 0.58, 0.8), F("jaw_y", "face", 0.95, 1.12),
    F("chin_y", "face", 1.28, 1.5), F("chin_round", "face", 0.0, 1.0),
    F("ear_y", "face", 0.12, 0.3), F("ear_size", "face", 0.34, 0.48),
    F("neck_w", "face", 0.32, 0.44), F("neck_len", "face", 0.55, 0.85),
    F("shoulder_w", "face", 1.9, 2.6), F("shoulder_drop", "face", 0.2, 0.45),
    C("clothes", "face", ("sailor", "shirt", "round")), K("clothes_color", "face"),
    C("blush", "face", ON_OFF), F("blush_size", "face", 0.0, 1.0, canonical=0.5),
    K("skin_color", "face"),
    # eyes (both eyes share their shape, mirrored)
    F("eye_x", "eyes", 0.44, 0.52), F("eye_y", "eyes", 0.2, 0.34),
    F("eye_w", "eyes", 0.42, 0.54), F("eye_h", "eyes", 0.36, 0.56),
    F("eye_tilt", "eyes", -0.1, 0.18), F("lid_peak", "eyes", 0.0, 1.0), F("lid_flat", "eyes", 0.0, 1.0),
    F("lower_lid", "eyes", 0.3, 0.8), F("iris_w", "eyes", 0.52, 0.7),
    F("gaze_x", "eyes", -0.12, 0.12), F("gaze_y", "eyes", -0.05, 0.08),
    # the pupil and the catch-lights are painted, not inked: a line sketch cannot show them
    F("pupil", "eyes", 0.3, 0.5, drawn=False), F("highlight_x", "eyes", 0.0, 1.0, drawn=False),
    F("highlight_y", "eyes", 0.0, 1.0, drawn=False), F("highlight_size", "eyes", 0.0, 1.0, drawn=False),
    F("lash_len", "eyes", 0.0, 1.0), F("lid_weight", "eyes", 0.75, 1.3),
    F("crease", "eyes", 0.0, 1.0),
    C("lashes", "eyes", (0, 1, 2, 3)), C("highlights", "eyes", (1, 2), drawn=False),
    K("iris_color", "eyes"),
    # brows
    F("brow_gap", "brows", 0.1, 0.24), F("brow_len", "brows", 0.32, 0.5), F("brow_x", "brows", -0.04, 0.08),
    F("brow_arch", "brows", 0.0, 0.12), F("brow_tilt", "brows", -0.15, 0.22), F("brow_weight", "brows", 0.7, 1.3),
    # nose
    F("nose_y", "nose", 0.74, 0.88), F("nose_size", "nose", 0.06, 0.13),
    C("nose_style", "nose", ("tick", "shadow", "side")),
    # mouth
    F("mouth_y", "mouth", 1.03, 1.13), F("mouth_w", "mouth", 0.14, 0.32), F("mouth_curve", "mouth", 0.0, 1.0),
    F("mouth_open_h", "mouth", 0.08, 0.22, canonical=0.15),
    C("smile", "mouth", ON_OFF), C("open_mouth", "mouth", ON_OFF), C("teeth", "mouth", ON_OFF),
    # hair
    F("hair_volume", "hair", 0.06, 0.2), F("crown", "hair", 0.0, 0.15),
    F("back_len", "hair", 0.0, 1.0), F("back_flare", "hair", 0.0, 1.0),
    *[F(f"back_tip{i}", "hair", 0.0, 1.0) for i in range(5)],
    F("bang_len", "hair", 0.0, 1.0), F("bang_depth", "hair", 0.0, 1.0), F("bang_sweep", "hair", -1.0, 1.0, canonical=0.0),
    *[F(f"bang_x{i}", "hair", 0.0, 1.0) for i in range(7)],
    *[F(f"bang_l{i}", "hair", 0.0, 1.0) for i in range(7)],
    F("parting", "hair", -0.4, 0.4, canonical=0.0),
    F("lock_len", "hair", 0.0, 1.0), F("lock_w", "hair", 0.0, 1.0), F("lock_curve", "hair", -1.0, 1.0),
    F("tail_len", "hair", 0.0, 1.0, canonical=0.5), F("tail_w", "hair", 0.0, 1.0, canonical=0.5),
    F("tail_spread", "hair", 0.0, 1.0, canonical=0.5), F("tail_height", "hair", 0.0, 1.0, canonical=0.5),
    F("tail_side", "hair", -1.0, 1.0, canonical=0.0),
    *[F(f"strand{i}", "hair", 0.0, 1.0) for i in range(4)],
    C("hair_style", "hair", HAIR_STYLES), C("bangs", "hair", ("straight", "swept", "parted", "spiky")),
    K("hair_color", "hair"),
    # accessories
    C("hat", "accessories", ("none", "beret", "sunhat")),
    F("hat_tilt", "accessories", -1.0, 1.0, canonical=0.0), F("hat_size", "accessories", 0.0, 1.0, canonical=0.5),
    K("hat_color", "accessories"),
    C("ribbon", "accessories", ("none", "bow")),
    F("ribbon_pos", "accessories", -1.0, 1.0, canonical=0.0),
    F("ribbon_size", "accessories", 0.0, 1.0, canonical=0.5),
    K("ribbon_color", "accessories"),
    C("glasses", "accessories", ("none", "round", "square")),
    F("glasses_size", "accessories", 0.0, 1.0, canonical=0.5),
]
SPEC = {spec.name: spec for spec in PARAM_SPECS}
assert len(SPEC) == len(PARAM_SPECS), "duplicate parameter name"

CANONICAL_COLOR = (0.5, 0.5, 0.5)


class Params(dict):
    """name -> value: float for floats, int (option index) for choices, (r, g, b) floats in [0, 1] for colours.

    `p.option("hair_style")` gives the option itself ("twin_tail") rather than its index.
    """

    def option(self, name):
        return SPEC[name].options[self[name]]

    def copy(self):
        return Params(self)


# ----------------------------------------------------------------------------------------------------------------
# Vector layout

def _float_slots():
    """(spec, width) for every spec stored in the float vector, in order."""
    return [(spec, 3 if spec.kind == "color" else 1) for spec in PARAM_SPECS if spec.kind != "choice"]


FLOAT_SPECS = [spec for spec in PARAM_SPECS if spec.kind != "choice"]
CHOICE_SPECS = [spec for spec in PARAM_SPECS if spec.kind == "choice"]
FLOAT_DIM = sum(width for _, width in _float_slots())
CHOICE_DIM = len(CHOICE_SPECS)


def float_names() -> list[str]:
    """Name of each float in the vector (colours as name.r, name.g, name.b)."""
    names = []
    for spec, width in _float_slots():
        names += [spec.name] if width == 1 else [f"{spec.name}.{c}" for c in "rgb"]
    return names


def float_groups() -> np.ndarray:
    """Index into ALL_GROUPS of each float in the vector (GROUPS first, then 'pose' = len(GROUPS))."""
    return np.array([ALL_GROUPS.index(spec.group) for spec, width in _float_slots() for _ in range(width)],
                    np.int64)


def choice_groups() -> np.ndarray:
    return np.array([ALL_GROUPS.index(spec.group) for spec in CHOICE_SPECS], np.int64)


def choice_sizes() -> np.ndarray:
    return np.array([len(spec.options) for spec in CHOICE_SPECS], np.int64)


def drawn_mask() -> np.ndarray:
    """True for each float a line sketch can show; False for colours and the painted-only eye details (pupil
    size, catch-lights)."""
    return np.array([spec.drawn for spec, width in _float_slots() for _ in range(width)], bool)


def choice_drawn_mask() -> np.ndarray:
    """True for each choice a line sketch can show; False for the background style and the catch-light count."""
    return np.array([spec.drawn for spec in CHOICE_SPECS], bool)


_SLOT_LO = np.array([spec.lo if w == 1 else 0.0 for spec, w in _float_slots() for _ in range(w)])
_SLOT_SPAN = np.array([spec.hi - spec.lo if w == 1 else 1.0 for spec, w in _float_slots() for _ in range(w)])


_FLOAT_FIELDS = [(spec.name, spec.kind == "color") for spec in FLOAT_SPECS]
_LAYOUT_NAMES = [spec.name for spec in PARAM_SPECS]
_CHOICE_NAMES = [spec.name for spec in CHOICE_SPECS]


def _flat_values(params) -> list:
    values = []
    for name, is_color in _FLOAT_FIELDS:
        if is_color:
            values.extend(params[name])
        else:
            values.append(params[name])
    return values


def encode(params: Params) -> tuple[np.ndarray, np.ndarray]:
    floats = ((np.array(_flat_values(params), np.float64) - _SLOT_LO) / _SLOT_SPAN).astype(np.float32)
    choices = np.array([params[name] for name in _CHOICE_NAMES], np.int64)
    return np.minimum(np.maximum(floats, 0.0), 1.0), choices  # (np.clip, without its wrappers)


def _assign_floats(params, floats32):
    """Set every float (and colour) of params from a float32 vector in [0, 1]."""
    values = (_SLOT_LO + floats32.astype(np.float64) * _SLOT_SPAN).tolist()
    i = 0
    for name, is_color in _FLOAT_FIELDS:
        if is_color:
            params[name] = tuple(values[i:i + 3])
            i += 3
        else:
            params[name] = values[i]
            i += 1
    return params


def decode(floats, choices) -> Params:
    """The inverse of `encode`: floats are clipped to [0, 1], choices to their option count."""
    floats = np.clip(np.asarray(floats, np.float32).reshape(-1), 0.0, 1.0)
    choices = np.asarray(choices).reshape(-1)
    if floats.size != FLOAT_DIM or choices.size != CHOICE_DIM:
        raise BadRequest(f"a parameter vector has {FLOAT_DIM} floats and {CHOICE_DIM} choices, "
                         f"got {floats.size} and {choices.size}")
    params = Params({spec.name: None for spec in PARAM_SPECS})  # layout order
    _assign_floats(params, floats)
    for spec, value in zip(CHOICE_SPECS, choices.tolist()):
        params[spec.name] = min(max(int(value), 0), len(spec.options) - 1)
    return canonicalize(params)


# Where each float that places the face (the Builder's pose) lies in the vector.
PLACING = ("cx", "cy", "scale", "roll", "yaw")
PLACING_SLOTS = np.array([float_names().index(name) for name in PLACING])


def decode_placing(floats) -> Params:
    """decode's values of the floats that place the face (cx, cy, scale, roll, yaw), and nothing else: what
    places a face's parts on its canvas, a twentieth of a decode (guidance compares many placements a stroke)."""
    values = np.clip(np.asarray(floats, np.float32).reshape(-1)[PLACING_SLOTS], 0.0, 1.0).astype(np.float64)
    return Params(zip(PLACING, (_SLOT_LO[PLACING_SLOTS] + values * _SLOT_SPAN[PLACING_SLOTS]).tolist()))


def _from_unit(spec, unit):
    """The float a float32 normalised value stands for; encode gives back exactly that float32."""
    return spec.lo + float(np.float32(unit)) * (spec.hi - spec.lo)


def _quantize(params: Params) -> Params:
    """Round every float through its float32 vector value: the params then survive encode/decode unchanged."""
    return _assign_floats(params, encode(params)[0])


# ----------------------------------------------------------------------------------------------------------------
# Which parameters have no visible effect: they take their canonical value

def inactive(params: Params) -> list[str]:
    names = []
    if params["blush"] == 0:
        names.append("blush_size")
    if params["open_mouth"] == 0:
        names += ["mouth_open_h", "teeth"]
    else:
        names.append("mouth_curve")  # an open mouth's shape comes from smile and opening alone
    if params["lashes"] == 0:
        names.append("lash_len")
    if params.option("bangs") != "parted":
        names.append("parting")
    if params.option("bangs") != "swept":
        names.append("bang_sweep")
    style = params.option("hair_style")
    if style in ("long", "short"):
        names += ["tail_len", "tail_w", "tail_spread", "tail_height", "tail_side"]
    elif style in ("twin_tail", "drill"):
        names.append("tail_side")
    if params["hat"] == 0:
        names += ["hat_tilt", "hat_size", "hat_color"]
    if params["ribbon"] == 0:
        names += ["ribbon_pos", "ribbon_size", "ribbon_color"]
    if params["glasses"] == 0:
        names.append("glasses_size")
    return names


def canonicalize(params: Params) -> Params:
    for name in inactive(params):
        spec = SPEC[name]
        if spec.kind == "color":
            params[name] = CANONICAL_COLOR
        elif spec.kind == "choice":
            params[name] = 0
        else:
            value = 0.5 if spec.canonical is None else (spec.canonical - spec.lo) / (spec.hi - spec.lo)
            params[name] = _from_unit(spec, value)
    return params


# ----------------------------------------------------------------------------------------------------------------
# Sampling

_MASK64 = (1 << 64) - 1


def _mix64(z: int) -> int:
    """splitmix64's finaliser on a Python int: a well-spread 64-bit key from any integer."""
    z &= _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def uniforms(seed: int, stream: int, n: int) -> np.ndarray:
    """n uniform floats in [0, 1) from (seed, stream): splitmix64, identical on every machine and very cheap."""
    key = _mix64(_mix64(int(seed)) ^ (int(stream) * 0xD1B54A32D192ED03))
    if n <= 8:  # plain Python beats numpy's per-call overhead for a handful of numbers (same values)
        return np.array([(_mix64(key + i * 0x9E3779B97F4A7C15) >> 11) * (1.0 / (1 << 53)) for i in range(1, n + 1)])
    z = np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(key)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


# Stream ids: shapes of group g use g, colours of group g use 100 + g, attribute a uses 200 + a.
def _shape_stream(group):
    return ALL_GROUPS.index(group)


def _color_stream(group):
    return 100 + ALL_GROUPS.index(group)


_ATTRIBUTE_INDEX = {name: i for i, name in enumerate(ATTRIBUTES)}


def _attribute_stream(name):
    return 200 + _ATTRIBUTE_INDEX[name]


def validate_attributes(attributes) -> dict:
    if attributes is None:
        return {}
    if not isinstance(attributes, dict):
        raise BadRequest("attributes must be a dict of name -> value")
    for name, value in attributes.items():
        if name not in ATTRIBUTES:
            raise BadRequest(f"unknown attribute {name!r}; valid attributes: {', '.join(ATTRIBUTES)}")
        if value not in ATTRIBUTES[name]:
            raise BadRequest(f"attribute {name!r} cannot be {value!r}; valid values: "
                             f"{', '.join(map(str, ATTRIBUTES[name]))}")
    return dict(attributes)


def _first_uniform(seed: int, stream: int) -> float:
    """uniforms(seed, stream, 1)[0] as a Python float, without the array."""
    key = _mix64(_mix64(int(seed)) ^ (int(stream) * 0xD1B54A32D192ED03))
    return (_mix64(key + 0x9E3779B97F4A7C15) >> 11) * (1.0 / (1 << 53))


def _draw_attributes(seed, fixed):
    out = {}
    for name, values in ATTRIBUTES.items():
        u = _first_uniform(seed, _attribute_stream(name))
        prior = ATTRIBUTE_PRIORS[name]
        if name in fixed:
            out[name] = fixed[name]
        elif prior is None:
            out[name] = values[min(int(u * len(values)), len(values) - 1)]
        elif isinstance(prior, tuple):
            out[name] = values[_pick(u, prior)]
        else:
            out[name] = "on" if u < prior else "off"
    return out


def _triangular(u0, u1):
    """Mean of two uniforms: typical faces are common, extreme ones rare (but reachable)."""
    return 0.5 * (u0 + u1)


_GROUP_FLOATS = {group: [(spec.name, spec.lo, spec.hi - spec.lo) for spec in PARAM_SPECS
                          if spec.group == group and spec.kind == "float"] for group in ALL_GROUPS}


# Every group's shape uniforms (2 per float, for the triangular law, and 8 spare ones) come from its own stream;
# they are drawn for all groups at once, as uniforms() would draw them one group at a time.
_GROUP_COUNTS = [2 * len(_GROUP_FLOATS[group]) + 8 for group in ALL_GROUPS]
_GROUP_STEPS = np.concatenate([np.arange(1, n + 1, dtype=np.uint64) for n in _GROUP_COUNTS]) * np.uint64(
    0x9E3779B97F4A7C15)
_GROUP_BOUNDS = np.cumsum([0] + _GROUP_COUNTS).tolist()


def _shape_uniforms(seed: int) -> dict:
    """group -> uniforms(seed, _shape_stream(group), 2 n + 8), the same numbers, in one vectorised pass."""
    seed_key = _mix64(int(seed))
    keys = [_mix64(seed_key ^ (_shape_stream(group) * 0xD1B54A32D192ED03)) for group in ALL_GROUPS]
    z = _GROUP_STEPS + np.repeat(np.array(keys, np.uint64), _GROUP_COUNTS)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
    return {group: u[a:b] for group, a, b in zip(ALL_GROUPS, _GROUP_BOUNDS[:-1], _GROUP_BOUNDS[1:])}


def _sample_floats(u, group, params):
    """The group's floats from its shape uniforms u; returns the spare uniforms for its free choices."""
    specs = _GROUP_FLOATS[group]
    n = len(specs)
    values = _triangular(u[0:2 * n:2], u[1:2 * n:2]).tolist()
    for (name, lo, span), v in zip(specs, values):
        params[name] = lo + v * span
    return u[2 * n:].tolist()


def _pick(u, weights):
    """Index i with probability weights[i] / sum(weights), for a uniform u."""
    target, total = u * sum(weights), 0.0
    for i, weight in enumerate(weights):
        total += weight
        if target < total:
            return i
    return len(weights) - 1


def _jitter_color(base, u, hue=0.02, sat=0.12, val=0.08):
    """A colour near `base`: small shifts in hue, saturation and value, driven by three uniforms."""
    h, s, v = colorsys.rgb_to_hsv(*base)
    h = (h + (u[0] - 0.5) * 2 * hue) % 1.0
    s = float(min(max(s * (1 + (u[1] - 0.5) * 2 * sat), 0.0), 1.0))
    v = float(min(max(v * (1 + (u[2] - 0.5) * 2 * val), 0.0), 1.0))
    return tuple(float(c) for c in colorsys.hsv_to_rgb(h, s, v))


def _color_near(prototypes, name, u):
    """A jittered version of prototypes[name] that still reads as `name` (shrinks the jitter until it does)."""
    scale = 1.0
    for _ in range(8):
        color = _jitter_color(prototypes[name], u, 0.02 * scale, 0.15 * scale, 0.1 * scale)
        if nearest_color_name(prototypes, color) == name:
            return color
        scale *= 0.5
    return tuple(float(c) for c in prototypes[name])


def _color_key(rgb):
    """A rough perceptual space: opponent axes weighted like the eye (cheap, no Lab conversion needed)."""
    r, g, b = (float(c) for c in rgb)
    luma = 0.3 * r + 0.59 * g + 0.11 * b
    return np.array([1.6 * luma, r - g, 0.5 * (r + g) - b])


_KEYS: dict[int, tuple[list[str], list[list[float]]]] = {}


def nearest_color_name(prototypes, rgb) -> str:
    """The prototype nearest to rgb in _color_key space (in plain Python: a dozen colours, called on every
    sample; the same sums, in the same order, as numpy's)."""
    if id(prototypes) not in _KEYS:
        _KEYS[id(prototypes)] = (list(prototypes), [_color_key(c).tolist() for c in prototypes.values()])
    names, keys = _KEYS[id(prototypes)]
    q0, q1, q2 = _color_key(rgb).tolist()
    best, best_distance = 0, float("inf")
    for i, (k0, k1, k2) in enumerate(keys):
        distance = (k0 - q0) * (k0 - q0) + (k1 - q1) * (k1 - q1) + (k2 - q2) * (k2 - q2)
        if distance < best_distance:
            best, best_distance = i, distance
    return names[best]


def _skin_color(dark, u):
    if dark:
        base = (0.62 + 0.1 * u[0], 0.44 + 0.08 * u[0], 0.33 + 0.06 * u[0])
    else:
        base = (1.0, 0.91 + 0.04 * u[0], 0.84 + 0.06 * u[0])
    return _jitter_color(base, u[1:], hue=0.01, sat=0.08, val=0.02)


def _pastel(u, sat=(0.15, 0.4), val=(0.85, 1.0)):
    h = u[0]
    s = sat[0] + u[1] * (sat[1] - sat[0])
    v = val[0] + u[2] * (val[1] - val[0])
    return tuple(float(c) for c in colorsys.hsv_to_rgb(h, s, v))


def sample_params(seed: int, attributes: dict | None = None) -> Params:
    """A random portrait. `attributes` fixes MakeGirlsMoe attributes (missing ones are random)."""
    attrs = _draw_attributes(seed, validate_attributes(attributes))
    p = Params()
    shape = _shape_uniforms(seed)

    # pose
    spare = _sample_floats(shape["pose"], "pose", p)
    p["background"] = _pick(spare[0], (0.4, 0.6))
    p["bg_color"] = _pastel(uniforms(seed, _color_stream("pose"), 3), sat=(0.05, 0.3), val=(0.88, 1.0))

    # face
    spare = _sample_floats(shape["face"], "face", p)
    p["clothes"] = _pick(spare[0], (0.4, 0.35, 0.25))
    p["blush"] = ON_OFF.index(attrs["blush"])
    u = uniforms(seed, _color_stream("face"), 8)
    p["clothes_color"] = _pastel(u[0:3], sat=(0.1, 0.6), val=(0.35, 0.95))
    p["skin_color"] = _skin_color(attrs["dark_skin"] == "on", uniforms(seed, _attribute_stream("dark_skin"), 5)[1:])

    # eyes
    spare = _sample_floats(shape["eyes"], "eyes", p)
    p["lashes"] = _pick(spare[0], (0.15, 0.3, 0.35, 0.2))
    p["highlights"] = _pick(spare[1], (0.45, 0.55))
    p["iris_color"] = _color_near(EYE_COLORS, attrs["eye_color"], uniforms(seed, _attribute_stream("eye_color"), 4)[1:])

    _sample_floats(shape["brows"], "brows", p)
    spare = _sample_floats(shape["nose"], "nose", p)
    p["nose_style"] = _pick(spare[0], (0.45, 0.3, 0.25))

    spare = _sample_floats(shape["mouth"], "mouth", p)
    p["smile"] = ON_OFF.index(attrs["smile"])
    p["open_mouth"] = ON_OFF.index(attrs["open_mouth"])
    p["teeth"] = _pick(spare[0], (0.6, 0.4))

    # hair
    spare = _sample_floats(shape["hair"], "hair", p)
    p["hair_style"] = HAIR_STYLES.index(attrs["hair_style"])
    p["bangs"] = _pick(spare[0], (0.3, 0.3, 0.2, 0.2))
    p["hair_color"] = _color_near(HAIR_COLORS, attrs["hair_color"],
                                  uniforms(seed, _attribute_stream("hair_color"), 4)[1:])

    # accessories: each one from its attribute's stream, so toggling one leaves the others alone
    _sample_floats(shape["accessories"], "accessories", p)
    u = uniforms(seed, _attribute_stream("hat"), 8)
    p["hat"] = 0 if attrs["hat"] == "off" else 1 + _pick(u[1], (0.5, 0.5))
    p["hat_color"] = _pastel(u[2:5], sat=(0.2, 0.7), val=(0.4, 0.95))
    u = uniforms(seed, _attribute_stream("ribbon"), 8)
    p["ribbon"] = ON_OFF.index(attrs["ribbon"])
    p["ribbon_color"] = _pastel(u[2:5], sat=(0.4, 0.85), val=(0.7, 1.0))
    u = uniforms(seed, _attribute_stream("glasses"), 8)
    p["glasses"] = 0 if attrs["glasses"] == "off" else 1 + _pick(u[1], (0.5, 0.5))

    p = Params({name: p[name] for name in _LAYOUT_NAMES})  # layout order
    return _quantize(canonicalize(p))


def attributes_of(params: Params) -> dict:
    """The MakeGirlsMoe attributes a portrait shows."""
    r, g, b = params["skin_color"]
    return {
        "hair_color": nearest_color_name(HAIR_COLORS, params["hair_color"]),
        "hair_style": params.option("hair_style"),
        "eye_color": nearest_color_name(EYE_COLORS, params["iris_color"]),
        "blush": ON_OFF[params["blush"]],
        "smile": ON_OFF[params["smile"]],
        "open_mouth": ON_OFF[params["open_mouth"]],
        "hat": ON_OFF[params["hat"] != 0],
        "ribbon": ON_OFF[params["ribbon"] != 0],
        "glasses": ON_OFF[params["glasses"] != 0],
        "dark_skin": ON_OFF[0.3 * r + 0.59 * g + 0.11 * b < DARK_SKIN_LUMA],
    }
