"""Copy a pretraining run into the package as the default encoder.

``python scripts/package_pretrained.py runs/pretrain-small runs/corpus cloud/pretrained/cloud-small-offline``

Takes the best weights (``<run>/best``), the grammar tokenizer, the per-epoch metrics, the
run's manifest (or, for a run stopped before it wrote one, a manifest rebuilt from its
``trainer_state.json``) and the corpus summary.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import cloud  # noqa: F401


def main(run: Path, corpus: Path, dest: Path) -> None:
    from cloud.data import sha256sum
    from cloud.manifest import write_manifest
    from cloud.model import CloudForMaskedLM, count_parameters
    from cloud.tokenizer import build_tokenizer

    dest.mkdir(parents=True, exist_ok=True)
    model = CloudForMaskedLM.from_pretrained(run / "best")
    model.save_pretrained(dest)
    build_tokenizer(model.config.max_position_embeddings).save_pretrained(dest)
    shutil.copy2(run / "metrics.csv", dest / "metrics.csv")
    shutil.copy2(corpus / "overlap.json", dest / "corpus_summary.json")
    state = json.loads((run / "trainer_state.json").read_text())
    if (run / "manifest.json").exists():
        shutil.copy2(run / "manifest.json", dest / "manifest.json")
    else:
        write_manifest(
            dest / "manifest.json", config={"train": state["config"], "preset": "small",
                                            "model": model.config.to_dict()},
            seeds={"seed": state["config"]["seed"]},
            data={str(corpus / "corpus.csv.gz"): sha256sum(corpus / "corpus.csv.gz")},
            timings={"wall_s": state["wall_time"]},
            note=f"run stopped after epoch {state['epoch'] + 1} of {state['config']['epochs']}"
                 " (time budget); weights of the best epoch",
            best_epoch=state["best_epoch"], best_val_loss=state["best_score"],
            history=state["history"], train_tokens=state["train_tokens"],
            parameters={"total": count_parameters(model, non_embedding=False),
                        "non_embedding_encoder": count_parameters(model, encoder_only=True)})
    print(f"packaged {run} -> {dest}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example:\n  python scripts/package_pretrained.py runs/pretrain-small runs/corpus "
               "cloud/pretrained/cloud-small-offline",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path, help="pretraining run directory (with best/)")
    p.add_argument("corpus", type=Path, help="corpus directory (with overlap.json)")
    p.add_argument("dest", type=Path, help="package directory to write")
    return p.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    from cloud.logging_setup import quiet_third_party

    quiet_third_party()
    main(args.run, args.corpus, args.dest)
