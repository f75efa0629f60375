"""Reproduce cloud on MatBench v0.1 with the CLOUD benchmark suite."""

import shlex
import subprocess

subprocess.run(shlex.split('python benchmarks/run.py --task matbench_jdft2d,matbench_phonons --models cloud'), check=True)
