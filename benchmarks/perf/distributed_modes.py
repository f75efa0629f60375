"""Wall time of the same benchmark jobs in one process and in K processes, both ways.

Side by side in one run, each a fresh output folder and a child process (offline, on the
data directory only): ``benchmarks/run.py`` with the same tasks, models and folds

1. in one process;
2. under ``accelerate launch --num_processes K`` with ``--distribute jobs`` (the jobs are
   split across the processes);
3. the same with ``--distribute data`` (every job trains data-parallel on all K).

It prints each wall time, the speed-up over one process as ``N.NNx``, and the machine's
load. On CPU the K processes are started with ``--multi_gpu`` (K processes, no GPU).
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
if str(REPO) not in sys.path:  # `python benchmarks/perf/...` from a plain checkout
    sys.path.insert(0, str(REPO))

EXAMPLE = """Example:
  python benchmarks/perf/distributed_modes.py                       # jdft2d, 2 folds, 2 processes
  python benchmarks/perf/distributed_modes.py --processes 4 --folds 0,1,2,3
"""


def launch(out: Path, args, processes: int, mode: str | None) -> float:
    from benchmarks.regression import offline_env

    runner = [str(REPO / "benchmarks" / "run.py"), "--task", args.task, "--folds", args.folds,
              "--models", args.models, "--no-progress", "--out", str(out),
              "--data-dir", str(args.data_dir), "--config", str(args.config_file)]
    if processes == 1:
        cmd = [sys.executable, *runner]
    else:
        accelerate = Path(sys.executable).with_name("accelerate")
        cmd = [str(accelerate), "launch", "--multi_gpu", "--num_processes", str(processes),
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               *runner, "--distribute", mode]
    env = offline_env(out / "download-cache", str(args.scope_cache))
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv=None) -> int:
    from benchmarks.regression import default_data_dir

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=EXAMPLE,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", default="matbench_jdft2d")
    p.add_argument("--folds", default="0,1")
    p.add_argument("--models", default="cloud")
    p.add_argument("--epochs", type=int, default=5, help="fine-tuning epochs of each job")
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--data-dir", type=Path, default=None)
    args = p.parse_args(argv)
    args.data_dir = args.data_dir or default_data_dir()
    with tempfile.TemporaryDirectory(prefix="cloud-modes-") as tmp:
        root = Path(tmp)
        args.scope_cache = root / "scope-cache"
        args.config_file = root / "epochs.yaml"
        args.config_file.write_text(
            f"defaults:\n  models:\n    cloud:\n      train: {{epochs: {args.epochs}, "
            "early_stopping_patience: null}\n"
            f"tasks:\n  {args.task}:\n    models:\n      cloud: {{attention: false, train: "
            f"{{epochs: {args.epochs}}}}}\n")
        launch(root / "warm", args, 1, None)  # encodes once into the SCOPE cache
        print(f"{args.task} folds {args.folds}, models {args.models}, {args.epochs} epochs "
              f"each; {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
        one = launch(root / "one", args, 1, None)
        print(f"one process: {one:.1f} s")
        for mode in ("jobs", "data"):
            load = os.getloadavg()[0]
            t = launch(root / mode, args, args.processes, mode)
            print(f"{args.processes} processes, --distribute {mode}: {t:.1f} s, "
                  f"{one / t:.2f}x one process (load {load:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
