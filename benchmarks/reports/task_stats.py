"""Intervals, paired comparisons, ties and ranks of one task's models, from their fold records.

Inputs are records: the task's data (targets, hull distances), each model's fold records
(test predictions by id). Scores are fold means of the task's metric over the cross-
validation folds (a task's ``extra_folds`` are reported apart, as everywhere else). The
statistics are :mod:`benchmarks.stats`:

- ``ci95[metric]`` for the task's primary metric and the formation-energy / target MAE;
- ``vs_best``: each model against the best model of the primary metric, paired on the test
  rows both scored, Holm-corrected over the task's models; ``tie_with_best`` names the best
  and the models it cannot be told apart from (``alpha`` = 0.05);
- ``vs_baseline``: the same against the strongest baseline (a model of the ``baselines``
  package), ``tie_with_strongest_baseline``;
- ``rank``: competition ranks with tie groups (``stats.tied_ranks``);
- stability tasks: McNemar on the stable/unstable calls at 0 eV/atom against the best.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from benchmarks import stats
from benchmarks.metrics import mae_over_mad, regression_metrics, stability_metrics


def _mae(t, p) -> float:
    return regression_metrics(t, p)["mae"]


def _f1(t, p) -> float:
    return float(stability_metrics(t, p)["F1"])


@dataclass(frozen=True)
class Scorer:
    """A metric over rows: ``fn(y_true, y_pred)`` and whether lower is better; ``hull``:
    scored on hull distances (truth: the DFT hull distance; prediction: shifted by the
    formation-energy error), as Matbench Discovery does."""

    fn: Callable[[np.ndarray, np.ndarray], float]
    lower_is_better: bool
    hull: bool = False


SCORERS = {"mae": Scorer(_mae, True), "mae_over_mad": Scorer(mae_over_mad, True),
           "full/F1": Scorer(_f1, False, hull=True)}


@dataclass
class ModelRows:
    """One model's pooled test rows: ids, fold labels, predictions."""

    ids: list[str]
    folds: np.ndarray
    preds: np.ndarray


def model_rows(records: Mapping[int, Mapping], extra_folds) -> ModelRows:
    ids, folds, preds = [], [], []
    for k in sorted(records):
        if k in extra_folds and len(records) > 1:
            continue
        for i, p in records[k]["predictions"].items():
            ids.append(i)
            folds.append(int(k))
            preds.append(np.nan if p is None else float(p))
    return ModelRows(ids, np.asarray(folds), np.asarray(preds, float))


class TaskTruth:
    """What scoring needs of a task's data: targets and (stability tasks) hull distances."""

    def __init__(self, data):
        self.index = {i: k for k, i in enumerate(data.ids)}
        self.targets = np.asarray(data.targets, float)
        self.hull = data.meta.get("e_above_hull") if isinstance(data.meta, dict) else None

    def arrays(self, scorer: Scorer, ids: list[str], *preds: np.ndarray):
        idx = np.array([self.index[i] for i in ids], dtype=int)
        t = self.targets[idx]
        if not scorer.hull:
            return (t, *preds)
        hull = np.asarray(self.hull, float)[idx]
        return (hull, *(hull + p - t for p in preds))


def aligned_rows(a: ModelRows, b: ModelRows) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """The rows both models scored (same id and fold), in ``a``'s order."""
    pos = {(i, f): k for k, (i, f) in enumerate(zip(b.ids, b.folds, strict=True))}
    keep = [k for k, key in enumerate(zip(a.ids, a.folds, strict=True)) if key in pos]
    other = [pos[(a.ids[k], a.folds[k])] for k in keep]
    return ([a.ids[k] for k in keep], a.folds[keep], a.preds[keep], b.preds[other])


class TaskStats:
    """Bootstrap statistics of one task (see the module docstring)."""

    def __init__(self, truth: TaskTruth, rows: Mapping[str, ModelRows], metric: str,
                 baselines: set[str], n_resamples: int = stats.N_RESAMPLES,
                 seed: int = stats.SEED):
        self.truth, self.rows, self.metric = truth, dict(rows), metric
        self.scorer = SCORERS[metric]
        self.baselines = baselines & set(rows)
        self.n_resamples, self.seed = n_resamples, seed
        self._pairs: dict[tuple[str, str], dict] = {}

    def score(self, name: str, metric: str | None = None) -> float:
        scorer = SCORERS[metric or self.metric]
        r = self.rows[name]
        t, p = self.truth.arrays(scorer, r.ids, r.preds)
        return stats.fold_mean_score(t, p, r.folds, scorer.fn)

    def interval(self, name: str, metric: str) -> list[float]:
        scorer = SCORERS[metric]
        r = self.rows[name]
        t, p = self.truth.arrays(scorer, r.ids, r.preds)
        return list(stats.fold_bootstrap_ci(t, p, r.folds, scorer.fn, self.n_resamples,
                                            self.seed))

    def compare(self, a: str, b: str) -> dict:
        """``a - b`` in the primary metric on their shared rows (cached)."""
        if (a, b) not in self._pairs:
            ids, folds, pa, pb = aligned_rows(self.rows[a], self.rows[b])
            if not ids:  # e.g. the two ran different folds: nothing to pair
                nan = float("nan")
                self._pairs[(a, b)] = {"delta": nan, "ci95": [nan, nan], "p_value": nan,
                                       "n_rows": 0}
                return self._pairs[(a, b)]
            t, pa, pb = self.truth.arrays(self.scorer, ids, pa, pb)
            res = stats.paired_comparison(t, pa, pb, folds, self.scorer.fn, self.n_resamples,
                                          self.seed)
            res["n_rows"] = len(ids)
            if self.scorer.hull:
                res["mcnemar"] = stats.mcnemar(t <= 0, pa <= 0, pb <= 0)
            self._pairs[(a, b)] = res
        return self._pairs[(a, b)]

    def _best_of(self, names) -> str | None:
        """The best score among ``names`` scored on the most test rows (a model that ran
        on a subset of the rows, e.g. only the structures one SCOPE mode encodes, is compared
        on the rows it shares but is not a candidate for best)."""
        most = max(len(self.rows[n].ids) for n in names)
        names = [n for n in names if len(self.rows[n].ids) == most]
        scores = {n: self.score(n) for n in names}
        finite = [n for n in names if np.isfinite(scores[n])]
        if not finite:
            return None
        key = (lambda n: scores[n]) if self.scorer.lower_is_better else (lambda n: -scores[n])
        return min(finite, key=key)

    def against(self, ref: str) -> dict[str, dict]:
        """Every other model against ``ref``: delta (model - ref), interval, Holm p."""
        others = [n for n in self.rows if n != ref]
        res = {n: self.compare(n, ref) for n in others}
        p = stats.holm([res[n]["p_value"] for n in others])
        out = {ref: {"model": ref, "metric": self.metric, "delta": 0.0, "ci95": [0.0, 0.0],
                     "p_holm": 1.0, "n_rows": len(self.rows[ref].ids)}}
        for n, ph in zip(others, p, strict=True):
            r = res[n]
            out[n] = {"model": ref, "metric": self.metric, "delta": r["delta"],
                      "ci95": r["ci95"], "p_holm": float(ph), "n_rows": r["n_rows"],
                      **({"mcnemar": r["mcnemar"]} if "mcnemar" in r else {})}
        return out

    def ranks(self) -> dict[str, int | None]:
        """Tied ranks of the models scored on the most rows; ``None`` for the others."""
        def compare(head, others):
            p = stats.holm([self.compare(o, head)["p_value"] for o in others])
            return dict(zip(others, p, strict=True))

        most = max(len(r.ids) for r in self.rows.values())
        full = [n for n, r in self.rows.items() if len(r.ids) == most]
        ranks = stats.tied_ranks({n: self.score(n) for n in full},
                                 self.scorer.lower_is_better, compare)
        return {n: ranks.get(n) for n in self.rows}

    def annotate(self, entry: dict) -> None:
        """Write ``ci95``, ``vs_best``, ``vs_baseline``, ``rank`` into the task's models and
        ``tie_with_best``, ``tie_with_strongest_baseline``, ``statistics`` into ``entry``."""
        models = entry["models"]
        metrics = [self.metric] + (["mae"] if self.metric != "mae" else [])
        for name in self.rows:
            models[name]["ci95"] = {m: self.interval(name, m) for m in metrics}
        best = self._best_of(list(self.rows))
        baseline = self._best_of(sorted(self.baselines)) if self.baselines else None
        info = {"metric": self.metric, "lower_is_better": self.scorer.lower_is_better,
                "best": best, "strongest_baseline": baseline,
                "n_resamples": self.n_resamples, "seed": self.seed,
                "confidence": stats.CONFIDENCE, "alpha": stats.ALPHA,
                "method": "bootstrap over test rows within each fold (percentile), paired "
                          "on the same rows, Holm over the task's models "
                          "(benchmarks/stats.py)"}
        if best is None:
            entry["statistics"] = info
            return
        vs_best = self.against(best)
        ranks = self.ranks()
        for name in self.rows:
            models[name]["vs_best"] = vs_best[name]
            models[name]["rank"] = ranks[name]
        entry["tie_with_best"] = stats.tie_group(
            best, {n: v["p_holm"] for n, v in vs_best.items()})
        if baseline is not None:
            vs_base = self.against(baseline)
            for name in self.rows:
                models[name]["vs_baseline"] = vs_base[name]
            entry["tie_with_strongest_baseline"] = stats.tie_group(
                baseline, {n: v["p_holm"] for n, v in vs_base.items()})
        entry["statistics"] = info
