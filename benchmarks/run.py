"""Benchmark runner: train and score models on benchmark folds, write leaderboards.

For each task: load and encode its data (a missing file skips the task, naming the file and
where to get it), plan one job per (model, fold), reuse the stored results whose job key
(model settings, encoder weights, data, fold rows) is unchanged, run the others (in this
process, across the processes of ``accelerate launch``, or as tasks on a Ray cluster:
``--executor ray``), and score them. The main process
alone writes: per-fold results, ``summary.json``, ``leaderboard.md``, parity plots, family
files (matbench results) and ``manifest.json`` in ``--out``. The run ends with one line
counting the leaderboard rows done, failed and skipped; the exit status is 1 when any row
failed or was skipped (``--allow-skips``: skips are fine), 2 for a wrong command line.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

import cloud  # noqa: F401  (sets the OpenMP wait policy before torch loads)

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `python benchmarks/run.py` from a plain checkout
    sys.path.insert(0, str(REPO))

from benchmarks import distributed, executors  # noqa: E402
from benchmarks.config import (  # noqa: E402
    load_layers,
    model_scope_mode,
    task_config,
    task_models,
)
from benchmarks.jobs import Job, drop_weights, job_key, stored_result  # noqa: E402
from benchmarks.models import (  # noqa: E402
    ModelError,
    describe_model,
    input_problem,
    scope_mode_problem,
)
from benchmarks.reports.account import account, account_line  # noqa: E402
from benchmarks.reports.page_data import PARITY_FILE  # noqa: E402
from benchmarks.reports.row_stats import add_row_statistics  # noqa: E402
from benchmarks.reports.summary import (  # noqa: E402
    leaderboard_markdown,
    model_summary,
    parity_plot,
    write_summary,
)
from benchmarks.tasks import Fold, TaskData, select  # noqa: E402
from cloud.fileio import write_json_atomic  # noqa: E402
from cloud.manifest import device_name  # noqa: E402

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


class UsageError(Exception):
    """A command line naming something that does not exist (exit status 2)."""


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


def smoke_fold(fold: Fold, cfg: dict, seed: int = 0) -> Fold:
    """A small real fold: a seeded sample of the official train and test ids."""
    rng = np.random.default_rng(seed)
    n_tr, n_te = cfg.get("max_train_rows", 240), cfg.get("max_test_rows", 80)
    train = [fold.train[i] for i in sorted(rng.permutation(len(fold.train))[:n_tr])]
    test = [fold.test[i] for i in sorted(rng.permutation(len(fold.test))[:n_te])]
    return Fold(train, test)


def model_spec(spec: dict, fold_index: int, args) -> dict:
    """A model's settings for one fold: ``--pretrained`` and whether its model is kept."""
    spec = dict(spec)
    if spec["type"] in ("cloud", "cloud_debye"):
        if args.pretrained is not None:
            spec["pretrained"] = args.pretrained
        keep_folds = spec.get("keep_model_folds")
        spec["keep_model"] = bool(args.save_models or spec.get("keep_model") or (
            keep_folds is not None and fold_index in {int(k) for k in keep_folds}))
    return spec


def with_pretrained(cfg: dict, args) -> dict:
    """A task config as it is run: ``--pretrained`` set on its CLOUD models."""
    if args.pretrained is None:
        return cfg
    models = {name: ({**spec, "pretrained": args.pretrained}
                     if spec.get("type") in ("cloud", "cloud_debye") else spec)
              for name, spec in cfg.get("models", {}).items()}
    return {**cfg, "models": models}


class TaskRun:
    """One task of a run: its data, its jobs, and its entry of the summary."""

    def __init__(self, task, args, layers, group: distributed.ProcessGroup):
        self.task, self.args, self.group = task, args, group
        self.cfg = task_config(layers, task.name, task.family, args.smoke)
        self.dir = args.out / task.name
        self._data: dict[str, TaskData] = {}

    def data(self, mode: str) -> TaskData:
        """The task's data in a SCOPE mode; the main process encodes (and caches) first."""
        if mode not in self._data:
            self._data[mode] = self.group.main_first(
                lambda: self.task.load(self.args.data_dir, mode, not self.args.no_progress))
        return self._data[mode]

    def folds(self) -> list[int]:
        return [int(k) for k in self.args.folds.split(",")] if self.args.folds else (
            self.cfg["folds"])

    def models(self, wanted):
        """The task's models (:class:`benchmarks.config.TaskModels`), validated."""
        if not hasattr(self, "_models"):
            self._models = task_models(self.cfg, self.task.name, self.task.kind, wanted)
        return self._models

    def plan(self, wanted, entry: dict) -> tuple[dict[str, list[Job]], dict[str, dict]]:
        """Per model, its jobs; and the stored results that are reused."""
        jobs: dict[str, list[Job]] = {}
        reused: dict[str, dict] = {}
        for name, model in self.models(wanted).specs.items():
            spec = model.config
            mode = model_scope_mode(self.cfg, spec)
            data = self.data(mode)
            if problem := scope_mode_problem(data, mode) or input_problem(data, model.input):
                entry.setdefault("skipped_models", {})[name] = problem
                print(f"[{self.task.name}] {name} skipped: {problem}", file=sys.stderr)
                continue
            jobs[name], reused[name] = [], {}
            for k in self.folds():
                if k >= len(data.folds):
                    raise UsageError(f"{self.task.name} has folds 0-{len(data.folds) - 1}, "
                                     f"not {k}")
                fold = smoke_fold(data.folds[k], self.cfg, seed=k) if self.args.smoke else (
                    data.folds[k])
                fspec = model_spec(spec, k, self.args)
                key, parts = job_key(self.task, data, fspec, k, fold, self.args.smoke)
                job = Job(self.task.name, name, fspec, k, fold,
                          self.dir / name / f"fold_{k}.json", mode, key, parts)
                record, why = (None, "--force") if self.args.force else stored_result(
                    job, keyless_ok=self.args.report_only)
                if record is not None:
                    reused[name][k] = record
                elif self.args.report_only and job.trains_network:
                    entry.setdefault("missing_folds", {}).setdefault(name, []).append(k)
                else:
                    if job.result_path.exists() and self.group.is_main:
                        print(f"[{self.task.name}] {name} fold {k}: recomputing ({why})",
                              file=sys.stderr)
                    jobs[name].append(job)
        return jobs, reused

    def write_input_errors(self, data: TaskData) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "input_errors.csv", "w", newline="") as fh:
            csv.writer(fh).writerows([("id", "kind", "message"), *data.errors])


def run_task(task, args, layers, summary: dict, family_results: dict,
             group: distributed.ProcessGroup, execute=None) -> None:
    """Load → plan → run the jobs (storing each record as it arrives) → summarise the task's
    models. ``execute``: the executor's (default: this process)."""
    from cloud.data import ChecksumError, DataMissingError

    t0 = time.perf_counter()
    run = TaskRun(task, args, layers, group)
    entry = summary["tasks"].setdefault(task.name, {"family": task.family})
    if args.smoke:
        task.use_smoke_sample(run.cfg.get("max_train_rows", 240),
                              run.cfg.get("max_test_rows", 80))
    try:
        data = run.data(run.cfg.get("scope_mode", "paper"))
    except (DataMissingError, ChecksumError) as exc:
        entry.update(status="skipped", reason=str(exc))
        print(f"[{task.name}] skipped: {str(exc).splitlines()[0]}", file=sys.stderr)
        return
    entry.update(status="done", source=data.source, coverage=data.coverage,
                 partial=data.partial, n_rows=len(data.ids), n_total=data.n_total,
                 n_input_errors=len(data.errors), checksums=data.checksums, models={})
    if group.is_main:
        run.write_input_errors(data)
    wanted = args.models.split(",") if args.models else None
    jobs, results = run.plan(wanted, entry)
    all_jobs = [j for js in jobs.values() for j in js]
    if execute is None:
        from benchmarks.executors.local import execute
    records = execute(all_jobs, group, task, lambda j: run.data(j.scope_mode), args.force,
                      not args.no_progress, on_record=store_record)
    if not group.is_main:
        return
    for job, record in zip(all_jobs, records, strict=True):
        if record["status"] == "done":
            results[job.model][job.fold_index] = record
        else:
            entry.setdefault("failed", {}).setdefault(job.model, {})[job.fold_index] = (
                record["error"])
    for name in jobs:
        summarise_model(task, run, name, results[name], entry, family_results)
    entry["rows"] = row_status(run, wanted, entry)
    entry["time_s"] = time.perf_counter() - t0


def row_status(run: TaskRun, wanted, entry: dict) -> dict[str, dict]:
    """Each requested model's row of this task: done, failed (which folds, why) or skipped
    (why)."""
    rows = {}
    models = run.models(wanted)
    for name in models.names:
        if name in entry.get("failed", {}):
            rows[name] = {"status": "failed", "reason": "; ".join(
                f"fold {k}: {e}" for k, e in sorted(entry["failed"][name].items()))}
        elif name in entry["models"]:
            rows[name] = {"status": "done"}
        elif name in entry.get("skipped_models", {}):
            rows[name] = {"status": "skipped", "reason": entry["skipped_models"][name]}
        elif name in models.not_here:
            rows[name] = {"status": "skipped", "reason": models.not_here[name]}
    return rows


def store_record(job: Job, record: dict) -> None:
    """Write a job's record: its fold file (then its training weights go) or its error."""
    if record["status"] == "done":
        write_json_atomic(job.result_path, record)
        job.error_path.unlink(missing_ok=True)
        drop_weights(job)
    else:
        write_json_atomic(job.error_path, record)


def summarise_model(task, run: TaskRun, name: str, results: dict, entry: dict,
                    family_results: dict) -> None:
    """A model's summary entry, parity plot and attention report from its fold records."""
    missing = entry.get("missing_folds", {}).get(name, [])
    if not results:
        if missing:
            entry.setdefault("skipped_models", {})[name] = (
                f"--report-only: no finished fold in {run.dir / name}")
        return
    first = next(iter(results.values()))
    spec = first["config"]
    description = describe_model(spec, run.args.smoke, first.get("encoder"))
    if failed := entry.get("failed", {}).get(name):
        description += f"; folds {sorted(failed)} failed"
    if [k for k in missing if k not in task.extra_folds]:
        description += f"; only folds {sorted(results)} of {run.folds()} finished"
    cv = {k: r for k, r in results.items() if k not in task.extra_folds} or results
    data = run.data(model_scope_mode(run.cfg, spec))
    entry["models"][name] = {**model_summary(cv), "type": spec["type"], "coverage": data.coverage,
                             "description": description,
                             **({"encoder": first["encoder"]} if first.get("encoder") else {}),
                             "trained_on": sorted({r.get("device", "not recorded")
                                                   for r in results.values()})}
    extra = {f"{task.extra_folds[k]} (fold {k})": results[k]["metrics"]
             for k in sorted(results) if k in task.extra_folds and cv is not results}
    if extra:  # e.g. the phonon tasks' original split, never averaged into the CV mean
        entry["models"][name]["extra_folds"] = extra
    if missing:
        entry["models"][name]["missing_folds"] = missing
    family_results.setdefault(task.name, {
        "partial": data.partial, "models": {},
        "targets": dict(zip(data.ids, data.targets.tolist(), strict=True))})
    family_results[task.name]["models"][name] = results
    family_results[task.name].setdefault("data", {})[name] = data  # for row statistics
    ids = [i for r in results.values() for i in r["predictions"]]
    preds = np.array([p for r in results.values() for p in r["predictions"].values()])
    parity_plot(run.dir / f"parity_{name}.png", data.targets[data.rows(ids)], preds,
                f"{task.name} — {name}" + (" (SMOKE RUN)" if run.args.smoke else
                                            f" ({data.coverage})"), task.unit)
    if any(r.get("attention") for r in results.values()):  # attention: true (models)
        from benchmarks.reports.attention_report import write_attention_report

        report = write_attention_report(run.dir, task.name, name, results,
                                        entry["models"][name]["description"])
        entry["models"][name]["attention"] = str(report.relative_to(run.args.out))


def check_names(args, layers, tasks) -> None:
    """Every model to run resolves (its name, class, settings and the model protocol) before
    any work starts; a ``--models`` name that no selected task knows is a usage error."""
    from benchmarks.models.spec import is_model_entry

    wanted = args.models.split(",") if args.models else None
    known, unknown = {}, set(wanted or [])
    for t in tasks:
        cfg = task_config(layers, t.name, t.family, args.smoke)
        unknown &= set(task_models(cfg, t.name, t.kind, wanted).unknown)
        known.update(dict.fromkeys(n for n, e in cfg["models"].items() if is_model_entry(e)))
    if unknown:
        raise UsageError(f"unknown model {', '.join(repr(m) for m in wanted if m in unknown)} "
                         f"for the selected tasks: not configured ({', '.join(known)}), not an "
                         "installed plug-in, not module:Class")


def write_run_outputs(args, layers, tasks, summary, family_results, start) -> None:
    """Family files, summary.json, leaderboard.md and manifest.json (main process)."""
    from cloud.manifest import write_manifest

    args.out.mkdir(parents=True, exist_ok=True)
    for family in dict.fromkeys(t.family for t in tasks):
        members = [t for t in tasks if t.family == family]
        results = {t.name: family_results[t.name] for t in members if t.name in family_results}
        if results:
            summary.setdefault("family_outputs", {})[family] = [
                str(p) for p in members[0].write_family_outputs(args.out, results)]
    write_json_atomic(args.out / PARITY_FILE,
                      add_row_statistics(summary, tasks, family_results, args.out), indent=None)
    write_summary(args.out, summary)
    (args.out / "leaderboard.md").write_text(leaderboard_markdown(summary, tasks))
    write_manifest(args.out / "manifest.json",
                   config={t.name: with_pretrained(task_config(layers, t.name, t.family,
                                                               args.smoke), args)
                           for t in tasks},
                   data={f"{n}:{f}": c for n, e in summary["tasks"].items()
                         for f, c in e.get("checksums", {}).items()},
                   seeds={"train": "per model config (train.seed)", "smoke_folds": "fold index"},
                   timings={"total_s": time.perf_counter() - start,
                            **{n: e.get("time_s") for n, e in summary["tasks"].items()}},
                   processes={"world_size": summary["run"]["processes"],
                              "distribute": args.distribute},
                   encoders={f"{n}:{m}": s["encoder"] for n, e in summary["tasks"].items()
                             for m, s in e.get("models", {}).items() if s.get("encoder")},
                   args={k: ",".join(map(str, v)) if isinstance(v, list) else str(v)
                         for k, v in vars(args).items()})


def main(argv=None) -> int:
    from cloud.manifest import build_manifest

    args = parse_args(argv)
    from cloud.logging_setup import quiet_third_party

    quiet_third_party()
    try:
        layers = load_layers(args.config)
        tasks = select(args.task)
        check_names(args, layers, tasks)
        executors.check(args.executor, args.ray_address)
    except (UsageError, ModelError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    group = distributed.setup(args.distribute)
    start = time.perf_counter()
    base = build_manifest()
    summary = {"run": {"created": base["created"], "commit": base["git"]["commit"],
                       "device": device_name(base["device"]), "smoke": args.smoke,
                       "task": args.task, "processes": group.world_size},
               "tasks": {}}
    family_results: dict[str, dict] = {}
    try:
        with executors.session(args.executor, args.ray_address) as execute:
            for task in tasks:
                run_task(task, args, layers, summary, family_results, group, execute)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not group.is_main:
        return 0
    rows = account(summary)
    summary["account"] = {k: [list(r) for r in v] for k, v in rows.items()}
    write_run_outputs(args, layers, tasks, summary, family_results, start)
    print(f"{account_line(rows)}; reports in {args.out}", file=sys.stderr)
    if rows["failed"] or not rows["done"]:
        return 1
    return 1 if rows["skipped"] and not args.allow_skips else 0


if __name__ == "__main__":
    raise SystemExit(main())
