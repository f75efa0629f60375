"""``cloud-bench``: one command for the suite, a subcommand per job.

Each subcommand is a ``main(argv) -> int`` function named in :data:`COMMANDS` as
``"module:function"`` (imported only when used); the old entry points
(``python benchmarks/run.py``, ``python -m cloud.predict``, ``cloud-scope``...) are the same
functions and stay. Adding a command is one line in :data:`COMMANDS`.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if (REPO / "benchmarks").is_dir() and str(REPO) not in sys.path:  # an uninstalled checkout
    sys.path.insert(0, str(REPO))

COMMANDS = {  # name -> "module:function" taking argv, returning the exit status
    "run": "benchmarks.run:main",
    "tasks": "cloud_bench.commands:tasks_main",
    "models": "cloud_bench.commands:models_main",
    "score": "benchmarks.score:main",
    "predict": "cloud.predict:main",
    "scope": "cloud.scope.cli:main",
    "debye": "cloud.debye.__main__:main",
    "submit": "benchmarks.submit:main",
    "embed": "cloud.embeddings.cli:main",
    "probe": "benchmarks.run_probes:main",
    "pretraining-value": "benchmarks.reports.pretraining_value:main",
    "leaderboard": "benchmarks.reports.leaderboard_page:main",
    "compare": "benchmarks.reports.compare:main",
}
SUMMARIES = {
    "run": "train and score models on benchmark tasks, write the leaderboard",
    "tasks": "list every task: family, rows, metric, folds, where its data are",
    "models": "list the configured models, built-in types and installed plug-ins",
    "score": "score predictions made elsewhere on the official MatBench folds",
    "predict": "predict with a fine-tuned model saved by a run (--save-models)",
    "scope": "write SCOPE strings of structures (CIF, POSCAR, pymatgen JSON)",
    "debye": "Cv(T) and U(T) curves from Debye temperatures",
    "submit": "write and check the MatBench and Matbench Discovery submissions of a run",
    "embed": "frozen-encoder embeddings of crystals or SCOPE strings (.parquet or .npy)",
    "probe": "ridge and kNN probes on frozen encoders (the committed one, its floor, yours)",
    "pretraining-value": "what pretraining is worth: probes vs floor vs baselines vs fine-tuning",
    "leaderboard": "one self-contained HTML leaderboard page of runs (sortable, filters, plots)",
    "compare": "paired comparison of two runs' models on the same test rows, with interval",
}
EXAMPLES = """Examples:
  cloud-bench tasks
  cloud-bench run --task matbench_jdft2d --smoke --out runs/smoke
  cloud-bench run --task path/to/my_task.yaml --models mymodels:MyModel,dummy
  cloud-bench models
  cloud-bench score results.json.gz --out runs/mine
  cloud-bench <command> --help
  python -m cloud_bench.cli tasks        # the same, from a checkout without installing
"""
INSTALL = ('install the suite: pip install -e . (from the checkout), or run from the '
           'checkout root: python -m cloud_bench.cli ...')


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: cloud-bench <command> [options]", "",
             "Benchmark models on MatBench, Matbench Discovery, UnconvBench, phonons or your data.",
             "", "The CLOUD benchmark suite (arXiv 2506.17345), one command per job.", "",
             "commands:"]
    lines += [f"  {name:<{width}}  {SUMMARIES.get(name, '')}" for name in COMMANDS]
    return "\n".join([*lines, "", EXAMPLES])


def command(name: str):
    """The ``main(argv)`` function of subcommand ``name``."""
    module, _, function = COMMANDS[name].partition(":")
    try:
        return getattr(importlib.import_module(module), function)
    except ModuleNotFoundError as exc:
        raise SystemExit(f"cloud-bench {name}: cannot import {exc.name!r}; {INSTALL}") from None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"cloud-bench: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    sys.argv[0] = f"cloud-bench {name}"
    return int(command(name)(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
