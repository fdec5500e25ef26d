"""Coordinates of table rows: degrees (decimal or DMS) or projected x/y with a ``crs``
column, to WGS 84, with Vietnam's extent checked; the declared CRS of every row, for the
checks across inputs. Private to :mod:`vncoverage.fileio`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
from pyproj import CRS

from ..errors import Problem
from ..i18n import Message
from . import _tables
from ._columns import numbers, required_text, rows_of
from ._shared import (
    VN_LAT,
    VN_LON,
    crs_fitting_vietnam,
    crs_label,
    epsg_code,
    fitting_text,
    in_vietnam,
    report_rows,
    transformer,
)
from ._tables import ParsedTable

#: Names accepted in a ``crs`` column besides EPSG codes (lower case, no spaces or dashes).
_CRS_NAMES = {"wgs84": 4326, "vn2000": 4756}


def parse_crs(text: str) -> CRS | None:
    key = re.sub(r"[\s_\-]+", "", text.casefold())
    if key in _CRS_NAMES:
        return CRS.from_epsg(_CRS_NAMES[key])
    if key.isdigit():
        text = f"EPSG:{key}"
    try:
        return CRS.from_user_input(text)
    except (pyproj.exceptions.CRSError, ValueError, TypeError):
        return None


def coordinates(
    table: ParsedTable, problems: list[Problem], notes: list[Message] | None
) -> tuple[pd.Series, pd.Series]:
    """WGS 84 longitude and latitude of every row (NaN where a problem was reported).

    ``lon``/``lat`` in degrees (decimal or DMS) in WGS 84, or in the geographic CRS named
    by a ``crs`` column (e.g. ``VN-2000`` = EPSG:4756); or ``x``/``y`` in metres with a
    projected ``crs`` (e.g. EPSG:3405, EPSG:9215), in either axis order: in Vietnam the
    northing always exceeds the easting, so a Vietnamese survey table (X = northing) is
    recognised and noted. Reprojection uses pyproj (PROJ's EPSG transformations).
    """
    df = table.df
    use_xy = not ({"lon", "lat"} <= set(df.columns)) and {"x", "y"} <= set(df.columns)
    required_text(table, ("x", "y") if use_xy else ("lon", "lat"), problems)
    given = df["crs"].notna() if "crs" in df.columns else pd.Series(False, index=df.index)
    groups = _crs_groups(table, given, problems)
    if not use_xy and (~given).any():
        groups.append((None, df.index[~given.to_numpy()]))  # WGS 84, nothing to do
    if use_xy:
        return _xy_coordinates(table, groups, given, problems, notes)
    return _lonlat_coordinates(table, groups, problems, notes)


def _crs_groups(
    table: ParsedTable, given: pd.Series, problems: list[Problem]
) -> list[tuple[CRS | None, pd.Index]]:
    """The rows of each CRS named in the ``crs`` column (``given`` = rows naming one), in
    order of first appearance; reports the names that are no CRS."""
    df = table.df
    groups: list[tuple[CRS | None, pd.Index]] = []
    if not given.any():
        return groups
    for text, grp in df[given].groupby("crs", sort=False):
        crs = parse_crs(str(text))
        if crs is None:
            report_rows(problems, table.file, "unknown coordinate reference system",
                        "write an EPSG code, e.g. EPSG:4326 (WGS 84), EPSG:4756 "
                        "(VN-2000 degrees), EPSG:3405 (VN-2000 / UTM 48N)",
                        [int(r) for r in grp.index], column="crs",
                        values=[text] * len(grp))
            continue
        groups.append((crs, grp.index))
    return groups


def _xy_coordinates(
    table: ParsedTable, groups: list[tuple[CRS | None, pd.Index]], given: pd.Series,
    problems: list[Problem], notes: list[Message] | None,
) -> tuple[pd.Series, pd.Series]:
    """WGS 84 longitude and latitude of projected ``x``/``y`` (metres), reprojected from the
    CRS of each row group; rows without a CRS or outside Vietnam are reported (NaN)."""
    df, file = table.df, table.file
    lon = pd.Series(np.nan, index=df.index)
    lat = pd.Series(np.nan, index=df.index)
    east_m, north_m = _east_north_m(table, problems, notes)
    for crs, idx in groups:
        rows = df.index.get_indexer(idx)
        if crs is None:
            continue
        if not crs.is_projected:
            report_rows(problems, file, f"x/y need a projected CRS, not "
                        f"{crs_label(crs)}", "give lon/lat columns for degrees, or "
                        "a projected crs (e.g. EPSG:3405)", [int(r) for r in idx],
                        column="crs")
            continue
        t = transformer(crs, CRS.from_epsg(4326))
        lo, la = t.transform(east_m[rows], north_m[rows], errcheck=False)
        if _group_outside_vietnam(table, crs, idx, east_m[rows], north_m[rows],
                                  np.asarray(lo, dtype=float), np.asarray(la, dtype=float),
                                  problems):
            continue  # one problem for the group; its rows stay NaN
        lon.iloc[rows], lat.iloc[rows] = lo, la
    missing_crs = ~given.to_numpy()
    report_rows(problems, file, "x/y without a coordinate reference system",
                "add a column crs with the EPSG code of the x/y (e.g. EPSG:3405 for "
                "VN-2000 / UTM 48N, EPSG:9215 for VN-2000 / TM-3 107-15)",
                rows_of(df, missing_crs), column="crs")
    check_vietnam(problems, table, lon, lat, ("x", "y"))
    return lon, lat


def _group_outside_vietnam(
    table: ParsedTable, crs: CRS, idx: pd.Index, east_m: np.ndarray, north_m: np.ndarray,
    lon: np.ndarray, lat: np.ndarray, problems: list[Problem],
) -> bool:
    """Report ONE problem when most rows of a ``crs`` group (two or more) land outside
    Vietnam: the crs value is wrong, not each row. The problem names the usual CRSs under
    which the x/y land in Vietnam (:func:`~._shared.crs_fitting_vietnam`) and the value to
    write in the ``crs`` column. Returns whether it did."""
    fin = np.isfinite(lon) & np.isfinite(lat)
    out = fin & ~in_vietnam(lon, lat)
    if len(idx) < 2 or out.sum() <= fin.sum() / 2:
        return False
    text = str(table.df.loc[idx[0], "crs"])
    rows = [int(r) for r in idx]
    fits = crs_fitting_vietnam(east_m, north_m, crs)
    where = f"around {np.median(lon[out]):.2f} E, {np.median(lat[out]):.2f} N"
    fix = ("write the CRS the x/y are really in in the crs column of these rows"
           + (f", e.g. '{epsg_code(fits[0][0])}' (the x/y stay as they are; of the CRSs "
              "named, pick the one that puts the rows in your study area)" if fits else
              " (e.g. EPSG:3405 for VN-2000 / UTM 48N, EPSG:9215 for VN-2000 / TM-3 "
              "107-15), or correct the x/y"))
    problems.append(Problem(
        table.file, f"{int(out.sum())} of the {len(idx)} rows with crs '{text}' (rows "
        f"{_row_span(rows)}) lie outside Vietnam once read in {crs_label(crs)} ({where}): "
        "the crs value is wrong, not the rows"
        + (f"; their x/y land in Vietnam read as {fitting_text(fits)}" if fits else
           "; no usual CRS of Vietnamese data puts them in Vietnam"),
        fix, row=rows[0], column="crs", value=text))
    return True


def _row_span(rows: Sequence[int]) -> str:
    """``"2-9"`` for consecutive rows, else the first few: ``"2, 5, 7 ..."``."""
    if rows == list(range(rows[0], rows[0] + len(rows))):
        return f"{rows[0]}-{rows[-1]}" if len(rows) > 1 else str(rows[0])
    return ", ".join(map(str, rows[:5])) + (" ..." if len(rows) > 5 else "")


def row_crs(path: Path, schema: Sequence[str], key: str) -> pd.DataFrame | None:
    """Where each row of a table came from, for the checks across inputs (the readers do
    not keep it): the table is read again (cheap: 0.1 s for 10,000 rows).

    Returns
    -------
    pandas.DataFrame or None
        Indexed by ``key`` (first row of each key), columns ``row`` (spreadsheet row),
        ``crs`` (the ``crs`` column as written, ``""`` without one) and ``label`` (the CRS
        the row's coordinates were read in: its ``crs``, else WGS 84 degrees; None when the
        crs is unknown). None when the table cannot be read again.
    """
    table = _tables.read_table(path, schema=schema, problems=[])
    if table is None or key not in table.df.columns:
        return None
    df = table.df[table.df[key].notna()]
    df = df[~df[key].astype(str).duplicated()]
    text = (df["crs"].fillna("").astype(str) if "crs" in df.columns
            else pd.Series("", index=df.index))
    parsed = {t: parse_crs(t) for t in text.unique() if t}
    wgs84 = CRS.from_epsg(4326)
    return pd.DataFrame({"row": np.asarray(df.index, dtype=np.int64),
                         "crs": text.to_numpy(),
                         "label": [parsed[t] if t else wgs84 for t in text]},
                        index=pd.Index(df[key].astype(str), name=key))


def _east_north_m(
    table: ParsedTable, problems: list[Problem], notes: list[Message] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Easting and northing (metres, NaN where not a number) of the ``x``/``y`` columns.

    Rows whose x exceeds y are read as X = northing, Y = easting (the Vietnamese survey
    convention: in Vietnam the northing always exceeds the easting), which is noted.
    """
    df, file = table.df, table.file
    x, y = numbers(table, "x"), numbers(table, "y")
    for col, num in (("x", x), ("y", y)):
        report_rows(problems, file, f"{col} is not a number (metres)",
                    "write the projected coordinate in metres", rows_of(df, num.bad),
                    column=col, values=list(df[col][num.bad]))
    vx, vy = x.values.astype(float), y.values.astype(float)
    swap = (vx > vy).to_numpy()
    if swap.any() and notes is not None:
        notes.append(Message("coords.xy_swapped", source=file, file=file,
                             n=int(swap.sum())))
    return np.where(swap, vy, vx), np.where(swap, vx, vy)


def _lonlat_coordinates(
    table: ParsedTable, groups: list[tuple[CRS | None, pd.Index]], problems: list[Problem],
    notes: list[Message] | None,
) -> tuple[pd.Series, pd.Series]:
    """WGS 84 longitude and latitude of the ``lon``/``lat`` angle columns, reprojected from
    the geographic CRS of each row group; NaN where a problem was reported."""
    df = table.df
    angles = _parse_lonlat(table, problems)
    lon_in, lat_in = angles["lon"].values, angles["lat"].values
    lon = pd.Series(np.nan, index=df.index)
    lat = pd.Series(np.nan, index=df.index)
    lon[:], lat[:] = lon_in.to_numpy(), lat_in.to_numpy()
    _reproject_degrees(table, groups, lon_in, lat_in, lon, lat, problems, notes)
    bad_angle = np.zeros(len(df), dtype=bool)
    for ax in ("lon", "lat"):
        bad_angle[list(angles[ax].errors)] = True
    bad = _check_degree_extent(table, lon, lat, bad_angle, problems)
    return lon.where(~bad), lat.where(~bad)


def _parse_lonlat(table: ParsedTable, problems: list[Problem]) -> dict[str, _tables.Angles]:
    """Parse the ``lon`` and ``lat`` columns as angles (recording DMS and decimal commas in
    ``table``), reporting hemisphere letters of the other axis and cells that are no angle."""
    df, file = table.df, table.file
    angles = {ax: _tables.parse_angles(df[ax], ax) for ax in ("lon", "lat")}
    for ax, got in angles.items():
        if "dms" in got.forms:
            table.dms.add(ax)
        if "comma" in got.forms:
            table.decimal_comma.add(ax)
        other = "latitude" if ax == "lon" else "longitude"
        swapped = [i for i, e in got.errors.items() if e == "swapped"]
        report_rows(problems, file, f"a {other} hemisphere letter in the {ax} column: the "
                    "lon and lat values look swapped", "swap the lon and lat values",
                    [int(df.index[i]) for i in swapped], column=ax,
                    values=[df[ax].iloc[i] for i in swapped])
        others = [(i, e) for i, e in got.errors.items() if e != "swapped"]
        report_rows(problems, file, f"{ax} is not a valid angle",
                    "write decimal degrees (106.7512 or 106,7512) or degrees-minutes-"
                    "seconds (106°45'04\"E, 106 45 04 E)",
                    [int(df.index[i]) for i, _ in others], column=ax,
                    values=[f"{df[ax].iloc[i]}: {e}" for i, e in others])
    return angles


def _reproject_degrees(
    table: ParsedTable, groups: list[tuple[CRS | None, pd.Index]], lon_in: pd.Series,
    lat_in: pd.Series, lon: pd.Series, lat: pd.Series, problems: list[Problem],
    notes: list[Message] | None,
) -> None:
    """Reproject (in place, in ``lon``/``lat``) the degrees of each row group whose CRS is
    not WGS 84; a projected CRS is reported and its rows set to NaN."""
    file = table.file
    for crs, idx in groups:
        if crs is None or crs.equals(CRS.from_epsg(4326)):
            continue
        if not crs.is_geographic:
            report_rows(problems, file, f"lon/lat need a geographic CRS, not "
                        f"{crs_label(crs)}", "give x/y columns (metres) with a projected "
                        "crs, or degrees with a geographic crs (EPSG:4326, EPSG:4756)",
                        [int(r) for r in idx], column="crs")
            lon.loc[idx] = lat.loc[idx] = np.nan
            continue
        t = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
        lo, la = t.transform(lon_in.loc[idx].to_numpy(), lat_in.loc[idx].to_numpy(),
                             errcheck=False)
        lon.loc[idx], lat.loc[idx] = lo, la
        if notes is not None:
            notes.append(Message("coords.reprojected", source=file, file=file, n=len(idx),
                                 crs=crs_label(crs)))


def _check_degree_extent(
    table: ParsedTable, lon: pd.Series, lat: pd.Series, bad_angle: np.ndarray,
    problems: list[Problem],
) -> np.ndarray:
    """Report WGS 84 degrees outside Vietnam's extent (swapped columns, wrong sign, metres,
    other countries); ``bad_angle`` marks rows already reported as no angle.

    Returns
    -------
    numpy.ndarray
        Boolean mask of the rows without a valid position in Vietnam.
    """
    df, file = table.df, table.file
    ln, lt = lon.to_numpy(), lat.to_numpy()
    present = np.isfinite(ln) & np.isfinite(lt) & ~bad_angle
    swapped = present & (ln >= VN_LAT[0]) & (ln <= VN_LAT[1]) & (lt >= VN_LON[0]) & \
        (lt <= VN_LON[1])
    report_rows(problems, file, "longitude and latitude look swapped (Vietnam lies at "
                "8-24 N, 102-110 E)", "swap the lon and lat values", rows_of(df, swapped),
                column="lon", values=list(zip(ln[swapped], lt[swapped], strict=True)))
    other = ~swapped & ~bad_angle
    for ax, arr, rng, what, fix in (
        ("lon", ln, VN_LON, "longitude outside Vietnam (102-110 E)",
         "use WGS 84 decimal degrees, east positive"),
        ("lat", lt, VN_LAT, "latitude outside Vietnam (8-24 N)", "use WGS 84 decimal degrees"),
    ):
        out = other & np.isfinite(arr) & ~((arr >= rng[0]) & (arr <= rng[1]))
        raw = df[ax]
        big = out & (np.abs(np.nan_to_num(arr)) > 1000)
        report_rows(problems, file, what, fix, rows_of(df, out & ~big), column=ax,
                    values=list(raw[out & ~big]))
        report_rows(problems, file, what + ": this looks like metres, not degrees",
                    "give projected coordinates as columns x and y with a crs column "
                    "(e.g. EPSG:3405), or convert them to degrees", rows_of(df, big),
                    column=ax, values=list(raw[big]))
    inside = (ln >= VN_LON[0]) & (ln <= VN_LON[1]) & (lt >= VN_LAT[0]) & (lt <= VN_LAT[1])
    bad: np.ndarray = ~(np.isfinite(ln) & np.isfinite(lt)) | bad_angle | swapped | ~inside
    return bad


def check_vietnam(problems: list[Problem], table: ParsedTable, lon: pd.Series,
                  lat: pd.Series, cols: tuple[str, str]) -> None:
    ln, lt = lon.to_numpy(), lat.to_numpy()
    fin = np.isfinite(ln) & np.isfinite(lt)
    out = fin & ~((ln >= VN_LON[0]) & (ln <= VN_LON[1]) & (lt >= VN_LAT[0]) & (lt <= VN_LAT[1]))
    report_rows(problems, table.file, "the point lies outside Vietnam once reprojected from "
                "its crs", "check the x/y values and the crs", rows_of(table.df, out),
                column="/".join(cols), values=[f"{a:.4f} E, {b:.4f} N"
                                                for a, b in zip(ln[out], lt[out], strict=True)])
    lon[out] = np.nan
    lat[out] = np.nan
