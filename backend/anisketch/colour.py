"""sRGB <-> linear RGB <-> CIELAB (D65) and the CIEDE2000 colour difference, in plain numpy: the one copy of
the sRGB curve (generation blends colours in linear RGB with it).

Written out here rather than taken from scikit-image so that the backend does not depend on it;
tests check both against skimage.color.
"""

from __future__ import annotations

import numpy as np

_RGB_TO_XYZ = np.array([[0.412453, 0.357580, 0.180423],
                        [0.212671, 0.715160, 0.072169],
                        [0.019334, 0.119193, 0.950227]])
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
_EPS = (6 / 29) ** 3


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    """The sRGB curve undone: floats in [0, 1] (computed in the input's float type)."""
    return np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """The sRGB curve applied, after clipping to [0, 1]."""
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear > 0.0031308, 1.055 * linear ** (1 / 2.4) - 0.055, 12.92 * linear)


_LINEAR_U8 = srgb_to_linear(np.arange(256) / 255.0)


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB [..., 3] (uint8 or floats in [0, 1]) -> CIELAB [..., 3] (L in [0, 100])."""
    rgb = np.asarray(rgb)
    if rgb.dtype == np.uint8:
        linear = _LINEAR_U8[rgb]  # a table: the power function is most of the cost on whole images
    else:
        linear = srgb_to_linear(rgb.astype(np.float64))
    shape = linear.shape
    xyz = linear.reshape(-1, 3) @ (_RGB_TO_XYZ.T / _WHITE_D65)  # 2-D: numpy's fast matrix product
    f = np.where(xyz > _EPS, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    lab = np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], -1)
    return lab.reshape(shape)


def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB [..., 3] -> sRGB floats in [0, 1] (clipped)."""
    lab = np.asarray(lab, np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], -1)
    xyz = np.where(f > 6 / 29, f ** 3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * _WHITE_D65
    return linear_to_srgb(xyz @ np.linalg.inv(_RGB_TO_XYZ).T)


def delta_e2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 difference (Sharma, Wu & Dalal 2005) between broadcastable CIELAB arrays [..., 3]."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, np.float64), -1, 0)
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean ** 7 / (c_mean ** 7 + 25.0 ** 7)))
    a1, a2 = a1 * (1 + g), a2 * (1 + g)
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1 = np.degrees(np.arctan2(b1, a1)) % 360
    h2 = np.degrees(np.arctan2(b2, a2)) % 360

    dL, dC = L2 - L1, c2 - c1
    dh = h2 - h1
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1 * c2 == 0, 0.0, dh)
    dH = 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh / 2))

    L_mean, C_mean = (L1 + L2) / 2, (c1 + c2) / 2
    h_sum = h1 + h2
    h_mean = np.where(np.abs(h1 - h2) > 180, np.where(h_sum < 360, h_sum + 360, h_sum - 360), h_sum) / 2
    h_mean = np.where(c1 * c2 == 0, h_sum, h_mean)
    t = (1 - 0.17 * np.cos(np.radians(h_mean - 30)) + 0.24 * np.cos(np.radians(2 * h_mean))
         + 0.32 * np.cos(np.radians(3 * h_mean + 6)) - 0.20 * np.cos(np.radians(4 * h_mean - 63)))
    s_l = 1 + 0.015 * (L_mean - 50) ** 2 / np.sqrt(20 + (L_mean - 50) ** 2)
    s_c = 1 + 0.045 * C_mean
    s_h = 1 + 0.015 * C_mean * t
    rotation = -2 * np.sqrt(C_mean ** 7 / (C_mean ** 7 + 25.0 ** 7)) * np.sin(
        np.radians(60 * np.exp(-(((h_mean - 275) / 25) ** 2))))
    return np.sqrt((dL / s_l) ** 2 + (dC / s_c) ** 2 + (dH / s_h) ** 2 + rotation * (dC / s_c) * (dH / s_h))
