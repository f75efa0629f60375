"""Measure how far the regression stage's metrics move between machines, and set tolerances.

``python benchmarks/regression_spread.py`` runs the regression stage's smoke run
(``benchmarks/run.py --task all --smoke``) several times on this machine, changing only
what differs between machines with the same code and data:

- the thread count (1, 2, 4: another float summation order in torch and BLAS);
- each math library's choice of kernels by processor, one at a time: MKL's
  (``MKL_CBWR=COMPATIBLE``, ``AVX2``, ``AVX512`` where the processor has AVX-512: torch's
  BLAS and VML on an Intel processor), ATen's (``ATEN_CPU_CAPABILITY=default``, ``avx2``,
  ``avx512`` where present: Sleef width and reduction order), OpenBLAS's
  (``OPENBLAS_CORETYPE=Haswell``: numpy's and scipy's BLAS/LAPACK), numpy's own SIMD loops
  (``NPY_DISABLE_CPU_FEATURES``: the baseline x86-64-v2 only) and glibc's libm variants
  (``GLIBC_TUNABLES`` without AVX2/FMA);

and once with every model's seed moved by one, which is not a machine difference but the
size of a real change (another model). Per model kind (``network``: CLOUD models trained in
torch; ``deterministic``: the baselines) and metric it records the largest move against the
reference run and sets the tolerance to ``SAFETY`` times it, into
``benchmarks/regression_tolerance.json``, with how it was measured and how it compares with
the seed spread. ``regression.py check`` reads that file.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.regression import (  # noqa: E402
    TOLERANCE_FILE,
    default_data_dir,
    extract,
    library_versions,
    offline_env,
    run_command,
)

SAFETY = 10.0  # tolerance = SAFETY x the largest move seen between machine variants
FLOOR = {"rtol": 1e-7, "atol": 1e-9}  # never tighter than float noise
SEED_VARIANT = "seed_plus_1"


def has_avx512() -> bool:
    """Whether this processor has AVX-512 (Linux: /proc/cpuinfo), so its variants can run."""
    try:
        return " avx512f" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def dispatch_variants(avx512: bool | None = None) -> dict[str, dict[str, str]]:
    """Name -> environment changes selecting other kernels in one math library each (threads
    left at the reference's); AVX-512 ones only where the processor has it."""
    avx512 = has_avx512() if avx512 is None else avx512
    out = {"mkl_cbwr_compatible": {"MKL_CBWR": "COMPATIBLE"},
           "mkl_cbwr_avx2": {"MKL_CBWR": "AVX2"}}
    if avx512:
        out["mkl_cbwr_avx512"] = {"MKL_CBWR": "AVX512"}
    out.update(aten_default={"ATEN_CPU_CAPABILITY": "default"},
               aten_avx2={"ATEN_CPU_CAPABILITY": "avx2"})
    if avx512:
        out["aten_avx512"] = {"ATEN_CPU_CAPABILITY": "avx512"}
    out.update(openblas_haswell={"OPENBLAS_CORETYPE": "Haswell"},
               numpy_baseline_simd={"NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL"},
               libm_no_fma={"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA,-AVX512F"})
    return out


VARIANTS = {  # name -> environment changes; "reference" is the run every other is compared to
    "reference": {"OMP_NUM_THREADS": "2"},
    "threads_1": {"OMP_NUM_THREADS": "1"},
    "threads_4": {"OMP_NUM_THREADS": "4"},
    **{name: {"OMP_NUM_THREADS": "2", **env} for name, env in dispatch_variants().items()},
}

EXAMPLE = """Example:
  python benchmarks/regression_spread.py            # about 14 runs of the smoke stage
  python benchmarks/regression_spread.py --summaries runs/spread   # re-derive from runs
"""


def seed_overlay(path: Path) -> Path:
    """A config file moving every model's seed by one (every task's merged models)."""
    from benchmarks.config import load_layers, task_config
    from benchmarks.models import for_type
    from benchmarks.tasks import select

    layers = load_layers()
    tasks = {}
    for t in select("all"):
        models = {}
        for name, spec in task_config(layers, t.name, t.family, smoke=True)["models"].items():
            if "type" not in spec:
                continue
            if for_type(spec["type"]).trains_network:  # its seed is the training's
                seed = int((spec.get("train") or {}).get("seed", 42))
                models[name] = {"train": {"seed": seed + 1}}
            elif "seed" in spec:
                models[name] = {"seed": int(spec["seed"]) + 1}
        tasks[t.name] = {"models": models}
    path.write_text(yaml.safe_dump({"tasks": tasks}))
    return path


def run_variant(name: str, out: Path, data_dir: Path, scope_cache: Path) -> Path:
    summary = out / name / "summary.json"
    if summary.exists():
        return summary
    cmd = run_command(out / name, data_dir)
    env = offline_env(out / name / "download-cache", str(scope_cache))
    for key in {k for v in VARIANTS.values() for k in v}:  # only the variant's own choice
        env.pop(key, None)
    if name == SEED_VARIANT:
        cmd += ["--config", str(seed_overlay(out / "seed_plus_1.yaml"))]
        env.update(VARIANTS["reference"])
    else:
        env.update(VARIANTS[name])
    t0 = time.perf_counter()
    print(f"spread: {name} ...", file=sys.stderr, flush=True)
    subprocess.run(cmd, env=env, check=True, cwd=REPO, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    print(f"spread: {name} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return summary


def moves(reference: dict, other: dict) -> dict[tuple[str, str], dict]:
    """Per (model kind, metric): the largest absolute and relative move, and where."""
    out: dict[tuple[str, str], dict] = {}
    for task, rec in reference.items():
        if rec.get("status") != "done" or task not in other:
            continue
        for model, folds in rec["models"].items():
            kind = rec["types"][model]
            for fold, metrics in folds.items():
                for metric, base in metrics.items():
                    now = other[task]["models"].get(model, {}).get(fold, {}).get(metric)
                    if now is None or base is None or math.isnan(base) or math.isnan(now):
                        continue
                    d = abs(now - base)
                    m = out.setdefault((kind, metric), {"abs": 0.0, "rel": 0.0, "n": 0,
                                                        "where": "", "rels": []})
                    m["n"] += 1
                    if abs(base) >= 1e-2:
                        rel = d / abs(base)
                        m["rels"].append(rel)
                        if rel > m["rel"]:
                            m["rel"], m["where"] = rel, f"{task} {model} fold {fold}"
                    else:  # near zero (e.g. R² of a weak model): absolute
                        m["abs"] = max(m["abs"], d)
    for m in out.values():
        rels = sorted(m.pop("rels"))
        m["median_rel"] = rels[len(rels) // 2] if rels else 0.0
    return out


def tolerances(per_variant: dict[str, dict], seed: dict) -> dict:
    """Per (kind, metric): ``SAFETY`` x the largest move between machine variants; where the
    float noise is not zero, at least the geometric mean of that move and the typical
    (median) move of a real change, i.e. halfway between the two on a log scale, which
    leaves room for processors unlike the ones measured; never above a tenth of the typical
    real change."""
    table: dict[str, dict] = {}
    keys = {k for v in per_variant.values() for k in v}
    for kind, metric in sorted(keys):
        worst_rel = max(v.get((kind, metric), {}).get("rel", 0.0) for v in per_variant.values())
        worst_abs = max(v.get((kind, metric), {}).get("abs", 0.0) for v in per_variant.values())
        real = seed.get((kind, metric), {})
        rtol = SAFETY * worst_rel
        if worst_rel > 0 and real.get("median_rel", 0) > 0:
            rtol = max(rtol, min(math.sqrt(worst_rel * real["median_rel"]),
                                 real["median_rel"] / SAFETY))
        atol = SAFETY * worst_abs
        if worst_abs > 0 and real.get("abs", 0) > 0:
            atol = max(atol, min(math.sqrt(worst_abs * real["abs"]), real["abs"] / SAFETY))
        table.setdefault(kind, {})[metric] = {
            "rtol": max(rtol, FLOOR["rtol"]), "atol": max(atol, FLOOR["atol"]),
            "largest_move_rel": worst_rel, "largest_move_abs_near_zero": worst_abs}
    return table


def processor() -> str:
    """This machine's processor model and whether it has AVX-512 (where the spread ran)."""
    import platform

    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name} ({'with' if has_avx512() else 'without'} AVX-512)"


def spread_table(per_variant: dict[str, dict]) -> dict[str, dict[str, dict]]:
    """Variant -> model kind -> the largest relative move over every metric and fold (and
    the largest absolute one of near-zero values), with where it happened."""
    out: dict[str, dict[str, dict]] = {}
    for name, mv in per_variant.items():
        for (kind, _), m in mv.items():
            row = out.setdefault(name, {}).setdefault(kind, {"rel": 0.0, "abs_near_zero": 0.0,
                                                             "where": ""})
            if m["rel"] > row["rel"]:
                row["rel"], row["where"] = m["rel"], m["where"]
            row["abs_near_zero"] = max(row["abs_near_zero"], m["abs"])
    return out


def format_spread_table(table: dict[str, dict[str, dict]]) -> str:
    """The spread as a markdown table: variant x model kind, the largest relative move."""
    kinds = sorted({k for row in table.values() for k in row})
    lines = ["| variant | " + " | ".join(kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
    for name, row in table.items():
        cells = [f"{row[k]['rel']:.2e}" if k in row else "-" for k in kinds]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=EXAMPLE,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--summaries", type=Path, default=None,
                   help="keep (and reuse) the runs here instead of a temporary folder")
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--out", type=Path, default=TOLERANCE_FILE)
    args = p.parse_args(argv)
    data_dir = args.data_dir or default_data_dir()
    with tempfile.TemporaryDirectory(prefix="cloud-spread-") as tmp:
        root = args.summaries or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        scope_cache = root / "scope-cache"  # encode once, for every variant
        runs = {name: extract(json.loads(run_variant(name, root, data_dir,
                                                     scope_cache).read_text()))
                for name in [*VARIANTS, SEED_VARIANT]}
    reference = runs.pop("reference")
    seed = moves(reference, runs.pop(SEED_VARIANT))
    machine = {name: moves(reference, run) for name, run in runs.items()}
    table = tolerances(machine, seed)
    for kind, metrics in table.items():
        for metric, tol in metrics.items():
            s = seed.get((kind, metric), {})
            tol["seed_move_median_rel"] = s.get("median_rel", 0.0)
            tol["seed_move_largest_rel"] = s.get("rel", 0.0)
            tol["seed_move_abs_near_zero"] = s.get("abs", 0.0)
    record = {
        "about": "Tolerances of the regression stage per model kind and metric, from the "
                 "smoke run's metrics on one machine: largest_move_* is the largest move "
                 "between machine variants (threads 1/2/4; each math library's kernels: "
                 "MKL_CBWR, ATEN_CPU_CAPABILITY, OPENBLAS_CORETYPE, NPY_DISABLE_CPU_FEATURES, "
                 "GLIBC_TUNABLES, see variants), seed_move_* that of a real change (every seed "
                 "moved by one); relative for |value| >= 0.01, absolute below. rtol/atol: "
                 f"{SAFETY:g} x the machine move, and where that is not zero at least the "
                 "geometric mean of the machine move and the median real change (halfway on "
                 f"a log scale), at most a {SAFETY:g}th of the median real change. Written by "
                 "benchmarks/regression_spread.py.",
        "rule": "|now - baseline| <= atol + rtol * |baseline|",
        "variants": {**VARIANTS, SEED_VARIANT: "reference with every model's seed + 1"},
        "recorded": {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     "processor": processor(), **library_versions()},
        "tolerances": table,
        "largest_moves": {name: {f"{k}/{m}": v for (k, m), v in mv.items()}
                          for name, mv in {**machine, SEED_VARIANT: seed}.items()},
        "spread_table": spread_table({**machine, SEED_VARIANT: seed}),
    }
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"tolerances written: {args.out}")
    print(format_spread_table(record["spread_table"]))
    for kind, metrics in table.items():
        for metric, tol in metrics.items():
            if not metric.count("/"):  # the headline metrics; the file has every one
                print(f"  {kind:13s} {metric:12s} rtol {tol['rtol']:.2e} atol "
                      f"{tol['atol']:.2e} (machine move {tol['largest_move_rel']:.2e}, "
                      f"median real change {tol['seed_move_median_rel']:.2e})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
