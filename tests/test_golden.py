"""The engine draws the same bytes for a seed until ENGINE_VERSION changes, and the shipped weights match it.

Digests of every engine output for 30 seeds live in tests/golden/engine-<version>.json (see tests/golden).
A refactor must leave them all unchanged; a deliberate change bumps ENGINE_VERSION and writes a new file.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from anisketch.engine.params import ENGINE_VERSION
from anisketch.weights import default_weights_dir
import golden

REWRITE = "bump engine.params.ENGINE_VERSION and run `.venv/bin/python -m tests.golden --write`"


@pytest.fixture(scope="module")
def recorded() -> dict:
    path = golden.golden_path(ENGINE_VERSION)
    assert path.exists(), f"no golden outputs for engine {ENGINE_VERSION}: write them with `python -m tests.golden --write`"
    return json.loads(path.read_text())


def changed_outputs(expected: dict, actual: dict) -> list[str]:
    """'seed/output' for every digest that differs (or is missing on either side)."""
    changed = []
    for seed in sorted(set(expected) | set(actual), key=int):
        want, got = expected.get(seed, {}), actual.get(seed, {})
        changed += [f"{seed}/{name}" for name in sorted(set(want) | set(got)) if want.get(name) != got.get(name)]
    return changed


def test_every_engine_output_is_byte_identical_to_the_golden_file(recorded):
    actual = {str(seed): golden.seed_digests(seed) for seed in golden.SEEDS}
    changed = changed_outputs(recorded["seeds"], actual)
    assert not changed, (f"engine {ENGINE_VERSION} now draws other bytes for {len(changed)} outputs "
                         f"({', '.join(changed[:8])}...): if that is meant, {REWRITE}")


def test_the_fixed_seed_guidance_is_unchanged(recorded):
    actual = golden.guide_result()
    assert actual["choices"] == recorded["guide"]["choices"]
    np.testing.assert_allclose(actual["floats"], recorded["guide"]["floats"], atol=2e-3)


def test_a_changed_output_is_reported_by_seed_and_name():
    expected = {"10": {"strokes": "a", "color": "b"}, "20": {"strokes": "c"}}
    actual = {"10": {"strokes": "a", "color": "X"}, "20": {"strokes": "c", "parts": "new"}}
    assert changed_outputs(expected, actual) == ["10/color", "20/parts"]
    assert changed_outputs(expected, expected) == []


def test_the_digest_sees_dtype_shape_and_bytes():
    a = np.zeros((2, 3), np.uint8)
    assert golden.digest(a) != golden.digest(a.reshape(3, 2))
    assert golden.digest(a) != golden.digest(a.astype(np.int8))
    b = a.copy()
    b[1, 2] = 1
    assert golden.digest(a) != golden.digest(b)


def test_shipped_weights_were_trained_for_this_engine_or_say_why():
    manifest = json.loads((default_weights_dir() / "manifest.json").read_text())["models"]
    reasons = json.loads((golden.GOLDEN_DIR / "weights_engine.json").read_text())
    for name, entry in manifest.items():
        trained_on = entry.get("engine_version")
        if trained_on == ENGINE_VERSION:
            continue
        reason = reasons.get(name, {})
        assert (reason.get("trained_on"), reason.get("engine")) == (trained_on, ENGINE_VERSION), (
            f"weights/{entry['file']} were trained on engine {trained_on}, the engine is {ENGINE_VERSION}: retrain, "
            f"or record why that is fine in tests/golden/weights_engine.json")
        assert len(reason.get("reason", "")) > 40
