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

# The bank's own file in the weights folder's manifest (its training vectors: `guidance.train.projection_bank`).
# Weights exported before it had a file of its own keep the bank inside `guidance.safetensors`.
BANK_MODEL = "guidance_bank"


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
        # Per group, its columns of the bank side by side in memory and their squared norms: the distances to
        # all 20,000 rows are then one matrix-vector product (|b|^2 - 2 b.x + |x|^2), 10x faster than
        # gathering the columns and subtracting on every guide.
        self.sub_banks = {g: np.ascontiguousarray(self.bank[:, c]) for g, c in self.columns.items()}
        self.sub_norms = {g: np.einsum("ij,ij->i", b, b) for g, b in self.sub_banks.items()}

    def project_group(self, x: np.ndarray, group: str) -> tuple[np.ndarray, GroupProjection]:
        cols, sub = self.columns[group], self.sub_banks[group]
        xg = x[cols].astype(np.float64)
        # d^2 - |x|^2, for ranking only. einsum rather than `@`: BLAS would wake its thread pool for this small
        # product, and on a machine busy with Krita that took 8 ms at times instead of 0.1.
        rough = self.sub_norms[group] - 2.0 * np.einsum("ij,j->i", sub, xg.astype(np.float32))
        nearest = np.argpartition(rough, self.k - 1)[: self.k]
        neighbours = sub[nearest].astype(np.float64)
        d2 = ((neighbours - xg) ** 2).sum(axis=1)  # exact, for the order and the reported distance
        order = np.argsort(d2, kind="stable")
        nearest, neighbours = nearest[order], neighbours[order]
        w = affine_weights(xg, neighbours)
        projected = np.clip(w @ neighbours, 0.0, 1.0)
        rms = float(np.sqrt(d2[order[0]] / len(cols)))
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
