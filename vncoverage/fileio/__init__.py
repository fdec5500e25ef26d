"""Reading, validating and writing files: with :mod:`vncoverage.workspace`, the only code
that touches paths.

Readers per kind of input (:mod:`.vectors` for villages, household clusters and roads,
:mod:`.inventories` for the cell and FTTH node tables, :mod:`.targets` for the plan's tables,
:mod:`.measurements` for drive tests and calibration corrections, :mod:`.dem`) collect
every problem of every input; :func:`load_inputs` (:mod:`.load`) runs them all and raises
one :class:`~vncoverage.errors.InputDataError` before anything is computed. Vectors go
through GDAL (pyogrio), rasters through rasterio, tables (CSV or Excel, in the many forms
real files come in) through :mod:`._tables`. All data is returned in the working CRS; how
each table was read (encoding, separator, column mapping, decimal commas, DMS) and every
tolerant reading (a name spelled another way, a repaired polygon) is logged
and listed in :attr:`~vncoverage.datatypes.Inputs.notes`.

Writers (:mod:`.atomic`) are atomic: each file is written under a temporary name in the
destination folder and renamed into place, so a crash leaves either the previous file or
the new one, never a half-written one. :func:`read_output_folder` (:mod:`.outputs`) reads
back what ``vncoverage run`` wrote, for the exports.

What it is not: a place for computation. Readers return validated frames in the working
CRS; nothing here knows about coverage, villages' verdicts or KPIs.
"""

from __future__ import annotations

from .atomic import (
    atomic_path,
    file_sha256,
    write_bytes,
    write_cog,
    write_csv,
    write_geojson,
    write_raster,
    write_text,
    write_vector,
)
from .dem import DEM_VALID_M, read_dem
from .inventories import CELL_COLUMNS, DEFAULT_OPERATORS, read_cells, read_ftth_nodes
from .landcover import read_class_table, read_landcover
from .load import ReadCache, load_inputs, sample_data_dir
from .measurements import read_corrections, read_measurements
from .ntia import read_itm_cases, read_itm_profiles
from .outputs import OutputFolder, read_output_folder
from .targets import AREA_LEVELS, read_area_table, read_targets
from .vectors import read_roads, read_settlements, read_villages

__all__ = [
    "AREA_LEVELS",
    "CELL_COLUMNS",
    "DEFAULT_OPERATORS",
    "DEM_VALID_M",
    "OutputFolder",
    "ReadCache",
    "atomic_path",
    "file_sha256",
    "load_inputs",
    "read_area_table",
    "read_cells",
    "read_class_table",
    "read_corrections",
    "read_dem",
    "read_ftth_nodes",
    "read_itm_cases",
    "read_itm_profiles",
    "read_landcover",
    "read_measurements",
    "read_output_folder",
    "read_roads",
    "read_settlements",
    "read_targets",
    "read_villages",
    "sample_data_dir",
    "write_bytes",
    "write_cog",
    "write_csv",
    "write_geojson",
    "write_raster",
    "write_text",
    "write_vector",
]
