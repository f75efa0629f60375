"""Class balance and baseline skill of a stability-classification run, in numbers and words.

F1 and DAF of a stability classifier depend on the class balance: on a test set where half
the rows are stable, calling every row stable already scores F1 = 2p / (1 + p) ~ 0.67 and
DAF 1. Whether a run's F1/DAF mean anything is shown by the ROC-AUC, which does not depend
on the balance: 0.5 is a ranking no better than chance. This module states, from a run's
own metrics, the fraction of stable test rows, every model's ROC-AUC (baselines marked) and,
when the best baseline's ROC-AUC is near 0.5, that F1/DAF on this data show no skill.

"Near 0.5" is the chance band: the larger of :data:`CHANCE_MARGIN` and twice the standard
deviation of the ROC-AUC of a model with no skill on this many stable and unstable rows
(the Mann-Whitney null: ``sqrt((n_s + n_u + 1) / (12 n_s n_u))``), so a small test set
gets a wider band. :data:`CHANCE_MARGIN` (0.05) is a floor so that a large test set does
not call 0.52 skill: such a ranking can be told apart from chance statistically but is of no
use for picking stable crystals.
"""

from __future__ import annotations

import math

CHANCE_MARGIN = 0.05


def is_baseline(model_type: str | None) -> bool:
    """Baselines are the models without an encoder (random forest, dummy): what the model
    type declares (``benchmarks.models.declare``)."""
    from benchmarks.models import for_type

    return not for_type(model_type).has_encoder


def chance_band(n: float, prevalence: float) -> float:
    """Half-width of the ROC-AUC band around 0.5 that is read as chance (module docstring)."""
    n_s = round(n * prevalence)
    n_u = round(n) - n_s
    if n_s < 1 or n_u < 1:
        return math.nan
    return max(CHANCE_MARGIN, 2 * math.sqrt((n_s + n_u + 1) / (12 * n_s * n_u)))


def _finite(x) -> bool:
    return x is not None and isinstance(x, int | float) and math.isfinite(x)


def skill_summary(models: dict[str, tuple[str | None, dict]]) -> dict | None:
    """``models``: name -> (model type, metrics with ``full/prevalence``, ``full/n`` and
    ``roc_auc``), all on the same test rows. Returns the class balance, each model's ROC-AUC,
    the best baseline, the chance band and ``verdict`` (words); ``None`` without metrics."""
    first = next((m for _, m in models.values() if "full/prevalence" in m), None)
    if first is None:
        return None
    p, n = first["full/prevalence"], first.get("full/n", math.nan)
    band = chance_band(n, p) if _finite(p) and _finite(n) else math.nan
    aucs = {name: m.get("roc_auc") for name, (_, m) in models.items()}
    baselines = {name: auc for name, auc in aucs.items()
                 if is_baseline(models[name][0]) and _finite(auc)}
    best = max(baselines, key=baselines.get) if baselines else None
    out = {"n_test": n, "fraction_stable": p,
           "all_stable_f1": 2 * p / (1 + p) if _finite(p) else math.nan,
           "roc_auc": aucs, "baselines": sorted(n for n, (t, _) in models.items()
                                                if is_baseline(t)),
           "best_baseline": best, "best_baseline_roc_auc": baselines.get(best),
           "chance_band": band}
    out["baseline_skill"] = (None if best is None or not _finite(band)
                             else baselines[best] > 0.5 + band)
    out["verdict"] = _verdict(out)
    return out


def _verdict(s: dict) -> str:
    best, auc, band = s["best_baseline"], s["best_baseline_roc_auc"], s["chance_band"]
    if best is None:
        return ("No baseline with a ROC-AUC ran (one class among the test rows, or no "
                "baseline model): no reference for whether F1/DAF show skill here.")
    if not _finite(band):
        return "The test rows hold one class only: ROC-AUC, F1 and DAF are not meaningful."
    if s["baseline_skill"]:
        return (f"The best baseline, {best}, ranks stable above unstable rows better than "
                f"chance (ROC-AUC {auc:.3f}, more than {band:.3f} above 0.5): F1 and DAF "
                "can show skill on this data.")
    where = "within" if abs(auc - 0.5) <= band else "below"
    return (f"The best baseline, {best}, ranks stable above unstable rows no better than "
            f"chance (ROC-AUC {auc:.3f}, {where} the chance band 0.5 ± {band:.3f}): on this "
            f"data F1 and DAF show no skill. They follow the class balance: calling every "
            f"row stable scores F1 {s['all_stable_f1']:.3f} and DAF 1.00.")


def balance_text(s: dict) -> str:
    """``"43.8 % of the 80 test rows are stable (hull distance <= 0 eV/atom)"``."""
    return (f"{100 * s['fraction_stable']:.1f} % of the {int(s['n_test'])} test rows are "
            "stable (DFT hull distance <= 0 eV/atom)")


def auc_text(s: dict) -> str:
    """Every model's ROC-AUC, baselines marked, chance-band models marked."""
    parts = []
    for name, auc in s["roc_auc"].items():
        tags = ["baseline"] if name in s["baselines"] else []
        if _finite(auc) and _finite(s["chance_band"]) and abs(auc - 0.5) <= s["chance_band"]:
            tags.append("at chance")
        value = f"{auc:.3f}" if _finite(auc) else "undefined"
        parts.append(f"{name} {value}" + (f" ({', '.join(tags)})" if tags else ""))
    return "ROC-AUC (full test set): " + "; ".join(parts)


def skill_lines(s: dict) -> list[str]:
    """Markdown bullets: class balance, ROC-AUCs, verdict."""
    return [f"- Class balance: {balance_text(s)}.", f"- {auc_text(s)}.", f"- {s['verdict']}"]
