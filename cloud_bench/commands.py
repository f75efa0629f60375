"""The listing subcommands of ``cloud-bench``: ``tasks`` and ``models``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

TASKS_EXAMPLES = """Examples:
  cloud-bench tasks                      # every task and whether its data are here
  cloud-bench tasks --task matbench --data-dir ../shared/data
  cloud-bench tasks --json
"""
MODELS_EXAMPLES = """Examples:
  cloud-bench models
  cloud-bench models --config benchmarks/configs/experiments/ensemble.yaml
"""


def tasks_main(argv=None) -> int:
    """List every task: family, rows, metric, folds, data state (here / in cache / online)."""
    from cloud_bench.catalog import STATES, markdown, task_table

    p = argparse.ArgumentParser(prog="cloud-bench tasks", description=(
        "Every benchmark task: family, rows, primary metric, folds, and whether its data are "
        f"{' / '.join(STATES)}."), epilog=TASKS_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", default="all", help="all, a family, a task or a comma list")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="local data folder (default: $CLOUD_DATA_DIR)")
    p.add_argument("--json", action="store_true", help="JSON rows instead of a table")
    args = p.parse_args(argv)
    from benchmarks.tasks import select

    try:
        tasks = select(args.task)
    except ValueError as exc:
        p.error(str(exc))
    rows = task_table(tasks, args.data_dir)
    print(json.dumps(rows, indent=1) if args.json else markdown(rows))
    return 0


def models_main(argv=None) -> int:
    """List the models: configured (how many tasks each), built-in types, plug-ins."""
    from cloud_bench.catalog import markdown, model_table

    p = argparse.ArgumentParser(prog="cloud-bench models", description=(
        "The models a run can name: configured models (default.yaml and --config), the "
        "built-in types and the plug-ins installed packages register (entry points of "
        "cloud_bench.models); any module:Class works too."), epilog=MODELS_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, action="append", default=None,
                   help="YAML merged over the defaults (repeatable)")
    p.add_argument("--json", action="store_true", help="JSON rows instead of a table")
    args = p.parse_args(argv)
    from benchmarks.config import load_layers

    rows = model_table(load_layers(args.config))
    print(json.dumps(rows, indent=1) if args.json else markdown(rows))
    return 0
