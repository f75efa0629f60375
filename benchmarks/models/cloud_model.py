"""CLOUD in the model protocol: fine-tune the encoder on SCOPE strings, predict, analyse.

:class:`CloudModel` predicts the target with an MLP head on [CLS]; :class:`CloudDebyeModel`
(CLOUD-DEBYE) predicts Θ and gives Cv or U through the Debye model (tasks of kind debye).
Both take the fold's row ids, per-row extras and work folder from the runner (keywords of
``fit`` and ``predict``, see :mod:`benchmarks.models.protocol`); ``fold_record_`` holds what
the fold record adds (history, best epoch, ensemble members, attention...).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class CloudModel:
    """CLOUD predicting the target directly (MLP head on [CLS])."""

    input = "scope"
    kind = "regression"
    # declarations (benchmarks/models/declare.py): a pretrained encoder, trained by gradient
    # descent; its job key counts the encoder by its weights
    has_encoder = True
    trains_network = True
    submission = {"authors": "Changwen Xu, Shang Zhu, Venkatasubramanian Viswanathan",
                  "algorithm": "CLOUD", "model_type": "Transformer",
                  "architecture_type": "transformer",  # Matbench Discovery's ArchitectureType
                  "architecture": "BERT encoder over SCOPE strings, MLP head on [CLS]",
                  "paper": "arXiv 2506.17345"}

    def __init__(self, pretrained="default", preset: str = "small", head_hidden_sizes=None,
                 head_dropout: float = 0.1, train: dict | None = None, element_features=None,
                 ensemble: int = 1, input_transform: str | None = None, attention=None,
                 tokenizer: str = "auto", generators: str | None = None):
        self.pretrained = pretrained
        self.tokenizer = tokenizer  # auto | wordlevel | paper (benchmarks/encoders.py)
        self.generators = generators  # project | table; default: table with the paper's
        self.preset = preset
        self.head_hidden_sizes = head_hidden_sizes
        self.head_dropout = head_dropout
        self.train = train
        self.element_features = element_features
        self.ensemble = ensemble
        self.input_transform = input_transform
        self.attention = attention

    def _model_config(self, debye_target: str | None) -> dict:
        config = {"head_hidden_sizes": list(self.head_hidden_sizes or []),
                  "head_dropout": float(self.head_dropout)}
        if self.element_features:  # elemental properties on the element tokens
            config["element_features"] = element_feature_names(self.element_features)
        return config

    def _pretrained_path(self) -> Path | None:
        from cloud.train.finetune import DEFAULT_PRETRAINED

        value = self.pretrained
        path = DEFAULT_PRETRAINED if value == "default" else (
            None if value in (None, "none", "scratch") else Path(value))
        if path is not None and not Path(path).exists():
            raise FileNotFoundError(f"pretrained encoder {path} not found")
        return path

    def fit(self, X: list, y: np.ndarray, ids=None, extras: dict | None = None,
            debye_target: str | None = None, work_dir=None, progress: bool = True,
            keep_dir=None) -> CloudModel:
        from cloud.model.ensemble import save_members
        from cloud.scope.ablations import transform_texts
        from cloud.train.config import TrainConfig
        from cloud.train.ensemble import member_dir, member_seeds
        from cloud.train.finetune import finetune_fit

        ids = list(ids) if ids is not None else [str(i) for i in range(len(X))]
        # input ablations (cloud.scope.ablations): the same transform on train and test
        # strings; a row it cannot transform keeps its place as [UNK] (listed in input_errors)
        texts, self.input_errors_ = transform_texts(self.input_transform, ids,
                                                    self._generator_strings(X))
        self.pretrained_ = self._pretrained_path()
        self.model_config_ = self._model_config(debye_target)
        train_cfg = TrainConfig.from_dict(self.train)
        self.seeds_ = member_seeds(train_cfg.seed, self.ensemble)
        work = Path(work_dir) if work_dir is not None else None
        self.members_ = [
            finetune_fit(texts, y, dict(extras or {}), self.kind, train_cfg.replace(seed=seed),
                         pretrained=self.pretrained_, preset=self.preset,
                         model_config=self.model_config_,
                         out_dir=None if work is None else member_dir(work, i, len(self.seeds_)),
                         progress=progress, tokenizer=self.tokenizer)
            for i, seed in enumerate(self.seeds_)]
        first = self.members_[0]  # history, best epoch and attention: the first member's
        self.fold_record_ = {"history": first.fit.history, "best_epoch": first.fit.best_epoch,
                             "n_fit_rows": first.n_train, "n_val_rows": first.n_val,
                             "model_params": model_params(
                                 first.accelerator.unwrap_model(first.model)),
                             "pretrained": str(self.pretrained_) if self.pretrained_ else None,
                             "encoder": encoder_record(first.encoder, self.generators_),
                             "n_parameters": sum(sum(p.numel() for p in m.model.parameters())
                                                 for m in self.members_)}
        if keep_dir is not None:  # e.g. for Debye curves or attention analyses after the run
            models = [m.accelerator.unwrap_model(m.model) for m in self.members_]
            if len(models) > 1:
                save_members(models, keep_dir, first.tokenizer)
            else:
                models[0].save_pretrained(keep_dir)
                first.tokenizer.save_pretrained(keep_dir)
            self.fold_record_["model_dir"] = str(keep_dir)
        return self

    def predict(self, X: list, ids=None, extras: dict | None = None) -> np.ndarray:
        from benchmarks.reports.attention_report import attention_options, fold_attention
        from cloud.scope.ablations import kept_parts, transform_texts
        from cloud.train.ensemble import combine_members
        from cloud.train.finetune import finetune_predict

        ids = list(ids) if ids is not None else [str(i) for i in range(len(X))]
        texts, errors = transform_texts(self.input_transform, ids, self._generator_strings(X))
        extras = dict(extras or {})
        results = [finetune_predict(m, texts, extras) for m in self.members_]
        out = combine_members(self.kind, results, extras, self.seeds_)
        record = {k: v for k, v in self.fold_record_.items() if k != "model_dir"}
        record.update({k: v for k, v in out.items() if k != "predictions"})
        record.update(self._kind_record(results[0]))
        if self.input_transform is not None:
            record.update(input_transform=self.input_transform,
                          input_errors=self.input_errors_ + errors)
        options = attention_options(self.attention)
        if options is not None:
            record["attention"] = fold_attention(results[0].model, results[0].tokenizer, ids,
                                                 texts, options, kept_parts(self.input_transform))
        if "model_dir" in self.fold_record_:
            record["model_dir"] = self.fold_record_["model_dir"]
        self.fold_record_ = record
        return np.asarray(out["predictions"])

    def _kind_record(self, result) -> dict:
        return {}

    def parameter_count(self) -> int:
        """Parameters of the network :meth:`fit` trains (built untrained, to count them)."""
        from cloud.train.finetune import build_model, load_tokenizer

        pretrained = self._pretrained_path()
        tokenizer = load_tokenizer(pretrained, self.tokenizer)
        return model_params(build_model(self.kind, tokenizer, pretrained, self.preset,
                                        **self._model_config("cv")))

    def job_key_parts(self, settings: dict) -> dict:
        """The encoder counts in the job key by its weights (and the tokenizer and generator
        table it implies), not by its path."""
        from benchmarks.encoders import key_parts, resolved_pretrained
        from benchmarks.jobs import encoder_checksum

        pretrained = resolved_pretrained(settings)
        encoder = encoder_checksum(pretrained) if pretrained and pretrained.exists() else (
            None if pretrained is None else f"missing: {pretrained}")
        parts = {"settings": {k: v for k, v in settings.items() if k != "pretrained"},
                 "encoder_sha256": encoder}
        if pretrained is None or pretrained.exists():  # tokenizer, generator table
            parts.update(key_parts(settings))
        return parts

    def describe(self, settings: dict, encoder: dict | None = None) -> str:
        """Model size and encoder (``encoder``: the job record's, naming its format and
        tokenizer), then the options and input ablation."""
        from benchmarks.models.describe import input_description

        spec = settings
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
        return f"{spec['type']}, {size}{options}" + (f", {ablation}" if ablation else "")

    def _generator_strings(self, X) -> list[str]:
        """The SCOPE strings with the generator part the encoder expects: the paper's
        printed table (cloud.scope.errata) for the authors' tokenizer unless told otherwise."""
        from benchmarks.encoders import model_generators, model_tokenizer
        from cloud.scope.errata import apply_generator_table

        settings = {"pretrained": self.pretrained, "tokenizer": self.tokenizer,
                    "generators": self.generators}
        self.generators_ = model_generators(settings, model_tokenizer(settings))
        texts = list(X)
        return texts if self.generators_ == "project" else apply_generator_table(
            texts, self.generators_)


class CloudDebyeModel(CloudModel):
    """CLOUD-DEBYE: Θ from the encoder, Cv or U from the Debye model (tasks of kind debye)."""

    kind = "debye"
    task_kinds = ("debye",)

    def __init__(self, pretrained="default", preset: str = "small", head_hidden_sizes=None,
                 head_dropout: float = 0.1, train: dict | None = None, element_features=None,
                 ensemble: int = 1, input_transform: str | None = None, attention=None,
                 tokenizer: str = "auto", generators: str | None = None,
                 debye_target: str | None = None, debye_loss: str = "value"):
        super().__init__(pretrained, preset, head_hidden_sizes, head_dropout, train,
                         element_features, ensemble, input_transform, attention, tokenizer,
                         generators)
        self.debye_target = debye_target
        self.debye_loss = debye_loss

    def _model_config(self, debye_target: str | None) -> dict:
        config = super()._model_config(debye_target)
        target = self.debye_target or debye_target
        if target is None:
            raise ValueError("CLOUD-DEBYE needs a Debye task (its debye_target: cv or u)")
        config.update(debye_target=target, debye_loss=self.debye_loss)
        return config

    def _kind_record(self, result) -> dict:
        return {"debye_loss": self.debye_loss, "n_fit_rows_without_theta": result.n_without_theta}


def model_params(model) -> int:
    """Parameters of one fine-tuned network (encoder with embeddings, plus head)."""
    from cloud.model import count_parameters

    return count_parameters(model, non_embedding=False)


def encoder_record(encoder, generators: str) -> dict:
    """The encoder a job actually used, for its record and the run's manifest; an assumed
    tokenizer is also said on stderr."""
    import sys

    from benchmarks.jobs import encoder_checksum
    from cloud.model.encoder_checkpoint import ASSUMED

    if encoder is None:
        return {}
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


def keeps_model(cfg: dict) -> bool:
    """Whether the fold's fine-tuned model is kept (``keep_model``, which the runner sets
    from ``--save-models`` and a model's ``keep_model_folds``)."""
    return bool(cfg.get("keep_model"))
