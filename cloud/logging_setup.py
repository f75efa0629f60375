"""Quiet third-party chatter in the command-line tools; ``CLOUD_VERBOSE=1`` keeps it.

Silenced: transformers' and huggingface_hub's progress bars ("Loading weights", "Writing
model shards"), transformers' info and warnings (the load report listing newly initialised
head weights, "You are using a model of type ..."), the tokenizers warning about
parallelism after a fork, accelerate's "OMP_NUM_THREADS/MKL_NUM_THREADS unset" warning and
the deprecation warnings of spglib and pymatgen. Errors are still shown, and the project's
own progress bars are not affected. Settings that travel through the environment (so that
child processes are quiet too) are only defaults: a value the user set is kept.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

ENV_DEFAULTS = {
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def verbose() -> bool:
    """True when ``CLOUD_VERBOSE`` is set to anything but empty/0/false/no."""
    return os.environ.get("CLOUD_VERBOSE", "").strip().lower() not in ("", "0", "false", "no")


def quiet_third_party() -> None:
    """Silence third-party noise for this process and its children (unless CLOUD_VERBOSE)."""
    if verbose():
        return
    for key, value in ENV_DEFAULTS.items():
        os.environ.setdefault(key, value)
    warnings.filterwarnings("ignore", message="OMP_NUM_THREADS/MKL_NUM_THREADS unset")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"(spglib|pymatgen)\b")
    warnings.filterwarnings("ignore", message="Set OLD_ERROR_HANDLING to false")
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"pymatgen\b")
    logging.getLogger("accelerate").setLevel(logging.ERROR)
    # the environment is read at import: libraries already imported are told directly
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        if os.environ["TRANSFORMERS_VERBOSITY"] == "error":
            hf_logging.set_verbosity_error()
        if os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1":
            hf_logging.disable_progress_bar()
    elif "huggingface_hub" in sys.modules and os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1":
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
