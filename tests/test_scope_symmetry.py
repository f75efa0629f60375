"""moyopy as the symmetry search: it must return on every real structure (with an angle
tolerance, moyopy 0.21 never returns on some layered cells) and agree with spglib."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import shared_file

HANG_CASE = """
from cloud.scope.inputs import read_inputs
from cloud.scope.cell import to_cell
from cloud.scope.symmetry import moyo_symmetry, spglib_symmetry
rows = dict(read_inputs({path!r}))
cell = to_cell(rows["mb-jdft2d-269"])  # CrS2 monolayer, 36 A of vacuum
print(moyo_symmetry(cell).number, spglib_symmetry(cell).number)
"""


def test_moyopy_returns_on_layered_cell_that_hangs_with_angle_tolerance():
    src = shared_file("matbench/matbench_jdft2d.json.gz")
    proc = subprocess.run([sys.executable, "-c", HANG_CASE.format(path=str(src))],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    moyo, spg = map(int, proc.stdout.split())
    assert moyo >= 1 and spg >= 1
