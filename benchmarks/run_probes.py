"""Frozen-encoder probes on benchmark tasks: ``python -m benchmarks.run_probes [--encoder DIR]``.

Runs the ridge and kNN probes (:mod:`benchmarks.models.probes`) through ``benchmarks/run.py``
on the official folds: on the committed CLOUD encoder and its random-init floor (the rows of
``configs/experiments/probes.yaml``) and on every ``--encoder [NAME=]DIR`` (a CLOUD or
authors-format checkpoint, or any Hugging Face encoder folder reading SCOPE strings), whose
rows are ``probe_ridge_<NAME>`` and ``probe_knn_<NAME>`` (NAME: the folder's name unless given).
Arguments it does not know go to the runner as they are (``--task``, ``--out``, ``--folds``,
``--smoke``, ``--data-dir``...). The models it adds are written to ``<out>/probe_models.yaml``
and recorded in the run's manifest like any other config.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

from benchmarks.config import EXPERIMENTS
from cloud.embeddings.encoder import POOLINGS

PROBES_CONFIG = EXPERIMENTS / "probes.yaml"
PROBES = {"ridge": "ridge_probe", "knn": "knn_probe"}
BUILT_IN_ROWS = {"committed": "", "floor": "_random"}

EPILOG = """\
Example:
  python -m benchmarks.run_probes --task matbench_jdft2d,cv --out runs/probes
  python -m benchmarks.run_probes --encoder mine=path/to/my_encoder --no-floor \\
      --task matbench_jdft2d --out runs/probes_mine
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run_probes", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Ridge and kNN probes on frozen encoders, on the benchmark's folds.\n"
                    "Arguments not listed here go to benchmarks/run.py.")
    p.add_argument("--encoder", action="append", default=[], metavar="[NAME=]DIR",
                   help="another encoder to probe (repeat for several)")
    p.add_argument("--probes", default="ridge,knn", help="comma list of: ridge, knn")
    p.add_argument("--pooling", choices=POOLINGS, default="cls",
                   help="pooling of the --encoder rows (default cls)")
    p.add_argument("--no-committed", action="store_true",
                   help="leave out the committed encoder's rows")
    p.add_argument("--no-floor", action="store_true",
                   help="leave out the random-init floor's rows")
    p.add_argument("--out", type=Path, default=Path("runs/probes"))
    return p


def encoder_entries(specs: list[str]) -> dict[str, str]:
    """``{name: folder}`` of ``--encoder`` values (``NAME=DIR`` or ``DIR``)."""
    out = {}
    for spec in specs:
        name, sep, folder = spec.partition("=")
        if not sep:
            name, folder = Path(spec).name, spec
        name = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_").lower()
        if not name or not folder:
            raise ValueError(f"--encoder {spec!r}: write NAME=DIR or DIR")
        if not (Path(folder) / "config.json").exists():
            raise ValueError(f"--encoder {spec!r}: {folder} has no config.json")
        out[name] = folder
    return out


def probe_models(encoders: dict[str, str], probes: list[str], pooling: str) -> dict:
    """The config layer of the ``--encoder`` rows (Debye tasks: fitted to log Θ)."""
    models, phonon = {}, {}
    for name, folder in encoders.items():
        for probe in probes:
            row = f"probe_{probe}_{name}"
            models[row] = {"type": PROBES[probe], "encoder": str(folder), "pooling": pooling,
                           "resources": {"num_cpus": 1}}
            phonon[row] = {"predicts": "debye_temperature"}
    return {"models": models, "families": {"phonon": {"models": phonon}}}


def row_names(encoders: dict[str, str], probes: list[str], committed: bool,
              floor: bool) -> list[str]:
    rows = [f"probe_{p}{BUILT_IN_ROWS[kind]}" for kind, on in (("committed", committed),
                                                               ("floor", floor))
            if on for p in probes]
    return rows + [f"probe_{p}_{name}" for name in encoders for p in probes]


def main(argv: list[str] | None = None) -> int:
    args, rest = build_parser().parse_known_args(argv)
    probes = [p.strip() for p in args.probes.split(",") if p.strip()]
    try:
        unknown = sorted(set(probes) - set(PROBES))
        if unknown or not probes:
            raise ValueError(f"--probes: choose from {', '.join(PROBES)}")
        encoders = encoder_entries(args.encoder)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = row_names(encoders, probes, not args.no_committed, not args.no_floor)
    if not rows:
        print("error: no rows: give --encoder or drop --no-committed/--no-floor",
              file=sys.stderr)
        return 2
    configs = ["--config", str(PROBES_CONFIG)]
    if encoders:
        from cloud.fileio import write_text_atomic

        extra = args.out / "probe_models.yaml"
        write_text_atomic(extra, yaml.safe_dump(probe_models(encoders, probes, args.pooling),
                                                sort_keys=False))
        configs += ["--config", str(extra)]
    from benchmarks.run import main as run_main

    return run_main([*configs, "--models", ",".join(rows), "--out", str(args.out), *rest])


if __name__ == "__main__":
    sys.exit(main())
