"""The render timeline (`bench --timeline`) shows where a render's time goes, thread by thread, and leaves the
render modules as it found them."""

import numpy as np

from anisketch.engine.sketch import sketch_to_rgba
from anisketch.guidance.predictor import GuidanceModel
from anisketch.render import api, faithful_layers, snapping
from anisketch.render.evaluate import truth_and_inputs
from anisketch.render.timeline import Timeline


def test_a_timeline_shows_the_faithful_stages_nested_and_on_their_threads():
    case = truth_and_inputs(2_000_000_000)
    guidance = GuidanceModel.load(device="cpu")
    originals = (api.dabs_and_shading, faithful_layers.find_shapes, snapping.snap_to_lines)
    with Timeline() as timeline:
        result = api.render(guidance, sketch_to_rgba(case["sketch"]), case["hints"][10], n=2, mode="faithful",
                            colorizer=api.load_colorizer(None, "cpu"))
    assert len(result.layers) == 2 * 3
    calls = {call.name: call for call in timeline.calls}
    shapes, snapped = calls["faithful_layers.find_shapes"], calls["snapping.snap_to_lines"]
    assert shapes.depth < snapped.depth and shapes.start_ms <= snapped.start_ms
    assert snapped.start_ms + snapped.duration_ms <= shapes.start_ms + shapes.duration_ms
    # what needs only the lines and the face runs beside the network, not on the request's thread
    assert calls["api.dabs_and_shading"].thread != shapes.thread
    assert "faithful_layers.find_shapes" in timeline.report()
    assert (api.dabs_and_shading, faithful_layers.find_shapes, snapping.snap_to_lines) == originals
    assert np.isfinite([call.duration_ms for call in timeline.calls]).all()
