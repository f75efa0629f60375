"""Projected GPU hours of ``--task all`` fine-tunings with the paper's 12x768 encoder.

Per task: structures (committed run summaries, else MatBench's published sizes), CLOUD
fine-tunings (configured models x folds, as ``cluster_plan.py`` counts them), epochs and
batch of the task's ``cloud`` model, optimizer steps, then hours on one GPU. A step costs
the larger of its arithmetic (6 x encoder parameters x tokens, at ``--mfu`` of the GPU's
published bf16 peak) and a per-step floor (the small model's measured ~13 ms per step on the
H100, scaled by the layer count). ``--cpu-strings-per-s`` (measured at 12x768 on this
machine by ``train_throughput.py --preset base``) gives the CPU hours beside it.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

GPUS_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0}  # dense, published
MATBENCH_SIZES = {"matbench_log_gvrh": 10987, "matbench_log_kvrh": 10987,
                  "matbench_perovskites": 18928, "matbench_mp_gap": 106113,
                  "matbench_mp_e_form": 132752}  # MatBench v0.1 (published)
SMALL_STEP_FLOOR_S = 0.013  # small (4 layers) on the H100, one job alone (configs/gpu.yaml)
TOKENS_PER_STRING = 31  # the project tokenizer's mean over the OPTIMADE sample


def committed_sizes() -> dict[str, int]:
    sizes: dict[str, int] = {}
    for path in glob.glob(str(REPO / "reports/**/summary.json"), recursive=True):
        for task, info in json.loads(Path(path).read_text()).get("tasks", {}).items():
            if info.get("n_total"):
                sizes[task] = max(sizes.get(task, 0), int(info["n_total"]))
    return sizes


def task_settings() -> dict[str, dict]:
    """Per task: CLOUD fine-tunings, folds, epochs, batch size, validation share."""
    from benchmarks.config import load_layers, task_config, task_models
    from benchmarks.tasks import select

    layers = load_layers()
    out = {}
    for task in select("all"):
        cfg = task_config(layers, task.name, task.family)
        models = {m: s.config for m, s in task_models(cfg, task.name, task.kind).specs.items()
                  if s.declarations.trains_network}
        train = (models.get("cloud") or next(iter(models.values()), {})).get("train", {})
        out[task.name] = {"jobs": len(models) * len(cfg["folds"]), "folds": len(cfg["folds"]),
                          "epochs": train.get("epochs", 100), "batch": train.get("batch_size", 64),
                          "val": train.get("val_fraction", 0.1)}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example:\n  python benchmarks/perf/paper_projection.py --gpu H200 "
               "--cpu-strings-per-s 9.5",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gpu", default="H200", choices=sorted(GPUS_BF16_TFLOPS))
    p.add_argument("--mfu", type=float, default=0.3, help="share of the peak a step reaches")
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--params", type=float, default=85e6, help="encoder parameters (12x768)")
    p.add_argument("--cpu-strings-per-s", type=float, default=None,
                   help="fine-tuning throughput at 12x768 on this CPU")
    args = p.parse_args(argv)
    sizes = {**MATBENCH_SIZES, **committed_sizes()}
    peak = GPUS_BF16_TFLOPS[args.gpu] * 1e12 * args.mfu
    floor = SMALL_STEP_FLOOR_S * args.layers / 4
    cpu = " | CPU h" if args.cpu_strings_per_s else ""
    print(f"| task | structures | CLOUD fine-tunings | epochs | batch | steps (all) | "
          f"{args.gpu} h{cpu} |")
    print("|---|---|---|---|---|---|---|" + ("---|" if cpu else ""))
    total_gpu = total_cpu = 0.0
    for task, s in task_settings().items():
        if task not in sizes:
            print(f"| {task} | no committed count | {s['jobs']} | {s['epochs']} | "
                  f"{s['batch']} | | |" + (" |" if cpu else ""))
            continue
        rows = sizes[task] * (1 - 1 / max(s["folds"], 2)) * (1 - s["val"])
        steps = math.ceil(rows / s["batch"]) * s["epochs"] * s["jobs"]
        strings = rows * s["epochs"] * s["jobs"]
        step_s = max(6 * args.params * s["batch"] * TOKENS_PER_STRING / peak, floor)
        hours = steps * step_s / 3600
        total_gpu += hours
        line = (f"| {task} | {sizes[task]:,} | {s['jobs']} | {s['epochs']} | {s['batch']} | "
                f"{steps:,} | {hours:.1f} |")
        if cpu:
            total_cpu += strings / args.cpu_strings_per_s / 3600
            line += f" {strings / args.cpu_strings_per_s / 3600:,.0f} |"
        print(line)
    print(f"| **counted tasks** | | | | | | **{total_gpu:.1f}** |"
          + (f" **{total_cpu:,.0f}** |" if cpu else ""))
    print(f"\n{args.gpu} {GPUS_BF16_TFLOPS[args.gpu]:.0f} TFLOPS bf16 x MFU {args.mfu}; "
          f"per-step floor {floor * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
