"""Path-loss models behind one signature, each with a declared validity domain.

Every model is reachable by name through :data:`MODELS` / :func:`get_model`::

    loss_db = get_model("hata").loss_db(distance_m, freq_mhz=900, h_tx_m=30, h_rx_m=1.5)

Heights are always **above local ground** (the empirical models' own definition); models
that use the terrain take the elevation profile separately (``profile_m`` sampled every
``spacing_m`` metres from transmitter to receiver). Outside its domain a model warns
(:class:`ModelDomainWarning`) or, with ``strict=True``, raises
:class:`~vncoverage.errors.ModelDomainError`; it never extrapolates silently.

The same formulas are compiled with numba in :mod:`vncoverage._sweep` for the per-cell
raster sweep; the functions here are the reference (and tested) implementations.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import fresnel

from . import _itm_kernels
from .errors import ModelDomainError
from .itm import ITMInputError

__all__ = [
    "MODELS",
    "ModelDomain",
    "ModelDomainWarning",
    "PathLossModel",
    "bullington_loss_db",
    "cost231_hata_db",
    "fspl_db",
    "get_model",
    "knife_edge_j_db",
    "okumura_hata_db",
]

EARTH_RADIUS_M = 6_371_000.0
C_M_PER_S = 299_792_458.0
#: First zero of the exact knife-edge loss J(nu) (found with scipy.optimize.brentq).
NU_J_ZERO = -0.778021694735985

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]


class ModelDomainWarning(UserWarning):
    """A model was used outside its declared validity domain."""


@dataclass(frozen=True)
class ModelDomain:
    """Validity domain of a model: closed intervals, ``None`` for unbounded."""

    freq_mhz: tuple[float, float]
    distance_m: tuple[float, float] | None = None
    h_tx_m: tuple[float, float] | None = None
    h_rx_m: tuple[float, float] | None = None

    def violations(
        self, *, freq_mhz: float, h_tx_m: float, h_rx_m: float, distance_m: ArrayLike | None
    ) -> list[str]:
        """Describe every way the arguments leave the domain (empty list if none)."""
        out: list[str] = []

        def check(name: str, value: float, rng: tuple[float, float] | None, unit: str) -> None:
            if rng is not None and not (rng[0] <= value <= rng[1]):
                out.append(f"{name} = {value:g} {unit} outside {rng[0]:g}-{rng[1]:g} {unit}")

        check("frequency", freq_mhz, self.freq_mhz, "MHz")
        check("transmitter height", h_tx_m, self.h_tx_m, "m")
        check("receiver height", h_rx_m, self.h_rx_m, "m")
        if distance_m is not None and self.distance_m is not None:
            d = np.asarray(distance_m, dtype=float)
            lo, hi = self.distance_m
            n_out = int(np.count_nonzero((d < lo) | (d > hi)))
            if n_out:
                out.append(f"{n_out} distance(s) outside {lo:g}-{hi:g} m")
        return out


@dataclass(frozen=True)
class PathLossModel:
    """A named path-loss model.

    Attributes
    ----------
    name
        Registry key.
    code
        Integer id of the model in the compiled sweep kernels.
    domain
        Declared validity domain.
    uses_terrain
        True when the model needs the elevation profile.
    reference
        Where the formula comes from.
    formula
        The model itself, without the domain check of :meth:`loss_db` (for references
        that check the domain once per raster, not once per pixel).
    """

    name: str
    code: int
    domain: ModelDomain
    uses_terrain: bool
    reference: str
    formula: Callable[..., Any]

    def check_domain(
        self,
        *,
        freq_mhz: float,
        h_tx_m: float,
        h_rx_m: float,
        distance_m: ArrayLike | None = None,
        strict: bool = False,
    ) -> list[str]:
        """Warn (or raise with ``strict``) when the arguments leave the domain."""
        bad = self.domain.violations(
            freq_mhz=freq_mhz, h_tx_m=h_tx_m, h_rx_m=h_rx_m, distance_m=distance_m
        )
        if bad:
            msg = f"model '{self.name}' used outside its validity domain: " + "; ".join(bad)
            if strict:
                raise ModelDomainError(msg)
            warnings.warn(msg, ModelDomainWarning, stacklevel=3)
        return bad

    def loss_db(
        self,
        distance_m: ArrayLike,
        *,
        freq_mhz: float,
        h_tx_m: float,
        h_rx_m: float,
        profile_m: ArrayLike | None = None,
        spacing_m: float | None = None,
        k_factor: float = 4.0 / 3.0,
        strict: bool = False,
        **model_params: float,
    ) -> FloatArray:
        """Basic transmission loss in dB.

        Parameters
        ----------
        distance_m
            Path length(s) in metres (ignored by terrain models, whose length is given by
            the profile).
        freq_mhz
            Carrier frequency in MHz.
        h_tx_m, h_rx_m
            Antenna heights above local ground, in metres.
        profile_m, spacing_m
            Terrain elevations (m above sea level) from transmitter to receiver, sampled every
            ``spacing_m`` metres; required by terrain models.
        k_factor
            Effective earth-radius factor.
        strict
            Raise instead of warning outside the validity domain.
        model_params
            Model-specific parameters (ITM: ``climate, n0, polarization, epsilon, sigma,
            mdvar, time_pct, location_pct, situation_pct``; see
            :attr:`vncoverage.config.RadioConfig.itm_params`).
        """
        if self.uses_terrain:
            if profile_m is None or spacing_m is None:
                raise ValueError(f"model '{self.name}' needs profile_m and spacing_m")
            prof = np.asarray(profile_m, dtype=float)
            d = np.asarray((prof.size - 1) * spacing_m, dtype=float)
            self.check_domain(
                freq_mhz=freq_mhz, h_tx_m=h_tx_m, h_rx_m=h_rx_m, distance_m=d, strict=strict
            )
            return np.asarray(
                self.formula(prof, float(spacing_m), freq_mhz, h_tx_m, h_rx_m, k_factor,
                           **model_params),
                dtype=float,
            )
        d = np.asarray(distance_m, dtype=float)
        self.check_domain(
            freq_mhz=freq_mhz, h_tx_m=h_tx_m, h_rx_m=h_rx_m, distance_m=d, strict=strict
        )
        return np.asarray(self.formula(d, freq_mhz, h_tx_m, h_rx_m), dtype=float)


def fspl_db(distance_m: ArrayLike, freq_mhz: ArrayLike) -> FloatArray:
    """Free-space basic transmission loss, ITU-R P.525-4 eq. (4).

    ``L = 32.45 + 20 log10(f / MHz) + 20 log10(d / km)`` (exact constant
    ``20 log10(4 pi 1e9 / c)``); 91.52 dB at 1 km and 900 MHz.
    """
    d_km = np.asarray(distance_m, dtype=float) / 1000.0
    f = np.asarray(freq_mhz, dtype=float)
    const = 20.0 * math.log10(4.0 * math.pi * 1e9 / C_M_PER_S)
    return np.asarray(const + 20.0 * np.log10(f) + 20.0 * np.log10(d_km), dtype=float)


def _hata_mobile_correction_db(freq_mhz: float, h_rx_m: float) -> float:
    """Mobile antenna height correction a(h_m) for a small/medium city (Hata 1980)."""
    lf = math.log10(freq_mhz)
    return (1.1 * lf - 0.7) * h_rx_m - (1.56 * lf - 0.8)


def okumura_hata_db(
    distance_m: ArrayLike, freq_mhz: float, h_tx_m: float, h_rx_m: float
) -> FloatArray:
    """Okumura-Hata median loss, small/medium city.

    M. Hata, "Empirical formula for propagation loss in land mobile radio services",
    IEEE Trans. Veh. Technol. VT-29(3), 1980, eqs. (1)-(3):
    ``L = 69.55 + 26.16 log f - 13.82 log h_b - a(h_m) + (44.9 - 6.55 log h_b) log d``,
    f in MHz, d in km, heights in metres above local ground. 126.40 dB at 900 MHz,
    30 m / 1.5 m, 1 km.
    """
    d_km = np.asarray(distance_m, dtype=float) / 1000.0
    lf, lhb = math.log10(freq_mhz), math.log10(h_tx_m)
    a_hm = _hata_mobile_correction_db(freq_mhz, h_rx_m)
    return np.asarray(
        69.55 + 26.16 * lf - 13.82 * lhb - a_hm + (44.9 - 6.55 * lhb) * np.log10(d_km),
        dtype=float,
    )


def cost231_hata_db(
    distance_m: ArrayLike, freq_mhz: float, h_tx_m: float, h_rx_m: float, c_m_db: float = 0.0
) -> FloatArray:
    """COST-231 Hata extension to 1500-2000 MHz, medium city (``c_m_db`` = 0; 3 dB for
    metropolitan centres).

    COST Action 231, "Digital mobile radio towards future generation systems", final report
    (1999), §4.4.1: ``L = 46.3 + 33.9 log f - 13.82 log h_b - a(h_m)
    + (44.9 - 6.55 log h_b) log d + C_m``. 136.20 dB at 1800 MHz, 30 m / 1.5 m, 1 km.
    """
    d_km = np.asarray(distance_m, dtype=float) / 1000.0
    lf, lhb = math.log10(freq_mhz), math.log10(h_tx_m)
    a_hm = _hata_mobile_correction_db(freq_mhz, h_rx_m)
    return np.asarray(
        46.3 + 33.9 * lf - 13.82 * lhb - a_hm + (44.9 - 6.55 * lhb) * np.log10(d_km) + c_m_db,
        dtype=float,
    )


def knife_edge_j_db(nu: ArrayLike) -> FloatArray:
    """Single knife-edge diffraction loss J(nu) in dB, exact Fresnel-integral form.

    ITU-R P.526-15 eq. (26): ``J(nu) = -20 log10( sqrt((1 - C - S)^2 + (C - S)^2) / 2 )``
    with C, S the Fresnel cosine and sine integrals of nu. J(0) = 6.02 dB. Below the first
    zero of J, nu = -0.7780 (P.526's approximation, eq. (31), uses -0.78), the loss is 0:
    the ripple of the exact function around 0 dB is not kept.
    """
    v = np.asarray(nu, dtype=float)
    s, c = fresnel(v)
    j = -20.0 * np.log10(np.sqrt((1.0 - c - s) ** 2 + (c - s) ** 2) / 2.0)
    return np.asarray(np.where(v <= NU_J_ZERO, 0.0, j), dtype=float)


def bullington_loss_db(
    profile_m: ArrayLike,
    spacing_m: float,
    freq_mhz: float,
    h_tx_m: float,
    h_rx_m: float,
    k_factor: float = 4.0 / 3.0,
) -> float:
    """Free-space loss plus terrain diffraction by the Bullington construction.

    ITU-R P.526-15 (10/2019) §4.5.1 "Bullington method": the terrain between the terminals
    is replaced by one equivalent knife edge at the intersection of the steepest rays from
    each terminal (or, on a line-of-sight path, the point of greatest Fresnel parameter);
    its loss ``J(nu)`` (eq. 26) is then augmented by the smooth-earth correction of eq.
    (43), ``L = L_uc + (1 - exp(-L_uc / 6)) (10 + 0.02 d_km)``. Earth curvature uses an
    effective radius ``k * 6371 km``.

    Parameters
    ----------
    profile_m
        Ground elevation (m) from transmitter (index 0) to receiver (last), every
        ``spacing_m`` metres.
    h_tx_m, h_rx_m
        Antenna heights above the ground at each end.
    """
    z = np.asarray(profile_m, dtype=float)
    n = z.size - 1
    if n < 1:
        raise ValueError("a profile needs at least two points")
    d = n * spacing_m
    lam = C_M_PER_S / (freq_mhz * 1e6)
    ce = 1.0 / (k_factor * EARTH_RADIUS_M)
    hts, hrs = z[0] + h_tx_m, z[-1] + h_rx_m
    free = float(fspl_db(d, freq_mhz))
    if n < 2:
        return free
    di = np.arange(1, n) * spacing_m
    hi = z[1:-1] + 0.5 * ce * di * (d - di)
    s_tim = np.max((hi - hts) / di)
    s_tr = (hrs - hts) / d
    if s_tim < s_tr:
        clearance = hi - (hts * (d - di) + hrs * di) / d
        nu = float(np.max(clearance * np.sqrt(2.0 * d / (lam * di * (d - di)))))
    else:
        s_rim = np.max((hi - hrs) / (d - di))
        db = (hrs - hts + s_rim * d) / (s_tim + s_rim)
        db = min(max(db, 1e-3 * spacing_m), d - 1e-3 * spacing_m)
        nu = float(
            (hts + s_tim * db - (hts * (d - db) + hrs * db) / d)
            * math.sqrt(2.0 * d / (lam * db * (d - db)))
        )
    luc = float(knife_edge_j_db(nu))
    return free + luc + (1.0 - math.exp(-luc / 6.0)) * (10.0 + 0.02 * d / 1000.0)


def _fspl_model(d: FloatArray, f: float, h_tx: float, h_rx: float) -> FloatArray:
    return fspl_db(d, f)


MODELS: dict[str, PathLossModel] = {
    m.name: m
    for m in (
        PathLossModel(
            "fspl", 0, ModelDomain((1.0, 100_000.0)), False,
            "ITU-R P.525-4 eq. (4)", _fspl_model,
        ),
        PathLossModel(
            "hata", 1,
            ModelDomain((150.0, 1500.0), (1000.0, 20000.0), (30.0, 200.0), (1.0, 10.0)),
            False, "Hata 1980, small/medium city", okumura_hata_db,
        ),
        PathLossModel(
            "cost231", 2,
            ModelDomain((1500.0, 2000.0), (1000.0, 20000.0), (30.0, 200.0), (1.0, 10.0)),
            False, "COST 231 final report §4.4.1, medium city", cost231_hata_db,
        ),
        PathLossModel(
            "p526", 3, ModelDomain((30.0, 50_000.0)), True,
            "ITU-R P.526-15 §4.5.1 (Bullington) over the DEM profile", bullington_loss_db,
        ),
    )
}


def _itm_model(
    prof: FloatArray, spacing: float, f: float, h_tx: float, h_rx: float, k: float,
    *, climate: int, n0: float, polarization: int, epsilon: float, sigma: float, mdvar: int,
    time_pct: float, location_pct: float, situation_pct: float,
) -> float:
    """ITM point-to-point loss (the earth curvature comes from ITM's own N_s-based gamma_e,
    so ``k`` is not used). The parameters have no defaults here: they come from the
    configuration (:attr:`vncoverage.config.RadioConfig.itm_params`)."""
    loss, _w, _m, err = _itm_kernels.p2p_loss(
        np.ascontiguousarray(prof, dtype=np.float64), float(spacing), float(h_tx), float(h_rx),
        int(climate), float(n0), float(f), int(polarization), float(epsilon), float(sigma),
        int(mdvar), float(time_pct), float(location_pct), float(situation_pct))
    if err != 0:
        raise ITMInputError(int(err))
    return float(loss)


MODELS["itm"] = PathLossModel(
    "itm", 4,
    ModelDomain((20.0, 20_000.0), (1000.0, 2_000_000.0), (0.5, 3000.0), (0.5, 3000.0)),
    True, "Longley-Rice ITM v1.4 point-to-point (NTIA), native port in vncoverage.itm",
    _itm_model,
)


def get_model(name: str) -> PathLossModel:
    """Return the model registered as ``name``.

    Raises
    ------
    KeyError
        With the list of known models.
    """
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(
            f"unknown propagation model {name!r}; known models: {', '.join(MODELS)}"
        ) from None
