"""The faster per-pixel ITM kernel (issue 17) gives the same numbers as before.

"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vncoverage import _itm_kernels as kern


def _heaps_p2p(z: np.ndarray, xi: float, setup: tuple) -> float:
    """:func:`kern.p2p_run`'s loss with the deciles by the heaps (the path before 17)."""
    _err, _warnings, _z_g, n_0, _f_mhz, h_tx, h_rx, _var = setup
    n_int = z.size - 1
    k10 = int(0.1 * n_int)
    h_sys = float(np.mean(z[k10:n_int - k10 + 1]))
    gamma_e, _n_s = kern.effective_earth(h_sys, n_0)
    scratch = np.empty(kern.DELTA_H_SCRATCH)
    _th0, _th1, dh0, dh1 = kern.find_horizons(z, xi, 1.0 / gamma_e, h_tx, h_rx)
    d_start = min(15.0 * h_tx, 0.1 * dh0)
    d_end = n_int * xi - min(15.0 * h_rx, 0.1 * dh1)
    new = kern.compute_delta_h_into(z, xi, d_start, d_end, scratch)
    old = kern.compute_delta_h_heaps_into(z, xi, d_start, d_end, scratch)
    assert new == old
    return float(kern.p2p_run(z, xi, setup, scratch)[0])


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(st.floats(-40.0, 40.0), min_size=3, max_size=600),
       start=st.floats(0.0, 0.3), end=st.floats(0.7, 1.0), xi=st.sampled_from([30.0, 90.0]))
def test_deciles_by_insertion_equal_heaps(steps: list[float], start: float, end: float,
                                          xi: float) -> None:
    z = 300.0 + np.cumsum(steps)
    d = (z.size - 1) * xi
    scratch = np.empty(kern.DELTA_H_SCRATCH)
    new = kern.compute_delta_h_into(z, xi, start * d, end * d, scratch)
    old = kern.compute_delta_h_heaps_into(z, xi, start * d, end * d, scratch)
    assert new == old  # bit for bit
    assert new == kern.compute_delta_h(z, xi, start * d, end * d)


@settings(max_examples=80, deadline=None)
@given(steps=st.lists(st.integers(-3, 3), min_size=3, max_size=400),
       xi=st.sampled_from([30.0, 90.0]))
def test_deciles_with_ties_equal_heaps(steps: list[int], xi: float) -> None:
    # integer terraces: many equal residuals around both deciles
    z = 200.0 + np.cumsum(np.asarray(steps, dtype=float))
    d = (z.size - 1) * xi
    scratch = np.empty(kern.DELTA_H_SCRATCH)
    assert (kern.compute_delta_h_into(z, xi, 0.0, d, scratch)
            == kern.compute_delta_h_heaps_into(z, xi, 0.0, d, scratch))


def test_deciles_known_values() -> None:
    # 245 resampled points (k = 25) of a profile whose detrended residuals are known: a
    # line plus a saw tooth of period 10 (amplitude 0..9) sampled exactly on the points
    n = 245
    z = 100.0 + 0.5 * np.arange(n) + (np.arange(n) % 10)
    scratch = np.empty(kern.DELTA_H_SCRATCH)
    got = kern.compute_delta_h_into(z, 1.0, 0.0, n - 1.0, scratch)
    assert got == kern.compute_delta_h_heaps_into(z, 1.0, 0.0, n - 1.0, scratch)
    y0, y1 = kern.least_squares_fit(z, 1.0, 0.0, n - 1.0)
    r = np.sort(z - np.linspace(y0, y1, n))
    expected = (r[n - 25] - r[24]) / (1.0 - 0.8 * math.exp(-(n - 1.0) / 50e3))
    assert got == pytest.approx(expected, rel=1e-9)
    assert got > 5.0  # the saw tooth's interdecile range, not 0: the test can fail


@pytest.mark.parametrize("m", [3, 40, 111, 334, 600])
def test_p2p_run_unchanged(m: int) -> None:
    rng = np.random.default_rng(m)
    setup = kern.p2p_setup(30.0, 1.5, 5, 301.0, 1800.0, 1, 15.0, 0.005, 12, 50.0, 50.0,
                           50.0)
    for xi in (30.0, 90.0):
        z = 300.0 + np.cumsum(rng.normal(0.0, 12.0, m + 1))
        loss = _heaps_p2p(z, xi, setup)
        assert math.isfinite(loss)
        # the same arithmetic, but this side calls the kernels one by one and p2p_full has
        # them compiled inline: the compiler may round the last bit differently
        # (1 ulp seen on another machine), so equal to 1e-13, not to the bit
        assert loss == pytest.approx(
            kern.p2p_full(z, xi, 30.0, 1.5, 5, 301.0, 1800.0, 1, 15.0, 0.005, 12, 50.0, 50.0,
                          50.0)[0], rel=1e-13, abs=0.0)
