"""`anisketch data`: write engine samples, or turn a folder of your own images into the same format.

    anisketch data --out DIR --count N [--seed S] [--size 512] [--workers K] [--overwrite]
    anisketch data --from-images IMAGES --out DIR [--size 512] [--lines auto|xdog|canny] [--seed S] [--workers K]
    anisketch data --shards DIR --count N [--seed S] [--size 512] [--per-shard 1000] [--workers K] [--overwrite]

Samples are named by seed (engine) or by number (images); the format is described in
`anisketch/data/format.py` and docs/data-engine.md. `--shards` writes rendered portraits (no sketches, no
hints: training draws those anew every epoch) as tar shards for `anisketch train MODEL --shards DIR`; that
format is described in `anisketch/data/shards.py`. Output bytes depend only on the arguments, not on
--workers.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tqdm import tqdm

from anisketch.data import format as fmt
from anisketch.data.contact_sheet import contact_sheet, thumbnail_row
from anisketch.data.writer import is_ours, write_index, write_sample
from anisketch.parallel import process_context

MIN_SIZE, MAX_SIZE = 64, 2048
MAX_COUNT = 10_000_000


class UsageError(ValueError):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=Path, help="output folder (created if missing)")
    target.add_argument("--shards", type=Path, metavar="DIR",
                        help="write rendered portraits as tar shards for training (anisketch train MODEL --shards DIR)")
    parser.add_argument("--count", type=int, help="number of engine samples (seeds SEED .. SEED+COUNT-1)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--size", type=int, default=512, help=f"side in px, {MIN_SIZE}..{MAX_SIZE} (default 512)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: all CPU cores); the output does not depend on it")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into a non-empty folder, replacing files this command writes")
    parser.add_argument("--sheet-rows", type=int, default=8, help="samples shown on contact_sheet.png (default 8)")
    parser.add_argument("--per-shard", type=int, default=1000, help="portraits per tar with --shards (default 1000)")
    parser.add_argument("--from-images", type=Path, metavar="DIR",
                        help="convert your own anime images in DIR instead of drawing engine samples")
    parser.add_argument("--lines", choices=("auto", "xdog", "canny"), default="auto",
                        help="line extraction for --from-images: xdog finds inked lines, canny is Sketch2Anime's "
                             "blur + Canny; auto (default) is xdog, or canny for pictures without inked lines")


def run(args: argparse.Namespace) -> int:
    try:
        check_arguments(args)
    except UsageError as error:
        print(f"anisketch data: error: {error}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    if args.overwrite:
        for path in args.out.iterdir():
            if path.is_file() and (is_ours(path) if args.shards is None else is_shard_file(path)):
                path.unlink()
    if args.shards is not None:
        return write_shards(args)
    if args.from_images is not None:
        return convert_images(args)
    return write_engine_samples(args)


def check_arguments(args) -> None:
    if args.shards is not None:
        if args.from_images is not None:
            raise UsageError("--shards writes engine portraits; --from-images folders are used as they are "
                             "(anisketch train MODEL --data DIR)")
        if not 1 <= args.per_shard <= 1_000_000:
            raise UsageError(f"--per-shard must be between 1 and 1,000,000, got {args.per_shard}")
        args.out = args.shards
    if args.from_images is None:
        if args.count is None:
            raise UsageError("--count is required (or --from-images DIR to convert your own images)")
        if not 1 <= args.count <= MAX_COUNT:
            raise UsageError(f"--count must be between 1 and {MAX_COUNT:,}, got {args.count}")
    else:
        if args.count is not None:
            raise UsageError("--count does not apply to --from-images (every image in the folder is converted)")
        if not args.from_images.is_dir():
            raise UsageError(f"--from-images: {args.from_images} is not a folder")
    if not MIN_SIZE <= args.size <= MAX_SIZE:
        raise UsageError(f"--size must be between {MIN_SIZE} and {MAX_SIZE} px, got {args.size}")
    if args.seed < 0 or args.seed + (args.count or 0) > 2 ** 63:
        raise UsageError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.workers is not None and not 1 <= args.workers <= 256:
        raise UsageError(f"--workers must be between 1 and 256, got {args.workers}")
    if args.sheet_rows < 0:
        raise UsageError(f"--sheet-rows must be 0 or more, got {args.sheet_rows}")
    out = args.out
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out: {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not args.overwrite:
        raise UsageError(f"{'--shards' if args.shards else '--out'}: {out} is not empty; choose another folder "
                         f"or pass --overwrite (which replaces only files this command writes)")
    if args.from_images is not None and out.resolve() == args.from_images.resolve():
        raise UsageError("--out must not be the --from-images folder")


def _workers(args, jobs: int) -> int:
    return max(1, min(args.workers or os.cpu_count() or 1, jobs))


def _map(function, items, workers: int, total: int, description: str):
    """Ordered results, in worker processes when workers > 1, with a progress bar."""
    if workers == 1:
        _init_worker()
        yield from tqdm(map(function, items), total=total, desc=description, unit="sample")
        return
    with process_context().Pool(workers, initializer=_init_worker) as pool:
        yield from tqdm(pool.imap(function, items, chunksize=4), total=total, desc=description, unit="sample")


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)  # one process per core does the parallelism


# --- engine samples --------------------------------------------------------------------------------------


def _engine_job(job):
    from anisketch.data.sample import make_sample

    seed, size, out, with_row = job
    sample = make_sample(seed, size)
    record = write_sample(sample, Path(out), fmt.sample_name(seed))
    return record, thumbnail_row(sample) if with_row else None


def write_engine_samples(args) -> int:
    seeds = range(args.seed, args.seed + args.count)
    jobs = ((seed, args.size, str(args.out), i < args.sheet_rows) for i, seed in enumerate(seeds))
    records, rows = [], []
    for record, row in _map(_engine_job, jobs, _workers(args, args.count), args.count, "samples"):
        records.append(record)
        if row is not None:
            rows.append(row)
    _finish(args.out, records, rows)
    print(f"wrote {len(records)} samples of {args.size} px to {args.out} "
          f"(index: {fmt.INDEX}, contact sheet: {fmt.CONTACT_SHEET})")
    return 0


def _finish(out: Path, records: list, rows: list) -> None:
    write_index(out, records)
    if rows:
        fmt.save_png(out / fmt.CONTACT_SHEET, contact_sheet(rows))


# --- shards of rendered portraits, for training --------------------------------------------------------


def is_shard_file(path: Path) -> bool:
    from anisketch.data.shards import MANIFEST

    return path.name == MANIFEST or (path.name.startswith("shard-") and path.name.endswith(".tar"))


def write_shards(args) -> int:
    from anisketch.data.shards import ShardWriter, render_members

    writer = ShardWriter(args.out, args.seed, args.count, args.size, args.per_shard)
    jobs = ((seed, args.size) for seed in range(args.seed, args.seed + args.count))
    for members in _map(render_members, jobs, _workers(args, args.count), args.count, "portraits"):
        writer.add(members)
    manifest = writer.close()
    total = sum(shard["bytes"] for shard in manifest["shards"])
    print(f"wrote {args.count} portraits of {args.size} px (seeds {args.seed}..{args.seed + args.count - 1}) in "
          f"{len(manifest['shards'])} shards, {total / 2 ** 20:.1f} MiB, to {args.out} (manifest: shards.json)")
    return 0


# --- your own images -------------------------------------------------------------------------------------


def _image_job(job):
    from anisketch.data import images

    number, path, folder, seed, size, lines, out, with_row = job
    relative = str(Path(path).relative_to(folder))
    try:
        color = images.square(images.load_image(Path(path)), size)
        sample = images.image_sample(color, number, seed + number, relative, lines)
    except images.ImageRejected as reason:
        return None, None, (relative, str(reason))
    except Exception as error:  # noqa: BLE001 - one odd file must not end a long conversion: report it, go on
        return None, None, (relative, f"could not convert ({type(error).__name__}: {error})")
    record = write_sample(sample, Path(out), fmt.sample_name(number))
    return record, thumbnail_row(sample) if with_row else None, None


def convert_images(args) -> int:
    from anisketch.data.images import list_candidates

    folder = args.from_images
    candidates = list_candidates(folder)
    jobs = ((i, str(path), str(folder), args.seed, args.size, args.lines, str(args.out), i < args.sheet_rows)
            for i, path in enumerate(candidates))
    records, rows, skipped = [], [], []
    for record, row, rejection in _map(_image_job, jobs, _workers(args, max(1, len(candidates))),
                                       len(candidates), "images"):
        if rejection is not None:
            skipped.append(rejection)
            continue
        records.append(record)
        if row is not None:
            rows.append(row)
    _finish(args.out, records, rows)
    for name, reason in skipped:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    print(f"converted {len(records)} of {len(candidates)} files from {folder} to {args.out}"
          + (f"; skipped {len(skipped)} (reasons above)" if skipped else ""))
    if not records:
        print("anisketch data: error: no usable image found", file=sys.stderr)
        return 1
    return 0
