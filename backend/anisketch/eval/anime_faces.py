"""Does a picture read as an anime face? Asked of an independent detector trained on real anime illustrations.

The detector is AnimeFace 2009 (nagadomi's nvxs, Apache-2.0), as PyPI's `animeface` 2.0.3 ships it: its model is
compiled into the wheel, so nothing is fetched at run time. It knows nothing of our engine, which makes it the
issue's judge of a colour render: is the face found as often as in the engine's own finished portraits?

Its compiled extension reads Pillow's internal image struct as Pillow 10 and older lay it out, so it runs in a
process of its own with that Pillow first on the path (`python3 install.py --test` installs both into
`DETECTOR_DIR`); our own Pillow stays whatever the backend needs.

    found = faces_found([rgb_a, rgb_b])   # [True, False]: a face found in each picture (uint8 RGB arrays)

Run as a script (`python anime_faces.py PNG...`, inside that process) it prints one JSON line per picture.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

DETECTOR_DIR = Path(sys.prefix) / "anime-face-detector"  # pip --target: animeface==2.0.3 and pillow<11
PACKAGES = ["animeface==2.0.3", "pillow>=10,<11"]  # what install.py puts there


class DetectorMissing(RuntimeError):
    pass


def detector_installed() -> bool:
    return (DETECTOR_DIR / "animeface").is_dir()


def faces_found(images: list) -> list[bool]:
    """Whether the detector finds at least one face in each uint8 RGB image (one process for all of them)."""
    return [len(faces) > 0 for faces in detect(images)]


def detect(images: list) -> list[list[dict]]:
    """The faces found in each uint8 RGB image: per face its box (x, y, width, height) and likelihood."""
    if not detector_installed():
        raise DetectorMissing(f"the anime-face detector is not installed in {DETECTOR_DIR}: run "
                              f"`python3 install.py --test` (or pip install --target {DETECTOR_DIR} "
                              f"{' '.join(repr(p) for p in PACKAGES)})")
    from PIL import Image

    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, rgb in enumerate(images):
            paths.append(str(Path(folder) / f"{i}.png"))
            Image.fromarray(rgb).save(paths[-1])
        path = [str(DETECTOR_DIR)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        done = subprocess.run([sys.executable, "-s", __file__, *paths], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(path)}, timeout=60 + 10 * len(paths))
    if done.returncode != 0:
        raise RuntimeError(f"the anime-face detector failed: {done.stderr.strip()[-500:]}")
    return [json.loads(line) for line in done.stdout.splitlines()]


def _main(paths: list[str]) -> None:
    """In the detector's process: one JSON list of faces per picture, in order."""
    import animeface
    import PIL
    from PIL import Image

    if int(PIL.__version__.split(".")[0]) >= 11:  # its extension would read garbage and find nothing, silently
        raise SystemExit(f"animeface needs Pillow 10 or older first on the path, found {PIL.__version__}")
    for path in paths:
        faces = animeface.detect(Image.open(path).convert("RGB"))
        print(json.dumps([{"box": [f.face.pos.x, f.face.pos.y, f.face.pos.width, f.face.pos.height],
                           "likelihood": round(float(f.likelihood), 4)} for f in faces]), flush=True)


if __name__ == "__main__":
    _main(sys.argv[1:])
