"""`anisketch train MODEL --config FILE`: train (or resume) a model, then optionally export shipped weights.

    anisketch train guidance --config backend/configs/guidance.toml --out runs/guidance
    torchrun --nproc_per_node 4 -m anisketch.cli train guidance --config ...   # several GPUs (DDP)
    anisketch train guidance --config ... --out runs/guidance --export weights/   # write the shipped file
    anisketch train guidance --config backend/configs/guidance_polish.toml --init weights/ --out runs/polish
    anisketch train colorizer --config backend/configs/colorizer.toml --shards shards/256   # portraits from disk
"""

from __future__ import annotations

import argparse
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef, unused-ignore]

MODELS = {
    "guidance": "anisketch.guidance.train",
    "colorizer": "anisketch.render.train",
    "attributes": "anisketch.generate.train",
    "frame": "anisketch.guidance.frame_train",
    "refine": "anisketch.guidance.refine_train",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", choices=sorted(MODELS), help="which model to train")
    parser.add_argument("--config", required=True, type=Path, help="TOML config (see backend/configs/)")
    parser.add_argument("--out", type=Path, default=None, help="run folder: checkpoints and curves (default runs/MODEL)")
    parser.add_argument("--data", type=Path, default=None, help="a folder made by `anisketch data --from-images` to train on")
    parser.add_argument("--shards", type=Path, default=None, metavar="DIR",
                        help="portraits from a folder made by `anisketch data --shards` (at the config's size), "
                             "reused every epoch with sketches and hints drawn anew (guidance, colorizer)")
    parser.add_argument("--steps", type=int, default=None, help="override the config's step count")
    parser.add_argument("--batch-size", type=int, default=None, help="override the per-process batch size")
    parser.add_argument("--workers", type=int, default=None, help="data worker processes (default: config)")
    parser.add_argument("--time-limit", type=float, default=0.0, help="checkpoint and stop after this many seconds")
    parser.add_argument("--export", type=Path, default=None, metavar="WEIGHTS_DIR",
                        help="after training, write the shipped safetensors file there and update its manifest")
    parser.add_argument("--no-train", action="store_true", help="only export the run's latest checkpoint")
    parser.add_argument("--init", type=Path, default=None, metavar="WEIGHTS_DIR",
                        help="start a new run from the model in this weights folder (fresh optimizer and schedule; "
                             "a run folder that already has a checkpoint resumes that instead)")


def load_config(path: Path) -> dict:
    """The config at `path`. A config may start with `extends = "base.toml"` (a path beside it): it then holds
    only what differs from its base; tables merge key by key, any other value replaces the base's."""
    return _load_config(Path(path), ())


def _load_config(path: Path, chain: tuple[Path, ...]) -> dict:
    if not path.is_file():
        raise SystemExit(f"anisketch train: config {path} not found (see backend/configs/)")
    if path.resolve() in chain:
        raise SystemExit(f"anisketch train: config {path} extends itself ({' -> '.join(p.name for p in chain)})")
    with open(path, "rb") as f:
        config = tomllib.load(f)
    base = config.pop("extends", None)
    if base is None:
        return config
    if not isinstance(base, str):
        raise SystemExit(f"anisketch train: config {path}: extends must be a file name, got {base!r}")
    return merge_configs(_load_config(path.parent / base, chain + (path.resolve(),)), config)


def merge_configs(base: dict, override: dict) -> dict:
    """`base` with `override` laid over it: tables merged recursively, other values replaced."""
    merged = dict(base)
    for key, value in override.items():
        merged[key] = merge_configs(merged[key], value) if isinstance(value, dict) and isinstance(
            merged.get(key), dict) else value
    return merged


def start_from_weights(task, recipe, model: str, weights_dir: Path) -> None:
    """Replace the task's fresh network by the one in `weights_dir` (its own architecture, unless the task grows it
    to what [model] says: `start_from`)."""
    if not hasattr(recipe, "load_trainable"):
        raise SystemExit(f"anisketch train {model}: --init is not supported for this model; train it from scratch")
    trained = recipe.load_trainable(weights_dir)
    # a task may grow the trained network to its config (guidance: a finer map in the head)
    task.model = task.start_from(trained) if hasattr(task, "start_from") else trained
    print(f"starting from the {model} weights in {weights_dir}")


def use_shards(task, model: str, root: Path) -> None:
    """Feed the task from a shard folder instead of the engine; SystemExit with the reason if it cannot be."""
    from ..data.shards import ShardError, ShardFolder

    if not hasattr(task, "use_shards"):
        raise SystemExit(f"anisketch train {model}: --shards is not supported for this model (guidance and "
                         f"colorizer are); it trains on engine portraits rendered on the fly")
    try:
        folder = ShardFolder(root, size=task.curriculum.size)
    except ShardError as error:
        raise SystemExit(f"anisketch train {model}: --shards: {error}") from None
    task.use_shards(folder)
    print(f"training on the {len(folder)} portraits in {root} (seeds from {folder.manifest['seed']}), "
          f"drawn anew every epoch")


def run(args: argparse.Namespace) -> int:
    import importlib

    from .loop import LoopConfig, train

    config = load_config(args.config)
    recipe = importlib.import_module(MODELS[args.model])
    out = args.out or Path("runs") / args.model
    loop_cfg = LoopConfig(**config.get("loop", {}))
    for name in ("steps", "batch_size", "workers"):
        if getattr(args, name) is not None:
            setattr(loop_cfg, name, getattr(args, name))
    loop_cfg.time_limit_s = args.time_limit
    task = recipe.make_task(config, data_dir=args.data)
    if args.init is not None:
        start_from_weights(task, recipe, args.model, args.init)
    if args.shards is not None:
        use_shards(task, args.model, args.shards)
    if not args.no_train:
        result = train(task, loop_cfg, out)
        print(f"stopped at step {result['step']} ({'finished' if result['finished'] else 'resumable'}); run folder {out}")
    if args.export is not None:
        path = recipe.export(task, out, args.export, config_path=args.config)
        print(f"exported {path}")
    return 0

