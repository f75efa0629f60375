"""Peak memory of streamed pretraining at two corpus sizes (resampled from the real sample).

Builds corpora of ``--sizes`` strings (default 100,000 and 1,000,000) by resampling, with
replacement and a fixed seed, the real offline OPTIMADE sample (10,000 strings): the
corpora are RESAMPLED, not real corpora of that size. Each is tokenised once into token
shards (``cloud/train/shards.py``, cached under ``--cache``), then ``python -m
cloud.train.pretrain --shards`` runs ``--steps`` steps of the ``--preset`` model in a child
process; its peak RSS comes from ``os.wait4``. Prints both peaks and their ratio.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("CLOUD_DATA_DIR", REPO.parent / "shared" / "data"))
SAMPLE = DATA / "scope_reference/pretrain_optimade_10k.csv.gz"


def resampled(texts: list[str], n: int, seed: int = 0):
    """``n`` strings drawn with replacement from ``texts``, yielded one at a time."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for start in range(0, n, 100_000):
        for i in rng.integers(0, len(texts), min(100_000, n - start)):
            yield texts[i]


def build(n: int, cache: Path) -> Path:
    from cloud.tokenizer import build_tokenizer
    from cloud.train.shards import INDEX, read_csv_rows, write_shards

    folder = cache / f"resampled_{n}"
    if not (folder / INDEX).exists():
        write_shards(resampled(list(read_csv_rows(SAMPLE)), n), build_tokenizer(), folder,
                     source_key=f"resampled {n} from {SAMPLE.name}, seed 0")
    return folder


def peak_rss_mb(shards: Path, preset: str, steps: int, batch_size: int) -> tuple[float, float]:
    """(peak RSS MB, wall s) of a child pretraining ``steps`` steps on ``shards``."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "cloud.train.pretrain", "--shards", str(shards), "--out",
               out, "--preset", preset, "--max-steps", str(steps), "--epochs", "1",
               "--batch-size", str(batch_size), "--no-progress"]
        start = time.perf_counter()
        child = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(child.stderr.read().decode()[-2000:])
        return usage.ru_maxrss / 1024, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Example:\n  python benchmarks/perf/pretrain_memory.py --steps 20",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--preset", default="tiny")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "cloud-shards")
    args = p.parse_args(argv)
    print(f"corpora RESAMPLED with replacement from {SAMPLE.name} (10,000 real strings); "
          f"{args.preset}, batch {args.batch_size}, {args.steps} steps; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    peaks = []
    for n in args.sizes:
        start = time.perf_counter()
        shards = build(n, args.cache)
        built = time.perf_counter() - start
        peak, wall = peak_rss_mb(shards, args.preset, args.steps, args.batch_size)
        peaks.append(peak)
        print(f"{n:>10,} strings (resampled): shards {built:6.1f} s, pretraining peak RSS "
              f"{peak:,.0f} MB ({wall:.1f} s)  [load {os.getloadavg()[0]:.1f}]", flush=True)
    print(f"peak RSS ratio {args.sizes[-1]:,} / {args.sizes[0]:,} strings: "
          f"{peaks[-1] / peaks[0]:.2f}x")


if __name__ == "__main__":
    main()
