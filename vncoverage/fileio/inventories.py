"""Readers of the operators' inventories: the cell table and the FTTH node table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyproj
from pyproj import CRS

from ..errors import Problem
from ..i18n import Message
from ..names import fold
from ..operators import BANDS, NOMINAL_BANDS, TechnologyLabel, parse_technology
from ..propagation import MODELS
from ..radio import LTE_N_RB, NR_N_RB_30KHZ
from . import _tables
from ._columns import (
    check_range,
    dates,
    missing_columns,
    name_records,
    numbers,
    operators_of,
    read_keyed_table,
    repeated_rows,
    required_text,
    rows_of,
    table_note,
)
from ._coordinates import coordinates
from ._shared import (
    MAX_ROWS_REPORTED,
    check_layer,
    crs_label,
    layer_label,
    layer_names,
    read_layer,
    report_rows,
    to_working_crs,
)
from ._tables import ParsedTable

__all__ = ["CELL_COLUMNS", "DEFAULT_OPERATORS", "FTTH_COLUMNS", "cells_from_table",
           "read_cells", "read_ftth_nodes"]

#: Required columns of the cell table, in order, with their units.
CELL_COLUMNS: dict[str, str] = {
    "site_id": "tower identifier, shared by every operator on the tower",
    "cell_id": "unique cell identifier",
    "operator": "Viettel, VNPT or MobiFone",
    "technology": "2G, 3G, 4G or 5G",
    "lon": "longitude, WGS 84 decimal degrees (east positive)",
    "lat": "latitude, WGS 84 decimal degrees",
    "height_m": "antenna height above ground, m",
    "azimuth_deg": "boresight azimuth clockwise from north, degrees; empty = omni",
    "tilt_deg": "electrical downtilt, degrees (positive = down)",
    "frequency_mhz": "carrier frequency, MHz",
    "bandwidth_mhz": "channel bandwidth, MHz",
    "eirp_dbm": "total carrier EIRP at boresight, dBm",
    "commissioned": "date the cell went on air, YYYY-MM-DD (may be empty)",
    "tower_owner": "company owning the tower (an operator or a tower company)",
}

OPTIONAL_CELL_COLUMNS: dict[str, str] = {
    "mechanical_tilt_deg": "mechanical downtilt, degrees (default 0)",
}

FTTH_COLUMNS = ("node_id", "node_type", "operator", "olt_id", "lon", "lat", "ports",
                "ports_used")

#: Columns each table may hold (canonical names; see ``_tables.COLUMN_ALIASES``).
CELL_SCHEMA = (*CELL_COLUMNS, *OPTIONAL_CELL_COLUMNS, "x", "y", "crs")

FTTH_SCHEMA = (*FTTH_COLUMNS, "name", "x", "y", "crs")

#: Operators when no config is given (DOMAIN.md); ``load_inputs`` uses ``[kpi] operators``.
DEFAULT_OPERATORS = ("Viettel", "VNPT", "MobiFone")

#: Cells of one site farther apart than this are conflicting rows, m (assumption: operators
#: survey a shared tower separately; a few tens of metres apart is normal).
SITE_SPREAD_MAX_M = 300.0


def _frequency_domain() -> tuple[float, float]:
    """Union of the frequency domains of the registered propagation models, MHz."""
    return (min(m.domain.freq_mhz[0] for m in MODELS.values()),
            max(m.domain.freq_mhz[1] for m in MODELS.values()))


def read_cells(
    path: str | Path, *, working_crs: CRS, problems: list[Problem],
    notes: list[Message] | None = None, operators: Sequence[str] = DEFAULT_OPERATORS,
    formats: dict[str, Message] | None = None,
) -> gpd.GeoDataFrame | None:
    """The cell inventory (one row per cell), indexed by ``cell_id``, as points in the
    working CRS. Columns: :data:`CELL_COLUMNS` (+ optional ``mechanical_tilt_deg``).

    The file may be CSV or Excel in any of the forms of :mod:`vncoverage._tables`
    (encodings, separators, decimal commas, DMS, Vietnamese column names); how it was read
    goes to ``formats`` and, when not canonical, to ``notes``. Operator and tower-owner
    names are matched to ``operators`` (``vinaphone``, ``VNP``, ``452-02`` -> ``VNPT``),
    technologies to 2G-5G (``LTE`` -> ``4G``, ``LTE1800`` -> ``4G`` in band B3), each
    change noted; a cell's operator that is not one of ``operators`` is an error (a tower
    owner may be any company), and so is a technology label naming a band that does not
    hold the row's ``frequency_mhz``. Dates: see :func:`._columns.dates`. Rows repeated
    exactly are dropped (noted); rows sharing a ``cell_id`` with different values, cells of
    one site more than :data:`SITE_SPREAD_MAX_M` apart or with different non-empty tower
    owners are errors.
    """
    path = Path(path)
    n0 = len(problems)
    table = read_keyed_table(path, CELL_SCHEMA, list(CELL_COLUMNS), what="cell table",
                             key="cell_id", unit="cell", problems=problems, notes=notes,
                             formats=formats)
    if table is None:
        return None
    return cells_from_table(table, working_crs=working_crs, problems=problems, notes=notes,
                            operators=operators, start=n0)


def cells_from_table(
    table: ParsedTable, *, working_crs: CRS, problems: list[Problem],
    notes: list[Message] | None = None, operators: Sequence[str] = DEFAULT_OPERATORS,
    start: int | None = None,
) -> gpd.GeoDataFrame | None:
    """The checks and the result of :func:`read_cells` on a table already read (the cell
    table, or the cells a site-level list expands to: :mod:`.sites`). ``start``: the
    number of problems before the table was read (its problems are named by record
    from there); None: now."""
    file = table.file
    n0 = len(problems) if start is None else start
    df = table.df
    required_text(table, ("site_id", "cell_id", "operator", "technology"), problems)
    tech, renamed_tech = _technologies(table, problems)
    changes: dict[str, str] = {}
    operator = operators_of(table, "operator", operators, changes, problems, role="cell")
    owner = operators_of(table, "tower_owner", operators, changes, role="owner", notes=notes)
    if notes is not None and (changes or renamed_tech):
        notes.append(_names_note(file, {**changes, **renamed_tech}))
    lon, lat = coordinates(table, problems, notes)
    check_range(problems, table, "height_m", 1, 300, "antenna height above ground in m")
    check_range(problems, table, "azimuth_deg", 0, 360,
                "degrees clockwise from north, or empty for an omni cell", allow_empty=True)
    check_range(problems, table, "tilt_deg", -10, 30, "downtilt in degrees", allow_empty=True)
    flo, fhi = _frequency_domain()
    freq = numbers(table, "frequency_mhz").values
    _check_bands(table, freq, problems)
    beyond = ((freq < flo) | (freq > fhi)).to_numpy()
    report_rows(problems, file, "frequency_mhz is outside every propagation model's validity "
                f"domain ({flo:g}-{fhi:g} MHz)", "carrier frequency in MHz (e.g. 1800)",
                rows_of(df, beyond), column="frequency_mhz",
                values=list(df["frequency_mhz"][beyond]))
    check_range(problems, replace(table, df=df[~beyond]), "frequency_mhz", 400, 6000,
                "carrier frequency in MHz of a mobile band (e.g. 1800)")
    check_range(problems, table, "bandwidth_mhz", 0.1, 400, "channel bandwidth in MHz")
    check_range(problems, table, "eirp_dbm", 20, 90, "total carrier EIRP in dBm")
    if "mechanical_tilt_deg" in df.columns:
        check_range(problems, table, "mechanical_tilt_deg", -10, 30, "degrees",
                    allow_empty=True)
    bw = numbers(table, "bandwidth_mhz").values
    for t, n_rb in (("4G", LTE_N_RB), ("5G", NR_N_RB_30KHZ)):
        ok = bw.apply(lambda b, n_rb=n_rb: any(abs(b - k) < 1e-6 for k in n_rb))
        wrong = ((tech == t) & ~ok & bw.notna()).to_numpy()
        report_rows(problems, file, f"not a {t} channel bandwidth",
                    "use one of " + ", ".join(f"{k:g}" for k in n_rb), rows_of(df, wrong),
                    column="bandwidth_mhz", values=list(df["bandwidth_mhz"][wrong]))
    comm = dates(table, "commissioned", problems, notes)
    _check_sites(table, lon, lat, owner, problems)
    table_note(table, notes)
    name_records(problems, n0, table, "cell_id")
    if len(problems) > n0:
        return None
    height = numbers(table, "height_m").values
    out = pd.DataFrame(
        {
            "site_id": df["site_id"].astype(str),
            "operator": operator.astype(str),
            "technology": tech.astype(str),
            "lon": lon.astype(float), "lat": lat.astype(float),
            "height_m": height,
            "azimuth_deg": numbers(table, "azimuth_deg").values,
            "tilt_deg": numbers(table, "tilt_deg").values.fillna(0.0),
            "mechanical_tilt_deg": (numbers(table, "mechanical_tilt_deg").values.fillna(0.0)
                                    if "mechanical_tilt_deg" in df.columns else 0.0),
            "frequency_mhz": numbers(table, "frequency_mhz").values,
            "bandwidth_mhz": bw,
            "eirp_dbm": numbers(table, "eirp_dbm").values,
            "commissioned": comm.dt.date,
            "tower_owner": owner.fillna("").astype(str),
        },
    ).set_axis(pd.Index(df["cell_id"].astype(str), name="cell_id"))
    for c in ("site_id", "operator", "technology", "tower_owner"):
        out[c] = out[c].astype(str)
    gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"].to_numpy(),
                                                            out["lat"].to_numpy()),
                           crs="EPSG:4326")
    return gdf.to_crs(working_crs)


def _technologies(table: ParsedTable,
                  problems: list[Problem]) -> tuple[pd.Series, dict[str, str]]:
    """The technology column as 2G-5G (:func:`vncoverage.operators.parse_technology`) and
    ``{label: how it was read}`` for the labels written otherwise (for the notes). Labels
    that are no technology, or name a band or frequency not in
    :data:`vncoverage.operators.BANDS`, are problems."""
    df, file = table.df, table.file
    raw = df["technology"]
    labels = {v: parse_technology(v) for v in raw.dropna().unique()}
    tech = raw.map({v: t.technology if t is not None else None for v, t in labels.items()})
    tech = tech.astype(object).where(tech.notna(), None)
    bad = (tech.isna() & raw.notna()).to_numpy()
    report_rows(problems, file, "technology must be 2G, 3G, 4G or 5G",
                "fix the value (2G, 3G, 4G, 5G, or a label such as LTE, LTE1800, NR3500, n78, "
                "UMTS2100, GSM900)", rows_of(df, bad), column="technology",
                values=list(raw[bad]))
    for v, t in labels.items():
        if t is not None and t.unknown_band:
            bands = ", ".join(b.name for b in BANDS if b.technology == t.technology)
            mhz = ", ".join(str(f) for (k, f) in NOMINAL_BANDS if k == t.technology)
            rows = rows_of(df, raw == v)
            report_rows(problems, file, f"technology '{v}' names {t.carries}, not a "
                        f"{t.technology} band used in Vietnam",
                        f"write the technology alone ({t.technology}), or with one of its "
                        f"bands ({bands}; or {mhz} MHz)", rows, column="technology",
                        values=[v] * len(rows))
    renamed = {str(v): (Message("tech.bands", technology=t.technology,
                                bands=[b.name for b in t.bands]) if t.bands else t.technology)
               for v, t in labels.items() if t is not None and str(v).upper() != t.technology}
    return tech, renamed


def _names_note(file: str, pairs: dict[str, str]) -> Message:
    """The note on the operator and technology labels read as another name
    (``{as written: as read}``)."""
    return Message("names.read_as", source=file, file=file,
                   pairs=[Message("names.pair", written=a, read=b)
                          for a, b in sorted(pairs.items())])


def _check_bands(table: ParsedTable, freq: pd.Series, problems: list[Problem]) -> None:
    """A technology label naming a band (``LTE1800``, ``n78``) must fit the row's
    ``frequency_mhz``."""
    df = table.df
    raw = df["technology"]
    labels: dict[str, TechnologyLabel] = {}
    for v in raw.dropna().unique():
        t = parse_technology(v)
        if t is not None and t.bands:
            labels[v] = t
    for v, t in labels.items():
        mine = (raw == v).to_numpy() & freq.notna().to_numpy()
        wrong = mine & ~freq.map(t.fits).to_numpy(dtype=bool)
        ranges = " or ".join(b.describe() for b in t.bands)
        report_rows(problems, table.file, f"frequency_mhz is outside the band its technology "
                    f"'{v}' names: {ranges}",
                    "correct frequency_mhz (the carrier frequency in MHz) or the technology "
                    "label", rows_of(df, wrong), column="frequency_mhz",
                    values=list(df["frequency_mhz"][wrong]))


def _check_sites(table: ParsedTable, lon: pd.Series, lat: pd.Series, owner: pd.Series,
                 problems: list[Problem]) -> None:
    """Cells of one tower must stand together and name one tower owner."""
    df = table.df
    site = df["site_id"]
    ok = site.notna() & lon.notna() & lat.notna()
    if not ok.any():
        return
    geod = pyproj.Geod(ellps="WGS84")
    frame = pd.DataFrame({"site": site[ok], "lon": lon[ok], "lat": lat[ok]})
    first = frame.groupby("site", sort=False)[["lon", "lat"]].transform("first")
    _, _, dist = geod.inv(first["lon"].to_numpy(), first["lat"].to_numpy(),
                          frame["lon"].to_numpy(), frame["lat"].to_numpy())
    far = pd.Series(dist, index=frame.index) > SITE_SPREAD_MAX_M
    spread = pd.Series(dist, index=frame.index)
    for sid in list(dict.fromkeys(frame.loc[far, "site"]))[:MAX_ROWS_REPORTED]:
        mine = frame["site"] == sid
        rows = [int(r) for r in frame.index[mine]]
        problems.append(Problem(table.file, f"the cells of site '{sid}' (rows {rows}) are "
                                f"up to {spread[mine].max():.0f} m "
                                f"apart (more than {SITE_SPREAD_MAX_M:g} m): conflicting "
                                "coordinates for one tower",
                                "correct the coordinates, or give different towers different "
                                "site_id", row=rows[0], column="lon/lat"))
    own = pd.DataFrame({"site": site, "owner": owner}).dropna()
    own = own[own["owner"] != ""]
    n_own = own.groupby("site")["owner"].nunique()
    for sid in n_own.index[n_own > 1][:MAX_ROWS_REPORTED]:
        grp = own[own["site"] == sid]
        detail = ", ".join(f"'{o}' on rows {[int(r) for r in g.index]}"
                           for o, g in grp.groupby("owner", sort=False))
        problems.append(Problem(table.file, f"site '{sid}' has conflicting tower_owner "
                                f"values ({detail})", "give every cell of a tower the same "
                                "tower owner", row=int(grp.index[0]), column="tower_owner"))


#: File suffixes read as vector layers (through GDAL) rather than as tables.
VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".kml", ".sqlite")


def is_vector_file(path: str | Path) -> bool:
    """Whether ``path`` is read as a vector layer (GeoPackage, GeoJSON, Shapefile ...)."""
    return Path(path).suffix.lower() in VECTOR_SUFFIXES


def read_ftth_nodes(
    path: str | Path, *, working_crs: CRS, problems: list[Problem],
    notes: list[Message] | None = None, operators: Sequence[str] = DEFAULT_OPERATORS,
    formats: dict[str, Message] | None = None, layer: str | None = None,
) -> gpd.GeoDataFrame | None:
    """OLTs and splitters (one table), indexed by ``node_id``; read like
    :func:`read_cells` (any accepted table form, coordinates in degrees, DMS or x/y). A
    node's operator is one of ``operators`` or a known fixed broadband provider
    (:data:`vncoverage.operators.KNOWN_OPERATORS`, e.g. FPT Telecom); anything else is an
    error.

    A vector file of points (:data:`VECTOR_SUFFIXES`: GeoPackage, GeoJSON, Shapefile ...;
    ``layer`` = ``[inputs] ftth_nodes_layer``, needed when the file has several layers) is
    read as the same table: its attributes are the columns (same names and aliases, same
    checks), the point gives the position in the CRS the layer declares (reprojected; a
    layer without a CRS is a problem, never guessed); rows in messages are feature numbers
    (1 = first feature)."""
    path = Path(path)
    file = str(path)
    n0 = len(problems)
    position: tuple[pd.Series, pd.Series] | None = None
    table: ParsedTable | None
    if is_vector_file(path):
        got = _vector_table(path, layer, problems, notes, formats)
        if got is None:
            return None
        table, position = got
    else:
        if layer is not None and notes is not None:
            notes.append(Message("inputs.layer_ignored", source=file, key="ftth_nodes_layer",
                                 layer=layer))
        table = read_keyed_table(path, FTTH_SCHEMA, FTTH_COLUMNS, what="FTTH node table",
                                 key="node_id", unit="node", problems=problems, notes=notes,
                                 formats=formats)
    if table is None:
        return None
    df = table.df
    required_text(table, ("node_id",), problems)
    kind = df["node_type"].map({v: fold(v) for v in df["node_type"].dropna().unique()})
    kind = kind.replace({"bo chia": "splitter", "spliter": "splitter"})
    wrong = (~kind.isin(["olt", "splitter"])).to_numpy()
    report_rows(problems, file, "node_type must be 'olt' or 'splitter'", "fix the value",
                rows_of(df, wrong), column="node_type", values=list(df["node_type"][wrong]))
    olts = set(df.loc[kind == "olt", "node_id"])
    spl = (kind == "splitter").to_numpy()
    orphan = spl & ~df["olt_id"].isin(olts).to_numpy()
    report_rows(problems, file, "splitter's olt_id is not an OLT of this table",
                "set olt_id to the node_id of its OLT", rows_of(df, orphan), column="olt_id",
                values=list(df["olt_id"][orphan]))
    lon, lat = (coordinates(table, problems, notes) if position is None
                else (position[0].reindex(df.index), position[1].reindex(df.index)))
    ports, used = numbers(table, "ports"), numbers(table, "ports_used")
    pv, uv = ports.values, used.values
    bad = spl & (pv.isna() | (pv < 1) | uv.isna() | (uv < 0) | (uv > pv)).to_numpy()
    report_rows(problems, file, "splitters need ports >= 1 and 0 <= ports_used <= ports",
                "fix the port counts", rows_of(df, bad), column="ports_used",
                values=list(zip(df["ports"][bad], df["ports_used"][bad], strict=True)))
    changes: dict[str, str] = {}
    operator = operators_of(table, "operator", operators, changes, problems, role="ftth")
    if changes and notes is not None:
        notes.append(_names_note(file, changes))
    table_note(table, notes)
    name_records(problems, n0, table, "node_id")
    if len(problems) > n0:
        return None
    out = pd.DataFrame(
        {
            "node_type": kind.astype(str),
            "operator": operator.fillna("").astype(str),
            "olt_id": df["olt_id"],
            "ports": pv.fillna(0).astype("int64"),
            "ports_used": uv.fillna(0).astype("int64"),
            "name": df["name"].fillna("").astype(str) if "name" in df.columns else "",
        },
    ).set_axis(pd.Index(df["node_id"].astype(str), name="node_id"))
    gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(lon.to_numpy(), lat.to_numpy()),
                           crs="EPSG:4326")
    return gdf.to_crs(working_crs)


#: The columns a vector layer's geometry gives (its attributes of these names are ignored).
_POSITION_COLUMNS = ("lon", "lat", "x", "y", "crs")


def _vector_table(path: Path, layer: str | None, problems: list[Problem],
                  notes: list[Message] | None, formats: dict[str, Message] | None
                  ) -> tuple[ParsedTable, tuple[pd.Series, pd.Series]] | None:
    """The FTTH node layer of a vector file as a table of text (the attributes, columns
    named as in a table) and the points' lon/lat in WGS 84 degrees, indexed by feature
    number (1 = first); None when it cannot be used (problems reported)."""
    file = str(path)
    if not check_layer(path, layer, "ftth_nodes_layer", problems):
        return None
    names = layer_names(path)
    if layer is None and names is not None and len(names) > 1:
        listed = ", ".join(f"'{n}'" for n in names)
        problems.append(Problem(file, f"the file has several layers ({listed}) and [inputs] "
                                "ftth_nodes_layer is not set",
                                f"set [inputs] ftth_nodes_layer to the layer of the FTTH "
                                f"nodes (one of {listed})"))
        return None
    gdf = read_layer(path, layer, problems)
    if gdf is None:
        return None
    label = layer_label(path, layer)
    gdf = gdf.set_axis(pd.RangeIndex(1, len(gdf) + 1))
    geom = gdf.geometry
    bad = (geom.isna() | geom.is_empty | (geom.geom_type != "Point")).to_numpy()
    report_rows(problems, file, "the feature is not a point", "give each FTTH node as one "
                "point (OLTs and splitters)", [int(i) for i in gdf.index[bad]],
                column="geometry", values=[str(t) for t in geom.geom_type[bad]])
    if bad.any():
        return None
    wgs = to_working_crs(gdf, label, CRS.from_epsg(4326), problems)
    if wgs is None:
        return None
    attrs = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    canon, renamed, ignored = _tables._map_columns(attrs, FTTH_SCHEMA, file=file,
                                                   problems=problems)
    df = pd.DataFrame({new: [cell_text(x) for x in gdf[old].astype(object)]
                       for old, new in zip(attrs, canon, strict=True)
                       if new not in _POSITION_COLUMNS}, index=gdf.index, dtype=object)
    for old, new in zip(attrs, canon, strict=True):
        if new in _POSITION_COLUMNS:
            ignored[old] = Message("inputs.geometry_gives")
            renamed.pop(old, None)
    lon, lat = wgs.geometry.x.astype(float), wgs.geometry.y.astype(float)
    # the position is part of a row: two nodes at different points are not repeats
    df["lon"], df["lat"] = lon.map(repr), lat.map(repr)
    driver = VECTOR_DRIVERS.get(path.suffix.lower(), path.suffix.lstrip(".").upper())
    table = ParsedTable(df=df, file=file, fmt=driver, sheet=None, renamed=renamed,
                        ignored=ignored)
    if formats is not None:
        formats[file] = Message("inputs.vector_read", source=file, driver=driver,
                                layer=layer or (names[0] if names else ""),
                                crs=crs_label(CRS(gdf.crs)))
    if missing_columns(table, FTTH_COLUMNS, "FTTH node layer", problems):
        return None
    repeated_rows(table, "node_id", "node", problems, notes)
    return table, (lon, lat)


#: The format names of the vector files, by suffix (the others: the suffix in capitals).
VECTOR_DRIVERS = {".gpkg": "GeoPackage", ".geojson": "GeoJSON", ".json": "GeoJSON",
            ".shp": "Shapefile", ".fgb": "FlatGeobuf"}


def cell_text(v: object) -> str | None:
    """An attribute as the text a table cell would hold (None when empty): integers without
    a decimal point, other numbers as Python writes them."""
    if v is None or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    text = str(v).strip()
    return text or None
