"""What the artist asks for, in MakeGirlsMoe's vocabulary, turned into the engine's fixed attributes.

Each attribute is one of:
- a value: `"on"`, `"off"`, `"blonde"`, `"twin_tail"` (also `True`/`False`, `"yes"`/`"no"`);
- `"random"` or `None`, or simply missing: the engine draws it from the noise;
- a list of values (`["blonde", "pink"]`): one of them, chosen by the noise.

Names and values are forgiving about case, spaces and hyphens ("Twin tails" is `twin_tail`) and accept a few
short names (`hair=`, `style=`, `eyes=`); anything else is a BadRequest that lists what is valid.
"""

from __future__ import annotations

from ..engine import params as P
from ..errors import BadRequest

NAME_ALIASES = {
    "hair": "hair_color", "hair_colour": "hair_color", "style": "hair_style", "hairstyle": "hair_style",
    "eyes": "eye_color", "eye": "eye_color", "eye_colour": "eye_color", "skin": "dark_skin",
    "mouth": "open_mouth", "open": "open_mouth", "bow": "ribbon",
}
VALUE_ALIASES = {
    "twin_tails": "twin_tail", "twintail": "twin_tail", "twintails": "twin_tail", "drills": "drill",
    "drill_hair": "drill", "pony_tail": "ponytail", "gray": "grey", "cyan": "aqua",
    "true": "on", "yes": "on", "1": "on", "false": "off", "no": "off", "0": "off",
}
RANDOM = "random"
_RANDOM_WORDS = {RANDOM, "any", "?", ""}
# Stream ids for picking one value out of a list, one per attribute, away from the engine's own (0..299).
_LIST_STREAM = 300


def _key(text: str) -> str:
    return text.strip().lower().replace("-", "_").replace(" ", "_")


def canonical_name(name) -> str:
    if not isinstance(name, str):
        raise BadRequest(f"attribute names are strings, got {name!r}")
    key = NAME_ALIASES.get(_key(name), _key(name))
    if key not in P.ATTRIBUTES:
        aliases = ", ".join(f"{a}={n}" for a, n in NAME_ALIASES.items())
        raise BadRequest(f"unknown attribute {name!r}; valid attributes: {', '.join(P.ATTRIBUTES)} "
                         f"(short names: {aliases})")
    return key


def canonical_value(name: str, value) -> str | None:
    """The value as the engine spells it, or None for random."""
    if value is None:
        return None
    if isinstance(value, bool):
        value = "on" if value else "off"
    if not isinstance(value, str):
        raise BadRequest(f"attribute {name!r}: a value is a string, a list of strings or null; got {value!r}")
    key = _key(value)
    if key in _RANDOM_WORDS:
        return None
    key = VALUE_ALIASES.get(key, key)
    if key not in P.ATTRIBUTES[name]:
        raise BadRequest(f"attribute {name!r} cannot be {value!r}; valid values: "
                         f"{', '.join(P.ATTRIBUTES[name])} or random")
    return key


def normalize(request: dict | None) -> dict:
    """name -> value, list of values (several allowed) or absent (random), in the engine's spelling."""
    if request is None:
        return {}
    if not isinstance(request, dict):
        raise BadRequest("attributes must be a mapping of name -> value, e.g. {\"hair_color\": \"blonde\"}")
    out: dict = {}
    for raw_name, raw_value in request.items():
        name = canonical_name(raw_name)
        if name in out:
            raise BadRequest(f"attribute {name!r} is given twice ({raw_name!r} is another name for it)")
        if isinstance(raw_value, (list, tuple)):
            values = [v for v in (canonical_value(name, v) for v in raw_value) if v is not None]
            if len(values) != len(raw_value):
                raise BadRequest(f"attribute {name!r}: a list holds values to choose from; 'random' cannot be one")
            if not values:
                continue  # an empty list: random
            out[name] = sorted(set(values), key=P.ATTRIBUTES[name].index)
            if len(out[name]) == 1:
                out[name] = out[name][0]
        else:
            value = canonical_value(name, raw_value)
            if value is not None:
                out[name] = value
    return out


def fixed_for_seed(request: dict, seed: int) -> dict:
    """The engine's fixed attributes for one seed: lists resolved by the noise, on each attribute's own stream."""
    fixed = {}
    for name, value in request.items():
        if isinstance(value, list):
            u = P.uniforms(seed, _LIST_STREAM + list(P.ATTRIBUTES).index(name), 1)[0]
            value = value[min(int(u * len(value)), len(value) - 1)]
        fixed[name] = value
    return fixed


def parse_cli(text: str) -> dict:
    """`hair=blonde,style=twin_tail,eyes=blue,smile=on` (lists with `|`: `hair=blonde|pink`)."""
    request: dict = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        if "=" not in item:
            raise BadRequest(f"{item!r}: write attributes as name=value, e.g. hair=blonde,smile=on")
        name, value = (s.strip() for s in item.split("=", 1))
        if name in request:
            raise BadRequest(f"attribute {name!r} is given twice")
        request[name] = value.split("|") if "|" in value else value
    return request


def describe() -> str:
    """Every attribute and its values, for --help and error messages."""
    lines = [f"  {name}: {', '.join(values)}" for name, values in P.ATTRIBUTES.items()]
    return "\n".join(lines)
