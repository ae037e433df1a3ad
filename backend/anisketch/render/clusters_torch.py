"""The faithful layers' clustering on the colouriser's own device (a GPU): the predictions' colours reduced to a
few clusters shared by all candidates, and each pixel's cluster at the network's size and at full size.

`clusters.cluster_colors` and `upsampled_labels` do the same on the CPU with OpenCV. On a GPU those two
were most of the per-request layering; here they are a few dozen small kernels with a single wait at the end
(one download of the labels and centres), and no step depends on a value read back midway: the iterations
are a fixed number, and the seeding picks its points by index arithmetic on the device.

The seeding is k-means++ (each new centre drawn with probability proportional to its squared distance from the
centres so far) with its draws taken from a fixed low-discrepancy sequence instead of a random generator: the
same request gives the same clusters on any run, and on the CPU and the GPU alike (up to float rounding). The
clusters are not OpenCV's (its seeding draws from its own generator), so the layers differ a little from the
CPU's: docs/renders.md gives the figures of both.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

ITERATIONS = 12  # as the CPU's k-means at most (it may stop earlier, at a shift under 0.5)
GOLDEN = 0.6180339887498949  # the draws: i * GOLDEN mod 1, spread evenly over [0, 1) for any count

# sRGB (D65) -> XYZ, and the white point, as OpenCV's RGB2Lab uses them
RGB_TO_XYZ = ((0.412453, 0.357580, 0.180423), (0.212671, 0.715160, 0.072169), (0.019334, 0.119193, 0.950227))
WHITE = (0.950456, 1.0, 1.088754)


def to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """CIELAB (L 0..100) of RGB 0..255 (any [..., 3] tensor), float32: OpenCV's float RGB2Lab."""
    v = rgb.float() / 255.0
    linear = torch.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    matrix = torch.tensor(RGB_TO_XYZ, device=rgb.device) / torch.tensor(WHITE, device=rgb.device)[:, None]
    xyz = linear @ matrix.T
    f = torch.where(xyz > 0.008856, xyz.clamp_min(1e-12) ** (1.0 / 3.0), 7.787 * xyz + 16.0 / 116.0)
    y = xyz[..., 1]
    lightness = torch.where(y > 0.008856, 116.0 * f[..., 1] - 16.0, 903.3 * y)
    return torch.stack([lightness, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], dim=-1)


def stacked_lab(fills: torch.Tensor) -> torch.Tensor:
    """[S, S, n * 3]: each pixel's CIELAB colour in each of the n candidates (fills uint8 [n, S, S, 3])."""
    lab = to_lab(fills)
    return lab.permute(1, 2, 0, 3).reshape(lab.shape[1], lab.shape[2], -1)


def squared_distances(points: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """[N, k] squared Euclidean distances (points [N, d], centres [k, d]), in float64: a GPU may run float32
    products at reduced precision (TF32), enough to hand a pixel to the wrong one of two near colours."""
    points, centres = points.double(), centres.double()
    return (points * points).sum(1, keepdim=True) - 2.0 * points @ centres.T + (centres * centres).sum(1)[None]


def seeded_centres(points: torch.Tensor, k: int) -> torch.Tensor:
    """k-means++ seeding with the fixed draws (see the module docstring): the first centre is the point at the
    middle of the list, each next one the point where the cumulative squared distance to the nearest centre so
    far reaches the draw's share of its total."""
    count = points.shape[0]
    centres = [points[count // 2]]
    nearest = ((points - centres[0]) ** 2).sum(1)
    for i in range(1, k):
        cumulative = torch.cumsum(nearest.double(), 0)
        target = cumulative[-1:] * ((i * GOLDEN) % 1.0)
        index = torch.searchsorted(cumulative, target).clamp_(max=count - 1)
        centre = points.index_select(0, index)[0]
        centres.append(centre)
        nearest = torch.minimum(nearest, ((points - centre) ** 2).sum(1))
    return torch.stack(centres)


def kmeans(points: torch.Tensor, k: int, iterations: int = ITERATIONS) -> torch.Tensor:
    """Centres [k, d] (float32) of Lloyd's k-means from the fixed seeding; a cluster left empty keeps its
    centre. The sums are a product with the one-hot labels in float64, not scattered atomic adds, whose order
    (and so last bits) varies from run to run on a GPU: the same request gives the same centres."""
    points = points.double()
    centres = seeded_centres(points, k)
    for _ in range(iterations):
        members = F.one_hot(squared_distances(points, centres).argmin(1), k).double()
        counts = members.sum(0)[:, None]
        centres = torch.where(counts > 0, (members.T @ points) / counts.clamp_min(1.0), centres)
    return centres.float()


def nearest_centre(lab: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Index of the nearest centre of each pixel (lab [..., d]) as uint8, the leading shape kept."""
    flat = lab.reshape(-1, lab.shape[-1])
    return squared_distances(flat, centres).argmin(1).to(torch.uint8).reshape(lab.shape[:-1])


def upsampled(fills: torch.Tensor, side: int) -> torch.Tensor:
    """uint8 [n, side, side, 3]: the fills upsampled smoothly (bilinear, pixel centres as OpenCV's
    INTER_LINEAR), rounded to whole levels as OpenCV's uint8 resize gives them."""
    x = fills.permute(0, 3, 1, 2).float()
    up = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)
    return up.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1)


def cluster_on_device(fills: np.ndarray, clusters: int, side: int,
                      device: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(centres [n, k, 3] CIELAB of each candidate, labels at the fills' size (int32), labels at side x side (uint8,
    as the faithful layers keep them: no full-size pass to int32 and back)), the clustering as
    `clusters.cluster_colors` + `upsampled_labels` describe it, on `device`. The k-means sees every other pixel of
    every other row, as the CPU's does."""
    with torch.inference_mode():
        on_device = torch.from_numpy(np.ascontiguousarray(fills)).to(device, non_blocking=True)
        lab = stacked_lab(on_device)
        samples = lab[::2, ::2].reshape(-1, lab.shape[-1]).contiguous()
        centres = kmeans(samples, clusters)
        labels = nearest_centre(lab, centres)
        full = labels if side == fills.shape[1] else nearest_centre(stacked_lab(upsampled(on_device, side)), centres)
        n = fills.shape[0]
        per_candidate = centres.reshape(clusters, n, 3).permute(1, 0, 2)
        # one wait for everything: the three results come back together
        answers = torch.cat([per_candidate.reshape(-1).view(torch.uint8), labels.reshape(-1), full.reshape(-1)])
        host = answers.cpu().numpy()
    centre_bytes = n * clusters * 3 * 4
    centres_np = host[:centre_bytes].view(np.float32).reshape(n, clusters, 3)
    small = host[centre_bytes:centre_bytes + labels.numel()].reshape(labels.shape).astype(np.int32)
    big = host[centre_bytes + labels.numel():].reshape(full.shape)
    return centres_np, small, big
