"""OpenCelliD's cell export to a site list (``vncoverage import opencellid``).

OpenCelliD (opencellid.org) publishes crowd-sourced cell positions as CSV, one row per
cell, in the columns :data:`OCID_COLUMNS` (the per-country and world dumps have no header
row; the API's downloads have one; either is read, plain or gzipped). ``created`` and
``updated`` are Unix seconds; ``net`` is the mobile network code (MNC), ``range`` the
estimated cell range in metres, ``samples`` the number of measurements behind the position.

:func:`import_opencellid` keeps Vietnam's cells (MCC 452) inside the study area (the
bounding box of the configuration's villages, points or polygons, grown by the largest
computation radius),
names their operator from the MNC (:data:`MNC_OPERATORS`), reads the radio as a technology
(:data:`RADIOS`), groups each operator's cells into sites (single linkage: cells within
``cluster_m`` of each other, chained, are one site) and writes a site list that
``[inputs] sites`` reads (:mod:`.sites`), atomically.

The positions are estimates from phones' measurements, often hundreds of metres off the
mast (DOMAIN.md, "Operators and identifiers"); a site is the samples-weighted centre of its
cells' positions. Both are said in the output (``position_note``) and in the notes of every
run that uses it (``source = opencellid``). Single linkage can chain the cells of
neighbouring masts closer than ``cluster_m`` into one site: ``spread_m`` says how far a
site's cells lie from its centre.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pyproj
from pyproj import CRS
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ..config import Config
from ..errors import InputDataError, Problem
from ..i18n import Message
from ..operators import KNOWN_OPERATORS, MCC_VIETNAM, identify_operator
from .atomic import write_csv
from .village_points import read_village_points

__all__ = ["CLOSED_MNC", "DEFAULT_CLUSTER_M", "MNC_OPERATORS", "OCID_COLUMNS", "RADIOS",
           "ImportSummary", "import_opencellid", "read_opencellid", "study_area_wgs84"]

#: OpenCelliD's CSV columns, in order (opencellid.org, "Database" / downloads page).
OCID_COLUMNS = ("radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range",
                "samples", "changeable", "created", "updated", "averageSignal")

#: OpenCelliD's radio -> technology. ``CDMA`` is dropped (noted): Vietnam has had no CDMA
#: network since S-Fone closed.
RADIOS = {"GSM": "2G", "UMTS": "3G", "LTE": "4G", "NR": "5G"}

#: MNC under MCC 452 -> operator, from ITU-T E.212 (list of mobile network codes, annex to
#: ITU Operational Bulletin No. 1111, position 2016-10-31) as :data:`vncoverage.operators.
#: KNOWN_OPERATORS` holds it: 01 MobiFone, 02 VinaPhone (VNPT), 04 Viettel, 05 Vietnamobile,
#: 07 Gmobile.
MNC_OPERATORS: dict[str, str] = {m: op.name for op in KNOWN_OPERATORS for m in op.mnc}

#: MNC of networks closed since (same list): their rows are dropped (noted). 03 S-Fone
#: (CDMA), 06 and 08 EVNTelecom (merged into Viettel in 2011). Assumption: OpenCelliD rows
#: under them are stale.
CLOSED_MNC: dict[str, str] = {"03": "S-Fone", "06": "EVNTelecom", "08": "EVNTelecom"}

#: Cells of one operator within this of each other are one site, m (assumption: a mast's
#: crowd-sourced cell positions scatter over a few hundred metres).
DEFAULT_CLUSTER_M = 300.0

#: Rows read at a time (a country's dump has millions of rows).
CHUNK_ROWS = 500_000

#: Columns of the site list written, in order.
SITE_LIST_COLUMNS = ("site_id", "operator", "lon", "lat", "technologies", "samples",
                     "range_m", "n_cells", "spread_m", "first_seen", "last_seen", "source",
                     "position_note")


@dataclass
class ImportSummary:
    """What :func:`read_opencellid` did: rows read, of other countries, outside the area,
    dropped per reason (:class:`~vncoverage.i18n.Message`), kept, and the sites made."""

    rows: int = 0
    other_mcc: int = 0
    outside: int = 0
    kept: int = 0
    sites: int = 0
    dropped: list[tuple[Message, int]] = field(default_factory=list)
    per_operator: dict[str, int] = field(default_factory=dict)
    notes: list[Message] = field(default_factory=list)
    bbox: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


def study_area_wgs84(cfg: Config) -> tuple[float, float, float, float]:
    """``(lon_min, lat_min, lon_max, lat_max)``: the bounding box of the villages of
    ``cfg``, the run's study area (:mod:`.extents`), grown by the largest computation radius
    (``[radio] max_radius_m``), in WGS 84 degrees. The villages are the ``villages_layer``
    of ``boundaries`` (the ``communes_layer``, or every layer, when it has none); with
    ``[inputs] village_points``, the village areas built from the points and the communes
    that hold them (:func:`.village_points.read_village_points`), not the whole communes
    layer.

    Raises
    ------
    InputDataError
        When the boundaries are not set or cannot be read, or the village points cannot be
        used (their problems).
    """
    inp = cfg.inputs
    if inp.boundaries is None:
        raise InputDataError([Problem("config", "[inputs] boundaries is not set: the study "
                                      "area is unknown", "set [inputs] boundaries")])
    path = Path(inp.boundaries)
    working = CRS.from_user_input(cfg.study.working_crs)
    pad = max(cfg.radio.max_radius_m.values())
    if inp.village_points is not None:
        problems: list[Problem] = []
        villages, _ = read_village_points(inp, path, working, problems, [])
        if villages is None or not len(villages):
            raise InputDataError(problems or [Problem(
                str(inp.village_points), "no village to take the study area from",
                "check [inputs] village_points")])
        x0, y0, x1, y1 = (float(v) for v in villages.total_bounds)
    else:
        x0, y0, x1, y1 = _layer_bounds(path, inp.villages_layer, inp.communes_layer, working)
    back = pyproj.Transformer.from_crs(working, "EPSG:4326", always_xy=True)
    lon0, lat0, lon1, lat1 = back.transform_bounds(x0 - pad, y0 - pad, x1 + pad, y1 + pad,
                                                   densify_pts=21)
    return float(lon0), float(lat0), float(lon1), float(lat1)


def _layer_bounds(path: Path, villages_layer: str | None, communes_layer: str | None,
                  working: CRS) -> tuple[float, float, float, float]:
    """The bounds (working CRS) of ``villages_layer`` of the boundaries file, else of its
    ``communes_layer``, else of all its layers."""
    try:
        names = [str(n) for n, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # GDAL's errors for a missing or foreign file are many
        raise InputDataError([Problem(str(path), f"cannot be read ({exc})",
                                      "check [inputs] boundaries")]) from None
    pick = [x for x in (villages_layer, communes_layer) if x in names][:1] or names
    boxes = []
    for layer in pick:
        info = pyogrio.read_info(path, layer=layer, force_total_bounds=True)
        if info.get("crs") is None or info.get("total_bounds") is None:
            continue
        t = pyproj.Transformer.from_crs(info["crs"], working, always_xy=True)
        b0, b1, b2, b3 = (float(v) for v in info["total_bounds"])
        boxes.append(t.transform_bounds(b0, b1, b2, b3, densify_pts=21))
    if not boxes:
        raise InputDataError([Problem(str(path), "no layer with a CRS and features to take "
                                      "the study area from", "check [inputs] boundaries")])
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes))


def _has_header(path: Path) -> bool:
    """Whether the file's first line is OpenCelliD's header (``radio,mcc,...``)."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        first = fh.readline()
    return first.strip().lstrip("\ufeff").split(",")[0].strip().lower() == "radio"


def _chunks(path: Path) -> pd.io.parsers.TextFileReader:
    """The file in chunks of :data:`CHUNK_ROWS` rows, columns :data:`OCID_COLUMNS`."""
    return pd.read_csv(path, header=0 if _has_header(path) else None,
                       names=list(OCID_COLUMNS), usecols=range(len(OCID_COLUMNS)),
                       dtype=str, chunksize=CHUNK_ROWS, compression="infer",
                       keep_default_na=False, encoding="utf-8")


def read_opencellid(
    path: str | Path, *, bbox: tuple[float, float, float, float],
    operators: Sequence[str], working_crs: str | CRS = "EPSG:32648",
    cluster_m: float = DEFAULT_CLUSTER_M,
) -> tuple[pd.DataFrame, ImportSummary]:
    """The site list of an OpenCelliD CSV (plain or ``.gz``, with or without its header
    row) and what was read, kept and dropped.

    Kept: MCC 452 rows within ``bbox`` (WGS 84 degrees) whose MNC names one of
    ``operators`` (:data:`MNC_OPERATORS`, matched like every operator label) and whose
    radio is in :data:`RADIOS`. Dropped and counted per reason: CDMA and unknown radios, an
    MNC of a closed network (:data:`CLOSED_MNC`), of a licensed operator that is not
    configured, or unknown (the codes listed). Sites: :func:`_cluster`.

    Raises
    ------
    InputDataError
        When the file is missing or is not in OpenCelliD's layout.
    """
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise InputDataError([Problem(file, "file not found", "check the path")])
    summary = ImportSummary(bbox=bbox)
    kept: list[pd.DataFrame] = []
    dropped: dict[str, dict[str, int]] = {}
    try:
        for chunk in _chunks(path):
            kept.append(_filter(chunk, bbox, operators, summary, dropped))
    except (ValueError, OSError, EOFError, pd.errors.ParserError) as exc:
        raise InputDataError([Problem(file, f"not an OpenCelliD CSV ({exc})",
                                      "give the CSV (or .csv.gz) of OpenCelliD, columns "
                                      + ", ".join(OCID_COLUMNS))]) from None
    summary.dropped = _dropped_messages(dropped)
    cells = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame(
        columns=[*OCID_COLUMNS, "operator", "technology", "mnc"])
    summary.kept = len(cells)
    summary.per_operator = {str(k): int(v) for k, v in
                            cells["operator"].value_counts().sort_index().items()}
    sites = _cluster(cells, CRS.from_user_input(working_crs), cluster_m)
    summary.sites = len(sites)
    summary.notes.append(Message("opencellid.position", distance=cluster_m))
    return sites, summary


def _filter(chunk: pd.DataFrame, bbox: tuple[float, float, float, float],
            operators: Sequence[str], summary: ImportSummary,
            dropped: dict[str, dict[str, int]]) -> pd.DataFrame:
    """The rows of one chunk to keep, with ``operator``, ``technology`` and ``mnc``;
    counts in ``summary`` and ``dropped`` (``{reason: {code: rows}}``)."""
    summary.rows += len(chunk)
    mcc = pd.to_numeric(chunk["mcc"], errors="coerce")
    mine = (mcc == int(MCC_VIETNAM)).to_numpy()
    summary.other_mcc += int((~mine).sum())
    c = chunk[mine]
    lon = pd.to_numeric(c["lon"], errors="coerce")
    lat = pd.to_numeric(c["lat"], errors="coerce")
    inside = ((lon >= bbox[0]) & (lon <= bbox[2]) & (lat >= bbox[1])
              & (lat <= bbox[3])).to_numpy()
    summary.outside += int((~inside).sum())
    c = c[inside].assign(lon=lon[inside], lat=lat[inside])
    net = pd.to_numeric(c["net"], errors="coerce")
    mnc = net.map(lambda n: f"{int(n):02d}" if pd.notna(n) else "?")
    names = {m: identify_operator(f"{MCC_VIETNAM}-{m}", operators) for m in mnc.unique()}
    status = mnc.map(lambda m: names[m].status)
    radio = c["radio"].str.strip().str.upper()
    tech = radio.map(RADIOS)
    reason = pd.Series("", index=c.index, dtype=object)
    reason[tech.isna()] = np.where(radio[tech.isna()] == "CDMA", "cdma", "radio")
    code = pd.Series("", index=c.index, dtype=object)
    code[tech.isna()] = radio[tech.isna()]
    todo = (reason == "").to_numpy()
    closed = todo & mnc.isin(list(CLOSED_MNC)).to_numpy()
    other = todo & ~closed & (status == "licensed").to_numpy()
    unknown = todo & ~closed & ~(status.isin(["configured", "licensed"])).to_numpy()
    for mask, why in ((closed, "closed"), (other, "not_configured"), (unknown, "unknown")):
        reason[mask] = why
        code[mask] = np.array([f"{MCC_VIETNAM}-{m}" + (
            f" {names[m].name}" if why == "not_configured" else f" {CLOSED_MNC[m]}"
            if why == "closed" else "") for m in mnc[mask]], dtype=object)
    for why, cd in zip(reason[reason != ""], code[reason != ""], strict=True):
        per = dropped.setdefault(why, {})
        per[cd] = per.get(cd, 0) + 1
    keep = (reason == "").to_numpy()
    out = c[keep].copy()
    out["operator"] = mnc[keep].map(lambda m: names[m].name)
    out["technology"] = tech[keep]
    out["mnc"] = mnc[keep]
    return out


def _dropped_messages(dropped: dict[str, dict[str, int]]) -> list[tuple[Message, int]]:
    """``(reason, rows)`` of the rows dropped, a reason naming its codes."""
    out = []
    for why, codes in dropped.items():
        listed = [f"{c} ({n:,})" for c, n in sorted(codes.items())]
        reason = {"cdma": Message("opencellid.cdma"),
                  "radio": Message("opencellid.radio", radios=listed),
                  "closed": Message("opencellid.closed_mnc", codes=listed),
                  "not_configured": Message("opencellid.not_configured", codes=listed),
                  "unknown": Message("opencellid.unknown_mnc", codes=listed)}[why]
        out.append((reason, sum(codes.values())))
    return out


_ORDER = ("2G", "3G", "4G", "5G")


def _cluster(cells: pd.DataFrame, working: CRS, cluster_m: float) -> pd.DataFrame:
    """Each operator's cells grouped into sites: cells within ``cluster_m`` of each other
    (chained: single linkage, the connected components of the graph of such pairs; scipy's
    cKDTree and connected_components) are one site, at the samples-weighted centre of its
    cells (a cell with no sample counts once)."""
    if not len(cells):
        return pd.DataFrame(columns=list(SITE_LIST_COLUMNS))
    tr = pyproj.Transformer.from_crs("EPSG:4326", working, always_xy=True)
    back = pyproj.Transformer.from_crs(working, "EPSG:4326", always_xy=True)
    frames = []
    for (op, mnc), grp in cells.groupby(["operator", "mnc"], sort=True):
        x, y = tr.transform(grp["lon"].to_numpy(float), grp["lat"].to_numpy(float))
        xy = np.column_stack([x, y])
        pairs = cKDTree(xy).query_pairs(cluster_m, output_type="ndarray")
        n = len(xy)
        graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        _, label = connected_components(graph, directed=False)
        w = np.maximum(pd.to_numeric(grp["samples"], errors="coerce").fillna(0).to_numpy(),
                       1.0)
        df = pd.DataFrame({"label": label, "x": x * w, "y": y * w, "w": w,
                           "samples": pd.to_numeric(grp["samples"], errors="coerce")
                           .fillna(0).to_numpy(),
                           "range": pd.to_numeric(grp["range"], errors="coerce").to_numpy(),
                           "created": pd.to_numeric(grp["created"], errors="coerce").to_numpy(),
                           "updated": pd.to_numeric(grp["updated"], errors="coerce").to_numpy(),
                           "technology": grp["technology"].to_numpy()})
        g = df.groupby("label")
        cx = g["x"].sum() / g["w"].sum()
        cy = g["y"].sum() / g["w"].sum()
        spread = np.hypot(x - cx.reindex(label).to_numpy(), y - cy.reindex(label).to_numpy())
        lon, lat = back.transform(cx.to_numpy(), cy.to_numpy())
        site = pd.DataFrame({
            "operator": op, "mnc": mnc, "lon": np.round(lon, 6), "lat": np.round(lat, 6),
            "technologies": g["technology"].agg(
                lambda s: "/".join(t for t in _ORDER if t in set(s))).to_numpy(),
            "samples": g["samples"].sum().astype("int64").to_numpy(),
            "range_m": g["range"].max().to_numpy(),
            "n_cells": g.size().to_numpy(),
            "spread_m": pd.Series(spread).groupby(label).max().round(0).to_numpy(),
            "first_seen": _dates(g["created"].min()), "last_seen": _dates(g["updated"].max()),
        })
        site = site.sort_values(["lat", "lon"], ascending=[False, True], kind="stable")
        site.insert(0, "site_id", [f"OCID-{mnc}-{k + 1}" for k in range(len(site))])
        frames.append(site)
    out = pd.concat(frames, ignore_index=True)
    out["source"] = "opencellid"
    out["position_note"] = [
        f"crowd-sourced estimate: samples-weighted centre of {n} OpenCelliD cell position(s) "
        f"clustered within {cluster_m:g} m (cells up to {s:.0f} m from it); often hundreds "
        "of metres off the mast" for n, s in zip(out["n_cells"], out["spread_m"], strict=True)]
    return out[list(SITE_LIST_COLUMNS)]


def _dates(seconds: pd.Series) -> list[str]:
    """Unix seconds as ISO dates (``""`` when missing)."""
    ts = pd.to_datetime(seconds, unit="s", errors="coerce")
    return ["" if pd.isna(t) else t.date().isoformat() for t in ts]


def import_opencellid(path: str | Path, cfg: Config, out: str | Path, *,
                      cluster_m: float = DEFAULT_CLUSTER_M) -> ImportSummary:
    """Read an OpenCelliD CSV for the study area of ``cfg`` (:func:`study_area_wgs84`,
    ``[kpi] operators``) and write its site list to ``out`` (CSV, atomically)."""
    if not cluster_m > 0:
        raise InputDataError([Problem("command line", f"the cluster distance must be > 0 m, "
                                      f"not {cluster_m:g}", "give e.g. --cluster-m 300")])
    sites, summary = read_opencellid(path, bbox=study_area_wgs84(cfg),
                                     operators=tuple(cfg.kpi.operators),
                                     working_crs=cfg.study.working_crs, cluster_m=cluster_m)
    write_csv(out, sites, index=False)
    return summary
