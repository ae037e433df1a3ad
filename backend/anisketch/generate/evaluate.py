"""How well generation obeys its controls, judged by the attribute classifier (`generate/model.py`).

    metrics, grid = evaluate_generation(load_judge(weights_dir, device), seeds)

Metrics (all in [0, 1]):
- `generate.attribute_accuracy` (and `.<name>`, `.min`): portraits generated with every attribute requested
  (values drawn uniformly, so rare combinations count as much as common ones), read back by the judge from the
  colour render at its input size; the fraction of attributes it reads as requested.
- `generate.judge_accuracy` (and `.<name>`): the judge on plain engine portraits (engine priors), against
  `attributes_of`: how far to trust the line above. `generate.request_fidelity`: the engine's own
  `attributes_of` of generated portraits against the request (1.0 unless sampling ignores a request).
- `generate.attribute_isolation`: fixed noise, one attribute changed to another value: the fraction of the
  other nine attributes that stay the same, read by `attributes_of` on the parameters.
  `generate.attribute_isolation.judge`: the same read by the judge from the pixels (judge errors lower it).
- `generate.diversity`: mean absolute pixel difference (RGB in [0, 1], 128 px) between portraits with the same
  attributes and different noise, averaged over all pairs; `generate.diversity.unconstrained` is the same
  for portraits with random attributes (the ceiling), `generate.diversity.features` the mean cosine distance
  between the judge's pooled features (an LPIPS-free perceptual distance).

The grid: rows hold a fixed attribute request (the first row the base, each other row one attribute changed),
columns a fixed noise. A red frame marks a portrait the judge reads differently from its request.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from ..engine import params as P
from ..engine.geometry import build_portrait
from ..engine.raster import render
from ..parallel import parallel_map
from .api import params_for
from .model import ATTRIBUTE_NAMES, AttributeJudge

GRID_BASE = {"hair_color": "blonde", "hair_style": "twin_tail", "eye_color": "blue", "blush": "off", "smile": "on",
             "open_mouth": "off", "hat": "off", "ribbon": "on", "glasses": "off", "dark_skin": "off"}
GRID_CHANGES = {"hair_color": "pink", "hair_style": "drill", "eye_color": "red", "blush": "on", "smile": "off",
                "open_mouth": "on", "hat": "on", "ribbon": "off", "glasses": "on", "dark_skin": "on"}
REQUEST_STREAM = 0x6E7  # draws evaluation requests from the seed, apart from the engine's streams


def random_request(seed: int) -> dict:
    """Every attribute requested, each value equally likely."""
    rng = np.random.default_rng([seed, REQUEST_STREAM])
    return {name: values[rng.integers(len(values))] for name, values in P.ATTRIBUTES.items()}


def other_value(name: str, value: str, seed: int) -> str:
    others = [v for v in P.ATTRIBUTES[name] if v != value]
    return others[np.random.default_rng([seed, REQUEST_STREAM, len(name)]).integers(len(others))]


def _render_job(job: tuple[dict | None, int, int]) -> tuple[np.ndarray, dict]:
    """(colour image, attributes_of) of one request and seed (None: plain engine sample)."""
    request, seed, size = job
    params = P.sample_params(seed) if request is None else params_for(request, seed)
    return render(build_portrait(params), size)["color"], P.attributes_of(params)


def render_all(jobs: list) -> tuple[np.ndarray, list[dict]]:
    out = parallel_map(_render_job, jobs)  # type: ignore[arg-type]  # parallel_map is typed for int items; any picklable works
    return np.stack([o[0] for o in out]), [o[1] for o in out]


def _agreement(a: list[dict], b: list[dict]) -> np.ndarray:
    """bool [N, A]: attribute by attribute, whether a[i] and b[i] agree."""
    return np.array([[x[name] == y[name] for name in ATTRIBUTE_NAMES] for x, y in zip(a, b)])


def _per_attribute(prefix: str, agree: np.ndarray) -> dict[str, float]:
    per = agree.mean(axis=0)
    metrics = {prefix: float(per.mean()), f"{prefix}.min": float(per.min())}
    metrics.update({f"{prefix}.{name}": float(a) for name, a in zip(ATTRIBUTE_NAMES, per)})
    return metrics


def accuracy_metrics(judge: AttributeJudge, seeds: list[int]) -> dict[str, float]:
    requests = [random_request(s) for s in seeds]
    images, shown = render_all([(r, s, judge.size) for r, s in zip(requests, seeds)])
    metrics = _per_attribute("generate.attribute_accuracy", _agreement(judge(images), requests))
    metrics["generate.request_fidelity"] = float(_agreement(shown, requests).mean())
    plain, truth = render_all([(None, s, judge.size) for s in seeds])
    metrics.update(_per_attribute("generate.judge_accuracy", _agreement(judge(plain), truth)))
    return metrics


def isolation_metrics(judge: AttributeJudge, seeds: list[int]) -> dict[str, float]:
    requests = [random_request(s) for s in seeds]
    base_images, base_shown = render_all([(r, s, judge.size) for r, s in zip(requests, seeds)])
    base_judged = judge(base_images)
    jobs, pairs = [], []  # pairs: (index of the base portrait, changed attribute)
    for i, (request, s) in enumerate(zip(requests, seeds)):
        for name in ATTRIBUTE_NAMES:
            jobs.append(({**request, name: other_value(name, request[name], s)}, s, judge.size))
            pairs.append((i, name))
    images, shown = render_all(jobs)
    judged = judge(images)
    before_shown = [base_shown[i] for i, _ in pairs]
    before_judged = [base_judged[i] for i, _ in pairs]
    others = np.array([[n != changed for n in ATTRIBUTE_NAMES] for _, changed in pairs])
    params_agree = _agreement(before_shown, shown)
    return {
        "generate.attribute_isolation": float(params_agree[others].mean()),
        "generate.attribute_isolation.judge": float(_agreement(before_judged, judged)[others].mean()),
        "generate.attribute_control": float(1.0 - params_agree[~others].mean()),  # the changed one did change
    }


def diversity_metrics(judge: AttributeJudge, seeds: list[int], sets: int = 8, per_set: int = 8) -> dict[str, float]:
    """Mean pairwise distances within groups of portraits that share their attributes (see the module doc)."""
    sets = max(1, min(sets, len(seeds) // per_set))
    groups = [seeds[i * per_set:(i + 1) * per_set] for i in range(sets)]
    same = [render_all([(random_request(g[0]), s, judge.size) for s in g])[0] for g in groups]
    free = [render_all([(None, s + 1, judge.size) for s in g])[0] for g in groups]

    def pixel(group):
        x = group.astype(np.float32) / 255.0
        return np.mean([np.abs(x[i] - x[j]).mean() for i, j in combinations(range(len(x)), 2)])

    def feature(group):
        f = judge.features(group)
        f = f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-8)
        return np.mean([1.0 - float(f[i] @ f[j]) for i, j in combinations(range(len(f)), 2)])

    return {
        "generate.diversity": float(np.mean([pixel(g) for g in same])),
        "generate.diversity.features": float(np.mean([feature(g) for g in same])),
        "generate.diversity.unconstrained": float(np.mean([pixel(g) for g in free])),
        "generate.diversity.unconstrained_features": float(np.mean([feature(g) for g in free])),
    }


def grid_image(judge: AttributeJudge, seeds: list[int], cell: int = 128) -> np.ndarray:
    """Rows: the base request, then one attribute changed each; columns: noise seeds (see the module doc)."""
    from PIL import Image, ImageDraw

    rows = [("base request:\nblonde twin tails, blue\neyes, smile, ribbon", GRID_BASE)]
    rows += [(f"{name} = {value}", {**GRID_BASE, name: value}) for name, value in GRID_CHANGES.items()]
    jobs = [(request, s, cell) for _, request in rows for s in seeds]
    images, _ = render_all(jobs)
    judged = judge(images)
    label_w, pad = 190, 3
    grid = Image.new("RGB", (label_w + len(seeds) * (cell + pad), len(rows) * (cell + pad)), "white")
    draw = ImageDraw.Draw(grid)
    for r, (label, request) in enumerate(rows):
        y = r * (cell + pad)
        draw.text((6, y + cell // 2 - 6), label, fill="black")
        for c in range(len(seeds)):
            k = r * len(seeds) + c
            x = label_w + c * (cell + pad)
            grid.paste(Image.fromarray(images[k]), (x, y))
            if any(judged[k][n] != request[n] for n in ATTRIBUTE_NAMES):
                draw.rectangle([x, y, x + cell - 1, y + cell - 1], outline=(220, 0, 0), width=3)
    return np.asarray(grid)


def evaluate_generation(classifier: AttributeJudge, seeds, *, isolation_count: int = 40,
                        grid_columns: int = 6) -> tuple[dict[str, float], np.ndarray]:
    """Generation metrics over `seeds` (keep them apart from the judge's training seeds, 0..1e7) and the grid."""
    seeds = [int(s) for s in seeds]
    if len(seeds) < 8:
        raise ValueError("evaluate_generation needs at least 8 seeds")
    metrics = {"generate.count": float(len(seeds))}
    metrics.update(accuracy_metrics(classifier, seeds))
    metrics.update(isolation_metrics(classifier, seeds[:isolation_count]))
    metrics.update(diversity_metrics(classifier, seeds))
    return metrics, grid_image(classifier, seeds[:grid_columns])
