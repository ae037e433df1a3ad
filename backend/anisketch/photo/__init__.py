"""Photo to anime: find the face in a photo, measure it, and map it into the portrait space.

    from anisketch.photo import find_face, photo_to_params
    detection = find_face(photo_rgb_or_rgba, selection=None)   # BadRequest when there is no face
    params = photo_to_params(detection.face, seed=0)           # engine Params: build_portrait, render...

See docs/photo.md. MediaPipe's face mesh is optional (Haar cascades otherwise).
"""

from .detect import Detection, Face, detect_faces, find_face
from .mapping import framed_crop, photo_to_params
from .measure import Measurements

__all__ = ["Detection", "Face", "Measurements", "detect_faces", "find_face", "framed_crop", "photo_to_params"]
