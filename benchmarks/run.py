"""Benchmark runner: train and score models on benchmark folds, write leaderboards.

For each task: load and encode its data (a missing file skips the task, naming the file and
where to get it), plan one job per (model, fold), reuse the stored results whose job key
(model settings, encoder weights, data, fold rows) is unchanged, run the others — all
tasks' jobs in one executor call: in this process, across the processes of ``accelerate
launch``, or as tasks on a Ray cluster (``--executor ray``) — and score them. The main process
alone writes: per-fold results, ``summary.json``, ``leaderboard.md``, parity plots, family
files (matbench results) and ``manifest.json`` in ``--out``. The run ends with one line
counting the leaderboard rows done, failed and skipped; the exit status is 1 when any row
failed or was skipped (``--allow-skips``: skips are fine), 2 for a wrong command line.
This is the command line of :func:`cloud_bench.evaluate`, which does the work.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `python benchmarks/run.py` from a plain checkout
    sys.path.insert(0, str(REPO))

import cloud  # noqa: E402,F401  (sets the OpenMP wait policy before torch loads)
from benchmarks import distributed, executors  # noqa: E402
from benchmarks.plan import RunOptions, UsageError  # noqa: E402

EXAMPLES = """Examples:
  python benchmarks/run.py --task matbench_jdft2d --smoke --out runs/smoke
  python benchmarks/run.py --task all --allow-skips            # every task, 5 folds
  accelerate launch --num_processes 4 benchmarks/run.py --task matbench --out runs/mb
  python benchmarks/run.py --task all --executor ray --ray-address auto --out runs/all
  python benchmarks/run.py --task cv --models cloud_debye --save-models --out runs/cv
  python benchmarks/run.py --task cv,u --out runs/log --config benchmarks/configs/experiments/log_theta.yaml
  python benchmarks/run.py --task matbench_jdft2d --models mymodels:MyModel,dummy
  # the authors' checkpoint DIR with the paper's recipe (docs/authors_checkpoint.md):
  python benchmarks/run.py --config benchmarks/configs/paper_recipe.yaml --pretrained DIR
"""


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", default="all",
                   help="all, a family (matbench, phonon, discovery, unconvbench), a task "
                        "(matbench_jdft2d) or a comma list")
    p.add_argument("--folds", default=None, help="comma list of fold indices (default: config)")
    p.add_argument("--smoke", action="store_true", help="small real folds, tiny model")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="local data folder (default: $CLOUD_DATA_DIR, then the download cache)")
    p.add_argument("--out", type=Path, default=Path("runs/benchmark"))
    p.add_argument("--config", type=Path, action="append", default=None,
                   help="YAML merged over the defaults; repeat to layer several, in order "
                        "(an experiment of benchmarks/configs/experiments/, then a profile)")
    p.add_argument("--pretrained", default=None,
                   help="encoder for CLOUD models: a checkpoint dir (the project's, or the "
                        "authors' BERT format: docs/authors_checkpoint.md), 'default' or 'none'")
    p.add_argument("--models", default=None,
                   help="comma list of models to run: configured names, installed plug-ins "
                        "(entry points of cloud_bench.models) or module:Class")
    p.add_argument("--force", action="store_true", help="recompute finished folds")
    p.add_argument("--save-models", action="store_true",
                   help="keep every fold's fine-tuned CLOUD model in <out>/<task>/<model>/"
                        "fold_<k>_model (save_pretrained format, with its tokenizer and "
                        "target scaling) for `python -m cloud.predict`")
    p.add_argument("--distribute", choices=distributed.MODES, default="jobs",
                   help="under accelerate launch: split the jobs across the processes "
                        "(default) or train each job data-parallel on all of them")
    p.add_argument("--executor", choices=executors.EXECUTORS, default="local",
                   help="local: the jobs in this process (or the processes of accelerate "
                        "launch); ray: each (task, fold, model) job a Ray task with its "
                        "model's resources, retried when its worker dies "
                        "(docs/cluster.md)")
    p.add_argument("--ray-address", default=None,
                   help="with --executor ray: the cluster to join (auto, HOST:PORT); "
                        "default: start a local cluster on this machine")
    p.add_argument("--allow-skips", action="store_true",
                   help="exit 0 even when tasks or models were skipped (failures still "
                        "exit 1)")
    p.add_argument("--report-only", action="store_true",
                   help="train no CLOUD model: report the folds already in --out, missing "
                        "folds named; the baselines (seconds each) still run")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def options(args: argparse.Namespace) -> RunOptions:
    """The run's options from the parsed command line."""
    return RunOptions(
        task=args.task, folds=[int(k) for k in args.folds.split(",")] if args.folds else None,
        smoke=args.smoke, data_dir=args.data_dir, out=args.out, config=args.config,
        pretrained=args.pretrained, models=args.models.split(",") if args.models else None,
        force=args.force, save_models=args.save_models, distribute=args.distribute,
        executor=args.executor, ray_address=args.ray_address, allow_skips=args.allow_skips,
        report_only=args.report_only, progress=not args.no_progress)


def exit_status(result, allow_skips: bool) -> int:
    """1 when a row failed or none is done, or (without ``--allow-skips``) one was skipped."""
    if result is None:  # a process of accelerate launch other than the main one
        return 0
    rows = result.account
    if rows["failed"] or not rows["done"]:
        return 1
    return 1 if rows["skipped"] and not allow_skips else 0


def main(argv=None) -> int:
    from cloud.logging_setup import quiet_third_party
    from cloud_bench.evaluate import run

    args = parse_args(argv)
    quiet_third_party()
    try:
        result = run(options(args))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return exit_status(result, args.allow_skips)


if __name__ == "__main__":
    raise SystemExit(main())
