"""A frozen encoder over SCOPE strings, and the fixed-size vector it gives each string.

:func:`load_encoder` accepts

* a CLOUD checkpoint folder of the project's format (``model_type: cloud``, e.g.
  ``cloud/pretrained/cloud-small-offline``; ``default`` names that one) or the authors'
  (``model_type: bert``), through the loaders every CLOUD model uses
  (:mod:`cloud.model.encoder_checkpoint`);
* the same architecture randomly initialised (``init="random"``, a fixed ``seed``): the floor
  a pretrained encoder's representation is measured against;
* any other Hugging Face encoder folder (``AutoModel`` + ``AutoTokenizer``) whose tokenizer
  reads SCOPE strings.

:func:`embed` runs it without gradients in batches of rows sorted by token length (the
prediction batches, :class:`cloud.train.sampling.LengthSortedBatchSampler`) and returns the
vectors in the input order; ``pooling`` is ``cls`` (the final ``[CLS]`` vector, what the
fine-tuning heads read) or ``mean`` (the mean over the non-padding tokens).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

POOLINGS = ("cls", "mean")
INITS = ("pretrained", "random")
DEFAULT_BATCH_SIZE = 256


@dataclass
class FrozenEncoder:
    """A loaded encoder: the model (eval mode), its tokenizer and what identifies it."""

    model: object
    tokenizer: object
    sha256: str  # of the weights as loaded and of the tokenizer's vocabulary
    info: dict = field(default_factory=dict)  # path, format, init, seed, tokenizer, generators
    max_length: int = 512

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)

    def prepare(self, scopes: list[str]) -> list[str]:
        """The strings as this encoder reads them (the paper's tokenizer: the paper table's
        generator strings, as in its pretraining)."""
        if self.info.get("generators") != "table":
            return list(scopes)
        from cloud.scope.errata import with_table_generators

        return [with_table_generators(s) for s in scopes]


def resolve_path(encoder: str | Path) -> Path:
    """``default`` is the committed small encoder; anything else a folder."""
    if str(encoder) == "default":
        from cloud.train.finetune import DEFAULT_PRETRAINED

        return Path(DEFAULT_PRETRAINED)
    path = Path(encoder).expanduser()
    if not (path / "config.json").exists():
        raise FileNotFoundError(f"encoder {encoder}: no config.json (not a save_pretrained "
                                "checkpoint folder)")
    return path


def weights_sha256(model, tokenizer) -> str:
    """sha256 of every weight tensor (by name, in name order) and the tokenizer's vocabulary:
    two encoders with this digest give the same vectors."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().to(torch.float32).cpu().contiguous().numpy().tobytes())
    vocab = sorted(tokenizer.get_vocab().items())
    digest.update(repr(vocab).encode())
    return digest.hexdigest()


def _cloud_or_bert(path: Path, init: str, seed: int):
    """(model, tokenizer, format, tokenizer kind) of a CLOUD or authors-format folder."""
    import torch

    from cloud.model import CloudModel
    from cloud.model.config import CloudConfig
    from cloud.model.encoder_checkpoint import load_encoder_into, read_config, resolve_encoder

    source, tokenizer = resolve_encoder(path)
    if init == "pretrained":
        model = load_encoder_into(CloudModel, path)
    else:
        raw = read_config(path)
        if raw.get("model_type") == "bert":
            from transformers import BertConfig

            config = CloudConfig.from_bert_config(BertConfig.from_pretrained(path),
                                                  scope_tokenizer="paper")
        else:
            config = CloudConfig.from_pretrained(path)
        with torch.random.fork_rng(devices=[]):  # the process's own RNG state is left alone
            torch.manual_seed(int(seed))
            model = CloudModel(config)
    return model, tokenizer, source.format, source.tokenizer


def _hf_auto(path: Path, init: str, seed: int):
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if init == "pretrained":
        model = AutoModel.from_pretrained(path)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            model = AutoModel.from_config(AutoConfig.from_pretrained(path))
    return model, tokenizer, str(model.config.model_type), "own"


@lru_cache(maxsize=8)
def _load(path: str, stamp: float, init: str, seed: int) -> FrozenEncoder:
    from cloud.model.encoder_checkpoint import read_config
    from cloud.model.finetuned import quiet_transformers

    folder = Path(path)
    kind = read_config(folder).get("model_type")
    loader = _cloud_or_bert if kind in ("cloud", "bert") else _hf_auto
    with quiet_transformers():  # the dropped MLM head is expected, not news
        model, tokenizer, fmt, tok_kind = loader(folder, init, seed)
    model.eval()
    info = {"path": path, "format": fmt, "init": init, "tokenizer": tok_kind,
            "generators": "table" if tok_kind == "paper" else "project"}
    if init == "random":
        info["seed"] = int(seed)
    max_length = int(getattr(model.config, "max_position_embeddings", 512))
    return FrozenEncoder(model, tokenizer, weights_sha256(model, tokenizer), info, max_length)


def load_encoder(encoder: str | Path = "default", init: str = "pretrained",
                 seed: int = 0) -> FrozenEncoder:
    """The frozen encoder of a folder (``init="random"``: its architecture and tokenizer with
    weights drawn afresh from ``seed``). Loaded once per process and folder state."""
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, not {init!r}")
    path = resolve_path(encoder)
    stamp = (path / "config.json").stat().st_mtime
    return _load(str(path.resolve()), stamp, init, int(seed) if init == "random" else 0)


def token_lengths(tokenizer, scopes: list[str], max_length: int) -> np.ndarray:
    enc = tokenizer(scopes, truncation=True, max_length=max_length)
    return np.array([len(ids) for ids in enc["input_ids"]], dtype=np.int64)


def pool(hidden, mask, pooling: str):
    """[B, H] from the last hidden states [B, T, H] and the attention mask [B, T]."""
    if pooling == "cls":
        return hidden[:, 0]
    if pooling == "mean":
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
    raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")


def embed(encoder: FrozenEncoder, scopes: list[str], pooling: str = "cls",
          batch_size: int = DEFAULT_BATCH_SIZE, progress: bool = False) -> np.ndarray:
    """float32 [N, hidden] vectors of the SCOPE strings, in their order (no caching: see
    :func:`cloud.embeddings.cache.cached_embed`). Strings are fed as :meth:`prepare` gives
    them, truncated to the encoder's positions."""
    import torch
    from tqdm.auto import tqdm

    from cloud.train.sampling import LengthSortedBatchSampler

    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
    texts = encoder.prepare(scopes)
    out = np.zeros((len(texts), encoder.hidden_size), dtype=np.float32)
    if not texts:
        return out
    sampler = LengthSortedBatchSampler(token_lengths(encoder.tokenizer, texts,
                                                     encoder.max_length), int(batch_size))
    for batch in tqdm(sampler, desc="embed", unit="batch", disable=not progress):
        enc = encoder.tokenizer([texts[i] for i in batch], padding=True, truncation=True,
                                max_length=encoder.max_length, return_tensors="pt")
        with torch.no_grad():
            hidden = encoder.model(input_ids=enc["input_ids"],
                                   attention_mask=enc["attention_mask"]).last_hidden_state
            out[batch] = pool(hidden, enc["attention_mask"], pooling).float().cpu().numpy()
    return out


__all__ = ["DEFAULT_BATCH_SIZE", "INITS", "POOLINGS", "FrozenEncoder", "embed",
           "load_encoder", "pool", "resolve_path", "weights_sha256"]
