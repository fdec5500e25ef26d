"""Irregular Terrain Model (Longley-Rice), ITM v1.4: point-to-point and area modes.

The Longley-Rice model predicts the median basic transmission loss of a radio path from
20 MHz to 20 GHz over irregular terrain, and its variability in time, location and
situation. This module is the validated, typed interface; the arithmetic lives in numba
kernels (:mod:`vncoverage._itm_kernels`) that other kernels can call directly (see
:func:`vncoverage._itm_kernels.p2p_loss` for the per-pixel coverage sweep).

Entry points mirror NTIA's library:

* :func:`itm_p2p_tls`, :func:`itm_p2p_cr` -- point-to-point mode over a terrain profile,
  variability as time/location/situation percentages or confidence/reliability;
* :func:`itm_area_tls`, :func:`itm_area_cr` -- area mode (no profile: distance, terrain
  irregularity delta_h and siting criteria);
* :func:`p2p_table`, :func:`area_table` -- the same over a table of cases (``p2p.csv`` /
  ``area.csv`` column names of NTIA's examples);
* function-level helpers with NTIA's names in snake case (:func:`diffraction_loss`,
  :func:`smooth_earth_diffraction`, :func:`troposcatter_loss`, :func:`line_of_sight_loss`,
  :func:`terrain_roughness`, :func:`variability`, :func:`inverse_ccdf`,
  :func:`find_horizons`, :func:`linear_least_squares_fit`, :func:`compute_delta_h`,
  :func:`quick_pfl`, ...).

Results carry the basic transmission loss, NTIA's warning bit flags (:class:`ITMWarning`),
the propagation mode (1 line of sight, 2 diffraction, 3 troposcatter) and the intermediate
values NTIA's driver reports. Invalid input raises :class:`ITMInputError` (a ``ValueError``)
with NTIA's error code in ``.code``; the numba kernels return the code instead.

Terrain profiles use NTIA's ``pfl`` layout: ``[np, xi, z_0, ..., z_np]`` -- the number of
intervals, the spacing in metres, then np + 1 ground elevations (m above mean sea level)
from the transmitter to the receiver (:func:`make_pfl` builds one).

Acknowledgement and changes
---------------------------
This is a port of the Irregular Terrain Model as implemented by the U.S. Department of
Commerce, NTIA/Institute for Telecommunication Sciences, in its public reference
implementation of ITM v1.4 (repository NTIA/itm). NTIA's software is a work of the U.S.
Government, not subject to copyright protection in the United States, released with
permission to prepare and distribute derivative works; please acknowledge NTIA's creation
of the model software when using this module. Changes made for vncoverage (2025): the
code was re-written in Python and compiled with numba (``@njit(cache=True)``) instead of
C++; functions take scalars and return tuples instead of two-element arrays and output
pointers; point-to-point kernels take an elevation array plus spacing (so a radial
sweep can pass prefix slices without copying); the profile quantiles use a quickselect
instead of ``std::nth_element``; a profile of fewer than two points is rejected with
error 1017; the Python API raises exceptions instead of returning error codes, adds
table and command-line front ends, and validates NaN inputs. Results match NTIA's to
round-off (see ``tests/test_itm.py``).

References
----------
* NTIA/ITS, "Irregular Terrain Model (ITM) (Longley-Rice) (20 MHz - 20 GHz)", reference
  implementation v1.4, https://github.com/NTIA/itm.
* G. A. Hufford, "The ITS Irregular Terrain Model, version 1.2.2: The Algorithm", NTIA/ITS,
  1995 ([Algorithm]); and G. A. Hufford, A. G. Longley, W. A. Kissick, "A guide to the use
  of the ITS Irregular Terrain Model in the area prediction mode", NTIA Report 82-100, 1982
  ([Hufford 1982]).
* A. G. Longley, P. L. Rice, "Prediction of tropospheric radio transmission loss over
  irregular terrain: a computer method -- 1968", ESSA Tech. Rep. ERL 79-ITS 67
  ([ERL 79-ITS 67]).
* P. L. Rice, A. G. Longley, K. A. Norton, A. P. Barsis, "Transmission loss predictions for
  tropospheric communication circuits", NBS Technical Note 101, 1967 ([TN101]).
* L. E. Vogler, "Calculation of groundwave attenuation in the far diffraction region",
  Radio Science 68D(7), 1964 ([Vogler 1964]).
* M. Abramowitz, I. A. Stegun, Handbook of Mathematical Functions, 26.2.23.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import _itm_kernels as _k
from .errors import InputDataError, ModelDomainError, Problem

__all__ = [
    "AREA_CR_COLUMNS",
    "AREA_TLS_COLUMNS",
    "MODE_AREA",
    "MODE_P2P",
    "P2P_CR_COLUMNS",
    "P2P_TLS_COLUMNS",
    "ITMErrorCode",
    "ITMInputError",
    "ITMResult",
    "ITMWarning",
    "PathGeometry",
    "PropMode",
    "area_table",
    "compute_delta_h",
    "diffraction_loss",
    "f_function",
    "find_horizons",
    "free_space_loss",
    "fresnel_integral",
    "h0_function",
    "height_function",
    "initialize_area",
    "initialize_point_to_point",
    "inverse_ccdf",
    "itm_area_cr",
    "itm_area_tls",
    "itm_p2p_cr",
    "itm_p2p_tls",
    "knife_edge_diffraction",
    "line_of_sight_loss",
    "linear_least_squares_fit",
    "longley_rice",
    "make_pfl",
    "p2p_table",
    "quick_pfl",
    "sigma_h_function",
    "smooth_earth_diffraction",
    "terrain_roughness",
    "troposcatter_loss",
    "variability",
]

#: ``mode`` argument of :func:`diffraction_loss` / :func:`longley_rice`: point-to-point.
MODE_P2P = _k.MODE_P2P
#: ``mode`` argument of :func:`diffraction_loss` / :func:`longley_rice`: area prediction.
MODE_AREA = _k.MODE_AREA


class ITMWarning(IntFlag):
    """NTIA ITM v1.4 warning bit flags (same values as NTIA's ``Warnings.h``)."""

    NONE = 0
    TX_TERMINAL_HEIGHT = _k.WARN_TX_TERMINAL_HEIGHT
    RX_TERMINAL_HEIGHT = _k.WARN_RX_TERMINAL_HEIGHT
    FREQUENCY = _k.WARN_FREQUENCY
    PATH_DISTANCE_TOO_BIG_1 = _k.WARN_PATH_DISTANCE_TOO_BIG_1
    PATH_DISTANCE_TOO_BIG_2 = _k.WARN_PATH_DISTANCE_TOO_BIG_2
    PATH_DISTANCE_TOO_SMALL_1 = _k.WARN_PATH_DISTANCE_TOO_SMALL_1
    PATH_DISTANCE_TOO_SMALL_2 = _k.WARN_PATH_DISTANCE_TOO_SMALL_2
    TX_HORIZON_ANGLE = _k.WARN_TX_HORIZON_ANGLE
    RX_HORIZON_ANGLE = _k.WARN_RX_HORIZON_ANGLE
    TX_HORIZON_DISTANCE_1 = _k.WARN_TX_HORIZON_DISTANCE_1
    RX_HORIZON_DISTANCE_1 = _k.WARN_RX_HORIZON_DISTANCE_1
    TX_HORIZON_DISTANCE_2 = _k.WARN_TX_HORIZON_DISTANCE_2
    RX_HORIZON_DISTANCE_2 = _k.WARN_RX_HORIZON_DISTANCE_2
    EXTREME_VARIABILITIES = _k.WARN_EXTREME_VARIABILITIES
    SURFACE_REFRACTIVITY = _k.WARN_SURFACE_REFRACTIVITY


class ITMErrorCode(IntEnum):
    """NTIA ITM v1.4 return codes (``Errors.h``)."""

    SUCCESS = _k.SUCCESS
    SUCCESS_WITH_WARNINGS = _k.SUCCESS_WITH_WARNINGS
    TX_TERMINAL_HEIGHT = _k.ERR_TX_TERMINAL_HEIGHT
    RX_TERMINAL_HEIGHT = _k.ERR_RX_TERMINAL_HEIGHT
    INVALID_RADIO_CLIMATE = _k.ERR_INVALID_RADIO_CLIMATE
    INVALID_TIME = _k.ERR_INVALID_TIME
    INVALID_LOCATION = _k.ERR_INVALID_LOCATION
    INVALID_SITUATION = _k.ERR_INVALID_SITUATION
    INVALID_CONFIDENCE = _k.ERR_INVALID_CONFIDENCE
    INVALID_RELIABILITY = _k.ERR_INVALID_RELIABILITY
    REFRACTIVITY = _k.ERR_REFRACTIVITY
    FREQUENCY = _k.ERR_FREQUENCY
    POLARIZATION = _k.ERR_POLARIZATION
    EPSILON = _k.ERR_EPSILON
    SIGMA = _k.ERR_SIGMA
    GROUND_IMPEDANCE = _k.ERR_GROUND_IMPEDANCE
    MDVAR = _k.ERR_MDVAR
    EFFECTIVE_EARTH = _k.ERR_EFFECTIVE_EARTH
    PATH_DISTANCE = _k.ERR_PATH_DISTANCE
    DELTA_H = _k.ERR_DELTA_H
    TX_SITING_CRITERIA = _k.ERR_TX_SITING_CRITERIA
    RX_SITING_CRITERIA = _k.ERR_RX_SITING_CRITERIA
    SURFACE_REFRACTIVITY_SMALL = _k.ERR_SURFACE_REFRACTIVITY_SMALL
    SURFACE_REFRACTIVITY_LARGE = _k.ERR_SURFACE_REFRACTIVITY_LARGE


class PropMode(IntEnum):
    """Propagation mode of the prediction (NTIA ``IntermediateValues.mode``)."""

    NOT_SET = _k.PROP_MODE_NOT_SET
    LINE_OF_SIGHT = _k.PROP_MODE_LINE_OF_SIGHT
    DIFFRACTION = _k.PROP_MODE_DIFFRACTION
    TROPOSCATTER = _k.PROP_MODE_TROPOSCATTER


# code -> (parameter or table column, what is wrong, how to fix it)
_ERROR_TEXT: dict[int, tuple[str, str, str]] = {
    _k.ERR_TX_TERMINAL_HEIGHT: ("h_tx__meter", "transmitter height is out of range",
                                "use a height above ground between 0.5 and 3000 m"),
    _k.ERR_RX_TERMINAL_HEIGHT: ("h_rx__meter", "receiver height is out of range",
                                "use a height above ground between 0.5 and 3000 m"),
    _k.ERR_INVALID_RADIO_CLIMATE: ("climate", "radio climate is not one of 1-7",
                                   "use 1 equatorial ... 5 continental temperate, 6 maritime "
                                   "temperate over land, 7 maritime temperate over sea"),
    _k.ERR_INVALID_TIME: ("time", "time percentage is out of range",
                          "use a percentage strictly between 0 and 100"),
    _k.ERR_INVALID_LOCATION: ("location", "location percentage is out of range",
                              "use a percentage strictly between 0 and 100"),
    _k.ERR_INVALID_SITUATION: ("situation", "situation percentage is out of range",
                               "use a percentage strictly between 0 and 100"),
    _k.ERR_INVALID_CONFIDENCE: ("confidence", "confidence percentage is out of range",
                                "use a percentage strictly between 0 and 100"),
    _k.ERR_INVALID_RELIABILITY: ("reliability", "reliability percentage is out of range",
                                 "use a percentage strictly between 0 and 100"),
    _k.ERR_REFRACTIVITY: ("N_0", "sea-level refractivity N_0 is out of range",
                          "use N_0 between 250 and 400 N-units (301 is the usual default)"),
    _k.ERR_FREQUENCY: ("f__mhz", "frequency is out of range",
                       "use a frequency between 20 and 20000 MHz"),
    _k.ERR_POLARIZATION: ("pol", "polarisation is not 0 or 1",
                          "use 0 for horizontal or 1 for vertical polarisation"),
    _k.ERR_EPSILON: ("epsilon", "relative permittivity is below 1",
                     "use a relative permittivity >= 1 (15 for average ground)"),
    _k.ERR_SIGMA: ("sigma", "ground conductivity is not positive",
                   "use a conductivity > 0 S/m (0.005 for average ground)"),
    _k.ERR_GROUND_IMPEDANCE: ("epsilon", "the ground impedance from epsilon and sigma is "
                              "invalid (imaginary part >= real part)",
                              "check epsilon, sigma and the frequency"),
    _k.ERR_MDVAR: ("mdvar", "mode of variability is invalid",
                   "use 0-3 (single message, accidental, mobile, broadcast), optionally +10 "
                   "(no location variability) and/or +20 (no situation variability)"),
    _k.ERR_EFFECTIVE_EARTH: ("N_0", "the effective earth radius from N_0 is out of range",
                             "check N_0 (and the profile elevations in point-to-point mode)"),
    _k.ERR_PATH_DISTANCE: ("d__km", "path distance is not positive",
                           "use a distance > 0 km, or a profile with at least two points "
                           "and a positive spacing"),
    _k.ERR_DELTA_H: ("delta_h__meter", "terrain irregularity delta_h is negative",
                     "use delta_h >= 0 m (90 m is the usual average terrain)"),
    _k.ERR_TX_SITING_CRITERIA: ("tx_siting_criteria", "transmitter siting criteria is invalid",
                                "use 0 random, 1 careful or 2 very careful"),
    _k.ERR_RX_SITING_CRITERIA: ("rx_siting_criteria", "receiver siting criteria is invalid",
                                "use 0 random, 1 careful or 2 very careful"),
    _k.ERR_SURFACE_REFRACTIVITY_SMALL: ("N_0", "surface refractivity N_s came out below 150",
                                        "check N_0 and the profile elevations (m AMSL)"),
    _k.ERR_SURFACE_REFRACTIVITY_LARGE: ("N_0", "surface refractivity N_s came out above 400",
                                        "check N_0 and the profile elevations (m AMSL)"),
}


class ITMInputError(ModelDomainError):
    """Invalid ITM input. ``code`` is NTIA's error code (:class:`ITMErrorCode`)."""

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = int(code)
        param, what, fix = _ERROR_TEXT.get(self.code, ("?", "invalid input", "check inputs"))
        self.parameter = param
        self.fix = fix
        text = f"ITM error {self.code} ({_code_name(self.code)}): {what}"
        if detail:
            text += f" ({detail})"
        super().__init__(f"{text}; fix: {fix}")


def _code_name(code: int) -> str:
    try:
        return ITMErrorCode(code).name
    except ValueError:
        return "UNKNOWN"


@dataclass(frozen=True)
class ITMResult:
    """One ITM prediction with NTIA's intermediate values.

    Attributes
    ----------
    loss_db
        Basic transmission loss A, dB (NTIA ``A__db``).
    warnings
        NTIA warning bit flags (int; decode with :attr:`warning_flags`).
    mode
        Propagation mode: 1 line of sight, 2 diffraction, 3 troposcatter.
    return_code
        0 success, 1 success with warnings (NTIA's return value).
    A_ref_db
        Reference attenuation below free space, dB.
    free_space_loss_db
        Free-space basic transmission loss, dB.
    d_km
        Path distance, km.
    theta_hzn_rad
        Horizon elevation angles (tx, rx), radians.
    d_hzn_m
        Horizon distances (tx, rx), m.
    h_e_m
        Effective antenna heights (tx, rx), m.
    N_s
        Surface refractivity, N-units.
    delta_h_m
        Terrain irregularity parameter, m.
    """

    loss_db: float
    warnings: int
    mode: int
    return_code: int
    A_ref_db: float
    free_space_loss_db: float
    d_km: float
    theta_hzn_rad: tuple[float, float]
    d_hzn_m: tuple[float, float]
    h_e_m: tuple[float, float]
    N_s: float
    delta_h_m: float

    @property
    def warning_flags(self) -> ITMWarning:
        """:attr:`warnings` as an :class:`ITMWarning` flag set."""
        return ITMWarning(self.warnings)

    @property
    def warning_names(self) -> tuple[str, ...]:
        """Names of the warning flags that are set, in bit order."""
        return tuple(f.name for f in ITMWarning if f.value and self.warnings & f.value
                     and f.name is not None)

    @property
    def prop_mode(self) -> PropMode:
        """:attr:`mode` as a :class:`PropMode`."""
        return PropMode(self.mode)


@dataclass(frozen=True)
class PathGeometry:
    """Output of :func:`quick_pfl`: point-to-point path parameters from a profile."""

    theta_hzn_rad: tuple[float, float]
    d_hzn_m: tuple[float, float]
    h_e_m: tuple[float, float]
    delta_h_m: float
    d_m: float


# --------------------------------------------------------------------------------------------
# Input helpers


def make_pfl(elev_m: npt.ArrayLike, spacing_m: float) -> np.ndarray:
    """Build an NTIA ``pfl`` array ``[np, xi, z_0, ..., z_np]`` from elevations and spacing.

    Parameters
    ----------
    elev_m
        Ground elevations (m AMSL) from transmitter to receiver, equally spaced, >= 2 points.
    spacing_m
        Spacing between points, m.
    """
    z = np.asarray(elev_m, dtype=np.float64).ravel()
    return np.concatenate([[float(z.size - 1), float(spacing_m)], z])


def _split_pfl(pfl: npt.ArrayLike) -> tuple[np.ndarray, float]:
    """Validate an NTIA pfl array; return (elevations, spacing_m)."""
    arr = np.asarray(pfl, dtype=np.float64)
    if arr.ndim != 1:
        arr = arr.ravel()
    if arr.size < 4:
        raise ITMInputError(_k.ERR_PATH_DISTANCE, "profile needs np, xi and at least two "
                            "elevations")
    n_f, xi = float(arr[0]), float(arr[1])
    if not (math.isfinite(n_f) and n_f == int(n_f) and n_f >= 1):
        raise ITMInputError(_k.ERR_PATH_DISTANCE, f"profile np={n_f!r} is not an integer >= 1")
    n_int = int(n_f)
    if arr.size != n_int + 3:
        raise ITMInputError(_k.ERR_PATH_DISTANCE, f"profile says np={n_int} intervals, so "
                            f"{n_int + 1} elevations, but has {arr.size - 2}")
    if not (math.isfinite(xi) and xi > 0):
        raise ITMInputError(_k.ERR_PATH_DISTANCE, f"profile spacing xi={xi!r} m is not > 0")
    z = arr[2:] if arr.flags.c_contiguous else np.ascontiguousarray(arr[2:])
    if not math.isfinite(float(z.sum())) and not np.all(np.isfinite(z)):
        bad = int(np.flatnonzero(~np.isfinite(z))[0])
        raise ITMInputError(_k.ERR_PATH_DISTANCE, f"profile elevation z_{bad} is not finite")
    return z, xi


def _int_arg(name: str, value: Any) -> int:
    """An integer-valued argument (accepts 5 or 5.0, rejects 5.5, NaN, None)."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        f = math.nan
    if not math.isfinite(f) or f != int(f):
        code = {"climate": _k.ERR_INVALID_RADIO_CLIMATE, "pol": _k.ERR_POLARIZATION,
                "mdvar": _k.ERR_MDVAR, "tx_siting_criteria": _k.ERR_TX_SITING_CRITERIA,
                "rx_siting_criteria": _k.ERR_RX_SITING_CRITERIA}[name]
        raise ITMInputError(code, f"{name}={value!r} is not an integer")
    return int(f)


def _result(out: tuple[Any, ...]) -> ITMResult:
    loss, warn, mode, err = float(out[0]), int(out[1]), int(out[2]), int(out[3])
    if err != _k.SUCCESS:
        raise ITMInputError(err)
    return ITMResult(
        loss_db=loss, warnings=warn, mode=mode,
        return_code=_k.SUCCESS_WITH_WARNINGS if warn else _k.SUCCESS,
        A_ref_db=float(out[4]), free_space_loss_db=float(out[5]), d_km=float(out[6]) / 1000.0,
        theta_hzn_rad=(float(out[7]), float(out[8])), d_hzn_m=(float(out[9]), float(out[10])),
        h_e_m=(float(out[11]), float(out[12])), N_s=float(out[13]), delta_h_m=float(out[14]),
    )


def _cr_error(exc: ITMInputError) -> ITMInputError:
    """Rename the TLS time/situation errors as reliability/confidence (as NTIA does)."""
    if exc.code == _k.ERR_INVALID_TIME:
        return ITMInputError(_k.ERR_INVALID_RELIABILITY)
    if exc.code == _k.ERR_INVALID_SITUATION:
        return ITMInputError(_k.ERR_INVALID_CONFIDENCE)
    return exc


# --------------------------------------------------------------------------------------------
# Model entry points


def itm_p2p_tls(h_tx_m: float, h_rx_m: float, pfl: npt.ArrayLike, climate: int, N_0: float,
                f_mhz: float, pol: int, epsilon: float, sigma: float, mdvar: int,
                time_pct: float, location_pct: float, situation_pct: float) -> ITMResult:
    """Point-to-point ITM with time/location/situation variability (NTIA ``ITM_P2P_TLS``).

    Parameters
    ----------
    h_tx_m, h_rx_m
        Antenna structural heights above ground, m (valid 0.5-3000; warning outside 1-1000).
    pfl
        Terrain profile ``[np, xi, z_0, ..., z_np]``: number of intervals, spacing (m) and
        np + 1 ground elevations (m AMSL) from transmitter to receiver.
    climate
        Radio climate: 1 equatorial, 2 continental subtropical, 3 maritime subtropical,
        4 desert, 5 continental temperate, 6 maritime temperate over land, 7 over sea.
    N_0
        Sea-level surface refractivity, N-units (250-400).
    f_mhz
        Frequency, MHz (20-20000; warning outside 40-10000).
    pol
        Polarisation: 0 horizontal, 1 vertical.
    epsilon
        Relative permittivity of the ground (>= 1).
    sigma
        Ground conductivity, S/m (> 0).
    mdvar
        Mode of variability: 0 single message, 1 accidental, 2 mobile, 3 broadcast;
        +10 removes location variability, +20 removes situation variability.
    time_pct, location_pct, situation_pct
        Quantiles, percent, strictly between 0 and 100.

    Returns
    -------
    ITMResult
        Loss in dB, warnings, propagation mode and intermediate values.

    Raises
    ------
    ITMInputError
        Invalid input (``.code`` is NTIA's error code).
    """
    z, xi = _split_pfl(pfl)
    out = _k.p2p_full(z, xi, float(h_tx_m), float(h_rx_m), _int_arg("climate", climate),
                      float(N_0), float(f_mhz), _int_arg("pol", pol), float(epsilon),
                      float(sigma), _int_arg("mdvar", mdvar), float(time_pct),
                      float(location_pct), float(situation_pct))
    return _result(out)


def itm_p2p_cr(h_tx_m: float, h_rx_m: float, pfl: npt.ArrayLike, climate: int, N_0: float,
               f_mhz: float, pol: int, epsilon: float, sigma: float, mdvar: int,
               confidence_pct: float, reliability_pct: float) -> ITMResult:
    """Point-to-point ITM with confidence/reliability variability (NTIA ``ITM_P2P_CR``).

    Same as :func:`itm_p2p_tls` with time = reliability, location = 50 and
    situation = confidence (percent, strictly between 0 and 100).
    """
    try:
        return itm_p2p_tls(h_tx_m, h_rx_m, pfl, climate, N_0, f_mhz, pol, epsilon, sigma,
                           mdvar, reliability_pct, 50.0, confidence_pct)
    except ITMInputError as exc:
        raise _cr_error(exc) from None


def itm_area_tls(h_tx_m: float, h_rx_m: float, tx_siting_criteria: int,
                 rx_siting_criteria: int, d_km: float, delta_h_m: float, climate: int,
                 N_0: float, f_mhz: float, pol: int, epsilon: float, sigma: float, mdvar: int,
                 time_pct: float, location_pct: float, situation_pct: float) -> ITMResult:
    """Area-mode ITM with time/location/situation variability (NTIA ``ITM_AREA_TLS``).

    Parameters
    ----------
    h_tx_m, h_rx_m
        Antenna structural heights above ground, m.
    tx_siting_criteria, rx_siting_criteria
        0 random, 1 careful, 2 very careful [Algorithm 3.2].
    d_km
        Path distance, km (> 0).
    delta_h_m
        Terrain irregularity parameter delta_h, m (>= 0; 90 m is average terrain).
    climate, N_0, f_mhz, pol, epsilon, sigma, mdvar, time_pct, location_pct, situation_pct
        As in :func:`itm_p2p_tls`.

    Returns
    -------
    ITMResult

    Raises
    ------
    ITMInputError
        Invalid input (``.code`` is NTIA's error code).
    """
    out = _k.area_full(float(h_tx_m), float(h_rx_m),
                       _int_arg("tx_siting_criteria", tx_siting_criteria),
                       _int_arg("rx_siting_criteria", rx_siting_criteria), float(d_km),
                       float(delta_h_m), _int_arg("climate", climate), float(N_0),
                       float(f_mhz), _int_arg("pol", pol), float(epsilon), float(sigma),
                       _int_arg("mdvar", mdvar), float(time_pct), float(location_pct),
                       float(situation_pct))
    return _result(out)


def itm_area_cr(h_tx_m: float, h_rx_m: float, tx_siting_criteria: int,
                rx_siting_criteria: int, d_km: float, delta_h_m: float, climate: int,
                N_0: float, f_mhz: float, pol: int, epsilon: float, sigma: float, mdvar: int,
                confidence_pct: float, reliability_pct: float) -> ITMResult:
    """Area-mode ITM with confidence/reliability variability (NTIA ``ITM_AREA_CR``).

    Same as :func:`itm_area_tls` with time = reliability, location = 50 and
    situation = confidence (percent).
    """
    try:
        return itm_area_tls(h_tx_m, h_rx_m, tx_siting_criteria, rx_siting_criteria, d_km,
                            delta_h_m, climate, N_0, f_mhz, pol, epsilon, sigma, mdvar,
                            reliability_pct, 50.0, confidence_pct)
    except ITMInputError as exc:
        raise _cr_error(exc) from None


# --------------------------------------------------------------------------------------------
# Function-level helpers (NTIA's internal functions)


def free_space_loss(d_m: float, f_mhz: float) -> float:
    """Free-space basic transmission loss ``32.45 + 20 log f[MHz] + 20 log d[km]``, dB."""
    return float(_k.free_space_loss_db(float(d_m), float(f_mhz)))


def fresnel_integral(v2: float) -> float:
    """Ideal knife-edge loss A(v, 0), dB, from v squared [TN101 v2 III.24b-c]."""
    return float(_k.fresnel_integral_db(float(v2)))


def terrain_roughness(d_m: float, delta_h_m: float) -> float:
    """delta_h(d) = delta_h (1 - 0.8 exp(-d / 50 km)), m [ERL 79-ITS 67, Eqn 3]."""
    return float(_k.terrain_roughness_m(float(d_m), float(delta_h_m)))


def sigma_h_function(delta_h_m: float) -> float:
    """RMS terrain deviation sigma_h = 0.78 dh exp(-dh^0.25 / 2), m [ERL 79-ITS 67, 3.6a]."""
    return float(_k.sigma_h_m(float(delta_h_m)))


def f_function(td_m: float) -> float:
    """Troposcatter attenuation function F(theta d), dB, theta*d in m [Algorithm 6.9]."""
    return float(_k.f_function_db(float(td_m)))


def h0_function(r: float, eta_s: float) -> float:
    """Troposcatter frequency-gain function H_0(r, eta_s), dB [TN101 9.2, Algorithm 6.13]."""
    return float(_k.h0_function_db(float(r), float(eta_s)))


def height_function(x_km: float, K: float) -> float:
    """Vogler's smooth-earth height-gain function F(x, K), dB [Vogler 1964]."""
    return float(_k.height_function_db(float(x_km), float(K)))


def inverse_ccdf(q: float) -> float:
    """Inverse complementary standard normal CDF Q^-1(q), 0 < q < 1 [A&S 26.2.23].

    Raises
    ------
    ValueError
        If q is not strictly between 0 and 1.
    """
    qf = float(q)
    if not (0.0 < qf < 1.0):
        raise ValueError(f"inverse_ccdf needs 0 < q < 1, got {q!r}")
    return float(_k.inverse_ccdf(qf))


def find_horizons(pfl: npt.ArrayLike, a_e_m: float, h_m: tuple[float, float],
                  ) -> tuple[tuple[float, float], tuple[float, float]]:
    """Terminal horizons of a profile [TN101 6.15; Algorithm 48].

    Parameters
    ----------
    pfl
        NTIA profile ``[np, xi, z_0..z_np]``.
    a_e_m
        Effective earth radius, m.
    h_m
        Antenna heights above ground (tx, rx), m.

    Returns
    -------
    (theta_hzn_rad, d_hzn_m)
        Horizon elevation angles (tx, rx) in radians and horizon distances (tx, rx) in m.
    """
    z, xi = _split_pfl(pfl)
    t0, t1, d0, d1 = _k.find_horizons(z, xi, float(a_e_m), float(h_m[0]), float(h_m[1]))
    return (float(t0), float(t1)), (float(d0), float(d1))


def linear_least_squares_fit(pfl: npt.ArrayLike, d_start_m: float,
                             d_end_m: float) -> tuple[float, float]:
    """Least-squares line through the profile between two distances [Algorithm 48, zlsq1].

    Returns the fitted heights (m) at the transmitter end and at the receiver end of the
    whole profile.
    """
    z, xi = _split_pfl(pfl)
    d = (z.size - 1) * xi
    if not (0.0 <= float(d_start_m) <= d and 0.0 <= float(d_end_m) <= d):
        raise ValueError(f"fit limits must lie within the profile [0, {d}] m, got "
                         f"{d_start_m!r}..{d_end_m!r}")
    y0, y1 = _k.least_squares_fit(z, xi, float(d_start_m), float(d_end_m))
    return float(y0), float(y1)


def compute_delta_h(pfl: npt.ArrayLike, d_start_m: float, d_end_m: float) -> float:
    """Terrain irregularity delta_h between two distances of a profile, m [Algorithm 48].

    The interdecile range of the profile residuals after removing a least-squares line,
    scaled to its asymptotic value by inverting [ERL 79-ITS 67, Eqn 3]. 0 when fewer than
    two profile intervals lie between the distances; beyond the receiver the last profile
    interval is extrapolated (as NTIA does).
    """
    z, xi = _split_pfl(pfl)
    if not (0.0 <= float(d_start_m) <= float(d_end_m) < math.inf):
        raise ValueError(f"need 0 <= d_start <= d_end (finite), got {d_start_m!r}..{d_end_m!r}")
    return float(_k.compute_delta_h(z, xi, float(d_start_m), float(d_end_m)))


def quick_pfl(pfl: npt.ArrayLike, gamma_e: float, h_m: tuple[float, float]) -> PathGeometry:
    """Point-to-point path parameters from a profile (NTIA ``QuickPfl``; [Algorithm 43]).

    Parameters
    ----------
    pfl
        NTIA profile ``[np, xi, z_0..z_np]``.
    gamma_e
        Effective earth curvature, 1/m.
    h_m
        Antenna heights above ground (tx, rx), m.
    """
    z, xi = _split_pfl(pfl)
    t0, t1, d0, d1, he0, he1, dh, d = _k.quick_pfl(z, xi, float(gamma_e), float(h_m[0]),
                                                    float(h_m[1]))
    return PathGeometry(theta_hzn_rad=(float(t0), float(t1)), d_hzn_m=(float(d0), float(d1)),
                        h_e_m=(float(he0), float(he1)), delta_h_m=float(dh), d_m=float(d))


def initialize_point_to_point(f_mhz: float, h_sys_m: float, N_0: float, pol: int,
                              epsilon: float, sigma: float) -> tuple[complex, float, float]:
    """Ground impedance Z_g, effective earth curvature gamma_e (1/m) and N_s (N-units).

    N_s = N_0 exp(-h_sys / 9460 m) [TN101 4.3]; gamma_e = 157e-9 (1 - 0.04665 exp(N_s/179.3))
    [TN101 4.4]; Z_g = sqrt(eps_r - 1), divided by eps_r for vertical polarisation, with
    eps_r = epsilon + j 18000 sigma / f [Algorithm Section 3].
    """
    zg, gamma_e, n_s = _k.initialize_point_to_point(float(f_mhz), float(h_sys_m), float(N_0),
                                                     int(pol), float(epsilon), float(sigma))
    return complex(zg), float(gamma_e), float(n_s)


def initialize_area(site_criteria: tuple[int, int], gamma_e: float, delta_h_m: float,
                    h_m: tuple[float, float],
                    ) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    """Area-mode terminal geometry [Algorithm 3.2-3.4].

    Returns ``(h_e_m, d_hzn_m, theta_hzn_rad)``, each a (tx, rx) pair.
    """
    he0, he1, d0, d1, t0, t1 = _k.initialize_area(int(site_criteria[0]), int(site_criteria[1]),
                                                  float(gamma_e), float(delta_h_m),
                                                  float(h_m[0]), float(h_m[1]))
    return (float(he0), float(he1)), (float(d0), float(d1)), (float(t0), float(t1))


def knife_edge_diffraction(d_m: float, f_mhz: float, a_e_m: float, theta_los: float,
                           d_hzn_m: tuple[float, float]) -> float:
    """Double knife-edge diffraction loss, dB [TN101 I.1, I.7]."""
    return float(_k.knife_edge_diffraction_db(float(d_m), float(f_mhz), float(a_e_m),
                                              float(theta_los), float(d_hzn_m[0]),
                                              float(d_hzn_m[1])))


def smooth_earth_diffraction(d_m: float, f_mhz: float, a_e_m: float, theta_los: float,
                             d_hzn_m: tuple[float, float], h_e_m: tuple[float, float],
                             Z_g: complex) -> float:
    """Smooth-earth diffraction loss by Vogler's 3-radii method, dB [Vogler 1964]."""
    return float(_k.smooth_earth_diffraction_db(float(d_m), float(f_mhz), float(a_e_m),
                                                float(theta_los), float(d_hzn_m[0]),
                                                float(d_hzn_m[1]), float(h_e_m[0]),
                                                float(h_e_m[1]), complex(Z_g)))


def diffraction_loss(d_m: float, d_hzn_m: tuple[float, float], h_e_m: tuple[float, float],
                     Z_g: complex, a_e_m: float, delta_h_m: float, h_m: tuple[float, float],
                     mode: int, theta_los: float, d_sML_m: float, f_mhz: float) -> float:
    """Diffraction loss at distance d, dB [ERL 79-ITS 67, 3.23 and 3.38c; Algorithm 4.10].

    Parameters
    ----------
    d_m
        Distance, m.
    d_hzn_m, h_e_m, h_m
        Horizon distances, effective heights and structural heights (tx, rx), m.
    Z_g
        Complex ground impedance.
    a_e_m
        Effective earth radius, m.
    delta_h_m
        Terrain irregularity, m.
    mode
        :data:`MODE_P2P` (0) or :data:`MODE_AREA` (1).
    theta_los
        Angular distance of the line-of-sight region, rad.
    d_sML_m
        Smooth-earth maximum line-of-sight distance, m.
    f_mhz
        Frequency, MHz.
    """
    return float(_k.diffraction_loss_db(float(d_m), float(d_hzn_m[0]), float(d_hzn_m[1]),
                                        float(h_e_m[0]), float(h_e_m[1]), complex(Z_g),
                                        float(a_e_m), float(delta_h_m), float(h_m[0]),
                                        float(h_m[1]), int(mode), float(theta_los),
                                        float(d_sML_m), float(f_mhz)))


def line_of_sight_loss(d_m: float, h_e_m: tuple[float, float], Z_g: complex,
                       delta_h_m: float, M_d: float, A_d0: float, d_sML_m: float,
                       f_mhz: float) -> float:
    """Line-of-sight loss (two-ray blended with the diffraction line), dB [Algorithm 4.43].

    ``M_d`` (dB/m) and ``A_d0`` (dB) are the slope and intercept of the diffraction line.
    """
    return float(_k.line_of_sight_loss_db(float(d_m), float(h_e_m[0]), float(h_e_m[1]),
                                          complex(Z_g), float(delta_h_m), float(M_d),
                                          float(A_d0), float(d_sML_m), float(f_mhz)))


def troposcatter_loss(d_m: float, theta_hzn: tuple[float, float],
                      d_hzn_m: tuple[float, float], h_e_m: tuple[float, float],
                      a_e_m: float, N_s: float, f_mhz: float, theta_los: float,
                      h0_db: float = -1.0) -> tuple[float, float]:
    """Troposcatter loss, dB [TN101 Ch. 9; Algorithm 4.52].

    ``h0_db`` is NTIA's in/out H_0 value (-1 on the first call of a prediction). Returns
    ``(loss_db, h0_db)``; the loss is 1001 dB when H_0 is undefined.
    """
    loss, h0 = _k.troposcatter_loss_db(float(d_m), float(theta_hzn[0]), float(theta_hzn[1]),
                                       float(d_hzn_m[0]), float(d_hzn_m[1]), float(h_e_m[0]),
                                       float(h_e_m[1]), float(a_e_m), float(N_s),
                                       float(f_mhz), float(theta_los), float(h0_db))
    return float(loss), float(h0)


def longley_rice(theta_hzn: tuple[float, float], f_mhz: float, Z_g: complex,
                 d_hzn_m: tuple[float, float], h_e_m: tuple[float, float], gamma_e: float,
                 N_s: float, delta_h_m: float, h_m: tuple[float, float], d_m: float,
                 mode: int) -> tuple[float, int, int]:
    """Reference attenuation below free space (NTIA ``LongleyRice``) [Algorithm 4.1].

    Returns ``(A_ref_db, warnings, prop_mode)``.

    Raises
    ------
    ITMInputError
        When N_s, the effective earth radius or the ground impedance are out of range.
    """
    a_ref, warn, prop_mode, err = _k.longley_rice(
        float(theta_hzn[0]), float(theta_hzn[1]), float(f_mhz), complex(Z_g),
        float(d_hzn_m[0]), float(d_hzn_m[1]), float(h_e_m[0]), float(h_e_m[1]),
        float(gamma_e), float(N_s), float(delta_h_m), float(h_m[0]), float(h_m[1]),
        float(d_m), int(mode))
    if int(err) != _k.SUCCESS:
        raise ITMInputError(int(err))
    return float(a_ref), int(warn), int(prop_mode)


def variability(time_pct: float, location_pct: float, situation_pct: float,
                h_e_m: tuple[float, float], delta_h_m: float, f_mhz: float, d_m: float,
                A_ref_db: float, climate: int, mdvar: int) -> tuple[float, int]:
    """Attenuation below free space at the requested quantiles, dB [Algorithm Section 5].

    Percentages strictly between 0 and 100. Returns ``(A_db, warnings)``.
    """
    for name, v in (("time", time_pct), ("location", location_pct),
                    ("situation", situation_pct)):
        if not (0.0 < float(v) < 100.0):
            raise ITMInputError({"time": _k.ERR_INVALID_TIME,
                                 "location": _k.ERR_INVALID_LOCATION,
                                 "situation": _k.ERR_INVALID_SITUATION}[name], f"{name}={v!r}")
    c = _int_arg("climate", climate)
    if not 1 <= c <= 7:
        raise ITMInputError(_k.ERR_INVALID_RADIO_CLIMATE, f"climate={climate!r}")
    m = _int_arg("mdvar", mdvar)
    if m < 0 or m > 33 or m % 10 > 3:
        raise ITMInputError(_k.ERR_MDVAR, f"mdvar={mdvar!r}")
    a, warn = _k.variability(float(time_pct), float(location_pct), float(situation_pct),
                             float(h_e_m[0]), float(h_e_m[1]), float(delta_h_m), float(f_mhz),
                             float(d_m), float(A_ref_db), c, m)
    return float(a), int(warn)


# --------------------------------------------------------------------------------------------
# Tables

#: Input columns of a point-to-point table with time/location/situation percentages.
P2P_TLS_COLUMNS = ("h_tx__meter", "h_rx__meter", "epsilon", "sigma", "N_0", "f__mhz", "pol",
                   "climate", "time", "location", "situation", "mdvar")
#: Input columns of a point-to-point table with confidence/reliability percentages.
P2P_CR_COLUMNS = ("h_tx__meter", "h_rx__meter", "epsilon", "sigma", "N_0", "f__mhz", "pol",
                  "climate", "confidence", "reliability", "mdvar")
#: Input columns of an area-mode table with time/location/situation percentages.
AREA_TLS_COLUMNS = ("h_tx__meter", "h_rx__meter", "delta_h__meter", "mdvar", "d__km",
                    "tx_siting_criteria", "rx_siting_criteria", "epsilon", "sigma", "N_0",
                    "f__mhz", "pol", "climate", "time", "location", "situation")
#: Input columns of an area-mode table with confidence/reliability percentages.
AREA_CR_COLUMNS = ("h_tx__meter", "h_rx__meter", "delta_h__meter", "mdvar", "d__km",
                   "tx_siting_criteria", "rx_siting_criteria", "epsilon", "sigma", "N_0",
                   "f__mhz", "pol", "climate", "confidence", "reliability")

_INT_COLUMNS = frozenset({"pol", "climate", "mdvar", "tx_siting_criteria",
                          "rx_siting_criteria"})
_OUTPUT_COLUMNS = ("A__db", "warnings", "mode")


def _choose_columns(cases: pd.DataFrame, tls: tuple[str, ...], cr: tuple[str, ...],
                    source: str) -> tuple[tuple[str, ...], bool]:
    """Pick the TLS or CR column set; raise listing the missing columns."""
    cols = set(cases.columns)
    if set(tls) <= cols:
        return tls, False
    if set(cr) <= cols:
        return cr, True
    missing = [c for c in tls if c not in cols]
    missing_cr = [c for c in cr if c not in cols]
    if len(missing_cr) < len(missing):
        missing = missing_cr
    raise InputDataError([Problem(
        file=source, message=f"missing column(s) {', '.join(missing)}",
        fix=f"give the columns {', '.join(tls)} (or confidence and reliability instead of "
            "time, location and situation)")])


def _row_values(cases: pd.DataFrame, columns: tuple[str, ...], source: str,
                problems: list[Problem]) -> list[dict[str, float] | None]:
    """Numeric values per row; collects a Problem for each non-numeric or non-integer cell."""
    rows: list[dict[str, float] | None] = []
    for i, (_, rec) in enumerate(cases.iterrows()):
        vals: dict[str, float] = {}
        ok = True
        for col in columns:
            raw = rec[col]
            try:
                v = float(raw)
            except (TypeError, ValueError):
                v = math.nan
            if not math.isfinite(v):
                problems.append(Problem(file=source, row=i + 2, column=col, value=raw,
                                        message="value is missing or not a finite number",
                                        fix=f"give a number in column '{col}'"))
                ok = False
                continue
            if col in _INT_COLUMNS and v != int(v):
                problems.append(Problem(file=source, row=i + 2, column=col, value=raw,
                                        message="value must be an integer",
                                        fix=_ERROR_TEXT[_code_for_column(col)][2]))
                ok = False
                continue
            vals[col] = v
        rows.append(vals if ok else None)
    return rows


def _code_for_column(col: str) -> int:
    return {"pol": _k.ERR_POLARIZATION, "climate": _k.ERR_INVALID_RADIO_CLIMATE,
            "mdvar": _k.ERR_MDVAR, "tx_siting_criteria": _k.ERR_TX_SITING_CRITERIA,
            "rx_siting_criteria": _k.ERR_RX_SITING_CRITERIA}[col]


def _row_problem(exc: ITMInputError, row: int, source: str, vals: dict[str, float],
                 profile_hint: str = "") -> Problem:
    col = exc.parameter
    value: object = vals.get(col)
    message = str(exc).split("; fix:")[0]
    if col == "d__km" and "d__km" not in vals:
        col = "profile"
        value = None
        message += profile_hint
    return Problem(file=source, row=row, column=col, value=value, message=message, fix=exc.fix)


def _problem_order(p: Problem) -> tuple[str, int]:
    return p.file, p.row if isinstance(p.row, int) else 0


def _with_outputs(cases: pd.DataFrame, loss: list[float], warn: list[int],
                  mode: list[int]) -> pd.DataFrame:
    out = cases.drop(columns=[c for c in _OUTPUT_COLUMNS if c in cases.columns]).copy()
    out["A__db"] = np.asarray(loss, dtype=np.float64)
    out["warnings"] = np.asarray(warn, dtype=np.int64)
    out["mode"] = np.asarray(mode, dtype=np.int64)
    return out


def p2p_table(cases: pd.DataFrame, profiles: Sequence[npt.ArrayLike], *,
              source: str = "cases", profiles_source: str = "profiles") -> pd.DataFrame:
    """Point-to-point ITM over a table of cases, one terrain profile per row.

    Parameters
    ----------
    cases
        One row per path with the columns of NTIA's ``p2p.csv``: ``h_tx__meter,
        h_rx__meter, epsilon, sigma, N_0, f__mhz, pol, climate, time, location, situation,
        mdvar`` (or ``confidence, reliability`` instead of ``time, location, situation``).
        Other columns are kept.
    profiles
        One NTIA ``pfl`` array ``[np, xi, z_0..z_np]`` per row, in row order.
    source, profiles_source
        Names used for the inputs in error messages (e.g. file names).

    Returns
    -------
    pandas.DataFrame
        A copy of ``cases`` with ``A__db`` (float, dB), ``warnings`` (int flags) and
        ``mode`` (int) columns added (replacing columns of those names).

    Raises
    ------
    vncoverage.errors.InputDataError
        Listing every invalid row (1-based data row + 1, as a spreadsheet shows it), with
        the column and the fix. Nothing is computed for a table with any invalid row.
    """
    columns, use_cr = _choose_columns(cases, P2P_TLS_COLUMNS, P2P_CR_COLUMNS, source)
    if len(profiles) != len(cases):
        raise InputDataError([Problem(
            file=profiles_source,
            message=f"{len(profiles)} profile(s) for {len(cases)} case row(s)",
            fix=f"give exactly one profile line per data row of {source}")])
    problems: list[Problem] = []
    rows = _row_values(cases, columns, source, problems)
    loss: list[float] = []
    warn: list[int] = []
    mode: list[int] = []
    for i, vals in enumerate(rows):
        try:
            z, xi = _split_pfl(profiles[i])
        except ITMInputError as exc:
            problems.append(Problem(file=profiles_source, row=i + 1, column=None,
                                    message=str(exc).split("; fix:")[0],
                                    fix="give 'np, xi, z_0, ..., z_np' with np + 1 finite "
                                        "elevations and xi > 0"))
            continue
        if vals is None:
            continue
        if use_cr:
            t, loc, sit = vals["reliability"], 50.0, vals["confidence"]
        else:
            t, loc, sit = vals["time"], vals["location"], vals["situation"]
        out = _k.p2p_full(z, xi, vals["h_tx__meter"], vals["h_rx__meter"],
                          int(vals["climate"]), vals["N_0"], vals["f__mhz"], int(vals["pol"]),
                          vals["epsilon"], vals["sigma"], int(vals["mdvar"]), t, loc, sit)
        err = int(out[3])
        if err != _k.SUCCESS:
            row_exc = ITMInputError(err)
            if use_cr:
                row_exc = _cr_error(row_exc)
            problems.append(_row_problem(row_exc, i + 2, source, vals,
                                         f" (profile line {i + 1} of {profiles_source})"))
            continue
        loss.append(float(out[0]))
        warn.append(int(out[1]))
        mode.append(int(out[2]))
    if problems:
        raise InputDataError(sorted(problems, key=_problem_order))
    return _with_outputs(cases, loss, warn, mode)


def area_table(cases: pd.DataFrame, *, source: str = "cases") -> pd.DataFrame:
    """Area-mode ITM over a table of cases.

    Parameters
    ----------
    cases
        One row per prediction with the columns of NTIA's ``area.csv``: ``h_tx__meter,
        h_rx__meter, delta_h__meter, mdvar, d__km, tx_siting_criteria, rx_siting_criteria,
        epsilon, sigma, N_0, f__mhz, pol, climate, time, location, situation`` (or
        ``confidence, reliability`` instead of ``time, location, situation``).
    source
        Name used for the input in error messages.

    Returns
    -------
    pandas.DataFrame
        A copy of ``cases`` with ``A__db``, ``warnings`` and ``mode`` columns.

    Raises
    ------
    vncoverage.errors.InputDataError
        Listing every invalid row with the column and the fix.
    """
    columns, use_cr = _choose_columns(cases, AREA_TLS_COLUMNS, AREA_CR_COLUMNS, source)
    problems: list[Problem] = []
    rows = _row_values(cases, columns, source, problems)
    loss: list[float] = []
    warn: list[int] = []
    mode: list[int] = []
    for i, vals in enumerate(rows):
        if vals is None:
            continue
        if use_cr:
            t, loc, sit = vals["reliability"], 50.0, vals["confidence"]
        else:
            t, loc, sit = vals["time"], vals["location"], vals["situation"]
        out = _k.area_full(vals["h_tx__meter"], vals["h_rx__meter"],
                           int(vals["tx_siting_criteria"]), int(vals["rx_siting_criteria"]),
                           vals["d__km"], vals["delta_h__meter"], int(vals["climate"]),
                           vals["N_0"], vals["f__mhz"], int(vals["pol"]), vals["epsilon"],
                           vals["sigma"], int(vals["mdvar"]), t, loc, sit)
        err = int(out[3])
        if err != _k.SUCCESS:
            row_exc = ITMInputError(err)
            if use_cr:
                row_exc = _cr_error(row_exc)
            problems.append(_row_problem(row_exc, i + 2, source, vals))
            continue
        loss.append(float(out[0]))
        warn.append(int(out[1]))
        mode.append(int(out[2]))
    if problems:
        raise InputDataError(sorted(problems, key=_problem_order))
    return _with_outputs(cases, loss, warn, mode)
