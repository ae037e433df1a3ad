"""A bust drawn on a canvas, as a new user draws one: the colour ends where the drawing ends, a head drawn alone
gets no body, and a hinted background fills the whole request (not only the guidance's window). Both render
modes, the shipped weights."""

import cv2
import numpy as np
import pytest

from anisketch.colour import delta_e2000, srgb_to_lab
from anisketch.engine import params as P
from anisketch.engine.geometry import build_portrait
from anisketch.engine.raster import render as render_portrait
from anisketch.engine.raster import render_lines
from anisketch.engine.sketch import render_sketch, simulate_sketch, sketch_to_rgba
from anisketch.guidance.predictor import GuidanceModel
from anisketch.render.api import load_colorizer, render
from anisketch.render.drawn import DRAWN_MARGIN, at_side, drawn_box, undrawn_body
from anisketch.render.layered import FLATS, candidate_stacks
from anisketch.eval.framing import CROP_MARGIN
from anisketch.render.layers_eval import framed_stacks, plugin_crop

SEED = 2_000_000_003
H, W = 560, 500  # the request: the face drawn at 0.7 of it, near its top-left, blank paper below the shoulders
LILAC = (200, 170, 235)


@pytest.fixture(scope="module")
def guidance():
    return GuidanceModel.load(device="cpu")


@pytest.fixture(scope="module")
def colorizer():
    return load_colorizer(None, "cpu")


@pytest.fixture(scope="module")
def engine_sketch():
    """The engine's complete messy sketch of a portrait, in the engine's frame (its shoulders run off the bottom)."""
    rng = np.random.default_rng(SEED)
    strokes = simulate_sketch(build_portrait(P.sample_params(SEED)), rng, fraction=1.0, order="random", messiness=0.5)
    return sketch_to_rgba(render_sketch(strokes, 512, rng=rng))


@pytest.fixture(scope="module")
def bust(engine_sketch):
    """The same sketch drawn smaller on a larger page: its shoulder lines now end in the middle of the request."""
    small = cv2.resize(engine_sketch, (358, 358), interpolation=cv2.INTER_AREA)
    page = np.zeros((H, W, 4), np.uint8)
    page[30:388, 40:398] = small
    return page


@pytest.fixture(scope="module")
def lone_head(engine_sketch):
    """The same page with only the head drawn (the sketch erased below the chin) and one stray stroke far below
    and to the left of it, as a beginner leaves one: (the page, the chin's row on it, the stray stroke's top row)."""
    parts = render_portrait(build_portrait(P.sample_params(SEED)), 512)["parts"]
    chin = int(np.flatnonzero((parts == P.LABEL["skin"]).any(axis=1))[-1])
    head = engine_sketch.copy()
    head[chin + 4:] = 0
    page = np.zeros((H, W, 4), np.uint8)
    page[30:388, 40:398] = cv2.resize(head, (358, 358), interpolation=cv2.INTER_AREA)
    cv2.line(page, (60, 500), (110, 515), (40, 40, 40, 255), 5)
    return page, 30 + round(chin * 358 / 512), 495


def ink_rows(rgba: np.ndarray) -> np.ndarray:
    return np.flatnonzero((rgba[..., 3] > 0).any(axis=1))


def flats_of(result) -> np.ndarray:
    return candidate_stacks(result.layers, H, W)[0][0][0]


def test_the_drawn_box_is_the_ink_a_little_wider_and_runs_on_past_an_edge_the_ink_reaches():
    darkness = np.zeros((300, 200), np.uint8)
    darkness[100:150, 50:120] = 255
    margin = round(DRAWN_MARGIN * 300)
    assert drawn_box(darkness, 300) == (100 - margin, 150 + margin, 50 - margin, 120 + margin)
    darkness[150:299, 60] = 255  # a line that runs to the request's bottom: the figure goes on past the frame
    assert drawn_box(darkness, 300) == (100 - margin, 300, 50 - margin, 120 + margin)
    darkness[120, 60:200] = 255  # ... and to its right edge (200 of the 300 px square): on to the square's edge
    assert drawn_box(darkness, 300)[3] == 300
    assert drawn_box(np.zeros((300, 200), np.uint8), 300) is None


@pytest.mark.parametrize("mode", ["refined", "faithful"])
def test_a_bust_is_coloured_down_to_where_its_lines_end_not_below(guidance, colorizer, bust, mode):
    result = render(guidance, bust, None, n=1, mode=mode, colorizer=colorizer)
    flats = flats_of(result)
    bottom = ink_rows(bust)[-1]
    below = bottom + 1 + round(DRAWN_MARGIN * max(H, W))
    assert not flats[below:, :, 3].any(), "colour below the last line drawn: clothes the artist never drew"
    for layer in candidate_stacks(result.layers, H, W)[0]:
        assert not layer[0][below:, :, 3].any()
    # ... yet the clothes reach down to it: the cut is where the drawing ends, not above
    assert (flats[bottom - 8:bottom, :, 3] == 255).any(axis=1).all()


@pytest.mark.parametrize("mode", ["refined", "faithful"])
def test_a_hinted_background_fills_the_whole_request(guidance, colorizer, bust, mode):
    hints = np.zeros((H, W, 4), np.uint8)
    cv2.circle(hints, (460, 40), 12, (*LILAC, 255), -1)  # a dab on the paper, right of the hair
    result = render(guidance, bust, hints, n=1, mode=mode, colorizer=colorizer)
    flats = flats_of(result)
    assert (flats[..., 3] == 255).all(), "a hinted background leaves paper showing"
    bottom = ink_rows(bust)[-1] + 1 + round(DRAWN_MARGIN * max(H, W))
    corners = [flats[-1, 0, :3], flats[-1, -1, :3], flats[0, -1, :3], flats[bottom, W // 2, :3]]
    lilac = srgb_to_lab(np.array(LILAC, np.uint8))
    for pixel in corners:  # beyond the guidance's window and below the drawing: the background's colour
        assert float(delta_e2000(srgb_to_lab(pixel.astype(np.uint8)), lilac)) < 10, pixel
    # ... and beyond the request too: the Flat colours layer tells the plugin the canvas's colour
    (flats_layer,) = [layer for layer in result.layers if layer.name == FLATS]
    assert float(delta_e2000(srgb_to_lab(np.array(flats_layer.backdrop, np.uint8)), lilac)) < 10
    assert all(layer.backdrop is None for layer in result.layers if layer.name != FLATS)


@pytest.mark.parametrize("mode", ["refined", "faithful"])
def test_without_a_background_dab_nothing_runs_on_past_the_request(guidance, colorizer, bust, mode):
    result = render(guidance, bust, None, n=1, mode=mode, colorizer=colorizer)
    assert all(layer.backdrop is None for layer in result.layers)


def test_the_crop_framing_sends_the_sketch_as_the_plugin_crops_it_and_judges_it_in_its_own_frame(
        guidance, colorizer, engine_sketch):
    """layers_eval --framing crop: the sketch's square inside a request with a quarter of the ink's extent of paper
    round the ink (below the shoulders too), and the render's layers cut back to the sketch's square."""
    request, x, y = plugin_crop(engine_sketch)
    ink = np.argwhere(engine_sketch[..., 3] > 0)
    extent = (ink.max(axis=0) - ink.min(axis=0)).max() + 1
    assert request == round(extent * (1 + 2 * CROP_MARGIN)) and 0 <= x <= request - 512 and 0 <= y <= request - 512
    assert request - (y + ink[:, 0].max()) > 0.2 * extent  # paper below the last line drawn
    stacks = framed_stacks(guidance, colorizer, engine_sketch, np.zeros_like(engine_sketch), 1, "refined", "crop")
    flats = stacks[0][0][0]
    assert flats.shape == (512, 512, 4)
    assert (flats[-1, :, 3] == 255).mean() > 0.5  # the shoulders still reach the frame's bottom edge


def test_the_body_counts_as_drawn_only_where_its_outline_is():
    portrait = build_portrait(P.sample_params(SEED))
    parts = render_portrait(portrait, 128)["parts"]
    lines = render_lines(portrait.strokes, 512)
    assert undrawn_body(parts, lines) == ()  # the whole bust drawn
    chin = int(np.flatnonzero((render_portrait(portrait, 512)["parts"] == P.LABEL["skin"]).any(axis=1))[-1])
    lines[chin + 4:] = 0
    assert undrawn_body(parts, lines) == ()  # the head alone: the drawn box ends at the chin and cuts the body
    cv2.line(lines, (20, 490), (60, 500), 255, 3)  # ... until a stray mark far below stretches the box
    assert set(undrawn_body(parts, lines)) == {P.LABEL["neck"], P.LABEL["clothes"]}


@pytest.mark.parametrize("mode", ["refined", "faithful"])
def test_a_head_drawn_alone_gets_no_body_down_to_a_stray_stroke(guidance, colorizer, lone_head, mode):
    page, chin, stray = lone_head
    flats = flats_of(render(guidance, page, None, n=1, mode=mode, colorizer=colorizer))
    below = flats[chin + round(0.06 * H):stray - 5, 40:398, 3]  # under the chin, above the stray stroke
    assert (below == 255).mean() < 0.05, "a neck and clothes the artist never drew, painted under the head"
    assert (flats[chin - 50:chin - 15, 180:260, 3] == 255).mean() > 0.95  # the face itself is coloured


def test_the_lone_heads_figure_counts_the_bodies_the_rule_takes_away():
    """render/lone_heads.py, end to end on one lone head whose shoulders' outline is long enough to judge."""
    from anisketch.render import api, lone_heads

    rule = api.undrawn_body
    before, _ = lone_heads.evaluate(1, 2_000_000_001, ("refined",), before=True)
    assert api.undrawn_body is rule  # the rule is back for whatever runs next
    now, pictures = lone_heads.evaluate(1, 2_000_000_001, ("refined",), before=False)
    (key,) = [k for k in now if k.endswith(".with_body")]
    assert before[key] == 1.0 and now[key] == 0.0
    assert len(pictures) == 1 and pictures[0].shape == (256, 512, 3)


def disc(radius: float, centre: float, side: int) -> np.ndarray:
    """A disc drawn as the part map draws its regions: whole pixels, no anti-aliasing."""
    y, x = np.mgrid[:side, :side] + 0.5
    return (x - centre) ** 2 + (y - centre) ** 2 <= radius ** 2


def test_a_part_brought_to_a_large_request_has_a_smooth_edge_not_the_part_maps_stairs():
    """An iris (or the paper's edge) from the colouriser's 256 px part map on a 1536 px request: upsampled pixel by
    pixel, its edge steps by 6 px, on average 1.5 px off the round shape; smoothed, under 1.1 px. A stripe one
    part-map pixel wide keeps its middle, and a request the part map's size gets the mask as it is."""
    scale, centre = 6, 127.6
    for radius in (40.3, 12.7):
        small, ideal = disc(radius, centre, 256), disc(radius * scale, centre * scale, 256 * scale)
        perimeter = 2 * np.pi * radius * scale
        stairs = cv2.resize(small.astype(np.uint8), (256 * scale,) * 2, interpolation=cv2.INTER_NEAREST) > 0
        assert (stairs ^ ideal).sum() / perimeter > 1.25
        assert (at_side(small, 256 * scale) ^ ideal).sum() / perimeter < 1.1
    stripe = np.zeros((256, 256), bool)
    stripe[100:160, 50] = True
    assert at_side(stripe, 256 * scale)[130 * scale, 50 * scale + scale // 2]
    assert (at_side(small, 256) == small).all()
