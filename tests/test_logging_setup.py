"""cloud.logging_setup.quiet_third_party: no library chatter on stderr, errors kept, and
CLOUD_VERBOSE=1 turns it off (the control that shows the chatter is really produced)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CHILD = """
import sys, warnings
if sys.argv[2] == "early":
    import transformers.utils.logging  # already imported when the CLI quiets the libraries
from cloud.logging_setup import quiet_third_party
quiet_third_party()
from transformers import BertConfig
from cloud.model import CloudConfig, CloudForMaskedLM, CloudForRegression

out = sys.argv[1]
CloudForMaskedLM(CloudConfig.preset("tiny", vocab_size=50)).save_pretrained(out + "/mlm")
CloudForRegression.from_pretrained(out + "/mlm")
BertConfig().save_pretrained(out + "/bert")
CloudConfig.from_pretrained(out + "/bert")
warnings.warn_explicit("old spglib call", DeprecationWarning, "spg.py", 1, module="spglib.spg")
warnings.warn("OMP_NUM_THREADS/MKL_NUM_THREADS unset, we set it at 1", UserWarning)
from transformers.utils import logging as hf_logging
hf_logging.get_logger("transformers.modeling_utils").error("a real error stays visible")
import os
print("TOKENIZERS_PARALLELISM=" + str(os.environ.get("TOKENIZERS_PARALLELISM")))
"""

NOISE = ("Loading weights", "Writing model shards", "%|", "LOAD REPORT",
         "You are using a model of type", "old spglib call", "OMP_NUM_THREADS")


def _child(tmp_path, when: str, verbose: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("CLOUD_VERBOSE", "TRANSFORMERS_VERBOSITY",
                        "HF_HUB_DISABLE_PROGRESS_BARS", "TOKENIZERS_PARALLELISM")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if verbose:
        env["CLOUD_VERBOSE"] = "1"
    # -W default: show every warning once, as a user running with warnings on would see them
    return subprocess.run([sys.executable, "-W", "default", "-c", CHILD, str(tmp_path), when],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("when", ["early", "late"])
def test_loading_a_model_prints_no_library_chatter(tmp_path, when):
    proc = _child(tmp_path, when, verbose=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [n for n in NOISE if n in proc.stderr] == [], proc.stderr
    assert "a real error stays visible" in proc.stderr
    assert "TOKENIZERS_PARALLELISM=false" in proc.stdout


def test_cloud_verbose_keeps_the_chatter(tmp_path):
    proc = _child(tmp_path, "late", verbose=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [n for n in NOISE if n not in proc.stderr] == [], proc.stderr
    assert "TOKENIZERS_PARALLELISM=None" in proc.stdout
