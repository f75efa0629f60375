"""Models the runner can train on a fold: CLOUD (fine-tuned) and the baselines.

Every model answers ``fit_predict(task, data, fold, cfg, work_dir, progress)`` with test-row
predictions in fold order; the runner handles caching, scoring and reports.
"""

from __future__ import annotations

from pathlib import Path

from baselines.dummy import dummy_predictions
from benchmarks.encoders import model_generators, model_tokenizer
from benchmarks.tasks.base import Fold, TaskAdapter, TaskData


def _cloud(task, data, fold, cfg, work_dir, progress, kind):
    from benchmarks.reports.attention_report import attention_options, fold_attention
    from cloud.model.ensemble import save_members
    from cloud.scope.ablations import kept_parts, transform_texts
    from cloud.scope.errata import apply_generator_table
    from cloud.train.config import TrainConfig
    from cloud.train.ensemble import combine_members, member_dir, member_seeds
    from cloud.train.finetune import DEFAULT_PRETRAINED, FoldData, finetune

    train_texts, train_y, train_x = data.subset(fold.train)
    test_texts, test_y, test_x = data.subset(fold.test)
    tokenizer, generators = model_tokenizer(cfg), None
    if generators_differ(cfg, tokenizer):  # e.g. the paper's table for the authors' encoder
        generators = model_generators(cfg, tokenizer)
        train_texts = apply_generator_table(train_texts, generators)
        test_texts = apply_generator_table(test_texts, generators)
    # input ablations (cloud.scope.ablations): the same transform on train and test strings;
    # a row it cannot transform keeps its place as [UNK] and is listed in "input_errors"
    transform, attention = cfg.get("input_transform"), attention_options(cfg.get("attention"))
    train_texts, train_errors = transform_texts(transform, fold.train, train_texts)
    test_texts, test_errors = transform_texts(transform, fold.test, test_texts)
    pretrained = cfg.get("pretrained", "default")
    pretrained = DEFAULT_PRETRAINED if pretrained == "default" else (
        None if pretrained in (None, "none", "scratch") else Path(pretrained))
    if pretrained is not None and not Path(pretrained).exists():
        raise FileNotFoundError(f"pretrained encoder {pretrained} not found")
    model_config = {"head_hidden_sizes": list(cfg.get("head_hidden_sizes", [])),
                    "head_dropout": float(cfg.get("head_dropout", 0.1))}
    if cfg.get("element_features"):  # elemental properties on the element tokens
        model_config["element_features"] = element_feature_names(cfg["element_features"])
    if kind == "debye":
        model_config["debye_target"] = cfg.get("debye_target", task.debye_target)
        model_config["debye_loss"] = cfg.get("debye_loss", "value")
    fold_data = FoldData(train_texts, train_y, test_texts, test_y, train_x, test_x)
    train_cfg = TrainConfig.from_dict(cfg.get("train"))
    seeds = member_seeds(train_cfg.seed, cfg.get("ensemble", 1))
    members = [finetune(fold_data, kind, train_cfg.replace(seed=seed), pretrained=pretrained,
                        preset=cfg.get("preset", "small"), model_config=model_config,
                        out_dir=member_dir(work_dir, i, len(seeds)), progress=progress,
                        tokenizer=cfg.get("tokenizer", "auto"))
               for i, seed in enumerate(seeds)]
    result = members[0]  # history, best epoch and attention: the first member's
    out = {"history": result.fit.history, "best_epoch": result.fit.best_epoch,
           "n_fit_rows": result.n_train, "n_val_rows": result.n_val,
           "pretrained": str(pretrained) if pretrained else None}
    out["encoder"] = encoder_record(result.encoder, generators or "project")
    out.update(combine_members(kind, members, test_x, seeds))
    if kind == "debye":
        out.update(debye_loss=model_config["debye_loss"],
                   n_fit_rows_without_theta=result.n_without_theta)
    if transform is not None:
        out.update(input_transform=transform, input_errors=train_errors + test_errors)
    if attention is not None:  # while the fine-tuned model is alive (fold weights are deleted)
        out["attention"] = fold_attention(result.model, result.tokenizer, fold.test, test_texts,
                                          attention, kept_parts(transform))
    if keeps_model(cfg):  # e.g. for Debye curves or attention analyses after the run
        keep = kept_model_dir(work_dir)
        if len(members) > 1:
            save_members([m.model for m in members], keep, result.tokenizer)
        else:
            result.model.save_pretrained(keep)
            result.tokenizer.save_pretrained(keep)
        out["model_dir"] = str(keep)
    return out


def generators_differ(cfg: dict, tokenizer: str) -> bool:
    return model_generators(cfg, tokenizer) != "project"


def encoder_record(encoder, generators: str) -> dict:
    """The encoder a job actually used, for its record and the run's manifest; an assumed
    tokenizer is also said on stderr."""
    import sys

    from benchmarks.jobs import encoder_checksum
    from cloud.model.encoder_checkpoint import ASSUMED

    if encoder.tokenizer_source == ASSUMED:
        print(f"encoder {encoder.path}: no tokenizer files, the paper's WordPiece tokenizer "
              "is assumed (the authors' release ships none)", file=sys.stderr)
    return {**encoder.to_dict(), "sha256": encoder_checksum(encoder.path),
            "generators": generators}


def element_feature_names(value) -> list[str]:
    """A model's ``element_features`` setting as property names: ``default`` (or ``true``)
    is :data:`cloud.model.element_features.DEFAULT_ELEMENT_FEATURES`, a list names them."""
    from cloud.model.element_features import DEFAULT_ELEMENT_FEATURES

    if value is True or value == "default":
        return list(DEFAULT_ELEMENT_FEATURES)
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"element_features must be 'default' or a list of names, got {value!r}")
    return list(value)


def input_description(spec: dict) -> str:
    """The input ablation of a model config, for reports ("" for CLOUD's own input)."""
    from cloud.scope.ablations import DESCRIPTIONS

    parts = [DESCRIPTIONS[spec["input_transform"]]] if spec.get("input_transform") else []
    if spec.get("scope_mode"):  # a per-model SCOPE mode (paper vs canonical ablation)
        parts.append(f"ablation: {spec['scope_mode']} SCOPE strings")
    return "; ".join(parts)


def scope_mode_problem(data: TaskData, mode: str) -> str | None:
    """Why ``data`` cannot feed a model asking for SCOPE ``mode`` (``None``: it can).
    Canonical strings are encoded from structures; a task whose inputs are the paper's
    precomputed strings (e.g. matbench_dielectric offline) has none, so the runner skips a
    canonical model there rather than train it on paper strings under a canonical name."""
    if mode == "canonical" and data.encoded_mode != "canonical":
        return f"scope_mode canonical needs structures, but the inputs are: {data.source}"
    return None


def keeps_model(cfg: dict) -> bool:
    """Whether the fold's fine-tuned model is kept (``keep_model``, which the runner sets
    from ``--save-models`` and a model's ``keep_model_folds``)."""
    return bool(cfg.get("keep_model"))


def kept_model_dir(work_dir: Path) -> Path:
    """Where ``keep_model: true`` saves a fold's fine-tuned model: ``fold_<k>_model`` next to
    the fold's results (``fold_<k>_train`` is the training work dir)."""
    work_dir = Path(work_dir)
    return work_dir.with_name(work_dir.name.removesuffix("_train") + "_model")


def cloud(task: TaskAdapter, data: TaskData, fold: Fold, cfg: dict, work_dir: Path,
          progress: bool = True) -> dict:
    """CLOUD predicting the target directly (MLP head on [CLS])."""
    return _cloud(task, data, fold, cfg, work_dir, progress, "regression")


def cloud_debye(task: TaskAdapter, data: TaskData, fold: Fold, cfg: dict, work_dir: Path,
                progress: bool = True) -> dict:
    """CLOUD-DEBYE: Θ from the encoder, Cv or U from the Debye model (tasks of kind debye)."""
    if task.kind != "debye":
        raise ValueError(f"{task.name} has no Debye formulation")
    return _cloud(task, data, fold, cfg, work_dir, progress, "debye")


def dummy(task: TaskAdapter, data: TaskData, fold: Fold, cfg: dict, work_dir: Path,
          progress: bool = True) -> dict:
    _, train_y, _ = data.subset(fold.train)
    return {"predictions": dummy_predictions(train_y, len(fold.test))}


def composition_rf(task: TaskAdapter, data: TaskData, fold: Fold, cfg: dict, work_dir: Path,
                   progress: bool = True) -> dict:
    from baselines.composition import composition_rf_predictions

    train_texts, train_y, _ = data.subset(fold.train)
    test_texts, _, _ = data.subset(fold.test)
    preds = composition_rf_predictions(train_texts, train_y, test_texts,
                                       n_estimators=int(cfg.get("n_estimators", 300)),
                                       seed=int(cfg.get("seed", 0)))
    return {"predictions": preds}


def debye_rf(task: TaskAdapter, data: TaskData, fold: Fold, cfg: dict, work_dir: Path,
             progress: bool = True) -> dict:
    """Composition random forest on log Θ, then the Debye model (``baselines.debye_rf``)."""
    from baselines.debye_rf import debye_rf_predictions

    if task.kind != "debye":
        raise ValueError(f"{task.name} has no Debye formulation")
    train_texts, train_y, train_x = data.subset(fold.train)
    test_texts, _, test_x = data.subset(fold.test)
    out = debye_rf_predictions(train_texts, train_y, train_x["n_atoms"], test_texts,
                               test_x["n_atoms"], target=task.debye_target,
                               n_estimators=int(cfg.get("n_estimators", 300)),
                               seed=int(cfg.get("seed", 0)))
    return {"predictions": out["predictions"], "theta": out["theta"],
            "n_fit_rows_without_theta": out["n_without_theta"]}


#: Model types that need a Debye formulation of the task (``task.kind == "debye"``).
DEBYE_MODELS = ("cloud_debye", "debye_rf")

MODELS = {"cloud": cloud, "cloud_debye": cloud_debye, "dummy": dummy,
          "composition_rf": composition_rf, "debye_rf": debye_rf}

