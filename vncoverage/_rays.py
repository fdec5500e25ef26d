"""Ray-prefix ITM kernel (private; see :func:`vncoverage.coverage.group_window`, ``method="ray"``).

Per-pixel profiles (:func:`vncoverage._sweep.exact_window`) recompute every prefix quantity
of ITM's path geometry for every pixel: the profile, both horizons, the least-squares
fits, the mean path elevation and the terrain irregularity, O(d / pixel) work per pixel.
At 30 m that is about 4.1 µs of the 4.7 µs a pixel costs. Here the pixels of a sweep group
are grouped by azimuth on ``n_rays`` rays from the site, and each ray's terrain is read
once, one pixel apart; along a ray the prefix quantities are kept incrementally:

* the transmitter horizon: a running maximum of the elevation angle [TN101 6.15];
* the receiver horizon: ITM's receiver-horizon angle to profile point ``i`` equals
  ``(w_i - W) / (d - x_i) - d gamma`` with ``w_i = z_i - gamma x_i^2 / 2`` and ``W = z_rx -
  gamma d^2 / 2``, so the point that maximises it is the tangent from ``(d, W)`` to the
  upper convex hull of the points ``(x_i, w_i)`` (binary search on a hull built once along
  the ray, Andrew's monotone chain);
* the least-squares lines of the effective heights [Algorithm 43, zlsq1: trapezoidal
  weights]: from prefix sums of the weighted moments;
* the mean path elevation (surface refractivity): from prefix sums;
* the terrain irregularity Δh (ITM's interdecile range on up to 245 resampled points, the
  one quantity that is not a prefix sum): computed exactly at anchor distances (every
  sample up to :data:`DH_DENSE`, then every 10 %) on Δh rays (one ray in
  :data:`DH_EVERY`; at each anchor's distance only enough of them to stay
  :data:`DH_SPACING_PX` apart), and interpolated linearly in distance for a pixel from
  the nearest Δh rays carrying the two anchors around it.

Each pixel's own path ends on its own elevation at its exact distance, and its last
:data:`TAIL` interior points are read on its own straight line, where the pixel's own
profile has them (the receiver's foreground: ITM's receiver horizon and effective height
depend on it most; reading it on the ray too gave a p95 of 2.7 dB instead of 0.9 dB). Only
the terrain before them is read on the nearest ray instead of the pixel's own line (at
most half a ray spacing aside: a quarter of a pixel at the radius with the default two
rays per pixel of circumference). The prediction itself (reference attenuation, free
space, variability) is ITM's, unchanged (:func:`_itm_kernels._predict`). The accuracy
against the exact per-pixel profiles is measured by ``scripts/bench_propagation.py
--accuracy-only`` (with a row for ITM's own discretisation: the exact profile with one
step more), ``scripts/bench_30m.py --accuracy-groups`` and ``tests/test_sweep_accuracy.py``.

A pixel's value does not depend on which other pixels are computed (a ray's samples, hull
and sums are the same whoever asks, and Δh comes from fixed anchors), so a subset
(``mask``) gives the values the whole window gives.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._itm_kernels import (
    DELTA_H_SCRATCH,
    KERNEL,
    MODE_P2P,
    SUCCESS,
    ItmParams,
    VariabilitySetup,
    _predict,
    area_horizons,
    compute_delta_h_into,
    effective_earth,
    find_horizons,
    p2p_setup,
)
from ._sweep import FLAG_DOMAIN, FLAG_NODATA, ITM_WARNING_SHIFT, Sweep, bilinear, site_offset

#: Rays per pixel of circumference at the radius (the lateral offset of a pixel's path
#: from its ray is at most half a ray spacing: a quarter of a pixel at the radius).
RAYS_PER_PIXEL = 2
#: One ray in this many carries Δh anchors (about one pixel apart at the radius).
DH_EVERY = 2
#: Δh rays carrying an anchor are at most this many pixels apart at its distance (near
#: the site one Δh ray in a power of two carries it: :func:`anchor_strides`).
DH_SPACING_PX = 1.0
#: Anchors of Δh along a ray: every sample up to this index, then every ``DH_GROWTH``.
DH_DENSE = 12
DH_GROWTH = 1.1
#: Receiver height of the Δh anchors (ITM leaves ``min(15 h_rx, 0.1 d_hzn)`` out of Δh's
#: span at the receiver end: 22.5 m for a handset).
ANCHOR_RX_M = 1.5
#: The last interior points of a pixel's path read on its own line (the receiver's
#: foreground, which ITM's receiver horizon and effective height are most sensitive to).
TAIL = 8


def n_rays_for(radius_m: float, pixel_m: float, rays_per_pixel: int = RAYS_PER_PIXEL) -> int:
    """Number of rays of a group: ``rays_per_pixel`` per pixel of circumference at the
    radius, a multiple of :data:`DH_EVERY` with at least 360 Δh rays (one a degree: at a
    small radius Δh still comes from a ray near the pixel's own line)."""
    n = max(360 * DH_EVERY, int(math.ceil(rays_per_pixel * 2.0 * math.pi * radius_m / pixel_m)))
    return int(math.ceil(n / DH_EVERY) * DH_EVERY)


@njit(**KERNEL)
def anchor_samples(n_samples: int) -> np.ndarray:
    """Sample indices (ray distance ``k * step``) where Δh is computed: 1..DH_DENSE, then
    growing by DH_GROWTH, and always the last sample."""
    out = np.empty(n_samples + 2, dtype=np.int64)
    n = 0
    k = 1
    while k <= n_samples:
        out[n] = k
        n += 1
        if k < DH_DENSE:
            k += 1
        else:
            k = max(k + 1, int(k * DH_GROWTH))
    if n == 0 or out[n - 1] != n_samples:
        out[n] = n_samples
        n += 1
    return out[:n]


@njit(inline="always", **KERNEL)
def _ray_point(row0: float, col0: float, sin_a: float, cos_a: float, k: int) -> tuple[float, float]:
    return row0 - k * cos_a, col0 + k * sin_a


@njit(**KERNEL)
def _read_ray(dem: np.ndarray, row0: float, col0: float, az: float, n: int,
              z: np.ndarray) -> int:
    """Bilinear elevations of samples ``0..n`` one pixel apart along azimuth ``az`` into
    ``z``; returns the first unknown sample (``n + 1`` when all are known)."""
    sa = math.sin(az)
    ca = math.cos(az)
    for k in range(n + 1):
        r, c = _ray_point(row0, col0, sa, ca, k)
        v = bilinear(dem, math.nan, r, c)
        if math.isnan(v):
            return k
        z[k] = v
    return n + 1


@njit(**KERNEL)
def anchor_strides(anchors: np.ndarray, n_dh: int) -> np.ndarray:
    """Per anchor, the stride of the Δh rays that carry it: the largest power of two
    keeping them at most :data:`DH_SPACING_PX` pixels apart at its distance (near the site
    the rays are far denser than the pixels; one ray in ``stride`` is enough there)."""
    out = np.ones(anchors.size, dtype=np.int64)
    for a in range(anchors.size):
        room = n_dh * DH_SPACING_PX / (2.0 * math.pi * max(anchors[a], 1))
        s = 1
        while 2 * s <= room and 2 * s <= n_dh:
            s *= 2
        out[a] = s
    return out


@njit(inline="always", **KERNEL)
def _anchor_ray(qd: int, stride: int, n_dh: int) -> int:
    """The Δh ray nearest Δh ray ``qd`` among those one in ``stride`` (wrapping round)."""
    return (int(round(qd / stride)) * stride) % n_dh


@njit(parallel=True, **KERNEL)
def delta_h_anchors(dem: np.ndarray, sweep: Sweep, n_rays: int, need: np.ndarray,
                    anchors: np.ndarray, a_e_m: float) -> np.ndarray:
    """Δh (ITM's :func:`compute_delta_h_into` on the ray's own uniform profile, with the
    start and end distances of quick_pfl from the ray's horizons, for a receiver
    :data:`ANCHOR_RX_M` above the ground whatever the pixels' own receiver height: the
    anchors are shared by every receiver height, so a pixel's path to a clutter top
    computes as a run at that receiver height does) at anchor ``a`` of Δh ray ``q`` (ray
    ``q * DH_EVERY``) where ``need[q, a]``; NaN elsewhere and where the ray is unknown."""
    n_dh = n_rays // DH_EVERY
    out = np.full((n_dh, anchors.size), np.nan)
    step = sweep.pixel_m
    for q in prange(n_dh):
        last = -1
        for a in range(anchors.size):
            if need[q, a]:
                last = a
        if last < 0:
            continue
        n_s = anchors[last]
        z = np.empty(n_s + 1)
        scratch = np.empty(DELTA_H_SCRATCH)
        az = 2.0 * math.pi * (q * DH_EVERY) / n_rays
        first_bad = _read_ray(dem, sweep.row0, sweep.col0, az, n_s, z)
        for a in range(last + 1):
            k = anchors[a]
            if k >= first_bad:
                break
            if not need[q, a]:
                continue
            prof = z[: k + 1]
            d = k * step
            _th0, _th1, dh0, dh1 = find_horizons(prof, step, a_e_m, sweep.h_tx_m, ANCHOR_RX_M)
            d_start = min(15.0 * sweep.h_tx_m, 0.1 * dh0)
            d_end = d - min(15.0 * ANCHOR_RX_M, 0.1 * dh1)
            out[q, a] = compute_delta_h_into(prof, step, d_start, d_end, scratch)
    return out


@njit(inline="always", **KERNEL)
def _fit(sums: np.ndarray, zr: np.ndarray, px: float, kk: int, tx: np.ndarray,
         tz: np.ndarray, nt: int, x_lo: float, x_hi: float,
         d: float) -> tuple[float, float, int]:
    """Trapezoid-weighted least-squares line [Algorithm 43, zlsq1: the end points of the
    span weigh one half] through the points of the path between the distances ``x_lo``
    and ``x_hi``: ray samples ``0..kk`` (``x = i * px``, from the prefix sums ``sums``)
    then the tail points ``tx[:nt]`` (the last one the receiver). Returns the line at 0
    and at ``d``, and the number of points used (< 2: no line)."""
    eps = 1e-6 * px
    a = max(int(math.ceil((x_lo - eps) / px)), 0)
    b = min(int(math.floor((x_hi + eps) / px)), kk)
    w = 0.0
    x = 0.0
    xx = 0.0
    zz = 0.0
    xz = 0.0
    n_sel = 0
    fx = 0.0
    fz = 0.0
    lx = 0.0
    lz = 0.0
    if b >= a:
        w = sums[0, b + 1] - sums[0, a]
        x = sums[1, b + 1] - sums[1, a]
        xx = sums[2, b + 1] - sums[2, a]
        zz = sums[3, b + 1] - sums[3, a]
        xz = sums[4, b + 1] - sums[4, a]
        n_sel = b - a + 1
        fx = a * px
        fz = zr[a]
        lx = b * px
        lz = zr[b]
    for t in range(nt):
        xt = tx[t]
        if xt < x_lo - eps or xt > x_hi + eps:
            continue
        zt = tz[t]
        w += 1.0
        x += xt
        xx += xt * xt
        zz += zt
        xz += xt * zt
        if n_sel == 0:
            fx = xt
            fz = zt
        lx = xt
        lz = zt
        n_sel += 1
    if n_sel < 2:
        return 0.0, 0.0, n_sel
    w -= 1.0
    x -= 0.5 * (fx + lx)
    xx -= 0.5 * (fx * fx + lx * lx)
    zz -= 0.5 * (fz + lz)
    xz -= 0.5 * (fx * fz + lx * lz)
    den = w * xx - x * x
    if not (den > 0.0):
        return zz / w, zz / w, n_sel
    beta = (w * xz - x * zz) / den
    alpha = (zz - beta * x) / w
    return alpha, alpha + beta * d, n_sel


@njit(inline="always", **KERNEL)
def _fit_span(sums: np.ndarray, zr: np.ndarray, px: float, kk: int, tx: np.ndarray,
              tz: np.ndarray, nt: int, xi: float, m: int, d_start: float, d_end: float,
              d: float) -> tuple[float, float]:
    """:func:`_fit` on NTIA's span of a fit between two distances (zlsq1's indices on the
    pixel's own profile of ``m`` steps of ``xi``, widened by one step each side when empty)."""
    i0 = int(max(d_start / xi, 0.0))
    i1 = m - int(max(m - d_end / xi, 0.0))
    if i1 <= i0:
        i0 = int(max(i0 - 1.0, 0.0))
        i1 = m - int(max(m - (i1 + 1.0), 0.0))
    f0, f1, n_sel = _fit(sums, zr, px, kk, tx, tz, nt, i0 * xi, i1 * xi, d)
    if n_sel < 2:
        f0, f1, n_sel = _fit(sums, zr, px, kk, tx, tz, nt, (i0 - 1) * xi, (i1 + 1) * xi, d)
    return f0, f1


@njit(**KERNEL)
def _bucket(dem: np.ndarray, sweep: Sweep, r_start: int, c_start: int, n_rows: int,
            n_cols: int, mask: np.ndarray, n_rays: int, pl: np.ndarray,
            flags: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pixels to compute, by ray: ``(order, counts, dist)`` with the flat window
    indices of ray ``q`` in ``order[counts[q]:counts[q + 1]]`` and each pixel's distance in
    ``dist``; pixels outside the DEM are marked unknown in ``pl`` / ``flags``."""
    px = sweep.pixel_m
    use_mask = mask.shape[0] > 0
    two_pi = 2.0 * math.pi
    dphi = two_pi / n_rays
    ray_of = np.full(n_rows * n_cols, -1, dtype=np.int64)
    dist = np.zeros(n_rows * n_cols)
    counts = np.zeros(n_rays + 1, dtype=np.int64)
    for i in range(n_rows):
        r = r_start + i
        for j in range(n_cols):
            if use_mask and mask[i, j] == 0:
                continue
            c = c_start + j
            dx, dy, d = site_offset(sweep, r, c)
            if d > sweep.radius_m:
                continue
            if r < 0 or c < 0 or r >= dem.shape[0] or c >= dem.shape[1]:
                pl[i, j] = np.nan
                flags[i, j] = FLAG_NODATA
                continue
            az = math.atan2(dx, dy)
            if az < 0.0:
                az += two_pi
            q = int(round(az / dphi)) % n_rays
            f = i * n_cols + j
            ray_of[f] = q
            dist[f] = max(d, 0.5 * px)
            counts[q + 1] += 1
    for q in range(n_rays):
        counts[q + 1] += counts[q]
    order = np.empty(counts[n_rays], dtype=np.int64)
    fill = counts[:n_rays].copy()
    for f in range(n_rows * n_cols):
        q = ray_of[f]
        if q >= 0:
            order[fill[q]] = f
            fill[q] += 1
    return order, counts, dist


@njit(inline="always", **KERNEL)
def _dh_ray(q: int, n_rays: int) -> int:
    """The Δh ray nearest ray ``q`` (an index of :func:`delta_h_anchors`' table)."""
    return int(round(q / DH_EVERY)) % (n_rays // DH_EVERY)


@njit(inline="always", **KERNEL)
def _push(s: int, px: float, zr: np.ndarray, z_tx: float, gamma_ray: float, sums: np.ndarray,
          best_t: np.ndarray, best_i: np.ndarray, hull: np.ndarray, hx: np.ndarray,
          hw: np.ndarray, n_hull: int) -> int:
    """Add ray sample ``s`` to the prefix structures: the sums (``sums[0..4, s + 1]``:
    count, x, x², z, xz of samples ``0..s``), the transmitter horizon's running maximum and
    the upper hull of ``(x_i, z_i - gamma x_i² / 2)``; returns the new hull size."""
    x = s * px
    zs = zr[s]
    sums[0, s + 1] = sums[0, s] + 1.0
    sums[1, s + 1] = sums[1, s] + x
    sums[2, s + 1] = sums[2, s] + x * x
    sums[3, s + 1] = sums[3, s] + zs
    sums[4, s + 1] = sums[4, s] + x * zs
    if s == 0:
        return n_hull
    tt = (zs - z_tx) / x - 0.5 * gamma_ray * x
    if s == 1 or tt > best_t[s - 1]:
        best_t[s] = tt
        best_i[s] = s
    else:
        best_t[s] = best_t[s - 1]
        best_i[s] = best_i[s - 1]
    ws = zs - 0.5 * gamma_ray * x * x
    while n_hull >= 2:  # pop while the last hull point is not above the chord
        x1 = hx[n_hull - 2]
        w1 = hw[n_hull - 2]
        if (hw[n_hull - 1] - w1) * (x - x1) <= (ws - w1) * (hx[n_hull - 1] - x1):
            n_hull -= 1
        else:
            break
    hull[n_hull] = s
    hx[n_hull] = x
    hw[n_hull] = ws
    return n_hull + 1


@njit(inline="always", **KERNEL)
def _tangent(hx: np.ndarray, hw: np.ndarray, n_hull: int, d: float, w_end: float) -> int:
    """The hull point that minimises the slope to ``(d, w_end)`` (to its right): binary
    search along the upper hull."""
    lo = 0
    hi = n_hull - 1
    while lo < hi:
        mid = (lo + hi) // 2
        # moving right lowers the slope to the end point?
        if (hw[mid + 1] - hw[mid]) * (d - hx[mid]) > (w_end - hw[mid]) * (hx[mid + 1] - hx[mid]):
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(inline="always", **KERNEL)
def _mean_elevation(sums: np.ndarray, px: float, kk: int, tx: np.ndarray, tz: np.ndarray,
                    nt: int, m: int, xi: float) -> float:
    """NTIA p2p's mean path elevation without the first and last 10 % of the ``m`` steps
    (it sets the surface refractivity), over the ray samples and tail points in that span."""
    k10 = int(0.1 * m)
    x_lo = k10 * xi - 1e-6 * px
    x_hi = (m - k10) * xi + 1e-6 * px
    ra = max(int(math.ceil(x_lo / px)), 0)
    rb = min(int(math.floor(x_hi / px)), kk)
    h_sum = 0.0
    h_n = 0
    if rb >= ra:
        h_sum = sums[3, rb + 1] - sums[3, ra]
        h_n = rb - ra + 1
    for t in range(nt):
        if x_lo <= tx[t] <= x_hi:
            h_sum += tz[t]
            h_n += 1
    return h_sum / max(h_n, 1)


@njit(inline="always", **KERNEL)
def _delta_h_at(tab: np.ndarray, qd: int, strides: np.ndarray, anchor_d: np.ndarray, d: float,
                m: int) -> float:
    """Δh of a path of length ``d`` (``m`` steps) near Δh ray ``qd``: linear in distance
    between the two anchors around ``d``, each from its nearest Δh ray carrying it (0 for
    one step, as ITM gives)."""
    if m < 2:
        return 0.0
    n_dh = tab.shape[0]
    u = np.searchsorted(anchor_d, d)
    if u <= 0:
        v = tab[_anchor_ray(qd, strides[0], n_dh), 0]
    elif u >= anchor_d.size:
        last = anchor_d.size - 1
        v = tab[_anchor_ray(qd, strides[last], n_dh), last]
    else:
        v0 = tab[_anchor_ray(qd, strides[u - 1], n_dh), u - 1]
        v1 = tab[_anchor_ray(qd, strides[u], n_dh), u]
        if math.isnan(v1):
            v = v0
        else:
            v = v0 + (v1 - v0) * (d - anchor_d[u - 1]) / (anchor_d[u] - anchor_d[u - 1])
    return 0.0 if math.isnan(v) else v


@njit(inline="always", **KERNEL)
def _horizons(kk: int, px: float, zr: np.ndarray, best_i: np.ndarray, hull: np.ndarray,
              hx: np.ndarray, hw: np.ndarray, n_hull: int, tx: np.ndarray, tz: np.ndarray,
              nt_in: int, z_tx: float, z_rx: float, d: float, gamma_e: float,
              gamma_ray: float) -> tuple[float, float, float, float]:
    """Both horizons of a pixel's path [TN101 6.15]: NTIA's loop starts from the other
    terminal and takes any point that rises above; here the candidates are the ray's
    running maximum (transmitter), the hull tangent (receiver) and the tail points, each
    angle with the pixel's own curvature ``gamma_e``. Returns ``(th0, th1, dh0, dh1)``."""
    slope = (z_rx - z_tx) / d
    th0 = slope - 0.5 * gamma_e * d
    th1 = -slope - 0.5 * gamma_e * d
    dh0 = d
    dh1 = d
    if kk >= 1:
        bi = best_i[kk]
        xb = bi * px
        tt = (zr[bi] - z_tx) / xb - 0.5 * gamma_e * xb
        if tt > th0:
            th0 = tt
            dh0 = xb
        lo = _tangent(hx, hw, n_hull, d, z_rx - 0.5 * gamma_ray * d * d)
        xh = hx[lo]
        tt = (zr[hull[lo]] - z_rx) / (d - xh) - 0.5 * gamma_e * (d - xh)
        if tt > th1:
            th1 = tt
            dh1 = d - xh
    for u in range(nt_in):
        tt = (tz[u] - z_tx) / tx[u] - 0.5 * gamma_e * tx[u]
        if tt > th0:
            th0 = tt
            dh0 = tx[u]
    for u in range(nt_in - 1, -1, -1):
        sr = d - tx[u]
        tt = (tz[u] - z_rx) / sr - 0.5 * gamma_e * sr
        if tt > th1:
            th1 = tt
            dh1 = sr
    return th0, th1, dh0, dh1


@njit(**KERNEL)
def _one_ray(q: int, dem: np.ndarray, sweep: Sweep, warn0: int, Z_g: complex, N_0: float,
             var: VariabilitySetup, order: np.ndarray, counts: np.ndarray, dist: np.ndarray,
             r_start: int, c_start: int, n_cols: int, rx_heights: np.ndarray, n_rays: int,
             dh_tab: np.ndarray, qd: int, strides: np.ndarray, anchor_d: np.ndarray,
             gamma_ray: float, pl: np.ndarray, flags: np.ndarray) -> None:
    """The pixels of ray ``q``, nearest first (module docstring), into ``pl`` / ``flags``
    (``warn0``, ``Z_g``, ``N_0``, ``var``: the :func:`p2p_setup`'s; ``dh_tab``, ``qd``,
    ``strides``: the Δh anchors, the ray's nearest Δh ray and the anchors' strides)."""
    f_mhz = sweep.f_mhz
    h_tx = sweep.h_tx_m
    row0, col0, px = sweep.row0, sweep.col0, sweep.pixel_m
    a, b = counts[q], counts[q + 1]
    idx = order[a:b].copy()
    dd = np.empty(b - a)
    for t in range(b - a):
        dd[t] = dist[idx[t]]
    srt = np.argsort(dd, kind="mergesort")
    k_max = int(math.ceil(dd[srt[-1]] / px))
    zr = np.empty(k_max + 2)
    first_bad = _read_ray(dem, row0, col0, q * 2.0 * math.pi / n_rays, k_max, zr)
    sums = np.zeros((5, k_max + 3))  # prefix sums; column i: samples 0..i-1
    best_t = np.empty(k_max + 2)  # transmitter horizon: the running maximum and its sample
    best_i = np.zeros(k_max + 2, dtype=np.int64)
    hull = np.empty(k_max + 2, dtype=np.int64)
    hx = np.empty(k_max + 2)
    hw = np.empty(k_max + 2)
    tx = np.empty(TAIL + 1)
    tz = np.empty(TAIL + 1)
    n_hull = 0
    done = -1  # samples 0..done are in the structures
    z_tx = zr[0] + h_tx if first_bad > 0 else math.nan
    use_rx = rx_heights.shape[0] > 0
    for t in range(b - a):
        f = idx[srt[t]]
        d = dd[srt[t]]
        i = f // n_cols
        j = f - i * n_cols
        r = r_start + i
        c = c_start + j
        # the pixel's own profile would have m steps of xi: its last TAIL interior points
        # are read on its own line, the points before them on the ray, up to half a step
        # before the first tail point
        m = max(int(math.ceil(d / px)), 1)
        xi = d / m
        nt_in = min(TAIL, m - 1)
        kk = max(int((d * (m - nt_in - 0.5)) / (m * px)), 0)
        z_e = dem[r, c]
        ok = kk < first_bad and not math.isnan(z_e)
        for u in range(nt_in):
            if not ok:
                break
            fr = (m - nt_in + u) / m
            tx[u] = (m - nt_in + u) * xi
            tz[u] = bilinear(dem, math.nan, row0 + (r - row0) * fr, col0 + (c - col0) * fr)
            ok = not math.isnan(tz[u])
        if not ok:
            pl[i, j] = np.nan
            flags[i, j] = FLAG_NODATA
            continue
        tx[nt_in] = d
        tz[nt_in] = z_e
        nt = nt_in + 1
        while done < kk:
            done += 1
            n_hull = _push(done, px, zr, z_tx, gamma_ray, sums, best_t, best_i, hull, hx, hw,
                           n_hull)
        h_rx = sweep.h_rx_m
        if use_rx:
            h_rx = max(float(rx_heights[r, c]), sweep.h_rx_m)
        fl = np.uint32(0)
        if d < sweep.d_min_m or d > sweep.d_max_m:
            fl |= FLAG_DOMAIN
        gamma_e, N_s = effective_earth(_mean_elevation(sums, px, kk, tx, tz, nt, m, xi), N_0)
        a_e = 1.0 / gamma_e
        z_rx = z_e + h_rx
        th0, th1, dh0, dh1 = _horizons(kk, px, zr, best_i, hull, hx, hw, n_hull, tx, tz,
                                       nt_in, z_tx, z_rx, d, gamma_e, gamma_ray)
        delta_h = _delta_h_at(dh_tab, qd, strides, anchor_d, d, m)
        # effective heights (quick_pfl)
        d_start = min(15.0 * h_tx, 0.1 * dh0)
        d_end = d - min(15.0 * h_rx, 0.1 * dh1)
        if dh0 + dh1 > 1.5 * d:
            fit0, fit1 = _fit_span(sums, zr, px, kk, tx, tz, nt, xi, m, d_start, d_end, d)
            th0, th1, dh0, dh1, he0, he1 = area_horizons(h_tx + max(zr[0] - fit0, 0.0),
                                                          h_rx + max(z_e - fit1, 0.0),
                                                          delta_h, a_e, d)
        else:
            fit0 = _fit_span(sums, zr, px, kk, tx, tz, nt, xi, m, d_start, 0.9 * dh0, d)[0]
            fit1 = _fit_span(sums, zr, px, kk, tx, tz, nt, xi, m, d - 0.9 * dh1, d_end, d)[1]
            he0 = h_tx + max(zr[0] - fit0, 0.0)
            he1 = h_rx + max(z_e - fit1, 0.0)
        res = _predict(th0, th1, dh0, dh1, he0, he1, Z_g, gamma_e, N_s, delta_h, d, h_tx,
                       h_rx, f_mhz, var, MODE_P2P, warn0)
        fl |= np.uint32(res[1]) << ITM_WARNING_SHIFT
        if res[3] != 0:
            pl[i, j] = np.nan
            flags[i, j] = fl | FLAG_NODATA
        else:
            pl[i, j] = res[0]
            flags[i, j] = fl


@njit(parallel=True, **KERNEL)
def ray_window(dem: np.ndarray, sweep: Sweep, itm_params: ItmParams, r_start: int,
               c_start: int, n_rows: int, n_cols: int, mask: np.ndarray,
               rx_heights: np.ndarray, n_rays: int) -> tuple[np.ndarray, np.ndarray]:
    """ITM path loss (dB) and flags of the pixels of a window, the terrain read on rays
    (module docstring); the layout of :func:`vncoverage._sweep.exact_window`: ``+inf``
    outside the radius and for unselected pixels, NaN where unknown. ``mask`` (uint8,
    window shape, or empty: all) selects the pixels; ``rx_heights`` (float32, the DEM's
    shape, or empty) their receiver heights; ``n_rays`` from :func:`n_rays_for` (a multiple
    of :data:`DH_EVERY`)."""
    pl = np.full((n_rows, n_cols), np.inf, dtype=np.float32)
    flags = np.zeros((n_rows, n_cols), dtype=np.uint32)
    order, counts, dist = _bucket(dem, sweep, r_start, c_start, n_rows, n_cols, mask, n_rays,
                                  pl, flags)
    p = itm_params
    setup = p2p_setup(sweep.h_tx_m, sweep.h_rx_m, p.climate, p.n0, sweep.f_mhz,
                      p.polarization, p.epsilon, p.sigma, p.mdvar, p.time_pct,
                      p.location_pct, p.situation_pct)
    if setup[0] != SUCCESS:  # invalid inputs: every pixel asked for is unknown
        for f in order:
            i = f // n_cols
            pl[i, f - i * n_cols] = np.nan
            flags[i, f - i * n_cols] = FLAG_NODATA | (np.uint32(setup[1]) << ITM_WARNING_SHIFT)
        return pl, flags
    # Δh anchors on the Δh rays some pixel needs
    anchors = anchor_samples(int(math.ceil(sweep.radius_m / sweep.pixel_m)) + 1)
    anchor_d = anchors.astype(np.float64) * sweep.pixel_m
    n_dh = n_rays // DH_EVERY
    strides = anchor_strides(anchors, n_dh)
    need = np.zeros((n_dh, anchors.size), dtype=np.bool_)
    for q in range(n_rays):  # the two anchors around each pixel (those _delta_h_at reads)
        qd = _dh_ray(q, n_rays)
        for t in range(counts[q], counts[q + 1]):
            u = min(np.searchsorted(anchor_d, dist[order[t]]), anchors.size - 1)
            need[_anchor_ray(qd, strides[u], n_dh), u] = True
            if u > 0:
                need[_anchor_ray(qd, strides[u - 1], n_dh), u - 1] = True
    site_z = bilinear(dem, math.nan, sweep.row0, sweep.col0)
    # the hull's and running maximum's curvature (the pixels' own, from their mean path
    # elevation, differs by well under 1 %: it only picks the point, whose angle is then
    # the pixel's own)
    gamma_ray = effective_earth(0.0 if math.isnan(site_z) else site_z, setup[3])[0]
    dh_tab = delta_h_anchors(dem, sweep, n_rays, need, anchors, 1.0 / gamma_ray)
    _err, warn0, Z_g, N_0, _f, _h_tx, _h_rx, var = setup
    for q in prange(n_rays):
        if counts[q + 1] > counts[q]:
            _one_ray(q, dem, sweep, warn0, Z_g, N_0, var, order, counts, dist, r_start,
                     c_start, n_cols, rx_heights, n_rays, dh_tab, _dh_ray(q, n_rays), strides,
                     anchor_d, gamma_ray, pl, flags)
    return pl, flags


__all__ = ["ANCHOR_RX_M", "DH_EVERY", "RAYS_PER_PIXEL", "TAIL", "anchor_samples",
           "delta_h_anchors", "n_rays_for", "ray_window"]
