"""``accelerate launch --multi_gpu --num_processes 2`` on CPU: the same pretraining code in two
processes of one gloo group."""

from __future__ import annotations

import csv
import gzip
import json
import subprocess
import sys
from pathlib import Path

import torch

from tests.conftest import shared_file


def test_two_process_pretraining(tmp_path):
    with gzip.open(shared_file("scope_reference/pretrain_optimade_10k.csv.gz"), "rt") as fh:
        texts = [r["scope"] for _, r in zip(range(600), csv.DictReader(fh), strict=False)]
    corpus = tmp_path / "corpus.csv"
    with open(corpus, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["scope"])
        writer.writerows([t] for t in texts)
    out = tmp_path / "run"
    accelerate = Path(sys.executable).with_name("accelerate")
    # on CPU, --multi_gpu selects accelerate's torchrun launcher; the processes form a gloo group
    cmd = [str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines",
           "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "-m", "cloud.train.pretrain", "--corpus", str(corpus), "--out", str(out),
           "--preset", "tiny", "--epochs", "2", "--batch-size", "32", "--no-progress"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["finished"] and len(state["history"]) == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["corpus_strings"] == 600 and manifest["git"]["commit"]
    # each process saw half of the batches: 588 training strings / 32 / 2 processes
    assert state["steps"] == 2 * 10

    from transformers import AutoModelForMaskedLM, PreTrainedTokenizerFast

    import cloud.model  # noqa: F401  (registers the model type)

    model, info = AutoModelForMaskedLM.from_pretrained(out / "final", output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    tokenizer = PreTrainedTokenizerFast.from_pretrained(out / "final")
    batch = tokenizer(texts[:4], padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape[-1] == len(tokenizer) and torch.isfinite(logits).all()
