"""The data types every layer shares: the DEM grid, the validated inputs and a georeferenced
raster band.

Plain frozen records, below the stages: the readers (:mod:`vncoverage.fileio`) build them,
the stages compute on them, the writers write them. Nothing here reads, writes or computes
more than an index on its own grid.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS

__all__ = ["Dem", "Inputs", "LandCover", "Raster"]


@dataclass(frozen=True)
class Dem:
    """A digital elevation model in the working CRS.

    Attributes
    ----------
    elevation
        Heights in metres above sea level, float32, NaN where unknown.
    transform
        Affine transform of the grid (north-up).
    crs
        The working CRS.
    path
        Source file.
    """

    elevation: np.ndarray
    transform: Affine
    crs: CRS
    path: str = ""

    @property
    def pixel_m(self) -> float:
        return float(abs(self.transform.a))

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.elevation.shape[0]), int(self.elevation.shape[1]))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax)."""
        h, w = self.shape
        x0, y0 = self.transform.c, self.transform.f
        return (x0, y0 + self.transform.e * h, x0 + self.transform.a * w, y0)

    def window(self, r0: int, c0: int, r1: int, c1: int) -> Dem:
        """The rows ``r0:r1`` and columns ``c0:c1`` of the grid (a view, not a copy), with
        the transform of that window: same pixels, same alignment."""
        return Dem(self.elevation[r0:r1, c0:c1], self.transform @ Affine.translation(c0, r0),
                   self.crs, self.path)

    def index(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column (integer, may be out of range) of the pixels holding (x, y)."""
        t = self.transform
        cols = (np.asarray(x, dtype=float) - t.c) / t.a
        rows = (np.asarray(y, dtype=float) - t.f) / t.e
        return np.floor(rows).astype(np.int64), np.floor(cols).astype(np.int64)


@dataclass(frozen=True)
class LandCover:
    """A land-cover raster on the DEM grid, with its class table (clutter at the receiver,
    :mod:`vncoverage.clutter`).

    Attributes
    ----------
    classes
        Class values (ESA WorldCover: 10 tree cover, 50 built-up ...), uint8 on the DEM's
        grid, 0 where the raster has no data (no clutter there).
    table
        The class table, indexed by class value: ``name``, ``category`` (a P.2108 clutter
        type) and ``height_m`` (representative clutter height R; 0 for no clutter).
    path, classes_path
        The raster and the class table files (``classes_path`` empty: the shipped table).
    """

    classes: np.ndarray
    table: pd.DataFrame
    path: str = ""
    classes_path: str = ""

    @property
    def table_digest(self) -> str:
        """SHA-256 of the class table's content (for the propagation stage's
        fingerprint)."""
        return hashlib.sha256(self.table.to_csv().encode()).hexdigest()


@dataclass(frozen=True)
class Inputs:
    """Every input, validated and in the working CRS. Indexes are the stable ids.

    ``notes`` lists what the loader did that the user should know (tolerant readings, file
    forms other than UTF-8 comma-separated CSV, repaired polygons, DEM holes ...), each a
    :class:`vncoverage.i18n.Message` (a ``str`` in English that renders in Vietnamese too,
    with the input file it is about in ``source``); ``formats`` says how each table was
    read (Messages too, keyed by the file as the configuration names it).
    """

    villages: gpd.GeoDataFrame
    centres: gpd.GeoSeries
    #: The cells and the DEM: None in a run without the mobile analysis (fibre only).
    cells: gpd.GeoDataFrame | None
    dem: Dem | None
    settlements: gpd.GeoDataFrame | None = None
    ftth_nodes: gpd.GeoDataFrame | None = None
    roads: gpd.GeoDataFrame | None = None
    targets: pd.DataFrame | None = None
    districts: gpd.GeoDataFrame | None = None
    communes_2025: gpd.GeoDataFrame | None = None
    checksums: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    #: How each table file was read, e.g. ``{"cells.csv": "CSV, Windows-1258 (Vietnamese),
    #: ';'-separated"}`` (for ``vncoverage validate`` and the provenance).
    formats: Mapping[str, str] = field(default_factory=dict)
    #: Rows of the input tables left out of the run, one per row with ``file``, ``id``,
    #: ``row`` and ``reason`` (e.g. cells outside the study area); None when none were.
    dropped: pd.DataFrame | None = None
    #: The analyses of the run, ``"mobile"`` and/or ``"fibre"`` (``[run] analyses`` resolved
    #: against the inputs given by :func:`vncoverage.fileio.load_inputs`); empty: from the
    #: inputs present (mobile with cells and a DEM, fibre with FTTH nodes).
    analyses: tuple[str, ...] = ()
    #: The land cover on the DEM grid when clutter is applied (``[radio] clutter``,
    #: ``[inputs] landcover``), else None.
    landcover: LandCover | None = None

    @property
    def runs(self) -> tuple[str, ...]:
        """The analyses of the run: :attr:`analyses`, or those whose inputs are here."""
        if self.analyses:
            return self.analyses
        return tuple(a for a, ok in (("mobile", self.cells is not None and self.dem is not None),
                                     ("fibre", self.ftth_nodes is not None)) if ok)


@dataclass(frozen=True)
class Raster:
    """One band on a north-up grid: a band a run computed (best-server RSRP, server index,
    covered mask) or one read back from a GeoTIFF.

    Attributes
    ----------
    values
        The band, rows x columns.
    transform, crs
        The grid and its CRS.
    nodata
        The value of pixels without data (NaN for float bands), or None.
    description
        What the band holds (the GeoTIFF band description).
    """

    values: np.ndarray
    transform: Affine
    crs: CRS
    nodata: float | None = None
    description: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.values.shape[0]), int(self.values.shape[1]))

    def with_values(self, values: np.ndarray, *, nodata: float | None = None,
                    description: str | None = None) -> Raster:
        """The same grid with other values (and nodata, description)."""
        return Raster(values, self.transform, self.crs, nodata,
                      self.description if description is None else description)


#: Tags of a GeoTIFF (``{"SOFTWARE": "vncoverage", ...}``).
Tags = Mapping[str, str]

