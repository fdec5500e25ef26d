"""Measured levels (drive tests, walk tests, crowd-sourced RSRP) and the calibration
corrections fitted to them.

* :func:`read_measurements`: a measurement table (CSV / Excel in any form the other tables
  are read in, or a GeoPackage / GeoJSON / Shapefile layer of points) with the same tolerant
  reading, aliases and problem reporting as the cell table (:mod:`.inventories`).
* :class:`Corrections`, :func:`read_corrections`, :func:`corrections_json`: the corrections
  ``vncoverage calibrate`` fits (:mod:`vncoverage.calibration`), as a versioned JSON file
  (layout in :data:`CORRECTIONS_FORMAT` / :func:`corrections_json`).
* :func:`apply_corrections`: a run's cells with the corrections added to their EIRP (the
  level of a cell at every pixel moves by the same dB, the sweeps are untouched).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from ..errors import InputDataError, Problem
from ..i18n import Message
from ..operators import BANDS, parse_technology
from . import _tables
from ._columns import (
    check_range,
    missing_columns,
    numbers,
    operators_of,
    read_table,
    rows_of,
    table_note,
)
from ._coordinates import coordinates
from ._shared import check_layer, crs_label, layer_label, layer_names, read_layer, report_rows
from ._tables import MEASUREMENT_SCHEMA, ParsedTable
from .inventories import DEFAULT_OPERATORS, VECTOR_DRIVERS, cell_text, is_vector_file

__all__ = ["CORRECTIONS_FORMAT", "CORRECTIONS_VERSION", "MEASUREMENT_COLUMNS",
           "MEASUREMENT_SCHEMA", "RSRP_RANGE_DBM", "UNCORRECTED_EIRP", "Corrections",
           "GroupOffset", "apply_corrections", "band_of", "cell_offsets", "corrections_json",
           "read_corrections", "read_measurements", "uncorrected_cells"]

#: The columns of a measurement table (canonical names; aliases in
#: ``_tables.TABLE_ALIASES["measurements"]`` and :data:`_tables.COLUMN_ALIASES`).
MEASUREMENT_COLUMNS: dict[str, str] = {
    "lon": "longitude, WGS 84 decimal degrees (or x/y with a crs column; or a point layer)",
    "lat": "latitude, WGS 84 decimal degrees",
    "rsrp_dbm": "measured level, dBm: RSRP for 4G/5G (RSCP for 3G, RxLev for 2G)",
    "cell_id": "the measured cell (the cell table's cell_id); empty: best server of the "
               "operator and technology",
    "operator": "the network measured (needed when cell_id is empty)",
    "technology": "2G-5G or a label such as LTE1800 (needed when cell_id is empty)",
    "band": "optional: B3, n78, LTE1800 ... (restricts the best server to that band)",
    "earfcn": "optional: EARFCN (4G) or NR-ARFCN (5G) of the carrier, read as its band",
    "frequency_mhz": "optional: carrier frequency, MHz, read as its band",
    "time": "optional: when (kept as written)",
    "device": "optional: the phone or scanner (kept as written)",
}


#: Measured levels outside this range are problems, dBm (a handset reports RSRP within
#: -140..-44 dBm, 3GPP TS 36.133 §9.1.4; -150..-20 leaves room for scanners and RSCP/RxLev).
RSRP_RANGE_DBM = (-150.0, -20.0)

#: E-UTRA downlink EARFCN (3GPP TS 36.101 Table 5.7.3-1): band -> (F_DL_low MHz,
#: N_Offs-DL, first N, last N); F_DL = F_DL_low + 0.1 (N_DL - N_Offs-DL) (§5.7.3).
EARFCN_BANDS: dict[str, tuple[float, int, int, int]] = {
    "B1": (2110.0, 0, 0, 599), "B3": (1805.0, 1200, 1200, 1949),
    "B7": (2620.0, 2750, 2750, 3449), "B8": (925.0, 3450, 3450, 3799),
    "B28": (758.0, 9210, 9210, 9659), "B38": (2570.0, 37750, 37750, 38249),
    "B40": (2300.0, 38650, 38650, 39649), "B41": (2496.0, 39650, 39650, 41589),
}


def earfcn_mhz(n: float, technology: str | None) -> tuple[float, str] | None:
    """The downlink frequency (MHz) and band of an EARFCN (4G, :data:`EARFCN_BANDS`) or an
    NR-ARFCN (5G: 3GPP TS 38.104 §5.4.2.1, F = F_REF-Offs + ΔF_Global (N - N_REF-Offs):
    ΔF 5 kHz below N = 600000, 15 kHz from 600000 with F_REF-Offs 3000 MHz). A number above
    65535 without a technology is an NR-ARFCN. None when no band used in Vietnam holds it."""
    if technology == "5G" or (technology is None and n > 65535):
        f = n * 0.005 if n < 600000 else 3000.0 + 0.015 * (n - 600000)
        return (f, b) if (b := band_of("5G", f)) else None
    for name, (flow, noff, lo, hi) in EARFCN_BANDS.items():
        if lo <= n <= hi:
            return flow + 0.1 * (n - noff), name
    return None


def band_of(technology: str, frequency_mhz: float) -> str:
    """The name of the band (:data:`vncoverage.operators.BANDS`) of ``technology`` that
    holds ``frequency_mhz`` (the narrowest when several do), else ``"<f> MHz"``."""
    fits = [b for b in BANDS if b.technology == technology and b.fits(frequency_mhz)]
    if not fits:
        return f"{frequency_mhz:g} MHz"
    # the narrowest: n78 (3300-3800 MHz) rather than n77 (3300-4200 MHz) at 3500 MHz
    return min(fits, key=lambda b: b.span_mhz[1] - b.span_mhz[0]).name


def read_measurements(
    path: str | Path, *, working_crs: CRS, problems: list[Problem],
    notes: list[Message] | None = None, operators: Sequence[str] = DEFAULT_OPERATORS,
    formats: dict[str, Message] | None = None, layer: str | None = None,
) -> gpd.GeoDataFrame | None:
    """The measurement points, indexed by ``row`` (the spreadsheet row, or the feature
    number of a vector layer), as points in the working CRS.

    Columns: ``rsrp_dbm`` (float), ``cell_id``, ``operator``, ``technology``, ``band``
    (band name such as ``B3``), ``time`` and ``device`` (text, ``""`` when not given).
    Each row needs ``rsrp_dbm`` within :data:`RSRP_RANGE_DBM`, a position, and either a
    ``cell_id`` or an ``operator`` and a ``technology``; the band comes from ``band``,
    ``earfcn``, ``frequency_mhz`` or a technology label naming one (``LTE1800``). Every
    row breaking a rule is a problem naming the file, the row and the fix (nothing is
    dropped silently; the points outside the study area and the unknown cells are dropped
    with a note by :func:`vncoverage.calibration.match_measurements`, which knows the
    cells and the DEM).
    """
    path = Path(path)
    n0 = len(problems)
    got = _measurement_table(path, layer, problems, notes, formats)
    if got is None:
        return None
    table, position = got
    df = table.df
    file = table.file
    for col in MEASUREMENT_SCHEMA:
        if col not in df.columns and col not in ("lon", "lat", "x", "y", "crs"):
            df[col] = None
    check_range(problems, table, "rsrp_dbm", *RSRP_RANGE_DBM,
                "the measured level in dBm (RSRP, e.g. -95); a positive number or a "
                "quality figure (RSRQ, SINR) is not a level")
    lon, lat = (coordinates(table, problems, notes) if position is None
                else (position[0].reindex(df.index), position[1].reindex(df.index)))
    changes: dict[str, str] = {}
    operator = operators_of(table, "operator", operators, changes, problems, role="cell")
    tech, band = _technology_and_band(table, problems)
    no_key = (df["cell_id"].isna() & (operator.isna() | tech.isna())).to_numpy()
    report_rows(problems, file, "the row names no cell: cell_id is empty and operator or "
                "technology is too", "give the measured cell's cell_id (as in the cell "
                "table), or the operator and technology (the best server of that network "
                "is compared)", rows_of(df, no_key), column="cell_id")
    if changes and notes is not None:
        notes.append(Message("names.read_as", source=file, file=file,
                             pairs=[Message("names.pair", written=a, read=b)
                                    for a, b in sorted(changes.items())]))
    table_note(table, notes)
    if len(problems) > n0:
        return None
    out = pd.DataFrame({
        "rsrp_dbm": numbers(table, "rsrp_dbm").values.astype(float),
        "cell_id": df["cell_id"].fillna("").astype(str),
        "operator": operator.fillna("").astype(str),
        "technology": tech.fillna("").astype(str),
        "band": band.fillna("").astype(str),
        "time": df["time"].fillna("").astype(str),
        "device": df["device"].fillna("").astype(str),
    }, index=pd.Index(df.index.astype("int64"), name="row"))
    gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(lon.to_numpy(float),
                                                            lat.to_numpy(float)),
                           crs="EPSG:4326")
    return gdf.to_crs(working_crs)


def _technology_and_band(table: ParsedTable,
                         problems: list[Problem]) -> tuple[pd.Series, pd.Series]:
    """Per row, the technology (2G-5G) and the band name (None where not given): from the
    ``technology`` label (``LTE1800`` -> 4G, B3), the ``band`` (``B3``, ``n78``, ``3``
    with the technology), the ``earfcn`` or the ``frequency_mhz``. Labels that name no
    technology or band, and carriers outside every band used in Vietnam, are problems."""
    df, file = table.df, table.file
    rows = [int(r) for r in df.index]
    tech: list[str | None] = [None] * len(rows)
    band: list[str | None] = [None] * len(rows)
    bad_tech: list[int] = []
    for k, v in enumerate(df["technology"].tolist()):
        if v is None:
            continue
        t = parse_technology(v)
        if t is None or t.unknown_band:
            bad_tech.append(k)
            continue
        tech[k] = t.technology
        if len(t.bands) == 1:
            band[k] = t.bands[0].name
    report_rows(problems, file, "technology must be 2G, 3G, 4G or 5G",
                "fix the value (2G, 3G, 4G, 5G, or a label such as LTE, LTE1800, NR3500)",
                [rows[k] for k in bad_tech], column="technology",
                values=[df["technology"].iloc[k] for k in bad_tech])
    bad_band: list[int] = []
    for k, v in enumerate(df["band"].tolist()):
        if v is None:
            continue
        name = _band_label(str(v), tech[k])
        if name is None:
            bad_band.append(k)
        else:
            band[k] = name
    report_rows(problems, file, "band names no band used in Vietnam",
                "write it as B3, n78, LTE1800 or the band number with the technology, or "
                "leave it empty", [rows[k] for k in bad_band], column="band",
                values=[df["band"].iloc[k] for k in bad_band])
    bad = _band_from_numbers(table, tech, band)
    report_rows(problems, file, "earfcn / frequency_mhz is in no band used in Vietnam (or "
                "the row has no technology to read a frequency with)",
                "correct the number, give the technology, or leave it empty",
                [rows[k] for k in bad], column="earfcn/frequency_mhz")
    return (pd.Series(tech, index=df.index, dtype=object),
            pd.Series(band, index=df.index, dtype=object))


def _band_label(text: str, technology: str | None) -> str | None:
    """The band name a ``band`` cell gives (``B3``, ``Band 3``, ``LTE1800``, ``n78``; a
    bare number is a 4G band, or a 5G one for a 5G row), None when none."""
    t = text.strip()
    if t.isdigit():
        t = ("n" if technology == "5G" else "B") + t
    got = parse_technology(t)
    if got is None or got.unknown_band or len(got.bands) != 1:
        return None
    return got.bands[0].name


def _band_from_numbers(table: ParsedTable, tech: list[str | None],
                       band: list[str | None]) -> list[int]:
    """Fill ``band`` (in place, by position) from ``earfcn`` or ``frequency_mhz`` where it
    is empty; the positions of the numbers that give no band."""
    df = table.df
    bad: set[int] = set()
    for col in ("earfcn", "frequency_mhz"):
        if df[col].notna().sum() == 0:
            continue
        got = numbers(table, col)
        bad.update(int(k) for k in np.flatnonzero(got.bad))
        for k, v in enumerate(got.values.tolist()):
            if v != v or band[k] is not None:
                continue
            t = tech[k]
            name: str | None
            if col == "earfcn":
                hit = earfcn_mhz(float(v), t)
                name = hit[1] if hit else None
            else:
                name = band_of(t, float(v)) if t else None
                name = None if name is None or name.endswith("MHz") else name
            if name is None:
                bad.add(k)
            else:
                band[k] = name
    return sorted(bad)


def _measurement_table(path: Path, layer: str | None, problems: list[Problem],
                       notes: list[Message] | None, formats: dict[str, Message] | None
                       ) -> tuple[ParsedTable, tuple[pd.Series, pd.Series] | None] | None:
    """The table of text (a spreadsheet, or a point layer's attributes) and, for a layer,
    the points' lon/lat in WGS 84 degrees; None when it cannot be used."""
    if not is_vector_file(path):
        table = read_table(path, MEASUREMENT_SCHEMA, problems, formats)
        if table is None or missing_columns(table, ("rsrp_dbm", "lon", "lat"),
                                            "measurement table", problems):
            return None
        return table, None
    return _vector_measurements(path, layer, problems, formats)


def _vector_measurements(path: Path, layer: str | None, problems: list[Problem],
                         formats: dict[str, Message] | None
                         ) -> tuple[ParsedTable, tuple[pd.Series, pd.Series]] | None:
    """A point layer as a measurement table: the attributes are the columns (same names
    and aliases), the point gives the position in the layer's CRS (rows = feature numbers,
    1 = first)."""
    file = str(path)
    if not check_layer(path, layer, "measurements_layer", problems,
                       named_if_several=True):
        return None
    gdf = read_layer(path, layer, problems)
    if gdf is None:
        return None
    gdf = gdf.set_axis(pd.RangeIndex(1, len(gdf) + 1))
    geom = gdf.geometry
    bad = (geom.isna() | geom.is_empty | (geom.geom_type != "Point")).to_numpy()
    report_rows(problems, file, "the feature is not a point", "give each measurement as one "
                "point", [int(i) for i in gdf.index[bad]], column="geometry",
                values=[str(t) for t in geom.geom_type[bad]])
    if bad.any():
        return None
    if gdf.crs is None:
        problems.append(Problem(file, "the layer has no CRS", "assign the layer its CRS "
                                "(e.g. EPSG:4326) in QGIS or with ogr2ogr -a_srs"))
        return None
    wgs = gdf.to_crs(4326)
    attrs = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    canon, renamed, ignored = _tables._map_columns(attrs, MEASUREMENT_SCHEMA, file=file,
                                                   problems=problems)
    position = ("lon", "lat", "x", "y", "crs")
    df = pd.DataFrame({new: [cell_text(x) for x in gdf[old].astype(object)]
                       for old, new in zip(attrs, canon, strict=True)
                       if new not in position}, index=gdf.index, dtype=object)
    for old, new in zip(attrs, canon, strict=True):
        if new in position:
            ignored[old] = Message("inputs.geometry_gives")
            renamed.pop(old, None)
    lon, lat = wgs.geometry.x.astype(float), wgs.geometry.y.astype(float)
    driver = VECTOR_DRIVERS.get(path.suffix.lower(), path.suffix.lstrip(".").upper())
    table = ParsedTable(df=df, file=file, fmt=driver, sheet=None, renamed=renamed,
                        ignored=ignored)
    if formats is not None:
        names = layer_names(path)
        formats[file] = Message("inputs.vector_read", source=file, driver=driver,
                                layer=layer or (names[0] if names else ""),
                                crs=crs_label(CRS(gdf.crs)))
    if "rsrp_dbm" not in df.columns:
        missing_columns(table, ("rsrp_dbm",), f"measurement layer {layer_label(path, layer)}",
                        problems)
        return None
    return table, (lon, lat)


# --------------------------------------------------------------------------------------
# corrections

#: The ``format`` of a corrections file, and the version of its layout.
CORRECTIONS_FORMAT = "vncoverage-calibration-corrections"
CORRECTIONS_VERSION = 1


@dataclass(frozen=True)
class GroupOffset:
    """The correction of one operator's technology in one band.

    ``offset_db`` is what is added to the model's level (global offset included);
    ``raw_offset_db`` the group's own mean residual before shrinkage; ``weight`` the
    shrinkage weight (``offset = global + weight * (raw - global)``); ``n`` and
    ``n_sites`` the measurements and sites behind it."""

    operator: str
    technology: str
    band: str
    offset_db: float
    raw_offset_db: float
    weight: float
    n: int
    n_sites: int


@dataclass(frozen=True)
class Corrections:
    """Calibration corrections (the JSON layout: :func:`corrections_json`).

    ``global_offset_db``: mean of measured minus predicted level (dB; positive: the model
    is pessimistic), applied to the cells of ``technologies`` that no group names;
    ``groups``: per operator / technology / band; ``sigma_db``: standard deviation of the
    residuals after the corrections (all points, with ``site_sigma_db`` the part shared by
    a site's points and ``point_sigma_db`` the rest: ``sigma² = site² + point²``); ``cv``:
    the site-grouped cross-validation (``rmse_before_db``, ``rmse_after_db``,
    ``bias_before_db``, ``bias_after_db``, ``folds``, ``n``)."""

    global_offset_db: float
    sigma_db: float
    site_sigma_db: float
    point_sigma_db: float
    n: int
    n_sites: int
    technologies: tuple[str, ...]
    groups: tuple[GroupOffset, ...] = ()
    measurements_file: str = ""
    measurements_sha256: str = ""
    cv: Mapping[str, float] = field(default_factory=dict)
    shrinkage: Mapping[str, Any] = field(default_factory=dict)
    created: str = ""
    version: str = ""
    #: Standard error of the global offset (dB): what remains uncertain of the province-wide
    #: bias after calibration (the sites' errors average out over ``n_sites`` only).
    global_offset_se_db: float = math.nan

    def offset_for(self, operator: str, technology: str, band: str) -> float | None:
        """The offset (dB) for a cell: its group's, else the global one for a technology
        calibrated, else None (not corrected)."""
        for g in self.groups:
            if (g.operator, g.technology, g.band) == (operator, technology, band):
                return g.offset_db
        return self.global_offset_db if technology in self.technologies else None


def corrections_json(c: Corrections) -> str:
    """The corrections as JSON (layout version :data:`CORRECTIONS_VERSION`)::

        {"format": "vncoverage-calibration-corrections", "version": 1,
         "created": ISO time, "vncoverage": package version,
         "measurements": {"file", "sha256", "n", "n_sites"},
         "technologies": ["4G", ...],
         "global_offset_db": dB,            # measured - predicted, added to the levels
         "global_offset_se_db": dB,         # its standard error (site-clustered)
         "groups": [{"operator", "technology", "band", "offset_db", "raw_offset_db",
                     "weight", "n", "n_sites"}, ...],
         "sigma_db", "site_sigma_db", "point_sigma_db": dB,   # residuals after correction
         "shrinkage": {"method", "tau_db", ...},
         "cv": {"grouped_by": "site", "folds", "n", "rmse_before_db", "rmse_after_db",
                "bias_before_db", "bias_after_db"}}
    """
    doc = {
        "format": CORRECTIONS_FORMAT, "version": CORRECTIONS_VERSION, "created": c.created,
        "vncoverage": c.version,
        "measurements": {"file": c.measurements_file, "sha256": c.measurements_sha256,
                         "n": c.n, "n_sites": c.n_sites},
        "technologies": list(c.technologies),
        "global_offset_db": round(c.global_offset_db, 4),
        "global_offset_se_db": (None if not math.isfinite(c.global_offset_se_db)
                                else round(c.global_offset_se_db, 4)),
        "groups": [{"operator": g.operator, "technology": g.technology, "band": g.band,
                    "offset_db": round(g.offset_db, 4),
                    "raw_offset_db": round(g.raw_offset_db, 4),
                    "weight": round(g.weight, 4), "n": g.n, "n_sites": g.n_sites}
                   for g in c.groups],
        "sigma_db": round(c.sigma_db, 4), "site_sigma_db": round(c.site_sigma_db, 4),
        "point_sigma_db": round(c.point_sigma_db, 4),
        "shrinkage": dict(c.shrinkage),
        "cv": {"grouped_by": "site", **dict(c.cv)},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _number(doc: Mapping[str, Any], key: str, where: str, problems: list[Problem]) -> float:
    v = doc.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        problems.append(Problem(where, f"'{key}' must be a number", "write the file again "
                                "with vncoverage calibrate", value=v))
        return math.nan
    return float(v)


def read_corrections(path: str | Path) -> Corrections:
    """The corrections of a file :func:`corrections_json` wrote.

    Raises
    ------
    InputDataError
        The file is missing, not JSON, not a corrections file, of a newer layout version,
        or a value is missing or not a number.
    """
    file = str(path)
    fix = "give the corrections.json that vncoverage calibrate wrote (W/calibration/)"
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputDataError([Problem(file, "corrections file not found", fix)]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputDataError([Problem(file, f"not a JSON file: {exc}", fix)]) from None
    if not isinstance(doc, dict) or doc.get("format") != CORRECTIONS_FORMAT:
        raise InputDataError([Problem(file, "not a calibration corrections file", fix)])
    if not isinstance(doc.get("version"), int) or doc["version"] > CORRECTIONS_VERSION:
        raise InputDataError([Problem(file, f"layout version {doc.get('version')!r} is not "
                                      f"one this version reads (<= {CORRECTIONS_VERSION})",
                                      "update vncoverage, or calibrate again")])
    problems: list[Problem] = []
    nums = {k: _number(doc, k, file, problems)
            for k in ("global_offset_db", "sigma_db", "site_sigma_db", "point_sigma_db")}
    meas: dict[str, Any] = (doc["measurements"] if isinstance(doc.get("measurements"), dict)
                            else {})
    groups = []
    for k, g in enumerate(doc.get("groups") or []):
        where = f"{file} (groups[{k}])"
        if not isinstance(g, dict):
            problems.append(Problem(where, "a group must be an object", fix))
            continue
        vals = {key: _number(g, key, where, problems)
                for key in ("offset_db", "raw_offset_db", "weight", "n", "n_sites")}
        groups.append(GroupOffset(str(g.get("operator", "")), str(g.get("technology", "")),
                                  str(g.get("band", "")), vals["offset_db"],
                                  vals["raw_offset_db"], vals["weight"],
                                  int(np.nan_to_num(vals["n"])),
                                  int(np.nan_to_num(vals["n_sites"]))))
    if problems:
        raise InputDataError(problems)
    return Corrections(
        global_offset_db=nums["global_offset_db"], sigma_db=nums["sigma_db"],
        site_sigma_db=nums["site_sigma_db"], point_sigma_db=nums["point_sigma_db"],
        n=int(meas.get("n", 0)), n_sites=int(meas.get("n_sites", 0)),
        technologies=tuple(str(t) for t in doc.get("technologies") or ()),
        groups=tuple(groups), measurements_file=str(meas.get("file", "")),
        measurements_sha256=str(meas.get("sha256", "")),
        cv={k: v for k, v in (doc.get("cv") or {}).items() if k != "grouped_by"},
        shrinkage=dict(doc.get("shrinkage") or {}), created=str(doc.get("created", "")),
        version=str(doc.get("vncoverage", "")),
        global_offset_se_db=(float(se) if isinstance(se := doc.get("global_offset_se_db"),
                                                      (int, float)) else math.nan))


#: The column where :func:`apply_corrections` (``keep_uncorrected=True``, the calibration
#: inside a run) keeps each corrected cell's EIRP before the correction, so that the cells
#: of a workspace can be calibrated again from the uncorrected model
#: (:func:`uncorrected_cells`).
UNCORRECTED_EIRP = "eirp_uncorrected_dbm"


def cell_offsets(cells: pd.DataFrame, corrections: Corrections) -> np.ndarray:
    """Per cell (in ``cells``' order), the offset (dB) :func:`apply_corrections` adds to its
    EIRP: :meth:`Corrections.offset_for` its operator, technology and band; NaN for a cell
    the corrections leave as it is."""
    return np.array([
        np.nan if (o := corrections.offset_for(str(op), str(t), band_of(str(t), float(f))))
        is None else o
        for op, t, f in zip(cells["operator"], cells["technology"], cells["frequency_mhz"],
                            strict=True)], dtype=float)


def apply_corrections(cells: gpd.GeoDataFrame, corrections: Corrections, *, file: str,
                      notes: list[Message] | None = None,
                      keep_uncorrected: bool = False) -> gpd.GeoDataFrame:
    """``cells`` with each cell's correction (:func:`cell_offsets`) added to
    ``eirp_dbm``: the cell's level moves by that many dB at every pixel, its sweeps (path
    loss) are unchanged. Noted with the provenance (the measurement file's sha256, n, the
    σ fitted) and the cells corrected per offset. ``keep_uncorrected``: the EIRP before
    the correction goes to the column :data:`UNCORRECTED_EIRP` (NaN for a cell left as
    it is)."""
    out = cells.copy()
    offsets = cell_offsets(cells, corrections)
    done = np.isfinite(offsets)
    out["eirp_dbm"] = out["eirp_dbm"].astype(float)
    out.loc[done, "eirp_dbm"] = cells["eirp_dbm"].to_numpy(float)[done] + offsets[done]
    if keep_uncorrected:
        out[UNCORRECTED_EIRP] = np.where(done, cells["eirp_dbm"].to_numpy(float), np.nan)
    if notes is not None:
        per = pd.Series(offsets[done]).round(2).value_counts().sort_index()
        notes.append(Message(
            "calibration.applied", source=file, file=file,
            sha=corrections.measurements_sha256[:12], n=corrections.n,
            sigma=corrections.sigma_db, offset=corrections.global_offset_db,
            cells=int(done.sum()),
            offsets=[f"{v:+.2f} dB × {int(k)}" for v, k in per.items()]))
    return out


def uncorrected_cells(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``cells`` as they were before :func:`apply_corrections` (``keep_uncorrected``): the
    EIRP kept in :data:`UNCORRECTED_EIRP` back where it is given, the column dropped;
    ``cells`` themselves without that column (e.g. a workspace's cells plus new ones read
    from a file: only the former were corrected)."""
    if UNCORRECTED_EIRP not in cells.columns:
        return cells
    kept = cells[UNCORRECTED_EIRP].to_numpy(float)
    out = cells.drop(columns=UNCORRECTED_EIRP)
    given = np.isfinite(kept)
    if given.any():
        out["eirp_dbm"] = np.where(given, kept, out["eirp_dbm"].to_numpy(float))
    return out
