"""How long a colour render with production layers takes: medians of `render` calls, per mode.

    python -m anisketch.render.bench                                  # 1 candidate, 512 px, CPU
    python -m anisketch.render.bench --device cuda --candidates 4     # the GPU figure
    python -m anisketch.render.bench --with-state                      # as the docker asks after a guide
    python -m anisketch.render.bench --timeline                        # and where the time goes (timeline.py)

Each call is what the service does for one request (guidance included, torch on as many CPU threads as the
service takes), on an unseen engine seed's messy sketch with 10 dabs; the first call of each mode warms up and is not counted. Prints the median and the spread of the
whole call and of its stages, as `render` times them: "guidance"; "render", of which "portraits" (refined: the
engine's portraits and the dabs' colour matching) or "colouriser" (faithful: the network and its inputs, and what is found beside it), and
"layers" (the production layers; faithful: of which "shapes", the part all candidates share); then "crop"
(cutting each layer to its pixels)."""

from __future__ import annotations

import argparse
import time

import numpy as np

from ..engine.sketch import sketch_to_rgba
from .evaluate import truth_and_inputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--candidates", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=2_000_000_000)
    parser.add_argument("--with-state", action="store_true",
                        help="send the state of a guide of the same sketch, as the docker does after any guide: the "
                             "render then paints the guidance on screen instead of reading the sketch again")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads on the CPU (default: as the service takes them, half the cores)")
    parser.add_argument("--timeline", action="store_true",
                        help="then print each mode's fastest of 3 more requests function by function (render/timeline.py)")
    args = parser.parse_args()
    import torch

    from ..service import Service

    # time what the artist waits for, not a whole idle machine: the service's CPU threads on any device (the
    # candidates' layers are made on as many threads as torch is given)
    Service._share_the_cpu(args.threads)

    from ..guidance.predictor import GuidanceModel
    from .api import load_colorizer, render

    guidance = GuidanceModel.load(None, device=args.device)
    colorizer = load_colorizer(None, args.device)
    cases = [truth_and_inputs(args.seed + i) for i in range(3)]
    states = [guidance.guide(case["sketch"]).state if args.with_state else None for case in cases]
    print(f"device {args.device}, {args.candidates} candidate(s), 512 px, torch threads {torch.get_num_threads()}"
          f"{', with the guidance state' if args.with_state else ''}")
    def one(i: int, mode: str):
        case, state = cases[i % len(cases)], states[i % len(cases)]
        result = render(guidance, sketch_to_rgba(case["sketch"]), case["hints"][10], n=args.candidates, mode=mode,
                        colorizer=colorizer, state=state)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        return result

    for mode in ("faithful", "refined"):
        totals: list[float] = []
        stages: dict[str, list[float]] = {}
        for i in range(args.repeat + 1):
            t = time.perf_counter()
            result = one(i, mode)
            if i == 0:
                continue  # warm-up
            totals.append((time.perf_counter() - t) * 1000.0)
            for key, ms in result.timing_ms.items():
                stages.setdefault(key, []).append(ms)
        spread = f"{np.percentile(totals, 10):.0f}-{np.percentile(totals, 90):.0f}"
        where = ", ".join(f"{key} {np.median(ms):.1f}" for key, ms in stages.items())
        print(f"{mode:9s} p50 {np.median(totals):7.1f} ms (p10-p90 {spread}) | medians, ms: {where}")
        if args.timeline:
            print(fastest_timeline(lambda i: one(i, mode)))


def fastest_timeline(request, tries: int = 3) -> str:
    """The timeline report of the fastest of `tries` calls of request(i)."""
    from .timeline import Timeline

    reports = []
    for i in range(tries):
        with Timeline() as timeline:
            t = time.perf_counter()
            request(i)
            reports.append((time.perf_counter() - t, timeline.report()))
    seconds, report = min(reports)
    return f"timeline of the fastest of {tries} ({seconds * 1e3:.1f} ms):\n{report}"


if __name__ == "__main__":
    main()
