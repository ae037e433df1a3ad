"""Pixels on either end of the wire: RGBA <-> BGRA (Krita's bytes are B, G, R, A), a received image as an RGBA
array (`to_rgba`), a result layer as a reply frame (`layer_frame`).

One place for it because the obvious numpy spelling, `pixels[..., [2, 1, 0, 3]]`, returns a channel-major array
that every later step copies back: 11.5 ms for a 1 MP layer against 0.3 ms here, on every guide's request and
reply.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from anisketch import protocol


def swap_red_blue(pixels: np.ndarray) -> np.ndarray:
    """A new, row-major uint8 [H, W, 4] array with the first and third channels swapped (RGBA <-> BGRA)."""
    return cv2.cvtColor(pixels, cv2.COLOR_RGBA2BGRA)


def to_rgba(image: protocol.Image) -> np.ndarray:
    """A received image as a fresh, writable RGBA uint8[H, W, 4] array. gray8 is luminance, fully opaque."""
    bpp = protocol.FORMATS[image.format]
    rows = np.frombuffer(image.data, np.uint8).reshape(image.height, image.stride)[:, : image.width * bpp]
    if image.format == "gray8":
        rgba = np.empty((image.height, image.width, 4), np.uint8)
        rgba[..., :3] = rows[..., None]
        rgba[..., 3] = 255
        return rgba
    pixels = rows.reshape(image.height, image.width, 4)
    return swap_red_blue(pixels) if image.format == "bgra8" else pixels.copy()


def layer_frame(layer: Any, layer_format: str) -> protocol.Layer:
    """A service's result layer (anisketch.layers.Layer) as a reply's layer in the format the client asked for."""
    rgba = np.asarray(layer.rgba)
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise TypeError(f"layer {layer.name!r}: the service returned {rgba.dtype} {rgba.shape}, not uint8 [H, W, 4]")
    rgba = swap_red_blue(rgba) if layer_format == "bgra8" else np.ascontiguousarray(rgba)
    height, width = rgba.shape[:2]
    return protocol.Layer(name=str(layer.name), format=layer_format, width=width, height=height,
                          data=rgba.reshape(-1).data, group=None if layer.group is None else str(layer.group),
                          x=int(layer.x), y=int(layer.y), blend=str(getattr(layer, "blend", "normal")),
                          visible=bool(getattr(layer, "visible", True)), backdrop=backdrop_of(layer))


def backdrop_of(layer: Any) -> list | None:
    backdrop = getattr(layer, "backdrop", None)
    return None if backdrop is None else [int(c) for c in backdrop]
