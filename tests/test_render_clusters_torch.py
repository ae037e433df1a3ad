"""The faithful layers' clustering on the colouriser's device (render/clusters_torch.py), run here on the CPU:
OpenCV's colours, the flat colours found, the same answer every time, and a colouriser on a GPU using it."""

import numpy as np
import pytest
import torch

from anisketch.render import clusters, clusters_torch, faithful_layers
from anisketch.render.lab import to_lab

FLATS = [(250, 225, 205), (90, 60, 40), (220, 30, 40), (40, 90, 220), (255, 255, 255), (60, 160, 90)]


def patchwork(side=64, seed=0) -> np.ndarray:
    """A prediction of six flat colours in blocks, with a soft gradient across the first (a network's wash)."""
    rng = np.random.default_rng(seed)
    fill = np.zeros((side, side, 3), np.uint8)
    block = side // 4
    for i in range(4):
        for j in range(4):
            fill[i * block:(i + 1) * block, j * block:(j + 1) * block] = FLATS[rng.integers(len(FLATS))]
    fill[:block, :block] = np.clip(fill[:block, :block].astype(int) + np.arange(block)[None, :, None] // 8, 0, 255)
    return fill


def test_lab_is_opencvs_within_a_fraction_of_a_unit():
    rgb = np.random.default_rng(1).integers(0, 256, (5000, 3)).astype(np.uint8)
    ours = clusters_torch.to_lab(torch.from_numpy(rgb)).numpy()
    assert np.abs(ours - to_lab(rgb)).max() < 0.5


def test_every_flat_colour_gets_a_cluster_and_the_labels_are_the_nearest():
    first = patchwork(seed=2)
    fills = np.stack([first, 255 - first])  # two candidates: one picture's shapes in other colours
    centres, small, full = clusters_torch.cluster_on_device(fills, 14, 128, "cpu")
    assert centres.shape == (2, 14, 3) and small.shape == (64, 64) and full.shape == (128, 128)
    lab = np.concatenate([to_lab(f) for f in fills], axis=-1)
    joined = np.concatenate(list(centres), axis=-1)
    distance = np.linalg.norm(lab[:, :, None] - joined[None, None], axis=-1)
    # each pixel's cluster is its nearest centre (up to float ties), and no pixel is far from its centre
    assert (np.take_along_axis(distance, small[..., None], -1)[..., 0] <= distance.min(-1) + 1e-3).all()
    assert np.take_along_axis(distance, small[..., None], -1).max() < 3.0
    # at full size, inside a block (away from the smooth edges) a pixel keeps its block's cluster
    assert np.array_equal(full[::2, ::2][4:12, 20:28], small[4:12, 20:28])


def test_the_same_prediction_gives_the_same_clusters_every_time():
    fills = np.stack([patchwork(seed=4)])
    first = clusters_torch.cluster_on_device(fills, 14, 96, "cpu")
    again = clusters_torch.cluster_on_device(fills, 14, 96, "cpu")
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_the_seeding_is_no_worse_than_opencvs_kmeans():
    """The clusters are not OpenCV's (another seeding), but they represent the colours as well: the mean CIELAB
    distance of a pixel to its centre at most 10 % above OpenCV's."""
    rng = np.random.default_rng(5)
    fill = patchwork(side=128, seed=6).astype(int)
    fill = np.clip(fill + rng.normal(0, 4, fill.shape), 0, 255).astype(np.uint8)[None]  # a noisy wash
    lab = to_lab(fill[0])
    ours_centres, ours, _ = clusters_torch.cluster_on_device(fill, 14, 128, "cpu")
    cv_centres, theirs = clusters.cluster_colors(fill)
    error = [np.linalg.norm(lab - c[0][labels], axis=-1).mean() for c, labels in
             ((ours_centres, ours), (cv_centres, theirs))]
    assert error[0] <= 1.1 * error[1]


def test_a_colouriser_on_a_gpu_clusters_on_it(monkeypatch):
    """The colouriser's predictions are decomposed where they are: a colouriser on a GPU says so (shapes_device),
    and the faithful layers then cluster with torch on that device, not with OpenCV on the CPU."""
    from anisketch.render.faithful import ColorizerModel
    from anisketch.render.model import Colorizer

    model = ColorizerModel(Colorizer(), input_size=256, device="cpu")
    assert model.shapes_device is None  # on the CPU, OpenCV's clustering (faster there)
    asked = []
    on_device = clusters_torch.cluster_on_device
    monkeypatch.setattr(clusters_torch, "cluster_on_device",
                        lambda fills, k, side, device: asked.append(device) or on_device(fills, k, side, device))
    fills = np.stack([patchwork(side=64, seed=7)])
    faithful_layers.faithful_productions(fills, np.zeros((128, 128), np.uint8), None, [], device="cpu")
    assert asked == ["cpu"]


@pytest.mark.parametrize("n", [1, 3])
def test_centres_come_back_per_candidate(n):
    first = patchwork(seed=10)
    fills = np.stack([first, 255 - first, first[..., ::-1]][:n])  # one picture's shapes in other colours
    centres, small, _ = clusters_torch.cluster_on_device(fills, 14, 64, "cpu")
    for i in range(n):  # each candidate's centre of a cluster is near that candidate's own colours there
        lab = to_lab(fills[i])
        assert np.linalg.norm(lab - centres[i][small], axis=-1).mean() < 3.0


@pytest.mark.ci_may_skip  # CI has no GPU: this runs on a GPU host (the render code's GPU path)
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (run it where the service uses one)")
def test_on_a_gpu_the_clusters_are_the_cpus_and_the_same_every_time():
    """The same clustering on CUDA as on the CPU (up to float rounding: near-ties may go either way) and, on
    the GPU, the same answer twice (no atomic sums whose order varies)."""
    first = patchwork(side=128, seed=20)
    fills = np.stack([first, 255 - first, first[..., ::-1], first // 2])
    gpu = clusters_torch.cluster_on_device(fills, 14, 256, "cuda")
    cpu = clusters_torch.cluster_on_device(fills, 14, 256, "cpu")
    assert np.abs(gpu[0] - cpu[0]).max() < 0.05
    assert (gpu[1] == cpu[1]).mean() > 0.999 and (gpu[2] == cpu[2]).mean() > 0.999
    again = clusters_torch.cluster_on_device(fills, 14, 256, "cuda")
    assert all(np.array_equal(a, b) for a, b in zip(gpu, again))
