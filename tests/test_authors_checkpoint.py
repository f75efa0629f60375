"""An authors-format checkpoint (a ``BertForMaskedLM`` saved with ``save_pretrained``, no
tokenizer files) loads as the encoder of every CLOUD model with the paper's tokenizer, a
mismatched tokenizer is refused, and the runner fine-tunes it on a real smoke fold under the
paper's recipe. The checkpoint is synthetic: randomly initialised, the paper's shape but 2
layers to stay fast."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from benchmarks.run import main
from cloud.model.encoder_checkpoint import ASSUMED, resolve_encoder
from cloud.tokenizer_kinds import TokenizerMismatchError, tokenizer_kind
from cloud.train.finetune import DEFAULT_PRETRAINED, build_model
from tests.conftest import REPO

RECIPE = REPO / "benchmarks" / "configs" / "paper_recipe.yaml"


@pytest.fixture(scope="module")
def authors_dir(tmp_path_factory):
    """Synthetic: a random 2-layer BERT of the authors' width, saved as their Trainer does."""
    from transformers import BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    model = BertForMaskedLM(BertConfig(num_hidden_layers=2, hidden_size=768,
                                       num_attention_heads=12, intermediate_size=3072,
                                       max_position_embeddings=64, type_vocab_size=1))
    path = tmp_path_factory.mktemp("authors") / "checkpoint"
    model.save_pretrained(path)
    assert not (path / "tokenizer.json").exists() and not (path / "vocab.txt").exists()
    return path


def _bert_tensors(path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


def test_paper_tokenizer_is_assumed_and_said(authors_dir):
    source, tokenizer = resolve_encoder(authors_dir)
    assert (source.format, source.tokenizer, source.tokenizer_source) == ("bert", "paper", ASSUMED)
    assert tokenizer_kind(tokenizer) == "paper"


@pytest.mark.parametrize("kind", ["regression", "debye"])
def test_encoder_weights_load_unchanged_and_mlm_head_dropped(authors_dir, kind):
    _, tokenizer = resolve_encoder(authors_dir)
    model = build_model(kind, tokenizer, authors_dir, target_mean=0.0, target_std=1.0)
    saved = _bert_tensors(authors_dir)
    state = model.state_dict()
    encoder = {k: v for k, v in state.items() if k.startswith("bert.")}
    assert encoder and all(torch.equal(v, saved[k]) for k, v in encoder.items())
    assert not any(k.startswith("cls.") for k in state)
    cfg = model.config
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.max_position_embeddings,
            cfg.vocab_size, cfg.scope_tokenizer) == (2, 768, 64, 30522, "paper")


def test_mismatched_tokenizers_are_refused(authors_dir):
    with pytest.raises(TokenizerMismatchError, match="needs the paper tokenizer"):
        resolve_encoder(authors_dir, "wordlevel")
    with pytest.raises(TokenizerMismatchError, match="needs the wordlevel tokenizer"):
        resolve_encoder(DEFAULT_PRETRAINED, "paper")


def test_job_key_changes_with_the_tokenizer(authors_dir):
    from benchmarks.encoders import key_parts

    assert key_parts({"type": "cloud", "pretrained": "default"}) == {}
    assert key_parts({"type": "cloud", "pretrained": str(authors_dir)}) == {
        "tokenizer": "paper", "generators": "table"}
    assert key_parts({"type": "cloud", "pretrained": "none", "tokenizer": "paper",
                      "generators": "project"}) == {"tokenizer": "paper"}


def test_auto_classes_after_import_cloud(tmp_path):
    """A fresh process: ``import cloud`` alone, then transformers' Auto classes load the
    committed encoder (bare, MLM, config, tokenizer)."""
    code = ("import cloud, sys\n"
            "assert 'transformers' not in sys.modules\n"
            "from transformers import AutoConfig, AutoModel, AutoModelForMaskedLM, AutoTokenizer\n"
            f"d = {str(DEFAULT_PRETRAINED)!r}\n"
            "print(type(AutoConfig.from_pretrained(d)).__name__,"
            " type(AutoModel.from_pretrained(d)).__name__,"
            " type(AutoModelForMaskedLM.from_pretrained(d)).__name__,"
            " len(AutoTokenizer.from_pretrained(d)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-4:] == ["CloudConfig", "CloudModel", "CloudForMaskedLM", "441"]


@pytest.fixture(scope="module")
def paper_run(authors_dir, tmp_path_factory, shared_data):
    out = tmp_path_factory.mktemp("paper_run") / "run"
    code = main(["--task", "matbench_jdft2d", "--smoke", "--config", str(RECIPE),
                 "--pretrained", str(authors_dir), "--models", "cloud", "--save-models",
                 "--data-dir", str(shared_data), "--out", str(out), "--no-progress"])
    assert code == 0
    return out


def test_runner_fine_tunes_the_authors_checkpoint_with_the_paper_recipe(paper_run, authors_dir):
    from benchmarks.jobs import encoder_checksum

    record = json.loads((paper_run / "matbench_jdft2d" / "cloud" / "fold_0.json").read_text())
    assert record["status"] == "done"
    assert record["encoder"] == {
        "path": str(authors_dir), "format": "bert", "tokenizer": "paper",
        "tokenizer_source": ASSUMED, "sha256": encoder_checksum(authors_dir),
        "generators": "table"}
    assert record["key_parts"]["tokenizer"] == "paper"
    assert record["config"]["train"]["lr"] == 5e-5 and record["config"]["train"]["min_lr"] == 1e-7
    assert record["n_val_rows"] == 60  # 25 % of the 240 smoke training rows
    manifest = json.loads((paper_run / "manifest.json").read_text())
    assert manifest["encoders"]["matbench_jdft2d:cloud"]["tokenizer"] == "paper"
    assert manifest["config"]["matbench_jdft2d"]["models"]["cloud"]["pretrained"] == str(
        authors_dir)
    assert "paper's WordPiece tokenizer" in (paper_run / "leaderboard.md").read_text()


def test_prediction_path_uses_the_paper_tokenizer(paper_run, shared_data):
    """The kept model carries the paper's tokenizer; loaded for prediction it reproduces the
    run's predictions on SCOPE strings of the fold (table generator strings)."""
    import numpy as np

    from benchmarks.tasks import select
    from cloud.model.finetuned import load_finetuned
    from cloud.predict import predict_scopes
    from cloud.scope.errata import apply_generator_table

    model_dir = paper_run / "matbench_jdft2d" / "cloud" / "fold_0_model"
    finetuned = load_finetuned(model_dir)
    assert tokenizer_kind(finetuned.tokenizer) == "paper"
    assert finetuned.model.config.scope_tokenizer == "paper"
    record = json.loads((paper_run / "matbench_jdft2d" / "cloud" / "fold_0.json").read_text())
    data = select("matbench_jdft2d")[0].load(shared_data, "paper", False)
    ids = list(record["predictions"])[:8]
    texts = apply_generator_table([data.texts[r] for r in data.rows(ids)], "table")
    got = predict_scopes(finetuned, texts, [None] * len(texts), None, 4)["prediction"]
    np.testing.assert_allclose(got, [record["predictions"][i] for i in ids], rtol=1e-4,
                               atol=1e-4)
