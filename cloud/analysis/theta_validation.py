"""Debye temperatures predicted by CLOUD-DEBYE against AFLOW's (AEL-AGL) values.

Data: ``aflow/debye_temperature/{train,val,test}.csv.gz`` (columns ``cif, debye_temperature``;
registry keys ``aflow_debye_temperature_<split>``); rows get the ids ``aflow-<split>-<row>``.

Matching rule (a material of the phonon set and an AFLOW entry are "the same" material): equal
reduced formula **and** equal space-group number.

* phonon side: the formula from the paper's SCOPE string and N (atoms per primitive cell):
  element counts ``round(fraction * N)``, which reproduce the structures' compositions for all
  1289 materials that have one; space group from the generator string;
* AFLOW side: the formula from the CIF's ``_chemical_formula_sum``; space group from the
  SCOPE string the project's encoder writes (``paper`` mode: spglib, symprec 0.01).

Formulas are normalised by pymatgen's ``Composition.reduced_formula``. Every pair found is
kept (an AFLOW formula + space group may occur more than once, e.g. in two splits).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

AFLOW_SPLITS = ("train", "val", "test")
_FORMULA_SUM = re.compile(r"^_chemical_formula_sum\s+(?:'([^']*)'|\"([^\"]*)\"|(\S+))",
                          re.MULTILINE)


def read_aflow_debye(data_dir=None, max_rows: int | None = None) -> pd.DataFrame:
    """AFLOW Debye temperatures: index ``aflow_id``, columns ``cif``, ``theta`` (K), ``split``.

    ``max_rows`` keeps that many rows, the first of each split in proportion (smoke runs)."""
    from cloud.data import read_cif_csv, resolve

    frames = []
    for split in AFLOW_SPLITS:
        df = read_cif_csv(resolve(f"aflow_debye_temperature_{split}", data_dir=data_dir,
                                  download=False))
        width = len(str(len(df)))
        df.index = pd.Index([f"aflow-{split}-{i:0{width}d}" for i in range(len(df))],
                            name="aflow_id")
        frames.append(pd.DataFrame({"cif": df["cif"], "theta": df["debye_temperature"]
                                    .astype(float), "split": split}))
    out = pd.concat(frames)
    if max_rows is not None and max_rows < len(out):  # exactly max_rows, split by split
        ends = np.round(np.cumsum([len(f) for f in frames]) * max_rows / len(out)).astype(int)
        sizes = np.diff(ends, prepend=0)
        out = pd.concat(f.iloc[:n] for f, n in zip(frames, sizes, strict=True))
    return out


def reduced_formula(counts: Mapping[str, float]) -> str:
    """pymatgen's reduced formula of element -> amount (any scale)."""
    import warnings

    from pymatgen.core import Composition

    with warnings.catch_warnings():  # "No Pauling electronegativity for He": irrelevant here
        warnings.simplefilter("ignore", UserWarning)
        return Composition(dict(counts)).reduced_formula


def formula_from_scope(scope: str, n_atoms: int) -> str:
    """Reduced formula of a SCOPE string with ``n_atoms`` atoms per primitive cell."""
    from cloud.scope.format import Scope

    counts = {el: round(float(frac) * n_atoms) for el, frac in Scope.parse(scope).composition}
    if sum(counts.values()) != n_atoms or min(counts.values()) < 1:
        raise ValueError(f"fractions of {scope!r} do not give {n_atoms} whole atoms")
    return reduced_formula(counts)


def formula_from_cif(cif: str) -> str:
    """Reduced formula from a CIF's ``_chemical_formula_sum`` (e.g. ``'Th3 Co3 Sn3'``)."""
    m = _FORMULA_SUM.search(cif)
    if m is None:
        raise ValueError("CIF has no _chemical_formula_sum")
    text = next(g for g in m.groups() if g is not None)
    counts: dict[str, float] = {}
    for el, amount in re.findall(r"([A-Z][a-z]?)([0-9.]*)", text):
        counts[el] = counts.get(el, 0.0) + (float(amount) if amount else 1.0)
    if not counts:
        raise ValueError(f"unreadable _chemical_formula_sum {text!r}")
    return reduced_formula(counts)


def encode_aflow(aflow: pd.DataFrame, progress: bool = True,
                 mode: str = "paper") -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """SCOPE strings, space groups and formulas of the AFLOW rows.

    Returns (table indexed by ``aflow_id`` with ``scope, space_group, formula, theta, split``;
    per-row errors ``(id, kind, message)``). A row whose CIF does not encode is left out of the
    table and reported; a row without a readable formula keeps its SCOPE string (Θ can still
    be predicted) with an empty formula, and is reported too.
    """
    from cloud.analysis.phonon_errors import scope_space_group
    from cloud.scope.batch import encode_many
    from cloud.scope.encoder import ScopeEncoder

    result = encode_many(list(zip(aflow.index, aflow["cif"], strict=True)), ScopeEncoder(mode),
                         progress=progress)
    errors = list(result.errors)
    scopes = dict(result.rows)
    rows = []
    for ident in (i for i in aflow.index if i in scopes):
        try:
            formula = formula_from_cif(aflow.at[ident, "cif"])
        except ValueError as exc:
            errors.append((ident, "no_formula", str(exc)))
            formula = ""
        rows.append({"aflow_id": ident, "scope": scopes[ident],
                     "space_group": scope_space_group(scopes[ident]), "formula": formula,
                     "theta": float(aflow.at[ident, "theta"]), "split": aflow.at[ident, "split"]})
    table = pd.DataFrame(rows, columns=["aflow_id", "scope", "space_group", "formula", "theta",
                                        "split"]).set_index("aflow_id")
    return table, errors


def phonon_keys(scopes: Mapping[str, str], n_atoms: Mapping[str, int]) -> pd.DataFrame:
    """``formula`` and ``space_group`` of phonon materials (index ``mp_id``)."""
    from cloud.analysis.phonon_errors import scope_space_group

    rows = [{"mp_id": i, "formula": formula_from_scope(s, int(n_atoms[i])),
             "space_group": scope_space_group(s)} for i, s in scopes.items()]
    return pd.DataFrame(rows, columns=["mp_id", "formula", "space_group"]).set_index("mp_id")


def match_materials(phonon: pd.DataFrame, aflow: pd.DataFrame) -> pd.DataFrame:
    """Pairs (``mp_id``, ``aflow_id``) with equal ``formula`` and ``space_group``."""
    left = phonon[["formula", "space_group"]].reset_index()
    right = aflow.loc[aflow["formula"] != "", ["formula", "space_group"]].reset_index()
    pairs = left.merge(right, on=["formula", "space_group"], how="inner")
    return pairs[["mp_id", "aflow_id", "formula", "space_group"]].sort_values(
        ["mp_id", "aflow_id"]).reset_index(drop=True)


def theta_statistics(predicted, reference) -> dict[str, float]:
    """Spearman (and Pearson) correlation, MAE, median absolute error and mean signed error
    (predicted - reference), in K, over the pairs; NaN where fewer than two pairs."""
    from scipy import stats

    p = np.asarray(predicted, dtype=float)
    r = np.asarray(reference, dtype=float)
    out = {"n": int(len(p))}
    if len(p) == 0:
        return {**out, "spearman": np.nan, "spearman_p": np.nan, "pearson": np.nan,
                "mae": np.nan, "median_ae": np.nan, "mean_error": np.nan}
    err = p - r
    two = len(p) >= 2 and np.ptp(p) > 0 and np.ptp(r) > 0
    rho = stats.spearmanr(p, r) if two else None
    return {**out,
            "spearman": float(rho.statistic) if two else np.nan,
            "spearman_p": float(rho.pvalue) if two else np.nan,
            "pearson": float(np.corrcoef(p, r)[0, 1]) if two else np.nan,
            "mae": float(np.mean(np.abs(err))), "median_ae": float(np.median(np.abs(err))),
            "mean_error": float(np.mean(err))}


def plot_theta(panels: list[tuple[str, np.ndarray, np.ndarray]], path, title: str = ""):
    """Predicted vs AFLOW Θ, one scatter panel per ``(name, predicted, aflow)``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2), dpi=120,
                             squeeze=False)
    for ax, (name, pred, ref) in zip(axes[0], panels, strict=True):
        s = theta_statistics(pred, ref)
        ax.scatter(ref, pred, s=6, alpha=0.5, edgecolors="none")
        if len(ref):
            lo, hi = float(min(np.min(ref), np.min(pred))), float(max(np.max(ref), np.max(pred)))
            ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_xlabel("AFLOW Θ (K)")
        ax.set_ylabel("predicted Θ (K)")
        ax.set_title(f"{name}\nn={s['n']}, Spearman {s['spearman']:.3f}, MAE {s['mae']:.0f} K",
                     fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


__all__ = ["AFLOW_SPLITS", "encode_aflow", "formula_from_cif", "formula_from_scope",
           "match_materials", "phonon_keys", "plot_theta", "read_aflow_debye",
           "reduced_formula", "theta_statistics"]
