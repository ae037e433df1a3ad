"""Photo to anime: faces found, measured and mapped into the portrait space, on real bundled photographs.

The photos ship inside scikit-image and matplotlib (test extras). MediaPipe's face mesh is the default
finder; tests that need it skip locally and fail in CI when it is missing (see conftest.require).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from anisketch.errors import BadRequest
from anisketch.photo import bench, detectors
from anisketch.colour import delta_e2000, lab_to_srgb, srgb_to_lab
from anisketch.photo.detect import as_rgb, detect_faces, find_face
from anisketch.photo.mapping import photo_to_params
from anisketch.photo.measure import Measurements
from conftest import require

# How far a measurement may move when the photo is mirrored, shifted, scaled or rotated: a few percent
# of its typical value (the mesh itself jitters by about that much between crops).
TOLERANCE = {
    "face_aspect": 0.04, "jaw_ratio": 0.03, "chin_taper": 0.03, "chin_length": 0.06,
    "eye_width_l": 0.04, "eye_width_r": 0.04, "eye_openness_l": 0.05, "eye_openness_r": 0.05,
    "eye_tilt_l": 4.0, "eye_tilt_r": 4.0, "eye_spacing": 0.02,
    "brow_height_l": 0.05, "brow_height_r": 0.05, "brow_tilt_l": 5.0, "brow_tilt_r": 5.0,
    "mouth_width": 0.05, "mouth_openness": 0.04, "smile": 0.03, "yaw": 4.0, "glasses": 0.3,
    "hair_length": 0.3, "hair_top": 0.25, "hair_side": 0.2,
}


@pytest.fixture(scope="module")
def mesh():
    require(detectors.mediapipe_available(),
            "mediapipe 0.10.21 is not installed (pip install --no-deps mediapipe==0.10.21 absl-py attrs "
            "flatbuffers 'protobuf>=4.25.3,<5')")
    return "mediapipe"


@pytest.fixture(scope="module")
def photos():
    return bench.face_photos()


@pytest.fixture(scope="module")
def astronaut(photos, mesh):
    return photos["astronaut"], detect_faces(photos["astronaut"], mesh)


@pytest.fixture(scope="module")
def hopper(photos, mesh):
    return photos["grace_hopper"], detect_faces(photos["grace_hopper"], mesh)


# ----------------------------------------------------------------------------------------------------------
# Colour science


def test_lab_and_ciede2000_match_scikit_image():
    from skimage import color

    rng = np.random.default_rng(0)
    a, b = rng.random((500, 3)), rng.random((500, 3))
    assert np.abs(srgb_to_lab(a) - color.rgb2lab(a)).max() < 1e-3
    assert np.abs(lab_to_srgb(srgb_to_lab(a)) - a).max() < 1e-9
    lab_a, lab_b = srgb_to_lab(a), srgb_to_lab(b)
    assert np.abs(delta_e2000(lab_a, lab_b) - color.deltaE_ciede2000(lab_a, lab_b)).max() < 1e-9
    # Sharma, Wu & Dalal's published test pairs
    pairs = [((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425), ((50, 2.5, 0), (73, 25, -18), 27.1492),
             ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082)]
    for lab1, lab2, expected in pairs:
        assert delta_e2000(np.array(lab1), np.array(lab2)) == pytest.approx(expected, abs=1e-4)


# ----------------------------------------------------------------------------------------------------------
# Finding faces


def test_astronaut_is_found_and_measured_plausibly(astronaut):
    photo, faces = astronaut
    assert len(faces) == 1
    face = faces[0]
    assert face.source == "mediapipe" and face.landmarks.mesh.shape == (478, 3)
    m = face.measurements
    assert 0.7 < m.face_aspect < 1.0
    assert 0.25 < m.mean_of("eye_openness") < 0.45  # eyes open
    assert m.mouth_openness > 0.1 and m.smile > 0.05  # a broad open smile
    assert abs(m.roll) < 8 and abs(m.yaw) < 10
    assert not face.glasses
    assert -3.0 < m.hair_length < 0  # short hair, ending above the chin
    skin, hair = (srgb_to_lab(np.uint8(face.appearance.colours[k])) for k in ("skin", "hair"))
    assert skin[0] > 65 and 5 < skin[1] < 25 and skin[2] > 10  # light, warm skin
    assert 25 < hair[0] < 45 and hair[2] > 15  # mid brown hair


def test_glasses_are_seen(astronaut, hopper):
    assert hopper[1][0].glasses
    assert not astronaut[1][0].glasses
    photo, faces = astronaut
    painted = detect_faces(bench.paint_glasses(photo, faces[0]), "mediapipe")[0]
    assert painted.glasses


@pytest.mark.parametrize("name", list(bench.no_face_photos()))
def test_no_face_is_a_clear_error(name, mesh):
    photo = bench.no_face_photos()[name]
    assert detect_faces(photo, mesh) == []
    with pytest.raises(BadRequest, match="no face found"):
        find_face(photo, backend=mesh)


def test_two_faces_largest_by_default_selection_picks_the_other(photos, mesh):
    big, small = photos["astronaut"], bench.scale(photos["grace_hopper"], 0.45)
    canvas = np.full((512, 512 + small.shape[1], 3), 255, np.uint8)
    canvas[:, :512] = big
    canvas[:small.shape[0], 512:] = small
    detection = find_face(canvas, backend=mesh)
    assert detection.count == 2
    assert detection.face.box.centre[0] < 512  # the astronaut's face is the larger one
    chosen = find_face(canvas, selection=(512, 0, canvas.shape[1], small.shape[0]), backend=mesh)
    assert chosen.count == 2 and chosen.face.box.centre[0] > 512 and chosen.face.glasses
    with pytest.raises(BadRequest, match="no face under the selection"):
        find_face(canvas, selection=(0, 400, 100, 500), backend=mesh)


@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_sideways_and_upside_down_photos(quarter_turns, astronaut, hopper):
    """Phone photos without their orientation tag: found, measured alike, and drawn upright."""
    for photo, faces in (astronaut, hopper):
        turned = detect_faces(np.ascontiguousarray(np.rot90(photo, quarter_turns)), "mediapipe")
        assert len(turned) == 1
        base, m = faces[0].measurements, turned[0].measurements
        assert (m.roll - (base.roll - 90 * quarter_turns) + 180) % 360 - 180 == pytest.approx(0, abs=3)
        assert m.mean_of("eye_openness") == pytest.approx(base.mean_of("eye_openness"), abs=0.03)
        assert photo_to_params(turned[0], 0)["roll"] == pytest.approx(photo_to_params(faces[0], 0)["roll"], abs=0.05)


def test_photo_formats():
    gray = np.full((40, 50), 128, np.uint8)
    assert as_rgb(gray).shape == (40, 50, 3)
    rgba = np.zeros((40, 50, 4), np.uint8)  # fully transparent: white
    assert (as_rgb(rgba) == 255).all()
    for bad in (np.zeros((40, 50, 3), np.float32), np.zeros((40, 50, 2), np.uint8), np.zeros((8, 8, 3), np.uint8)):
        with pytest.raises(BadRequest):
            as_rgb(bad)


# ----------------------------------------------------------------------------------------------------------
# Invariance: the face's own frame removes pose, size and position


def _assert_close(measured: Measurements, reference: Measurements, what: str):
    for key, tolerance in TOLERANCE.items():
        a, b = getattr(measured, key), getattr(reference, key)
        if a is None and b is None:
            continue
        assert a is not None and b is not None, f"{what}: {key} measured only once"
        assert abs(a - b) <= tolerance, f"{what}: {key} {a:.3f} vs {b:.3f} (tolerance {tolerance})"


@pytest.mark.parametrize("transform", list(bench.TRANSFORMS))
def test_measurements_survive_transforms(transform, astronaut, hopper):
    for photo, faces in (astronaut, hopper):
        moved = detect_faces(bench.TRANSFORMS[transform](photo), "mediapipe")
        assert len(moved) == 1, f"{transform}: {len(moved)} faces"
        measured = moved[0].measurements
        if transform == "mirror":  # left and right swap, roll and yaw change sign
            measured = measured.mirrored()
        _assert_close(measured, faces[0].measurements, transform)
        expected_roll = faces[0].measurements.roll - (float(transform.split()[1]) if "rotate" in transform else 0)
        assert measured.roll == pytest.approx(expected_roll, abs=2.0)
        for name in ("skin", "hair"):  # the same colours, whatever the framing
            a, b = (srgb_to_lab(np.array(f.appearance.colours[name], np.uint8)) for f in (moved[0], faces[0]))
            if name == "skin" or photo is astronaut[0]:  # (Grace Hopper's "hair" is her hat: no fixed answer)
                assert delta_e2000(a, b) < 5.0, f"{transform}: {name} moved by ΔE {delta_e2000(a, b):.1f}"


def test_params_unchanged_by_shift_and_scale_and_mirrored_by_mirror(astronaut):
    from anisketch.engine import encode

    photo, faces = astronaut
    reference = photo_to_params(faces[0], seed=3)
    for transform in ("shift", "scale 0.6", "scale 1.7", "rotate +20", "mirror"):
        face = detect_faces(bench.TRANSFORMS[transform](photo), "mediapipe")[0]
        params = photo_to_params(face, seed=3)
        floats, choices = encode(params)
        ref_floats, ref_choices = encode(reference)
        assert (choices == ref_choices).all(), transform  # same hair style, mouth, glasses...
        names = [n for n in params if isinstance(params[n], float) and n not in ("roll", "yaw")]
        drift = {n: abs(params[n] - reference[n]) for n in names}
        # shape parameters move by a small fraction of their range
        from anisketch.engine.params import SPEC

        worst = max(names, key=lambda n: drift[n] / (SPEC[n].hi - SPEC[n].lo))
        assert drift[worst] / (SPEC[worst].hi - SPEC[worst].lo) < 0.25, f"{transform}: {worst} {drift[worst]:.3f}"
        if transform == "mirror":
            assert params["yaw"] == pytest.approx(-reference["yaw"], abs=0.15)
            assert params["roll"] == pytest.approx(-reference["roll"], abs=0.04)


def test_hair_running_off_the_photo(astronaut):
    """A crop through the hair: its height is unknown (None, left to the prior), its colour unchanged."""
    photo, faces = astronaut
    cropped = np.ascontiguousarray(photo[45:400, 60:450])
    face = detect_faces(cropped, "mediapipe")[0]
    assert face.measurements.hair_top is None
    assert face.measurements.hair_side == pytest.approx(faces[0].measurements.hair_side, abs=0.2)
    a, b = (srgb_to_lab(np.array(f.appearance.colours["hair"], np.uint8)) for f in (face, faces[0]))
    assert delta_e2000(a, b) < 5.0


# ----------------------------------------------------------------------------------------------------------
# The portrait follows the photo


def test_mouth_and_eyes_follow_edits(astronaut, hopper):
    photo, faces = astronaut
    base = photo_to_params(faces[0], 0)
    assert base["open_mouth"] == 1 and base["smile"] == 1
    closed = detect_faces(bench.close_mouth(photo, faces[0]), "mediapipe")[0]
    assert closed.measurements.mouth_openness < faces[0].measurements.mouth_openness - 0.08
    assert photo_to_params(closed, 0)["open_mouth"] == 0
    narrowed = detect_faces(bench.narrow_eyes(photo, faces[0]), "mediapipe")[0]
    assert narrowed.measurements.mean_of("eye_openness") < faces[0].measurements.mean_of("eye_openness") - 0.06
    assert photo_to_params(narrowed, 0)["eye_h"] < base["eye_h"] - 0.03

    photo, faces = hopper
    assert photo_to_params(faces[0], 0)["open_mouth"] == 0
    opened = detect_faces(bench.open_mouth(photo, faces[0]), "mediapipe")[0]
    assert opened.measurements.mouth_openness > 0.1
    assert photo_to_params(opened, 0)["open_mouth"] == 1


def test_portrait_colours_match_the_photo(astronaut):
    face = astronaut[1][0]
    for seed in range(3):
        agreement = bench.colour_agreement(face, seed)
        assert agreement["hair"] < 3.0 and agreement["skin"] < 3.0, agreement


def test_sampled_colours_match_hand_marked_patches(astronaut):
    photo, faces = astronaut
    errors = bench.sampling_error(photo, faces[0])
    assert errors["hair"] < 5.0 and errors["skin"] < 5.0, errors


def test_candidates_differ_where_the_photo_is_silent(astronaut):
    from anisketch.engine import decode, encode

    face = astronaut[1][0]
    a, b = photo_to_params(face, 0), photo_to_params(face, 1)
    assert decode(*encode(a)) == a  # exactly what a parameter vector (a guidance state) holds
    for name in ("eye_w", "eye_h", "mouth_w", "chin_y", "jaw_x", "hair_color", "skin_color"):
        assert a[name] == b[name], name  # measured: the same in every candidate
    assert any(a[n] != b[n] for n in ("bangs", "lashes", "clothes", "nose_style", "bang_len", "highlights"))
    assert photo_to_params(face, 0, {"glasses": "on"})["glasses"] != 0  # the artist may override


# ----------------------------------------------------------------------------------------------------------
# Without MediaPipe: the Haar cascades


def test_haar_fallback_measures_only_what_it_sees(photos):
    faces = detect_faces(photos["astronaut"], "haar")
    assert len(faces) == 1
    face = faces[0]
    assert face.source == "haar" and "eye_centres" in face.landmarks.measured
    m = face.measurements
    assert abs(m.roll) < 8
    assert m.eye_openness_l is None and m.face_aspect is None  # not guessed from the template
    assert face.appearance.colours["skin"] is not None
    params = photo_to_params(face, 0)
    assert params["hat"] == 0
    assert detect_faces(bench.no_face_photos()["coffee"], "haar") == []


def test_auto_falls_back_to_haar_without_mediapipe(monkeypatch):
    monkeypatch.setattr(detectors, "mediapipe_available", lambda: False)
    detectors.finder.cache_clear()
    try:
        assert detectors.finder("auto").name == "haar"
        with pytest.raises(BadRequest, match="pip install"):
            detectors.finder("mediapipe")
    finally:
        detectors.finder.cache_clear()


# ----------------------------------------------------------------------------------------------------------
# Command line


def test_cli_writes_portraits_and_report(tmp_path, photos, mesh):
    import cv2

    from anisketch.cli import main

    image = tmp_path / "astronaut.png"
    cv2.imwrite(str(image), cv2.cvtColor(photos["astronaut"], cv2.COLOR_RGB2BGR))
    out = tmp_path / "out"
    assert main(["photo", str(image), "--out", str(out), "--n", "2", "--seed", "5", "--size", "128"]) == 0
    for name in ("sheet.png", "faces.png", "photo_crop.png", "color_5.png", "color_6.png", "lines_rough_5.png",
                 "lines_detail_6.png"):
        assert (out / name).is_file(), name
    sheet = cv2.imread(str(out / "sheet.png"))
    assert sheet.shape[1] == 4 * 128 and sheet.shape[0] > 2 * 128
    report = json.loads((out / "photo.json").read_text())
    assert report["faces_found"] == 1 and report["backend"] == "mediapipe"
    assert [c["seed"] for c in report["candidates"]] == [5, 6]
    assert report["candidates"][0]["attributes"]["open_mouth"] == "on"


def test_cli_haar_backend_and_rgba_photo(tmp_path, photos):
    from PIL import Image

    from anisketch.cli import main

    rgba = np.dstack([photos["astronaut"], np.full((512, 512), 255, np.uint8)])
    rgba[:64, :64, 3] = 0  # a transparent corner
    image = tmp_path / "astronaut.png"
    Image.fromarray(rgba).save(image)
    out = tmp_path / "out"
    assert main(["photo", str(image), "--out", str(out), "--n", "1", "--size", "96", "--backend", "haar"]) == 0
    report = json.loads((out / "photo.json").read_text())
    assert report["landmarks"] == "haar" and report["measurements"]["eye_openness_l"] is None
    assert any("face shape not measured" in note for note in report["warnings"])


def test_cli_no_face(tmp_path, capsys):
    import cv2

    from anisketch.cli import main

    image = tmp_path / "coffee.png"
    cv2.imwrite(str(image), bench.no_face_photos()["coffee"])
    assert main(["photo", str(image), "--out", str(tmp_path / "out")]) == 1
    assert "no face found" in capsys.readouterr().err
