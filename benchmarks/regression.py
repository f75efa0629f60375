"""CI regression stage: every task in ``--smoke`` mode against a committed baseline.

``python benchmarks/regression.py check``  runs ``benchmarks/run.py --task all --smoke`` (fixed
seeds: the smoke folds are seeded by fold index, every model by its config) into a temporary
directory and compares each task's status, rows, input checksums and every metric of every
model and fold with ``benchmarks/regression_baseline.json``. Metrics may move by the
tolerance stated in that file (``|now - baseline| <= atol + rtol * |baseline|``); anything
else that differs (a metric beyond it, a task skipped <-> done, a model or task added or
gone, other input rows) fails with a table of what moved (exit status 1).

``python benchmarks/regression.py update`` runs the same and rewrites the baseline: the only
way the baseline changes. ``update --models a,b`` re-records only those models' entries (their
metrics and kinds in every task) and keeps everything else as it was: for a change meant to
move one model's numbers. ``update --tasks a,b`` re-records only those tasks' entries (status,
rows, checksums, every model): for a task added to the suite. ``--summary FILE`` compares (or
records) an existing ``summary.json`` of such a run instead of running one.

The run sees only the data directory (``--data-dir``, else ``$CLOUD_DATA_DIR``, else
``../shared/data``): the download cache is a fresh empty folder and downloads are switched
off (http(s) proxies pointed at a closed local port), so a task's status never depends on
the network or on what a machine downloaded before.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASELINE = Path(__file__).with_name("regression_baseline.json")
# measured spread between machines, per model kind and metric (benchmarks/regression_spread.py)
TOLERANCE_FILE = Path(__file__).with_name("regression_tolerance.json")
RUN_ARGS = ["--smoke", "--no-progress", "--allow-skips"]  # with --task all
# CPU runs with fixed seeds repeat bit for bit on one machine (tests/test_regression_stage.py);
# other CPUs may pick other float kernels (SIMD width, reduction order): see the README.
TOLERANCE = {"rtol": 1e-3, "atol": 1e-4}
EXACT = ("status", "n_rows", "n_input_errors")  # per-task facts that must not move at all


def default_data_dir() -> Path:
    env = os.environ.get("CLOUD_DATA_DIR")
    return Path(env).expanduser() if env else REPO.parent / "shared" / "data"


def offline_env(download_cache: Path, scope_cache: str | None = None) -> dict[str, str]:
    """Environment of a child run that sees only its data directory: an empty download cache,
    downloads refused at once, the SCOPE cache kept (or ``scope_cache``: a folder or off)."""
    from benchmarks.tasks.scope_inputs import ENV_SCOPE_CACHE, scope_cache_dir

    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "all_proxy")}
    dead = "http://127.0.0.1:9"  # the discard port: every download fails at once
    env.update(http_proxy=dead, https_proxy=dead, HTTP_PROXY=dead, HTTPS_PROXY=dead,
               PYTHONHASHSEED="0", CLOUD_CACHE_DIR=str(download_cache))
    if scope_cache is None:  # the user's SCOPE cache, although the download cache moves
        cache = scope_cache_dir()
        scope_cache = str(cache) if cache is not None else "off"
    env[ENV_SCOPE_CACHE] = scope_cache
    return env


def run_command(out: Path, data_dir: Path, task: str = "all") -> list[str]:
    return [sys.executable, str(REPO / "benchmarks" / "run.py"), "--task", task, *RUN_ARGS,
            "--data-dir", str(data_dir), "--out", str(out)]


def run_smoke(out: Path, data_dir: Path) -> Path:
    """``benchmarks/run.py --task all --smoke`` in a child process, offline; its summary.json."""
    cmd = run_command(out, data_dir)
    print("regression stage: " + " ".join(cmd[1:]), file=sys.stderr, flush=True)
    subprocess.run(cmd, env=offline_env(out / "download-cache"), check=True, cwd=REPO)
    return out / "summary.json"


def extract(summary: dict) -> dict:
    """What the baseline keeps of a run's summary.json: per task its status, row counts, input
    checksums and the metrics of every model and fold."""
    tasks = {}
    for name, entry in sorted(summary["tasks"].items()):
        rec = {"status": entry.get("status")}
        if rec["status"] == "done":
            rec.update(n_rows=entry.get("n_rows"), n_input_errors=entry.get("n_input_errors"),
                       checksums=dict(sorted(entry.get("checksums", {}).items())),
                       models={m: {str(k): dict(sorted(v.items()))
                                   for k, v in sorted(r["folds"].items())}
                               for m, r in sorted(entry.get("models", {}).items())},
                       types={m: model_kind(r) for m, r in sorted(entry.get("models", {}).items())})
        tasks[name] = rec
    return tasks


def model_kind(summary_entry: dict) -> str:
    """``network`` (a model trained by gradient descent in torch) or ``deterministic`` (the
    baselines): their metrics move differently between machines (TOLERANCE_FILE)."""
    from benchmarks.models import for_type

    kind = summary_entry.get("type") or summary_entry.get("description", "").split(",")[0]
    return "network" if for_type(kind).trains_network else "deterministic"


def load_tolerances(path: Path = TOLERANCE_FILE) -> dict:
    """Per model kind and metric, ``{"rtol", "atol"}`` measured by ``regression.py spread``
    (empty when the file is absent: the baseline's own tolerance then applies)."""
    return json.loads(path.read_text()).get("tolerances", {}) if path.exists() else {}


def tolerance_of(baseline: dict, tolerances: dict, task: str, model: str, metric: str) -> dict:
    kind = baseline["tasks"].get(task, {}).get("types", {}).get(model)
    return tolerances.get(kind, {}).get(metric) or baseline["tolerance"]


def _close(base, now, tol: dict) -> bool:
    if base is None or now is None:
        return base is now
    if math.isnan(base) or math.isnan(now):
        return math.isnan(base) and math.isnan(now)
    return abs(now - base) <= tol["atol"] + tol["rtol"] * abs(base)


def compare(baseline: dict, tasks: dict, tolerances: dict | None = None) -> list[dict]:
    """Every difference between a baseline and a run's ``extract``; empty when all agree.
    A metric may move by its tolerance: per model kind and metric from ``tolerances``
    (:func:`load_tolerances`), else the baseline's own."""
    tolerances = {} if tolerances is None else tolerances
    rows: list[dict] = []

    def moved(task, what, base, now, model="", fold="", change=""):
        rows.append({"task": task, "model": model, "fold": fold, "what": what,
                     "baseline": base, "now": now, "change": change})

    old = baseline["tasks"]
    for task in sorted(set(old) | set(tasks)):
        if task not in tasks:
            moved(task, "task", old[task].get("status"), "absent", change="task gone")
            continue
        if task not in old:
            moved(task, "task", "absent", tasks[task].get("status"), change="new task")
            continue
        b, n = old[task], tasks[task]
        if b.get("status") != n.get("status"):  # skipped <-> done: the row counts go with it
            moved(task, "status", b.get("status"), n.get("status"), change="changed")
            continue
        for key in EXACT:
            if b.get(key) != n.get(key):
                moved(task, key, b.get(key), n.get(key), change="changed")
        if b.get("status") != "done":
            continue
        for f in sorted(set(b.get("checksums", {})) | set(n.get("checksums", {}))):
            if b["checksums"].get(f) != n["checksums"].get(f):
                moved(task, f"input {f}", b["checksums"].get(f), n["checksums"].get(f),
                      change="other data")
        for model in sorted(set(b["models"]) | set(n["models"])):
            if model not in n["models"] or model not in b["models"]:
                moved(task, "model", model if model in b["models"] else "absent",
                      model if model in n["models"] else "absent", model=model,
                      change="model gone" if model in b["models"] else "new model")
                continue
            bf, nf = b["models"][model], n["models"][model]
            for fold in sorted(set(bf) | set(nf)):
                bm, nm = bf.get(fold, {}), nf.get(fold, {})
                for metric in sorted(set(bm) | set(nm)):
                    x, y = bm.get(metric), nm.get(metric)
                    tol = tolerance_of(baseline, tolerances, task, model, metric)
                    if metric not in bm or metric not in nm or not _close(x, y, tol):
                        change = "" if x is None or y is None else (
                            f"{y - x:+.4g}" + (f" ({(y - x) / abs(x):+.2%})" if x else ""))
                        moved(task, metric, x, y, model=model, fold=fold, change=change)
    return rows


def format_table(rows: list[dict], tol: dict, recorded: dict | None = None) -> str:
    """The differences as a table; with ``recorded`` (the baseline's versions), the library
    versions that differ from the baseline's are named (a likely cause)."""
    import pandas as pd

    head = (f"{len(rows)} value(s) differ from {BASELINE.name} (metrics may move by their "
            f"tolerance in {TOLERANCE_FILE.name}, else atol {tol['atol']:g} + rtol "
            f"{tol['rtol']:g} x |baseline|):")
    table = pd.DataFrame(rows).to_markdown(index=False, floatfmt=".6g")
    versions = ""
    if recorded:
        now = library_versions()
        moved = [f"{k} {recorded[k]} -> {now[k]}" for k in now
                 if k in recorded and recorded[k] != now[k]]
        if moved:
            versions = ("\n\nLibrary versions differ from the baseline's: " + ", ".join(moved)
                        + " (install the recorded versions to compare like with like).")
    return (f"{head}\n\n{table}{versions}\n\nIf this change is intended, record it with: "
            "python benchmarks/regression.py update")


def library_versions() -> dict:
    import numpy
    import sklearn
    import torch

    from cloud.manifest import versions

    found = versions()
    return {"python": found["python"], "torch": torch.__version__, "numpy": numpy.__version__,
            "sklearn": sklearn.__version__, "pymatgen": found.get("pymatgen"),
            "spglib": found.get("spglib"), "transformers": found.get("transformers")}


def build_baseline(summary: dict) -> dict:
    return {"about": "CI regression baseline: benchmarks/run.py --task all " + " ".join(RUN_ARGS)
                     + " on ../shared/data; written by `python benchmarks/regression.py update`",
            "tolerance": {**TOLERANCE, "rule": "|now - baseline| <= atol + rtol * |baseline|, "
                                               "for every metric; everything else exact"},
            "recorded": {"created": summary["run"].get("created"),
                         "commit": summary["run"].get("commit"),
                         "device": summary["run"].get("device"),
                         **library_versions()},
            "tasks": extract(summary)}


def update_models(baseline: dict, tasks: dict, models: list[str]) -> tuple[dict, int]:
    """``baseline`` with the entries of ``models`` taken from a run's ``extract`` (every task
    where the run has them), everything else kept; and the number of metric values now."""
    out = json.loads(json.dumps(baseline))
    n = 0
    for name, task in tasks.items():
        old = out["tasks"].get(name)
        if task.get("status") != "done" or not old or old.get("status") != "done":
            continue
        for model in models:
            if model in task.get("models", {}):
                old["models"][model] = task["models"][model]
                old["types"][model] = task["types"][model]
                n += sum(len(v) for v in task["models"][model].values())
    if not n:
        raise SystemExit(f"the run has none of the models {models}")
    return out, n


def update_tasks(baseline: dict, tasks: dict, names: list[str]) -> dict:
    """``baseline`` with the entries of the tasks ``names`` taken from a run's ``extract``,
    every other task kept as it was."""
    unknown = sorted(set(names) - set(tasks))
    if unknown:
        raise SystemExit(f"the run has none of the tasks {unknown}")
    out = json.loads(json.dumps(baseline))
    out["tasks"].update({name: tasks[name] for name in names})
    out["tasks"] = dict(sorted(out["tasks"].items()))
    return out


def _listed(text: str) -> list[str]:
    """The names of a comma-separated option."""
    return [name.strip() for name in text.split(",") if name.strip()]


def load_baseline(path: Path = BASELINE) -> dict:
    if not path.exists():
        raise SystemExit(f"no baseline at {path}: record one with "
                         "`python benchmarks/regression.py update`")
    return json.loads(path.read_text())


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example:\n"
               "  python benchmarks/regression.py check --data-dir ../shared/data\n"
               "  python benchmarks/regression.py update   # record a new baseline\n"
               "  python benchmarks/regression.py update --models debye_rf   # one model's\n"
               "  python benchmarks/regression.py update --tasks matbench_steels   # a new task",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=("check", "update"))
    p.add_argument("--baseline", type=Path, default=BASELINE)
    p.add_argument("--summary", type=Path, default=None,
                   help="an existing summary.json of such a run (skips the run)")
    p.add_argument("--out", type=Path, default=None, help="keep the run's outputs here")
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--models", default=None,
                   help="update: re-record only these models (comma-separated), keep the rest")
    p.add_argument("--tasks", default=None,
                   help="update: re-record only these tasks (comma-separated), keep the rest")
    p.add_argument("--tolerances", type=Path, default=TOLERANCE_FILE,
                   help="per model kind and metric tolerances (regression_spread.py)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from cloud.logging_setup import quiet_third_party

    quiet_third_party()  # also the defaults of the run's child process
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cloud-regression-") as tmp:
        summary_path = args.summary
        if summary_path is None:
            data_dir = args.data_dir or default_data_dir()
            if not data_dir.is_dir():
                print(f"data directory {data_dir} not found: the baseline was recorded on the "
                      "project's offline data; pass --data-dir or set CLOUD_DATA_DIR",
                      file=sys.stderr)
                return 2
            try:
                summary_path = run_smoke(args.out or Path(tmp) / "run", data_dir)
            except subprocess.CalledProcessError as exc:
                print(f"the smoke run failed (exit status {exc.returncode})", file=sys.stderr)
                return 2
        summary = json.loads(Path(summary_path).read_text())
    if args.command == "update" and args.tasks:
        names = _listed(args.tasks)
        baseline = update_tasks(load_baseline(args.baseline), extract(summary), names)
        args.baseline.write_text(json.dumps(baseline, indent=1, default=float) + "\n")
        print(f"baseline updated: {args.baseline} (tasks {', '.join(names)})")
        return 0
    if args.command == "update" and args.models:
        baseline, n = update_models(load_baseline(args.baseline), extract(summary),
                                    _listed(args.models))
        args.baseline.write_text(json.dumps(baseline, indent=1, default=float) + "\n")
        print(f"baseline updated: {args.baseline} ({args.models}: {n} metric values)")
        return 0
    if args.command == "update":
        baseline = build_baseline(summary)
        args.baseline.write_text(json.dumps(baseline, indent=1, default=float) + "\n")
        n = sum(len(f) for t in baseline["tasks"].values() for m in t.get("models", {}).values()
                for f in m.values())
        print(f"baseline written: {args.baseline} ({len(baseline['tasks'])} tasks, {n} metric "
              f"values, {time.perf_counter() - start:.0f} s)")
        return 0
    baseline = load_baseline(args.baseline)
    rows = compare(baseline, extract(summary), load_tolerances(args.tolerances))
    if rows:
        print(format_table(rows, baseline["tolerance"], baseline.get("recorded")))
        return 1
    n_tasks = len(baseline["tasks"])
    print(f"regression stage passed: {n_tasks} tasks agree with {args.baseline.name} "
          f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    if str(REPO) not in sys.path:  # `python benchmarks/regression.py` from a plain checkout
        sys.path.insert(0, str(REPO))
    raise SystemExit(main())
