"""tests/fake_service.py's FakeService with a `photo` shaped like the real Service.photo, for the plugin's tests.

The real reply: colour candidates "Portrait 1..n" covering the photo's square frame, then the first portrait's
guidance layers ("Guidance: eyes 1", group "eyes", cropped to their ink), and `info` with `faces_found`,
`warnings` and a guidance `state`; a photo without a face is refused with a BadRequest. Here the candidates
are the photo itself (candidate k with every colour channel + 10 (k - 1)), so that a test can check the crop
that was sent, its byte order and where the results landed, pixel for pixel; a photo of one flat colour has
"no face".
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fake_service import FakeService, digest  # noqa: E402

from anisketch.errors import BadRequest  # noqa: E402
from anisketch.layers import Layer, Result  # noqa: E402


class PhotoFakeService(FakeService):
    def photo(self, photo_rgba, *, n=4, mode="rough"):
        self._work()
        rgb = photo_rgba[..., :3]
        if int(rgb.max()) == int(rgb.min()):
            raise BadRequest("no face found in the photo: use a photo (or a selection) where one face is seen "
                             "from the front (fake)")
        side = max(photo_rgba.shape[:2])
        frame = np.zeros((side, side, 4), np.uint8)
        frame[:photo_rgba.shape[0], :photo_rgba.shape[1], :3] = rgb
        frame[..., 3] = 255
        layers = []
        for k in range(n):
            candidate = frame.copy()
            candidate[..., :3] = (candidate[..., :3].astype(np.int32) + 10 * k) % 256
            layers.append(Layer(f"Portrait {k + 1}", None, candidate))
        for i, group in enumerate(("face", "eyes")):
            layers.append(Layer(f"Guidance: {group} 1", group, np.full((4, 4, 4), 200, np.uint8),
                                x=side // 4 + i, y=side // 3))
        info = {"faces_found": 1, "warnings": ["the face is small (fake)"], "state": f"photo-{digest(photo_rgba)}",
                "attributes": {}, "noise": None}
        return Result(layers, info, {"fake_model": 1.0})
