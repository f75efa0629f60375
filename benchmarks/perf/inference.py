"""Inference throughput: CIF -> SCOPE -> CLOUD prediction, at batch 256 vs batch 1.

The full path a user runs on new crystals, side by side in one process on the same real
CIFs (MP-20 binaries/ternaries, ``stability/mp_20_biternary_val.csv.gz``): pymatgen parses
each CIF, ``ScopeEncoder`` writes its SCOPE string (one process: encoding is per structure
either way), the tokenizer and ``RegressionCollator`` build batches, and the committed
small CLOUD encoder with a regression head (``cloud.train.loop.predict``) predicts. The head
is untrained: this measures speed, not accuracy. Prints structures/s of each batch size, the
split between encoding and the model, and the ratio; checks both give the same predictions.

``python benchmarks/perf/inference.py [--structures 512] [--batch-size 256] [--data-dir DIR]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cloud  # noqa: F401  (sets the OpenMP wait policy before torch loads)

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `python benchmarks/perf/...` from a plain checkout
    sys.path.insert(0, str(REPO))
CIF_FILE = "stability/mp_20_biternary_val.csv.gz"


def load_cifs(data_dir: Path, n: int) -> list[str]:
    from cloud.data import read_cif_csv

    return list(read_cif_csv(data_dir / CIF_FILE)["cif"].iloc[:n])


def run_path(cifs, model, tokenizer, batch_size: int):
    """(seconds encoding, seconds predicting, predictions) for CIF texts, in batches."""
    import numpy as np

    from cloud.scope.encoder import ScopeEncoder
    from cloud.train.data import RegressionCollator, ScopeDataset
    from cloud.train.loop import predict

    encoder, collator = ScopeEncoder(), RegressionCollator(tokenizer.pad_token_id)
    t_enc = t_model = 0.0
    preds = []
    for i in range(0, len(cifs), batch_size):
        t0 = time.perf_counter()
        texts = [encoder.encode(c) for c in cifs[i:i + batch_size]]
        t1 = time.perf_counter()
        out = predict(model, ScopeDataset(texts, tokenizer), collator, batch_size=batch_size)
        t_model += time.perf_counter() - t1
        t_enc += t1 - t0
        preds.append(out["predictions"])
    return t_enc, t_model, np.concatenate(preds)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example:\n  python benchmarks/perf/inference.py --structures 512 "
               "--batch-size 256 --data-dir ../shared/data",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--structures", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("CLOUD_DATA_DIR",
                                                    REPO.parent / "shared" / "data")))
    args = parser.parse_args()

    import numpy as np
    import torch
    from transformers.utils import logging as hf_logging

    from cloud.train.finetune import DEFAULT_PRETRAINED, build_model, load_tokenizer

    hf_logging.set_verbosity_error()  # the new head's "newly initialized" notice
    hf_logging.disable_progress_bar()

    cifs = load_cifs(args.data_dir, args.structures)
    tokenizer = load_tokenizer(DEFAULT_PRETRAINED)
    torch.manual_seed(0)
    model = build_model("regression", tokenizer, DEFAULT_PRETRAINED,
                        head_hidden_sizes=[256], target_mean=0.0, target_std=1.0)
    run_path(cifs[:8], model, tokenizer, 8)  # warm-up: imports, first pymatgen parse
    load = os.getloadavg()[0]
    rows = {b: run_path(cifs, model, tokenizer, b) for b in (1, args.batch_size)}
    assert np.allclose(rows[1][2], rows[args.batch_size][2], rtol=1e-4, atol=1e-5), \
        "batch 1 and batch N predictions differ"
    n = len(cifs)
    print(f"{n} CIFs ({CIF_FILE}), committed small encoder, CPU "
          f"{torch.get_num_threads()} threads, load {load:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"{'batch':>6s}{'encode s':>10s}{'model s':>10s}{'total s':>10s}{'structures/s':>14s}"
          f"{'model only/s':>14s}")
    for b, (enc, mod, _) in rows.items():
        print(f"{b:6d}{enc:10.2f}{mod:10.2f}{enc + mod:10.2f}{n / (enc + mod):14.1f}"
              f"{n / mod:14.1f}")
    (e1, m1, _), (eb, mb, _) = rows[1], rows[args.batch_size]
    print(f"ratio batch {args.batch_size} / batch 1 (structures/s): full path "
          f"{(e1 + m1) / (eb + mb):.2f}, model only {m1 / mb:.2f}")


if __name__ == "__main__":
    main()
