"""Family outputs of the phonon tasks (Cv, U), written to ``<out>/<task>/analysis/``.

* Fig. 4 for every model run: ``fig4.png`` with its data ``fig4_errors.csv`` (one row per
  model and material), ``fig4_distribution.csv``, ``fig4_volume_bins.csv`` and
  ``fig4_crystal_systems.csv`` (``cloud.analysis.phonon_errors``). Predictions: the
  cross-validation folds run (each material once), or the original split (fold 5) when no
  cross-validation fold was run.
* Θ against AFLOW for the phonon materials that are also in AFLOW (matching rule in
  ``cloud.analysis.theta_validation``): ``theta_matched_<model>.csv``, the Θ each CLOUD-DEBYE
  model predicted for them as test rows of the same folds.
* From a kept CLOUD-DEBYE model (``keep_model_folds``; a model of the original split is
  preferred): ``curves_<model>.json`` / ``.csv`` / ``_cv.png`` / ``_u.png`` (Cv(T) and U(T)
  from ``T_MIN`` to ``T_MAX`` for ``CURVE_FORMULAS`` and the model config's
  ``analysis.curve_materials``, 3NR lines, and ``check_curves`` on ``LIMIT_GRID``), and
  ``theta_aflow_<model>.csv``: Θ for every AFLOW material.
* ``target_theta.csv``: the Θ each label implies (``cloud.debye.inverse``), also set against
  AFLOW in ``theta_matched_<model>.csv``: the agreement a perfect CLOUD-DEBYE would reach.
* ``theta_<model>.png``, ``aflow_input_errors.csv`` and ``analysis.json``: what was computed
  from which folds, the statistics, and what was not written and why.

Material features (space group, crystal system, formula) come from the paper's SCOPE strings
of all 1512 materials, whatever ``scope_mode`` the models were trained with.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.tasks.phonon_folds import ORIGINAL_SPLIT_FOLD

CURVE_FORMULAS = ("Al2O3", "Li2O", "GaN", "CaTiO3")  # the materials, where in the data
T_MIN, T_MAX, N_POINTS = 1.0, 2000.0, 400  # K; the temperature range of the curves


def phonon_materials(data_dir=None) -> pd.DataFrame:
    """Every phonon material (index ``mp_id``): ``scope, n_atoms, formula, space_group,
    crystal_system, volume`` (NaN volume where the structure file lacks the material)."""
    from cloud.analysis.phonon_errors import material_features
    from cloud.analysis.theta_validation import phonon_keys
    from cloud.data import DataMissingError, read_matbench_json, read_scope_csv, resolve

    table = read_scope_csv(resolve("scope_phonon", data_dir=data_dir, download=False))
    try:
        path = resolve("phonon_structures_subset", data_dir=data_dir, download=False)
        structures = read_matbench_json(path)["structure"].to_dict()
    except DataMissingError:
        structures = {}
    scopes, n_atoms = table["scope"].to_dict(), table["n_atoms"].astype(int).to_dict()
    features = material_features(scopes, n_atoms, structures)
    return table[["scope", "n_atoms"]].join(phonon_keys(scopes, n_atoms)[["formula"]]).join(
        features)


class _Aflow:
    """AFLOW rows encoded once per run, on first use (a missing file is a reason, not an error)."""

    def __init__(self, data_dir, progress: bool, max_rows: int | None):
        self.data_dir, self.progress, self.max_rows = data_dir, progress, max_rows
        self._table = self.errors = self.missing = None
        self.n_input = 0

    @property
    def table(self) -> pd.DataFrame | None:
        if self._table is None and self.missing is None:
            from cloud.analysis.theta_validation import encode_aflow, read_aflow_debye
            from cloud.data import DataMissingError

            try:
                raw = read_aflow_debye(self.data_dir, self.max_rows)
            except DataMissingError as exc:
                self.missing = str(exc).splitlines()[0]
                return None
            self._table, self.errors = encode_aflow(raw, self.progress)
            self.n_input = len(raw)
        return self._table


def _write_csv(path: Path, frame: pd.DataFrame, written: list[Path]) -> None:
    frame.to_csv(path, index=False)
    written.append(path)


def _pick_folds(folds: dict) -> list:
    """The cross-validation folds run, else all (the original split alone)."""
    cv = sorted(k for k in folds if int(k) != ORIGINAL_SPLIT_FOLD)
    return cv or sorted(folds)


def _per_id(folds: dict, keys: list, field: str) -> dict[str, float]:
    """Test-row values (``predictions`` or ``theta``) of the chosen folds, by id."""
    out: dict[str, float] = {}
    for k in keys:
        record = folds[k]
        ids = list(record["predictions"])
        values = record["predictions"].values() if field == "predictions" else record[field]
        out.update(zip(ids, (float(v) for v in values), strict=True))
    return out


def _kept_model(out_dir: Path, task: str, model: str, folds: dict):
    """(fold, directory) of the kept model to use, or None."""
    kept = sorted(int(k) for k, r in folds.items() if r.get("model_dir"))
    if not kept:
        return None
    k = ORIGINAL_SPLIT_FOLD if ORIGINAL_SPLIT_FOLD in kept else kept[0]
    record = folds[k] if k in folds else folds[str(k)]
    path = Path(record["model_dir"])
    if not path.exists():  # a relative path from another working directory
        path = out_dir / task / model / f"fold_{k}_model"
    return k, path


def _fig4(table_dir: Path, task: str, res: dict, materials: pd.DataFrame, unit: str,
          written: list[Path]) -> dict:
    from cloud.analysis import phonon_errors as pe

    used = {m: _pick_folds(f) for m, f in res["models"].items()}
    preds = {m: _per_id(res["models"][m], ks, "predictions") for m, ks in used.items()}
    table = pe.error_table(res["targets"], preds,
                           materials[["space_group", "crystal_system", "volume"]])
    _write_csv(table_dir / "fig4_errors.csv", table, written)
    _write_csv(table_dir / "fig4_distribution.csv", pe.error_distribution(table), written)
    bins = pe.volume_bin_errors(table)
    _write_csv(table_dir / "fig4_volume_bins.csv", bins, written)
    _write_csv(table_dir / "fig4_crystal_systems.csv", pe.crystal_system_errors(table), written)
    rarity = _rarity(table_dir, res, used, materials, table, written)
    n_missing = int(table.loc[table["volume_bin"] < 0, "id"].nunique())
    written.append(pe.plot_fig4(
        table, table_dir / "fig4.png",
        f"{task}: test errors of {len(used)} models on {table['id'].nunique()} materials", unit))
    return {"folds": {m: [int(k) for k in ks] for m, ks in used.items()},
            "n_materials": int(table["id"].nunique()), "n_without_structure": n_missing,
            "volume_bin_counts": table.drop_duplicates("id")["volume_bin"].value_counts()
            .sort_index().to_dict(), "element_rarity": rarity}


def _rarity(table_dir: Path, res: dict, used: dict, materials: pd.DataFrame,
            table: pd.DataFrame, written: list[Path]) -> dict | str:
    """Errors by how often the rarest element of a test material was seen in training
    (:mod:`cloud.analysis.element_rarity`), over the cross-validation folds only."""
    from cloud.analysis.element_rarity import rarest_element_counts, rarity_errors

    folds = {int(k): list(res["models"][m][k]["predictions"])
             for m, ks in used.items() for k in ks if int(k) != ORIGINAL_SPLIT_FOLD}
    if not folds:
        return "none: only the original split was run (its training set is not a CV complement)"
    scopes = materials.loc[materials.index.isin(list(res["targets"])), "scope"].to_dict()
    n_train = {int(k): rec.get("n_train") for f in res["models"].values() for k, rec in f.items()}
    if any(n_train.get(k) != len(scopes) - len(ids) for k, ids in folds.items()):
        return ("none: a fold trained on fewer rows than the rest of the data (smoke or "
                "capped folds), so its training set is not known here")
    counts = rarest_element_counts(scopes, list(folds.values()))
    cv_rows = table[table["id"].isin(counts.index)]
    frame = rarity_errors(cv_rows, counts, res["targets"])
    _write_csv(table_dir / "element_rarity.csv", frame, written)
    return {"folds": sorted(folds), "file": "element_rarity.csv"}


def _curve_ids(materials: pd.DataFrame, extra: list[str]):
    """mp ids for the curves: every material with a formula of CURVE_FORMULAS, then ``extra``;
    (ids, formulas not in the data, per-row errors)."""
    ids = [i for f in CURVE_FORMULAS for i in materials.index[materials["formula"] == f]]
    absent = [f for f in CURVE_FORMULAS if not (materials["formula"] == f).any()]
    errors = [(str(i), "not_in_data", "mp id not among the phonon materials")
              for i in extra if i not in materials.index]
    ids += [i for i in extra if i in materials.index and i not in ids]
    return ids, absent, errors


def _curves(model, tokenizer, materials: pd.DataFrame, settings: dict, prefix: Path,
            written: list[Path]) -> dict:
    from cloud.debye.curves import LIMIT_GRID, check_curves, plot_curves, predict_curves
    from cloud.debye.physics import R_GAS

    ids, absent, errors = _curve_ids(materials, list(settings.get("curve_materials") or []))
    report = {"t_min": T_MIN, "t_max": T_MAX, "formulas_not_in_data": absent,
              "input_errors": errors, "materials": []}
    if not ids:
        return report
    rows = materials.loc[ids]
    labels = [f"{r.formula} {i} (SG {r.space_group})" for i, r in rows.iterrows()]
    args = (list(rows["scope"]), [int(n) for n in rows["n_atoms"]])
    temps = np.linspace(T_MIN, T_MAX, N_POINTS)
    curves = predict_curves(model, tokenizer, *args, temps, labels)
    limits = predict_curves(model, tokenizer, *args, LIMIT_GRID, labels)
    i300 = int(np.argmin(np.abs(temps - 300)))
    for i, c, lim in zip(ids, curves, limits, strict=True):
        report["materials"].append({
            "mp_id": i, "label": c.label, "n_atoms": c.n_atoms, "theta": c.theta,
            "cv_300K": float(c.cv[i300]), "u_300K": float(c.u[i300]),
            "cv_tmax_over_3NR": float(c.cv[-1] / (3 * c.n_atoms * R_GAS)),
            "checks": check_curves(lim), "checks_on_plot_range": check_curves(c)})
    report["all_checks_pass"] = all(all(m["checks"].values()) for m in report["materials"])
    frames = [pd.DataFrame({"mp_id": i, "label": c.label, "T": temps, "cv": c.cv, "u": c.u,
                            "theta": c.theta, "dulong_petit": 3 * c.n_atoms * R_GAS})
              for i, c in zip(ids, curves, strict=True)]
    _write_csv(prefix.with_suffix(".csv"), pd.concat(frames), written)
    for quantity in ("cv", "u"):
        path = prefix.with_name(f"{prefix.name}_{quantity}.png")
        plot_curves(curves, path, quantity)
        written.append(path)
    return report


def _target_theta(res_dir: Path, res: dict, materials: pd.DataFrame, target: str,
                  written: list[Path]) -> tuple[pd.Series, dict]:
    """Θ each label implies through the Debye model (what a perfect CLOUD-DEBYE predicts);
    ``target_theta.csv`` and a summary (NaN rows: labels no Debye Θ reproduces)."""
    from cloud.debye.inverse import theta_from_value

    ids = list(res["targets"])
    n_atoms = materials.loc[ids, "n_atoms"].to_numpy()
    theta = theta_from_value([res["targets"][i] for i in ids], n_atoms, target)
    frame = pd.DataFrame({"mp_id": ids, "target": [res["targets"][i] for i in ids],
                          "n_atoms": n_atoms, "theta_from_target": theta})
    _write_csv(res_dir / "target_theta.csv", frame, written)
    undefined = frame.loc[frame["theta_from_target"].isna(), "mp_id"].tolist()
    return frame.set_index("mp_id")["theta_from_target"], {
        "n": len(frame), "n_undefined": len(undefined), "undefined_ids": undefined,
        "why_undefined": "Cv >= 3NR or U < 3NRT at 300 K: outside the Debye model's range"}


def _load_quietly(load, path: Path, progress: bool):
    """``load(path)``, without transformers' loading bar unless ``progress``."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    if not progress:
        hf_logging.disable_progress_bar()
    try:
        return load(path)
    finally:
        if was:
            hf_logging.enable_progress_bar()


def _debye_model(out_dir, task, model_name, folds, res_dir, materials, aflow, target_theta,
                 written) -> dict:
    from cloud.analysis.theta_validation import match_materials, plot_theta, theta_statistics

    entry: dict = {"folds": [int(k) for k in _pick_folds(folds)]}
    theta = _per_id(folds, _pick_folds(folds), "theta")
    panels = []
    if aflow.table is None:
        entry["aflow"] = f"not compared: {aflow.missing}"
    else:
        pairs = match_materials(materials.loc[materials.index.isin(list(theta))], aflow.table)
        pairs["theta_aflow"] = aflow.table.loc[pairs["aflow_id"], "theta"].to_numpy()
        pairs["theta_predicted"] = pairs["mp_id"].map(theta)
        pairs["theta_from_target"] = pairs["mp_id"].map(target_theta)
        _write_csv(res_dir / f"theta_matched_{model_name}.csv", pairs, written)
        defined = pairs.dropna(subset=["theta_from_target"])
        entry["matched"] = {"n_pairs": len(pairs), "n_mp_ids": int(pairs["mp_id"].nunique()),
                            **theta_statistics(pairs["theta_predicted"], pairs["theta_aflow"]),
                            "target_theta_vs_aflow": theta_statistics(
                                defined["theta_from_target"], defined["theta_aflow"])}
        panels.append((f"phonon ∩ AFLOW, test-fold Θ ({model_name})",
                       pairs["theta_predicted"].to_numpy(), pairs["theta_aflow"].to_numpy()))
        panels.append(("phonon ∩ AFLOW, Θ from the labels", defined["theta_from_target"]
                       .to_numpy(), defined["theta_aflow"].to_numpy()))
    kept = _kept_model(out_dir, task, model_name, folds)
    if kept is None or not kept[1].exists():
        entry["kept_model"] = ("none: no fold of this model was run with keep_model_folds, "
                               "so no temperature curves and no Θ for the AFLOW materials"
                               if kept is None else f"missing: {kept[1]}")
    else:
        from cloud.debye.curves import predict_theta
        from cloud.model.ensemble import ensemble_tokenizer_dir, load_debye_model
        from cloud.train.finetune import load_tokenizer

        fold, path = kept
        model = _load_quietly(load_debye_model, path, aflow.progress)
        tokenizer = load_tokenizer(ensemble_tokenizer_dir(path))
        entry["kept_model"] = {"fold": fold, "dir": str(path),
                               "trained_on": model.config.debye_target}
        settings = folds[fold].get("config", {}).get("analysis") or {}
        entry["curves"] = _curves(model, tokenizer, materials, settings,
                                  res_dir / f"curves_{model_name}", written)
        _write_json(res_dir / f"curves_{model_name}.json", entry["curves"], written)
        if aflow.table is not None:
            table = aflow.table.assign(theta_predicted=predict_theta(
                model, tokenizer, list(aflow.table["scope"]), progress=aflow.progress))
            _write_csv(res_dir / f"theta_aflow_{model_name}.csv",
                       table.drop(columns="scope").rename(columns={"theta": "theta_aflow"})
                       .reset_index(), written)
            entry["aflow_all"] = {"n_input": aflow.n_input, **theta_statistics(
                table["theta_predicted"], table["theta"]), "by_split": {
                s: theta_statistics(g["theta_predicted"], g["theta"])
                for s, g in table.groupby("split", sort=False)}}
            panels.append((f"all AFLOW, model of fold {fold} ({model_name})",
                           table["theta_predicted"].to_numpy(), table["theta"].to_numpy()))
    panels = [p for p in panels if len(p[1])]  # e.g. no matched pair in a smoke fold
    if panels:
        path = res_dir / f"theta_{model_name}.png"
        written.append(plot_theta(panels, path, f"{task}: predicted Θ vs AFLOW AEL-AGL"))
    return entry


def _finite(obj):
    """NaN and infinities as null, so the JSON files are standard JSON."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    if isinstance(obj, float | np.floating) and not np.isfinite(obj):
        return None
    return obj


def _write_json(path: Path, obj, written: list[Path]) -> None:
    path.write_text(json.dumps(_finite(obj), indent=1, default=float))
    written.append(path)


def write_phonon_outputs(out_dir: Path, results: dict, data_dir=None, progress: bool = True,
                         adapters: dict | None = None) -> list[Path]:
    """All analysis files of the phonon tasks in ``results`` (the runner's family results);
    ``adapters`` (task name -> adapter) give units and Debye targets (default: the name)."""
    out_dir = Path(out_dir)
    materials = phonon_materials(data_dir)
    debye = {t: {m: f for m, f in r["models"].items()
                 if any(rec.get("theta") is not None for rec in f.values())}
             for t, r in results.items()}
    limits = [rec.get("config", {}).get("analysis", {}).get("aflow_max_rows")
              for models in debye.values() for f in models.values() for rec in f.values()]
    limits = [int(x) for x in limits if x is not None]
    aflow = _Aflow(data_dir, progress, min(limits) if limits else None)
    written: list[Path] = []
    for task, res in results.items():
        res_dir = out_dir / task / "analysis"
        res_dir.mkdir(parents=True, exist_ok=True)
        adapter = (adapters or {}).get(task)
        report = {"task": task, "partial": res.get("partial"),
                  "fig4": _fig4(res_dir, task, res, materials, getattr(adapter, "unit", ""),
                                written), "debye_models": {}}
        target_theta, report["target_theta"] = _target_theta(
            res_dir, res, materials, getattr(adapter, "debye_target", task), written)
        for model_name, folds in debye[task].items():
            report["debye_models"][model_name] = _debye_model(
                out_dir, task, model_name, folds, res_dir, materials, aflow, target_theta,
                written)
        if not debye[task]:
            report["debye_models"] = "none: no CLOUD-DEBYE model was run for this task"
        if aflow.errors is not None:
            with open(res_dir / "aflow_input_errors.csv", "w", newline="") as fh:
                csv.writer(fh).writerows([("id", "kind", "message"), *aflow.errors])
            written.append(res_dir / "aflow_input_errors.csv")
            report["aflow_input_errors"] = len(aflow.errors)
        _write_json(res_dir / "analysis.json", report, written)
    return written
