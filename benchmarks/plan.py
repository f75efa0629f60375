"""Plan a benchmark run once: every (task, fold, model) job, before any of them runs.

For each selected task: its merged config, its models (each :class:`ModelSpec` built and
checked once, shared by all its folds), its data (loaded and encoded once per SCOPE mode; a
missing file skips the task), its folds (smoke: a seeded sample of each), and per model and
fold a :class:`~benchmarks.jobs.Job` with its job key, or the stored record that key lets
the run reuse. The plan is what the executors run (all tasks' jobs in one call) and what
the summary is built from; it writes nothing.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.config import model_scope_mode, task_config, task_models
from benchmarks.jobs import Job, job_key, stored_result
from benchmarks.models import ModelSpec, input_problem, scope_mode_problem
from benchmarks.tasks import Fold, TaskAdapter, TaskData


class UsageError(ValueError):
    """A request naming something that does not exist or cannot run: an unknown task,
    model or fold, bad model settings, an executor that is not installed (the command
    line exits with 2)."""


@dataclass
class RunOptions:
    """What a run is asked to do (the command line's options, or ``evaluate()``'s)."""

    task: str = "all"
    folds: list[int] | None = None
    smoke: bool = False
    data_dir: Path | None = None
    out: Path | None = Path("runs/benchmark")  # None: fold records in the cache, no reports
    config: list[Path] | None = None
    pretrained: str | None = None
    models: list | None = None  # names (configured, plug-in, module:Class) or ModelSpecs
    force: bool = False
    save_models: bool = False
    distribute: str = "jobs"
    executor: str = "local"
    ray_address: str | None = None
    allow_skips: bool = False
    report_only: bool = False
    progress: bool = True

    @property
    def store(self) -> Path:
        """Where fold records and training work folders go: ``out``, else the cache."""
        if self.out is not None:
            return Path(self.out)
        from cloud.data import cache_dir

        return cache_dir() / "evaluate"


@dataclass
class TaskPlan:
    """One task of a run: config, models, data, and per model its jobs and reused records."""

    task: TaskAdapter
    cfg: dict
    folds: list[int]
    models: object  # benchmarks.config.TaskModels
    dir: Path
    data: dict[str, TaskData] = field(default_factory=dict)  # by SCOPE mode
    skipped: str | None = None  # why the whole task is skipped (its data missing)
    skipped_models: dict[str, str] = field(default_factory=dict)
    missing_folds: dict[str, list[int]] = field(default_factory=dict)  # --report-only
    jobs: dict[str, list[Job]] = field(default_factory=dict)  # by model, the models run
    reused: dict[str, dict[int, dict]] = field(default_factory=dict)
    load_s: float = 0.0

    @property
    def name(self) -> str:
        return self.task.name

    @property
    def main_data(self) -> TaskData:
        return self.data[self.cfg.get("scope_mode", "paper")]

    def data_for(self, job: Job) -> TaskData:
        return self.data[job.scope_mode]

    def model_data(self, config: dict) -> TaskData:
        return self.data[model_scope_mode(self.cfg, config)]


@dataclass
class RunPlan:
    options: RunOptions
    layers: dict
    tasks: list[TaskPlan]

    @property
    def jobs(self) -> list[Job]:
        """Every job to run, all tasks together, in plan order."""
        return [j for t in self.tasks for js in t.jobs.values() for j in js]

    def task_of(self, job: Job) -> TaskPlan:
        return self._by_name[job.task]

    def __post_init__(self):
        self._by_name = {t.name: t for t in self.tasks}


def smoke_fold(fold: Fold, cfg: dict, seed: int = 0) -> Fold:
    """A small real fold: a seeded sample of the official train and test ids."""
    rng = np.random.default_rng(seed)
    n_tr, n_te = cfg.get("max_train_rows", 240), cfg.get("max_test_rows", 80)
    train = [fold.train[i] for i in sorted(rng.permutation(len(fold.train))[:n_tr])]
    test = [fold.test[i] for i in sorted(rng.permutation(len(fold.test))[:n_te])]
    return Fold(train, test)


def fold_spec(spec: ModelSpec, fold_index: int, options: RunOptions) -> dict:
    """A model's settings for one fold: whether its fine-tuned model is kept (models with an
    encoder: ``--save-models``, ``keep_model``, ``keep_model_folds``)."""
    config = dict(spec.config)
    if spec.declarations.has_encoder:
        keep_folds = config.get("keep_model_folds")
        config["keep_model"] = bool(options.save_models or config.get("keep_model") or (
            keep_folds is not None and fold_index in {int(k) for k in keep_folds}))
    return config


def with_pretrained(cfg: dict, pretrained: str | None) -> dict:
    """A task config as it is run: ``--pretrained`` set on its models with an encoder (a
    plug-in's goes to its constructor's ``pretrained``, under ``params``)."""
    from benchmarks.config import has_encoder

    if pretrained is None:
        return cfg

    def applied(spec: dict) -> dict:
        if not has_encoder(spec):
            return spec
        if spec.get("class"):
            return {**spec, "params": {**(spec.get("params") or {}), "pretrained": pretrained}}
        return {**spec, "pretrained": pretrained}

    return {**cfg, "models": {name: applied(spec) for name, spec in cfg.get("models", {}).items()}}


def run_config(layers: dict, task: TaskAdapter, options: RunOptions) -> dict:
    """The merged config a task runs with (``--pretrained`` applied)."""
    return with_pretrained(task_config(layers, task.name, task.family, options.smoke),
                           options.pretrained)


def requested_names(options: RunOptions) -> list | None:
    return list(options.models) if options.models else None


def check_names(options: RunOptions, layers: dict, tasks: list[TaskAdapter]) -> dict:
    """Every model to run resolves (name, class, settings, the protocol) before any work
    starts; a requested name that no selected task knows is a usage error. Returns each
    task's :class:`~benchmarks.config.TaskModels` (their specs built once, here)."""
    from benchmarks.models.spec import is_model_entry

    wanted = requested_names(options)
    names = [m for m in wanted or [] if isinstance(m, str)]
    known, unknown, models = {}, set(names), {}
    for t in tasks:
        cfg = run_config(layers, t, options)
        models[t.name] = task_models(cfg, t.name, t.kind, wanted)
        unknown &= set(models[t.name].unknown)
        known.update(dict.fromkeys(n for n, e in cfg["models"].items() if is_model_entry(e)))
    if unknown:
        raise UsageError(f"unknown model {', '.join(repr(m) for m in names if m in unknown)} "
                         f"for the selected tasks: not configured ({', '.join(known)}), not an "
                         "installed plug-in, not module:Class")
    return models


def plan_run(options: RunOptions, layers: dict, tasks: list[TaskAdapter], group,
             models: dict | None = None) -> RunPlan:
    """The plan of a run (``models``: :func:`check_names`'s answer, when already had)."""
    models = models if models is not None else check_names(options, layers, tasks)
    plans = [plan_task(t, options, layers, models[t.name], group) for t in tasks]
    return RunPlan(options, layers, plans)


def plan_task(task: TaskAdapter, options: RunOptions, layers: dict, models, group) -> TaskPlan:
    """Load the task's data, then its jobs and reused records per model and fold."""
    import time

    from cloud.data import ChecksumError, DataMissingError

    cfg = run_config(layers, task, options)
    if options.smoke:
        task = task.smoke_sample(cfg.get("max_train_rows", 240), cfg.get("max_test_rows", 80))
    folds = list(options.folds) if options.folds else list(cfg["folds"])
    plan = TaskPlan(task, cfg, folds, models, options.store / task.name)
    start = time.perf_counter()
    try:
        load_data(plan, cfg.get("scope_mode", "paper"), options, group)
    except (DataMissingError, ChecksumError) as exc:
        plan.skipped = str(exc)
        print(f"[{task.name}] skipped: {str(exc).splitlines()[0]}", file=sys.stderr)
        return plan
    if task.own_folds and not options.folds:  # e.g. a user task: every fold its file gives
        plan.folds = folds = list(range(len(plan.main_data.folds)))
    for name, spec in models.specs.items():
        mode = model_scope_mode(cfg, spec.config)
        data = load_data(plan, mode, options, group)
        if problem := scope_mode_problem(data, mode) or input_problem(data, spec.input):
            plan.skipped_models[name] = problem
            print(f"[{task.name}] {name} skipped: {problem}", file=sys.stderr)
            continue
        plan.jobs[name], plan.reused[name] = [], {}
        for k in folds:
            plan_fold(plan, name, spec, k, mode, data, options, group)
    plan.load_s = time.perf_counter() - start
    return plan


def load_data(plan: TaskPlan, mode: str, options: RunOptions, group) -> TaskData:
    """The task's data in a SCOPE mode; the main process encodes (and caches) first."""
    if mode not in plan.data:
        plan.data[mode] = group.main_first(
            lambda: plan.task.load(options.data_dir, mode, options.progress))
    return plan.data[mode]


def plan_fold(plan: TaskPlan, name: str, spec: ModelSpec, k: int, mode: str, data: TaskData,
              options: RunOptions, group) -> None:
    """Fold ``k`` of model ``name``: reused when its stored record's job key matches, listed
    as missing under ``--report-only`` for a model that trains a network, else a job."""
    if k >= len(data.folds):
        raise UsageError(f"{plan.name} has folds 0-{len(data.folds) - 1}, not {k}")
    fold = smoke_fold(data.folds[k], plan.cfg, seed=k) if options.smoke else data.folds[k]
    config = fold_spec(spec, k, options)
    key, parts = job_key(plan.task, data, config, k, fold, options.smoke, spec.declarations)
    job = Job(plan.name, name, config, k, fold, plan.dir / name / f"fold_{k}.json", mode, key,
              parts, model_spec=spec)
    record, why = (None, "--force") if options.force else stored_result(
        job, keyless_ok=options.report_only)
    if record is not None:
        plan.reused[name][k] = record
    elif options.report_only and job.trains_network:
        plan.missing_folds.setdefault(name, []).append(k)
    else:
        if job.result_path.exists() and group.is_main:
            print(f"[{plan.name}] {name} fold {k}: recomputing ({why})", file=sys.stderr)
        plan.jobs[name].append(job)
