"""Load a fine-tuned CLOUD checkpoint for prediction, refusing anything without a trained head.

A checkpoint folder is what ``model.save_pretrained(d); tokenizer.save_pretrained(d)`` writes
for a :class:`~cloud.model.CloudForRegression` or :class:`~cloud.model.CloudForDebye`, or a
seed ensemble written by :func:`cloud.model.ensemble.save_members` (``ensemble.json`` plus
``member_<i>/`` folders of that kind). Loading the MLM pretraining checkpoint into a
fine-tuning class would "work" (transformers initialises the missing head at random and
only warns), so :func:`check_checkpoint` reads ``config.json`` and the tensor names in the
safetensors files first, and :func:`load_finetuned` raises :class:`CheckpointError` with
what it found and what it needs.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from cloud.model.ensemble import is_ensemble, member_names

#: Fine-tuned architectures and the kind of prediction they make.
FINETUNED = {"CloudForRegression": "regression", "CloudForDebye": "debye"}
WEIGHTS = "model.safetensors"
WEIGHTS_INDEX = "model.safetensors.index.json"
TOKENIZER = "tokenizer.json"


class CheckpointError(ValueError):
    """A folder that is not a fine-tuned CLOUD checkpoint (the message says why)."""


@dataclass
class Finetuned:
    """A loaded fine-tuned model: ``kind`` is ``"regression"`` or ``"debye"``."""

    model: nn.Module
    tokenizer: object
    kind: str
    path: Path
    n_members: int = 1


def _read_config(folder: Path) -> dict:
    path = folder / "config.json"
    if not path.exists():
        raise CheckpointError(f"{folder}: no config.json (not a save_pretrained checkpoint)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: unreadable ({exc})") from None


def saved_tensor_names(folder: Path) -> set[str]:
    """Names of the tensors in a checkpoint's safetensors file(s) (one file or sharded)."""
    if (folder / WEIGHTS_INDEX).exists():
        return set(json.loads((folder / WEIGHTS_INDEX).read_text())["weight_map"])
    if not (folder / WEIGHTS).exists():
        raise CheckpointError(f"{folder}: no {WEIGHTS} (save the model with save_pretrained)")
    from safetensors import safe_open

    with safe_open(str(folder / WEIGHTS), framework="pt") as fh:
        return set(fh.keys())


def expected_tensor_names(cls, config) -> set[str]:
    """The persistent tensors a model of class ``cls`` with ``config`` holds (built on the
    meta device: no memory, no initialisation)."""
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls(config)
    return set(model.state_dict())


def check_checkpoint(folder: str | Path) -> str:
    """The kind (``regression`` / ``debye``) of a single fine-tuned checkpoint folder, or
    :class:`CheckpointError` naming what was found and what is needed."""
    from cloud.model import CloudConfig, CloudForDebye, CloudForRegression

    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: not a directory")
    raw = _read_config(folder)
    if raw.get("model_type") != "cloud":
        raise CheckpointError(f"{folder}: model_type {raw.get('model_type')!r}, need 'cloud'")
    found = list(raw.get("architectures") or [])
    kinds = {FINETUNED[a] for a in found if a in FINETUNED}
    if len(kinds) != 1:
        raise CheckpointError(
            f"{folder}: architectures {found} has no trained head (need a fine-tuned "
            f"{' or '.join(FINETUNED)} checkpoint; a pretraining/MLM checkpoint only holds the "
            "encoder, fine-tune it first)")
    kind = kinds.pop()
    cls = CloudForRegression if kind == "regression" else CloudForDebye
    config = CloudConfig.from_pretrained(folder)
    missing = expected_tensor_names(cls, config) - saved_tensor_names(folder)
    head = sorted(n for n in missing if n.startswith("head."))
    if head:
        raise CheckpointError(
            f"{folder}: config says {cls.__name__} but the weights have no trained head "
            f"(missing {', '.join(head)})")
    if missing:
        shown = ", ".join(sorted(missing)[:5]) + (" ..." if len(missing) > 5 else "")
        raise CheckpointError(f"{folder}: weights lack {len(missing)} tensors of "
                              f"{cls.__name__} ({shown})")
    if not (folder / TOKENIZER).exists():
        raise CheckpointError(f"{folder}: no {TOKENIZER} (save the tokenizer with the model: "
                              "tokenizer.save_pretrained(DIR))")
    return kind


@contextlib.contextmanager
def quiet_transformers():
    """No weight-loading progress bars, no transformers warnings, restored afterwards."""
    from transformers.utils import logging as hf_logging

    bar, level = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        hf_logging.set_verbosity(level)
        if bar:
            hf_logging.enable_progress_bar()


class CloudRegressionEnsemble(nn.Module):
    """K :class:`CloudForRegression` members; predicts the mean of their predictions."""

    def __init__(self, members: list):
        super().__init__()
        self.members = nn.ModuleList(members)

    @property
    def config(self):
        return self.members[0].config

    def forward(self, input_ids, attention_mask=None, **kwargs):
        from cloud.model.modeling import CloudRegressionOutput

        preds = torch.stack([m(input_ids, attention_mask, **kwargs).predictions
                             for m in self.members])
        return CloudRegressionOutput(predictions=preds.mean(dim=0))


def load_finetuned(path: str | Path, kind: str | None = None) -> Finetuned:
    """A fine-tuned checkpoint (or seed ensemble) with its tokenizer, in eval mode.

    ``kind`` (``regression`` / ``debye``) additionally requires that kind. Raises
    :class:`CheckpointError` for anything without a trained head.
    """
    from cloud.model import CloudForDebye, CloudForRegression
    from cloud.model.ensemble import CloudDebyeEnsemble
    from cloud.train.finetune import load_tokenizer

    path = Path(path)
    folders = [path / n for n in member_names(path)] if is_ensemble(path) else [path]
    kinds = {check_checkpoint(f) for f in folders}
    if len(kinds) != 1:
        raise CheckpointError(f"{path}: ensemble members mix kinds {sorted(kinds)}")
    found = kinds.pop()
    if kind is not None and found != kind:
        raise CheckpointError(f"{path}: a {found} checkpoint ({found} head), need a {kind} one")
    cls = CloudForRegression if found == "regression" else CloudForDebye
    with quiet_transformers():
        members = [cls.from_pretrained(f) for f in folders]
        tokenizer = load_tokenizer(folders[0])
    if len(members) == 1:
        model = members[0]
    else:
        model = (CloudRegressionEnsemble if found == "regression" else CloudDebyeEnsemble)(members)
    model.eval()
    return Finetuned(model, tokenizer, found, path, len(members))


__all__ = ["CheckpointError", "CloudRegressionEnsemble", "Finetuned", "check_checkpoint",
           "expected_tensor_names", "saved_tensor_names",
           "load_finetuned", "quiet_transformers"]
