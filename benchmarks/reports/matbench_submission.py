"""A model's MatBench leaderboard submission, made from a run: per model that ran all five
folds of complete MatBench tasks, ``<out>/matbench/``

- ``results_<model>.json.gz``: the results file (matbench 0.6 format, plain JSON as its
  ``to_file`` writes it, hyperparameters in every fold's ``parameters``);
- ``matbench_v0.1_<Algorithm>/``: the folder the leaderboard takes: ``results.json.gz``,
  ``info.json`` (authors, algorithm, description, references, notes with the
  hyperparameters, requirements), ``run_<algorithm>.py`` (the command that made it) and
  ``README.md`` (the scores of the run, how to load the file, what is left to fill in).

A plug-in's authors, references and description are not known to the suite: they are written
as ``FILL IN: ...`` and listed in the README.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from benchmarks.metrics import summarize_folds
from benchmarks.reports.cost import cost_cells, model_cost, read_fold_devices
from benchmarks.reports.matbench_results import (
    CLOUD_BIBTEX,
    info_json,
    write_matbench_results,
    write_submission_folder,
)

FILL_IN = "FILL IN"
RUN_KEYS = ("type", "class", "keep_model", "keep_model_folds", "analysis", "module_sha256",
            "resources")


def algorithm_name(model: str) -> str:
    """The leaderboard's algorithm name of a run's model (``CLOUD`` for ``cloud``)."""
    if model == "cloud":
        return "CLOUD"
    last = re.sub(r"[^A-Za-z0-9_]", "_", model.rsplit(".", 1)[-1])
    return last[:1].upper() + last[1:]


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
    if kind.startswith("cloud"):
        return info_json(authors="Changwen Xu, Shang Zhu, Venkatasubramanian Viswanathan",
                         algorithm=algorithm_name(model), notes=notes), []
    if kind == "plugin":
        fill = ["authors", "algorithm_long", "bibtex_refs"]
        return info_json(authors=f"{FILL_IN}: authors", algorithm=algorithm_name(model),
                         algorithm_long=f"{FILL_IN}: a description of {config['class']}",
                         bibtex_refs=f"{FILL_IN}: BibTeX of the model's paper",
                         notes=notes), fill
    return info_json(authors="CLOUD benchmark suite", algorithm=algorithm_name(model),
                     algorithm_long=f"Baseline '{kind}' of the CLOUD benchmark suite",
                     bibtex_refs=CLOUD_BIBTEX, notes=notes), []


def command_line(model: str, config: dict, tasks: list[str]) -> str:
    name = config["class"] if config.get("type") == "plugin" and model == config[
        "class"].replace(":", ".") else model
    return f"python benchmarks/run.py --task {','.join(tasks)} --models {name}"


def readme(model: str, info: dict, records: dict, command: str, fill: list[str],
           commit: str, fold_devices: dict | None = None) -> str:
    """The folder's README: what ran, its scores, how to load the file, what to fill in."""
    lines = [f"# {info['algorithm']} on MatBench v0.1", "",
             f"Model `{model}` of the CLOUD benchmark suite; made by `{command}` at commit "
             f"`{commit}` (`benchmarks/run.py` of that commit: "
             f"`git show {commit}:benchmarks/run.py`).", "",
             "| task | MAE (mean ± std over 5 folds) | RMSE | training rows per fold | "
             "train s (median / total) | device | parameters | epochs |",
             "|---|---|---|---|---|---|---|---|"]
    for task, folds in records.items():
        s = summarize_folds([folds[k]["metrics"] for k in sorted(folds)])
        n_train = sorted({folds[k].get("n_train") for k in folds})
        cost = cost_cells(model_cost(folds, fold_devices or {}))
        lines.append(f"| {task} | {s['mae']['mean']:.4g} ± {s['mae']['std']:.4g} | "
                     f"{s['rmse']['mean']:.4g} | {', '.join(map(str, n_train))} | "
                     f"{cost['train_s']} | {cost['device']} | {cost['params']} | "
                     f"{cost['epochs']} |")
    lines += ["", "Files: `results.json.gz` (matbench 0.6 format: plain JSON whatever the name, "
              "as matbench's own `to_file` writes it), `info.json`, "
              f"`run_{info['algorithm'].lower()}.py`.", "",
              "Load and check it with the matbench package:", "", "```python",
              "from matbench.bench import MatbenchBenchmark",
              'mb = MatbenchBenchmark.from_file("results.json.gz")',
              "assert mb.is_valid and mb.is_recorded",
              "print(mb.scores)", "```", ""]
    if fill:
        lines += ["To fill in by hand before submitting (in `info.json`): "
                  + ", ".join(f"`{f}`" for f in fill) + ".", ""]
    lines += ["Submitting: copy this folder to `benchmarks/` of a fork of "
              "https://github.com/materialsproject/matbench and open a pull request.", ""]
    return "\n".join(lines)


def write_model_submission(base: Path, model: str, preds: dict, targets: dict, folds: dict,
                           records: dict) -> list[Path]:
    """The results file and the submission folder of one model (see the module docstring)."""
    from cloud.manifest import git_state

    commit = git_state()["commit"] or "unknown"
    config = next(iter(next(iter(records.values())).values()))["config"]
    tasks = list(preds)
    path = base / f"results_{model}.json.gz"
    params = hyperparameters(config)
    write_matbench_results(path, preds, targets=targets, folds=folds,
                           parameters={t: params for t in tasks},
                           user_metadata={"model": model, "script": "benchmarks/run.py"})
    info, fill = model_info(model, config, tasks)
    algorithm = info["algorithm"]
    command = command_line(model, config, tasks)
    folder = base / f"matbench_v0.1_{algorithm}"
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / f"run_{algorithm.lower()}.py"
        script.write_text(f'"""Reproduce {model} on MatBench v0.1 with the CLOUD benchmark '
                          f'suite."""\n\nimport shlex\nimport subprocess\n\nsubprocess.run('
                          f"shlex.split({command!r}), check=True)\n")
        write_submission_folder(folder, path, info, commit, script=script)
    (folder / "README.md").write_text(readme(model, info, records, command, fill, commit,
                                             read_fold_devices(base.parent)))
    return [path, folder]
