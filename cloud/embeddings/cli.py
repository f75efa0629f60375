"""Embed crystals with a frozen encoder: ``python -m cloud.embeddings MODEL INPUT... --out X``.

MODEL is ``default`` (the committed small CLOUD encoder), a CLOUD or authors-format
checkpoint folder, or any Hugging Face encoder folder reading SCOPE strings; ``--init
random`` embeds with the same architecture randomly initialised (``--seed``). Inputs are those
of ``python -m cloud.predict`` (:mod:`cloud.prediction_inputs`). Output: ``X.parquet`` (columns
``id``, ``scope``, ``<pooling>_0`` ... ``<pooling>_<H-1>``) or ``X.npy`` ([N, H] float32) with
``X.ids.csv`` (``id, scope``, the rows of the array in order); beside it ``X.errors.csv`` (rows
that could not be embedded: ``id, kind, message``) and ``X.meta.json`` (encoder, its sha256,
pooling, input checksum, counts).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cloud.embeddings.encoder import DEFAULT_BATCH_SIZE, INITS, POOLINGS
from cloud.scope.symmetry import DEFAULT_SYMPREC

EPILOG = """\
Example:
  python -m cloud.embeddings default structures/ more.cif --out emb.parquet --pooling mean
  python -m cloud.embeddings cloud/pretrained/cloud-small-offline \\
      ../shared/data/matbench/matbench_jdft2d.json.gz --out jdft2d.npy

inputs: matbench JSON(.gz) with a structure column; CIF or POSCAR files, or a directory of
them; a CSV(.gz) with a cif column; a CSV(.gz) with a scope column (SCOPE strings as they
are, optional id column).
cache: $CLOUD_EMBEDDING_CACHE (default ~/.cache/cloud-bench/embeddings; "off" disables it),
keyed by (encoder sha256, input checksum, pooling).
exit status: 0 embeddings written, 1 every row failed, 2 unusable encoder or input.
"""
PROGRESS_FROM = 300


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cloud.embeddings", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Embed crystals with a frozen encoder (one vector per crystal).")
    p.add_argument("model", metavar="MODEL",
                   help="'default', a CLOUD/authors-format checkpoint or an HF encoder folder")
    p.add_argument("input", nargs="+", metavar="INPUT",
                   help="matbench JSON, CIF/POSCAR file or directory, CSV with cif or scope")
    p.add_argument("--out", type=Path, required=True,
                   help="X.parquet, or X.npy (ids in X.ids.csv); errors in X.errors.csv")
    p.add_argument("--pooling", choices=POOLINGS, default="cls",
                   help="cls: the final [CLS] vector; mean: mean over non-padding tokens")
    p.add_argument("--init", choices=INITS, default="pretrained",
                   help="random: the same architecture randomly initialised (the floor)")
    p.add_argument("--seed", type=int, default=0, help="seed of --init random (default 0)")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    p.add_argument("--symprec", type=float, default=DEFAULT_SYMPREC,
                   help="symmetry tolerance of the SCOPE encoder (Å)")
    p.add_argument("--no-cache", action="store_true", help="compute, read and write no cache")
    p.add_argument("--no-progress", action="store_true")
    return p


def stem_of(out: Path) -> Path:
    return out.with_name(out.name[: -len(out.suffix)] if out.suffix else out.name)


def write_outputs(out: Path, ids: list[str], scopes: list[str], vectors, pooling: str) -> None:
    import numpy as np
    import pandas as pd

    from cloud.fileio import write_bytes_atomic
    from cloud.scope.cli import write_csv

    if out.suffix == ".npy":
        import io

        buffer = io.BytesIO()
        np.save(buffer, vectors.astype(np.float32))
        write_bytes_atomic(out, buffer.getvalue())
        write_csv(Path(f"{stem_of(out)}.ids.csv"), ("id", "scope"), zip(ids, scopes, strict=True))
        return
    columns = [f"{pooling}_{j}" for j in range(vectors.shape[1])]
    frame = pd.concat([pd.DataFrame({"id": ids, "scope": scopes}),
                       pd.DataFrame(vectors, columns=columns)], axis=1)
    tmp = out.with_name(f"{out.name}.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(out)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.out.suffix not in (".parquet", ".npy"):
        print(f"error: --out must end in .parquet or .npy, not {args.out.name!r}",
              file=sys.stderr)
        return 2
    from cloud.embeddings.cache import cached_embed, input_checksum
    from cloud.embeddings.encoder import load_encoder
    from cloud.fileio import write_json_atomic
    from cloud.predict import unknown_tokens
    from cloud.prediction_inputs import read_prediction_inputs
    from cloud.scope.cli import write_csv
    from cloud.scope.encoder import ScopeEncoder

    try:
        encoder = load_encoder(args.model, args.init, args.seed)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        inputs = read_prediction_inputs(args.input, False, ScopeEncoder(symprec=args.symprec),
                                        None if not args.no_progress else False)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows, errors = [], list(inputs.errors)
    scopes = [r[1] for r in inputs.rows]
    for row, unknown in zip(inputs.rows, unknown_tokens(encoder.tokenizer,
                                                         encoder.prepare(scopes)), strict=True):
        if unknown:
            errors.append((row[0], "unknown_token",
                           f"not in the encoder's vocabulary: {' '.join(unknown)}"))
        else:
            rows.append(row)
    ids, scopes = [r[0] for r in rows], [r[1] for r in rows]
    vectors, stats = cached_embed(
        encoder, scopes, args.pooling, args.batch_size, None if args.no_cache else "auto",
        progress=not args.no_progress and len(rows) >= PROGRESS_FROM)
    stem = stem_of(args.out)
    write_outputs(args.out, ids, scopes, vectors, args.pooling)
    write_csv(Path(f"{stem}.errors.csv"), ("id", "kind", "message"), errors)
    write_json_atomic(Path(f"{stem}.meta.json"), {
        "encoder": {**encoder.info, "sha256": encoder.sha256}, "pooling": args.pooling,
        "hidden_size": encoder.hidden_size, "input_checksum": input_checksum(scopes),
        "inputs": [str(s) for s in args.input], "n_rows": len(rows), "n_errors": len(errors),
        "n_computed": stats.n_computed, "n_reused": stats.n_reused}, newline=True)
    print(f"{len(rows)} embedded ({stats.n_reused} from the cache), {len(errors)} failed -> "
          f"{args.out}", file=sys.stderr)
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
