"""Fine-tune CLOUD on one fold: regression on a property, or CLOUD-DEBYE on Cv / U.

The validation set for early stopping is carved from the training fold only (seeded);
targets are standardised with the statistics of the rows actually trained on; predictions
come back in the targets' original units. The encoder starts from a pretrained checkpoint
(default: the small model committed with the project) or from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cloud.train.config import TrainConfig
from cloud.train.data import RegressionCollator, ScopeDataset
from cloud.train.loop import FitResult, fit, make_accelerator, predict

KINDS = ("regression", "debye")
PRETRAINED_DIR = Path(__file__).resolve().parents[1] / "pretrained"
DEFAULT_PRETRAINED = PRETRAINED_DIR / "cloud-small-offline"


@dataclass
class FoldData:
    """Inputs of one fold. ``extras`` hold per-row model inputs (``n_atoms`` for Debye)."""

    train_texts: list[str]
    train_targets: np.ndarray
    test_texts: list[str]
    test_targets: np.ndarray | None = None
    train_extras: dict[str, np.ndarray] = field(default_factory=dict)
    test_extras: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class FineTuneResult:
    predictions: np.ndarray
    theta: np.ndarray | None
    fit: FitResult
    n_train: int
    n_val: int
    target_mean: float
    target_std: float
    model: object = None  # the fine-tuned model (best epoch), for analyses after the fold
    tokenizer: object = None
    n_without_theta: int = 0  # log_theta loss: training rows no Debye Θ reproduces (value loss)
    encoder: object = None  # cloud.model.encoder_checkpoint.EncoderSource


def carve_validation(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split training-fold row indices into (train, validation); validation may be empty."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    n_val = int(round(fraction * n)) if fraction > 0 and n >= 10 else 0
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def load_tokenizer(pretrained: str | Path | None, tokenizer: str = "auto"):
    """The tokenizer a checkpoint needs (its saved files, else the kind its config records;
    an authors-format BERT folder without files: the paper's), or for ``None`` a fresh one
    (``tokenizer``: ``auto`` = word-level, ``wordlevel`` or ``paper``). A tokenizer that
    does not match the checkpoint's embeddings raises ``TokenizerMismatchError``."""
    from cloud.model.encoder_checkpoint import resolve_encoder

    return resolve_encoder(pretrained, tokenizer)[1]


def build_model(kind: str, tokenizer, pretrained: str | Path | None = None,
                preset: str = "small", **config):
    """A fine-tuning model: encoder from ``pretrained`` (project or authors' format, MLM
    head dropped) or a fresh ``preset`` sized for ``tokenizer``, plus a new head."""
    from cloud.model import CloudForDebye, CloudForRegression
    from cloud.model.encoder_checkpoint import load_encoder_into
    from cloud.tokenizer_kinds import tokenizer_kind

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    cls = CloudForRegression if kind == "regression" else CloudForDebye
    if pretrained is not None:
        return load_encoder_into(cls, pretrained, **config)
    return cls(scratch_config(tokenizer_kind(tokenizer), tokenizer, preset, **config))


def scratch_config(tokenizer_kind: str, tokenizer, preset: str, **config):
    """A fresh encoder's config: word-level, sized to its vocabulary; paper, shaped like the
    authors' encoder (30522 embedding rows, 64 positions) so checkpoints interchange."""
    from cloud.model import CloudConfig

    if tokenizer_kind == "paper":
        from cloud.paper_tokenizer import PAPER_BERT_SETTINGS

        return CloudConfig.preset(preset, **PAPER_BERT_SETTINGS, scope_tokenizer="paper",
                                  **config)
    return CloudConfig.preset(preset, vocab_size=len(tokenizer),
                              pad_token_id=tokenizer.pad_token_id,
                              max_position_embeddings=tokenizer.model_max_length, **config)


def finetune(
    fold: FoldData,
    kind: str = "regression",
    cfg: TrainConfig | None = None,
    pretrained: str | Path | None = DEFAULT_PRETRAINED,
    preset: str = "small",
    model_config: dict | None = None,
    out_dir: str | Path | None = None,
    progress: bool = True,
    accelerator=None,
    tokenizer: str = "auto",
) -> FineTuneResult:
    """Train on ``fold.train_*`` (minus a validation carve-out), predict ``fold.test_texts``.
    ``tokenizer``: ``auto`` (the one the checkpoint needs; word-level from scratch),
    ``wordlevel`` or ``paper``."""
    tuned = finetune_fit(fold.train_texts, fold.train_targets, fold.train_extras, kind, cfg,
                         pretrained, preset, model_config, out_dir, progress, accelerator,
                         tokenizer)
    return finetune_predict(tuned, fold.test_texts, fold.test_extras)


@dataclass
class FineTuned:
    """A model fine-tuned by :func:`finetune_fit`, ready for :func:`finetune_predict`."""

    model: object
    tokenizer: object
    accelerator: object
    cfg: TrainConfig
    fit: FitResult
    n_train: int
    n_val: int
    target_mean: float
    target_std: float
    n_without_theta: int = 0
    encoder: object = None  # cloud.model.encoder_checkpoint.EncoderSource


def finetune_fit(train_texts, train_targets, train_extras: dict | None = None,
                 kind: str = "regression", cfg: TrainConfig | None = None,
                 pretrained: str | Path | None = DEFAULT_PRETRAINED, preset: str = "small",
                 model_config: dict | None = None, out_dir: str | Path | None = None,
                 progress: bool = True, accelerator=None, tokenizer: str = "auto") -> FineTuned:
    """Train on the training rows (minus a seeded validation carve-out). ``tokenizer``:
    ``auto`` (the one the checkpoint needs; word-level from scratch), ``wordlevel`` or
    ``paper``."""
    from cloud.model.encoder_checkpoint import resolve_encoder

    cfg = cfg or TrainConfig()
    encoder, tokenizer = resolve_encoder(pretrained, tokenizer)
    y = np.asarray(train_targets, dtype=np.float64)
    if not np.isfinite(y).all():
        raise ValueError("training targets must be finite (filter NaN rows before, and report them)")
    tr, va = carve_validation(len(y), cfg.val_fraction, cfg.seed)
    mean, std = float(y[tr].mean()), float(y[tr].std()) or 1.0
    model_config = dict(model_config or {})
    model_config.update(target_mean=mean, target_std=std)
    import torch

    torch.manual_seed(cfg.seed)  # the head's (and a scratch encoder's) initial weights
    model = build_model(kind, tokenizer, pretrained, preset, **model_config)
    train_extras = dict(train_extras or {})
    n_without_theta = 0
    if kind == "debye" and model.config.debye_loss == "log_theta":
        theta = implied_theta(y, train_extras, model.config)
        finite = np.isfinite(theta[tr])
        model.config.theta_log_std = float(np.log(theta[tr][finite]).std()) or 1.0
        train_extras["label_theta"], n_without_theta = theta, int((~finite).sum())

    def subset(idx, texts, targets, extras):
        return ScopeDataset([texts[i] for i in idx], tokenizer,
                            None if targets is None else np.asarray(targets)[idx],
                            {k: np.asarray(v)[idx] for k, v in extras.items()},
                            max_length=cfg.max_length)

    train_ds = subset(tr, train_texts, y, train_extras)
    val_ds = subset(va, train_texts, y, train_extras) if len(va) else None
    collator = RegressionCollator(tokenizer.pad_token_id)
    accelerator = accelerator or make_accelerator(cfg, split_batches=True)
    result = fit(model, train_ds, val_ds, collator, cfg, out_dir=out_dir, score="mae",
                 accelerator=accelerator, progress=progress, desc=f"fine-tune ({kind})")
    return FineTuned(model, tokenizer, accelerator, cfg, result, len(tr), len(va), mean, std,
                     n_without_theta, encoder)


def finetune_predict(tuned: FineTuned, texts, extras: dict | None = None) -> FineTuneResult:
    """Predictions (and Θ for CLOUD-DEBYE) of a fine-tuned model for ``texts``."""
    cfg, tokenizer = tuned.cfg, tuned.tokenizer
    test_ds = ScopeDataset(list(texts), tokenizer, None, dict(extras or {}), cfg.max_length)
    collator = RegressionCollator(tokenizer.pad_token_id)
    out = predict(tuned.model, test_ds, collator, cfg.eval_batch_size, tuned.accelerator)
    return FineTuneResult(out["predictions"], out.get("theta"), tuned.fit, tuned.n_train,
                          tuned.n_val, tuned.target_mean, tuned.target_std,
                          tuned.accelerator.unwrap_model(tuned.model), tokenizer,
                          tuned.n_without_theta, tuned.encoder)


def implied_theta(targets: np.ndarray, extras: dict, config) -> np.ndarray:
    """The Debye temperature (K) each Cv / U label implies at ``config.debye_temperature``
    (NaN where none does), for CLOUD-DEBYE's ``log_theta`` loss (torch's fast path)."""
    import torch

    from cloud.debye.inverse import theta_from_value_tensor

    if "n_atoms" not in extras:
        raise ValueError("CLOUD-DEBYE needs n_atoms (atoms per cell) for every training row")
    values, n_atoms = (torch.as_tensor(np.asarray(a, dtype=float), dtype=torch.float64)
                       for a in (targets, extras["n_atoms"]))
    return theta_from_value_tensor(values, n_atoms, config.debye_target,
                                   float(config.debye_temperature)).numpy()
