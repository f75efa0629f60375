"""Models say what they are: the runner, reports and plans read a model's declarations
(benchmarks/models/declare.py), never its name. A plug-in declaring an encoder gets what
CLOUD gets; the built-ins' declarations give the job keys and descriptions they always had."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from benchmarks.models import declarations, describe_model, for_config, for_type, model_spec

REPO = Path(__file__).resolve().parents[1]
# packages of the suite; the model package alone may know its models by name
WALKED = ("benchmarks", "baselines", "cloud", "cloud_bench", "scripts")
MODEL_PACKAGE = REPO / "benchmarks" / "models"
# comparisons with "cloud" that are about something else than a model
NOT_MODEL_NAMES = {
    "cloud/model/encoder_checkpoint.py": "a checkpoint's config.json model_type (its format)",
    "cloud/model/finetuned.py": "a checkpoint's config.json model_type (its format)",
    "cloud/embeddings/encoder.py": "a checkpoint's config.json model_type (its format)",
}


def _names_cloud(node) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value == "cloud" or node.value.startswith("cloud_")
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_names_cloud(e) for e in node.elts)
    return False


def name_checks(tree: ast.AST) -> list[int]:
    """Lines comparing something with a "cloud..." string, or calling startswith on one."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
                _names_cloud(n) for n in [node.left, *node.comparators]):
            lines.append(node.lineno)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("startswith", "endswith")
              and any(_names_cloud(a) for a in node.args)):
            lines.append(node.lineno)
    return lines


def test_no_module_outside_the_model_package_tests_a_model_name():
    found = {}
    for top in WALKED:
        for path in sorted((REPO / top).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if MODEL_PACKAGE in path.parents or rel in NOT_MODEL_NAMES:
                continue
            if lines := name_checks(ast.parse(path.read_text(), rel)):
                found[rel] = lines
    assert found == {}


def test_the_walk_finds_a_name_check():
    assert name_checks(ast.parse('if spec["type"] in ("cloud", "cloud_debye"): pass')) == [1]
    assert name_checks(ast.parse('kind.startswith("cloud")')) == [1]
    assert name_checks(ast.parse('kind == "dummy"')) == []


def test_builtins_declare_what_the_name_checks_said():
    for kind in ("cloud", "cloud_debye"):
        d = for_type(kind)
        assert d.has_encoder and d.trains_network and d.submission["model_type"] == "Transformer"
    for kind in ("dummy", "composition_rf", "debye_rf", "plugin", None):
        assert not for_type(kind).has_encoder and not for_type(kind).trains_network
    assert for_type("composition_rf").submission["model_type"] == "RF"


class EncoderPlugin:
    """A plug-in with an encoder of its own: it declares it, and its key part."""

    input = "scope"
    has_encoder = True
    resources = {"num_cpus": 2}
    submission = {"authors": "A. Author", "model_type": "Transformer"}

    def __init__(self, checkpoint: str = "ckpt", pretrained=None):
        self.checkpoint, self.pretrained = checkpoint, pretrained

    def job_key_parts(self, settings):
        return {"encoder_sha256": f"weights of {self.checkpoint}"}

    def describe(self, settings, encoder=None):
        return f"my encoder {self.checkpoint}"

    def fit(self, X, y):
        return self

    def predict(self, X):
        return [0.0] * len(X)


def test_a_plugin_declaring_an_encoder_is_treated_as_one():
    spec = model_spec("mine", {"class": "tests.test_model_declarations:EncoderPlugin",
                               "params": {"checkpoint": "v2"}})
    d = spec.declarations
    assert d.has_encoder and d.trains_network and d.resources == {"num_cpus": 2}
    assert d.job_key_parts({}) == {"encoder_sha256": "weights of v2"}
    assert describe_model(spec.config, False, declared=d) == "my encoder v2"
    assert for_config(spec.config).has_encoder  # from its stored settings alone
    from benchmarks.config import has_encoder
    from benchmarks.plan import RunOptions, fold_spec, with_pretrained

    assert fold_spec(spec, 0, RunOptions(save_models=True))["keep_model"] is True
    cfg = with_pretrained({"models": {"mine": spec.config, "dummy": {"type": "dummy"}}}, "DIR")
    assert cfg["models"]["mine"]["params"] == {"checkpoint": "v2", "pretrained": "DIR"}
    assert "pretrained" not in cfg["models"]["dummy"]
    assert model_spec("mine", cfg["models"]["mine"]).build().pretrained == "DIR"
    assert has_encoder(spec.config) and not has_encoder({"type": "dummy"})


def test_plain_estimators_declare_nothing():
    d = declarations(object())
    assert (d.has_encoder, d.trains_network, d.resources, d.submission) == (False, False, {}, {})
    assert d.job_key_parts({"a": 1}) == {} and d.describe({}) is None


@pytest.mark.parametrize("spec, text", [
    ({"type": "cloud", "pretrained": "none", "preset": "tiny"}, "cloud, tiny from scratch"),
    ({"type": "cloud", "ensemble": 3}, "cloud, committed small encoder, ensemble of 3 seeds"),
    ({"type": "cloud_debye", "debye_loss": "log_theta"},
     "cloud_debye, committed small encoder, loss on log Θ"),
    ({"type": "dummy"}, "dummy"),
])
def test_descriptions_are_unchanged(spec, text):
    assert describe_model(spec, False) == text
    assert describe_model(spec, True) == text + ", smoke"
