"""The colours of the colouriser's predictions clustered on the CPU: each pixel's colours in all n candidates are one
point, so a cluster edge lies wherever any candidate has one (`faithful_layers.find_shapes` sorts the clusters into
flats and shading). `clusters_torch.py` does the same on the colouriser's GPU.
"""

from __future__ import annotations

import cv2
import numpy as np

from .lab import to_lab

CLUSTERS = 14  # colours the prediction is reduced to before they are sorted into flats and shading


def cluster_colors(fills: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """k-means (deterministic) of the predictions' colours in CIELAB, each pixel's colours in all n candidates
    as one point: each candidate's centres [n, k, 3] (Lab) and the labels (S, S), shared."""
    lab = stacked_lab(fills)
    samples = lab[::2, ::2].reshape(-1, lab.shape[-1])
    cv2.setRNGSeed(0x5EED)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 12, 0.5)
    _, _, centres = cv2.kmeans(samples, CLUSTERS, None, criteria, 1,  # type: ignore[call-overload]  # stub: UMat only
                               cv2.KMEANS_PP_CENTERS)
    return centres.reshape(CLUSTERS, -1, 3).transpose(1, 0, 2), nearest_centre(lab, centres)


def stacked_lab(fills: np.ndarray) -> np.ndarray:
    """[..., n * 3]: each pixel's CIELAB colour in each of the n candidates [n, ..., 3], side by side. Interleaved
    by OpenCV's merge, as images of one column: numpy's concatenate of three floats at a time took four times as
    long."""
    columns = [to_lab(fill).reshape(-1, 1, 3) for fill in fills]
    return cv2.merge(columns).reshape(*fills.shape[1:-1], 3 * len(fills))


def upsampled_labels(fills: np.ndarray, labels: np.ndarray, centres: np.ndarray, side: int) -> np.ndarray:
    """The nearest centre of each pixel of the predictions upsampled smoothly to side x side, computed only near
    the edges between clusters: inside a patch of one cluster the upsampled colours are its own (a tenth of
    the time at 512 px)."""
    if labels.shape[0] == side:
        return labels
    # one byte a pixel (CLUSTERS of them), as the faithful layers keep them
    up = cv2.resize(labels.astype(np.uint8), (side, side), interpolation=cv2.INTER_NEAREST)
    edge = np.zeros(labels.shape, np.uint8)
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[1:] |= labels[1:] != labels[:-1]
    near = cv2.resize(cv2.dilate(edge, np.ones((3, 3), np.uint8)), (side, side), interpolation=cv2.INTER_NEAREST) > 0
    # the pixels near an edge by their flat index: a gather of whole RGB rows, a tenth of a boolean mask's time
    at = np.flatnonzero(near)
    smooth = np.stack([np.take(upsampled(fill, side).reshape(-1, 3), at, axis=0) for fill in fills])
    up.reshape(-1)[at] = nearest_centre(stacked_lab(smooth), joined(centres))  # up: OpenCV's, contiguous
    return up


def upsampled(fill: np.ndarray, side: int) -> np.ndarray:
    """A prediction (RGB uint8) upsampled smoothly to side x side."""
    return cv2.resize(fill, (side, side), interpolation=cv2.INTER_LINEAR)


def joined(centres: np.ndarray) -> np.ndarray:
    """[k, n * 3]: the candidates' centres [n, k, 3] side by side, as k-means gave them."""
    return np.ascontiguousarray(centres.transpose(1, 0, 2).reshape(centres.shape[1], -1))


def nearest_centre(lab: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre [k, d] of each point of `lab` [..., d] (int32, `lab`'s leading shape)."""
    points = np.ascontiguousarray(lab.reshape(-1, lab.shape[-1]), np.float32)
    _, nearest = cv2.batchDistance(points, centres, cv2.CV_32F, normType=cv2.NORM_L2SQR, K=1)
    return nearest.astype(np.int32).reshape(lab.shape[:-1])
