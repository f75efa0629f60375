"""``python -m cloud.debye predict --model DIR (--cif FILE | --scope STR --n-atoms N |
--mp-id ID) [--t-min 1 --t-max 2000 --points 200] [--plot out.png] [--csv out.csv]``

Prints Θ and Cv(T), U(T) of a structure from a trained CLOUD-DEBYE checkpoint (a directory
saved by ``save_pretrained``, with its tokenizer, or a seed ensemble; loaded by
:func:`cloud.model.finetuned.load_finetuned`, which refuses a checkpoint without a trained
head), with the physics checks on the requested range and on ``LIMIT_GRID`` (where the
Dulong-Petit and T³ limits are always tested).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def _inputs(args) -> tuple[list[str], list[int], list[str]]:
    if args.cif:
        from cloud.prediction_inputs import ScopeWithPrimitiveCount
        from cloud.scope.errors import ScopeError

        try:
            scope, n = ScopeWithPrimitiveCount().encode(Path(args.cif))
        except ScopeError as exc:
            raise SystemExit(f"error: {args.cif}: {exc}") from None
        return [scope], [n], [Path(args.cif).stem]
    if args.mp_id:
        from cloud.data import read_scope_csv, resolve

        table = read_scope_csv(resolve("scope_phonon", data_dir=args.data_dir, download=False))
        missing = [m for m in args.mp_id if m not in table.index]
        if missing:
            raise SystemExit(f"not in the phonon SCOPE table: {', '.join(missing)}")
        rows = table.loc[args.mp_id]
        return list(rows["scope"]), [int(n) for n in rows["n_atoms"]], list(args.mp_id)
    if args.scope and args.n_atoms:
        return [args.scope], [args.n_atoms], ["input"]
    raise SystemExit("give --cif, --mp-id, or --scope with --n-atoms")


EPILOG = """\
Example:
  python -m cloud.debye predict --model runs/phonon_cv/fold_0_model --cif NaCl.cif \\
      --t-max 1500 --plot nacl.png --csv nacl_curves.csv

The model must be a fine-tuned CLOUD-DEBYE checkpoint (or seed ensemble); a pretraining
(MLM) checkpoint is refused (exit status 2). For many structures at a few temperatures, see
python -m cloud.predict.
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m cloud.debye", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Θ, Cv(T) and U(T) of a crystal from a fine-tuned CLOUD-DEBYE model.")
    sub = p.add_subparsers(dest="command", required=True)
    q = sub.add_parser("predict", help="Θ, Cv(T) and U(T) from a CLOUD-DEBYE checkpoint",
                       description="Θ, Cv(T) and U(T) of a crystal from a fine-tuned "
                                   "CLOUD-DEBYE checkpoint.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("--model", type=Path, required=True)
    q.add_argument("--cif")
    q.add_argument("--mp-id", nargs="+")
    q.add_argument("--scope")
    q.add_argument("--n-atoms", type=int)
    q.add_argument("--data-dir", type=Path)
    q.add_argument("--t-min", type=float, default=1.0)
    q.add_argument("--t-max", type=float, default=2000.0)
    q.add_argument("--points", type=int, default=200)
    q.add_argument("--plot", type=Path)
    q.add_argument("--csv", type=Path)
    args = p.parse_args(argv)

    from cloud.debye.curves import LIMIT_GRID, check_curves, plot_curves, predict_curves
    from cloud.model.finetuned import CheckpointError, load_finetuned

    try:  # one checkpoint or a seed ensemble; refuses checkpoints without a trained head
        finetuned = load_finetuned(args.model, kind="debye")
    except (CheckpointError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    model, tokenizer = finetuned.model, finetuned.tokenizer
    scopes, n_atoms, labels = _inputs(args)
    temps = np.linspace(args.t_min, args.t_max, args.points)
    curves = predict_curves(model, tokenizer, scopes, n_atoms, temps, labels)
    limits = predict_curves(model, tokenizer, scopes, n_atoms, LIMIT_GRID, labels)
    for c, lim in zip(curves, limits, strict=True):
        i300 = int(np.argmin(np.abs(temps - 300)))
        print(f"{c.label}: Θ = {c.theta:.1f} K, N = {c.n_atoms}; at {temps[i300]:.0f} K "
              f"Cv = {c.cv[i300]:.2f} J/(mol-cell K), U = {c.u[i300]:.1f} J/mol-cell; "
              f"checks {check_curves(c)}; limits ({LIMIT_GRID[0]:g}-{LIMIT_GRID[-1]:g} K) "
              f"{check_curves(lim)}")
    if args.plot:
        plot_curves(curves, args.plot)
    if args.csv:
        import pandas as pd

        frames = [pd.DataFrame({"label": c.label, "T": temps, "cv": c.cv, "u": c.u,
                                "theta": c.theta}) for c in curves]
        pd.concat(frames).to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
