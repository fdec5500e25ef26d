from __future__ import annotations

import numpy as np
import pytest

from vncoverage.config import RadioConfig
from vncoverage.radio import coverage_probability, n_resource_blocks, per_re_offset_db


def test_rsrp_per_resource_element_offset():
    # 20 MHz LTE: 100 RB x 12 subcarriers -> -30.79 dB (DOMAIN.md: about 25-31 dB)
    assert per_re_offset_db("4G", 20, -10) == pytest.approx(-30.79, abs=0.01)
    assert per_re_offset_db("4G", 5, -10) == pytest.approx(-24.77, abs=0.01)
    assert per_re_offset_db("5G", 100, -10) == pytest.approx(-10 * np.log10(12 * 273))
    assert per_re_offset_db("3G", 5, -10) == -10
    assert per_re_offset_db("2G", 0.2, -10) == 0


def test_non_standard_bandwidth_rejected():
    with pytest.raises(ValueError, match="channel bandwidth"):
        n_resource_blocks("4G", 12)


def test_location_margin_matches_domain():
    # DOMAIN.md: 90 % of locations with sigma 8 dB adds 10.3 dB
    assert RadioConfig().location_margin_db == pytest.approx(10.3, abs=0.06)


def test_coverage_probability():
    p = coverage_probability([-110 + 10.25, -110, np.nan], -110, 8)
    assert p[0] == pytest.approx(0.9, abs=0.001)
    assert p[1] == pytest.approx(0.5)
    assert np.isnan(p[2])
