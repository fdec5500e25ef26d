"""Load and validate every input of a configuration at once (:func:`load_inputs`)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import warnings
from collections.abc import Callable, Sequence
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
from ._shared import check_layer, layer_names
from .admin import match_admin_layers, read_admin_layers
from .atomic import file_sha256
from .dem_tiles import load_dem
from .extents import check_extents
from .inventories import is_vector_file, read_cells, read_ftth_nodes
from .landcover import load_landcover
from .measurements import apply_corrections, read_corrections
from .sites import DEFAULTS_FILE, merge_cells, read_sites, sites_as_cells
from .targets import read_targets
from .vectors import OSM_SUFFIXES, read_roads, read_settlements, read_villages
from .village_points import read_village_points

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
                "admin_names", "village_points", "place_points", "sites", "site_defaults",
                "landcover", "landcover_classes")


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

    ``[run] analyses`` is resolved against the inputs given (:func:`_check_required_inputs`):
    the inputs of an analysis not run are not read (a fibre-only run has no cells and no
    DEM: ``Inputs.cells`` and ``Inputs.dem`` are None); ``Inputs.analyses`` says which run.
    A layer name the file does not have is a problem naming the layers it has
    (:func:`_check_layers`).

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
    analyses = _check_required_inputs(inp, cfg.run.analyses, notes)
    cfg = _for_analyses(cfg, analyses)
    inp = cfg.inputs
    assert inp.boundaries is not None
    bad_layers = _check_layers(inp, problems)
    operators = tuple(cfg.kpi.operators)
    sums = {key: file_sha256(getattr(inp, key)) for key in _CHECKSUMMED
            if getattr(inp, key) is not None and Path(getattr(inp, key)).is_file()}
    reads = _Reads(read_cache, [__version__, working.to_wkt(), operators], sums, problems,
                   notes, formats)
    villages, centres, districts, communes_2025 = (
        _load_boundaries(inp, inp.boundaries, working, reads)
        if not bad_layers & {"villages_layer", "village_points_layer", "place_points_layer"}
        else (None, None, None, None))
    cells = (read_cells(inp.cells, working_crs=working, problems=problems, notes=notes,
                        operators=operators, formats=formats)
             if inp.cells is not None else None)
    cells = _with_sites(inp, working, operators, cells, reads)
    # one GeoTIFF, or tiles in degrees mosaicked to the area (cached; sums["dem"] over
    # the tiles used)
    dem = load_dem(cfg, villages, working, problems=problems, notes=notes,
                   memo=reads.memo, sums=sums)
    settlements = (_load_settlements(inp, working, villages, reads)
                   if "settlements_layer" not in bad_layers else None)
    ftth = _load_ftth_nodes(inp, working, operators, reads)
    roads = _load_roads(inp, working, reads) if "roads_layer" not in bad_layers else None
    targets = _load_targets(inp, reads)
    cells, ftth, dropped = check_extents(sites_as_cells(cfg), villages, cells, ftth, dem,
                                         problems, notes,
                                         settlements=settlements, roads=roads)
    # clutter at the receiver ([radio] clutter, [inputs] landcover): on the DEM grid
    landcover = load_landcover(cfg, dem, centres, cells, problems=problems, notes=notes)
    # calibration corrections ([calibration] corrections): added to the cells' EIRP
    cells = _corrected(cfg, cells, problems, notes, sums)
    _measurements_sum(cfg, problems, sums)
    _switch_off(cfg, cells, problems, notes)
    if problems:
        raise InputDataError(problems)
    assert villages is not None and centres is not None
    checksums = {key: sums[key] if key in sums else file_sha256(getattr(inp, key))
                 for key in _CHECKSUMMED if getattr(inp, key) is not None}
    if "dem" in sums:  # DEM tiles (also given by [inputs] dem_tiles alone)
        checksums["dem"] = sums["dem"]
    for key in ("corrections", "measurements"):  # only when set: other runs keep theirs
        if key in sums:
            checksums[key] = sums[key]
    return Inputs(villages=villages, centres=centres, cells=cells, dem=dem,
                  settlements=settlements, ftth_nodes=ftth, roads=roads, targets=targets,
                  districts=districts, communes_2025=communes_2025, checksums=checksums,
                  notes=tuple(notes), formats=formats, dropped=dropped, analyses=analyses,
                  landcover=landcover)


def _corrected(cfg: Config, cells: gpd.GeoDataFrame | None, problems: list[Problem],
               notes: list[Message], sums: dict[str, str]) -> gpd.GeoDataFrame | None:
    """``cells`` with the calibration corrections of ``[calibration] corrections`` added to
    their EIRP (:func:`.measurements.apply_corrections`, noted; the file's sha256 goes to
    ``sums["corrections"]``); ``cells`` as they are without it."""
    path = cfg.calibration.corrections
    if path is None or cells is None:
        return cells
    try:
        corrections = read_corrections(path)
    except InputDataError as exc:
        problems += exc.problems
        return cells
    sums["corrections"] = file_sha256(path)
    return apply_corrections(cells, corrections, file=str(path), notes=notes)


def _measurements_sum(cfg: Config, problems: list[Problem], sums: dict[str, str]) -> None:
    """The sha256 of ``[calibration] measurements`` (the run calibrates itself on them
    after the load, :func:`vncoverage.pipeline.run`) in ``sums["measurements"]``; a
    problem when the file is not there."""
    path = cfg.calibration.measurements
    if path is None:
        return
    if not Path(path).is_file():
        problems.append(Problem(str(path), "measurement file not found ([calibration] "
                                "measurements)", "give the path of the drive-test / "
                                "measurement file, or remove [calibration] measurements"))
        return
    sums["measurements"] = file_sha256(path)


def _switch_off(cfg: Config, cells: gpd.GeoDataFrame | None, problems: list[Problem],
                notes: list[Message]) -> None:
    """The switch-off of ``[run] switch_off`` (``--switch-off``): a note per technology
    with its cells (kept: their layers give today's service, not the service after the
    switch-off); a problem for a technology ``[radio] technologies`` does not compute or
    that is not 2G / 3G (a configuration changed in code skips the config's checks)."""
    for tech in cfg.run.switch_off:
        if tech not in ("2G", "3G") or tech not in cfg.radio.technologies:
            problems.append(Problem(
                "config", f"[run] switch_off names {tech}, which "
                + ("is not 2G or 3G" if tech not in ("2G", "3G") else
                   "[radio] technologies does not compute: the villages served today only "
                   f"through {tech} cannot be known"),
                'switch off "2G" and/or "3G", each listed in [radio] technologies (e.g. '
                'technologies = ["2G", "3G", "4G", "5G"])', value=tech))
        elif cells is not None:
            notes.append(Message("inputs.switch_off", tech=tech,
                                 n=int((cells["technology"] == tech).sum())))


#: The analyses a run makes (``[run] analyses``), in this order.
ANALYSES = ("mobile", "fibre")


def _check_required_inputs(inp: InputsConfig, asked: Sequence[str],
                           notes: list[Message]) -> tuple[str, ...]:
    """The analyses of the run (:data:`ANALYSES` order); raise :class:`InputDataError`
    naming every required input missing from the config.

    ``boundaries`` is always required. The mobile analysis needs a DEM (``dem`` or
    ``dem_tiles``) and cells (``cells`` or ``sites``); the fibre analysis needs
    ``ftth_nodes``. ``asked`` (``[run] analyses``) empty: mobile when its inputs are given,
    fibre when ``ftth_nodes`` is; the mobile inputs given in part (a DEM without cells, or
    cells without a DEM) are a problem, never a fibre-only run; neither is a problem saying
    what each analysis needs. ``asked`` given: each analysis asked for needs its inputs (a
    problem names the missing key); the inputs of an analysis not asked for are not read
    (noted)."""
    problems: list[Problem] = []
    if inp.boundaries is None:
        problems.append(Problem("config", "[inputs] boundaries is required",
                                'set [inputs] boundaries = "path/to/file"'))
    given = _analysis_inputs(inp)
    if asked:
        out = tuple(a for a in ANALYSES if a in asked)
        problems += _missing_for(inp, out)
        for a in ANALYSES:
            if a not in out and given[a]:
                notes.append(Message("inputs.analysis_ignored",
                                     analysis=Message("analysis.mobile" if a == "mobile"
                                                      else "analysis.fibre"),
                                     keys=[f"[inputs] {k}" for k in given[a]],
                                     asked=list(out)))
    else:
        out = tuple(a for a in ANALYSES if _complete(inp, a))
        partial = [k for k in ("dem", "cells") if not given[k + "_any"]]
        if given["mobile"] and partial:
            problems += [Problem(
                "config", f"mobile coverage needs a DEM and cells, but {_needs[k]} is not "
                f"set (given: {', '.join(given['mobile'])})",
                f"set {_needs[k]}; or, for a fibre-only run, set [run] analyses = "
                '["fibre"] (or remove the mobile inputs)') for k in partial]
        elif not out:
            problems.append(Problem(
                "config", "nothing to compute: no input of any analysis is given",
                "mobile coverage needs [inputs] dem (or dem_tiles) and cells (or sites); "
                "FTTH needs [inputs] ftth_nodes: set those of the analyses to run"))
        elif out == ("fibre",):
            notes.append(Message("inputs.fibre_only"))
    if problems:
        raise InputDataError(problems)
    return out


#: What each part of the mobile analysis needs, as the problems name it.
_needs = {"dem": "[inputs] dem (or dem_tiles)", "cells": "[inputs] cells (or sites)"}


def _analysis_inputs(inp: InputsConfig) -> dict[str, list[str]]:
    """The ``[inputs]`` keys given for each analysis (``mobile``, ``fibre``), and for each
    part of the mobile one (``dem_any``, ``cells_any``)."""
    dem = [k for k in ("dem", "dem_tiles") if getattr(inp, k)]
    cells = [k for k in ("cells", "sites") if getattr(inp, k) is not None]
    return {"mobile": dem + cells, "fibre": ["ftth_nodes"] if inp.ftth_nodes else [],
            "dem_any": dem, "cells_any": cells}


def _complete(inp: InputsConfig, analysis: str) -> bool:
    """Whether the inputs ``analysis`` needs are given."""
    given = _analysis_inputs(inp)
    if analysis == "mobile":
        return bool(given["dem_any"] and given["cells_any"])
    return bool(given["fibre"])


def _missing_for(inp: InputsConfig, analyses: Sequence[str]) -> list[Problem]:
    """A problem per input missing for the ``analyses`` asked for in ``[run] analyses``."""
    given = _analysis_inputs(inp)
    out: list[Problem] = []
    for a, part, key in (("mobile", "dem_any", _needs["dem"]),
                         ("mobile", "cells_any", _needs["cells"]),
                         ("fibre", "fibre", "[inputs] ftth_nodes")):
        if a in analyses and not given[part]:
            out.append(Problem("config", f'[run] analyses asks for "{a}", which needs {key}: '
                               "it is not set",
                               f'set {key}, or leave "{a}" out of [run] analyses'))
    return out


def _for_analyses(cfg: Config, analyses: Sequence[str]) -> Config:
    """``cfg`` without the inputs of the analyses not run (they are not read)."""
    inp = cfg.inputs
    if "mobile" not in analyses:
        inp = dataclasses.replace(inp, dem=None, dem_tiles=(), cells=None, sites=None,
                                  site_defaults=None)
    if "fibre" not in analyses:
        inp = dataclasses.replace(inp, ftth_nodes=None)
    return cfg if inp is cfg.inputs else dataclasses.replace(cfg, inputs=inp)


def _check_layers(inp: InputsConfig, problems: list[Problem]) -> set[str]:
    """The keys of the layer names of the config that the files do not have, each a
    problem naming the layers the file has (:func:`._shared.check_layer`). The villages and
    household-cluster layers are required under any name; an optional layer (centres,
    districts, 2025 communes) left at its default name may be absent (its reader notes it),
    any other name must be there; the roads layer is checked in a file of several layers
    only (the one layer of a GeoJSON is read whatever its name)."""
    defaults = {f.name: f.default for f in dataclasses.fields(InputsConfig)
                if isinstance(f.default, str)}
    bad: set[str] = set()
    checks: list[tuple[Path | None, str, str | None]] = [
        # with village points the boundaries file holds communes, checked by their reader
        *(((inp.boundaries, "villages_layer", None),) if inp.village_points is None else ()),
        *((inp.boundaries, k, defaults[k])
          for k in ("centres_layer", "districts_layer", "communes_2025_layer")),
        (inp.settlements, "settlements_layer", None)]
    for path, key in ((inp.village_points, "village_points_layer"),
                      (inp.place_points, "place_points_layer")):
        if path is not None and is_vector_file(path) and not check_layer(
                path, getattr(inp, key), key, problems, named_if_several=True):
            bad.add(key)
    if inp.roads is not None and not str(inp.roads).lower().endswith(OSM_SUFFIXES):
        names = layer_names(inp.roads)
        if names is not None and len(names) > 1:
            checks.append((inp.roads, "roads_layer", None))
    for path, key, default in checks:
        if path is not None and not check_layer(path, getattr(inp, key), key, problems,
                                                default=default):
            bad.add(key)
    return bad


#: Villages, their centres, districts and 2025 communes (each None when not read).
_Boundaries = tuple[gpd.GeoDataFrame | None, gpd.GeoSeries | None, gpd.GeoDataFrame | None,
                    gpd.GeoDataFrame | None]


def _load_boundaries(inp: InputsConfig, bpath: Path, working: CRS, reads: _Reads) -> _Boundaries:
    """``(villages, centres, districts, communes_2025)`` of the boundaries file (cached)."""
    key: list[Any] = [
        "boundaries", reads.sums.get("boundaries"), reads.sums.get("admin_names"),
        inp.villages_layer, inp.centres_layer, inp.districts_layer, inp.communes_2025_layer]
    if inp.village_points is not None:  # villages built from points (or names) and communes
        key += ["village_points", reads.sums.get("village_points"), inp.village_points_layer,
                reads.sums.get("place_points"), inp.place_points, inp.place_points_layer,
                inp.communes_layer]
    boundaries: _Boundaries = reads.memo(
        key, lambda p, n, f: _read_boundary_layers(inp, bpath, working, p, n))
    return boundaries


def _read_boundary_layers(
    inp: InputsConfig, bpath: Path, working: CRS, problems: list[Problem], notes: list[Message]
) -> _Boundaries:
    """Read the villages, their centres and the district / 2025-commune layers of the
    boundaries file; the admin layers' names are matched to the villages' (noted)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if inp.village_points is not None:
            villages, centres = read_village_points(inp, bpath, working, problems, notes)
        else:
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
         inp.settlements_layer,
         # ids built from village points depend on that file (only then: keys unchanged)
         *([reads.sums.get("village_points"), reads.sums.get("place_points")]
           if inp.village_points is not None else [])],
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
        ["ftth_nodes", reads.sums.get("ftth_nodes"), inp.ftth_nodes_layer],
        lambda p, n, f: read_ftth_nodes(fpath, working_crs=working, problems=p, notes=n,
                                        operators=operators, formats=f,
                                        layer=inp.ftth_nodes_layer))


def _with_sites(inp: InputsConfig, working: CRS, operators: tuple[str, ...],
                cells: gpd.GeoDataFrame | None, reads: _Reads) -> gpd.GeoDataFrame | None:
    """``cells`` with the cells of the site list ``[inputs] sites`` (cached; expanded with
    the shipped defaults and ``[inputs] site_defaults``; the cell table wins where both
    give a site's technology: :func:`.sites.merge_cells`); ``cells`` alone without one."""
    if inp.sites is None:
        return cells
    spath, dpath = inp.sites, inp.site_defaults
    site_cells = reads.memo(
        ["sites", reads.sums.get("sites"), reads.sums.get("site_defaults"),
         file_sha256(DEFAULTS_FILE)],
        lambda p, n, f: read_sites(spath, working_crs=working, problems=p, notes=n,
                                   operators=operators, formats=f, defaults=dpath))
    if site_cells is None or (inp.cells is not None and cells is None):
        return None
    return merge_cells(cells, site_cells, cells_file=None if inp.cells is None
                       else str(inp.cells), sites_file=str(spath),
                       defaults_file=None if dpath is None else str(dpath),
                       problems=reads.problems, notes=reads.notes, operators=operators)


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
