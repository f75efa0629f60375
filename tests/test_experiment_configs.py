"""The configuration files: ``default.yaml`` holds the paper's models and the baselines;
each file under ``benchmarks/configs/experiments/`` loads over it, and an experiment file
adds the models its header names without changing any model of the defaults."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from benchmarks.config import CONFIGS, EXPERIMENTS, load_layers, runnable_models, task_config
from benchmarks.plan import check_names
from benchmarks.run import options, parse_args
from benchmarks.tasks import all_tasks

EXPERIMENT_FILES = sorted(EXPERIMENTS.glob("*.yaml"))
PAPER_MODELS = {"cloud", "cloud_debye_scratch", "cloud_debye", "dummy", "composition_rf",
                "debye_rf"}
ABLATION_INPUTS = ("sg_number", "no_wyckoff", "no_composition", "canonical")


def typed_models(layers: dict, smoke: bool = False) -> dict[str, dict[str, dict]]:
    """task -> the models it runs (their merged settings) under ``layers``."""
    return {t.name: runnable_models(task_config(layers, t.name, t.family, smoke), t.kind)
            for t in all_tasks()}


def header(path: Path) -> str:
    return "\n".join(line[1:].strip() for line in path.read_text().splitlines()
                     if line.startswith("#"))


def run_command(path: Path) -> list[str] | None:
    """The ``Run:`` command of a file's header, its continuation lines joined."""
    match = re.search(r"Run: (python .*?)(?:\n\(|\Z)", header(path), re.S)
    return shlex.split(match.group(1).replace("\n", " ")) if match else None


def test_default_runs_the_paper_models_their_ablations_and_the_baselines_only():
    for task, models in typed_models(load_layers()).items():
        allowed = PAPER_MODELS | {f"{of}_{i}" for of in ("cloud", "cloud_debye")
                                  for i in ABLATION_INPUTS}
        assert set(models) <= allowed, (task, sorted(set(models) - allowed))
        assert {"cloud", "dummy", "composition_rf"} <= set(models), task


@pytest.mark.parametrize("path", [CONFIGS / "default.yaml", CONFIGS / "gpu.yaml",
                                  *EXPERIMENT_FILES], ids=lambda p: p.name)
def test_no_config_names_an_issue_or_a_session(path):
    assert not re.search(r"issue|#\d|session", path.read_text(), re.I), path


def test_there_are_experiment_files():
    names = {p.stem for p in EXPERIMENT_FILES}
    assert {"log_theta", "ensemble", "element_features", "cpu_budget"} <= names


@pytest.mark.parametrize("path", EXPERIMENT_FILES, ids=lambda p: p.name)
def test_every_experiment_file_loads_for_every_task(path):
    assert isinstance(yaml.safe_load(path.read_text()), dict)
    layers = load_layers(path)
    for smoke in (False, True):
        for task, models in typed_models(layers, smoke).items():
            for name, spec in models.items():
                assert isinstance(spec.get("type"), str), (path.name, task, name)


@pytest.mark.parametrize("path", EXPERIMENT_FILES, ids=lambda p: p.name)
def test_an_experiment_adds_the_models_it_names_and_changes_no_default_model(path):
    default, layers = typed_models(load_layers()), typed_models(load_layers(path))
    added = set()
    for task, models in layers.items():
        added |= set(models) - set(default[task])
    command = run_command(path)
    if command is None:  # a compute profile: no model of its own
        assert not added, path.name
        return
    for task, models in default.items():
        assert {m: layers[task][m] for m in models} == models, (path.name, task)
    named = set(command[command.index("--models") + 1].split(","))
    assert added == named and all(name in header(path) for name in added), path.name


@pytest.mark.parametrize("path", [p for p in EXPERIMENT_FILES if run_command(p)],
                         ids=lambda p: p.name)
def test_the_run_command_of_an_experiment_resolves_its_models(path):
    argv = run_command(path)[2:]  # drop "python benchmarks/run.py"
    args = parse_args(argv)
    assert [str(c) for c in args.config] == [str(path.relative_to(CONFIGS.parents[1]))]
    from benchmarks.tasks import select

    tasks = select(args.task)
    check_names(options(args), load_layers(args.config), tasks)  # raises on an unknown model
    with pytest.raises(Exception, match="unknown model"):
        check_names(options(args), load_layers(), tasks)  # without the file: not configured


def test_a_profile_named_after_an_experiment_sets_its_budget():
    cpu = EXPERIMENTS / "cpu_budget.yaml"
    alone = typed_models(load_layers(cpu))["cv"]
    assert "cloud_debye_log" not in alone  # an entry without a type only carries settings
    both = typed_models(load_layers([EXPERIMENTS / "log_theta.yaml", cpu]))["cv"]
    assert both["cloud_debye_log"]["train"]["epochs"] == 20
    assert both["cloud_debye_log"]["debye_loss"] == "log_theta"
