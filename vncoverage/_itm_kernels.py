"""Numba kernels of the Irregular Terrain Model (Longley-Rice), ITM v1.4 (private).

The public, validated, documented entry points are in :mod:`vncoverage.itm`; this module holds
the compiled arithmetic. Every function here is ``@njit(**KERNEL)``,
takes and returns only scalars, ``complex128`` and 1-D ``float64`` arrays, never raises,
and reports problems through the integer return codes and warning bit flags of NTIA's
ITM v1.4 (listed below), so that other numba kernels (the radial coverage sweep) can call
them.

Hot path for other kernels
--------------------------
:func:`p2p_loss` ``(elev, spacing_m, h_tx_m, h_rx_m, climate, N_0, f_mhz, pol, epsilon, sigma,
mdvar, time_pct, location_pct, situation_pct) -> (loss_db, warnings, mode, err)``

``elev`` is a contiguous or strided ``float64[:]`` of ground elevations (m above mean sea level)
from the transmitter (index 0) to the receiver (index -1), equally spaced by ``spacing_m``;
a prefix slice ``profile[:k + 1]`` of a radial profile is the path to sample ``k`` and costs no
copy. The work is O(len(elev)) plus a constant.

A kernel that predicts many paths with the same radio parameters (the coverage sweep) splits
the call: :func:`p2p_setup` once (input validation, ground impedance, variability constants),
then :func:`p2p_run` per path with a caller-owned scratch array of :data:`DELTA_H_SCRATCH`
floats, so that nothing is allocated per path. Both forms give the same numbers.

Provenance
----------
The algorithm is that of NTIA/ITS's reference implementation of ITM v1.4 (repository NTIA/itm,
a U.S. Government work not subject to copyright in the U.S.; see NTIA's release in
``shared/oracles/itm/NTIA_LICENSE.md``), which implements G. A. Hufford, "The ITS Irregular
Terrain Model, version 1.2.2: The Algorithm" (1995, cited here as [Algorithm]) and
A. G. Longley and P. L. Rice, "Prediction of tropospheric radio transmission loss over
irregular terrain: a computer method", ESSA Tech. Rep. ERL 79-ITS 67 (1968) [ERL 79-ITS 67],
with NBS Technical Note 101 [TN101] (Rice et al., 1967) and Vogler (1964) for smooth-earth
diffraction. This port was written from that algorithm description for vncoverage
(2025): Python/numba instead of C++, scalar arguments instead of two-element arrays, tuples
instead of output pointers, an elevation array plus spacing instead of NTIA's ``pfl``
array, an explicit scratch array and two short sorted arrays (insertion) instead of
``std::vector`` and ``std::nth_element`` (the same order statistics). Numerical results
agree with NTIA's to round-off.
"""

from __future__ import annotations

import cmath
import math
from typing import Any, NamedTuple

import numpy as np
from numba import njit

#: LLVM fast-math flags for the kernels: reassociation, contraction, reciprocal and
#: signed-zero relaxations only. NaN and infinity semantics are kept (no "nnan"/"ninf"), and
#: no approximate library functions ("afn") are used: results stay within ~1e-12 of strict
#: IEEE evaluation (the NTIA oracle tests check it) and the kernels run ~35 % faster.
FASTMATH = {"nsz", "arcp", "contract", "reassoc"}
#: Options of every kernel: cached compilation, :data:`FASTMATH`, and numpy's error model
#: (a division by zero gives inf or NaN, which the callers flag, instead of raising inside
#: compiled code; it also drops a zero check from every division of the hot loops); the GIL
#: is released, so Python threads (cache writes) run while a sweep computes.
KERNEL: dict[str, Any] = {"cache": True, "fastmath": FASTMATH, "error_model": "numpy",
                          "nogil": True}

# --------------------------------------------------------------------------------------------
# Return codes (same values as NTIA ITM v1.4)
SUCCESS = 0
SUCCESS_WITH_WARNINGS = 1
ERR_TX_TERMINAL_HEIGHT = 1000
ERR_RX_TERMINAL_HEIGHT = 1001
ERR_INVALID_RADIO_CLIMATE = 1002
ERR_INVALID_TIME = 1003
ERR_INVALID_LOCATION = 1004
ERR_INVALID_SITUATION = 1005
ERR_INVALID_CONFIDENCE = 1006
ERR_INVALID_RELIABILITY = 1007
ERR_REFRACTIVITY = 1008
ERR_FREQUENCY = 1009
ERR_POLARIZATION = 1010
ERR_EPSILON = 1011
ERR_SIGMA = 1012
ERR_GROUND_IMPEDANCE = 1013
ERR_MDVAR = 1014
ERR_EFFECTIVE_EARTH = 1016
ERR_PATH_DISTANCE = 1017
ERR_DELTA_H = 1018
ERR_TX_SITING_CRITERIA = 1019
ERR_RX_SITING_CRITERIA = 1020
ERR_SURFACE_REFRACTIVITY_SMALL = 1021
ERR_SURFACE_REFRACTIVITY_LARGE = 1022

# Warning bit flags (same values as NTIA ITM v1.4)
WARN_TX_TERMINAL_HEIGHT = 0x0001
WARN_RX_TERMINAL_HEIGHT = 0x0002
WARN_FREQUENCY = 0x0004
WARN_PATH_DISTANCE_TOO_BIG_1 = 0x0008
WARN_PATH_DISTANCE_TOO_BIG_2 = 0x0010
WARN_PATH_DISTANCE_TOO_SMALL_1 = 0x0020
WARN_PATH_DISTANCE_TOO_SMALL_2 = 0x0040
WARN_TX_HORIZON_ANGLE = 0x0080
WARN_RX_HORIZON_ANGLE = 0x0100
WARN_TX_HORIZON_DISTANCE_1 = 0x0200
WARN_RX_HORIZON_DISTANCE_1 = 0x0400
WARN_TX_HORIZON_DISTANCE_2 = 0x0800
WARN_RX_HORIZON_DISTANCE_2 = 0x1000
WARN_EXTREME_VARIABILITIES = 0x2000
WARN_SURFACE_REFRACTIVITY = 0x4000

# Operating mode of the model (changes the clutter constant in the diffraction weighting)
MODE_P2P = 0
MODE_AREA = 1

# Propagation mode reported with the result
PROP_MODE_NOT_SET = 0
PROP_MODE_LINE_OF_SIGHT = 1
PROP_MODE_DIFFRACTION = 2
PROP_MODE_TROPOSCATTER = 3

# Siting criteria (area mode)
SITING_RANDOM = 0
SITING_CAREFUL = 1
SITING_VERY_CAREFUL = 2

# Modes of variability (mdvar modulo 10)
MDVAR_SINGLE_MESSAGE = 0
MDVAR_ACCIDENTAL = 1
MDVAR_MOBILE = 2
MDVAR_BROADCAST = 3

_SQRT2 = math.sqrt(2.0)
_A_4_3_EARTH_M = 6370e3  # earth radius used as the reference in Vogler's C_0 [Vogler 1964]
_A_9000_M = 9000e3  # effective radius used by the variability effective distance [Algorithm 5.3]
_GAMMA_ACTUAL = 157e-9  # curvature of the actual earth, 1/m [TN101 4.4]

# Climate curve coefficients of the variability model, one column per radio climate 1..7
# [TN101 v2, Eqns III.69-70; Algorithm Section 5 and Table 5.1].
_V_MED = np.array([
    [-9.67, -0.62, 1.26, -9.21, -0.62, -0.39, 3.15],
    [12.7, 9.19, 15.5, 9.05, 9.19, 2.86, 857.9],
    [144.9e3, 228.9e3, 262.6e3, 84.1e3, 228.9e3, 141.7e3, 2222.0e3],
    [190.3e3, 205.2e3, 185.2e3, 101.1e3, 205.2e3, 315.9e3, 164.8e3],
    [133.8e3, 143.6e3, 99.8e3, 98.6e3, 143.6e3, 167.4e3, 116.3e3],
])
_SIGMA_T_MINUS = np.array([
    [2.13, 2.66, 6.11, 1.98, 2.68, 6.86, 8.51],
    [159.5, 7.67, 6.65, 13.11, 7.16, 10.38, 169.8],
    [762.2e3, 100.4e3, 138.2e3, 139.1e3, 93.7e3, 187.8e3, 609.8e3],
    [123.6e3, 172.5e3, 242.2e3, 132.7e3, 186.8e3, 169.6e3, 119.9e3],
    [94.5e3, 136.4e3, 178.6e3, 193.5e3, 133.5e3, 108.9e3, 106.6e3],
])
_SIGMA_T_PLUS = np.array([
    [2.11, 6.87, 10.08, 3.68, 4.75, 8.58, 8.43],
    [102.3, 15.53, 9.60, 159.3, 8.12, 13.97, 8.19],
    [636.9e3, 138.7e3, 165.3e3, 464.4e3, 93.2e3, 216.0e3, 136.2e3],
    [134.8e3, 143.7e3, 225.7e3, 93.1e3, 135.9e3, 152.0e3, 188.5e3],
    [95.6e3, 98.6e3, 129.7e3, 94.2e3, 113.4e3, 122.7e3, 122.9e3],
])
_C_D = np.array([1.224, 0.801, 1.380, 1.000, 1.224, 1.518, 1.518])
_Z_D = np.array([1.282, 2.161, 1.282, 20.0, 1.282, 1.282, 1.282])
_G_MINUS = np.array([
    [1.0, 1.0, 1.0, 1.0, 0.92, 1.0, 1.0],
    [0.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 1.77, 0.0, 0.0],
])
_G_PLUS = np.array([
    [1.0, 0.93, 1.0, 0.93, 0.93, 1.0, 1.0],
    [0.0, 0.31, 0.0, 0.19, 0.31, 0.0, 0.0],
    [0.0, 2.00, 0.0, 1.79, 2.00, 0.0, 0.0],
])
# Troposcatter H_01 curve coefficients for eta_s = 1..5 [Algorithm 6.13]
_H0_A = np.array([25.0, 80.0, 177.0, 395.0, 705.0])
_H0_B = np.array([24.0, 45.0, 68.0, 80.0, 105.0])


# --------------------------------------------------------------------------------------------
# Elementary functions


@njit(**KERNEL)
def free_space_loss_db(d_m: float, f_mhz: float) -> float:
    """Free-space basic transmission loss, dB (distance in m, frequency in MHz)."""
    return 32.45 + 20.0 * math.log10(f_mhz) + 20.0 * math.log10(d_m / 1000.0)


@njit(**KERNEL)
def fresnel_integral_db(v2: float) -> float:
    """Knife-edge loss A(v, 0) in dB as a function of v squared [TN101 v2 III.24b-c]."""
    if v2 < 5.76:  # v < 2.4
        return 6.02 + 9.11 * math.sqrt(v2) - 1.27 * v2
    return 12.953 + 10.0 * math.log10(v2)


@njit(**KERNEL)
def terrain_roughness_m(d_m: float, delta_h_m: float) -> float:
    """Interdecile range over distance d, delta_h(d) [ERL 79-ITS 67, Eqn 3], metres."""
    return delta_h_m * (1.0 - 0.8 * math.exp(-d_m / 50e3))


@njit(**KERNEL)
def sigma_h_m(delta_h_m: float) -> float:
    """RMS terrain deviation within the first Fresnel zone [ERL 79-ITS 67, Eqn 3.6a], m."""
    return 0.78 * delta_h_m * math.exp(-0.5 * math.sqrt(math.sqrt(delta_h_m)))


@njit(**KERNEL)
def f_function_db(td_m: float) -> float:
    """Troposcatter attenuation function F(theta d) of the product theta*d in m [Algorithm 6.9]."""
    if td_m <= 10e3:
        return 133.4 + 0.332e-3 * td_m - 10.0 * math.log10(td_m)
    if td_m <= 70e3:
        return 104.6 + 0.212e-3 * td_m - 2.5 * math.log10(td_m)
    return 71.8 + 0.157e-3 * td_m + 5.0 * math.log10(td_m)


@njit(**KERNEL)
def _h0_curve_db(j: int, r: float) -> float:
    """H_01(r) for the eta_s curve j (0-based) [Algorithm 6.13]."""
    inv_r = 1.0 / r
    return 10.0 * math.log10(1.0 + _H0_A[j] * inv_r**4 + _H0_B[j] * inv_r**2)


@njit(**KERNEL)
def h0_function_db(r: float, eta_s: float) -> float:
    """Troposcatter frequency-gain function H_0(r, eta_s), dB [TN101 Section 9.2].

    eta_s is clamped to [1, 5] and the curves for its integer neighbours are interpolated.
    """
    eta = min(max(eta_s, 1.0), 5.0)
    k = int(eta)
    frac = eta - k
    value = _h0_curve_db(k - 1, r)
    if frac != 0.0:
        value = (1.0 - frac) * value + frac * _h0_curve_db(k, r)
    return value


@njit(**KERNEL)
def height_function_db(x_km: float, K: float) -> float:
    """Vogler's height-gain function F(x, K) for smooth-earth diffraction, dB [Vogler 1964]."""
    if x_km < 200.0:
        w = -math.log(K)
        if K < 1e-5 or x_km * w**3 > 5495.0:
            value = -117.0
            if x_km > 1.0:
                value += 17.372 * math.log(x_km)
            return value
        return 2.5e-5 * x_km**2 / K - 8.686 * w - 15.0
    value = 0.05751 * x_km - 4.343 * math.log(x_km)
    if x_km < 2000.0:
        w = 0.0134 * x_km * math.exp(-0.005 * x_km)
        value = (1.0 - w) * value + w * (17.372 * math.log(x_km) - 117.0)
    return value


@njit(**KERNEL)
def inverse_ccdf(q: float) -> float:
    """Inverse of the complementary standard normal CDF, Q^-1(q), for 0 < q < 1.

    Rational approximation of Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4).
    """
    x = 1.0 - q if q > 0.5 else q
    t = math.sqrt(-2.0 * math.log(x))
    num = (0.010328 * t + 0.802853) * t + 2.515516
    den = ((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0
    z = t - num / den
    return -z if q > 0.5 else z


@njit(**KERNEL)
def _curve(c1: float, c2: float, x1: float, x2: float, x3: float, d_e_m: float) -> float:
    """Climate curve of the variability model [TN101 v2, Eqns III.69 and III.70]."""
    r = (d_e_m / x1) ** 2
    return (c1 + c2 / (1.0 + ((d_e_m - x2) / x3) ** 2)) * r / (1.0 + r)


# --------------------------------------------------------------------------------------------
# Initialisation


@njit(**KERNEL)
def initialize_point_to_point(
    f_mhz: float, h_sys_m: float, N_0: float, pol: int, epsilon: float, sigma: float
) -> tuple[complex, float, float]:
    """Ground impedance, effective-earth curvature and surface refractivity.

    Returns ``(Z_g, gamma_e [1/m], N_s [N-units])`` [TN101 4.3, 4.4; Algorithm Section 3].
    """
    gamma_e, N_s = effective_earth(h_sys_m, N_0)
    return ground_impedance(f_mhz, pol, epsilon, sigma), gamma_e, N_s


@njit(**KERNEL)
def effective_earth(h_sys_m: float, N_0: float) -> tuple[float, float]:
    """Effective-earth curvature (1/m) and surface refractivity N_s at the mean path
    elevation ``h_sys_m`` [TN101 4.3; Algorithm 3.5]."""
    N_s = N_0 if h_sys_m == 0.0 else N_0 * math.exp(-h_sys_m / 9460.0)
    return _GAMMA_ACTUAL * (1.0 - 0.04665 * math.exp(N_s / 179.3)), N_s


@njit(**KERNEL)
def ground_impedance(f_mhz: float, pol: int, epsilon: float, sigma: float) -> complex:
    """Surface transfer impedance Z_g of the ground [TN101 4.4; Algorithm 3.6]."""
    eps_r = complex(epsilon, 18000.0 * sigma / f_mhz)
    Z_g = cmath.sqrt(eps_r - 1.0)
    if pol == 1:
        Z_g = Z_g / eps_r
    return Z_g


@njit(**KERNEL)
def _area_terminal(siting: int, gamma_e: float, delta_h_m: float,
                   h_m: float) -> tuple[float, float, float]:
    """Effective height, horizon distance and horizon angle of one area-mode terminal."""
    if siting == SITING_RANDOM:
        h_e = h_m
    else:
        B = 4.0 if siting == SITING_CAREFUL else 9.0
        if h_m < 5.0:
            B = B * math.sin(0.1 * math.pi * h_m)
        h_e = h_m + (1.0 + B) * math.exp(-min(20.0, 2.0 * h_m / max(1e-3, delta_h_m)))
    d_ls = math.sqrt(2.0 * h_e / gamma_e)  # smooth-earth horizon
    d_hzn = d_ls * math.exp(-0.07 * math.sqrt(delta_h_m / max(h_e, 5.0)))  # [Algorithm 3.3]
    theta = (0.65 * delta_h_m * (d_ls / d_hzn - 1.0) - 2.0 * h_e) / d_ls  # [Algorithm 3.4]
    return h_e, d_hzn, theta


@njit(**KERNEL)
def initialize_area(
    tx_siting: int, rx_siting: int, gamma_e: float, delta_h_m: float, h_tx_m: float,
    h_rx_m: float,
) -> tuple[float, float, float, float, float, float]:
    """Area-mode terminal geometry [Algorithm 3.2-3.4].

    Returns ``(h_e_tx, h_e_rx, d_hzn_tx, d_hzn_rx, theta_hzn_tx, theta_hzn_rx)`` (m, m, rad).
    """
    he0, dh0, th0 = _area_terminal(tx_siting, gamma_e, delta_h_m, h_tx_m)
    he1, dh1, th1 = _area_terminal(rx_siting, gamma_e, delta_h_m, h_rx_m)
    return he0, he1, dh0, dh1, th0, th1


# --------------------------------------------------------------------------------------------
# Terrain profile pre-processing. ``z`` holds np + 1 elevations spaced ``xi`` metres apart.


@njit(**KERNEL)
def find_horizons(z: np.ndarray, xi: float, a_e_m: float, h_tx_m: float,
                  h_rx_m: float) -> tuple[float, float, float, float]:
    """Horizon elevation angles and distances of both terminals [TN101 6.15; Algorithm 48].

    Returns ``(theta_tx, theta_rx, d_hzn_tx_m, d_hzn_rx_m)``. When nothing obstructs the
    path, both horizons are the other terminal.
    """
    n_int = z.shape[0] - 1
    d_m = n_int * xi
    z_tx = z[0] + h_tx_m
    z_rx = z[n_int] + h_rx_m
    two_a_e = 2.0 * a_e_m
    half_curv = 1.0 / two_a_e  # earth bulge term s / (2 a_e) as a product (hot loop)
    slope = (z_rx - z_tx) / d_m
    theta_tx = slope - d_m / two_a_e
    theta_rx = -slope - d_m / two_a_e
    d_hzn_tx = d_m
    d_hzn_rx = d_m
    s_tx = 0.0
    s_rx = d_m
    for i in range(1, n_int):
        s_tx += xi
        s_rx -= xi
        zi = z[i]
        t_tx = (zi - z_tx) / s_tx - s_tx * half_curv
        t_rx = -(z_rx - zi) / s_rx - s_rx * half_curv
        if t_tx > theta_tx:
            theta_tx = t_tx
            d_hzn_tx = s_tx
        if t_rx > theta_rx:
            theta_rx = t_rx
            d_hzn_rx = s_rx
    return theta_tx, theta_rx, d_hzn_tx, d_hzn_rx


@njit(**KERNEL)
def least_squares_fit(z: np.ndarray, xi: float, d_start_m: float,
                      d_end_m: float) -> tuple[float, float]:
    """Straight line fitted to ``z`` between two distances [Algorithm 48, zlsq1].

    Returns the fitted heights at both ends of the whole profile ``(z_fit_0, z_fit_np)``.
    At least one interval is always used.
    """
    n_int = z.shape[0] - 1
    i0 = int(max(d_start_m / xi, 0.0))
    i1 = n_int - int(max(n_int - d_end_m / xi, 0.0))
    if i1 <= i0:
        i0 = int(max(i0 - 1.0, 0.0))
        i1 = n_int - int(max(n_int - (i1 + 1.0), 0.0))
    length = float(i1 - i0)
    # abscissae are centred on the middle of the fitted span
    x = -0.5 * length
    x_end = i1 + x
    mean = 0.5 * (z[i0] + z[i1])
    moment = 0.5 * (z[i0] - z[i1]) * x
    k = i0
    for _ in range(2, int(length) + 1):
        k += 1
        x += 1.0
        mean += z[k]
        moment += z[k] * x
    mean = mean / length
    moment = moment * 12.0 / ((length * length + 2.0) * length)
    return mean - moment * x_end, mean + moment * (n_int - x_end)


@njit(**KERNEL)
def _select_descending(a: np.ndarray, n: int, k: int) -> float:
    """k-th largest (0-based) of ``a[:n]`` by in-place quickselect (reorders ``a``).

    Reference for the heap selection of :func:`compute_delta_h` (tests compare them).
    """
    lo = 0
    hi = n - 1
    while lo < hi:
        pivot = a[(lo + hi) >> 1]
        i = lo
        j = hi
        while i <= j:
            while a[i] > pivot:
                i += 1
            while a[j] < pivot:
                j -= 1
            if i <= j:
                tmp = a[i]
                a[i] = a[j]
                a[j] = tmp
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return a[k]


@njit(inline="always", **KERNEL)
def _heap_push(h: np.ndarray, i: int, v: float) -> None:
    """Insert ``v`` as element ``i`` of the min-heap ``h[:i]``."""
    while i > 0:
        parent = (i - 1) >> 1
        if h[parent] > v:
            h[i] = h[parent]
            i = parent
        else:
            break
    h[i] = v


@njit(inline="always", **KERNEL)
def _heap_replace_root(h: np.ndarray, size: int, v: float) -> None:
    """Replace the root of the min-heap ``h[:size]`` by ``v`` and restore the heap."""
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and h[c + 1] < h[c]:
            c += 1
        if h[c] < v:
            h[i] = h[c]
            i = c
        else:
            break
    h[i] = v


#: Scratch size for :func:`compute_delta_h_into`: 245 resampled points + two heaps of 25.
DELTA_H_SCRATCH = 256 + 2 * 32


@njit(**KERNEL)
def compute_delta_h(z: np.ndarray, xi: float, d_start_m: float, d_end_m: float) -> float:
    """Terrain irregularity parameter delta_h between two distances, metres.

    The profile between the two distances is resampled on ``n = 10 k - 5`` points
    (4 <= k <= 25), a least-squares line is removed, and the interdecile range of the
    residuals is scaled to the asymptotic delta_h by inverting [ERL 79-ITS 67, Eqn 3]
    [Algorithm 48, dlthx]. Returns 0 when fewer than two intervals are covered.
    """
    return compute_delta_h_into(z, xi, d_start_m, d_end_m, np.empty(DELTA_H_SCRATCH))


@njit(inline="always", **KERNEL)
def _keep_largest(a: np.ndarray, size: int, v: float) -> None:
    """Put ``v`` into ``a[:size]``, the ``size`` largest values seen so far in ascending
    order, when it is larger than ``a[0]`` (the smallest of them, which then drops out)."""
    q = 0
    while q + 1 < size and a[q + 1] < v:
        a[q] = a[q + 1]
        q += 1
    a[q] = v


@njit(inline="always", **KERNEL)
def _keep_smallest(a: np.ndarray, size: int, v: float) -> None:
    """:func:`_keep_largest` mirrored: ``a[:size]`` the smallest values in descending order."""
    q = 0
    while q + 1 < size and a[q + 1] > v:
        a[q] = a[q + 1]
        q += 1
    a[q] = v


@njit(**KERNEL)
def _resample_detrended(z: np.ndarray, xi: float, d_start_m: float, d_end_m: float,
                        scratch: np.ndarray) -> tuple[int, int, float, float]:
    """The part of :func:`compute_delta_h_into` before the deciles: the profile between the
    two distances resampled on ``n = 10 k - 5`` points into ``scratch[:n]`` and the line
    fitted to them. Returns ``(n, k, y0, dy)`` (``n = 0`` when fewer than two intervals
    are covered); the residual of point ``j`` is ``s[j]`` minus ``y0`` advanced ``j``
    times by ``dy``."""
    n_int = z.shape[0] - 1
    x_a = d_start_m / xi
    x_b = d_end_m / xi
    if x_b - x_a < 2.0:
        return 0, 0, 0.0, 0.0
    k10 = int(0.1 * (x_b - x_a + 8.0))
    k10 = min(max(4, k10), 25)
    n = 10 * k10 - 5
    span = n - 1.0
    step = (x_b - x_a) / span
    i = int(x_a)
    frac = x_a - (i + 1.0)
    s = scratch[:n]
    for j in range(n):
        while frac > 0.0 and i + 1 < n_int:
            frac -= 1.0
            i += 1
        s[j] = z[i + 1] + (z[i + 1] - z[i]) * frac
        frac += step
    y0, y1 = least_squares_fit(s, 1.0, 0.0, span)
    return n, k10, y0, (y1 - y0) / span


@njit(**KERNEL)
def compute_delta_h_into(z: np.ndarray, xi: float, d_start_m: float, d_end_m: float,
                         scratch: np.ndarray) -> float:
    """:func:`compute_delta_h` with a caller-owned scratch array of ``DELTA_H_SCRATCH`` floats.

    The two deciles are the k-th largest and k-th smallest residuals, kept during one pass
    in two short sorted arrays (k <= 25; insertion, no reordering of the residuals, exact
    order statistics; the same values as the bounded heaps of
    :func:`compute_delta_h_heaps_into`, in about 0.8 of their time: the residuals
    come in runs, which a short sorted array absorbs with fewer branches than a heap).
    """
    n, k10, y0, dy = _resample_detrended(z, xi, d_start_m, d_end_m, scratch)
    if n == 0:
        return 0.0
    s = scratch[:n]
    top = scratch[256:288]  # the k10 largest residuals, ascending: top[0] the k10-th largest
    low = scratch[288:320]  # the k10 smallest, descending: low[0] the k10-th smallest
    for j in range(n):
        r = s[j] - y0
        y0 += dy
        if j < k10:  # the first k10 fill both arrays
            q = j
            while q > 0 and top[q - 1] > r:
                top[q] = top[q - 1]
                q -= 1
            top[q] = r
            q = j
            while q > 0 and low[q - 1] < r:
                low[q] = low[q - 1]
                q -= 1
            low[q] = r
        else:
            if r > top[0]:
                _keep_largest(top, k10, r)
            if r < low[0]:
                _keep_smallest(low, k10, r)
    # NTIA's 10 % point minus its 90 % point
    return (top[0] - low[0]) / (1.0 - 0.8 * math.exp(-(d_end_m - d_start_m) / 50e3))


@njit(**KERNEL)
def compute_delta_h_heaps_into(z: np.ndarray, xi: float, d_start_m: float, d_end_m: float,
                               scratch: np.ndarray) -> float:
    """:func:`compute_delta_h_into` as it was before version 17 (kept as the reference of
    the equivalence tests and the benchmark): the two deciles kept in two bounded
    min-heaps during one pass (O(n log k))."""
    n, k10, y0, dy = _resample_detrended(z, xi, d_start_m, d_end_m, scratch)
    if n == 0:
        return 0.0
    s = scratch[:n]
    top = scratch[256:288]  # the k10 largest residuals (min-heap)
    low = scratch[288:320]  # the k10 smallest, negated (min-heap)
    for j in range(n):
        r = s[j] - y0
        y0 += dy
        if j < k10:
            _heap_push(top, j, r)
            _heap_push(low, j, -r)
        else:
            if r > top[0]:
                _heap_replace_root(top, k10, r)
            if -r > low[0]:
                _heap_replace_root(low, k10, -r)
    # top[0]: k10-th largest (NTIA's 10 % point); -low[0]: k10-th smallest (90 % point)
    return (top[0] + low[0]) / (1.0 - 0.8 * math.exp(-(d_end_m - d_start_m) / 50e3))


@njit(**KERNEL)
def quick_pfl(z: np.ndarray, xi: float, gamma_e: float, h_tx_m: float, h_rx_m: float,
              ) -> tuple[float, float, float, float, float, float, float, float]:
    """Point-to-point path geometry from a terrain profile [Algorithm 43, qlrpfl]; see
    :func:`quick_pfl_into`."""
    return quick_pfl_into(z, xi, gamma_e, h_tx_m, h_rx_m, np.empty(DELTA_H_SCRATCH))


@njit(inline="always", **KERNEL)
def area_horizons(he0: float, he1: float, delta_h: float, a_e: float,
                  d_m: float) -> tuple[float, float, float, float, float, float]:
    """The horizons of a path well inside line of sight, estimated from the effective
    heights as in area mode [Algorithm 43, qlrpfl; Hufford 1982]: ``(theta_tx, theta_rx,
    d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m)``, the heights stretched until the
    horizons reach each other."""
    dh0 = math.sqrt(2.0 * he0 * a_e) * math.exp(-0.07 * math.sqrt(delta_h / max(he0, 5.0)))
    dh1 = math.sqrt(2.0 * he1 * a_e) * math.exp(-0.07 * math.sqrt(delta_h / max(he1, 5.0)))
    total = dh0 + dh1
    if total <= d_m:
        # stretch the effective heights until the horizons reach each other
        scale = (d_m / total) ** 2
        he0 = he0 * scale
        he1 = he1 * scale
        dh0 = math.sqrt(2.0 * he0 * a_e) * math.exp(-0.07 * math.sqrt(delta_h / max(he0, 5.0)))
        dh1 = math.sqrt(2.0 * he1 * a_e) * math.exp(-0.07 * math.sqrt(delta_h / max(he1, 5.0)))
    q0 = math.sqrt(2.0 * he0 * a_e)
    th0 = (0.65 * delta_h * (q0 / dh0 - 1.0) - 2.0 * he0) / q0
    q1 = math.sqrt(2.0 * he1 * a_e)
    th1 = (0.65 * delta_h * (q1 / dh1 - 1.0) - 2.0 * he1) / q1
    return th0, th1, dh0, dh1, he0, he1


@njit(**KERNEL)
def quick_pfl_into(z: np.ndarray, xi: float, gamma_e: float, h_tx_m: float, h_rx_m: float,
                   scratch: np.ndarray,
                   ) -> tuple[float, float, float, float, float, float, float, float]:
    """Point-to-point path geometry from a terrain profile [Algorithm 43, qlrpfl].

    Returns ``(theta_tx, theta_rx, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, delta_h_m,
    d_m)``. Effective heights are the structural heights above a least-squares line
    through the foreground (from 15 times the antenna height, or 10 % of the horizon
    distance, per [Hufford 1982, p. 25]). On paths well inside line of sight the horizon
    parameters are the area-mode estimates from those effective heights.
    """
    n_int = z.shape[0] - 1
    d_m = n_int * xi
    a_e = 1.0 / gamma_e
    th0, th1, dh0, dh1 = find_horizons(z, xi, a_e, h_tx_m, h_rx_m)
    d_start = min(15.0 * h_tx_m, 0.1 * dh0)
    d_end = d_m - min(15.0 * h_rx_m, 0.1 * dh1)
    delta_h = compute_delta_h_into(z, xi, d_start, d_end, scratch)
    if dh0 + dh1 > 1.5 * d_m:
        fit0, fit1 = least_squares_fit(z, xi, d_start, d_end)
        th0, th1, dh0, dh1, he0, he1 = area_horizons(h_tx_m + max(z[0] - fit0, 0.0),
                                                     h_rx_m + max(z[n_int] - fit1, 0.0),
                                                     delta_h, a_e, d_m)
    else:
        fit0, _unused = least_squares_fit(z, xi, d_start, 0.9 * dh0)
        he0 = h_tx_m + max(z[0] - fit0, 0.0)
        _unused, fit1 = least_squares_fit(z, xi, d_m - 0.9 * dh1, d_end)
        he1 = h_rx_m + max(z[n_int] - fit1, 0.0)
    return th0, th1, dh0, dh1, he0, he1, delta_h, d_m


# --------------------------------------------------------------------------------------------
# Losses


@njit(**KERNEL)
def knife_edge_diffraction_db(d_m: float, f_mhz: float, a_e_m: float, theta_los: float,
                              d_hzn_tx_m: float, d_hzn_rx_m: float) -> float:
    """Double knife-edge diffraction loss [TN101 I.1, I.7; Algorithm 4.12-4.16], dB."""
    theta_nlos = d_m / a_e_m - theta_los
    d_nlos = d_m - (d_hzn_tx_m + d_hzn_rx_m)
    c = 0.0795775 * (f_mhz / 47.7) * theta_nlos**2 * d_nlos  # 0.0795775 = 1 / (4 pi)
    v1 = c * d_hzn_tx_m / (d_nlos + d_hzn_tx_m)
    v2 = c * d_hzn_rx_m / (d_nlos + d_hzn_rx_m)
    return fresnel_integral_db(v1) + fresnel_integral_db(v2)


@njit(**KERNEL)
def _smooth_earth_terminals(f_mhz: float, d_hzn_tx_m: float, d_hzn_rx_m: float,
                            h_e_tx_m: float, h_e_rx_m: float, Z_g: complex,
                            ) -> tuple[float, float]:
    """Terminal part of Vogler's three-radii smooth-earth loss, independent of distance.

    Returns ``(x_tx + x_rx, F(x_tx, K_tx) + F(x_rx, K_rx))``: the terminals' normalised
    horizon distances and height-gain terms [Vogler 1964, Eqns 6a, 7a; Algorithm 4.17-4.19].
    Both evaluations of the diffraction line in one prediction share them.
    """
    f_third = np.cbrt(f_mhz)
    k_scale = 0.017778 / (f_third * abs(Z_g))
    a_tx = 0.5 * d_hzn_tx_m**2 / h_e_tx_m
    a_rx = 0.5 * d_hzn_rx_m**2 / h_e_rx_m
    c_tx = np.cbrt((4.0 / 3.0) * _A_4_3_EARTH_M / a_tx)
    c_rx = np.cbrt((4.0 / 3.0) * _A_4_3_EARTH_M / a_rx)
    k_tx = k_scale * c_tx
    k_rx = k_scale * c_rx
    x_tx = (1.607 - k_tx) * c_tx**2 * f_third * (d_hzn_tx_m / 1000.0)
    x_rx = (1.607 - k_rx) * c_rx**2 * f_third * (d_hzn_rx_m / 1000.0)
    return x_tx + x_rx, height_function_db(x_tx, k_tx) + height_function_db(x_rx, k_rx)


@njit(**KERNEL)
def _smooth_earth_from_terminals(d_m: float, f_mhz: float, a_e_m: float, theta_los: float,
                                 d_ml_m: float, abs_zg: float, x_terminals: float,
                                 f_terminals_db: float) -> float:
    """Smooth-earth loss at ``d_m`` given :func:`_smooth_earth_terminals` [Vogler 1964, Eqns
    2, 3, 13; Algorithm 4.20]."""
    theta_nlos = d_m / a_e_m - theta_los
    # radius of the diffracting earth between the horizons
    a_mid = (d_m - d_ml_m) / theta_nlos
    c_mid = np.cbrt((4.0 / 3.0) * _A_4_3_EARTH_M / a_mid)
    f_third = np.cbrt(f_mhz)
    k_mid = 0.017778 * c_mid / (f_third * abs_zg)
    x_mid = ((1.607 - k_mid) * c_mid**2 * f_third * (a_mid * theta_nlos / 1000.0)
             + x_terminals)
    g_db = 0.05751 * x_mid - 10.0 * math.log10(x_mid)
    return g_db - f_terminals_db - 20.0


@njit(**KERNEL)
def smooth_earth_diffraction_db(d_m: float, f_mhz: float, a_e_m: float, theta_los: float,
                                d_hzn_tx_m: float, d_hzn_rx_m: float, h_e_tx_m: float,
                                h_e_rx_m: float, Z_g: complex) -> float:
    """Smooth-earth diffraction loss by Vogler's three-radii method, dB.

    [Vogler 1964, Eqns 2, 3, 6a, 7a, 13; TN101 8.4; Algorithm 4.17-4.20].
    """
    x_t, f_t = _smooth_earth_terminals(f_mhz, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, Z_g)
    return _smooth_earth_from_terminals(d_m, f_mhz, a_e_m, theta_los, d_hzn_tx_m + d_hzn_rx_m,
                                        abs(Z_g), x_t, f_t)


@njit(**KERNEL)
def _diffraction_weight(d_m: float, d_hzn_tx_m: float, d_hzn_rx_m: float, h_e_tx_m: float,
                        h_e_rx_m: float, a_e_m: float, delta_h_m: float, h_tx_m: float,
                        h_rx_m: float, mode: int, theta_los: float, f_mhz: float) -> float:
    """Weight w of the smooth-earth term in the diffraction mix [ERL 79-ITS 67, Eqn 3.23]."""
    delta_h_d = terrain_roughness_m(d_m, delta_h_m)
    q = h_tx_m * h_rx_m
    qk = h_e_tx_m * h_e_rx_m - q
    if mode == MODE_P2P:
        q += 10.0
    root = math.sqrt(1.0 + qk / q)
    d_ml = d_hzn_tx_m + d_hzn_rx_m
    q = (root + (-theta_los * a_e_m + d_ml) / d_m) * min(delta_h_d * f_mhz / 47.7, 6283.2)
    return 25.1 / (25.1 + math.sqrt(q))


@njit(**KERNEL)
def _clutter_db(d_sml_m: float, delta_h_m: float, h_tx_m: float, h_rx_m: float,
                f_mhz: float) -> float:
    """Clutter term A_fo of the diffraction loss [ERL 79-ITS 67, Eqn 3.38c]."""
    sigma_h = sigma_h_m(terrain_roughness_m(d_sml_m, delta_h_m))
    return min(15.0, 5.0 * math.log10(1.0 + 1e-5 * h_tx_m * h_rx_m * f_mhz * sigma_h))


@njit(**KERNEL)
def diffraction_loss_db(d_m: float, d_hzn_tx_m: float, d_hzn_rx_m: float, h_e_tx_m: float,
                        h_e_rx_m: float, Z_g: complex, a_e_m: float, delta_h_m: float,
                        h_tx_m: float, h_rx_m: float, mode: int, theta_los: float,
                        d_sml_m: float, f_mhz: float) -> float:
    """Diffraction loss: weighted knife-edge / smooth-earth mix plus clutter, dB.

    [ERL 79-ITS 67, Eqns 3.23 and 3.38c; Algorithm 4.10-4.21]. In point-to-point mode the
    clutter constant C = 10 m^2 is added [ERL 79-ITS 67, p. 3-8].
    """
    a_k = knife_edge_diffraction_db(d_m, f_mhz, a_e_m, theta_los, d_hzn_tx_m, d_hzn_rx_m)
    a_se = smooth_earth_diffraction_db(d_m, f_mhz, a_e_m, theta_los, d_hzn_tx_m, d_hzn_rx_m,
                                       h_e_tx_m, h_e_rx_m, Z_g)
    w = _diffraction_weight(d_m, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, a_e_m, delta_h_m,
                            h_tx_m, h_rx_m, mode, theta_los, f_mhz)
    return w * a_se + (1.0 - w) * a_k + _clutter_db(d_sml_m, delta_h_m, h_tx_m, h_rx_m, f_mhz)


@njit(**KERNEL)
def line_of_sight_loss_db(d_m: float, h_e_tx_m: float, h_e_rx_m: float, Z_g: complex,
                          delta_h_m: float, M_d: float, A_d0: float, d_sml_m: float,
                          f_mhz: float) -> float:
    """Line-of-sight loss: two-ray model blended with the extended diffraction line, dB.

    [Algorithm 4.43-4.50; ERL 79-ITS 67, Section 3].
    """
    sigma_h = sigma_h_m(terrain_roughness_m(d_m, delta_h_m))
    wn = f_mhz / 47.7
    h_sum = h_e_tx_m + h_e_rx_m
    sin_psi = h_sum / math.sqrt(d_m**2 + h_sum**2)
    r_e = (sin_psi - Z_g) / (sin_psi + Z_g) * math.exp(-min(10.0, wn * sigma_h * sin_psi))
    mag2 = r_e.real**2 + r_e.imag**2
    if mag2 < 0.25 or mag2 < sin_psi:
        r_e = r_e * math.sqrt(sin_psi / mag2)
    delta_phi = wn * 2.0 * h_e_tx_m * h_e_rx_m / d_m
    if delta_phi > math.pi / 2.0:
        delta_phi = math.pi - (math.pi / 2.0) ** 2 / delta_phi
    rr = complex(math.cos(delta_phi), -math.sin(delta_phi)) + r_e
    a_t = -10.0 * math.log10(rr.real**2 + rr.imag**2)
    a_d = M_d * d_m + A_d0
    w = 1.0 / (1.0 + f_mhz * delta_h_m / max(10e3, d_sml_m))
    return w * a_t + (1.0 - w) * a_d


@njit(**KERNEL)
def troposcatter_loss_db(d_m: float, theta_hzn_tx: float, theta_hzn_rx: float,
                         d_hzn_tx_m: float, d_hzn_rx_m: float, h_e_tx_m: float,
                         h_e_rx_m: float, a_e_m: float, N_s: float, f_mhz: float,
                         theta_los: float, h0_db: float) -> tuple[float, float]:
    """Troposcatter loss, dB [TN101 Ch. 9; Algorithm 4.52-4.67, 6.8-6.13].

    ``h0_db`` carries H_0 between the two evaluations of one prediction (pass -1 first).
    Returns ``(loss_db, h0_db)``; the loss is 1001 when H_0 is undefined (both r < 0.2).
    """
    wn = f_mhz / 47.7
    if h0_db > 15.0:
        H_0 = h0_db
    else:
        ad = d_hzn_tx_m - d_hzn_rx_m
        rr = h_e_rx_m / h_e_tx_m
        if ad < 0.0:
            ad = -ad
            rr = 1.0 / rr
        theta = theta_hzn_tx + theta_hzn_rx + d_m / a_e_m
        r_1 = 2.0 * wn * theta * h_e_tx_m
        r_2 = 2.0 * wn * theta * h_e_rx_m
        if r_1 < 0.2 and r_2 < 0.2:
            return 1001.0, h0_db
        s = (d_m - ad) / (d_m + ad)
        q = min(max(0.1, rr / s), 10.0)
        s = max(0.1, s)
        h_cross = (d_m - ad) * (d_m + ad) * theta * 0.25 / d_m
        eta_s = (h_cross / 1.7556e3) * (
            1.0 + (0.031 - N_s * 2.32e-3 + N_s**2 * 5.67e-6)
            * math.exp(-min(1.7, h_cross / 8.0e3) ** 6))
        h_00 = (h0_function_db(r_1, eta_s) + h0_function_db(r_2, eta_s)) / 2.0
        delta_h0 = min(h_00, 6.0 * (0.6 - math.log10(max(eta_s, 1.0)))
                       * math.log10(s) * math.log10(q))
        H_0 = max(h_00 + delta_h0, 0.0)
        if eta_s < 1.0:
            H_0 = eta_s * H_0 + (1.0 - eta_s) * 10.0 * math.log10(
                ((1.0 + _SQRT2 / r_1) * (1.0 + _SQRT2 / r_2)) ** 2 * (r_1 + r_2)
                / (r_1 + r_2 + 2.0 * _SQRT2))
        if H_0 > 15.0 and h0_db >= 0.0:
            H_0 = h0_db
    th = d_m / a_e_m - theta_los
    loss = (f_function_db(th * d_m) + 10.0 * math.log10(wn * 47.7 * th**4)
            - 0.1 * (N_s - 301.0) * math.exp(-th * d_m / 40e3) + H_0)
    return loss, H_0


# C901: one compiled kernel that follows NTIA's LongleyRice() step by step (kept whole to
# be checked line by line against the reference, and called once per path)
@njit(**KERNEL)
def longley_rice(theta_hzn_tx: float, theta_hzn_rx: float, f_mhz: float, Z_g: complex,  # noqa: C901
                 d_hzn_tx_m: float, d_hzn_rx_m: float, h_e_tx_m: float, h_e_rx_m: float,
                 gamma_e: float, N_s: float, delta_h_m: float, h_tx_m: float, h_rx_m: float,
                 d_m: float, mode: int) -> tuple[float, int, int, int]:
    """Reference attenuation A_ref below free space, dB [Algorithm 4.1-4.9; ERL 79-ITS 67].

    Returns ``(A_ref_db, warnings, prop_mode, err)``; ``A_ref_db`` is NaN when ``err`` is
    not 0. Line of sight uses the fitted ``A_o + k1 d + k2 ln d`` [ERL 79-ITS 67,
    Eqns 3.16-3.21]; beyond the smooth-earth horizon the diffraction line or, past the
    transition distance d_x, the troposcatter line.
    """
    warnings = 0
    a_e = 1.0 / gamma_e
    d_hzn_s_tx = math.sqrt(2.0 * h_e_tx_m * a_e)
    d_hzn_s_rx = math.sqrt(2.0 * h_e_rx_m * a_e)
    d_sml = d_hzn_s_tx + d_hzn_s_rx
    d_ml = d_hzn_tx_m + d_hzn_rx_m
    theta_los = -max(theta_hzn_tx + theta_hzn_rx, -d_ml / a_e)

    if abs(theta_hzn_tx) > 200e-3:
        warnings |= WARN_TX_HORIZON_ANGLE
    if abs(theta_hzn_rx) > 200e-3:
        warnings |= WARN_RX_HORIZON_ANGLE
    if d_hzn_tx_m < 0.1 * d_hzn_s_tx:
        warnings |= WARN_TX_HORIZON_DISTANCE_1
    if d_hzn_rx_m < 0.1 * d_hzn_s_rx:
        warnings |= WARN_RX_HORIZON_DISTANCE_1
    if d_hzn_tx_m > 3.0 * d_hzn_s_tx:
        warnings |= WARN_TX_HORIZON_DISTANCE_2
    if d_hzn_rx_m > 3.0 * d_hzn_s_rx:
        warnings |= WARN_RX_HORIZON_DISTANCE_2

    if N_s < 150.0:
        return math.nan, warnings, PROP_MODE_NOT_SET, ERR_SURFACE_REFRACTIVITY_SMALL
    if N_s > 400.0:
        return math.nan, warnings, PROP_MODE_NOT_SET, ERR_SURFACE_REFRACTIVITY_LARGE
    if N_s < 250.0:
        warnings |= WARN_SURFACE_REFRACTIVITY
    if a_e < 4000000.0 or a_e > 13333333.0:
        return math.nan, warnings, PROP_MODE_NOT_SET, ERR_EFFECTIVE_EARTH
    if Z_g.real <= abs(Z_g.imag):
        return math.nan, warnings, PROP_MODE_NOT_SET, ERR_GROUND_IMPEDANCE

    # diffraction line through two points far beyond the horizons
    scale = np.cbrt(a_e**2 / f_mhz)
    d_3 = max(d_sml, d_ml + 5.0 * scale)
    d_4 = d_3 + 10.0 * scale
    # (the distance-independent parts of diffraction_loss_db computed once for both points)
    x_t, f_t = _smooth_earth_terminals(f_mhz, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, Z_g)
    abs_zg = abs(Z_g)
    a_fo = _clutter_db(d_sml, delta_h_m, h_tx_m, h_rx_m, f_mhz)
    w = _diffraction_weight(d_3, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, a_e, delta_h_m,
                            h_tx_m, h_rx_m, mode, theta_los, f_mhz)
    a_3 = (w * _smooth_earth_from_terminals(d_3, f_mhz, a_e, theta_los, d_ml, abs_zg, x_t, f_t)
           + (1.0 - w) * knife_edge_diffraction_db(d_3, f_mhz, a_e, theta_los, d_hzn_tx_m,
                                                   d_hzn_rx_m) + a_fo)
    w = _diffraction_weight(d_4, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, a_e, delta_h_m,
                            h_tx_m, h_rx_m, mode, theta_los, f_mhz)
    a_4 = (w * _smooth_earth_from_terminals(d_4, f_mhz, a_e, theta_los, d_ml, abs_zg, x_t, f_t)
           + (1.0 - w) * knife_edge_diffraction_db(d_4, f_mhz, a_e, theta_los, d_hzn_tx_m,
                                                   d_hzn_rx_m) + a_fo)
    M_d = (a_4 - a_3) / (d_4 - d_3)
    A_d0 = a_3 - M_d * d_3

    if d_m < abs(h_e_tx_m - h_e_rx_m) / 200e-3:
        warnings |= WARN_PATH_DISTANCE_TOO_SMALL_1
    if d_m < 1e3:
        warnings |= WARN_PATH_DISTANCE_TOO_SMALL_2
    if d_m > 1000e3:
        warnings |= WARN_PATH_DISTANCE_TOO_BIG_1
    if d_m > 2000e3:
        warnings |= WARN_PATH_DISTANCE_TOO_BIG_2

    if d_m < d_sml:
        a_sml = d_sml * M_d + A_d0
        d_0 = 0.04 * f_mhz * h_e_tx_m * h_e_rx_m  # [ERL 79-ITS 67, Eqn 3.16a]
        if A_d0 >= 0.0:
            d_0 = min(d_0, 0.5 * d_ml)
            d_1 = d_0 + 0.25 * (d_ml - d_0)  # [ERL 79-ITS 67, Eqn 3.16d]
        else:
            d_1 = max(-A_d0 / M_d, 0.25 * d_ml)
        a_1 = line_of_sight_loss_db(d_1, h_e_tx_m, h_e_rx_m, Z_g, delta_h_m, M_d, A_d0,
                                    d_sml, f_mhz)
        fitted = False
        k_1 = 0.0
        k_2 = 0.0
        if d_0 < d_1:
            a_0 = line_of_sight_loss_db(d_0, h_e_tx_m, h_e_rx_m, Z_g, delta_h_m, M_d, A_d0,
                                        d_sml, f_mhz)
            q = math.log(d_sml / d_0)
            # [ERL 79-ITS 67, Eqn 3.20]
            k_2 = max(0.0, ((d_sml - d_0) * (a_1 - a_0) - (d_1 - d_0) * (a_sml - a_0))
                      / ((d_sml - d_0) * math.log(d_1 / d_0) - (d_1 - d_0) * q))
            fitted = A_d0 > 0.0 or k_2 > 0.0
            if fitted:
                k_1 = (a_sml - a_0 - k_2 * q) / (d_sml - d_0)  # [ERL 79-ITS 67, Eqn 3.21]
                if k_1 < 0.0:
                    k_1 = 0.0
                    k_2 = max(a_sml - a_0, 0.0) / q
                    if k_2 == 0.0:
                        k_1 = M_d
        if not fitted:
            k_1 = max(a_sml - a_1, 0.0) / (d_sml - d_1)
            k_2 = 0.0
            if k_1 == 0.0:
                k_1 = M_d
        a_o = a_sml - k_1 * d_sml - k_2 * math.log(d_sml)
        A_ref = a_o + k_1 * d_m + k_2 * math.log(d_m)  # [ERL 79-ITS 67, Eqn 3.19]
        prop_mode = PROP_MODE_LINE_OF_SIGHT
    elif d_m <= max(d_sml, d_ml + 1.088 * scale * math.log(f_mhz)):
        A_ref = M_d * d_m + A_d0
        prop_mode = PROP_MODE_DIFFRACTION
    else:
        d_5 = d_ml + 200e3
        d_6 = d_ml + 400e3
        a_6, h0 = troposcatter_loss_db(d_6, theta_hzn_tx, theta_hzn_rx, d_hzn_tx_m, d_hzn_rx_m,
                                       h_e_tx_m, h_e_rx_m, a_e, N_s, f_mhz, theta_los, -1.0)
        a_5, h0 = troposcatter_loss_db(d_5, theta_hzn_tx, theta_hzn_rx, d_hzn_tx_m, d_hzn_rx_m,
                                       h_e_tx_m, h_e_rx_m, a_e, N_s, f_mhz, theta_los, h0)
        if a_5 < 1000.0:
            M_s = (a_6 - a_5) / 200e3
            d_x = max(max(d_sml, d_ml + 1.088 * scale * math.log(f_mhz)),
                      (a_5 - A_d0 - M_s * d_5) / (M_d - M_s))
            A_s0 = (M_d - M_s) * d_x + A_d0
        else:
            # no usable troposcatter prediction: stay on the diffraction line
            M_s = M_d
            A_s0 = A_d0
            d_x = 10e6
        if d_m > d_x:
            A_ref = M_s * d_m + A_s0
            prop_mode = PROP_MODE_TROPOSCATTER
        else:
            A_ref = M_d * d_m + A_d0
            prop_mode = PROP_MODE_DIFFRACTION
    return max(A_ref, 0.0), warnings, prop_mode, SUCCESS


@njit(**KERNEL)
def variability(time_pct: float, location_pct: float, situation_pct: float, h_e_tx_m: float,
                h_e_rx_m: float, delta_h_m: float, f_mhz: float, d_m: float, A_ref_db: float,
                climate: int, mdvar: int) -> tuple[float, int]:
    """Attenuation below free space at the requested quantiles, dB [Algorithm Section 5].

    Percentages are in (0, 100). ``mdvar`` is the mode of variability (0 single message,
    1 accidental, 2 mobile, 3 broadcast; +10 removes location variability, +20 removes the
    direct situation variability [Hufford 1982]). Returns ``(A_db, warnings)``.
    """
    prep = variability_setup(time_pct, location_pct, situation_pct, f_mhz, climate, mdvar)
    return variability_apply(prep, h_e_tx_m, h_e_rx_m, delta_h_m, d_m, A_ref_db), prep[10]


@njit(**KERNEL)
def variability_setup(time_pct: float, location_pct: float, situation_pct: float,
                      f_mhz: float, climate: int, mdvar: int,
                      ) -> tuple[float, float, float, float, float, float, float, int, bool,
                                 bool, int, int]:
    """The path-independent part of :func:`variability`, computed once per set of radio
    parameters: ``(z_T, z_L, z_S, wn, d_ex_f, g_minus, g_plus, kind, no_situation,
    no_location, warnings, climate_index)``."""
    warnings = 0
    z_T = inverse_ccdf(time_pct / 100.0)
    z_L = inverse_ccdf(location_pct / 100.0)
    z_S = inverse_ccdf(situation_pct / 100.0)
    c = climate - 1
    wn = f_mhz / 47.7
    d_ex_f = np.cbrt(575.7e12 / wn)  # frequency term of the effective distance [Alg. 5.3]
    kind = mdvar
    no_situation = kind >= 20
    if no_situation:
        kind -= 20
    no_location = kind >= 10
    if no_location:
        kind -= 10
    if kind == MDVAR_SINGLE_MESSAGE:
        z_T = z_S
        z_L = z_S
    elif kind == MDVAR_ACCIDENTAL:
        z_L = z_S
    elif kind == MDVAR_MOBILE:
        z_L = z_T
    if abs(z_T) > 3.10 or abs(z_L) > 3.10 or abs(z_S) > 3.10:
        warnings |= WARN_EXTREME_VARIABILITIES
    q = math.log(0.133 * wn)
    g_minus = _G_MINUS[0, c] + _G_MINUS[1, c] / ((_G_MINUS[2, c] * q) ** 2 + 1.0)
    g_plus = _G_PLUS[0, c] + _G_PLUS[1, c] / ((_G_PLUS[2, c] * q) ** 2 + 1.0)
    return (z_T, z_L, z_S, wn, d_ex_f, g_minus, g_plus, kind, no_situation, no_location,
            warnings, c)


@njit(**KERNEL)
def variability_apply(
    prep: tuple[float, float, float, float, float, float, float, int, bool, bool, int, int],
    h_e_tx_m: float, h_e_rx_m: float, delta_h_m: float, d_m: float, A_ref_db: float,
) -> float:
    """The path-dependent part of :func:`variability` [Algorithm 5.3-5.11]; ``prep`` from
    :func:`variability_setup`."""
    (z_T, z_L, z_S, wn, d_ex_f, g_minus, g_plus, kind, no_situation, no_location, _w,
     c) = prep
    # effective distance [Algorithm 5.3]
    d_ex = (math.sqrt(2.0 * _A_9000_M * h_e_tx_m) + math.sqrt(2.0 * _A_9000_M * h_e_rx_m)
            + d_ex_f)
    d_e = 130000.0 * d_m / d_ex if d_m < d_ex else 130000.0 + d_m - d_ex
    sigma_S = 0.0 if no_situation else 5.0 + 3.0 * math.exp(-d_e / 100e3)  # [Algorithm 5.10]
    V_med = _curve(_V_MED[0, c], _V_MED[1, c], _V_MED[2, c], _V_MED[3, c], _V_MED[4, c], d_e)
    if no_location:
        sigma_L = 0.0
    else:
        dh_d = terrain_roughness_m(d_m, delta_h_m)
        sigma_L = 10.0 * wn * dh_d / (wn * dh_d + 13.0)  # [Algorithm 5.9]
    Y_L = sigma_L * z_L
    sigma_T_minus = _curve(_SIGMA_T_MINUS[0, c], _SIGMA_T_MINUS[1, c], _SIGMA_T_MINUS[2, c],
                           _SIGMA_T_MINUS[3, c], _SIGMA_T_MINUS[4, c], d_e) * g_minus
    sigma_T_plus = _curve(_SIGMA_T_PLUS[0, c], _SIGMA_T_PLUS[1, c], _SIGMA_T_PLUS[2, c],
                          _SIGMA_T_PLUS[3, c], _SIGMA_T_PLUS[4, c], d_e) * g_plus
    sigma_TD = _C_D[c] * sigma_T_plus
    tgtd = (sigma_T_plus - sigma_TD) * _Z_D[c]
    if z_T < 0.0:
        sigma_T = sigma_T_minus
    elif z_T <= _Z_D[c]:
        sigma_T = sigma_T_plus
    else:
        sigma_T = sigma_TD + tgtd / z_T
    Y_T = sigma_T * z_T

    # [Algorithm 5.11]
    vs = sigma_S**2 + Y_T**2 / (7.8 + z_S**2) + Y_L**2 / (24.0 + z_S**2)
    if kind == MDVAR_SINGLE_MESSAGE:
        Y_R = 0.0
        Y_S = math.sqrt(sigma_T**2 + sigma_L**2 + vs) * z_S
    elif kind == MDVAR_ACCIDENTAL:
        Y_R = Y_T
        Y_S = math.sqrt(sigma_L**2 + vs) * z_S
    elif kind == MDVAR_MOBILE:
        Y_R = math.sqrt(sigma_T**2 + sigma_L**2) * z_T
        Y_S = math.sqrt(vs) * z_S
    else:
        Y_R = Y_T + Y_L
        Y_S = math.sqrt(vs) * z_S

    result = A_ref_db - V_med - Y_R - Y_S
    if result < 0.0:  # soft floor for large negative attenuations [Algorithm 5.2]
        result = result * (29.0 - result) / (29.0 - 10.0 * result)
    return result


# C901: NTIA's input checks in NTIA's order (the first error wins), one branch per check
@njit(**KERNEL)
def validate_inputs(h_tx_m: float, h_rx_m: float, climate: int, time_pct: float,  # noqa: C901
                    location_pct: float, situation_pct: float, N_0: float, f_mhz: float,
                    pol: int, epsilon: float, sigma: float, mdvar: int) -> tuple[int, int]:
    """Range checks common to both modes. Returns ``(err, warnings)`` (NTIA's order)."""
    warnings = 0
    if h_tx_m < 1.0 or h_tx_m > 1000.0:
        warnings |= WARN_TX_TERMINAL_HEIGHT
    if not (0.5 <= h_tx_m <= 3000.0):
        return ERR_TX_TERMINAL_HEIGHT, warnings
    if h_rx_m < 1.0 or h_rx_m > 1000.0:
        warnings |= WARN_RX_TERMINAL_HEIGHT
    if not (0.5 <= h_rx_m <= 3000.0):
        return ERR_RX_TERMINAL_HEIGHT, warnings
    if climate < 1 or climate > 7:
        return ERR_INVALID_RADIO_CLIMATE, warnings
    if not (250.0 <= N_0 <= 400.0):
        return ERR_REFRACTIVITY, warnings
    if f_mhz < 40.0 or f_mhz > 10000.0:
        warnings |= WARN_FREQUENCY
    if not (20.0 <= f_mhz <= 20000.0):
        return ERR_FREQUENCY, warnings
    if pol != 0 and pol != 1:
        return ERR_POLARIZATION, warnings
    if not (epsilon >= 1.0):
        return ERR_EPSILON, warnings
    if not (sigma > 0.0):
        return ERR_SIGMA, warnings
    base = mdvar % 10
    if mdvar < 0 or mdvar > 33 or base > 3:
        return ERR_MDVAR, warnings
    if not (0.0 < situation_pct < 100.0):
        return ERR_INVALID_SITUATION, warnings
    if not (0.0 < time_pct < 100.0):
        return ERR_INVALID_TIME, warnings
    if not (0.0 < location_pct < 100.0):
        return ERR_INVALID_LOCATION, warnings
    return SUCCESS, warnings


# --------------------------------------------------------------------------------------------
# Model entry points


#: Tuple layout of :func:`variability_setup`.
VariabilitySetup = tuple[float, float, float, float, float, float, float, int, bool, bool, int,
                         int]


@njit(**KERNEL)
def _predict(th0: float, th1: float, dh0: float, dh1: float, he0: float, he1: float,
             Z_g: complex, gamma_e: float, N_s: float, delta_h: float, d_m: float,
             h_tx_m: float, h_rx_m: float, f_mhz: float, var: VariabilitySetup, mode: int,
             warnings: int,
             ) -> tuple[float, int, int, int, float, float, float, float, float, float, float,
                        float, float, float, float]:
    """The prediction shared by both modes once the path geometry is known: reference
    attenuation, free-space loss and variability, with the tuple layout of
    :func:`p2p_full`."""
    nan = math.nan
    A_ref, w_lr, prop_mode, err = longley_rice(th0, th1, f_mhz, Z_g, dh0, dh1, he0, he1,
                                               gamma_e, N_s, delta_h, h_tx_m, h_rx_m, d_m,
                                               mode)
    warnings |= w_lr
    if err != SUCCESS:
        return (nan, warnings, prop_mode, err, nan, nan, d_m, th0, th1, dh0, dh1, he0, he1,
                N_s, delta_h)
    A_fs = free_space_loss_db(d_m, f_mhz)
    A_var = variability_apply(var, he0, he1, delta_h, d_m, A_ref)
    warnings |= var[10]
    return (A_var + A_fs, warnings, prop_mode, SUCCESS, A_ref, A_fs, d_m, th0, th1, dh0, dh1,
            he0, he1, N_s, delta_h)


class ItmParams(NamedTuple):
    """ITM's radio-climate, ground and variability parameters, by name. Kernels take it as
    one argument (numba passes a named tuple) and read its fields by name; build it by
    keyword, e.g. ``ItmParams(**RadioConfig().itm_params)``.

    ``climate`` 1-7, ``n0`` surface refractivity (N-units), ``polarization`` 0 horizontal
    1 vertical, ``epsilon`` and ``sigma`` (S/m) of the ground, ``mdvar`` mode of
    variability, and the time, location and situation percentages.
    """

    climate: int
    n0: float
    polarization: int
    epsilon: float
    sigma: float
    mdvar: int
    time_pct: float
    location_pct: float
    situation_pct: float


#: Tuple layout of :func:`p2p_setup`: (err, warnings, Z_g, N_0, f_mhz, h_tx_m, h_rx_m,
#: variability setup).
P2PSetup = tuple[int, int, complex, float, float, float, float, VariabilitySetup]


@njit(**KERNEL)
def p2p_setup(h_tx_m: float, h_rx_m: float, climate: int, N_0: float, f_mhz: float, pol: int,
              epsilon: float, sigma: float, mdvar: int, time_pct: float, location_pct: float,
              situation_pct: float) -> P2PSetup:
    """Everything of a point-to-point prediction that does not depend on the profile.

    Validates the inputs (NTIA's checks and order) and precomputes the ground impedance and
    the variability constants, so that a coverage sweep pays for them once per cell
    instead of once per path. Pass the result to :func:`p2p_run`.
    """
    err, warnings = validate_inputs(h_tx_m, h_rx_m, climate, time_pct, location_pct,
                                    situation_pct, N_0, f_mhz, pol, epsilon, sigma, mdvar)
    if err != SUCCESS:  # placeholders; p2p_run returns the error before using them
        return (err, warnings, complex(math.nan, math.nan), N_0, f_mhz, h_tx_m, h_rx_m,
                variability_setup(50.0, 50.0, 50.0, 100.0, 5, 0))
    return (err, warnings, ground_impedance(f_mhz, pol, epsilon, sigma), N_0, f_mhz, h_tx_m,
            h_rx_m, variability_setup(time_pct, location_pct, situation_pct, f_mhz, climate,
                                      mdvar))


@njit(**KERNEL)
def p2p_run(elev: np.ndarray, spacing_m: float, setup: P2PSetup, scratch: np.ndarray,
            ) -> tuple[float, int, int, int, float, float, float, float, float, float, float,
                       float, float, float, float]:
    """Point-to-point prediction over one profile with a :func:`p2p_setup` and a scratch
    array of ``DELTA_H_SCRATCH`` floats (tuple layout of :func:`p2p_full`)."""
    nan = math.nan
    err, warnings, Z_g, N_0, f_mhz, h_tx_m, h_rx_m, var = setup
    if err != SUCCESS:
        return (nan, warnings, PROP_MODE_NOT_SET, err, nan, nan, nan, nan, nan, nan, nan, nan,
                nan, nan, nan)
    n_int = elev.shape[0] - 1
    if n_int < 1 or not (spacing_m > 0.0):
        return (nan, warnings, PROP_MODE_NOT_SET, ERR_PATH_DISTANCE, nan, nan, nan, nan, nan,
                nan, nan, nan, nan, nan, nan)
    # mean path elevation, ignoring the first and last 10 % (sets N_s)
    k10 = int(0.1 * n_int)
    h_sys = 0.0
    for i in range(k10, n_int - k10 + 1):
        h_sys += elev[i]
    h_sys = h_sys / (n_int - 2 * k10 + 1)
    gamma_e, N_s = effective_earth(h_sys, N_0)
    th0, th1, dh0, dh1, he0, he1, delta_h, d_m = quick_pfl_into(elev, spacing_m, gamma_e,
                                                                h_tx_m, h_rx_m, scratch)
    return _predict(th0, th1, dh0, dh1, he0, he1, Z_g, gamma_e, N_s, delta_h, d_m, h_tx_m,
                    h_rx_m, f_mhz, var, MODE_P2P, warnings)


@njit(**KERNEL)
def p2p_full(elev: np.ndarray, spacing_m: float, h_tx_m: float, h_rx_m: float, climate: int,
             N_0: float, f_mhz: float, pol: int, epsilon: float, sigma: float, mdvar: int,
             time_pct: float, location_pct: float, situation_pct: float,
             ) -> tuple[float, int, int, int, float, float, float, float, float, float, float,
                        float, float, float, float]:
    """Point-to-point ITM with every intermediate value (time/location/situation form).

    Returns ``(A_db, warnings, prop_mode, err, A_ref_db, A_fs_db, d_m, theta_hzn_tx,
    theta_hzn_rx, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, N_s, delta_h_m)``. On error
    ``err`` is an NTIA error code and the float values are NaN (those computed before the
    error are kept). A profile with fewer than two points or a non-positive spacing gives
    ``ERR_PATH_DISTANCE`` (an addition to NTIA, which does not check the profile).
    """
    setup = p2p_setup(h_tx_m, h_rx_m, climate, N_0, f_mhz, pol, epsilon, sigma, mdvar,
                      time_pct, location_pct, situation_pct)
    return p2p_run(elev, spacing_m, setup, np.empty(DELTA_H_SCRATCH))


@njit(**KERNEL)
def p2p_loss(elev: np.ndarray, spacing_m: float, h_tx_m: float, h_rx_m: float, climate: int,
             N_0: float, f_mhz: float, pol: int, epsilon: float, sigma: float, mdvar: int,
             time_pct: float, location_pct: float, situation_pct: float,
             ) -> tuple[float, int, int, int]:
    """Point-to-point basic transmission loss, callable from other numba kernels.

    Parameters
    ----------
    elev : float64[:]
        Ground elevations (m AMSL) from the transmitter (``elev[0]``) to the receiver
        (``elev[-1]``), equally spaced; at least two points. A prefix slice of a radial
        profile is valid and is not copied.
    spacing_m : float
        Distance between consecutive points, m (path length = ``(len(elev) - 1) * spacing_m``).
    h_tx_m, h_rx_m : float
        Antenna heights above ground, m (0.5-3000).
    climate : int
        Radio climate 1-7 (1 equatorial ... 5 continental temperate, 7 maritime over sea).
    N_0 : float
        Sea-level surface refractivity, N-units (250-400).
    f_mhz : float
        Frequency, MHz (20-20000).
    pol : int
        0 horizontal, 1 vertical.
    epsilon, sigma : float
        Relative permittivity and conductivity (S/m) of the ground.
    mdvar : int
        Mode of variability (0-3, +10, +20).
    time_pct, location_pct, situation_pct : float
        Quantiles in percent, strictly between 0 and 100.

    Returns
    -------
    (loss_db, warnings, mode, err) : (float, int, int, int)
        Basic transmission loss in dB (NaN when ``err != 0``), NTIA warning flags, the
        propagation mode (1 line of sight, 2 diffraction, 3 troposcatter; 0 if not reached)
        and the NTIA error code (0 on success; never 1 here: use ``warnings``).
    """
    out = p2p_full(elev, spacing_m, h_tx_m, h_rx_m, climate, N_0, f_mhz, pol, epsilon, sigma,
                   mdvar, time_pct, location_pct, situation_pct)
    return out[0], out[1], out[2], out[3]


@njit(**KERNEL)
def area_full(h_tx_m: float, h_rx_m: float, tx_siting: int, rx_siting: int, d_km: float,
              delta_h_m: float, climate: int, N_0: float, f_mhz: float, pol: int,
              epsilon: float, sigma: float, mdvar: int, time_pct: float, location_pct: float,
              situation_pct: float,
              ) -> tuple[float, int, int, int, float, float, float, float, float, float, float,
                         float, float, float, float]:
    """Area-mode ITM with every intermediate value (same tuple layout as :func:`p2p_full`)."""
    nan = math.nan
    err, warnings = validate_inputs(h_tx_m, h_rx_m, climate, time_pct, location_pct,
                                    situation_pct, N_0, f_mhz, pol, epsilon, sigma, mdvar)
    if err == SUCCESS:
        if not (d_km > 0.0):
            err = ERR_PATH_DISTANCE
        elif not (delta_h_m >= 0.0):
            err = ERR_DELTA_H
        elif tx_siting < 0 or tx_siting > 2:
            err = ERR_TX_SITING_CRITERIA
        elif rx_siting < 0 or rx_siting > 2:
            err = ERR_RX_SITING_CRITERIA
    if err != SUCCESS:
        return (nan, warnings, PROP_MODE_NOT_SET, err, nan, nan, nan, nan, nan, nan, nan, nan,
                nan, nan, nan)
    Z_g, gamma_e, N_s = initialize_point_to_point(f_mhz, 0.0, N_0, pol, epsilon, sigma)
    he0, he1, dh0, dh1, th0, th1 = initialize_area(tx_siting, rx_siting, gamma_e, delta_h_m,
                                                   h_tx_m, h_rx_m)
    var = variability_setup(time_pct, location_pct, situation_pct, f_mhz, climate, mdvar)
    return _predict(th0, th1, dh0, dh1, he0, he1, Z_g, gamma_e, N_s, delta_h_m, d_km * 1000.0,
                    h_tx_m, h_rx_m, f_mhz, var, MODE_AREA, warnings)


@njit(**KERNEL)
def area_loss(h_tx_m: float, h_rx_m: float, tx_siting: int, rx_siting: int, d_km: float,
              delta_h_m: float, climate: int, N_0: float, f_mhz: float, pol: int,
              epsilon: float, sigma: float, mdvar: int, time_pct: float, location_pct: float,
              situation_pct: float) -> tuple[float, int, int, int]:
    """Area-mode basic transmission loss: ``(loss_db, warnings, mode, err)``."""
    out = area_full(h_tx_m, h_rx_m, tx_siting, rx_siting, d_km, delta_h_m, climate, N_0,
                    f_mhz, pol, epsilon, sigma, mdvar, time_pct, location_pct, situation_pct)
    return out[0], out[1], out[2], out[3]


@njit(**KERNEL)
def p2p_loss_many(elev_flat: np.ndarray, offsets: np.ndarray, spacing_m: np.ndarray,
                  h_tx_m: float, h_rx_m: float, climate: int, N_0: float, f_mhz: float,
                  pol: int, epsilon: float, sigma: float, mdvar: int, time_pct: float,
                  location_pct: float, situation_pct: float,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`p2p_loss` over many profiles stored end to end.

    Profile ``k`` is ``elev_flat[offsets[k]:offsets[k + 1]]`` with spacing ``spacing_m[k]``.
    Returns arrays ``(loss_db, warnings, mode, err)`` of length ``len(offsets) - 1``.
    """
    n = offsets.shape[0] - 1
    loss = np.empty(n)
    warn = np.empty(n, dtype=np.int64)
    mode = np.empty(n, dtype=np.int64)
    err = np.empty(n, dtype=np.int64)
    for k in range(n):
        a, w, m, e = p2p_loss(elev_flat[offsets[k]:offsets[k + 1]], spacing_m[k], h_tx_m,
                              h_rx_m, climate, N_0, f_mhz, pol, epsilon, sigma, mdvar,
                              time_pct, location_pct, situation_pct)
        loss[k] = a
        warn[k] = w
        mode[k] = m
        err[k] = e
    return loss, warn, mode, err
