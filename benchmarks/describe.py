"""One line describing a model of a leaderboard row: its type, size, encoder and inputs."""

from __future__ import annotations

from benchmarks.models import input_description


def describe_model(spec: dict, smoke: bool, encoder: dict | None = None) -> str:
    """Model size and encoder (``encoder``: the job record's, naming its tokenizer), for
    every reported number."""
    if spec["type"] not in ("cloud", "cloud_debye"):
        return spec["type"] + (", smoke" if smoke else "")
    pre = spec.get("pretrained", "default")
    if pre in (None, "none", "scratch"):
        size = f"{spec.get('preset', 'small')} from scratch"
    else:
        size = "committed small encoder" if pre == "default" else f"encoder {pre}"
    ablation = input_description(spec)
    if encoder and encoder.get("format") == "bert":
        size += " (authors-format checkpoint)"
    if encoder and encoder.get("tokenizer") == "paper":
        size += ", paper's WordPiece tokenizer" + (
            ", table generator strings" if encoder.get("generators") == "table" else "")
    options = ", loss on log Θ" if spec.get("debye_loss", "value") == "log_theta" else ""
    if spec.get("element_features"):
        options += ", element features"
    if int(spec.get("ensemble", 1)) > 1:
        options += f", ensemble of {int(spec['ensemble'])} seeds"
    return f"{spec['type']}, {size}{options}" + (f", {ablation}" if ablation else "") + (
        ", smoke" if smoke else "")
