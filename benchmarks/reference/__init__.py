"""Published CLOUD results (arXiv 2506.17345), restated in ``paper_results.json``, as tables.

``paper_table(name)`` returns one table as a DataFrame:

- ``"1"`` (phonon Cv/U MAE/MAD), ``"S3"`` (MatBench MAE), ``"S6"`` (UnconvBench MAE): one row
  per model, columns ``(task, "mean")`` / ``(task, "std")`` (a two-level column index);
- ``"S4"`` (Matbench Discovery at threshold 0): one row per model, one column per metric;
- ``"S5"`` (CLOUD on WBM at three prediction thresholds): indexed by ``threshold``;
- ``"S1"`` (hyper-parameters): one row per (dotted) setting, column ``value``.

Full keys of the JSON (``"table_s3_matbench_mae"``) and ``"table_s3"`` / ``"s3"`` work too.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

PAPER_RESULTS_PATH = Path(__file__).with_name("paper_results.json")
TABLE_KEYS = {
    "1": "table_1_phonon_mae_over_mad",
    "S1": "table_s1_hyperparameters",
    "S3": "table_s3_matbench_mae",
    "S4": "table_s4_matbench_discovery_threshold_0",
    "S5": "table_s5_cloud_wbm_thresholds",
    "S6": "table_s6_unconvbench_mae",
}
MEAN_STD_TABLES = ("1", "S3", "S6")

__all__ = ["PAPER_RESULTS_PATH", "TABLE_KEYS", "paper_results", "paper_table", "table_key"]


@lru_cache(maxsize=1)
def _load() -> dict[str, Any]:
    with open(PAPER_RESULTS_PATH, encoding="utf-8") as f:
        return json.load(f)


def paper_results() -> dict[str, Any]:
    """The whole restated JSON (a fresh copy, safe to modify)."""
    return json.loads(json.dumps(_load()))


def table_key(name: str) -> tuple[str, str]:
    """``(short, json_key)`` of a table: ``"S3"`` -> ``("S3", "table_s3_matbench_mae")``."""
    raw = str(name).strip()
    for short, key in TABLE_KEYS.items():
        if raw == key:
            return short, key
    short = raw.lower().removeprefix("table").strip(" _").upper()
    if short not in TABLE_KEYS:
        raise KeyError(f"unknown paper table {name!r}; choose from {sorted(TABLE_KEYS)}")
    return short, TABLE_KEYS[short]


def _mean_std(block: dict[str, Any]) -> pd.DataFrame:
    columns = pd.MultiIndex.from_product([block["columns"], ["mean", "std"]])
    rows = {
        model: [float("nan") if v is None else float(v) for cell in cells for v in cell]
        for model, cells in block["rows"].items()
    }
    df = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    df.index.name = "model"
    return df


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, f"{key}."))
        else:
            out[key] = v
    return out


def paper_table(name: str) -> pd.DataFrame:
    """One of the paper's tables (see the module docstring for names and layouts).

    ``df.attrs`` carries the table's ``note``, its JSON ``key`` and the paper ``source``.
    """
    short, key = table_key(name)
    doc = _load()
    block = doc[key]
    if short in MEAN_STD_TABLES:
        df = _mean_std(block)
    elif short == "S4":
        df = pd.DataFrame.from_dict(block["rows"], orient="index", columns=block["columns"])
        df.index.name = "model"
    elif short == "S5":
        cols = block["columns"]
        df = pd.DataFrame(block["rows"], columns=cols).set_index(cols[0])
        df.index.name = "threshold"
    else:  # S1: nested settings
        flat = _flatten(block)
        df = pd.DataFrame({"value": pd.Series(flat, dtype=object)})
        df.index.name = "setting"
    df.attrs.update({"key": key, "note": block.get("note", ""), "source": doc["source"]})
    return df
