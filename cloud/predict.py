"""Predict a materials property with a fine-tuned CLOUD model, from structures or SCOPE strings.

``python -m cloud.predict MODEL_DIR INPUT [INPUT ...] --out preds.csv``: MODEL_DIR is a
fine-tuned checkpoint (``save_pretrained`` of a CloudForRegression or CloudForDebye with its
tokenizer, or a seed ensemble of them); see :mod:`cloud.prediction_inputs` for the inputs.
Output: ``id, scope, prediction`` (regression, in the target's original units) or ``id, scope,
n_atoms, theta_K, cv_<T>K, u_<T>K`` (CLOUD-DEBYE: Θ in K, Cv in J/(mol-cell K), U in
J/mol-cell at each requested temperature). Rows that fail go to ``<out stem>.errors.csv``
(``id, kind, message``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from cloud.scope.symmetry import DEFAULT_SYMPREC

EPILOG = """\
Example:
  python -m cloud.predict runs/phonon_cv/fold_0_model structures/ more.cif \\
      --out preds.csv --temperatures 100,300,1000

inputs: matbench JSON(.gz) with a structure column; CIF or POSCAR files, or a directory of
them; a CSV(.gz) with a cif column; a CSV(.gz) with a scope column (SCOPE strings as they
are, optional id column, and for CLOUD-DEBYE an n_atoms column = atoms per primitive cell).
exit status: 0 predictions written, 1 every row failed, 2 unusable model or input.
"""
#: Progress bar from this many rows on.
PROGRESS_FROM = 300


def parse_temperatures(text: str) -> list[float]:
    try:
        temps = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of numbers: {text!r}") from None
    if not temps or any(not np.isfinite(t) or t <= 0 for t in temps):
        raise argparse.ArgumentTypeError(f"temperatures must be positive kelvin: {text!r}")
    return temps


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cloud.predict", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Predict with a fine-tuned CLOUD model: a property, or Θ, Cv and U.")
    p.add_argument("model", type=Path, metavar="MODEL_DIR",
                   help="fine-tuned checkpoint (save_pretrained with its tokenizer) or ensemble")
    p.add_argument("input", nargs="+", metavar="INPUT",
                   help="matbench JSON, CIF/POSCAR file or directory, CSV with cif or scope")
    p.add_argument("--out", type=Path, required=True, help="output CSV (errors: OUT.errors.csv)")
    p.add_argument("--temperatures", type=parse_temperatures, default=[300.0],
                   help="CLOUD-DEBYE: comma-separated temperatures in K (default 300)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--symprec", type=float, default=DEFAULT_SYMPREC,
                   help="symmetry tolerance of the SCOPE encoder and primitive cell (Å)")
    p.add_argument("--no-progress", action="store_true")
    return p


def temperature_label(t: float) -> str:
    return f"{t:g}K"


def unknown_tokens(tokenizer, scopes: list[str]) -> list[list[str]]:
    """Per SCOPE string, the pieces the tokenizer does not know (they would read as [UNK])."""
    if not scopes:
        return []
    enc = tokenizer(scopes, return_offsets_mapping=True, add_special_tokens=False)
    unk = tokenizer.unk_token_id
    return [[s[a:b] for i, (a, b) in zip(ids, offsets, strict=True) if i == unk]
            for s, ids, offsets in zip(scopes, enc["input_ids"], enc["offset_mapping"],
                                       strict=True)]


def predict_scopes(finetuned, scopes: list[str], n_atoms: list[int] | None = None,
                   temperatures: list[float] | None = None, batch_size: int = 256,
                   progress: bool = False) -> dict[str, np.ndarray]:
    """Model outputs for SCOPE strings, in batches: ``prediction`` (regression; [N] or
    [N, targets]) or ``theta``, ``cv``, ``u`` ([N, T] over ``temperatures``, CLOUD-DEBYE)."""
    import torch
    from tqdm.auto import tqdm

    model, tokenizer = finetuned.model, finetuned.tokenizer
    temps = torch.tensor(temperatures or [300.0], dtype=torch.float32)
    parts: dict[str, list] = {}
    max_length = int(model.config.max_position_embeddings)
    for start in tqdm(range(0, len(scopes), batch_size), desc="predict", unit="batch",
                      disable=not progress):
        enc = tokenizer(scopes[start:start + batch_size], padding=True, truncation=True,
                        max_length=max_length, return_tensors="pt")
        with torch.no_grad():
            if finetuned.kind == "regression":
                out = {"prediction": model(enc["input_ids"], enc["attention_mask"]).predictions}
            else:
                n = torch.tensor(n_atoms[start:start + batch_size], dtype=torch.float32)
                theta, cv, u = model.predict_curves(enc["input_ids"], enc["attention_mask"],
                                                    n, temps)
                out = {"theta": theta, "cv": cv, "u": u}
        for key, value in out.items():
            parts.setdefault(key, []).append(value.float().cpu().numpy())
    return {k: np.concatenate(v) for k, v in parts.items()}


def _number(x: float) -> str:
    return f"{float(x):.8g}"


def output_table(kind: str, rows: list[tuple[str, str, int | None]], out: dict,
                 temperatures: list[float]) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the predictions CSV."""
    ids, scopes = [r[0] for r in rows], [r[1] for r in rows]
    if kind == "regression":
        pred = out.get("prediction", np.zeros(0))
        if pred.ndim == 2:
            header = ["id", "scope", *(f"prediction_{j}" for j in range(pred.shape[1]))]
            return header, [[i, s, *map(_number, p)] for i, s, p in zip(ids, scopes, pred,
                                                                        strict=True)]
        return ["id", "scope", "prediction"], [[i, s, _number(p)] for i, s, p in
                                               zip(ids, scopes, pred, strict=True)]
    labels = [temperature_label(t) for t in temperatures]
    header = ["id", "scope", "n_atoms", "theta_K", *(f"cv_{t}" for t in labels),
              *(f"u_{t}" for t in labels)]
    table = [[i, s, str(n), _number(out["theta"][k]), *map(_number, out["cv"][k]),
              *map(_number, out["u"][k])] for k, (i, s, n) in enumerate(rows)]
    return header, table


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from cloud.model.finetuned import CheckpointError, load_finetuned
    from cloud.prediction_inputs import read_prediction_inputs
    from cloud.scope.cli import errors_path_for, write_csv
    from cloud.scope.encoder import ScopeEncoder

    try:
        finetuned = load_finetuned(args.model)
    except (CheckpointError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    progress = None if not args.no_progress else False
    try:
        inputs = read_prediction_inputs(args.input, finetuned.kind == "debye",
                                        ScopeEncoder(symprec=args.symprec), progress)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows, errors = [], list(inputs.errors)
    if getattr(finetuned.model.config, "scope_tokenizer", "wordlevel") == "paper":
        # built on the paper's tokenizer: fed the paper table's generator strings, as in training
        from cloud.scope.errata import with_table_generators

        inputs.rows = [(i, with_table_generators(s), *rest) for i, s, *rest in inputs.rows]
    for row, unknown in zip(inputs.rows, unknown_tokens(finetuned.tokenizer,
                                                         [r[1] for r in inputs.rows]),
                            strict=True):
        if unknown:
            errors.append((row[0], "unknown_token",
                           f"not in the model's vocabulary: {' '.join(unknown)}"))
        else:
            rows.append(row)
    out = predict_scopes(finetuned, [r[1] for r in rows], [r[2] for r in rows],
                         args.temperatures, args.batch_size,
                         progress=not args.no_progress and len(rows) >= PROGRESS_FROM)
    header, table = output_table(finetuned.kind, rows, out, args.temperatures)
    write_csv(args.out, header, table)
    write_csv(errors_path_for(args.out), ("id", "kind", "message"), errors)
    print(f"{len(rows)} predicted, {len(errors)} failed -> {args.out}", file=sys.stderr)
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
