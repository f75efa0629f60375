"""A run's MatBench leaderboard submissions: per model that ran all five folds of complete
MatBench tasks, under ``<out>/matbench/``

- ``results_<model>.json.gz``: the results file (gzip, the bytes matbench's ``to_file``
  writes; hyperparameters in every fold's ``parameters``);
- ``matbench_v0.1_<Algorithm>/``: the folder the leaderboard takes (see
  :mod:`benchmarks.reports.matbench_folder`): ``results.json.gz``, ``info.json``,
  ``run_<algorithm>.py`` (the command that made it) and ``README.md`` (the scores of the
  run, how to load the file, what is left to fill in);
- ``README.md``: which folders are submissions, and which models are not submitted because
  the board already has them as reference rows.

Models whose class declares ``matbench_reference = "<folder on the board>"`` (the suite's
dummy and random-forest baselines: the board's ``matbench_v0.1_dummy`` and
``matbench_v0.1_rf``) get a results file but no submission folder: a second "Dummy" would
collide with the board's. A plug-in's authors, references and description are not known to
the suite: they are written as ``FILL IN: ...`` and listed in the README (``cloud-bench
submit --submission-info FILE`` fills them).
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from benchmarks.metrics import summarize_folds
from benchmarks.models import for_config
from benchmarks.reports.matbench_folder import (
    CLOUD_BIBTEX,
    info_json,
    name_clash,
    write_submission_folder,
)
from benchmarks.reports.matbench_results import LOAD_WITH_MATBENCH_06, write_matbench_results

FILL_IN = "FILL IN"
RUN_KEYS = ("type", "class", "keep_model", "keep_model_folds", "analysis", "module_sha256",
            "resources")
SHOWN_METRICS = {"mae": "MAE", "rmse": "RMSE", "rocauc": "ROC-AUC", "accuracy": "accuracy"}


def algorithm_name(model: str, config: dict | None = None) -> str:
    """The leaderboard's algorithm name of a run's model: the one its type declares
    (``submission["algorithm"]``, e.g. ``CLOUD``) for the row named after its type, that name
    and the variant for a row ``<type>_<variant>`` (``CLOUD_no_wyckoff``), else the row name."""
    declared = for_config(config).submission.get("algorithm") if config else None
    if declared and model == config.get("type"):
        return declared
    if declared and model.startswith(f"{config.get('type')}_"):
        return declared + model.removeprefix(str(config.get("type")))
    last = re.sub(r"[^A-Za-z0-9_]", "_", model.rsplit(".", 1)[-1])
    return last[:1].upper() + last[1:]


def reference_row(config: dict) -> str | None:
    """The board's folder a model stands for (its class's ``matbench_reference``), or None."""
    from benchmarks.models.registry import class_path, load_object

    path = config.get("class") if config.get("type") == "plugin" else class_path(
        str(config.get("type")))
    if not path:
        return None
    try:
        return getattr(load_object(path), "matbench_reference", None)
    except Exception:  # a plug-in that no longer imports is still a submission candidate
        return None


def hyperparameters(config: dict) -> dict:
    """A model's settings without what only tells the runner what to keep."""
    if config.get("type") == "plugin":
        return dict(config.get("params") or {})
    return {k: v for k, v in config.items() if k not in RUN_KEYS}


def model_info(model: str, config: dict, tasks: list[str]) -> tuple[dict, list[str]]:
    """``info.json`` of a model and the fields its submitter must fill in by hand."""
    kind = config.get("type", model)
    params = json.dumps(hyperparameters(config), sort_keys=True)
    notes = (f"model '{model}' of the CLOUD benchmark suite (benchmarks/run.py), tasks: "
             f"{', '.join(tasks)}; hyperparameters: {params}")
    declared = for_config(config).submission
    if declared.get("authors"):  # a model of a published paper (CLOUD: its authors)
        return info_json(authors=declared["authors"], algorithm=algorithm_name(model, config),
                         notes=notes), []
    if kind == "plugin":
        fill = ["authors", "algorithm_long", "bibtex_refs"]
        what = config.get("class") or kind
        return info_json(authors=f"{FILL_IN}: authors", algorithm=algorithm_name(model),
                         algorithm_long=f"{FILL_IN}: a description of {what}",
                         bibtex_refs=f"{FILL_IN}: BibTeX of the model's paper",
                         notes=notes), fill
    return info_json(authors="CLOUD benchmark suite", algorithm=algorithm_name(model),
                     algorithm_long=f"Baseline '{kind}' of the CLOUD benchmark suite",
                     bibtex_refs=CLOUD_BIBTEX, notes=notes), []


def command_line(model: str, config: dict, tasks: list[str]) -> str:
    name = config["class"] if config.get("type") == "plugin" and model == config[
        "class"].replace(":", ".") else model
    return f"python benchmarks/run.py --task {','.join(tasks)} --models {name}"


def score_cells(folds: dict) -> tuple[str, str]:
    """The two shown metrics of a task's folds, as 'mean ± std' and 'mean'."""
    s = summarize_folds([folds[k]["metrics"] for k in sorted(folds)])
    first, second = [m for m in SHOWN_METRICS if m in s][:2]
    return (f"{SHOWN_METRICS[first]} {s[first]['mean']:.4g} ± {s[first]['std']:.4g}",
            f"{SHOWN_METRICS[second]} {s[second]['mean']:.4g}")


def readme(model: str, info: dict, records: dict, command: str, fill: list[str],
           commit: str) -> str:
    """The folder's README: what ran, its scores, how to load the file, what to fill in."""
    lines = [f"# {info['algorithm']} on MatBench v0.1", "",
             f"Model `{model}` of the CLOUD benchmark suite; made by `{command}` at commit "
             f"`{commit}` (`benchmarks/run.py` of that commit: "
             f"`git show {commit}:benchmarks/run.py`).", "",
             "| task | score (mean ± std over 5 folds) | | training rows per fold |",
             "|---|---|---|---|"]
    for task, folds in records.items():
        main, other = score_cells(folds)
        n_train = sorted({folds[k].get("n_train") for k in folds})
        lines.append(f"| {task} | {main} | {other} | {', '.join(map(str, n_train))} |")
    lines += ["", "Files: `results.json.gz` (gzip of the JSON matbench's own `to_file` writes), "
              f"`info.json`, `run_{info['algorithm'].lower()}.py`.", "",
              "Load and check it with the `matbench` of the leaderboard's repository (main "
              "branch, what its CI runs):", "", "```python",
              "from matbench.bench import MatbenchBenchmark",
              'mb = MatbenchBenchmark.from_file("results.json.gz")',
              "assert mb.is_valid and mb.is_recorded",
              "print(mb.scores)", "```", "",
              "With PyPI `matbench` 0.6 (its `from_file` reads plain text only):", "",
              "```python", *LOAD_WITH_MATBENCH_06.split("; "), "```", ""]
    if fill:
        lines += ["To fill in by hand before submitting (in `info.json`): "
                  + ", ".join(f"`{f}`" for f in fill) + ".", ""]
    lines += ["Submitting: copy this folder to `benchmarks/` of a fork of "
              "https://github.com/materialsproject/matbench and open a pull request "
              "(`cloud-bench submit RUN_DIR` checks it first).", ""]
    return "\n".join(lines)


def write_model_submission(base: Path, model: str, preds: dict, targets: dict, folds: dict,
                           records: dict, *, commit: str | None = None,
                           datestamp: str | None = None,
                           info_overrides: dict | None = None) -> tuple[list[Path], str | None]:
    """The results file and, unless the model is a reference row or its name is taken, the
    submission folder of one model; ``(paths, why no folder)``. ``commit``: the code that
    made the run (default: this checkout's); ``info_overrides``: a submitter's
    ``info.json`` fields (they leave the to-fill list)."""
    from cloud.manifest import git_state

    commit = commit or git_state()["commit"] or "unknown"
    config = next(iter(next(iter(records.values())).values()))["config"]
    tasks = list(preds)
    path = base / f"results_{model}.json.gz"
    params = hyperparameters(config)
    write_matbench_results(path, preds, targets=targets, folds=folds,
                           parameters={t: params for t in tasks}, datestamp=datestamp,
                           user_metadata={"model": model, "script": "benchmarks/run.py"})
    if ref := reference_row(config):
        return [path], (f"a reference row: the board already has it as {ref}; "
                        f"not submitted again")
    info, fill = model_info(model, config, tasks)
    info.update(info_overrides or {})
    fill = [f for f in fill if f not in (info_overrides or {})]
    algorithm = info["algorithm"]
    folder = base / f"matbench_v0.1_{algorithm}"
    if clash := name_clash(folder.name, algorithm):
        return [path], f"not written: {clash}; rename the model"
    command = command_line(model, config, tasks)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / f"run_{algorithm.lower()}.py"
        script.write_text(f'"""Reproduce {model} on MatBench v0.1 with the CLOUD benchmark '
                          f'suite."""\n\nimport shlex\nimport subprocess\n\nsubprocess.run('
                          f"shlex.split({command!r}), check=True)\n")
        write_submission_folder(folder, path, info, commit, script=script)
    (folder / "README.md").write_text(readme(model, info, records, command, fill, commit))
    return [path, folder], None


def index_readme(folders: list[Path], not_submitted: dict[str, str]) -> str:
    """``<out>/matbench/README.md``: the folders to submit and the models that are not."""
    lines = ["# MatBench leaderboard submissions of this run", ""]
    lines += [f"- `{f.name}/`: a submission folder (check it: `cloud-bench submit RUN_DIR`)"
              for f in folders] or ["No submission folder (no model ran all 5 folds of a "
                                    "complete task, or every model is a reference row)."]
    if not_submitted:
        lines += ["", "Not submitted (the run writes their `results_<model>.json.gz` for "
                  "comparison):"]
        lines += [f"- `{m}`: {why}" for m, why in not_submitted.items()]
    return "\n".join(lines) + "\n"


def write_run_submissions(base: Path, per_model: dict[str, tuple], **kwargs) -> list[Path]:
    """Every model's results file and submission folder (``per_model[model]`` is the
    ``(preds, targets, folds, records)`` of :func:`write_model_submission`, ``kwargs`` its
    keywords), plus the index README; the reasons a model has no folder are printed to
    stderr too."""
    import sys

    written, folders, not_submitted = [], [], {}
    for model, args in per_model.items():
        paths, why = write_model_submission(base, model, *args, **kwargs)
        written += paths
        folders += [p for p in paths if p.is_dir()]
        if why:
            not_submitted[model] = why
            print(f"[matbench] {model}: no submission folder ({why})", file=sys.stderr)
    if per_model:
        remove_stale_folders(base, folders)
        (base / "README.md").write_text(index_readme(folders, not_submitted))
        written.append(base / "README.md")
    return written


def remove_stale_folders(base: Path, keep: list[Path]) -> None:
    """Submission folders an earlier writing of this run left (e.g. a baseline's, before it
    became a reference row): the suite's own (its notes say so) and not written now."""
    import shutil

    for folder in base.glob("matbench_v0.1_*"):
        info = folder / "info.json"
        if folder in keep or not info.is_file():
            continue
        if "benchmarks/run.py" in json.loads(info.read_text()).get("notes", ""):
            shutil.rmtree(folder)


__all__ = ["CLOUD_BIBTEX", "algorithm_name", "model_info", "reference_row",
           "write_model_submission", "write_run_submissions"]
