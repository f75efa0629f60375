"""The unit of work of a benchmark run: one model trained and scored on one fold of a task.

A :class:`Job` names everything its result depends on; :func:`job_key` hashes that
(the model's settings, the encoder's weights, the task's data checksums, the fold's rows),
so a stored result is reused only when all of it is unchanged, never by name alone.
:func:`run_job` trains and scores one job and returns its record (or a failure record with
the traceback): it writes only into the job's own work folder (training checkpoints), so
jobs can run in any process; the driver writes the results.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import traceback
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from benchmarks.tasks.base import Fold, TaskAdapter, TaskData

# settings of a model that say what to keep or analyse after a fold, or what it runs on
# (an executor's resources), not what it predicts
NOT_IN_KEY = ("keep_model", "keep_model_folds", "analysis", "resources")
KEY_FILE = "job_key.txt"


@dataclass
class Job:
    task: str
    model: str
    spec: dict  # the model's merged settings, as it is trained
    fold_index: int
    fold: Fold
    result_path: Path  # <out>/<task>/<model>/fold_<k>.json
    scope_mode: str
    key: str = ""
    key_parts: dict | None = None
    # the model's validated spec, built once when the run is planned (None: from ``spec``)
    model_spec: object | None = None

    @property
    def declarations(self):
        from benchmarks.models.spec import for_config

        if self.model_spec is not None:
            return self.model_spec.declarations
        return for_config(self.spec)

    @property
    def work_dir(self) -> Path:
        """Training work folder of this job alone (checkpoints, metrics.csv)."""
        return self.result_path.with_name(f"fold_{self.fold_index}_train")

    @property
    def model_dir(self) -> Path:
        """Where the fine-tuned model is saved when the job keeps it."""
        return self.result_path.with_name(f"fold_{self.fold_index}_model")

    @property
    def error_path(self) -> Path:
        return self.result_path.with_name(f"fold_{self.fold_index}.error.json")

    @property
    def name(self) -> str:
        return f"{self.task} {self.model} fold {self.fold_index}"

    @property
    def trains_network(self) -> bool:
        return self.declarations.trains_network

    @property
    def cost(self) -> float:
        """A rough relative cost, to balance jobs across processes (longest first)."""
        if not self.trains_network:
            return 1e-3 * len(self.fold.train)
        train = self.spec.get("train") or {}
        return (len(self.fold.train) * float(train.get("epochs", 100))
                * int(self.spec.get("ensemble", 1)))


def encoder_checksum(pretrained) -> str | None:
    """sha256 of a checkpoint folder's weights and config (None: trained from scratch)."""
    if pretrained in (None, "none", "scratch"):
        return None
    path = Path(pretrained)
    files = sorted(p for p in path.iterdir()
                   if p.suffix in (".safetensors", ".bin") or p.name == "config.json")
    return _files_checksum(tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size)
                                 for p in files))


@cache
def _files_checksum(files: tuple) -> str:
    h = hashlib.sha256()
    for name, _, _ in files:
        h.update(Path(name).name.encode())
        with open(name, "rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def job_key(task: TaskAdapter, data: TaskData, spec: dict, fold_index: int, fold: Fold,
            smoke: bool, declared=None) -> tuple[str, dict]:
    """The hash of everything that determines a job's result, and its readable parts.
    ``declared``: the model's declarations (default: read off ``spec``); what its
    ``job_key_parts`` returns is added to the parts (e.g. an encoder counted by its weights,
    not its path)."""
    from benchmarks.models.spec import for_config

    settings = {k: v for k, v in spec.items() if k not in NOT_IN_KEY}
    rows = hashlib.sha256(json.dumps([fold.train, fold.test]).encode()).hexdigest()
    parts = {"task": task.name, "fold": fold_index, "smoke": smoke,
             "settings": settings, "encoder_sha256": None,
             "data_sha256": dict(sorted(data.checksums.items())),
             "scope_source": data.source, "fold_rows_sha256": rows,
             **(declared or for_config(spec)).job_key_parts(settings)}
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest(), parts


def stored_result(job: Job, keyless_ok: bool = False) -> tuple[dict | None, str]:
    """The stored record of ``job`` if it can be reused, else ``(None, why not)``.
    ``keyless_ok``: accept a record written before job keys existed (reporting on old runs,
    ``--report-only``); a record whose key differs is never reused."""
    if not job.result_path.exists():
        return None, "not run yet"
    try:
        record = json.loads(job.result_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        return None, f"stored result unreadable ({exc})"
    if record.get("job_key") is None:
        if keyless_ok:
            return record, "reused (written before job keys)"
        return None, "stored result has no job key (written by an older version)"
    if record["job_key"] != job.key:
        old = record.get("key_parts") or {}
        changed = sorted(k for k in set(old) | set(job.key_parts or {})
                         if old.get(k) != (job.key_parts or {}).get(k))
        return None, f"stored result was made with other {', '.join(changed) or 'settings'}"
    if job.spec.get("keep_model") and not job.model_dir.exists():
        return None, f"the fine-tuned model is wanted but {job.model_dir.name} is missing"
    return record, "reused"


def prepare_work_dir(job: Job, force: bool) -> None:
    """Start the job's work folder afresh when forced or when it holds another job's
    training; otherwise leave it, so an interrupted training resumes."""
    marker = job.work_dir / KEY_FILE
    stale = marker.exists() and marker.read_text().strip() != job.key
    if job.work_dir.exists() and (force or stale or not marker.exists()):
        shutil.rmtree(job.work_dir)
    job.work_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text(job.key + "\n")


def run_job(task: TaskAdapter, data: TaskData, job: Job, progress: bool) -> dict:
    """Train and score one job; its record (``status: done``) or a failure record
    (``status: failed`` with the error and traceback). Nothing but the work folder and the
    job's kept model is written."""
    from benchmarks.models.fold import fit_predict
    from cloud.manifest import device_name

    start = time.perf_counter()
    head = {**record_head(job), "started_unix": time.time()}  # when it began, for timelines
    try:
        out = fit_predict(task, data, job, progress)
        preds = np.asarray(out.pop("predictions"), dtype=float)
        if preds.shape != (len(job.fold.test),):
            raise ValueError(f"{job.model} returned {preds.shape} predictions for "
                             f"{len(job.fold.test)} test rows")
        metrics = task.fold_metrics(data, job.fold, preds)
    except Exception as exc:  # recorded, reported, and the run goes on with other jobs
        return failure_record(job, f"{type(exc).__name__}: {exc}", traceback.format_exc(),
                              time.perf_counter() - start)
    return {**head, "status": "done", "metrics": metrics,
            "predictions": dict(zip(job.fold.test, preds.tolist(), strict=True)),
            "time_s": time.perf_counter() - start, "config": job.spec,
            "device": device_name(), "job_key": job.key, "key_parts": job.key_parts,
            **{k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in out.items()}}


def record_head(job: Job) -> dict:
    return {"task": job.task, "model": job.model, "fold": job.fold_index,
            "n_train": len(job.fold.train), "n_test": len(job.fold.test)}


def failure_record(job: Job, error: str, trace: str, time_s: float) -> dict:
    """The record of a job that did not finish: its error and traceback (or, for a worker
    that died, what the executor knows)."""
    return {**record_head(job), "status": "failed", "error": error, "traceback": trace,
            "time_s": time_s, "job_key": job.key}


def drop_weights(job: Job) -> None:
    """After a job's result is stored: keep metrics.csv and trainer_state, drop weights."""
    for name in ("checkpoint", "best"):
        shutil.rmtree(job.work_dir / name, ignore_errors=True)
