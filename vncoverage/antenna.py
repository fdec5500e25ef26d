"""Base-station antenna patterns: 3GPP parametric sector pattern and omni.

The sector pattern is the one of 3GPP TR 36.814 V9.2.0, Table A.2.1.1-2 (also TR 38.901
V17, Table 7.3-1 for a single element):

* horizontal cut ``A_H(phi) = -min(12 (phi / phi_3dB)^2, A_m)``
* vertical cut ``A_V(theta) = -min(12 ((theta - theta_tilt) / theta_3dB)^2, SLA_v)``
* combined ``A(phi, theta) = -min(-(A_H + A_V), A_m)``

where ``phi`` is the horizontal angle off boresight, ``theta`` the depression angle below
the horizontal (positive downwards), ``A_m`` the front-to-back ratio and ``SLA_v`` the
vertical side-lobe level. Gains are relative to boresight (the cell's EIRP already holds the
boresight gain).

Downtilt: electrical tilt moves the vertical maximum at every azimuth; mechanical tilt tilts
the whole panel, so its effect on the vertical cut seen at ``phi`` off boresight is
``mtilt * cos(phi)`` (reversed behind the antenna). This is the usual first-order model of a
mechanically tilted panel (e.g. Gunnarsson et al., "Downtilted base station antennas - a
simulation model proposal and impact on HSPA and LTE performance", IEEE VTC 2008).

The numba kernel :func:`gain_db_scalar` is used by the coverage sweep; :func:`sector_gain_db`
is its array wrapper.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["gain_db_scalar", "sector_gain_db"]


@njit(cache=True)
def gain_db_scalar(
    phi_deg: float,
    theta_deg: float,
    omni: bool,
    etilt_deg: float,
    mtilt_deg: float,
    h_beamwidth_deg: float,
    v_beamwidth_deg: float,
    front_to_back_db: float,
    sla_v_db: float,
) -> float:
    """Relative gain (dB, <= 0) towards ``phi_deg`` off boresight and ``theta_deg`` below
    the horizontal. For an omni antenna ``phi`` is ignored and the front-to-back cap
    does not apply to the vertical cut beyond ``sla_v_db``."""
    phi = (phi_deg + 180.0) % 360.0 - 180.0
    tilt = etilt_deg
    if mtilt_deg != 0.0:
        tilt += mtilt_deg * math.cos(math.radians(phi))
    a_v = -min(12.0 * ((theta_deg - tilt) / v_beamwidth_deg) ** 2, sla_v_db)
    if omni:
        return a_v
    a_h = -min(12.0 * (phi / h_beamwidth_deg) ** 2, front_to_back_db)
    return -min(-(a_h + a_v), front_to_back_db)


def sector_gain_db(
    phi_deg: npt.ArrayLike,
    theta_deg: npt.ArrayLike,
    *,
    omni: bool = False,
    etilt_deg: float = 0.0,
    mtilt_deg: float = 0.0,
    h_beamwidth_deg: float = 65.0,
    v_beamwidth_deg: float = 10.0,
    front_to_back_db: float = 25.0,
    sla_v_db: float = 20.0,
) -> npt.NDArray[np.float64]:
    """Relative antenna gain in dB for arrays of angles.

    Parameters
    ----------
    phi_deg
        Horizontal angle off boresight, degrees (any range; wrapped to -180..180).
    theta_deg
        Depression angle below the horizontal, degrees (positive = below).
    omni
        Omnidirectional in the horizontal plane.
    etilt_deg, mtilt_deg
        Electrical and mechanical downtilt, degrees (positive = down).
    h_beamwidth_deg, v_beamwidth_deg
        Half-power beamwidths.
    front_to_back_db, sla_v_db
        Front-to-back ratio ``A_m`` and vertical side-lobe attenuation ``SLA_v`` (positive).
    """
    phi, theta = np.broadcast_arrays(
        np.asarray(phi_deg, dtype=float), np.asarray(theta_deg, dtype=float)
    )
    out = np.empty(phi.shape, dtype=float)
    flat_out = out.reshape(-1)
    for i, (p, t) in enumerate(zip(phi.reshape(-1), theta.reshape(-1), strict=True)):
        flat_out[i] = gain_db_scalar(
            float(p), float(t), omni, etilt_deg, mtilt_deg, h_beamwidth_deg,
            v_beamwidth_deg, front_to_back_db, sla_v_db,
        )
    return out
