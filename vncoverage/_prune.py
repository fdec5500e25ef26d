"""Paths that cannot change the best server (private; see
:func:`vncoverage.coverage.compute_layers`, ``prune=True``).

A best-server layer keeps, per pixel, the strongest cell (the lowest index on ties), the
flags of its path, and how many paths were unknown. A cell's path to a pixel can only change
that pixel if its level can reach the level some other cell already gives there. This
module gives an upper bound on a cell's level that needs no terrain profile, and marks the
pixels of a sweep group where that bound still reaches the best level found so far: the
others need no ITM evaluation, and leaving them out changes no bit of the layers.

The bound. ITM's basic transmission loss is the free-space loss plus the attenuation at the
requested quantiles, ``A = A_ref - V_med - Y_R - Y_S`` (then softened when negative), where
the reference attenuation is never below 0 (NTIA's LongleyRice returns ``max(A_ref, 0)``, as
:func:`vncoverage._itm_kernels.longley_rice` does) and the soft floor ``x (29 - x) / (29 -
10 x)`` of the variability only raises a negative ``x`` (the end of
:func:`vncoverage._itm_kernels.variability_apply`). So ``loss >= A_fs(d) - max(V_med) -
|Y_R| - |Y_S|``. ``V_med`` is the climate's median curve [TN101 v2, Eqns III.69-70] of the
effective distance, bounded here by interval arithmetic over the effective distances a path
within the group's radius can have (:func:`effective_distance_max`: 52 km for 10 km at
1,800 MHz, where the sample's climate's curve stays below 0.19 dB; over every distance it
reaches 4.24 dB); at the median quantiles (time and
situation 50 %; location is 50 % in the run) the Y terms are the 50 % point of the normal
approximation times the standard deviations, bounded by their largest values. The clutter
loss at the receiver and the antenna gain are the exact ones the run adds (same float32
angles, same pattern function), and the level bound keeps :data:`MARGIN_DB` below the true
bound, more than the 0.005 dB of the 0.01 dB loss quantisation and float32 rounding.

The ITM free-space loss uses the same distance as the ray and profile kernels (the pixel
centre's distance from the site's fractional pixel, at least half a pixel).

Groups where a left-out path might have been *unknown* (the unknown counts must not change
either) are not pruned: any DEM nodata or grid edge within reach of the window, a mean path
elevation that could take ITM's surface refractivity or effective earth out of range, an
invalid ITM setup, or quantiles other than the median.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit, prange

from ._itm_kernels import (
    _C_D,
    _G_MINUS,
    _G_PLUS,
    _SIGMA_T_MINUS,
    _SIGMA_T_PLUS,
    _V_MED,
    KERNEL,
    SUCCESS,
    ItmParams,
    effective_earth,
    free_space_loss_db,
    inverse_ccdf,
    p2p_setup,
)
from ._sweep import Sweep, pixel_angles, site_offset
from .antenna import gain_db_scalar
from .propagation import EARTH_RADIUS_M

#: Margin (dB) kept between a level bound and the bound proper (quantisation to 0.01 dB,
#: float32 rounding of the loss, the clutter loss and the level).
MARGIN_DB = 0.05
#: The quantiles' normal deviates must be this close to 0 (the median) to prune.
MEDIAN_Z = 1e-3


def _curve_max(c1: float, c2: float, x1: float, x2: float, x3: float,
               d_hi: float = math.inf) -> float:
    """An upper bound of ITM's climate curve ``(c1 + c2 / (1 + ((d - x2) / x3)^2)) r / (1 +
    r)``, ``r = (d / x1)^2``, over every ``0 <= d <= d_hi``: interval arithmetic on 20,000
    pieces (up to 20,000 km and one piece beyond when ``d_hi`` is infinite; both factors
    are bounded on an interval, the product's bound is at a corner)."""
    def h(d: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + ((d - x2) / x3) ** 2)

    def u(d: np.ndarray) -> np.ndarray:
        r = (d / x1) ** 2
        return r / (1.0 + r)

    edges = np.linspace(0.0, min(d_hi, 20_000e3), 20_001)
    a, b = edges[:-1], edges[1:]
    h_a, h_b = h(a), h(b)
    h_hi = np.where((a <= x2) & (x2 <= b), 1.0, np.maximum(h_a, h_b))
    h_lo = np.minimum(h_a, h_b)
    f_lo = c1 + c2 * np.where(c2 >= 0, h_lo, h_hi)
    f_hi = c1 + c2 * np.where(c2 >= 0, h_hi, h_lo)
    u_lo, u_hi = u(a), u(b)
    corners = np.stack([f_lo * u_lo, f_lo * u_hi, f_hi * u_lo, f_hi * u_hi])
    best = float(corners.max())
    if d_hi <= edges[-1]:
        return best
    # beyond the last edge: u in [u(D), 1], h in (0, h(D)] (D > x2)
    d_end = float(edges[-1])
    h_end = float(h(np.array(d_end)))
    tail_f = (c1 + max(c2, 0.0) * h_end, c1 + min(c2, 0.0) * h_end)
    u_end = float(u(np.array(d_end)))
    return max(best, *(f * w for f in tail_f for w in (u_end, 1.0)))


def effective_distance_max(f_mhz: float, d_max_m: float) -> float:
    """The largest effective distance of ITM's variability [Algorithm 5.3] on a path no
    longer than ``d_max_m``: ``d_e`` grows with the distance and falls with ``d_ex``, which
    is at least its frequency term ``(575.7e12 / wn)^(1/3)`` (the effective heights under its
    square roots are >= 0: the structural heights plus a non-negative part, stretched
    upwards only, in :func:`~vncoverage._itm_kernels.quick_pfl_into` and
    :func:`~vncoverage._itm_kernels.area_horizons`). A part in a million is kept."""
    d_ex = float(np.cbrt(575.7e12 / (f_mhz / 47.7))) * (1.0 - 1e-6)
    d = d_max_m * (1.0 + 1e-6)
    d_e = 130000.0 * d / d_ex if d < d_ex else 130000.0 + d - d_ex
    return d_e * (1.0 + 1e-6)


def _sigma_max(table: np.ndarray, c: int) -> float:
    """|c1| + |c2| of a climate curve: a bound of its absolute value."""
    return abs(float(table[0, c])) + abs(float(table[1, c]))


@functools.lru_cache(maxsize=256)
def variability_bonus_db(params: ItmParams, f_mhz: float,
                         d_max_m: float = math.inf) -> float | None:
    """The most ITM's variability can take off the reference attenuation (dB): a bound of
    ``V_med + Y_R + Y_S`` over every path no longer than ``d_max_m`` (module docstring;
    ``V_med`` over the effective distances such paths can have:
    :func:`effective_distance_max`); None when a quantile is not the median (no pruning
    then)."""
    z = [inverse_ccdf(p / 100.0) for p in (params.time_pct, params.location_pct,
                                           params.situation_pct)]
    if max(abs(v) for v in z) > MEDIAN_Z:
        return None
    c = int(params.climate) - 1
    d_e = effective_distance_max(f_mhz, d_max_m) if math.isfinite(d_max_m) else math.inf
    c1, c2, x1, x2, x3 = (float(_V_MED[k, c]) for k in range(5))
    v_med = _curve_max(c1, c2, x1, x2, x3, d_e)
    # the standard deviations' bounds (variability_apply): sigma_S <= 8, sigma_L < 10,
    # sigma_T <= (|c1| + |c2|) g for either branch, g <= |g0| + |g1| (tables' own maxima)
    wn_q = math.log(0.133 * f_mhz / 47.7)
    g_m, g_p = (abs(float(t[0, c])) + abs(float(t[1, c])) / ((float(t[2, c]) * wn_q) ** 2 + 1.0)
                for t in (_G_MINUS, _G_PLUS))
    sigma_t = max(_sigma_max(_SIGMA_T_MINUS, c) * g_m,
                  _sigma_max(_SIGMA_T_PLUS, c) * g_p * max(1.0, abs(float(_C_D[c]))))
    sigma = 8.0 + 10.0 + sigma_t
    # |Y_R| + |Y_S| <= 3 sigma max|z| in every mode of variability [Algorithm 5.11]
    return v_med + 3.0 * sigma * max(abs(v) for v in z)


def prunable_group(dem: np.ndarray, sweep: Sweep, params: ItmParams, r_start: int,
                   c_start: int, n: int) -> bool:
    """Whether no path of this group's window can be unknown (module docstring): the window
    and a 2-pixel margin inside the grid without nodata, a valid ITM setup, and the surface
    refractivity and effective earth in ITM's range at the window's lowest and highest
    elevations (any path's mean elevation lies between)."""
    r0, c0, r1, c1 = r_start - 2, c_start - 2, r_start + n + 2, c_start + n + 2
    if r0 < 0 or c0 < 0 or r1 > dem.shape[0] or c1 > dem.shape[1]:
        return False
    block = dem[r0:r1, c0:c1]
    z_lo, z_hi = float(np.min(block)), float(np.max(block))
    if not (math.isfinite(z_lo) and math.isfinite(z_hi)):
        return False
    setup = p2p_setup(sweep.h_tx_m, sweep.h_rx_m, params.climate, params.n0, sweep.f_mhz,
                      params.polarization, params.epsilon, params.sigma, params.mdvar,
                      params.time_pct, params.location_pct, params.situation_pct)
    if setup[0] != SUCCESS:
        return False
    z_g = setup[2]
    if z_g.real <= abs(z_g.imag):
        return False
    for z in (z_lo, z_hi):
        gamma_e, n_s = effective_earth(z, setup[3])
        a_e = 1.0 / gamma_e if gamma_e > 0 else math.inf
        if not (150.0 <= n_s <= 400.0 and 4_000_000.0 <= a_e <= 13_333_333.0):
            return False
    return True


@njit(parallel=True, **KERNEL)
def needed_pixels(dem: np.ndarray, sweep: Sweep, r_start: int, c_start: int, n_rows: int,
                  n_cols: int, z_tx_abs: float, extra: np.ndarray, bonus_db: float,
                  level0: np.ndarray, omni: np.ndarray, azimuth: np.ndarray,
                  etilt: np.ndarray, mtilt: np.ndarray, layer_of: np.ndarray,
                  best: np.ndarray, h_bw: float, v_bw: float, a_m: float, sla_v: float,
                  done: np.ndarray) -> tuple[np.ndarray, int]:
    """1 where a pixel of the window within the radius, not ``done`` (uint8, window shape:
    the paths computed already, the near disk), has a cell whose level bound reaches the
    best level so far (module docstring), else 0; and how many pixels of the window are
    within the radius (the group's paths). Distances and angles are the kernels' own
    (:func:`~vncoverage._sweep.site_offset`, :func:`~vncoverage._sweep.pixel_angles`).

    ``extra``: the clutter loss the run adds at each pixel (window shape, or empty);
    ``level0``, ``omni``, ``azimuth``, ``etilt``, ``mtilt``: per cell (EIRP per resource
    element, pattern); ``layer_of[k]``: the plane of ``best`` (planes x window) that cell
    ``k`` folds into (its operator's layer; the operators' ``any`` layer is never below)."""
    px = sweep.pixel_m
    two_kre = 2.0 * sweep.k_factor * EARTH_RADIUS_M
    use_extra = extra.shape[0] > 0
    n_cells = level0.shape[0]
    n_planes = best.shape[0]
    # per plane, the highest EIRP of its cells: with a gain <= 0 no cell of the plane is
    # above that minus the loss bound, so a pixel below it on every plane needs no gains
    top = np.full(n_planes, -np.inf)
    for k in range(n_cells):
        top[layer_of[k]] = max(top[layer_of[k]], level0[k])
    out = np.zeros((n_rows, n_cols), dtype=np.uint8)
    within = np.zeros(n_rows, dtype=np.int64)
    for i in prange(n_rows):
        r = r_start + i
        for j in range(n_cols):
            c = c_start + j
            dx, dy, d0 = site_offset(sweep, r, c)
            if d0 > sweep.radius_m:
                continue
            within[i] += 1
            if done[i, j]:
                continue
            d = max(d0, 0.5 * px)
            loss = free_space_loss_db(d, sweep.f_mhz) - bonus_db - MARGIN_DB
            if use_extra:
                loss += extra[i, j]
            reachable = False
            for p in range(n_planes):
                if top[p] - loss >= best[p, i, j]:
                    reachable = True
                    break
            if not reachable:
                continue
            az_deg, th = pixel_angles(dx, dy, d, z_tx_abs, dem[r, c] + sweep.h_rx_m, two_kre)
            for k in range(n_cells):
                phi = 0.0 if omni[k] else az_deg - azimuth[k]
                g = gain_db_scalar(phi, th, omni[k], etilt[k], mtilt[k],
                                   h_bw, v_bw, a_m, sla_v)
                if level0[k] + g - loss >= best[layer_of[k], i, j]:
                    out[i, j] = 1
                    break
    return out, within.sum()


__all__ = ["MARGIN_DB", "effective_distance_max", "needed_pixels", "prunable_group",
           "variability_bonus_db"]
