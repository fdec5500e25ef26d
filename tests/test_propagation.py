"""Known answers and laws of the path-loss models."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vncoverage.errors import ModelDomainError
from vncoverage.propagation import (
    MODELS,
    ModelDomainWarning,
    bullington_loss_db,
    cost231_hata_db,
    fspl_db,
    get_model,
    knife_edge_j_db,
    okumura_hata_db,
)


def test_free_space_known_answer():
    # DOMAIN.md: 91.52 dB at 1 km, 900 MHz (from the rounded constant 32.44; the exact
    # constant 20 log10(4 pi 1e9 / c) = 32.448 gives 91.533).
    assert float(fspl_db(1000.0, 900.0)) == pytest.approx(91.52, abs=0.02)


def test_hata_known_answer():
    assert float(okumura_hata_db(1000.0, 900.0, 30.0, 1.5)) == pytest.approx(126.40, abs=0.01)


def test_cost231_known_answer():
    assert float(cost231_hata_db(1000.0, 1800.0, 30.0, 1.5)) == pytest.approx(136.20, abs=0.01)


def test_knife_edge_j0():
    assert float(knife_edge_j_db(0.0)) == pytest.approx(6.02, abs=0.005)
    assert float(knife_edge_j_db(-1.0)) == 0.0
    # P.526-15 eq. (31) approximation agrees with the exact form within ~0.5 dB for nu > -0.7
    nu = np.linspace(-0.7, 5, 50)
    approx = 6.9 + 20 * np.log10(np.sqrt((nu - 0.1) ** 2 + 1) + nu - 0.1)
    assert np.max(np.abs(knife_edge_j_db(nu) - approx)) < 0.6


@given(st.floats(10, 50_000), st.floats(10, 50_000), st.floats(100, 6000))
def test_free_space_grows_with_distance(d1, d2, f):
    lo, hi = sorted((d1, d2))
    assert fspl_db(hi, f) >= fspl_db(lo, f)


@given(st.floats(1000, 20_000), st.floats(1000, 20_000), st.floats(30, 200))
def test_hata_grows_with_distance(d1, d2, hb):
    lo, hi = sorted((d1, d2))
    assert okumura_hata_db(hi, 900, hb, 1.5) >= okumura_hata_db(lo, 900, hb, 1.5) - 1e-9


def test_empirical_models_use_height_above_ground_and_enforce_domain():
    hata = get_model("hata")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hata.loss_db(5000, freq_mhz=900, h_tx_m=30, h_rx_m=1.5)  # inside: no warning
    with pytest.warns(ModelDomainWarning, match="frequency = 1800"):
        hata.loss_db(5000, freq_mhz=1800, h_tx_m=30, h_rx_m=1.5)
    with pytest.raises(ModelDomainError, match="transmitter height"):
        hata.loss_db(5000, freq_mhz=900, h_tx_m=20, h_rx_m=1.5, strict=True)
    with pytest.raises(ModelDomainError, match="distance"):
        get_model("cost231").loss_db(25_000, freq_mhz=1800, h_tx_m=30, h_rx_m=1.5,
                                     strict=True)


def test_registry_lists_models_and_rejects_unknown():
    assert {"fspl", "hata", "cost231", "p526"} <= set(MODELS)
    with pytest.raises(KeyError, match="known models"):
        get_model("okumura")


def test_bullington_flat_is_free_space_plus_small_smooth_earth_term():
    prof = np.full(101, 100.0)  # 10 km flat at 100 m spacing
    loss = bullington_loss_db(prof, 100.0, 1800.0, 30.0, 1.5)
    free = float(fspl_db(10_000, 1800.0))
    # 30 m and 1.5 m antennas over 10 km of flat ground: clear line of sight but the first
    # Fresnel zone grazes the ground, so a few dB of excess loss at most.
    assert free <= loss < free + 10


def test_bullington_ridge_shadows():
    flat = np.full(101, 100.0)
    ridge = flat.copy()
    ridge[50] = 250.0  # a 150 m knife edge halfway
    l_flat = bullington_loss_db(flat, 100.0, 1800.0, 30.0, 1.5)
    l_ridge = bullington_loss_db(ridge, 100.0, 1800.0, 30.0, 1.5)
    assert l_ridge > l_flat + 20
    # the diffraction loss equals J(nu) of the single edge (plus the smooth-earth term)
    d, d1 = 10_000.0, 5_000.0
    lam = 299_792_458.0 / 1.8e9
    bulge = d1 * (d - d1) / (2 * 4 / 3 * 6_371_000.0)
    h = 250.0 + bulge - (130.0 + 101.5) / 2
    nu = h * np.sqrt(2 * d / (lam * d1 * (d - d1)))
    j = float(knife_edge_j_db(nu))
    expected = float(fspl_db(d, 1800.0)) + j + (1 - np.exp(-j / 6)) * (10 + 0.02 * 10)
    assert l_ridge == pytest.approx(expected, abs=0.01)


@given(st.lists(st.floats(0, 500), min_size=3, max_size=60))
def test_bullington_never_below_free_space(heights):
    prof = np.asarray(heights)
    loss = bullington_loss_db(prof, 90.0, 1800.0, 30.0, 1.5)
    assert loss >= float(fspl_db((prof.size - 1) * 90.0, 1800.0)) - 1e-9
