"""Link budget: from a cell's EIRP to the level a handset measures.

* 4G: RSRP is the power of one LTE resource element, i.e. total carrier power spread over
  ``12 * N_RB`` subcarriers: ``RSRP = EIRP - 10 log10(12 N_RB) + G - L`` (3GPP TS 36.214
  §5.1.1; N_RB from TS 36.101 Table 5.6-1). For 20 MHz this subtracts 30.8 dB.
* 5G: SS-RSRP per resource element likewise, with N_RB at 30 kHz sub-carrier spacing from
  TS 38.101-1 Table 5.3.2-1 (TS 38.215 §5.1.1).
* 3G: RSCP of the pilot channel, ``EIRP + cpich_fraction_db`` (assumption: -10 dB).
* 2G: RxLev of the BCCH carrier, the carrier EIRP itself.

Location variability: the level at a random location in a pixel is log-normal around the
median with standard deviation sigma; the share of locations above a threshold is
``Phi((median - threshold) / sigma)`` (e.g. Jakes, "Microwave Mobile Communications", 1974,
§2.4; Rappaport, "Wireless Communications", 2nd ed., §4.10.1).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

__all__ = [
    "LTE_N_RB",
    "NR_N_RB_30KHZ",
    "coverage_probability",
    "n_resource_blocks",
    "per_re_offset_db",
]

#: LTE channel bandwidth (MHz) -> transmission bandwidth in resource blocks (TS 36.101).
LTE_N_RB: dict[float, int] = {1.4: 6, 3.0: 15, 5.0: 25, 10.0: 50, 15.0: 75, 20.0: 100}

#: NR FR1 channel bandwidth (MHz) -> N_RB at 30 kHz SCS (TS 38.101-1 Table 5.3.2-1).
NR_N_RB_30KHZ: dict[float, int] = {
    5.0: 11, 10.0: 24, 15.0: 38, 20.0: 51, 25.0: 65, 30.0: 78, 40.0: 106, 50.0: 133,
    60.0: 162, 70.0: 189, 80.0: 217, 90.0: 245, 100.0: 273,
}


def n_resource_blocks(technology: str, bandwidth_mhz: float) -> int:
    """Number of resource blocks of a 4G or 5G carrier.

    Raises
    ------
    ValueError
        If the bandwidth is not a standard channel bandwidth of that technology.
    """
    table = {"4G": LTE_N_RB, "5G": NR_N_RB_30KHZ}.get(technology)
    if table is None:
        raise ValueError(f"{technology} has no resource blocks (only 4G and 5G)")
    for bw, n in table.items():
        if abs(bw - bandwidth_mhz) < 1e-6:
            return n
    raise ValueError(
        f"{bandwidth_mhz:g} MHz is not a {technology} channel bandwidth; "
        f"use one of {', '.join(f'{b:g}' for b in table)}"
    )


def per_re_offset_db(technology: str, bandwidth_mhz: float, cpich_fraction_db: float) -> float:
    """dB to add to the carrier EIRP to get the level the handset reports
    (negative for 3G/4G/5G, 0 for 2G)."""
    if technology in ("4G", "5G"):
        return -10.0 * math.log10(12 * n_resource_blocks(technology, bandwidth_mhz))
    if technology == "3G":
        return cpich_fraction_db
    if technology == "2G":
        return 0.0
    raise ValueError(f"unknown technology {technology!r}")


def coverage_probability(
    median_dbm: npt.ArrayLike, threshold_dbm: float, sigma_db: float
) -> npt.NDArray[np.float64]:
    """Share of locations where a log-normal level exceeds ``threshold_dbm``.

    NaN medians (unknown pixels) stay NaN; with ``sigma_db = 0`` the result is 0 or 1.
    """
    m = np.asarray(median_dbm, dtype=float)
    if sigma_db == 0:
        return np.where(np.isnan(m), np.nan, (m >= threshold_dbm).astype(float))
    return np.asarray(ndtr((m - threshold_dbm) / sigma_db), dtype=float)  # standard normal CDF
