"""Seed ensembles of CLOUD-DEBYE models: K members trained alike except for the seed.

A member's seed sets its initial weights, its validation carve-out and its batch order, so
the members differ the way repeated runs do and their errors partly cancel. The ensemble's
Debye temperature is the geometric mean of the members' (the mean of log Θ: Θ spans two
decades and the ``log_theta`` loss lives on that scale); Cv(T) and U(T) follow from that one Θ
through the same Debye model, so an ensemble's curves pass the same physics checks as a
single model's. On disk: ``member_<i>/`` folders, each a ``save_pretrained`` checkpoint with
its tokenizer, and ``ensemble.json`` naming them.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from cloud.model.debye import CloudForDebye

MANIFEST = "ensemble.json"


def geometric_mean_theta(thetas: torch.Tensor) -> torch.Tensor:
    """[K, B] member Θ -> [B] ensemble Θ (mean of log Θ), in float32 at least."""
    work = thetas.float() if thetas.dtype in (torch.float16, torch.bfloat16) else thetas
    return work.log().mean(dim=0).exp()


class CloudDebyeEnsemble(nn.Module):
    """K :class:`CloudForDebye` members answering like one model (``compute_theta``,
    ``debye``, ``predict_curves``); all members share the Debye target and temperature."""

    def __init__(self, members: list[CloudForDebye]):
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        targets = {(m.config.debye_target, float(m.config.debye_temperature)) for m in members}
        if len(targets) != 1:
            raise ValueError(f"ensemble members disagree on (target, temperature): {targets}")
        self.members = nn.ModuleList(members)

    @property
    def config(self):
        return self.members[0].config

    def compute_theta(self, input_ids, attention_mask=None, **kwargs):
        """(ensemble Θ [B], members' Θ [K, B], None) - the shape of the single model's call."""
        thetas = torch.stack([m.compute_theta(input_ids, attention_mask, **kwargs)[0]
                              for m in self.members])
        return geometric_mean_theta(thetas), thetas, None

    def debye(self, theta, n_atoms, temperature=None, target=None):
        return self.members[0].debye(theta, n_atoms, temperature, target)

    def _temperature(self, temperature, like):
        return self.members[0]._temperature(temperature, like)

    predict_curves = CloudForDebye.predict_curves  # compute_theta + debye, as for one model

    def save_pretrained(self, directory: str | Path, tokenizer=None) -> None:
        save_members(list(self.members), directory, tokenizer)

    @classmethod
    def from_pretrained(cls, directory: str | Path, **kwargs) -> CloudDebyeEnsemble:
        directory = Path(directory)
        return cls([CloudForDebye.from_pretrained(directory / n, **kwargs)
                    for n in member_names(directory)])


def save_members(models: list, directory: str | Path, tokenizer=None) -> None:
    """``member_<i>/`` checkpoints (with the tokenizer, if given) and ``ensemble.json``."""
    directory = Path(directory)
    names = [f"member_{i}" for i in range(len(models))]
    for name, model in zip(names, models, strict=True):
        model.save_pretrained(directory / name)
        if tokenizer is not None:
            tokenizer.save_pretrained(directory / name)
    (directory / MANIFEST).write_text(json.dumps({"members": names}, indent=1) + "\n")


def member_names(directory: str | Path) -> list[str]:
    """The member folders an ensemble's ``ensemble.json`` names, in order."""
    return json.loads((Path(directory) / MANIFEST).read_text())["members"]


def is_ensemble(directory: str | Path) -> bool:
    return (Path(directory) / MANIFEST).exists()


def load_debye_model(directory: str | Path, **kwargs):
    """A CLOUD-DEBYE checkpoint folder: one model, or an ensemble (``ensemble.json``)."""
    if is_ensemble(directory):
        return CloudDebyeEnsemble.from_pretrained(directory, **kwargs)
    return CloudForDebye.from_pretrained(directory, **kwargs)


def ensemble_tokenizer_dir(directory: str | Path) -> Path:
    """Where a checkpoint folder's tokenizer lies (an ensemble's: its first member's)."""
    directory = Path(directory)
    if is_ensemble(directory):
        return directory / member_names(directory)[0]
    return directory
