"""The processor-independent Debye path (cloud.debye.exact, cloud.debye.fixedmath) against
software arithmetic (mpmath) and the torch path it shadows: the same numbers to ~1e-14,
the same NaN where no Θ reproduces a value. (Its bit-for-bit sameness under other kernels is
tests/test_dispatch_invariance.py.)"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch

from cloud.debye import exact, fixedmath
from cloud.debye.inverse import theta_from_value_tensor
from cloud.debye.physics import R_GAS, debye_cv, debye_u

RNG = np.random.default_rng(0)


def _ulps(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want) / np.spacing(np.abs(want))))


@pytest.mark.parametrize("name,domain", [
    ("exp", np.concatenate([RNG.uniform(-700, 700, 300), RNG.uniform(-1, 1, 300)])),
    ("expm1", np.concatenate([RNG.uniform(-5, 60, 300), np.geomspace(1e-12, 1, 300)])),
    ("log", np.concatenate([np.geomspace(1e-300, 1e300, 300), RNG.uniform(0.5, 2, 300)])),
])
def test_elementary_functions_are_within_a_few_ulp(name, domain):
    want = np.array([float(getattr(mpmath, name)(mpmath.mpf(float(v)))) for v in domain])
    assert _ulps(getattr(fixedmath, name)(domain), want) <= 4


def test_elementary_functions_edges():
    assert np.isnan(fixedmath.exp(np.array([np.nan]))).all()
    assert np.isnan(fixedmath.log(np.array([0.0, -1.0, np.nan]))).all()
    assert fixedmath.exp(np.array([0.0]))[0] == 1.0 and fixedmath.log(np.array([1.0]))[0] == 0
    with pytest.raises(ValueError, match="700"):
        fixedmath.exp(np.array([710.0]))


def test_fixed_order_sum_adds_left_to_right():
    terms = np.array([[1e16, 1.0, -1e16, 1.0]])
    assert fixedmath.fixed_order_sum(terms)[0] == 1.0  # (1e16 + 1) rounds to 1e16 first
    assert math.fsum(terms[0]) == 2.0


def test_gauss_legendre_nodes_match_numpy_and_integrate_polynomials_exactly():
    s, w = fixedmath.gauss_legendre_unit(48)
    x, v = np.polynomial.legendre.leggauss(48)
    np.testing.assert_allclose(s, 0.5 * (x + 1), rtol=0, atol=1e-15)
    np.testing.assert_allclose(w, 0.5 * v, rtol=2e-12)  # numpy's end weights are the less
    # accurate ones (1.3e-12 off the 40-digit value); both are exact on polynomials:
    for degree in (0, 1, 10, 95):  # exact up to degree 2n - 1
        assert math.isclose(math.fsum(w * s**degree), 1 / (degree + 1), rel_tol=1e-14)


@pytest.mark.parametrize("target,torch_fn", [("cv", debye_cv), ("u", debye_u)])
def test_values_agree_with_the_torch_path(target, torch_fn):
    theta = np.geomspace(1.0, 1e5, 400)
    n = RNG.integers(1, 60, 400).astype(float)
    for temperature in (1.0, 300.0, 3000.0):
        got = exact.debye_value(target, temperature, theta, n)
        want = torch_fn(torch.tensor(temperature, dtype=torch.float64), torch.tensor(theta),
                        torch.tensor(n)).numpy().reshape(-1)
        np.testing.assert_allclose(got, want, rtol=2e-14, atol=0)
    # classical limit: Cv -> 3NR as T/Θ grows
    high = exact.debye_value("cv", 1e4, np.array([1.0]), np.array([2.0]))
    assert math.isclose(high[0], 6 * R_GAS, rel_tol=1e-9)


@pytest.mark.parametrize("target", ["cv", "u"])
def test_inverse_round_trips_and_matches_the_torch_inverse(target):
    theta = np.geomspace(5.0, 5e4, 300)
    n = RNG.integers(1, 60, 300).astype(float)
    values = exact.debye_value(target, 300.0, theta, n)
    # outside what a Debye solid produces: Cv above 3NR, U below 3NRT
    bad = 3.1 * R_GAS * n[:5] if target == "cv" else 2.9 * R_GAS * n[:5] * 300.0
    values, n = np.concatenate([values, bad]), np.concatenate([n, n[:5]])
    got = exact.theta_from_value(values, n, target)
    assert np.isnan(got[-5:]).all() and np.isfinite(got[:-5]).all()
    np.testing.assert_allclose(got[:-5], theta, rtol=1e-8)
    torch_theta = theta_from_value_tensor(torch.tensor(values), torch.tensor(n), target).numpy()
    np.testing.assert_array_equal(np.isnan(torch_theta), np.isnan(got))
    # Θ is ill-conditioned where the value barely moves with it (Θ << T: Cv near 3NR)
    np.testing.assert_allclose(got[:-5], torch_theta[:-5], rtol=1e-9)
