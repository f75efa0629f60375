"""Error analysis of the phonon Cv/U models, as the paper's Fig. 4.

Three panels per task: (a) the distribution of signed errors (prediction - target) per
model; (b) the mean absolute error in six equal-count bins of the primitive-cell volume;
(c) the mean absolute error per crystal system.

Per-material features (:func:`material_features`):

* space group: from the SCOPE string's generator part
  (:func:`cloud.scope.space_group.space_group_number`);
  crystal system from the space-group number (:func:`crystal_system`, seven systems,
  trigonal 143-167 apart from hexagonal 168-194);
* primitive-cell volume: the volume of the stored structure times ``n_atoms / n_sites``
  (``n_atoms`` = atoms per primitive cell, the Debye model's N), in Å^3; NaN where no
  structure exists. Rows without a volume are left out of panel (b) only, and counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

CRYSTAL_SYSTEMS = ("triclinic", "monoclinic", "orthorhombic", "tetragonal", "trigonal",
                   "hexagonal", "cubic")
_LAST_NUMBER = (2, 15, 74, 142, 167, 194, 230)  # last space group of each crystal system
N_VOLUME_BINS = 6


def crystal_system(number: int) -> str:
    """Crystal system of a space-group number (1-230)."""
    if not 1 <= int(number) <= 230:
        raise ValueError(f"space-group number out of range: {number}")
    return next(s for s, last in zip(CRYSTAL_SYSTEMS, _LAST_NUMBER, strict=True)
                if number <= last)


def scope_space_group(scope: str) -> int:
    """Space-group number of a SCOPE string (from its generator part)."""
    from cloud.scope.format import Scope
    from cloud.scope.space_group import space_group_number

    return space_group_number(Scope.parse(scope).generator)


def primitive_volume(structure: Mapping, n_atoms: int) -> float:
    """Primitive-cell volume (Å^3) of a pymatgen structure dict with ``n_atoms`` per primitive
    cell: the cell volume per site times ``n_atoms``."""
    lattice = np.asarray(structure["lattice"]["matrix"], dtype=float)
    return float(abs(np.linalg.det(lattice)) * n_atoms / len(structure["sites"]))


def material_features(scopes: Mapping[str, str], n_atoms: Mapping[str, int],
                      structures: Mapping[str, Mapping]) -> pd.DataFrame:
    """``space_group``, ``crystal_system`` and ``volume`` (NaN without a structure) per id."""
    rows = []
    for ident, scope in scopes.items():
        number = scope_space_group(scope)
        s = structures.get(ident)
        rows.append({"id": ident, "space_group": number, "crystal_system": crystal_system(number),
                     "volume": np.nan if s is None else primitive_volume(s, n_atoms[ident])})
    return pd.DataFrame(rows).set_index("id")


def equal_count_bins(values: np.ndarray, n_bins: int = N_VOLUME_BINS) -> np.ndarray:
    """Bin index (0 .. n_bins-1) of each value: sorted by value (ties by position), the rows
    are cut into ``n_bins`` groups whose sizes differ by at most one."""
    values = np.asarray(values, dtype=float)
    if not np.isfinite(values).all():
        raise ValueError("equal_count_bins needs finite values (drop rows without a volume)")
    if len(values) < n_bins:
        raise ValueError(f"{len(values)} values cannot fill {n_bins} bins")
    rank = np.empty(len(values), dtype=int)
    rank[np.argsort(values, kind="stable")] = np.arange(len(values))
    return rank * n_bins // len(values)


def error_table(targets: Mapping[str, float], predictions: Mapping[str, Mapping[str, float]],
                features: pd.DataFrame, n_bins: int = N_VOLUME_BINS) -> pd.DataFrame:
    """One row per (model, id): target, prediction, error, abs_error and the features, with
    ``volume_bin`` (equal-count bins over the distinct ids that have a volume; -1 without, and
    for every row when fewer ids than bins have one)."""
    frames = []
    for model, preds in predictions.items():
        ids = list(preds)
        frames.append(pd.DataFrame({
            "model": model, "id": ids, "target": [targets[i] for i in ids],
            "prediction": [preds[i] for i in ids]}))
    table = pd.concat(frames, ignore_index=True)
    table["error"] = table["prediction"] - table["target"]
    table["abs_error"] = table["error"].abs()
    table = table.join(features, on="id")
    with_volume = table.drop_duplicates("id").dropna(subset=["volume"])
    bins = {} if len(with_volume) < n_bins else dict(zip(
        with_volume["id"], equal_count_bins(with_volume["volume"], n_bins), strict=True))
    table["volume_bin"] = table["id"].map(bins).fillna(-1).astype(int)
    return table


def error_distribution(table: pd.DataFrame) -> pd.DataFrame:
    """Per model: n, MAE, mean and std of the signed error, and its quantiles."""
    g = table.groupby("model", sort=False)["error"]
    out = pd.DataFrame({"n": g.size(), "mae": table.groupby("model", sort=False)["abs_error"].mean(),
                        "mean_error": g.mean(), "std_error": g.std(ddof=0)})
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        out[f"q{int(q * 100):02d}"] = g.quantile(q)
    return out.reset_index()


def volume_bin_errors(table: pd.DataFrame) -> pd.DataFrame:
    """Per model and volume bin: its volume range, n and MAE (rows without a volume left out)."""
    t = table[table["volume_bin"] >= 0]
    g = t.groupby(["model", "volume_bin"], sort=False)
    out = g.agg(v_min=("volume", "min"), v_max=("volume", "max"), n=("id", "size"),
                mae=("abs_error", "mean"), mean_error=("error", "mean"))
    return out.reset_index().sort_values(["model", "volume_bin"], kind="stable")


def crystal_system_errors(table: pd.DataFrame) -> pd.DataFrame:
    """Per model and crystal system (in :data:`CRYSTAL_SYSTEMS` order): n, MAE, mean error."""
    g = table.groupby(["model", "crystal_system"], sort=False)
    out = g.agg(n=("id", "size"), mae=("abs_error", "mean"), mean_error=("error", "mean"))
    out = out.reset_index()
    out["order"] = out["crystal_system"].map(CRYSTAL_SYSTEMS.index)
    models = list(dict.fromkeys(table["model"]))
    out["model_order"] = out["model"].map(models.index)
    return out.sort_values(["model_order", "order"]).drop(columns=["order", "model_order"])


def plot_fig4(table: pd.DataFrame, path: str | Path, title: str, unit: str = "") -> Path:
    """The three panels of Fig. 4 for every model in ``table`` (one PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(table["model"]))
    width = 0.8 / len(models)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), dpi=120)
    ax = axes[0]
    data = [table.loc[table["model"] == m, "error"].to_numpy() for m in models]
    ax.violinplot(data, showmedians=True)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xticks(range(1, len(models) + 1), models, rotation=15, fontsize=8)
    ax.set_ylabel(f"prediction - target {unit}".strip())
    ax.set_title("(a) error distribution", fontsize=9)

    bins = volume_bin_errors(table)
    n_missing = int(table.loc[table["volume_bin"] < 0, "id"].nunique())
    ax = axes[1]
    for k, m in enumerate(models):
        b = bins[bins["model"] == m]
        ax.bar(b["volume_bin"] + (k - (len(models) - 1) / 2) * width, b["mae"], width, label=m)
    ranges = bins.groupby("volume_bin").agg(lo=("v_min", "min"), hi=("v_max", "max"))
    ax.set_xticks(ranges.index, [f"{lo:.0f}-{hi:.0f}" for lo, hi in ranges.to_numpy()],
                  fontsize=7, rotation=20)
    ax.set_xlabel("primitive-cell volume (Å$^3$), equal-count bins")
    ax.set_ylabel(f"MAE {unit}".strip())
    ax.set_title(f"(b) by volume ({n_missing} materials without a structure left out)",
                 fontsize=9)
    ax.legend(fontsize=7)

    systems = crystal_system_errors(table)
    present = [s for s in CRYSTAL_SYSTEMS if s in set(systems["crystal_system"])]
    ax = axes[2]
    for k, m in enumerate(models):
        s = systems[systems["model"] == m].set_index("crystal_system").reindex(present)
        ax.bar(np.arange(len(present)) + (k - (len(models) - 1) / 2) * width, s["mae"], width,
               label=m)
    counts = table.drop_duplicates("id")["crystal_system"].value_counts()
    ax.set_xticks(range(len(present)), [f"{s}\n(n={counts.get(s, 0)})" for s in present],
                  fontsize=7, rotation=30)
    ax.set_ylabel(f"MAE {unit}".strip())
    ax.set_title("(c) by crystal system", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


__all__ = ["CRYSTAL_SYSTEMS", "N_VOLUME_BINS", "crystal_system", "crystal_system_errors",
           "equal_count_bins", "error_distribution", "error_table", "material_features",
           "plot_fig4", "primitive_volume", "scope_space_group",
           "volume_bin_errors"]
