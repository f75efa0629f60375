"""Write a scripts/run_lanes.py plan: one benchmark-runner job per task x model x fold.

``python scripts/gpu/make_plan.py --task cv,u --config benchmarks/configs/gpu.yaml
--out runs/gpu/phonon [--models a,b] [--first cloud_debye,cloud_debye_scratch] > plan.txt``

The models and folds are the configured ones (``benchmarks/config.py``, ablations included),
so the plan follows the config. A first job ``warm_<out name>`` encodes every SCOPE mode the
jobs need into the on-disk SCOPE cache, once, before the training jobs start (they then read
the cache instead of all encoding the same structures at once). Jobs of the ``--first`` models
come first (model by model), then the others fold by fold (so that a deadline cuts the last
folds of every other model rather than all folds of one); every job of one ``--out``
writes its own fold file there. The plan holds the training jobs only: afterwards, run
``benchmarks/run.py --task ... --config ... --out <same> --report-only`` to write the reports
(it also runs the baselines). Jobs read the data from ``$CLOUD_DATA_DIR``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def plan_lines(tasks: str, config: Path | None, out: Path, models: list[str] | None,
               first: list[str], python: str = "python3") -> list[str]:
    from benchmarks.config import load_layers, model_scope_mode, runnable_models, task_config
    from benchmarks.tasks import select

    layers = load_layers(config)
    warm = f"warm_{out.name}"
    jobs, modes = [], {}
    for task in select(tasks):
        cfg = task_config(layers, task.name, task.family)
        wanted = [m for m in (models or cfg["models"]) if m in cfg["models"]]
        for name, spec in runnable_models(cfg, task.kind, wanted).items():
            if not spec["type"].startswith("cloud"):
                continue  # baselines are seconds on a CPU: the report pass runs them
            modes.setdefault(task.name, set()).add(model_scope_mode(cfg, spec))
            for k in cfg["folds"]:
                args = ["benchmarks/run.py", "--task", task.name, "--models", name,
                        "--folds", str(k), "--out", str(out), "--no-progress"]
                if config is not None:
                    args += ["--config", str(config)]
                order = ((0, first.index(name), k) if name in first  # --first models by model,
                         else (1, k, list(cfg["models"]).index(name)))  # the rest fold by fold
                jobs.append((order, task.name, name, k, shlex.join([python, *args])))
    jobs.sort(key=lambda j: j[0])  # stable: tasks in the given order within equal keys
    if not jobs:
        return []
    pairs = ",".join(f"{t}:{m}" for t, ms in modes.items() for m in sorted(ms))
    lines = [f"{warm}: {python} scripts/gpu/make_plan.py --warm {shlex.quote(pairs)}"]
    lines += [f"{t}.{m}.f{k} <- {warm}: {cmd}" for _, t, m, k, cmd in jobs]
    return lines


def warm(pairs: str) -> int:
    """Load (and so encode into the SCOPE cache) each ``task:mode``; a task whose data is
    missing is reported and skipped (its jobs then skip it too, naming the file)."""
    from benchmarks.tasks import select

    for pair in pairs.split(","):
        name, mode = pair.rsplit(":", 1)
        try:
            data = select(name)[0].load(None, mode, False)
            print(f"{name} ({mode}): {len(data.ids)} rows, {len(data.errors)} input errors")
        except Exception as exc:  # noqa: BLE001 (reported; the jobs report it again)
            print(f"{name} ({mode}): not loaded: {(str(exc).splitlines() or [repr(exc)])[0]}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example:\n  python scripts/gpu/make_plan.py --task cv,u "
               "--config benchmarks/configs/gpu.yaml --out runs/gpu/phonon > plan.txt",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--warm", default=None, help="TASK:MODE,...: fill the SCOPE cache, exit")
    p.add_argument("--task")
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("--out", type=Path)
    p.add_argument("--models", default=None, help="comma list (default: all configured)")
    p.add_argument("--first", default="", help="comma list of models to put first")
    p.add_argument("--python", default="python3")
    args = p.parse_args(argv)
    from cloud.logging_setup import quiet_third_party

    quiet_third_party()
    if args.warm:
        return warm(args.warm)
    if not args.task or not args.out:
        p.error("--task and --out are required")
    models = args.models.split(",") if args.models else None
    first = [m for m in args.first.split(",") if m]
    print("\n".join(plan_lines(args.task, args.config, args.out, models, first, args.python)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
