"""Input-ablation models derived from a task's CLOUD model (benchmarks/config.py).

``ablations: {of: <model>, inputs: [...]}`` adds ``<of>_<input>`` models: copies of the fully
merged ``<of>`` spec minus ``NOT_INHERITED``, with only the input changed. Checked on
hand-written layers and on the committed configs (default, cpu_budget, gpu).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from benchmarks.config import NOT_INHERITED, load_layers, task_config, with_ablation_models

CONFIGS = Path(__file__).resolve().parents[1] / "benchmarks" / "configs"
INPUTS = ["sg_number", "no_wyckoff", "no_composition", "canonical"]
TRANSFORMED = ["sg_number", "no_wyckoff", "no_composition"]


def _layers() -> dict:
    """A small hand-written config: defaults, a family, a task and a smoke layer."""
    return {
        "defaults": {
            "scope_mode": "paper",
            "folds": [0, 1],
            "ablations": {"of": "cloud", "inputs": ["sg_number", "canonical"]},
            "models": {
                "cloud": {"type": "cloud", "pretrained": "default", "preset": "small",
                          "train": {"epochs": 10, "batch_size": 8, "lr": 1e-4}},
                "dummy": {"type": "dummy"},
            },
        },
        "families": {"fam": {"models": {"cloud": {"train": {"epochs": 20}}}}},
        "tasks": {"t1": {"models": {"cloud": {
            "attention": True, "keep_model": True, "keep_model_folds": [0],
            "analysis": {"x": 1}, "head_dropout": 0.3, "train": {"batch_size": 16}}}}},
        "smoke": {"models": {"cloud": {"preset": "tiny", "train": {"epochs": 2}}}},
    }


# --- with_ablation_models on hand-written dicts ----------------------------------------------


def test_copies_fully_merged_model_minus_not_inherited():
    cfg = task_config(_layers(), "t1", "fam")
    models = cfg["models"]
    assert list(models) == ["cloud", "dummy", "cloud_sg_number", "cloud_canonical"]
    base = {k: v for k, v in models["cloud"].items() if k not in NOT_INHERITED}
    # merged through defaults <- family <- task
    assert base["train"] == {"epochs": 20, "batch_size": 16, "lr": 1e-4}
    assert base["head_dropout"] == 0.3
    assert models["cloud_sg_number"] == {**base, "input_transform": "sg_number"}
    assert models["cloud_canonical"] == {**base, "input_transform": None,
                                         "scope_mode": "canonical"}
    for name in ("cloud_sg_number", "cloud_canonical"):
        assert not set(NOT_INHERITED) & set(models[name]), name
    # the original model keeps what its copies drop, and the dummy is untouched
    assert models["cloud"]["attention"] is True and models["cloud"]["keep_model_folds"] == [0]
    assert "input_transform" not in models["cloud"]
    assert models["dummy"] == {"type": "dummy"}


def test_not_inherited_keys():
    assert set(NOT_INHERITED) == {"attention", "keep_model", "keep_model_folds", "analysis"}


def test_copies_are_independent_of_the_original():
    cfg = task_config(_layers(), "t1", "fam")
    cfg["models"]["cloud_sg_number"]["train"]["epochs"] = 999
    assert cfg["models"]["cloud"]["train"]["epochs"] == 20
    assert cfg["models"]["cloud_canonical"]["train"]["epochs"] == 20


def test_input_does_not_mutate_its_argument():
    cfg = {"ablations": {"of": "cloud", "inputs": ["no_wyckoff"]},
           "models": {"cloud": {"type": "cloud", "attention": True, "train": {"epochs": 3}}}}
    before = copy.deepcopy(cfg)
    out = with_ablation_models(cfg)
    assert cfg == before
    assert "cloud_no_wyckoff" in out["models"] and "cloud_no_wyckoff" not in cfg["models"]


def test_smoke_settings_reach_the_copies():
    cfg = task_config(_layers(), "t1", "fam", smoke=True)
    for name in ("cloud", "cloud_sg_number", "cloud_canonical"):
        spec = cfg["models"][name]
        assert spec["preset"] == "tiny" and spec["train"]["epochs"] == 2, name
        assert spec["train"]["batch_size"] == 16, name


def test_explicit_model_of_that_name_is_merged_over_the_copy():
    layers = _layers()
    layers["tasks"]["t1"]["models"]["cloud_sg_number"] = {
        "head_dropout": 0.0, "train": {"lr": 5e-4}, "note": "mine"}
    spec = task_config(layers, "t1", "fam")["models"]["cloud_sg_number"]
    assert spec["head_dropout"] == 0.0 and spec["note"] == "mine"
    assert spec["train"] == {"epochs": 20, "batch_size": 16, "lr": 5e-4}  # deep merge
    assert spec["input_transform"] == "sg_number" and spec["type"] == "cloud"
    # the override may also change the input itself
    layers["tasks"]["t1"]["models"]["cloud_canonical"] = {"scope_mode": "paper"}
    assert task_config(layers, "t1", "fam")["models"]["cloud_canonical"]["scope_mode"] == "paper"


def test_all_transform_inputs():
    cfg = {"ablations": {"of": "m", "inputs": INPUTS},
           "models": {"m": {"type": "cloud", "train": {"epochs": 1}}}}
    out = with_ablation_models(cfg)
    assert list(out["models"]) == ["m", *(f"m_{i}" for i in INPUTS)]
    for name in TRANSFORMED:
        assert out["models"][f"m_{name}"] == {"type": "cloud", "train": {"epochs": 1},
                                              "input_transform": name}


def test_of_defaults_to_cloud():
    cfg = {"ablations": {"inputs": ["no_composition"]}, "models": {"cloud": {"type": "cloud"}}}
    assert with_ablation_models(cfg)["models"]["cloud_no_composition"] == {
        "type": "cloud", "input_transform": "no_composition"}


def test_unknown_input_raises():
    cfg = {"ablations": {"of": "cloud", "inputs": ["sg_number", "no_such_input"]},
           "models": {"cloud": {"type": "cloud"}}}
    with pytest.raises(ValueError, match="no_such_input") as err:
        with_ablation_models(cfg)
    assert "canonical" in str(err.value)  # the choices are named
    layers = _layers()
    layers["tasks"]["t1"]["ablations"] = {"inputs": ["bogus"]}
    with pytest.raises(ValueError, match="bogus"):
        task_config(layers, "t1", "fam")
    task_config(layers, "t2", "fam")  # another task is not affected


@pytest.mark.parametrize("spec", [
    {"of": "absent", "inputs": ["sg_number"]},  # <of> is not a model of the task
    {"of": "cloud", "inputs": []},              # inputs empty
    {"of": "cloud"},                            # no inputs
    None,                                       # no ablations at all
])
def test_nothing_added(spec):
    cfg = {"models": {"cloud": {"type": "cloud"}, "dummy": {"type": "dummy"}}}
    if spec is not None:
        cfg["ablations"] = spec
    out = with_ablation_models(cfg)
    assert out == cfg


def test_unknown_input_ignored_when_nothing_to_ablate():
    # with no <of> model the inputs are never looked at
    cfg = {"ablations": {"of": "absent", "inputs": ["bogus"]}, "models": {"cloud": {}}}
    assert with_ablation_models(cfg) == cfg


# --- the committed configs ------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_layers():
    return load_layers()


def test_default_jdft2d_ablations(default_layers):
    cfg = task_config(default_layers, "matbench_jdft2d", "matbench")
    models = cfg["models"]
    cloud = models["cloud"]
    assert cloud["attention"] is True
    for name in INPUTS:
        spec = models[f"cloud_{name}"]
        assert spec["train"] == cloud["train"], name
        assert spec["train"]["batch_size"] == 32 and spec["train"]["epochs"] == 200
        assert spec["type"] == "cloud" and spec["pretrained"] == "default"
        assert spec["head_hidden_sizes"] == [256]
        assert "attention" not in spec, name
        if name == "canonical":
            assert spec["input_transform"] is None and spec["scope_mode"] == "canonical"
        else:
            assert spec["input_transform"] == name and "scope_mode" not in spec
    assert sorted(m for m in models if m.startswith("cloud_")) == sorted(
        f"cloud_{i}" for i in INPUTS)


def test_default_phonon_ablates_cloud_debye(default_layers):
    cfg = task_config(default_layers, "cv", "phonon")
    models = cfg["models"]
    assert cfg["ablations"] == {"of": "cloud_debye", "inputs": INPUTS}
    assert cfg["folds"] == [0, 1, 2, 3, 4, 5]
    base = models["cloud_debye"]
    assert base["keep_model_folds"] == [0, 5] and "analysis" in base
    for name in INPUTS:
        spec = models[f"cloud_debye_{name}"]
        assert "keep_model_folds" not in spec and "analysis" not in spec, name
        assert spec["type"] == "cloud_debye" and spec["train"] == base["train"]
    assert models["cloud_debye_no_wyckoff"]["input_transform"] == "no_wyckoff"
    assert models["cloud_debye_canonical"]["scope_mode"] == "canonical"
    # CLOUD itself (predicting Cv directly) is not ablated in the phonon family
    assert not [m for m in models if m.startswith("cloud_") and not m.startswith("cloud_debye")]


def test_default_smoke_copies_carry_smoke_settings(default_layers):
    jdft = task_config(default_layers, "matbench_jdft2d", "matbench", smoke=True)["models"]
    cv = task_config(default_layers, "cv", "phonon", smoke=True)["models"]
    for models, of in ((jdft, "cloud"), (cv, "cloud_debye")):
        for name in INPUTS:
            spec = models[f"{of}_{name}"]
            assert spec["preset"] == "tiny" and spec["pretrained"] == "none", (of, name)
            assert spec["train"]["epochs"] == 2 and spec["train"]["lr"] == 1.0e-3
            assert spec["train"]["early_stopping_patience"] is None
            assert spec["train"] == models[of]["train"]


def test_cpu_budget_ablates_jdft2d_only():
    layers = load_layers(CONFIGS / "experiments" / "cpu_budget.yaml")
    from benchmarks.tasks import all_tasks

    with_ablations = []
    for task in all_tasks():
        cfg = task_config(layers, task.name, task.family)
        of = cfg["ablations"].get("of", "cloud")
        if any(f"{of}_{i}" in cfg["models"] for i in INPUTS):
            with_ablations.append(task.name)
    assert with_ablations == ["matbench_jdft2d"]
    jdft = task_config(layers, "matbench_jdft2d", "matbench")["models"]
    assert jdft["cloud"]["keep_model"] is True
    assert "keep_model" not in jdft["cloud_sg_number"]
    assert jdft["cloud_canonical"]["train"] == jdft["cloud"]["train"]
    assert jdft["cloud_no_wyckoff"]["train"]["epochs"] == 80
    assert jdft["cloud_no_wyckoff"]["train"]["mixed_precision"] == "bf16"
    assert task_config(layers, "cv", "phonon")["folds"] == [0, 1, 2, 3, 4]
    assert task_config(layers, "u", "phonon")["folds"] == [0, 1, 2, 3, 4]
    assert task_config(load_layers(), "cv", "phonon")["folds"] == [0, 1, 2, 3, 4, 5]


def test_gpu_batch_sizes():
    layers = load_layers(CONFIGS / "gpu.yaml")
    cv = task_config(layers, "cv", "phonon")["models"]
    for name in ["cloud_debye", *(f"cloud_debye_{i}" for i in INPUTS)]:
        assert cv[name]["train"]["batch_size"] == 128, name
        assert cv[name]["train"]["epochs"] == 200, name  # the rest is default.yaml's
    jdft = task_config(layers, "matbench_jdft2d", "matbench")["models"]
    for name in ["cloud", *(f"cloud_{i}" for i in INPUTS)]:
        assert jdft[name]["train"]["batch_size"] == 64, name
    assert task_config(layers, "cv", "phonon")["folds"] == [0, 1, 2, 3, 4, 5]
