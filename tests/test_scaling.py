"""Scaling-law fit (cloud.analysis.scaling) and the sweep (cloud.analysis.scaling_sweep).

The fit tests use SYNTHETIC points drawn from a known law (Hoffmann et al.'s published
Chinchilla values A=400, B=1800, E=1.7, alpha=0.34, beta=0.28 -- not CLOUD numbers) on a
6 x 6 grid of (N, D) with 1% multiplicative log-normal noise. The sweep test trains tiny
models on real SCOPE strings.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from cloud.analysis.scaling import (
    HOFFMANN_GRID,
    ScalingFit,
    bootstrap,
    compute_optimal,
    fit_scaling_law,
    init_grid,
    iso_loss_grid,
)
from cloud.analysis.scaling_sweep import REPO, pack_for_pretrain, parse_size, split_corpus
from tests.conftest import shared_file

TRUE = {"A": 400.0, "B": 1800.0, "E": 1.7, "alpha": 0.34, "beta": 0.28}
# Fixed noise draw. Coverage of a 95% interval is probabilistic: over noise seeds 0-11 all
# five intervals contained the truth at once for 10 of 12 (seed 0 misses E by 0.013).
NOISE_SEED = 1


def _synthetic(noise: float = 0.01, seed: int = NOISE_SEED):
    Ns, Ds = np.geomspace(1e7, 1e10, 6), np.geomspace(1e9, 1e12, 6)
    NN, DD = np.meshgrid(Ns, Ds)
    N, D = NN.ravel(), DD.ravel()
    clean = TRUE["A"] / N ** TRUE["alpha"] + TRUE["B"] / D ** TRUE["beta"] + TRUE["E"]
    rng = np.random.default_rng(seed)
    return N, D, clean * np.exp(noise * rng.standard_normal(N.size))


@pytest.fixture(scope="module")
def synthetic():
    N, D, L = _synthetic()
    return N, D, L, fit_scaling_law(N, D, L)


def test_hoffmann_grid():
    grid = init_grid()
    assert grid.shape == (6 * 6 * 5 * 5 * 5, 5)
    assert list(HOFFMANN_GRID["alpha"]) == [0, 0.5, 1, 1.5, 2]
    assert list(HOFFMANN_GRID["e"]) == [-1, -0.5, 0, 0.5, 1]
    assert list(HOFFMANN_GRID["a"]) == [0, 5, 10, 15, 20, 25]


def test_recovers_known_law_from_noisy_synthetic_points(synthetic):
    N, D, L, fit = synthetic
    assert isinstance(fit, ScalingFit) and fit.n_points == 36
    assert fit.converged and not fit.degenerate, fit.warnings
    assert abs(fit.alpha - TRUE["alpha"]) < 0.05
    assert abs(fit.beta - TRUE["beta"]) < 0.05
    assert abs(fit.E / TRUE["E"] - 1) < 0.05
    assert np.allclose(fit.predict(N, D), L, rtol=0.03)
    # Noise-free points: the exact law is found.
    clean = fit_scaling_law(N, D, _synthetic(noise=0.0)[2], n_starts=16)
    for k, v in TRUE.items():
        assert getattr(clean, k) == pytest.approx(v, rel=1e-3), k


def test_prescreened_starts_reach_the_same_optimum(synthetic):
    """Refining only the best-scoring grid starts loses nothing (during development all
    4,500 Hoffmann starts gave the same optimum as the best 16 on this set)."""
    N, D, L, fit = synthetic
    few = fit_scaling_law(N, D, L, n_starts=8)
    assert fit.n_starts == 64 and few.n_starts == 8
    assert few.loss == pytest.approx(fit.loss, rel=1e-6)
    assert few.alpha == pytest.approx(fit.alpha, abs=1e-4)


def test_bootstrap_intervals_contain_truth(synthetic):
    N, D, L, fit = synthetic
    ci = bootstrap(N, D, L, n_boot=30, seed=0, fit=fit)
    assert ci["level"] == 0.95 and ci["n_failed"] == 0
    for k, v in TRUE.items():
        lo, hi = ci[k]
        assert lo <= v <= hi, (k, lo, hi)
        assert lo <= getattr(fit, k) <= hi
    true_a = TRUE["beta"] / (TRUE["alpha"] + TRUE["beta"])
    assert ci["a"][0] <= true_a <= ci["a"][1]


def test_huber_is_robust_to_one_outlier():
    N, D, L = _synthetic(noise=0.002)
    L = L.copy()
    L[0] *= 1.5  # one corrupted run
    huber = fit_scaling_law(N, D, L)
    l2 = fit_scaling_law(N, D, L, objective="l2")

    def err(f):
        return max(abs(f.alpha - TRUE["alpha"]), abs(f.beta - TRUE["beta"]),
                   abs(f.E / TRUE["E"] - 1))

    assert err(huber) < 0.02
    assert err(l2) > 3 * err(huber)


def test_paper_compute_optimal_exponents():
    paper = json.loads((REPO / "benchmarks/reference/paper_results.json").read_text())
    law = paper["scaling_law"]
    co = compute_optimal(law["fit"])
    assert round(co["a"], 2) == 0.45 == law["compute_optimal"]["a"]
    assert round(co["b"], 2) == 0.55 == law["compute_optimal"]["b"]
    f = law["fit"]
    G = (f["alpha"] * f["A"] / (f["beta"] * f["B"])) ** (1 / (f["alpha"] + f["beta"]))
    assert co["G"] == pytest.approx(G)


@pytest.mark.parametrize("which", ["paper", "synthetic"])
def test_frontier_spends_the_budget_optimally(which, synthetic):
    if which == "paper":
        law = json.loads((REPO / "benchmarks/reference/paper_results.json").read_text())
        fit = ScalingFit(**law["scaling_law"]["fit"], loss=0.0, n_points=0)
    else:
        fit = synthetic[3]
    co = compute_optimal(fit)
    C = np.geomspace(1e15, 1e24, 10)
    n_opt, d_opt = co["N_opt"](C), co["D_opt"](C)
    assert np.allclose(6 * n_opt * d_opt, C, rtol=1e-10)
    assert co["a"] + co["b"] == pytest.approx(1.0)
    for c, n in zip(C[::3], n_opt[::3], strict=True):  # N_opt minimises L on C = 6ND
        Ns = n * np.geomspace(0.2, 5, 41)
        losses = fit.predict(Ns, c / (6 * Ns))
        assert fit.predict(n, c / (6 * n)) <= losses.min() + 1e-12
    assert np.allclose(co["L_opt"](C), fit.predict(n_opt, d_opt))


def test_iso_loss_grid(synthetic):
    fit = synthetic[3]
    NN, DD, LL = iso_loss_grid(fit, (1e7, 1e10), (1e9, 1e12), n=20)
    assert NN.shape == DD.shape == LL.shape == (20, 20)
    assert NN.min() == pytest.approx(1e7) and DD.max() == pytest.approx(1e12)
    assert np.allclose(LL, fit.predict(NN, DD))


def test_too_few_points_and_degenerate_fits_are_reported():
    N, D, L = _synthetic()
    with pytest.raises(ValueError, match="at least 5"):
        fit_scaling_law(N[:4], D[:4], L[:4])
    same_n = np.full(6, 1e8)
    one_size = fit_scaling_law(same_n, D[:6], L[:6], n_starts=8)
    assert one_size.degenerate
    assert any("one model size" in w for w in one_size.warnings)


def test_fixed_validation_set_survives_pretrain_carve():
    """``pretrain`` carves its own validation set; the packing makes it ours exactly."""
    from cloud.train.finetune import carve_validation

    texts = [f"s{i}" for i in range(1000)]
    val, pool = split_corpus(texts, 0.05, seed=7)
    assert len(val) == 50 and not set(val) & set(pool)
    for n_train in (12, 237, 950):
        packed, frac = pack_for_pretrain(pool[:n_train], val, seed=42)
        tr, va = carve_validation(len(packed), frac, 42)
        assert [packed[i] for i in va] == val
        assert [packed[i] for i in tr] == pool[:n_train]


def test_parse_size():
    assert parse_size("tiny") == ("tiny", "tiny", {})
    label, preset, ov = parse_size("3/192")
    assert label == "L3-H192-A3" and preset == "tiny"
    assert ov == {"num_hidden_layers": 3, "hidden_size": 192, "num_attention_heads": 3,
                  "intermediate_size": 768}
    assert parse_size("1/32")[2]["num_attention_heads"] == 1
    assert parse_size("2/96/4")[2]["num_attention_heads"] == 4
    with pytest.raises(ValueError):
        parse_size("huge")


def test_sweep_fit_reports_too_few_points(tmp_path):
    """Fewer than 5 runs: fit.json says so (no exception), the plots show the points only."""
    from cloud.analysis.scaling_plots import plot_iso_loss, plot_loss_vs_compute
    from cloud.analysis.scaling_sweep import fit_points

    pts = [{"name": f"p{i}", "N": 1e4 * (i + 1), "D": 1e5 * (i + 1), "L": 4.0 - i / 4}
           for i in range(3)]
    doc = fit_points(pts, n_boot=5, seed=0)
    assert doc["status"] == "insufficient_points" and "fit" not in doc
    assert any("at least 5" in n for n in doc["notes"])
    assert doc["paper"]["derived"]["a"] == pytest.approx(0.4478, abs=1e-4)
    N, D, L = (np.array([p[k] for p in pts]) for k in ("N", "D", "L"))
    assert plot_iso_loss(None, N, D, L, tmp_path / "a.png").exists()
    assert plot_loss_vs_compute(None, N, D, L, tmp_path / "b.png").exists()


@pytest.mark.slow
def test_smoke_sweep_end_to_end_and_resumes(tmp_path):
    """3 x 3 grid of tiny models on 600 real SCOPE strings; a rerun trains nothing."""
    from cloud.analysis.scaling_sweep import run

    corpus = shared_file("scope_reference/pretrain_optimade_10k.csv.gz")
    argv = ["--corpus", str(corpus), "--out", str(tmp_path), "--smoke", "--limit", "600",
            "--n-boot", "5", "--fit-starts", "8", "--no-progress"]
    first = run(argv)
    assert len(first["ran"]) == 9 and not first["skipped"]
    files = sorted((tmp_path / "points").glob("*.json"))
    assert len(files) == 9
    points = [json.loads(p.read_text()) for p in files]
    assert len({p["val_sha256"] for p in points}) == 1  # one validation set for all
    assert {p["n_val_strings"] for p in points} == {30}
    by_size: dict[str, list] = {}
    for p in points:
        assert np.isfinite(p["L"]) and p["L"] > 0 and p["D"] > 0
        by_size.setdefault(p["size"], []).append(p)
    assert set(by_size) == {"L1-H32-A1", "L1-H64-A1", "L2-H64-A1"}
    for runs in by_size.values():  # D grows with the data fraction, N fixed per size
        runs.sort(key=lambda p: p["data_fraction"])
        assert [p["D"] for p in runs] == sorted({p["D"] for p in runs})
        assert len({p["N"] for p in runs}) == 1
    assert by_size["L1-H32-A1"][0]["N"] < by_size["L1-H64-A1"][0]["N"] < \
        by_size["L2-H64-A1"][0]["N"]
    doc = json.loads((tmp_path / "fit.json").read_text())
    assert doc["n_points"] == 9 and doc["status"] in ("ok", "degenerate")
    assert set(doc["fit"]) >= {"A", "B", "E", "alpha", "beta"}
    assert doc["paper"]["fit"]["alpha"] == 0.4339
    assert doc["comparison"]["alpha"]["paper"] == 0.4339
    assert doc["comparison"]["beta"]["sweep"] == doc["fit"]["beta"]
    assert doc["bootstrap"]["n_boot"] == 5
    for png in ("iso_loss.png", "loss_vs_compute.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "manifest.json").exists()

    stamps = [p.stat().st_mtime_ns for p in files]
    again = run(argv)
    assert not again["ran"] and len(again["skipped"]) == 9
    assert [p.stat().st_mtime_ns for p in files] == stamps
