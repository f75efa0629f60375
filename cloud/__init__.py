"""CLOUD benchmark suite: SCOPE encoding, models, training, physics and analysis."""

import os

# OpenMP threads that spin while waiting make torch on a busy CPU 10x slower (measured:
# 1.9 s vs 0.13 s per training step of the tiny model with one other busy process on 2
# cores). Sleeping waits cost little when the machine is idle. Takes effect only when
# ``cloud`` is imported before torch; set OMP_WAIT_POLICY yourself to override.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

from cloud.hf_auto import install as _install_auto_classes  # noqa: E402

_install_auto_classes()  # AutoConfig/AutoModel/... know CLOUD once transformers is imported
