"""Tests for the differentiable Debye model (cloud.debye.physics, paper Eqs. 7-8)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad

from cloud.debye import (
    R_GAS,
    debye_cv,
    debye_function_cv,
    debye_function_u,
    debye_u,
    dulong_petit,
)

F64 = torch.float64
T_OVER_THETA = np.logspace(-2, 1, 61)  # reduced temperatures T/Θ in [0.01, 10]
THETAS = [95.0, 450.0, 1800.0]
N_ATOMS = [1, 3, 7]


def _f_cv(x: float) -> float:
    return x**2 * (x / (2.0 * math.sinh(x / 2.0))) ** 2


def _f_u(x: float) -> float:
    return x**3 / math.expm1(x)


@pytest.fixture(scope="module")
def reference() -> tuple[np.ndarray, np.ndarray]:
    """(3/x^3) ∫_0^x f dx by adaptive quadrature at x_D = 1/T_OVER_THETA."""
    cv, u = [], []
    for x in 1.0 / T_OVER_THETA:
        cv.append(3.0 / x**3 * quad(_f_cv, 0.0, x, epsabs=0.0, epsrel=1e-13, limit=200)[0])
        u.append(3.0 / x**3 * quad(_f_u, 0.0, x, epsabs=0.0, epsrel=1e-13, limit=200)[0])
    return np.array(cv), np.array(u)


def _rel(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    a, b = np.asarray(torch.as_tensor(a).double()), np.asarray(torch.as_tensor(b).double())
    return float(np.max(np.abs(a / b - 1.0)))


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-6), (torch.float32, 3e-6)])
def test_against_scipy_quad(reference, dtype, tol):
    ref_cv, ref_u = reference
    theta = torch.tensor(THETAS, dtype=dtype)
    n = torch.tensor(N_ATOMS, dtype=dtype)
    temps = torch.as_tensor(T_OVER_THETA, dtype=dtype) * theta[:, None]  # [B, T]
    cv, u = debye_cv(temps, theta, n), debye_u(temps, theta, n)
    assert cv.dtype == dtype and cv.shape == (3, len(T_OVER_THETA))
    th, nn, tt = (np.asarray(v, dtype=float) for v in (THETAS, N_ATOMS, temps.double()))
    cv_ref = 3.0 * R_GAS * nn[:, None] * ref_cv[None, :]
    u_ref = R_GAS * nn[:, None] * (1.125 * th[:, None] + 3.0 * tt * ref_u[None, :])
    assert _rel(cv, cv_ref) < tol
    assert _rel(u, u_ref) < tol
    # normalised Debye functions directly
    x_d = torch.as_tensor(1.0 / T_OVER_THETA, dtype=dtype)
    assert _rel(debye_function_cv(x_d), ref_cv) < tol
    assert _rel(debye_function_u(x_d), ref_u) < tol
    if dtype == torch.float64:  # default n_points sits at machine precision, not just 1e-6
        assert _rel(debye_function_cv(x_d), ref_cv) < 1e-12
        assert _rel(debye_function_u(x_d), ref_u) < 1e-12


def test_dulong_petit_high_temperature():
    n = torch.tensor([1.0, 2.0, 5.0], dtype=F64)
    theta = torch.tensor([200.0, 400.0, 900.0], dtype=F64)
    cp = dulong_petit(n)
    assert torch.allclose(cp, 3.0 * R_GAS * n)
    # temperature [B, 1] pairs each material with its own T (a [B] temperature would be outer)
    assert _rel(debye_cv(10.0 * theta[:, None], theta, n), cp[:, None]) < 1e-3
    assert _rel(debye_cv(100.0 * theta[:, None], theta, n), cp[:, None]) < 1e-5
    # high-T series Cv/3NR = 1 - x^2/20 + x^4/560 - ... (alternating): remainder <= x^4/560
    for t in (5.0, 10.0, 30.0):
        x = 1.0 / t
        ratio = debye_cv(t * theta[:, None], theta, n) / cp[:, None]
        assert torch.all((ratio - (1.0 - x**2 / 20.0)).abs() <= x**4 / 560.0 * 1.01 + 1e-13)


def test_internal_energy_classical_limit():
    """U = (9/8)NRΘ + 3NRT (1 - 3x/8 + x^2/20 - x^4/1680 + ...), x = Θ/T.

    Hence (U - (9/8)NRΘ)/(3NRT) -> 1 with leading deviation -3x/8, and the zero-point term
    cancels it: U - 3NRT = (3/20) N R Θ^2/T + O(N R T x^4/560).
    """
    n = torch.tensor([1.0, 4.0], dtype=F64)
    theta = torch.tensor([300.0, 700.0], dtype=F64)
    for t in (10.0, 30.0, 100.0):
        x = 1.0 / t
        temp = t * theta  # elementwise pairs, passed as [B, 1]
        u = debye_u(temp[:, None], theta, n)[:, 0]
        classical = 3.0 * R_GAS * n * temp
        reduced = (u - 1.125 * R_GAS * n * theta) / classical
        assert torch.all((reduced - 1.0).abs() <= 3.0 * x / 8.0 * 1.001)
        assert torch.all((reduced - (1.0 - 3.0 * x / 8.0)).abs() <= x**2 / 20.0 * 1.001)
        excess = u - classical - 0.15 * R_GAS * n * theta**2 / temp
        bound = classical * (x**4 / 1680.0 * 1.01 + 1e-13)
        assert torch.all(excess.abs() <= bound)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_t_cubed_law_low_temperature(dtype):
    theta = torch.tensor([150.0, 600.0], dtype=dtype)
    t = torch.tensor([1e-4, 1e-3, 5e-3, 0.01, 0.02], dtype=dtype)
    cv = debye_cv(t * theta[:, None], theta, 2)
    law = 12.0 * math.pi**4 / 5.0 * 2 * R_GAS * t**3
    assert _rel(cv, law.expand_as(cv)) < 1e-3
    if dtype == torch.float64:  # the exponentially small correction is far below this
        assert _rel(cv, law.expand_as(cv)) < 1e-10


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("t_red", [0.0, 1e-4, 1e3, 1e6])
def test_gradients_finite_at_extremes(dtype, t_red):
    theta = torch.tensor([250.0, 800.0], dtype=dtype, requires_grad=True)
    temp = (t_red * theta.detach()).clone().requires_grad_(True)
    for fn in (debye_cv, debye_u):
        out = fn(temp[:, None], theta[:, None], 3).sum()
        g_theta, g_temp = torch.autograd.grad(out, (theta, temp))
        assert torch.isfinite(out)
        assert torch.isfinite(g_theta).all() and torch.isfinite(g_temp).all()
    if t_red >= 1e3:  # classical regime: dCv/dT > 0 tiny, dU/dT ~ 3NR
        du = torch.autograd.grad(debye_u(temp[:, None], theta, 3).sum(), temp)[0]
        assert torch.allclose(du, dulong_petit(3.0).to(dtype).expand_as(du), rtol=1e-3)


def test_gradcheck_float64():
    theta = torch.tensor([120.0, 350.0, 900.0], dtype=F64, requires_grad=True)
    temp = torch.tensor([0.6, 3.0, 17.0, 90.0, 400.0, 2500.0], dtype=F64, requires_grad=True)
    n = torch.tensor([2.0, 1.0, 5.0], dtype=F64)
    assert torch.autograd.gradcheck(lambda th, tt: debye_cv(tt, th, n), (theta, temp))
    assert torch.autograd.gradcheck(lambda th, tt: debye_u(tt, th, n), (theta, temp))
    assert torch.autograd.gradgradcheck(lambda th, tt: debye_cv(tt, th, n), (theta, temp))


def test_thermodynamic_consistency_du_dt_equals_cv():
    theta = torch.tensor([90.0, 420.0, 1500.0], dtype=F64)
    n = torch.tensor([1.0, 3.0, 8.0], dtype=F64)
    t_red = torch.logspace(-3, 2, 200, dtype=F64)
    temp = (t_red * theta[:, None]).requires_grad_(True)
    u = debye_u(temp, theta, n)
    du_dt = torch.autograd.grad(u.sum(), temp)[0]
    assert _rel(du_dt, debye_cv(temp.detach(), theta, n)) < 1e-6
    # a central finite difference of U agrees too (independent of autograd); below T/Θ ~ 0.03
    # the zero-point term dominates U and round-off swamps the difference quotient
    temp = t_red[t_red >= 0.03] * theta[:, None]
    h = 1e-4 * temp
    fd = (debye_u(temp + h, theta, n) - debye_u(temp - h, theta, n)) / (2 * h)
    assert _rel(fd, debye_cv(temp, theta, n)) < 1e-6


def test_monotonicity():
    theta = torch.tensor([100.0, 500.0, 2000.0], dtype=F64)
    temp = torch.logspace(-1, 4.5, 400, dtype=F64)
    cv, u = debye_cv(temp, theta, 2), debye_u(temp, theta, 2)
    assert torch.all(cv.diff(dim=-1) > 0)
    # U - (9/8)NRΘ = 3NRT D_u(Θ/T) rises everywhere; U itself only resolvably so above
    # T/Θ ~ 5e-3 (below, the thermal part is < 1e-8 of the zero-point term)
    thermal = temp * debye_function_u(theta[:, None] / temp)
    assert torch.all(thermal.diff(dim=-1) > 0)
    assert torch.all(u.diff(dim=-1) >= 0)
    resolvable = (temp[1:] / theta[:, None] > 5e-3).expand_as(u[:, 1:])
    assert torch.all(u.diff(dim=-1)[resolvable] > 0)
    assert torch.all(cv < dulong_petit(2.0))
    thetas = torch.linspace(50.0, 3000.0, 300, dtype=F64)
    for temp_k in (5.0, 77.0, 300.0, 1200.0):
        cv_theta = debye_cv(temp_k, thetas, 2)
        assert cv_theta.shape == thetas.shape
        assert torch.all(cv_theta.diff() < 0)


def test_broadcasting_and_input_types():
    theta = torch.tensor([200.0, 300.0, 400.0, 500.0], dtype=F64)
    temps = torch.tensor([10.0, 100.0, 300.0], dtype=F64)
    n = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=F64)
    for fn in (debye_cv, debye_u):
        full = fn(temps, theta, n)
        assert full.shape == (4, 3)
        assert torch.equal(fn(temps, theta[:, None], n), full)
        assert torch.equal(fn(temps.expand(4, 3), theta, n), full)
        for b in range(4):  # each row uses its own theta and n_atoms
            row = fn(temps, float(theta[b]), float(n[b]))
            assert row.shape == (3,)
            assert torch.allclose(row, full[b], rtol=1e-14)
        assert fn(300.0, theta, n).shape == (4,)
        assert torch.allclose(fn(300.0, theta, n), full[:, 2], rtol=1e-14)
        assert fn(300.0, theta, 2).shape == (4,)
        assert fn(temps, 350.0, 2).shape == (3,)
        assert fn(300.0, 350.0, 2).shape == ()
        # numpy / python inputs; dtype of theta is kept
        from_np = fn(temps.numpy(), theta.numpy(), n.numpy())
        assert from_np.dtype == F64 and torch.equal(from_np, full)
        assert fn(temps, theta.float(), n).dtype == torch.float32
        assert fn(temps, 350.0, 2).dtype == F64  # python theta: follows temperature tensor
        assert fn(300.0, 350.0, 2).dtype == torch.get_default_dtype()
    assert debye_cv(300.0, 350.0, 2, n_points=64).dtype == torch.get_default_dtype()


def test_values_at_named_points():
    # Debye functions at x_D = 1: standard tabulated values
    d_cv = debye_function_cv(torch.tensor(1.0, dtype=F64))
    d_u = debye_function_u(torch.tensor(1.0, dtype=F64))
    assert abs(float(d_cv) - 0.951732) < 1e-6
    assert abs(float(d_u) - 0.674416) < 1e-6
    assert float(debye_function_cv(torch.tensor(0.0, dtype=F64))) == pytest.approx(1.0)
