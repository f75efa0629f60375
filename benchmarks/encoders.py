"""Which encoder, tokenizer and generator table a CLOUD model of the runner uses.

Model settings (``benchmarks/configs/*.yaml``) that choose them:

* ``pretrained``: ``default`` (the committed small encoder), ``none`` (from scratch) or a
  checkpoint folder, the project's or the authors' format (``--pretrained DIR``);
* ``tokenizer``: ``auto`` (default: the one the checkpoint needs; word-level from scratch),
  ``wordlevel`` or ``paper``. A checkpoint fed the wrong one is refused;
* ``generators``: ``project`` or ``table`` (the paper's printed generator strings for space
  groups 39, 131 and 222, :mod:`cloud.scope.errata`); default ``table`` whenever the paper's
  tokenizer is in use (what the authors' checkpoint saw in pretraining), else ``project``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


def resolved_pretrained(spec: dict):
    """The encoder folder a CLOUD model starts from (None: from scratch)."""
    from cloud.train.finetune import DEFAULT_PRETRAINED

    value = spec.get("pretrained", "default")
    if value == "default":
        return DEFAULT_PRETRAINED
    return None if value in (None, "none", "scratch") else Path(value)


@cache
def _needed(folder: str, stamp: float) -> str:
    from cloud.model.encoder_checkpoint import needed_tokenizer

    return needed_tokenizer(folder)[1]


def model_tokenizer(spec: dict) -> str:
    """The tokenizer kind a CLOUD model's inputs go through (``wordlevel`` or ``paper``)."""
    chosen = spec.get("tokenizer", "auto")
    if chosen != "auto":
        return chosen
    pretrained = resolved_pretrained(spec)
    if pretrained is None or not (Path(pretrained) / "config.json").exists():
        return "wordlevel"
    return _needed(str(pretrained), (Path(pretrained) / "config.json").stat().st_mtime)


def model_generators(spec: dict, tokenizer: str | None = None) -> str:
    """``project`` or ``table``: how the model's SCOPE strings write their generator part."""
    return spec.get("generators") or (
        "table" if (tokenizer or model_tokenizer(spec)) == "paper" else "project")


def key_parts(spec: dict) -> dict:
    """What the job key adds for the tokenizer and generator table; nothing for the
    word-level tokenizer with the project's strings (so earlier keys stay valid)."""
    kind = model_tokenizer(spec)
    generators = model_generators(spec, kind)
    parts = {}
    if kind != "wordlevel":
        parts["tokenizer"] = kind
    if generators != "project":
        parts["generators"] = generators
    return parts


__all__ = ["key_parts", "model_generators", "model_tokenizer", "resolved_pretrained"]
