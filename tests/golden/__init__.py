"""Golden outputs: digests of everything the engine makes for a fixed set of seeds, one file per ENGINE_VERSION.

The engine promises that a seed draws the same portrait, sketch and hints, byte for byte, until
ENGINE_VERSION changes (training shards, cached datasets and the shipped weights all rely on it). These
digests hold that promise: `tests/test_golden.py` recomputes them and fails when bytes change while the
version stays. After a deliberate engine change, bump `engine.params.ENGINE_VERSION` and write the new file:

    .venv/bin/python -m tests.golden --write

The guidance result is kept as numbers, not a digest: the encoder's float arithmetic may differ in the last
bits between CPUs, so the test compares the decoded vector within a tolerance instead.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

GOLDEN_DIR = Path(__file__).resolve().parent
SEEDS = tuple(range(0, 300, 10))  # 30 seeds spread over the range the tests and evaluations use
SIZE = 128  # small enough for a quick test, large enough that every part reaches the pixels
GUIDE_SEED = 7  # the fixed-seed guidance result
GUIDE_FRACTION = 0.5


def golden_path(version: str) -> Path:
    return GOLDEN_DIR / f"engine-{version}.json"


def digest(*arrays) -> str:
    """sha256 over the arrays' dtypes, shapes and bytes (so a reshaped or retyped output counts as changed)."""
    h = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        h.update(f"{array.dtype.str}{array.shape}".encode())
        h.update(array.tobytes())
    return h.hexdigest()[:32]


def strokes_digest(strokes) -> str:
    h = hashlib.sha256()
    for s in strokes:
        h.update(f"{s.group}|{s.order}|{bool(s.closed)}|".encode())
        h.update(digest(np.asarray(s.points, np.float32), np.asarray(s.widths, np.float32)).encode())
    return h.hexdigest()[:32]


def seed_digests(seed: int) -> dict[str, str]:
    """Every engine output of one seed: parameters, strokes, regions, pictures, sketches, hints, a re-draw."""
    from anisketch.data.sample import draw_sample, render_seed
    from anisketch.engine.params import encode, sample_params

    floats, choices = encode(sample_params(seed))
    portrait = render_seed(seed, SIZE, with_fill=True)
    sample = draw_sample(portrait)
    redraw = draw_sample(portrait, epoch=1)  # training draws each portrait anew every epoch
    out = {
        "vector": digest(floats, choices),
        "strokes": strokes_digest(portrait.strokes),
        "color": digest(portrait.color),
        "fill": digest(portrait.fill),
        "lineart": digest(portrait.lineart),
        "parts": digest(portrait.parts),
        "hints": digest(sample.hints),
        "style": hashlib.sha256(json.dumps(sample.meta["drawing"], sort_keys=True).encode()).hexdigest()[:32],
        "redraw": digest(*[redraw.sketches[f] for f in sorted(redraw.sketches)], redraw.hints),
    }
    for fraction, darkness in sorted(sample.sketches.items()):
        out[f"sketch{int(round(fraction * 100))}"] = digest(darkness)
    out.update(_regions_and_extras(seed))
    return out


def _regions_and_extras(seed: int) -> dict[str, str]:
    """The portrait's regions, and the simulator's other options (random order, pen, attributes fixed)."""
    from anisketch.engine import sketch
    from anisketch.engine.geometry import build_portrait
    from anisketch.engine.params import sample_params

    portrait = build_portrait(sample_params(seed))
    h = hashlib.sha256()
    for r in portrait.regions:
        h.update(f"{r.label}|{getattr(r, 'z', '')}|{np.asarray(r.color).tolist()}|".encode())
        h.update(digest(np.asarray(r.polygon, np.float32)).encode())
    rng = np.random.default_rng([seed, 99])
    random_pen = sketch.sketch_darkness(portrait.strokes, SIZE, rng, 0.6, "random", 0.7, "pen")
    fixed = build_portrait(sample_params(seed, {"hair_color": "pink", "glasses": "on", "hair_style": "twin_tail"}))
    return {"regions": h.hexdigest()[:32], "sketch_random_pen": digest(random_pen),
            "attributes_fixed": strokes_digest(fixed.strokes)}


def guide_result() -> dict:
    """The shipped guidance model's reading of one fixed simulated sketch (CPU), as numbers."""
    from anisketch.data.sample import make_sample
    from anisketch.guidance.predictor import GuidanceModel

    sample = make_sample(GUIDE_SEED, 256, fractions=(GUIDE_FRACTION,))
    model = GuidanceModel.load(device="cpu")
    guide = model.guide(sample.sketches[GUIDE_FRACTION])
    return {"floats": [round(float(v), 5) for v in guide.floats], "choices": [int(v) for v in guide.choices]}


def compute() -> dict:
    from anisketch.engine.params import ENGINE_VERSION

    return {"engine_version": ENGINE_VERSION, "size": SIZE,
            "seeds": {str(seed): seed_digests(seed) for seed in SEEDS}, "guide": guide_result()}


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print(__doc__)
        return 2
    golden = compute()
    path = golden_path(golden["engine_version"])
    path.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")
    return 0

