"""3GPP TR 36.814 sector pattern: known points and tilt behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vncoverage.antenna import sector_gain_db


def test_boresight_gain_is_zero():
    assert float(sector_gain_db(0.0, 0.0)) == 0.0


def test_minus_3db_at_half_beamwidth():
    g = sector_gain_db([32.5, -32.5], [0.0, 0.0], h_beamwidth_deg=65.0)
    assert np.allclose(g, -3.0)
    gv = sector_gain_db(0.0, 5.0, v_beamwidth_deg=10.0)
    assert float(gv) == pytest.approx(-3.0)


def test_back_lobe_equals_front_to_back():
    assert float(sector_gain_db(180.0, 0.0, front_to_back_db=25.0)) == -25.0
    assert float(sector_gain_db(180.0, 0.0, front_to_back_db=30.0)) == -30.0


def test_electrical_tilt_moves_vertical_maximum():
    theta = np.linspace(-10, 30, 401)
    for tilt in (0.0, 4.0, 8.0):
        g = sector_gain_db(np.zeros_like(theta), theta, etilt_deg=tilt)
        assert theta[np.argmax(g)] == pytest.approx(tilt, abs=0.1)


def test_mechanical_tilt_reverses_behind_the_antenna():
    theta = np.linspace(-20, 20, 401)
    front = sector_gain_db(np.zeros_like(theta), theta, mtilt_deg=6.0, front_to_back_db=60)
    side = sector_gain_db(np.full_like(theta, 90.0), theta, mtilt_deg=6.0, front_to_back_db=60)
    assert theta[np.argmax(front)] == pytest.approx(6.0, abs=0.1)
    assert theta[np.argmax(side)] == pytest.approx(0.0, abs=0.1)


def test_omni_ignores_azimuth():
    g = sector_gain_db(np.arange(0, 360, 15.0), 0.0, omni=True)
    assert np.all(g == 0.0)


@given(st.floats(-720, 720), st.floats(-90, 90))
def test_gain_bounded(phi, theta):
    g = float(sector_gain_db(phi, theta))
    assert -25.0 - 1e-9 <= g <= 0.0
