"""Per-village mobile coverage: area share, population share, centre, verdict.

For every layer (technology, "MBB" = 4G or 5G, or - when 2G or 3G is computed - "SERVICE" =
any technology and its switch-off variants, :func:`pseudo_layers`; and operator or ``any``)
a pixel is *covered* when its median level, less the location-variability margin, reaches
the technology's threshold (:class:`~vncoverage.config.RadioConfig`). Per village:

* ``area_share`` - covered share of the polygon's area, with partial pixels weighted by the
  fraction of the pixel inside the polygon (exactextract); unknown pixels are excluded
  from the denominator and their share is reported as ``unknown_share``;
* ``pop_share`` - covered share of the population of the household clusters (or the area
  share when there are no clusters, flagged in ``pop_method``);
* ``centre`` - whether the centre (cultural house) pixel is covered;
* ``verdict`` - ``covered``; ``lõm sóng`` (weak: centre covered but less than
  ``covered_population_share`` of the settled population); ``trắng sóng`` (no usable signal
  at the centre); ``unknown`` (the centre pixel could not be computed).

Results keep ``village_id`` as the index so they join back onto the village layer.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
from exactextract import exact_extract
from exactextract.raster import NumPyRasterSource
from scipy.spatial import cKDTree

from . import _grids
from .config import TECHNOLOGIES, CoverageConfig, RadioConfig
from .coverage import ANY, Layers
from .datatypes import Dem

__all__ = [
    "BAND_UNKNOWN",
    "COVERED",
    "LEGACY",
    "LOM_SONG",
    "MBB",
    "MBB_TECHNOLOGIES",
    "SERVICE",
    "TRANG_SONG",
    "UNKNOWN",
    "covered_bands",
    "covered_masks",
    "nearest_sites",
    "pseudo_layers",
    "service_only_through",
    "service_without",
    "summarise_villages",
    "switch_off_villages",
    "touches",
    "village_pixel_bounds",
    "village_strips",
    "villages_touching",
]

COVERED = "covered"
LOM_SONG = "lõm sóng"
TRANG_SONG = "trắng sóng"
UNKNOWN = "unknown"
#: Pseudo-technology "mobile broadband": 4G or 5G (DOMAIN.md; 2G/3G do not count).
MBB = "MBB"
#: The technologies of :data:`MBB`.
MBB_TECHNOLOGIES = ("4G", "5G")
#: The technologies that a switch-off may retire (``[run] switch_off``).
LEGACY = ("2G", "3G")
#: Pseudo-technology "mobile service": any computed technology (2G, 3G, 4G or 5G), made
#: when the run computes 2G or 3G (:func:`pseudo_layers`).
SERVICE = "SERVICE"


def covered_masks(layers: Layers, radio: RadioConfig) -> dict[tuple[str, str], np.ndarray]:
    """:func:`covered_bands` as float32 masks: covered (1), not covered (0) and unknown
    (NaN), per layer and for the ``MBB`` union of the 4G and 5G layers that were computed."""
    out: dict[tuple[str, str], np.ndarray] = {}
    for key, band in covered_bands(layers, radio).items():
        mask = band.astype(np.float32)
        mask[band == BAND_UNKNOWN] = np.nan
        out[key] = mask
    return out


def village_pixel_bounds(villages: gpd.GeoDataFrame, dem: Dem,
                         centres: gpd.GeoSeries | None = None,
                         settlements: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Each village's bounding box in fractional DEM pixel rows and columns
    (``r0, c0, r1, c1``), to compare with grid windows. With ``centres`` (indexed by village
    id) and ``settlements`` (points with a ``village_id`` column), the box also holds the
    village's centre and household clusters: every pixel its summary reads."""
    b = villages.geometry.bounds[["minx", "miny", "maxx", "maxy"]]
    points = []
    if centres is not None:
        points.append(pd.DataFrame({"x": centres.x.to_numpy(), "y": centres.y.to_numpy()},
                                   index=centres.index))
    if settlements is not None and len(settlements):
        points.append(pd.DataFrame({"x": settlements.geometry.x.to_numpy(),
                                    "y": settlements.geometry.y.to_numpy()},
                                   index=pd.Index(settlements["village_id"].to_numpy())))
    if points:
        pts = pd.concat(points)
        pts = pts[pts.index.isin(b.index)].groupby(level=0).agg(["min", "max"])
        pb = pd.DataFrame({"minx": pts[("x", "min")], "miny": pts[("y", "min")],
                           "maxx": pts[("x", "max")], "maxy": pts[("y", "max")]}
                          ).reindex(b.index)
        b = pd.DataFrame({"minx": np.fmin(b["minx"], pb["minx"]),
                          "miny": np.fmin(b["miny"], pb["miny"]),
                          "maxx": np.fmax(b["maxx"], pb["maxx"]),
                          "maxy": np.fmax(b["maxy"], pb["maxy"])}, index=b.index)
    x0, y1, px = dem.transform.c, dem.transform.f, dem.pixel_m
    return pd.DataFrame({"r0": (y1 - b["maxy"]) / px, "c0": (b["minx"] - x0) / px,
                         "r1": (y1 - b["miny"]) / px, "c1": (b["maxx"] - x0) / px},
                        index=villages.index)


def touches(box: pd.DataFrame, win: tuple[int, int, int, int]) -> np.ndarray:
    """Which of the boxes of :func:`village_pixel_bounds` meet the grid window ``win``
    (``row0, col0, row1, col1``)."""
    r0, c0, r1, c1 = win
    return ((box["r0"] <= r1) & (box["r1"] >= r0) & (box["c0"] <= c1)
            & (box["c1"] >= c0)).to_numpy()


def villages_touching(box: pd.DataFrame,
                      windows: Iterable[tuple[int, int, int, int]]) -> pd.Index:
    """The ids (index of ``box``, from :func:`village_pixel_bounds`) of the villages whose
    summary may read a pixel of one of the grid ``windows``: those whose box meets one."""
    hit = np.zeros(len(box), dtype=bool)
    for win in windows:
        hit |= touches(box, win)
    return box.index[hit]


def _summary_window(box: pd.DataFrame, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The grid window (end-exclusive, one pixel of margin) holding every box of
    :func:`village_pixel_bounds`."""
    nr, nc = shape
    if not len(box) or not np.isfinite(box.to_numpy()).any():
        return (0, 0, nr, nc)
    r0 = max(int(np.floor(np.nanmin(box["r0"]))) - 1, 0)
    c0 = max(int(np.floor(np.nanmin(box["c0"]))) - 1, 0)
    r1 = min(int(np.ceil(np.nanmax(box["r1"]))) + 1, nr)
    c1 = min(int(np.ceil(np.nanmax(box["c1"]))) + 1, nc)
    return (r0, c0, r1, c1) if r0 < r1 and c0 < c1 else (0, 0, nr, nc)


#: Value of an unknown pixel in :func:`covered_bands`.
BAND_UNKNOWN = 255


def covered_bands(layers: Layers, radio: RadioConfig) -> dict[tuple[str, str], np.ndarray]:
    """:func:`covered_masks` as uint8 bands for rasters: 1 covered, 0 not covered,
    :data:`BAND_UNKNOWN` unknown (computed directly, without float intermediates)."""
    margin = radio.location_margin_db
    out: dict[tuple[str, str], np.ndarray] = {}
    for (tech, op), layer in layers.layers.items():
        band = (layer.best_dbm >= radio.rsrp_threshold_dbm[tech] + margin).view(np.uint8)
        band[layer.is_unknown] = BAND_UNKNOWN
        out[(tech, op)] = band
    for name, techs, per_operator in pseudo_layers(layers.technologies):
        for op in [ANY, *layers.operators] if per_operator else [ANY]:
            parts = [out[(t, op)] for t in techs if (t, op) in out]
            if len(parts) == 1:
                out[(name, op)] = parts[0].copy()
                continue
            # Three-valued OR: covered by any technology wins; otherwise one unknown part
            # (e.g. a DEM void for 4G while 5G has no cell in reach) keeps the pixel
            # unknown rather than turning it into "not covered".
            covered = np.logical_or.reduce([p == 1 for p in parts])
            unknown = ~covered & np.logical_or.reduce([p == BAND_UNKNOWN for p in parts])
            band = covered.view(np.uint8)
            band[unknown] = BAND_UNKNOWN
            out[(name, op)] = band
    return out


def pseudo_layers(technologies: Iterable[str]) -> list[tuple[str, tuple[str, ...], bool]]:
    """The union layers made from the computed ``technologies``: ``(name, technologies,
    per_operator)``, in this order:

    * :data:`MBB` - 4G or 5G, per operator and ``any``;
    * when 2G or 3G is computed, :data:`SERVICE` - any computed technology ("mobile
      service"), per operator and ``any``;
    * when both 2G and 3G are computed (with 4G or 5G), ``SERVICE_NO2G`` and
      ``SERVICE_NO3G`` (:func:`service_without`) - any computed technology but that one,
      ``any`` operator only: the service left after switching that technology off.
      Switching both off leaves :data:`MBB`; a union of one technology is that layer.
    """
    computed = tuple(technologies)
    out = []
    mbb = tuple(t for t in MBB_TECHNOLOGIES if t in computed)
    if mbb:
        out.append((MBB, mbb, True))
    if any(t in LEGACY for t in computed):
        out.append((SERVICE, computed, True))
        for t in LEGACY:
            rest = tuple(x for x in computed if x != t)
            if t in computed and len(rest) >= 2 and not set(rest) <= set(MBB_TECHNOLOGIES):
                out.append((service_without(t), rest, False))
    return out


def service_without(technology: str) -> str:
    """Name of the :func:`pseudo_layers` union of every computed technology but
    ``technology`` (``SERVICE_NO2G``; its village columns are ``verdict_service_no2g_any``
    etc.)."""
    return f"{SERVICE}_NO{technology}"


def _key(tech: str, op: str) -> str:
    return f"{tech.lower()}_{op.lower()}"


def summarise_villages(
    villages: gpd.GeoDataFrame,
    centres: gpd.GeoSeries,
    settlements: gpd.GeoDataFrame | None,
    layers: Layers,
    radio: RadioConfig,
    coverage: CoverageConfig,
) -> pd.DataFrame:
    """Per-village coverage figures for every layer.

    Returns
    -------
    DataFrame indexed by ``village_id`` with, for each layer key ``<tech>_<operator>``
    (e.g. ``4g_any``, ``mbb_viettel``): ``area_share_<key>``, ``pop_share_<key>``,
    ``centre_<key>`` (bool), ``verdict_<key>``; per technology ``best_dbm_centre_<tech>``,
    ``best_server_centre_<tech>`` and ``warning_share_<tech>`` (share of the area whose best
    server's path was computed under a model warning); ``unknown_share`` and ``pop_method``.
    When 2G or 3G is computed, also the :func:`pseudo_layers` ``service_*`` keys and
    ``service_2g3g_only`` (:func:`service_only_through` 2G and 3G).
    """
    if settlements is not None and len(settlements):
        settlements = settlements[settlements["village_id"].isin(villages.index)]
    # only the pixels these villages read: the whole grid for a province, a small window
    # when a workspace update re-summarises the villages around a few new cells; a large
    # grid by strips of villages, each on its own window (the same numbers: every village
    # is summarised whole, on the same pixels)
    box = village_pixel_bounds(villages, layers.dem, centres, settlements)
    strips = village_strips(box, layers.dem.shape, SUMMARY_WINDOW_PX)
    if len(strips) == 1:
        return _summarise(villages, centres, settlements, layers, box, radio, coverage)
    parts = []
    for ids in strips:
        sett = (settlements[settlements["village_id"].isin(ids)]
                if settlements is not None and len(settlements) else settlements)
        parts.append(_summarise(villages.loc[ids], centres.loc[ids], sett, layers,
                                box.loc[ids], radio, coverage))
        _grids.relieve()
    return pd.concat(parts).reindex(villages.index)


#: Pixels of the window one village summary reads at most (15 float32 masks of it are in
#: memory at once: 240 MB): a larger grid is summarised by strips of villages
#: (:func:`village_strips`). A province at 90 m (3 M pixels) is one strip.
SUMMARY_WINDOW_PX = 4 << 20


def village_strips(box: pd.DataFrame, shape: tuple[int, int], max_px: int) -> list[pd.Index]:
    """The villages of ``box`` (:func:`village_pixel_bounds`) in groups whose
    :func:`_summary_window` holds at most ``max_px`` pixels where it can (a village larger
    than that is a group of its own): villages in order of their top row, a group closed
    when the next village would make its window too large. Villages without a box are one
    group of their own (their window is the whole grid)."""
    finite = np.isfinite(box.to_numpy()).all(axis=1)
    order = box[finite].sort_values(["r0", "c0"], kind="stable")
    groups: list[pd.Index] = []
    start = 0
    r0 = c0 = np.inf
    r1 = c1 = -np.inf
    rows = order.to_numpy()
    for i, (a, b, c, d) in enumerate(rows):
        n0, m0, n1, m1 = min(r0, a), min(c0, b), max(r1, c), max(c1, d)
        # the window's pixels, with _summary_window's margin and rounding
        size = (np.ceil(n1) - np.floor(n0) + 2) * (np.ceil(m1) - np.floor(m0) + 2)
        if i > start and size > max_px:
            groups.append(order.index[start:i])
            start = i
            n0, m0, n1, m1 = a, b, c, d
        r0, c0, r1, c1 = n0, m0, n1, m1
    if start < len(order):
        groups.append(order.index[start:])
    if not finite.all():
        groups.append(box.index[~finite])
    return groups or [box.index]


def _summarise(villages: gpd.GeoDataFrame, centres: gpd.GeoSeries,
               settlements: gpd.GeoDataFrame | None, layers: Layers, box: pd.DataFrame,
               radio: RadioConfig, coverage: CoverageConfig) -> pd.DataFrame:
    """:func:`summarise_villages` of ``villages`` (boxes ``box``) on the window of the
    layers they read."""
    win = _summary_window(box, layers.dem.shape)
    if win != (0, 0, *layers.dem.shape):
        layers = layers.window(*win)
    masks = covered_masks(layers, radio)
    dem = layers.dem
    xmin, ymin, xmax, ymax = dem.bounds
    keys = list(masks)
    ref = (MBB, ANY) if (MBB, ANY) in masks else next(k for k in keys if k[1] == ANY)
    unknown = np.isnan(masks[ref]).astype(np.float32)
    wkt = dem.crs.to_wkt()
    sources = [
        NumPyRasterSource(masks[k], xmin, ymin, xmax, ymax, nodata=np.nan, name=_key(*k),
                          srs_wkt=wkt)
        for k in keys
    ] + [NumPyRasterSource(unknown, xmin, ymin, xmax, ymax, name="unknown", srs_wkt=wkt)]
    sources += [
        NumPyRasterSource(layers.get(t, ANY).under_warning.astype(np.float32), xmin, ymin, xmax,
                          ymax, name=f"warning_{t.lower()}", srs_wkt=wkt)
        for t in layers.technologies
    ]
    poly = gpd.GeoDataFrame({"village_id": villages.index}, geometry=villages.geometry.values,
                            crs=villages.crs)
    ex = exact_extract(sources, poly, ["mean"], include_cols=["village_id"], output="pandas")
    ex = ex.set_index("village_id").reindex(villages.index)
    result = pd.DataFrame(index=villages.index)

    # pixel lookups for centres and clusters
    crow, ccol = dem.index(centres.x.to_numpy(), centres.y.to_numpy())
    inside_c = (crow >= 0) & (crow < dem.shape[0]) & (ccol >= 0) & (ccol < dem.shape[1])
    crow_c, ccol_c = np.clip(crow, 0, dem.shape[0] - 1), np.clip(ccol, 0, dem.shape[1] - 1)
    if settlements is not None and len(settlements):
        srow, scol = dem.index(settlements.geometry.x.to_numpy(),
                               settlements.geometry.y.to_numpy())
        inside_s = (srow >= 0) & (srow < dem.shape[0]) & (scol >= 0) & (scol < dem.shape[1])
        srow, scol = np.clip(srow, 0, dem.shape[0] - 1), np.clip(scol, 0, dem.shape[1] - 1)
        s_pop = settlements["population"].to_numpy(float)
        s_vid = settlements["village_id"].to_numpy()
        pop_total = pd.Series(s_pop).groupby(s_vid).sum().reindex(villages.index)
        result["pop_method"] = np.where(pop_total.fillna(0).to_numpy() > 0, "household clusters",
                                        "area (no clusters)")
    else:
        result["pop_method"] = "area (no clusters)"

    for k in keys:
        name = _key(*k)
        m = masks[k]
        mean = ex[f"{name}_mean"].to_numpy(float)
        area_share = np.nan_to_num(mean, nan=0.0)
        result[f"area_share_{name}"] = area_share
        c = np.where(inside_c, m[crow_c, ccol_c], np.nan)
        result[f"centre_{name}"] = c == 1.0
        if settlements is not None and len(settlements):
            sv = np.where(inside_s, m[srow, scol], 0.0)
            cov_pop = pd.Series(s_pop * np.nan_to_num(sv, nan=0.0)).groupby(s_vid).sum()
            share = (cov_pop.reindex(villages.index).to_numpy() / pop_total.to_numpy())
            share = np.where(np.isfinite(share), share, area_share)
        else:
            share = area_share
        result[f"pop_share_{name}"] = np.clip(share, 0.0, 1.0)
        verdict = np.where(
            np.isnan(c), UNKNOWN,
            np.where(c < 1.0, TRANG_SONG,
                     np.where(result[f"pop_share_{name}"].to_numpy()
                              >= coverage.covered_population_share - 1e-9, COVERED, LOM_SONG)))
        result[f"verdict_{name}"] = verdict
    if (SERVICE, ANY) in masks:  # 2G or 3G computed: service today, lost at switch-off
        result["service_2g3g_only"] = service_only_through(result, LEGACY).to_numpy()
    result["unknown_share"] = np.nan_to_num(ex["unknown_mean"].to_numpy(float), nan=0.0)
    for t in layers.technologies:
        result[f"warning_share_{t.lower()}"] = np.nan_to_num(
            ex[f"warning_{t.lower()}_mean"].to_numpy(float), nan=0.0)
    for tech in layers.technologies:
        best = layers.get(tech, ANY).best_dbm
        v = np.where(inside_c, best[crow_c, ccol_c], -np.inf).astype(float)
        result[f"best_dbm_centre_{tech.lower()}"] = np.where(np.isfinite(v), v, np.nan)
        srv = np.where(inside_c, layers.get(tech, ANY).server[crow_c, ccol_c], -1)
        result[f"best_server_centre_{tech.lower()}"] = [
            layers.cell_ids[s] if s >= 0 else "" for s in srv]
    return result


def nearest_sites(
    centres: gpd.GeoSeries, cells: gpd.GeoDataFrame, technologies: tuple[str, ...] = ("4G", "5G")
) -> pd.DataFrame:
    """Nearest tower carrying one of ``technologies`` to each village centre.

    Returns
    -------
    DataFrame indexed like ``centres`` with ``nearest_site_id``, ``nearest_site_m`` (straight
    line, m) and ``nearest_site_operators``.
    """
    sel = cells[cells["technology"].isin(technologies)]
    out = pd.DataFrame(index=centres.index)
    if sel.empty:
        out["nearest_site_id"] = ""
        out["nearest_site_m"] = np.nan
        out["nearest_site_operators"] = ""
        return out
    xy = pd.DataFrame({"site_id": sel["site_id"].to_numpy(), "x": sel.geometry.x.to_numpy(),
                       "y": sel.geometry.y.to_numpy()})
    sites = xy.groupby("site_id", sort=True)[["x", "y"]].first()
    ops = sel[["site_id", "operator"]].drop_duplicates().sort_values(["site_id", "operator"])
    sites["operators"] = ops.groupby("site_id")["operator"].agg(", ".join).reindex(sites.index)
    d, k = cKDTree(sites[["x", "y"]].to_numpy()).query(
        np.column_stack([centres.x.to_numpy(), centres.y.to_numpy()]))
    out["nearest_site_id"] = sites.index.to_numpy()[k]
    out["nearest_site_m"] = d
    out["nearest_site_operators"] = sites["operators"].to_numpy()[k]
    return out


def _computed(villages: pd.DataFrame) -> list[str]:
    """The technologies whose layers made ``villages`` (a :func:`summarise_villages`
    table): those with a ``verdict_<tech>_any`` column."""
    return [t for t in TECHNOLOGIES if f"verdict_{t.lower()}_any" in villages.columns]


def _union_verdict(computed: list[str], rest: list[str]) -> str:
    """The verdict column of the union of the ``rest`` technologies (``computed`` less
    one or both of 2G and 3G)."""
    if len(rest) == 1:
        return f"verdict_{rest[0].lower()}_any"
    if set(rest) <= set(MBB_TECHNOLOGIES):
        return f"verdict_{MBB.lower()}_any"
    gone = [t for t in computed if t not in rest]
    return f"verdict_{service_without(gone[0]).lower()}_any"


def service_only_through(villages: pd.DataFrame, technologies: Iterable[str]) -> pd.Series:
    """Which villages have mobile service today only through ``technologies`` (among 2G
    and 3G): they lose it when those are switched off.

    A village has service today when its ``verdict_service_any`` (the union of every
    computed technology, :func:`pseudo_layers`) is ``covered``; it keeps it when the union
    of the other computed technologies is covered too (``verdict_mbb_any`` when 2G and 3G
    both go, ``verdict_service_no2g_any`` when only 2G goes and 3G was computed, ...). The
    same verdict rule throughout (centre and ``covered_population_share``), so a village
    covered by 3G in one half and 4G in the other keeps its service after a 2G
    switch-off. Technologies of ``technologies`` the table was not computed with change
    nothing.

    Parameters
    ----------
    villages
        A per-village table with the verdict columns of :func:`summarise_villages` (the
        run's ``villages.csv`` / ``Results.villages``) of a run that computed 2G or 3G.
    technologies
        Among ``"2G"``, ``"3G"``.

    Returns
    -------
    Boolean Series indexed like ``villages``.

    Raises
    ------
    ValueError
        For a technology other than 2G / 3G, or a table without ``verdict_service_any``
        (the run computed neither 2G nor 3G: today's service is not known).
    """
    techs = list(dict.fromkeys(technologies))
    wrong = [t for t in techs if t not in LEGACY]
    if wrong:
        raise ValueError(f"only 2G and 3G can be switched off, not {', '.join(wrong)}")
    col = f"verdict_{SERVICE.lower()}_any"
    if col not in villages.columns:
        raise ValueError(f"the village table has no {col}: the run computed neither 2G nor "
                         '3G; add "2G", "3G" to [radio] technologies')
    computed = _computed(villages)
    rest = [t for t in computed if t not in techs]
    today = villages[col].to_numpy() == COVERED
    if len(rest) == len(computed):
        today = np.zeros(len(villages), dtype=bool)
    elif rest:
        today &= villages[_union_verdict(computed, rest)].to_numpy() != COVERED
    return pd.Series(today, index=villages.index, name="service_only_through")


def switch_off_villages(villages: pd.DataFrame, cells: gpd.GeoDataFrame,
                        technologies: Iterable[str]) -> pd.DataFrame:
    """The villages that lose mobile service when ``technologies`` (2G, 3G) are switched
    off (:func:`service_only_through`), largest population first.

    Columns: ``name``, ``commune``, ``district``, ``population``; ``technologies_today``
    (the computed technologies with usable signal at the centre); ``operator_today`` and
    ``cell_today`` (the strongest switched-off server at the centre: the operator that
    serves the village today); ``nearest_4g_site_id`` and ``nearest_4g_site_m`` (that
    operator's nearest 4G site to the centre, straight line; empty when it has none).
    ``villages`` needs ``centre_x`` / ``centre_y`` (the run's table has them).
    """
    techs = [t for t in dict.fromkeys(technologies)]
    lost = villages[service_only_through(villages, techs).to_numpy()]
    computed = _computed(villages)
    gone = [t for t in techs if t in computed]
    out = pd.DataFrame(index=lost.index)
    for c in ("name", "commune", "district", "population"):
        if c in lost.columns:
            out[c] = lost[c]
    out["technologies_today"] = [
        ", ".join(t for t in computed if bool(r[f"centre_{t.lower()}_any"]))
        for _, r in lost.iterrows()]
    best = pd.DataFrame({t: lost[f"best_dbm_centre_{t.lower()}"].astype(float)
                         for t in gone}, index=lost.index)
    strongest = best.fillna(-np.inf).idxmax(axis=1) if len(gone) else pd.Series(dtype=str)
    cell = pd.Series([str(lost.at[v, f"best_server_centre_{str(t).lower()}"])
                      for v, t in strongest.items()], index=lost.index, dtype=object)
    operator_of = pd.Series(cells["operator"].astype(str).to_numpy(),
                            index=cells.index.astype(str))
    out["operator_today"] = cell.map(operator_of).fillna("")
    out["cell_today"] = cell
    out["nearest_4g_site_id"] = ""
    out["nearest_4g_site_m"] = np.nan
    centres = gpd.GeoSeries(gpd.points_from_xy(lost["centre_x"], lost["centre_y"]),
                            index=lost.index, crs=cells.crs) if len(lost) else None
    for op, ids in out.groupby("operator_today").groups.items():
        if centres is None or not op:
            continue
        near = nearest_sites(centres.loc[ids], cells[cells["operator"].astype(str) == op],
                             ("4G",))
        out.loc[ids, "nearest_4g_site_id"] = near["nearest_site_id"]
        out.loc[ids, "nearest_4g_site_m"] = near["nearest_site_m"]
    return out.sort_values("population", ascending=False, kind="stable") \
        if "population" in out.columns else out
