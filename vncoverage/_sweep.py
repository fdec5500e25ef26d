"""Numba kernels of the per-cell path losses (private; see :mod:`vncoverage.coverage`).

Per-pixel profiles (the default since version 15): every pixel within the radius gets its
own straight profile from the site, bilinear elevations at most one pixel apart ending on
the pixel's own elevation, and the model over it (:func:`exact_window`,
:func:`straight_profile`, :func:`profile_loss`); the losses are kept to 0.01 dB
(:func:`quantize_window`) and read with each pixel's azimuth and depression angle
(:func:`profile_window`).

Radial sweep (before version 15, kept for the benchmark): from a site, ``n_radials``
radials of ``n_samples`` steps are cast; the terrain profile of each radial is read once
(bilinear interpolation of the DEM) and the path loss of every sample along it is computed
from the profile prefix. Pixels then take the loss of the nearest radial sample, corrected
for the exact pixel distance by the free-space term ``20 log10(d / d_sample)``, and the
antenna gain for their exact azimuth and depression angle.

Model codes follow :data:`vncoverage.propagation.MODELS` (0 fspl, 1 hata, 2 cost231,
3 p526/Bullington, 4 itm). Formulas and references are documented there and in
:mod:`vncoverage.itm`.

Flag bits per pixel (uint32): ``FLAG_NODATA`` (DEM nodata or outside the DEM along the
path: the pixel is unknown, never sea level), ``FLAG_DOMAIN`` (outside the model's distance
domain), and ITM's own warning flags shifted left by ``ITM_WARNING_SHIFT``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np
from numba import njit, prange

from ._itm_kernels import DELTA_H_SCRATCH, KERNEL, ItmParams, p2p_run, p2p_setup
from .antenna import gain_db_scalar
from .propagation import EARTH_RADIUS_M, NU_J_ZERO, knife_edge_j_db

FLAG_NODATA = np.uint32(1)
FLAG_DOMAIN = np.uint32(2)
#: ITM warning flags (NTIA's bit values) are stored shifted left by this many bits.
ITM_WARNING_SHIFT = 8
#: Flags that mean "computed, but under a model warning".
WARNING_FLAGS = np.uint32(0xFFFFFFFE)
#: Path losses are kept in hundredths of a dB (int16) once computed, in memory and in a
#: workspace cache alike, so that a cached sweep gives exactly the numbers of a fresh one.
LOSS_SCALE = np.float32(100.0)
LOSS_MISSING = np.int16(-32768)

_C = 299_792_458.0
_FSPL_CONST = 20.0 * math.log10(4.0 * math.pi * 1e9 / _C)

@njit(parallel=True, **KERNEL)
def _launch(n: int) -> int:
    total = 0
    for i in prange(n):
        total += i
    return total


def threading_layer() -> str:
    """The threading layer numba's parallel kernels run on (``"omp"``, ``"tbb"`` or
    ``"workqueue"``; chosen at the first launch, which this makes if none was made)."""
    try:
        return str(numba.threading_layer())
    except ValueError:  # no parallel kernel launched yet
        _launch(2)
        return str(numba.threading_layer())


class Sweep(NamedTuple):
    """One radial sweep, by name (numba passes it to the kernels as a tuple; they read its
    fields by name).

    The site stands at the fractional pixel ``(row0, col0)`` (integers are pixel centres)
    of a grid of ``pixel_m`` pixels; ``n_radials`` radials of ``n_samples`` samples
    ``step_m`` apart reach ``radius_m``. Antenna heights above ground ``h_tx_m`` and
    ``h_rx_m``, carrier ``f_mhz``, effective earth-radius factor ``k_factor``; the model is
    ``model_code`` (:data:`vncoverage.propagation.MODELS`: 0 fspl, 1 hata, 2 cost231,
    3 p526, 4 itm) with its distance domain ``d_min_m`` to ``d_max_m`` (samples outside are
    flagged :data:`FLAG_DOMAIN`).
    """

    row0: float
    col0: float
    pixel_m: float
    step_m: float
    n_radials: int
    n_samples: int
    radius_m: float
    h_tx_m: float
    h_rx_m: float
    f_mhz: float
    k_factor: float
    model_code: int
    d_min_m: float
    d_max_m: float


# Knife-edge J(nu) tabulated from the exact Fresnel form; linear interpolation error < 1e-4 dB.
_J_NU0 = NU_J_ZERO
_J_DNU = 0.001
_J_NU_MAX = 10.0
J_TABLE = knife_edge_j_db(np.arange(_J_NU0, _J_NU_MAX + _J_DNU, _J_DNU))


@njit(inline="always", **KERNEL)
def _j_db(nu: float, table: np.ndarray) -> float:
    if nu <= _J_NU0:
        return 0.0
    x = (nu - _J_NU0) / _J_DNU
    i = int(x)
    if i >= table.size - 1:
        # Asymptote J ~ 20 log10(pi nu sqrt(2)) (P.526-15 §4.1), < 0.01 dB off beyond nu = 5.
        return 20.0 * math.log10(math.pi * nu * math.sqrt(2.0))
    t = x - i
    return table[i] * (1.0 - t) + table[i + 1] * t


@njit(**KERNEL)
def _fspl(d_m: float, f_mhz: float) -> float:
    return _FSPL_CONST + 20.0 * math.log10(f_mhz) + 20.0 * math.log10(d_m / 1000.0)


@njit(**KERNEL)
def _hata_family(d_m: float, f_mhz: float, h_tx: float, h_rx: float, cost231: bool) -> float:
    lf = math.log10(f_mhz)
    lhb = math.log10(max(h_tx, 1.0))
    a_hm = (1.1 * lf - 0.7) * h_rx - (1.56 * lf - 0.8)
    slope = (44.9 - 6.55 * lhb) * math.log10(d_m / 1000.0)
    if cost231:
        return 46.3 + 33.9 * lf - 13.82 * lhb - a_hm + slope
    return 69.55 + 26.16 * lf - 13.82 * lhb - a_hm + slope


@njit(**KERNEL)
def bullington_prefix(
    z: np.ndarray, k: int, step_m: float, lam_m: float, ce: float, h_tx: float, h_rx: float,
    f_mhz: float, table: np.ndarray, tx_term: float,
) -> float:
    """Bullington loss (free space + diffraction) from sample 0 to sample ``k`` of ``z``.

    ``tx_term`` is ``max_j (z_j - h_ts - ce d_j^2 / 2) / d_j`` over ``j = 1..k-1``, kept as a
    running maximum by the caller: the steepest slope from the transmitter including the
    earth bulge is then ``tx_term + ce d / 2`` (the bulge ``ce d_j (d - d_j) / 2`` splits into a
    part independent of ``d`` and ``ce d d_j / 2``), so it costs O(1) per sample.
    """
    d = k * step_m
    free = _fspl(d, f_mhz)
    if k < 2:
        return free
    hts = z[0] + h_tx
    hrs = z[k] + h_rx
    s_tr = (hrs - hts) / d
    s_tim = tx_term + 0.5 * ce * d
    if s_tim < s_tr:
        nu = -1e30
        for j in range(1, k):
            di = j * step_m
            hi = z[j] + 0.5 * ce * di * (d - di)
            clearance = hi - (hts * (d - di) + hrs * di) / d
            v = clearance * math.sqrt(2.0 * d / (lam_m * di * (d - di)))
            if v > nu:
                nu = v
    else:
        s_rim = -1e30
        for j in range(1, k):
            di = j * step_m
            hi = z[j] + 0.5 * ce * di * (d - di)
            s = (hi - hrs) / (d - di)
            if s > s_rim:
                s_rim = s
        db = (hrs - hts + s_rim * d) / (s_tim + s_rim)
        db = min(max(db, 1e-3 * step_m), d - 1e-3 * step_m)
        nu = (hts + s_tim * db - (hts * (d - db) + hrs * db) / d) * math.sqrt(
            2.0 * d / (lam_m * db * (d - db))
        )
    luc = _j_db(nu, table)
    return free + luc + (1.0 - math.exp(-luc / 6.0)) * (10.0 + 0.02 * d / 1000.0)


@njit(**KERNEL)
def radial_counts(n_samples: int, n_radials: int, step_px: float) -> np.ndarray:
    """How many of the ``n_radials`` radials carry sample ``k``.

    Near the site the radials are much closer than a pixel, so the path loss of sample ``k``
    is only computed on ``m_k = ceil(2 pi k step)`` radials spread evenly around the site
    (an arc of ``2 pi k step`` pixels needs that many to keep neighbours at most one pixel
    apart; see :func:`radial_index`). Pixels read the nearest of them. Path-loss evaluations
    then number about the pixels of the disc instead of radials x samples, which matters for
    ITM.
    """
    out = np.empty(n_samples + 1, dtype=np.int64)
    for k in range(n_samples + 1):
        out[k] = min(n_radials, max(1, int(math.ceil(2.0 * math.pi * k * step_px))))
    return out


@njit(inline="always", **KERNEL)
def radial_index(j: int, m: int, n_radials: int) -> int:
    """The radial that carries the ``j``-th of the ``m`` evenly spread evaluations."""
    return int(round(j * n_radials / m)) % n_radials


@njit(**KERNEL)
def packed_offsets(counts: np.ndarray) -> np.ndarray:
    """Start of each sample's evaluations in the packed vectors of :func:`pack_losses`
    (``offsets[k]`` for k = 1..n; sample 0, the site, has none)."""
    n = counts.shape[0] - 1
    offsets = np.zeros(n + 2, dtype=np.int64)
    for k in range(1, n + 1):
        offsets[k + 1] = offsets[k] + counts[k]
    return offsets


@njit(inline="always", **KERNEL)
def _pixel_sample(dx: float, dy: float, step_m: float, n_samples: int, counts: np.ndarray,
                  offsets: np.ndarray) -> tuple[float, float, int, int]:
    """``(d_eff, az, k, p)`` of a pixel at (dx east, dy north) metres from the site: its
    distance (at least half a step), azimuth (radians clockwise from north), the sample it
    reads and that sample's packed position. :func:`path_window` and :func:`needed_samples` share
    it, so that exactly the samples read are computed."""
    d = math.sqrt(dx * dx + dy * dy)
    d_eff = max(d, 0.5 * step_m)
    az = math.atan2(dx, dy)
    if az < 0:
        az += 2.0 * math.pi
    k = int(round(d_eff / step_m))
    k = min(max(k, 1), n_samples)
    m = counts[k]
    return d_eff, az, k, offsets[k] + int(round(az / (2.0 * math.pi) * m)) % m


@njit(**KERNEL)
def needed_samples(sweep: Sweep, r_start: int, c_start: int, n_rows: int,
                   n_cols: int) -> np.ndarray:
    """1 for every packed sample (see :func:`pack_losses`) that some pixel of the window
    (``n_rows`` x ``n_cols`` from the grid pixel ``(r_start, c_start)``) within the radius
    reads in :func:`path_window`, 0 for the others (about 10 %), which
    :func:`radial_losses` then does not compute."""
    row0, col0, pixel_m, step_m = sweep.row0, sweep.col0, sweep.pixel_m, sweep.step_m
    n_radials, n_samples, radius_m = sweep.n_radials, sweep.n_samples, sweep.radius_m
    counts = radial_counts(n_samples, n_radials, step_m / pixel_m)
    offsets = packed_offsets(counts)
    out = np.zeros(offsets[n_samples + 1], dtype=np.uint8)
    for i in range(n_rows):
        for j in range(n_cols):
            dy = (row0 - (r_start + i)) * pixel_m
            dx = ((c_start + j) - col0) * pixel_m
            if math.sqrt(dx * dx + dy * dy) > radius_m:
                continue
            out[_pixel_sample(dx, dy, step_m, n_samples, counts, offsets)[3]] = 1
    return out


@njit(inline="always", **KERNEL)
def bilinear(dem: np.ndarray, nodata: float, r: float, c: float) -> float:
    """Bilinear DEM value at fractional (row, col) of pixel centres; NaN if any of the four
    neighbours is nodata or outside the array."""
    nr, nc = dem.shape
    r0 = int(math.floor(r))
    c0 = int(math.floor(c))
    if r0 < 0 or c0 < 0 or r0 + 1 >= nr or c0 + 1 >= nc:
        if 0 <= r0 < nr and 0 <= c0 < nc and r == r0 and c == c0:
            v = dem[r0, c0]
            return np.nan if v == nodata or math.isnan(v) else v
        return np.nan
    tr = r - r0
    tc = c - c0
    a = dem[r0, c0]
    b = dem[r0, c0 + 1]
    cc = dem[r0 + 1, c0]
    dd = dem[r0 + 1, c0 + 1]
    if a == nodata or b == nodata or cc == nodata or dd == nodata:
        return np.nan
    return (a * (1 - tc) + b * tc) * (1 - tr) + (cc * (1 - tc) + dd * tc) * tr


# C901: the sweep's parallel loop and its model dispatch, kept whole so that the compiled
# (fastmath) arithmetic, and the sweeps cached by existing workspaces, stay bit-identical
@njit(parallel=True, **KERNEL)
def radial_losses(  # noqa: C901
    dem: np.ndarray,
    nodata: float,
    sweep: Sweep,
    itm_params: ItmParams,
    table: np.ndarray,
    needed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Path loss (dB) and flags along every radial of ``sweep``; index 0 of each radial is
    the site.

    Sample ``k`` is only computed on the radials selected by :func:`radial_counts` and
    :func:`radial_index` (the others stay NaN and are never read by :func:`path_window`).

    ``itm_params`` is used by ITM (model 4) only; ``table`` is :data:`J_TABLE` (model 3).
    ``needed`` (from :func:`needed_samples`, in packed order) marks the samples some pixel
    reads; the others are not computed. An empty array computes them all.

    Returns
    -------
    loss : float32[n_radials, n_samples + 1]
        NaN where the path crosses DEM nodata or leaves the DEM.
    flags : uint16[n_radials, n_samples + 1]
    """
    row0, col0, pixel_m, step_m = sweep.row0, sweep.col0, sweep.pixel_m, sweep.step_m
    n_radials, n_samples = sweep.n_radials, sweep.n_samples
    h_tx_m, h_rx_m, f_mhz, k_factor = sweep.h_tx_m, sweep.h_rx_m, sweep.f_mhz, sweep.k_factor
    model_code, d_min_m, d_max_m = sweep.model_code, sweep.d_min_m, sweep.d_max_m
    climate, n0, pol = itm_params.climate, itm_params.n0, itm_params.polarization
    epsilon, sigma, mdvar = itm_params.epsilon, itm_params.sigma, itm_params.mdvar
    time_pct, location_pct = itm_params.time_pct, itm_params.location_pct
    situation_pct = itm_params.situation_pct
    loss = np.full((n_radials, n_samples + 1), np.nan, dtype=np.float32)
    flags = np.zeros((n_radials, n_samples + 1), dtype=np.uint32)
    lam = _C / (f_mhz * 1e6)
    ce = 1.0 / (k_factor * EARTH_RADIUS_M)
    step_px = step_m / pixel_m
    counts = radial_counts(n_samples, n_radials, step_px)
    offsets = packed_offsets(counts)
    use_mask = needed.shape[0] > 0
    for ir in prange(n_radials):
        az = 2.0 * math.pi * ir / n_radials
        dr = -math.cos(az) * step_px
        dc = math.sin(az) * step_px
        z = np.empty(n_samples + 1, dtype=np.float64)
        scratch = np.empty(DELTA_H_SCRATCH)
        # profile-independent ITM set-up (validation, ground impedance, variability), once
        # per radial (a tuple cannot be shared into the parallel loop)
        itm = p2p_setup(h_tx_m, h_rx_m, climate, n0, f_mhz, pol, epsilon, sigma, mdvar,
                        time_pct, location_pct, situation_pct)
        bad = False
        tx_term = -1e30
        for k in range(n_samples + 1):
            v = bilinear(dem, nodata, row0 + k * dr, col0 + k * dc)
            z[k] = v
            if math.isnan(v):
                bad = True
            if bad:
                flags[ir, k] |= FLAG_NODATA
                continue
            if k == 0:
                continue
            d = k * step_m
            m = counts[k]
            jsel = int(round(ir * m / n_radials))
            if radial_index(jsel, m, n_radials) != ir or (
                    use_mask and needed[offsets[k] + jsel] == 0):
                # not read by any pixel; only the running maximum below is needed
                t = (z[k] - z[0] - h_tx_m - 0.5 * ce * d * d) / d
                if t > tx_term:
                    tx_term = t
                continue
            if d < d_min_m or d > d_max_m:
                flags[ir, k] |= FLAG_DOMAIN
            if model_code == 0:
                val = _fspl(d, f_mhz)
            elif model_code == 1:
                val = _hata_family(d, f_mhz, h_tx_m, h_rx_m, False)
            elif model_code == 2:
                val = _hata_family(d, f_mhz, h_tx_m, h_rx_m, True)
            elif model_code == 4:
                res = p2p_run(z[: k + 1], step_m, itm, scratch)
                val = res[0]
                warn = res[1]
                err = res[3]
                if err != 0:
                    val = np.nan
                    flags[ir, k] |= FLAG_NODATA
                flags[ir, k] |= np.uint32(warn) << ITM_WARNING_SHIFT
            else:
                val = bullington_prefix(z, k, step_m, lam, ce, h_tx_m, h_rx_m, f_mhz, table,
                                        tx_term)
            loss[ir, k] = val
            t = (z[k] - z[0] - h_tx_m - 0.5 * ce * d * d) / d
            if t > tx_term:
                tx_term = t
    return loss, flags


@njit(inline="always", **KERNEL)
def depression_deg(z_tx_abs: float, z_rx_abs: float, d_m: float, two_kre: float) -> float:
    """Angle below the horizontal at which an antenna at ``z_tx_abs`` m sees a receiver at
    ``z_rx_abs`` m, ``d_m`` away, over an earth of effective radius ``two_kre`` / 2 (the
    receiver drops by d² / 2kR_e), degrees."""
    drop = z_tx_abs - z_rx_abs + d_m * d_m / two_kre
    return math.degrees(math.atan2(drop, d_m))


@njit(inline="always", **KERNEL)
def site_offset(sweep: Sweep, r: int, c: int) -> tuple[float, float, float]:
    """``(dx, dy, d)``: metres east and north from the site of ``sweep`` to the centre of
    grid pixel ``(r, c)``, and the distance. The per-pixel kernels' radius test and path
    length and the prune bound's (:func:`vncoverage._prune.needed_pixels`) all take it from
    here, so that they agree on every pixel."""
    dy = (sweep.row0 - r) * sweep.pixel_m
    dx = (c - sweep.col0) * sweep.pixel_m
    return dx, dy, math.sqrt(dx * dx + dy * dy)


@njit(inline="always", **KERNEL)
def pixel_angles(dx: float, dy: float, d_eff: float, z_tx_abs: float, z_rx_abs: float,
                 two_kre: float) -> tuple[np.float32, np.float32]:
    """A pixel's azimuth from the site (degrees clockwise from north) and depression angle
    (:func:`depression_deg`), rounded to float32 as :func:`profile_window` keeps them: the
    angles the antenna gain is computed at, by :func:`apply_antenna` and by the prune
    bound alike."""
    az = math.atan2(dx, dy)
    if az < 0:
        az += 2.0 * math.pi
    return (np.float32(math.degrees(az)),
            np.float32(depression_deg(z_tx_abs, z_rx_abs, d_eff, two_kre)))


@njit(parallel=True, **KERNEL)
def path_window(
    q: np.ndarray,
    qflags: np.ndarray,
    sweep: Sweep,
    dem: np.ndarray,
    nodata: float,
    r_start: int,
    c_start: int,
    n_rows: int,
    n_cols: int,
    z_tx_abs: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Path loss, azimuth and depression angle of every pixel of a window (``n_rows`` x
    ``n_cols`` from the grid pixel ``(r_start, c_start)``) around the site of ``sweep``,
    whose antenna stands at ``z_tx_abs`` m above sea level.

    Shared by every cell of a sweep group (same site, height, frequency, radius); only the
    antenna differs between them (:func:`apply_antenna`). The path losses are read from the
    packed vectors of :func:`pack_losses` (``q`` in 0.01 dB, ``qflags``).

    Returns
    -------
    loss_db : float32 window, ``+inf`` outside the radius, NaN where unknown (DEM nodata at
        the pixel or along its path, or outside the DEM)
    az_deg : azimuth from the site, degrees clockwise from north
    theta_deg : depression angle of the pixel (receiver height above its ground) seen from
        the antenna, with earth curvature, degrees (positive below the horizontal)
    flags : uint16 path flags
    """
    row0, col0, pixel_m, step_m = sweep.row0, sweep.col0, sweep.pixel_m, sweep.step_m
    n_radials, n_samples, radius_m = sweep.n_radials, sweep.n_samples, sweep.radius_m
    h_rx_m, k_factor = sweep.h_rx_m, sweep.k_factor
    pl = np.full((n_rows, n_cols), np.inf, dtype=np.float32)
    az_out = np.zeros((n_rows, n_cols), dtype=np.float32)
    th_out = np.zeros((n_rows, n_cols), dtype=np.float32)
    flags = np.zeros((n_rows, n_cols), dtype=np.uint32)
    counts = radial_counts(n_samples, n_radials, step_m / pixel_m)
    offsets = packed_offsets(counts)
    two_kre = 2.0 * k_factor * EARTH_RADIUS_M
    for i in prange(n_rows):
        r = r_start + i
        for j in range(n_cols):
            c = c_start + j
            dy = (row0 - r) * pixel_m  # north positive
            dx = (c - col0) * pixel_m
            d = math.sqrt(dx * dx + dy * dy)
            if d > radius_m:
                continue
            if r < 0 or c < 0 or r >= dem.shape[0] or c >= dem.shape[1]:
                pl[i, j] = np.nan
                flags[i, j] = FLAG_NODATA
                continue
            zr = dem[r, c]
            if zr == nodata or math.isnan(zr):
                pl[i, j] = np.nan
                flags[i, j] = FLAG_NODATA
                continue
            d_eff, az, k, p = _pixel_sample(dx, dy, step_m, n_samples, counts, offsets)
            flags[i, j] = qflags[p]
            if q[p] == LOSS_MISSING:
                pl[i, j] = np.nan
                flags[i, j] |= FLAG_NODATA
                continue
            lv = np.float32(q[p]) / LOSS_SCALE
            pl[i, j] = lv + 20.0 * math.log10(d_eff / (k * step_m))
            th_out[i, j] = depression_deg(z_tx_abs, zr + h_rx_m, d_eff, two_kre)
            az_out[i, j] = math.degrees(az)
    return pl, az_out, th_out, flags


@njit(parallel=True, **KERNEL)
def apply_antenna(
    loss_db: np.ndarray,
    az_deg: np.ndarray,
    theta_deg: np.ndarray,
    level0_dbm: float,
    omni: bool,
    azimuth_deg: float,
    etilt_deg: float,
    mtilt_deg: float,
    h_bw: float,
    v_bw: float,
    a_m: float,
    sla_v: float,
) -> np.ndarray:
    """Received level (dBm) of one cell from a :func:`path_window`: ``level0_dbm`` (EIRP
    plus the per-RE offset) + antenna gain - path loss; ``-inf`` outside the radius, NaN
    where unknown."""
    n_rows, n_cols = loss_db.shape
    out = np.empty((n_rows, n_cols), dtype=np.float32)
    for i in prange(n_rows):
        for j in range(n_cols):
            lv = loss_db[i, j]
            if math.isnan(lv):
                out[i, j] = np.nan
            elif math.isinf(lv):
                out[i, j] = -np.inf
            else:
                phi = 0.0 if omni else az_deg[i, j] - azimuth_deg
                g = gain_db_scalar(phi, theta_deg[i, j], omni, etilt_deg, mtilt_deg, h_bw,
                                   v_bw, a_m, sla_v)
                out[i, j] = level0_dbm + g - lv
    return out


@njit(parallel=True, **KERNEL)
def fold_window(
    best: np.ndarray,
    server: np.ndarray,
    unknown: np.ndarray,
    flags: np.ndarray,
    window: np.ndarray,
    wflags: np.ndarray,
    r_start: int,
    c_start: int,
    cell_index: int,
) -> None:
    """Fold one cell's window into a layer: per-pixel maximum with the lowest cell index
    winning ties (so the result does not depend on the fold order); NaN pixels count as
    unknown. The pixel keeps the flags of its best server's path. Windows are clipped to
    the layer."""
    nr, nc = best.shape
    wr, wc = window.shape
    for i in prange(wr):  # rows are independent
        r = r_start + i
        if r < 0 or r >= nr:
            continue
        for j in range(wc):
            c = c_start + j
            if c < 0 or c >= nc:
                continue
            v = window[i, j]
            if math.isnan(v):
                unknown[r, c] += 1
                continue
            if v == -np.inf:
                continue
            b = best[r, c]
            if v > b or (v == b and (server[r, c] < 0 or cell_index < server[r, c])):
                best[r, c] = v
                server[r, c] = cell_index
                flags[r, c] = wflags[i, j]



@njit(**KERNEL)
def pack_losses(loss: np.ndarray, flags: np.ndarray,
                step_px: float) -> tuple[np.ndarray, np.ndarray]:
    """The evaluated samples of a :func:`radial_losses` result as two flat vectors.

    Sample ``k`` (1..n) of the ``m_k`` radials chosen by :func:`radial_counts` and
    :func:`radial_index`, in that order: ``(loss in 0.01 dB as int16, LOSS_MISSING where
    unknown; flags)``. These are exactly the entries :func:`path_window` reads.
    """
    n_radials, n1 = loss.shape
    n_samples = n1 - 1
    counts = radial_counts(n_samples, n_radials, step_px)
    total = 0
    for k in range(1, n1):
        total += counts[k]
    q = np.empty(total, dtype=np.int16)
    fl = np.empty(total, dtype=np.uint32)
    p = 0
    for k in range(1, n1):
        m = counts[k]
        for j in range(m):
            ir = radial_index(j, m, n_radials)
            v = loss[ir, k]
            if math.isnan(v):
                q[p] = LOSS_MISSING
            else:
                q[p] = np.int16(min(max(round(v * 100.0), -32767.0), 32767.0))
            fl[p] = flags[ir, k]
            p += 1
    return q, fl


@njit(inline="always", **KERNEL)
def _tx_term(z: np.ndarray, k: int, step_m: float, h_tx_m: float, ce: float) -> float:
    """The running maximum :func:`bullington_prefix` needs, computed over ``j = 1..k-1``."""
    out = -1e30
    for j in range(1, k):
        dj = j * step_m
        t = (z[j] - z[0] - h_tx_m - 0.5 * ce * dj * dj) / dj
        if t > out:
            out = t
    return out


@njit(**KERNEL)
def profile_loss(z: np.ndarray, step_m: float, sweep: Sweep, itm: tuple,
                 scratch: np.ndarray, table: np.ndarray,
                 h_rx_m: float) -> tuple[float, np.uint32]:
    """Path loss (dB) and flags of the model of ``sweep`` over one profile ``z`` (site first,
    receiver last, ``step_m`` apart) to a receiver ``h_rx_m`` above the ground (``itm``: a
    :func:`p2p_setup` of that height): the same model calls as :func:`radial_losses`."""
    k = z.shape[0] - 1
    d = k * step_m
    fl = np.uint32(0)
    if d < sweep.d_min_m or d > sweep.d_max_m:
        fl |= FLAG_DOMAIN
    code = sweep.model_code
    if code == 0:
        return _fspl(d, sweep.f_mhz), fl
    if code == 1 or code == 2:
        return _hata_family(d, sweep.f_mhz, sweep.h_tx_m, h_rx_m, code == 2), fl
    if code == 4:
        res = p2p_run(z, step_m, itm, scratch)
        fl |= np.uint32(res[1]) << ITM_WARNING_SHIFT
        if res[3] != 0:
            return np.nan, fl | FLAG_NODATA
        return res[0], fl
    ce = 1.0 / (sweep.k_factor * EARTH_RADIUS_M)
    lam = _C / (sweep.f_mhz * 1e6)
    return bullington_prefix(z, k, step_m, lam, ce, sweep.h_tx_m, h_rx_m, sweep.f_mhz,
                             table, _tx_term(z, k, step_m, sweep.h_tx_m, ce)), fl


@njit(inline="always", **KERNEL)
def straight_profile(dem: np.ndarray, nodata: float, row0: float, col0: float, r: int, c: int,
                     m: int, z: np.ndarray) -> bool:
    """Fill ``z[:m + 1]`` with the bilinear elevations (:func:`bilinear`) of ``m`` equal
    steps on the straight line from the fractional pixel ``(row0, col0)`` to the centre of
    pixel ``(r, c)``, whose own elevation ends it; False when any of them is unknown."""
    dr = (r - row0) / m
    dc = (c - col0) / m
    nr, nc = dem.shape
    if (math.isnan(nodata) and 0.0 <= row0 < nr - 1 and 0.0 <= col0 < nc - 1
            and 0 <= r < nr - 1 and 0 <= c < nc - 1):
        # the segment lies inside the grid (a convex set): no bounds to check, and nodata
        # (NaN) propagates through the sum; the same arithmetic as bilinear()
        total = 0.0
        for i in range(m):
            rr = row0 + i * dr
            cc = col0 + i * dc
            ri = int(rr)
            ci = int(cc)
            tr = rr - ri
            tc = cc - ci
            v = ((dem[ri, ci] * (1 - tc) + dem[ri, ci + 1] * tc) * (1 - tr)
                 + (dem[ri + 1, ci] * (1 - tc) + dem[ri + 1, ci + 1] * tc) * tr)
            z[i] = v
            total += v
        if math.isnan(total):
            return False
    else:
        for i in range(m):
            v = bilinear(dem, nodata, row0 + i * dr, col0 + i * dc)
            if math.isnan(v):
                return False
            z[i] = v
    v = dem[r, c]
    if v == nodata or math.isnan(v):
        return False
    z[m] = v
    return True


@njit(parallel=True, **KERNEL)
def exact_window(dem: np.ndarray, nodata: float, sweep: Sweep, itm_params: ItmParams,
                 table: np.ndarray, r_start: int, c_start: int, n_rows: int, n_cols: int,
                 mask: np.ndarray, rx_heights: np.ndarray,
                 extra_steps: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Path loss of every pixel of a window from its own straight profile (the exact
    per-pixel reference of the sweep).

    ``rx_heights`` (float32, the DEM's shape; an empty array: ``sweep.h_rx_m`` everywhere)
    is the receiver height of each pixel's path: with clutter, the representative clutter
    height where it is above the handset (ITU-R P.2108-1 §3.1 corrects a loss computed to
    that height; :class:`vncoverage.clutter.ClutterGrid`).

    Each pixel within the radius of ``sweep`` gets the profile from the site to its centre
    in ``m = ceil(d / pixel)`` equal steps (at most one pixel each), with bilinear
    elevations (:func:`straight_profile`), and the model over it (:func:`profile_loss`).
    ``mask`` (uint8, window shape) selects the pixels computed; an empty array computes
    all. ``extra_steps`` (0 for the exact computation) adds that many steps to every
    profile: the same paths sampled otherwise, for the discretisation reference of the
    benchmark and the accuracy test. Returns ``(loss_db, flags)`` as :func:`path_window`:
    ``+inf`` outside the radius and for unselected pixels, NaN where unknown.
    """
    row0, col0, pixel_m = sweep.row0, sweep.col0, sweep.pixel_m
    pl = np.full((n_rows, n_cols), np.inf, dtype=np.float32)
    flags = np.zeros((n_rows, n_cols), dtype=np.uint32)
    use_mask = mask.shape[0] > 0
    use_rx = rx_heights.shape[0] > 0
    m_max = int(math.ceil(sweep.radius_m / pixel_m)) + 2 + extra_steps
    p = itm_params
    for i in prange(n_rows):
        itm0 = p2p_setup(sweep.h_tx_m, sweep.h_rx_m, p.climate, p.n0, sweep.f_mhz,
                         p.polarization, p.epsilon, p.sigma, p.mdvar, p.time_pct,
                         p.location_pct, p.situation_pct)
        itm = itm0
        h_last = sweep.h_rx_m
        z = np.empty(m_max + 1)
        scratch = np.empty(DELTA_H_SCRATCH)
        r = r_start + i
        for j in range(n_cols):
            if use_mask and mask[i, j] == 0:
                continue
            c = c_start + j
            d = site_offset(sweep, r, c)[2]
            if d > sweep.radius_m:
                continue
            d = max(d, 0.5 * pixel_m)
            m = max(int(math.ceil(d / pixel_m)), 1) + extra_steps
            if (r < 0 or c < 0 or r >= dem.shape[0] or c >= dem.shape[1]
                    or not straight_profile(dem, nodata, row0, col0, r, c, m, z)):
                pl[i, j] = np.nan
                flags[i, j] = FLAG_NODATA
                continue
            hr = sweep.h_rx_m
            if use_rx:
                hr = max(float(rx_heights[r, c]), sweep.h_rx_m)
            if hr != h_last:  # the setup holds the receiver height; the rest is the same
                itm = (itm0[0], itm0[1], itm0[2], itm0[3], itm0[4], itm0[5], hr, itm0[7])
                h_last = hr
            val, fl = profile_loss(z[: m + 1], d / m, sweep, itm, scratch, table, hr)
            pl[i, j] = val
            flags[i, j] = fl
    return pl, flags


#: Quantised loss of a pixel outside the radius in a :func:`quantize_window` result.
LOSS_OUTSIDE = np.int16(32767)
#: Quantised loss of a pixel whose path was not computed yet (within the radius or not: a
#: window computed on some pixels only and kept in a sweep cache, see
#: :func:`vncoverage.coverage.group_window`).
LOSS_PRUNED = np.int16(32766)


@njit(parallel=True, **KERNEL)
def merge_layer(
    best: np.ndarray,
    server: np.ndarray,
    unknown: np.ndarray,
    flags: np.ndarray,
    o_best: np.ndarray,
    o_server: np.ndarray,
    o_unknown: np.ndarray,
    o_flags: np.ndarray,
) -> None:
    """Fold a whole layer into another of the same grid, as :func:`fold_window` would have
    folded each of its cells' windows: per pixel the higher level, the lower server index on
    ties (a pixel no cell reached, server -1, never wins), its flags; the unknown counts
    add up. Folding every operator's layer into an empty one gives the layer of all their
    cells (``"any"``)."""
    nr, nc = best.shape
    for r in prange(nr):
        for c in range(nc):
            unknown[r, c] += o_unknown[r, c]
            s = o_server[r, c]
            if s < 0:
                continue
            v = o_best[r, c]
            b = best[r, c]
            if v > b or (v == b and (server[r, c] < 0 or s < server[r, c])):
                best[r, c] = v
                server[r, c] = s
                flags[r, c] = o_flags[r, c]


@njit(**KERNEL)
def quantize_window(loss: np.ndarray) -> np.ndarray:
    """An :func:`exact_window` loss window in 0.01 dB (int16, at most 327.65 dB):
    :data:`LOSS_MISSING` where unknown (NaN), :data:`LOSS_OUTSIDE` outside the radius or
    not computed (``+inf``)."""
    n_rows, n_cols = loss.shape
    q = np.empty((n_rows, n_cols), dtype=np.int16)
    for i in range(n_rows):
        for j in range(n_cols):
            v = loss[i, j]
            if math.isnan(v):
                q[i, j] = LOSS_MISSING
            elif math.isinf(v):
                q[i, j] = LOSS_OUTSIDE
            else:
                q[i, j] = np.int16(min(max(round(v * 100.0), -32767.0), 32765.0))
    return q


@njit(parallel=True, **KERNEL)
def profile_window(
    q: np.ndarray,
    qflags: np.ndarray,
    q_row: int,
    q_col: int,
    sweep: Sweep,
    dem: np.ndarray,
    nodata: float,
    r_start: int,
    c_start: int,
    n_rows: int,
    n_cols: int,
    z_tx_abs: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`path_window` from per-pixel losses: the quantised window ``q`` (from
    :func:`quantize_window`, top-left grid pixel ``(q_row, q_col)``) with its flags, read on
    the window ``n_rows`` x ``n_cols`` from ``(r_start, c_start)`` (inside ``q``'s), plus
    each pixel's azimuth and depression angle as :func:`path_window` gives them."""
    step_m = sweep.step_m
    h_rx_m, k_factor = sweep.h_rx_m, sweep.k_factor
    pl = np.full((n_rows, n_cols), np.inf, dtype=np.float32)
    az_out = np.zeros((n_rows, n_cols), dtype=np.float32)
    th_out = np.zeros((n_rows, n_cols), dtype=np.float32)
    flags = np.zeros((n_rows, n_cols), dtype=np.uint32)
    two_kre = 2.0 * k_factor * EARTH_RADIUS_M
    for i in prange(n_rows):
        r = r_start + i
        for j in range(n_cols):
            c = c_start + j
            v = q[r - q_row, c - q_col]
            if v == LOSS_OUTSIDE or v == LOSS_PRUNED:  # noqa: SIM109 (numba scalars)
                continue
            flags[i, j] = qflags[r - q_row, c - q_col]
            if v == LOSS_MISSING:
                pl[i, j] = np.nan
                continue
            pl[i, j] = np.float32(v) / LOSS_SCALE
            dx, dy, d = site_offset(sweep, r, c)
            az_out[i, j], th_out[i, j] = pixel_angles(dx, dy, max(d, 0.5 * step_m), z_tx_abs,
                                                      dem[r, c] + h_rx_m, two_kre)
    return pl, az_out, th_out, flags
