"""Load and validate every input of a configuration at once (:func:`load_inputs`)."""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from .. import __version__
from ..config import Config, InputsConfig
from ..datatypes import Inputs
from ..errors import CRSError, InputDataError, Problem
from ..i18n import Message
from .admin import match_admin_layers, read_admin_layers
from .atomic import file_sha256
from .dem import read_dem
from .extents import check_extents
from .inventories import read_cells, read_ftth_nodes
from .targets import read_targets
from .vectors import read_roads, read_settlements, read_villages

__all__ = ["ReadCache", "load_inputs", "sample_data_dir"]


def sample_data_dir() -> Path:
    """Folder of the bundled Lạng Sơn sample: inside the installed package (wheel) or at the
    root of a source checkout (editable install)."""
    here = Path(__file__).resolve().parents[1]  # the vncoverage package
    for cand in (here / "data", here.parent / "data"):
        if (cand / "config.toml").is_file():
            return cand
    raise FileNotFoundError(
        "the bundled sample data was not found (looked in "
        f"{here / 'data'} and {here.parent / 'data'}); reinstall vncoverage or pass --config"
    )


#: Inputs whose sha256 is recorded (provenance, workspace fingerprints).
_CHECKSUMMED = ("boundaries", "settlements", "cells", "ftth_nodes", "roads", "dem", "targets",
                "admin_names")


class ReadCache(Protocol):
    """Where parsed, validated inputs are kept between runs, keyed by a hash of the file's
    sha256 and every reading option (a workspace keeps one: :mod:`vncoverage.workspace`)."""

    def get(self, key: str) -> tuple[Any, list[Message], dict[str, Message]] | None:
        """``(value, notes, formats)`` of an earlier clean read, or None. The notes and
        formats come back as :class:`~vncoverage.i18n.Message` objects (their key,
        parameters and source kept), never as plain English text."""

    def put(self, key: str, value: Any, notes: list[Message],
            formats: dict[str, Message]) -> None:
        """Keep a clean read."""


def _memo(cache: ReadCache | None, key_parts: list[Any], problems: list[Problem],
          notes: list[Message], formats: dict[str, Message],
          read: Callable[[list[Problem], list[Message], dict[str, Message]], Any]) -> Any:
    """``read(problems, notes, formats)``, or its result from ``cache`` when the same file
    was read with the same options before. Only reads without problems are kept, so a
    cached read replays its notes and formats and never hides a problem."""
    if cache is None or None in key_parts[3:5]:
        return read(problems, notes, formats)
    key = hashlib.sha256(json.dumps(key_parts, default=str).encode()).hexdigest()[:32]
    hit = cache.get(key)
    if hit is not None:
        value, hit_notes, hit_formats = hit
        notes += hit_notes
        formats.update(hit_formats)
        return value
    p: list[Problem] = []
    n: list[Message] = []
    f: dict[str, Message] = {}
    value = read(p, n, f)
    problems += p
    notes += n
    formats.update(f)
    if not p:
        cache.put(key, value, n, f)
    return value


@dataclass(frozen=True)
class _Reads:
    """What the cached readers of one :func:`load_inputs` call share: the cache, the start
    of every cache key (version, working CRS, operators), the inputs' sha256 and the lists
    the problems, notes and formats go to."""

    cache: ReadCache | None
    base: list[Any]
    sums: dict[str, str]
    problems: list[Problem]
    notes: list[Message]
    formats: dict[str, Message]

    def memo(self, key_parts: list[Any],
             read: Callable[[list[Problem], list[Message], dict[str, Message]], Any]) -> Any:
        """:func:`_memo` keyed by ``base`` + ``key_parts`` (the input's name, its sha256,
        then its reading options)."""
        return _memo(self.cache, [*self.base, *key_parts], self.problems, self.notes,
                     self.formats, read)


def load_inputs(cfg: Config, *, read_cache: ReadCache | None = None) -> Inputs:
    """Load and validate every input named in ``cfg.inputs``.

    ``read_cache`` (optional) keeps parsed inputs between runs: a file read before with the
    same options, without problems, is taken from it instead of being parsed and checked
    again (the cell table is always read).

    Raises
    ------
    InputDataError
        With every problem found in every file (nothing is computed before, nothing is
        written).
    """
    inp: InputsConfig = cfg.inputs
    working = CRS.from_user_input(cfg.study.working_crs)
    problems: list[Problem] = []
    notes: list[Message] = []
    formats: dict[str, Message] = {}
    if not working.is_projected:
        raise CRSError([Problem("config", f"working_crs {working.to_string()} is not "
                                "projected (metric)", "use EPSG:32648 (UTM 48N) or another "
                                "metric CRS")])
    _check_required_inputs(inp)
    assert inp.boundaries is not None and inp.cells is not None and inp.dem is not None
    operators = tuple(cfg.kpi.operators)
    sums = {key: file_sha256(getattr(inp, key)) for key in _CHECKSUMMED
            if getattr(inp, key) is not None and Path(getattr(inp, key)).is_file()}
    reads = _Reads(read_cache, [__version__, working.to_wkt(), operators], sums, problems,
                   notes, formats)
    villages, centres, districts, communes_2025 = _load_boundaries(inp, inp.boundaries,
                                                                   working, reads)
    cells = read_cells(inp.cells, working_crs=working, problems=problems, notes=notes,
                       operators=operators, formats=formats)
    dem = read_dem(inp.dem, working_crs=working, problems=problems)
    settlements = _load_settlements(inp, working, villages, reads)
    ftth = _load_ftth_nodes(inp, working, operators, reads)
    roads = _load_roads(inp, working, reads)
    targets = _load_targets(inp, reads)
    cells, ftth, dropped = check_extents(cfg, villages, cells, ftth, dem, problems, notes,
                                         settlements=settlements, roads=roads)
    if problems:
        raise InputDataError(problems)
    assert villages is not None and centres is not None and cells is not None and dem is not None
    checksums = {key: sums[key] if key in sums else file_sha256(getattr(inp, key))
                 for key in _CHECKSUMMED if getattr(inp, key) is not None}
    return Inputs(villages=villages, centres=centres, cells=cells, dem=dem,
                  settlements=settlements, ftth_nodes=ftth, roads=roads, targets=targets,
                  districts=districts, communes_2025=communes_2025, checksums=checksums,
                  notes=tuple(notes), formats=formats, dropped=dropped)


def _check_required_inputs(inp: InputsConfig) -> None:
    """Raise :class:`InputDataError` naming every required input missing from the config
    (boundaries, cells, dem)."""
    problems: list[Problem] = []
    for key in ("boundaries", "cells", "dem"):
        if getattr(inp, key) is None:
            problems.append(Problem("config", f"[inputs] {key} is required",
                                    f"set [inputs] {key} = \"path/to/file\""))
    if problems:
        raise InputDataError(problems)


#: Villages, their centres, districts and 2025 communes (each None when not read).
_Boundaries = tuple[gpd.GeoDataFrame | None, gpd.GeoSeries | None, gpd.GeoDataFrame | None,
                    gpd.GeoDataFrame | None]


def _load_boundaries(inp: InputsConfig, bpath: Path, working: CRS, reads: _Reads) -> _Boundaries:
    """``(villages, centres, districts, communes_2025)`` of the boundaries file (cached)."""
    boundaries: _Boundaries = reads.memo(
        ["boundaries", reads.sums.get("boundaries"), reads.sums.get("admin_names"),
         inp.villages_layer, inp.centres_layer,
         inp.districts_layer, inp.communes_2025_layer],
        lambda p, n, f: _read_boundary_layers(inp, bpath, working, p, n))
    return boundaries


def _read_boundary_layers(
    inp: InputsConfig, bpath: Path, working: CRS, problems: list[Problem], notes: list[Message]
) -> _Boundaries:
    """Read the villages, their centres and the district / 2025-commune layers of the
    boundaries file; the admin layers' names are matched to the villages' (noted)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        villages, centres = read_villages(
            bpath, layer=inp.villages_layer, centres_layer=inp.centres_layer,
            working_crs=working, problems=problems, notes=notes)
    admin: dict[str, gpd.GeoDataFrame | None] = {}
    if villages is not None:
        admin = read_admin_layers(inp, bpath, working, problems)
        admin["districts_layer"], admin["communes_2025_layer"] = match_admin_layers(
            inp, villages, admin["districts_layer"], admin["communes_2025_layer"], problems,
            notes)
    return (villages, centres, admin.get("districts_layer"),
            admin.get("communes_2025_layer"))


def _load_settlements(
    inp: InputsConfig, working: CRS, villages: gpd.GeoDataFrame | None, reads: _Reads
) -> gpd.GeoDataFrame | None:
    """The household clusters (cached), None when there is no file (noted: population
    shares are then area-weighted) or no villages to check their ids against."""
    if inp.settlements is None:
        reads.notes.append(Message("inputs.no_settlements"))
        return None
    if villages is None:
        return None
    vids, spath = villages.index, inp.settlements
    return reads.memo(
        ["settlements", reads.sums.get("settlements"), reads.sums.get("boundaries"),
         inp.settlements_layer],
        lambda p, n, f: read_settlements(spath, layer=inp.settlements_layer,
                                         working_crs=working, village_ids=vids, problems=p))


def _load_ftth_nodes(
    inp: InputsConfig, working: CRS, operators: tuple[str, ...], reads: _Reads
) -> gpd.GeoDataFrame | None:
    """The FTTH node inventory (cached), None when there is no file."""
    if inp.ftth_nodes is None:
        return None
    fpath = inp.ftth_nodes
    return reads.memo(
        ["ftth_nodes", reads.sums.get("ftth_nodes")],
        lambda p, n, f: read_ftth_nodes(fpath, working_crs=working, problems=p, notes=n,
                                        operators=operators, formats=f))


def _load_roads(inp: InputsConfig, working: CRS, reads: _Reads) -> gpd.GeoDataFrame | None:
    """The road network (cached), None when there is no file."""
    if inp.roads is None:
        return None
    rpath = inp.roads
    return reads.memo(
        ["roads", reads.sums.get("roads"), inp.roads_layer],
        lambda p, n, f: read_roads(rpath, layer=inp.roads_layer, working_crs=working,
                                   problems=p))


def _load_targets(inp: InputsConfig, reads: _Reads) -> pd.DataFrame | None:
    """The plan's KPI targets (cached), None when there is no file."""
    if inp.targets is None:
        return None
    tpath = inp.targets
    return reads.memo(
        ["targets", reads.sums.get("targets")],
        lambda p, n, f: read_targets(tpath, problems=p, notes=n, formats=f))
