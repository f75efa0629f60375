"""``evaluate()``: benchmark models on tasks, from a notebook, a script or the command line.

One run is four named steps: **plan** every (task, fold, model) job once
(:mod:`benchmarks.plan`: data loaded, specs built, stored results reused by job key) →
**execute** all of them in one executor call (this process, the processes of ``accelerate
launch``, or a Ray cluster scheduling across tasks) → **summarise** the records in memory
(:mod:`benchmarks.reports.run_summary`) → **write** the reports when ``out`` is given
(:mod:`benchmarks.reports.run_outputs`). With ``out=None`` only the fold records are kept,
in the download cache (``<cache>/evaluate``), so that a second call reuses them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from cloud_bench.results import RunResult, run_result


def evaluate(models=None, tasks="all", folds: Iterable[int] | None = None, smoke: bool = False,
             config=None, executor: str = "local", out: str | Path | None = None,
             data_dir: str | Path | None = None, *, pretrained: str | None = None,
             force: bool = False, save_models: bool = False, report_only: bool = False,
             progress: bool = True, distribute: str = "jobs",
             ray_address: str | None = None) -> RunResult | None:
    """Train and score ``models`` on the folds of ``tasks``; the run's :class:`RunResult`.

    - ``models``: a model object following the model protocol (``input``, ``fit``,
      ``predict``: :mod:`benchmarks.models.protocol`), a name (a configured model such as
      ``"cloud"``, an installed plug-in, ``"module:Class"``), a list mixing them, or a
      ``{row name: model}`` mapping; ``None``: every model the config gives each task.
    - ``tasks``: ``"all"``, a family, a task name, a comma list, a path to a task YAML
      (:meth:`benchmarks.tasks.Task.from_file`), a task adapter, or a list of those.
    - ``folds``: fold indices (default: the config's); ``smoke``: small real folds, tiny
      CLOUD; ``config``: YAML file(s) merged over the defaults, in order.
    - ``executor``: ``"local"`` or ``"ray"`` (``ray_address``: a cluster to join).
    - ``out``: a folder for the reports the command line writes (``summary.json``,
      ``leaderboard.md``, fold records, plots, manifest); ``None``: nothing is written but
      the fold records in the cache.

    Under ``accelerate launch`` the main process gets the result, the others ``None``.
    Raises ``benchmarks.plan.UsageError`` (a ``ValueError``) for a request naming what does
    not exist or cannot run, before any training.
    """
    from benchmarks.plan import RunOptions

    adapters = task_list(tasks)
    options = RunOptions(
        task=tasks if isinstance(tasks, str) else ",".join(t.name for t in adapters),
        folds=[int(k) for k in folds] if folds is not None else None, smoke=smoke,
        data_dir=Path(data_dir) if data_dir is not None else None,
        out=Path(out) if out is not None else None, config=_paths(config),
        pretrained=pretrained, models=model_list(models), force=force,
        save_models=save_models, distribute=distribute, executor=executor,
        ray_address=ray_address, report_only=report_only, progress=progress)
    return run(options, adapters)


def _paths(config) -> list[Path] | None:
    if config is None:
        return None
    return [Path(config)] if isinstance(config, str | Path) else [Path(c) for c in config]


def model_list(models) -> list | None:
    """``evaluate()``'s ``models`` as the plan takes them: names, and a ``ModelSpec`` for
    every model given as an object."""
    from benchmarks.models import ModelSpec
    from benchmarks.models.spec import object_spec

    if models is None:
        return None
    if isinstance(models, str):
        return [m.strip() for m in models.split(",") if m.strip()]
    if isinstance(models, Mapping):
        return [m if isinstance(m, str | ModelSpec) else object_spec(m, name)
                for name, m in models.items()]
    if not isinstance(models, list | tuple):
        models = [models]
    return [m if isinstance(m, str | ModelSpec) else object_spec(m) for m in models]


def task_list(tasks) -> list:
    """Task adapters from names, families, ``all``, task YAML paths or adapters."""
    from benchmarks.tasks import TaskAdapter, select

    items = [tasks] if isinstance(tasks, str | Path | TaskAdapter) else list(tasks)
    out: list = []
    for item in items:
        picked = [item] if isinstance(item, TaskAdapter) else select(str(item))
        out += [t for t in picked if t not in out]
    return out


def run(options, tasks: list | None = None) -> RunResult | None:
    """A run from its options (``tasks``: the adapters; default ``options.task``)."""
    from benchmarks import distributed, executors
    from benchmarks.config import load_layers
    from benchmarks.models import ModelError
    from benchmarks.plan import UsageError, check_names, plan_run
    from benchmarks.reports.account import account_line
    from benchmarks.reports.row_stats import add_row_statistics
    from benchmarks.reports.run_outputs import family_results, store_record, write_run_outputs
    from benchmarks.reports.run_summary import gather, run_summary
    from benchmarks.reports.summary import leaderboard_markdown
    from benchmarks.tasks import select
    from cloud.manifest import build_manifest, device_name

    try:  # what the request names exists, before any work starts
        layers = load_layers(options.config)
        tasks = tasks if tasks is not None else select(options.task)
        models = check_names(options, layers, tasks)
        executors.check(options.executor, options.ray_address)
    except UsageError:
        raise
    except (ModelError, ValueError, FileNotFoundError) as exc:
        raise UsageError(str(exc)) from exc
    group = distributed.setup(options.distribute)
    start = time.perf_counter()
    base = build_manifest()
    info = {"created": base["created"], "commit": base["git"]["commit"],
            "device": device_name(base["device"]), "smoke": options.smoke,
            "task": options.task, "processes": group.world_size}
    plan = plan_run(options, layers, tasks, group, models)
    with executors.session(options.executor, options.ray_address) as execute:
        records = execute(plan.jobs, group, lambda job: plan.task_of(job).task,
                          lambda job: plan.task_of(job).data_for(job), options.force,
                          options.progress, on_record=store_record)
    if not group.is_main:
        return None
    outcomes = gather(plan, records)
    summary = run_summary(plan, outcomes, info)
    parity = add_row_statistics(summary, [t.task for t in plan.tasks],
                                family_results(plan, outcomes), options.out)
    board = leaderboard_markdown(summary, [t.task for t in plan.tasks])
    if options.out is not None:
        write_run_outputs(plan, outcomes, summary, board, start,
                          {"world_size": group.world_size, "distribute": options.distribute},
                          parity)
    where = f"reports in {options.out}" if options.out is not None else (
        f"fold records in {options.store}")
    rows = {k: [tuple(r) for r in v] for k, v in summary["account"].items()}
    print(f"{account_line(rows)}; {where}", file=sys.stderr)
    by_task = {name: [r for rs in o.results.values() for r in rs.values()]
               for name, o in outcomes.items()}
    return run_result(summary, by_task, board, {t.name: t.task.primary_metric
                                                for t in plan.tasks})
