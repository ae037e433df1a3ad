"""Projection onto the manifold of plausible faces, part by part (DeepFaceDrawing's idea, in our vector space).

For each group (eyes, mouth, ...) the predicted floats of that group are replaced by the closest affine
combination of their K nearest neighbours in a bank of training vectors: weights w minimise
|x - sum_k w_k b_k|^2 subject to sum_k w_k = 1, solved in closed form through the neighbours' local Gram
matrix (as in locally linear embedding), with a small ridge for stability. The artist's faithfulness per group
then blends: f = 1 keeps exactly what the encoder read from the sketch, f = 0 gives the closest plausible part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def affine_weights(x: np.ndarray, neighbours: np.ndarray, ridge: float = 1e-3) -> np.ndarray:
    """Weights summing to one that best rebuild x [D] from neighbours [K, D]."""
    diff = neighbours - x[None, :]
    gram = diff @ diff.T
    gram = gram + np.eye(len(neighbours)) * ridge * max(np.trace(gram), 1e-8)
    w = np.linalg.solve(gram, np.ones(len(neighbours)))
    return w / w.sum()


@dataclass
class GroupProjection:
    group: str
    columns: np.ndarray  # indices of this group's floats in the full vector
    weights: np.ndarray  # [K] affine weights, sum to one
    neighbours: np.ndarray  # [K] bank row indices
    distance: float  # how far the prediction was from its nearest neighbour (RMS per float)


class ManifoldProjector:
    """Holds the bank of training vectors and projects a vector group by group."""

    def __init__(self, bank: np.ndarray, float_groups: np.ndarray, group_names: tuple[str, ...], k: int = 10):
        self.bank = np.asarray(bank, dtype=np.float32)
        self.k = min(k, len(self.bank))
        self.columns = {g: np.flatnonzero(float_groups == i) for i, g in enumerate(group_names)}
        self.columns = {g: c for g, c in self.columns.items() if len(c)}

    def project_group(self, x: np.ndarray, group: str) -> tuple[np.ndarray, GroupProjection]:
        cols = self.columns[group]
        xg = x[cols].astype(np.float64)
        sub = self.bank[:, cols]
        d2 = ((sub - xg[None, :].astype(np.float32)) ** 2).sum(axis=1)
        nearest = np.argpartition(d2, self.k - 1)[: self.k]
        nearest = nearest[np.argsort(d2[nearest])]
        neighbours = sub[nearest].astype(np.float64)
        w = affine_weights(xg, neighbours)
        projected = np.clip(w @ neighbours, 0.0, 1.0)
        rms = float(np.sqrt(d2[nearest[0]] / len(cols)))
        return projected, GroupProjection(group, cols, w, nearest, rms)

    def project(self, x: np.ndarray, faithfulness: dict[str, float]) -> tuple[np.ndarray, dict[str, GroupProjection]]:
        """x [D] floats in [0, 1]; faithfulness per group in [0, 1] (missing groups: 1, left as read)."""
        out = np.array(x, dtype=np.float32, copy=True)
        info = {}
        for group, cols in self.columns.items():
            f = float(faithfulness.get(group, 1.0))
            if f >= 1.0:
                continue
            projected, info[group] = self.project_group(x, group)
            out[cols] = f * x[cols] + (1.0 - f) * projected
        return out, info
