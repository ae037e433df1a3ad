"""The training machinery every model shares, on CPU with tiny runs: train, resume, export, load, DDP."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "backend" / "configs" / "guidance.toml"


def anisketch(*args: str, launcher: tuple[str, ...] = (sys.executable, "-m")) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([*launcher, "anisketch.cli", *args], capture_output=True, text=True, env=env, timeout=300)


def train(out: Path, steps: int, *extra: str, **kw) -> subprocess.CompletedProcess:
    done = anisketch("train", "guidance", "--config", str(CONFIG), "--out", str(out), "--steps", str(steps),
                     "--batch-size", "2", "--workers", "0", *extra, **kw)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_training_resumes_from_its_checkpoint(tmp_path):
    train(tmp_path, 2)
    assert json.loads((tmp_path / "checkpoint.json").read_text())["info"]["step"] == 2
    resumed = train(tmp_path, 3)
    assert "stopped at step 3 (finished)" in resumed.stdout
    meta = json.loads((tmp_path / "checkpoint.json").read_text())
    assert meta["info"]["step"] == 3 and meta["shards"] >= 1
    # the optimizer's state travelled with the weights: every parameter's AdamW step count went on from 2 to 3
    steps = [scalars["step"] for scalars in meta["optim_scalars"].values()]
    assert steps and steps == [3.0] * len(steps)


def test_a_resumed_channels_last_network_gets_moments_laid_out_as_its_weights(tmp_path):
    """On a GPU the loop trains channels-last, and the fused AdamW there refuses moments whose memory layout is
    not their weight's: a checkpoint's moments, loaded contiguous, failed every resumed GPU leg at its first step.
    The layout is checked here on the CPU (whose AdamW does not mind it)."""
    import torch

    from anisketch.train.checkpoint import load_checkpoint, save_checkpoint

    def channels_last_run():
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Conv2d(8, 4, 1)).to(
            memory_format=torch.channels_last)
        return net, torch.optim.AdamW(net.parameters())

    net, optimizer = channels_last_run()
    net(torch.randn(2, 3, 8, 8).to(memory_format=torch.channels_last)).square().mean().backward()
    optimizer.step()
    save_checkpoint(tmp_path, net, optimizer, {"step": 1})
    net, optimizer = channels_last_run()
    assert load_checkpoint(tmp_path, net, optimizer) == {"step": 1}
    weights = [p for p in net.parameters() if p.dim() == 4]
    assert any(not p.is_contiguous() for p in weights)  # channels-last, as on the GPU
    for p in net.parameters():
        for name in ("exp_avg", "exp_avg_sq"):
            assert optimizer.state[p][name].stride() == p.stride(), name


def test_export_is_loadable_and_checked(tmp_path, monkeypatch):
    """Export writes safetensors + manifest; the predictor loads it through the checksum."""
    import torch

    from anisketch.guidance import train as recipe
    from anisketch.guidance.predictor import GuidanceModel
    from anisketch.train.cli import load_config

    train(tmp_path / "run", 1)
    monkeypatch.setattr(recipe, "BANK_SIZE", 64)  # a small projection bank keeps the test fast
    task = recipe.make_task(load_config(CONFIG))
    path = recipe.export(task, tmp_path / "run", tmp_path / "weights", CONFIG)
    manifest = json.loads((tmp_path / "weights" / "manifest.json").read_text())["models"]["guidance"]
    assert manifest["file"] == path.name and manifest["engine_version"] and len(manifest["sha256"]) == 64
    model = GuidanceModel.load(tmp_path / "weights")
    assert model.projector.bank.shape[0] == 64
    assert not any(p.dtype == torch.float16 for p in model.encoder.parameters())  # fp16 on disk, fp32 to run


def test_time_limit_stops_cleanly_with_a_checkpoint(tmp_path):
    done = train(tmp_path, 10_000, "--time-limit", "1")
    assert "(resumable)" in done.stdout
    assert json.loads((tmp_path / "checkpoint.json").read_text())["info"]["step"] < 10_000


def test_ddp_with_two_processes(tmp_path):
    """`torchrun --nproc_per_node N` runs the same loop in N processes (gloo on CPU, NCCL on GPUs)."""
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.fail("torchrun is not installed beside this Python")
    train(tmp_path, 2, launcher=(str(torchrun), "--nproc_per_node", "2", "-m"))
    meta = json.loads((tmp_path / "checkpoint.json").read_text())
    # steps x batch x processes, each rendered batch used `repeat` (2) times
    assert meta["info"]["step"] == 2 and meta["info"]["samples"] == 2 * 2 * 2 // 2


def test_init_starts_a_new_run_from_shipped_weights(tmp_path):
    """`--init WEIGHTS_DIR`: the run's first checkpoint grows out of the shipped network, not a fresh one."""
    import torch
    from safetensors.torch import load_file

    from anisketch.guidance.predictor import load_encoder

    train(tmp_path, 1, "--init", str(REPO / "weights"))
    shipped = load_encoder(REPO / "weights")[0].state_dict()
    trained = {}
    for shard in sorted(tmp_path.glob("checkpoint.*.safetensors")):
        trained.update(load_file(shard))
    weight = "stem.0.0.weight"  # the first convolution
    found = trained[f"model.{weight}"]
    # one warm-up step moves the weights by at most lr / warmup per element; a fresh network differs by far more
    assert torch.allclose(found.float(), shipped[weight].float(), atol=1e-3)


def test_init_is_refused_clearly_where_unsupported(tmp_path):
    done = anisketch("train", "attributes", "--config", str(REPO / "backend" / "configs" / "attributes.toml"),
                     "--out", str(tmp_path), "--init", str(REPO / "weights"), "--steps", "1")
    assert done.returncode != 0 and "--init is not supported" in done.stderr


class _TinyTask:
    """A linear model on random numbers: the loop's own bookkeeping, without a real model's cost."""

    def __init__(self):
        import torch

        self.model = torch.nn.Linear(4, 1)

    def make_batch(self, first_seed, batch_size):
        import numpy as np

        return {"x": np.random.default_rng(first_seed).random((batch_size, 4), dtype=np.float32)}

    def loss(self, model, batch):
        loss = model(batch["x"]).pow(2).mean()
        return loss, {"square": loss.detach()}

    def on_checkpoint(self, model, out_dir, step):
        return {}


def test_the_metric_window_is_emptied_on_every_rank(tmp_path, monkeypatch):
    """Ranks above 0 write no curves; their window of loss tensors must still be emptied at each log step, or
    it grows for the whole run (one tensor per step and part)."""
    from anisketch.train import loop

    sizes = []
    take = loop.MetricWindow.take
    monkeypatch.setattr(loop.MetricWindow, "take", lambda self: (sizes.append(len(self.steps)), take(self))[1])
    monkeypatch.setenv("RANK", "1")  # a rank above 0 of a one-process world: no process group needed
    cfg = loop.LoopConfig(steps=9, batch_size=2, warmup=1, log_every=3, checkpoint_every=100, workers=0,
                          channels_last=False)
    loop.train(_TinyTask(), cfg, tmp_path)
    assert sizes == [3, 3, 3]
    assert not (tmp_path / "curves.csv").exists()  # only rank 0 writes curves


def test_a_config_can_weigh_the_pose_more():
    """[loss] pose_weight scales the pose's share of the float loss (the pose moves every line at once)."""
    import numpy as np

    from anisketch.engine import params as P
    from anisketch.guidance import train as recipe

    default = recipe.make_task({}).weights.numpy()
    heavier = recipe.make_task({"loss": {"pose_weight": 2 * recipe.POSE_WEIGHT}}).weights.numpy()
    pose = P.float_groups() == P.ALL_GROUPS.index("pose")
    assert np.allclose(heavier[pose], 2 * default[pose]) and heavier[pose].max() > 0
    assert np.array_equal(heavier[~pose], default[~pose])


def test_a_config_can_grow_an_encoder_a_finer_map_that_starts_as_its_reading(tmp_path):
    """[model] skip_channels: `--init` grows a trained encoder without a finer map into the config's network
    (model.grown), whose new head weights start at zero, so it reads every sketch exactly as the trained one did
    before it trains. An encoder that has one (the shipped one, since session 19) is taken as it is."""
    from dataclasses import replace

    import torch

    from anisketch.guidance import train as recipe
    from anisketch.guidance.model import grown

    torch.manual_seed(0)
    trained = recipe.make_task({}).model.eval()  # the network as the older configs make it: no finer map
    assert trained.config.skip_channels == 0
    task = recipe.make_task({"model": {"skip_channels": 4}})
    network = task.start_from(trained).eval()
    assert network.config == replace(trained.config, skip_channels=4)
    sketch = torch.rand(2, 1, 256, 256)
    with torch.no_grad():
        (floats, logits), (then_floats, then_logits) = network(sketch), trained(sketch)
    assert torch.equal(floats, then_floats) and all(torch.equal(a, b) for a, b in zip(logits, then_logits))
    assert task.start_from(network) is network  # grown already: taken as it is
    with pytest.raises(ValueError):
        grown(trained, replace(trained.config, hidden=64, skip_channels=4))  # only the finer map may be new
    done = anisketch("train", "guidance", "--config", str(REPO / "backend" / "configs" / "guidance_skip2.toml"),
                     "--init", str(REPO / "weights"), "--out", str(tmp_path), "--steps", "1", "--batch-size", "2",
                     "--workers", "0")
    assert done.returncode == 0, done.stderr[-2000:]  # the shipped weights start the shipped config's next leg


def test_the_frame_finder_fine_tunes_from_the_shipped_weights(tmp_path):
    """`anisketch train frame --init weights` starts from the shipped finder (load_trainable: its BatchNorm
    unfolded, so it reads as the folded one does) and exports a finder the service loads."""
    import shutil

    import numpy as np
    import torch

    from anisketch.guidance.frame_train import load_trainable
    from anisketch.guidance.framing import Frame, FrameFinder

    trained = load_trainable(REPO / "weights").eval()
    image = torch.rand(2, 1, 128, 128)
    with torch.no_grad():
        unit, _ = trained(image)
    found = FrameFinder.load(REPO / "weights").find(image[:, 0].numpy())
    assert np.allclose([[f.cx, f.cy, f.half_width] for f in found],
                       [[g.cx, g.cy, g.half_width] for g in map(Frame.from_unit, unit.numpy())], atol=1e-4)
    out = tmp_path / "weights"
    shutil.copytree(REPO / "weights", out)
    config = REPO / "backend" / "configs" / "frame_styles.toml"
    done = anisketch("train", "frame", "--config", str(config), "--init", str(REPO / "weights"), "--out",
                     str(tmp_path / "run"), "--steps", "1", "--batch-size", "2", "--workers", "0")
    assert done.returncode == 0 and "starting from the frame weights" in done.stdout, done.stderr[-2000:]
    done = anisketch("train", "frame", "--config", str(config), "--out", str(tmp_path / "run"), "--no-train",
                     "--export", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    assert FrameFinder.load(out).find(image[:, 0].numpy())  # the fine-tuned finder loads and answers
