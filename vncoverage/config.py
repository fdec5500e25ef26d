"""One frozen configuration object, loaded from TOML and validated.

Every default below is a named parameter documented in the README ("Configuration"); the
values come from ``DOMAIN.md`` (thresholds, reaches, plan period) unless marked as an
assumption. Unknown keys are rejected; every problem in a file is reported at once.

Relative paths in ``[inputs]`` are resolved against the directory of the TOML file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError, Problem

__all__ = [
    "CalibrationConfig",
    "Config",
    "CoverageConfig",
    "FtthConfig",
    "InputsConfig",
    "KpiConfig",
    "RadioConfig",
    "StudyConfig",
    "UncertaintyConfig",
    "config_from_mapping",
    "load_config",
    "parse_scheduler",
    "section_dict",
]

TECHNOLOGIES = ("2G", "3G", "4G", "5G")
MODELS = ("fspl", "hata", "cost231", "p526", "itm")


@dataclass(frozen=True)
class StudyConfig:
    """What is studied and in which working CRS.

    Attributes
    ----------
    name
        Title used in reports.
    working_crs
        Metric CRS for all distances and rasters (default WGS 84 / UTM 48N, EPSG:32648,
        which suits all of northern Vietnam).
    """

    name: str = "Lạng Sơn"
    working_crs: str = "EPSG:32648"


@dataclass(frozen=True)
class InputsConfig:
    """Input files. Paths are resolved relative to the TOML file.

    ``boundaries`` is a vector file (GeoPackage, GeoJSON, Shapefile...) holding the village
    polygons and, optionally, their centre points and the district / 2025-commune
    boundaries (used for maps only). ``settlements`` (household clusters), ``ftth_nodes``,
    ``roads`` and ``targets`` are optional; the corresponding outputs say when they are
    missing.

    ``admin_names`` is an optional table pairing the names of the district and 2025-commune
    boundary layers with the villages' spelling of the same unit, for pairs the tolerant
    matching cannot make (columns ``level``, ``layer_name``, ``name``).

    ``strict``: refuse the whole run when a cell or FTTH node lies outside the study area
    (the default drops such rows, lists them in ``dropped_rows.csv`` and says how many in
    the report; operators send regional or national lists).

    Inputs a province has before it has the ones above (each flagged where it is used):

    ``village_points`` (and ``village_points_layer``): the thôn as points (a vector layer of
    points, or a table with lon/lat) or as a table of names only; with it, each village's
    area is its Voronoi cell clipped to its commune, the commune polygons being the
    ``communes_layer`` of ``boundaries``. ``place_points`` (and ``place_points_layer``): points
    from elsewhere (e.g. OSM ``place=village|hamlet``) joined to a names-only village table
    by commune and name.

    ``sites``: a site-level BTS list (one row per site, technologies such as ``2G/3G/4G``),
    expanded to cells with the shipped defaults per operator and technology, which
    ``site_defaults`` (a table of the same layout) overrides; ``cells`` and ``sites`` may be
    given together (cells win where both exist).

    ``dem`` is a GeoTIFF, or a folder of tiles; ``dem_tiles`` lists tiles (GeoTIFF, SRTM
    ``.hgt``, Copernicus GLO-30 COGs) in geographic coordinates, mosaicked and reprojected to
    the working CRS at ``dem_resolution_m`` (default: the tiles' native resolution).
    ``dem_surface_model``: the DEM is a surface model (trees, roofs: Copernicus GLO-30); None
    guesses from the file names and says so.

    ``ftth_nodes_layer``: the layer of a vector FTTH node file (GPKG with several layers).

    ``landcover``: a land-cover raster (ESA WorldCover classes, any CRS, reprojected to the
    DEM grid) for the clutter loss at the receiver (ITU-R P.2108 §3.1, ``[radio]
    clutter``); ``landcover_classes``: a class table (``class``, ``name``, ``category``,
    ``height_m``) replacing the shipped ``vncoverage/landcover_classes.csv``.
    """

    boundaries: Path | None = None
    villages_layer: str | None = "villages"
    centres_layer: str | None = "village_centres"
    districts_layer: str | None = "districts"
    communes_2025_layer: str | None = "communes_2025"
    settlements: Path | None = None
    settlements_layer: str | None = "clusters"
    cells: Path | None = None
    ftth_nodes: Path | None = None
    roads: Path | None = None
    roads_layer: str | None = "roads"
    dem: Path | None = None
    targets: Path | None = None
    admin_names: Path | None = None
    strict: bool = False
    communes_layer: str | None = "communes"
    village_points: Path | None = None
    village_points_layer: str | None = None
    place_points: Path | None = None
    place_points_layer: str | None = None
    sites: Path | None = None
    site_defaults: Path | None = None
    dem_tiles: tuple[Path, ...] = ()
    dem_resolution_m: float | None = None
    dem_surface_model: bool | None = None
    ftth_nodes_layer: str | None = None
    landcover: Path | None = None
    landcover_classes: Path | None = None


def _rebuild_radio(values: dict[str, Any], proxies: tuple[str, ...]) -> RadioConfig:
    """A :class:`RadioConfig` from :meth:`RadioConfig.__reduce__`."""
    kwargs: dict[str, Any] = {k: types.MappingProxyType(v) if k in proxies else v
                              for k, v in values.items()}
    return RadioConfig(**kwargs)


@dataclass(frozen=True)
class RadioConfig:
    """Radio coverage parameters.

    Attributes
    ----------
    model
        Propagation model name from the registry (:mod:`vncoverage.propagation`).
    technologies
        Technologies whose coverage is computed. "Mobile broadband" is 4G or 5G.
    max_radius_m
        Per-technology computation radius around each site, in metres.
    rx_height_m
        Receiver height above local ground (DOMAIN.md: 1.5 m).
    k_factor
        Effective earth-radius factor for path profiles (4/3 standard atmosphere).
    rsrp_threshold_dbm
        Per-technology edge threshold for the median-plus-margin test: 4G/5G RSRP -110 dBm
        outdoor; 3G RSCP and 2G RxLev -100 dBm (DOMAIN.md).
    good_rsrp_dbm
        "Good" 4G/5G level, -100 dBm (DOMAIN.md), reported as a second tier.
    location_sigma_db
        Log-normal location variability, 8 dB (DOMAIN.md).
    location_probability
        Required share of locations above threshold in a pixel; 0.9 adds 10.3 dB with
        sigma = 8 dB (DOMAIN.md).
    h_beamwidth_deg, v_beamwidth_deg, front_to_back_db, vertical_sidelobe_db
        Parametric sector pattern, 3GPP TR 36.814 Table A.2.1.1-2. The horizontal beamwidth
        default 65 degrees is the DOMAIN.md value for rural sectors; 10 degrees, 25 dB and
        20 dB are the 3GPP defaults.
    cpich_fraction_db
        3G only: pilot (CPICH) power relative to total carrier power; -10 dB is a common
        operator setting (assumption).
    climate, n0, epsilon, sigma, polarization
        ITM / Longley-Rice radio climate and ground constants: climate 2 (continental
        subtropical, the closest ITM climate to northern Vietnam's monsoon climate),
        N_0 = 320 N-units (ITM's suggested value for that climate), average ground
        (epsilon 15, sigma 0.005 S/m), vertical polarisation. All assumptions.
    mdvar
        ITM mode of variability: 12 = mobile (2) with location variability removed (+10),
        since location variability is applied separately through ``location_sigma_db``.
    time_pct, situation_pct
        ITM time and situation percentages (median, 50). The ITM location percentage is
        always 50 for the same reason.
    paths
        How ITM reads the terrain of each pixel's path (README, "Speed at 30 m"):
        ``"ray"`` (the default since version 17) reads it once per ray from the site,
        keeps ITM's prefix quantities incrementally along the ray and the last points before
        the receiver on the pixel's own line; ``"profile"``, each pixel's own straight
        profile (the exact reference, 2.5-5x slower). Other models always use
        ``"profile"``.
    clutter
        Add the ITU-R P.2108 §3.1 clutter loss at the receiver from ``[inputs] landcover``
        (:mod:`vncoverage.clutter`). None (the default): applied when ``[inputs]
        landcover`` is given; true requires it; false ignores it.
    """

    model: Literal["fspl", "hata", "cost231", "p526", "itm"] = "p526"
    paths: Literal["ray", "profile"] = "ray"
    technologies: tuple[str, ...] = ("4G", "5G")
    max_radius_m: Mapping[str, float] = field(
        default_factory=lambda: types.MappingProxyType(
            {"2G": 15000.0, "3G": 10000.0, "4G": 10000.0, "5G": 3000.0}
        )
    )
    rx_height_m: float = 1.5
    k_factor: float = 4.0 / 3.0
    rsrp_threshold_dbm: Mapping[str, float] = field(
        default_factory=lambda: types.MappingProxyType(
            {"2G": -100.0, "3G": -100.0, "4G": -110.0, "5G": -110.0}
        )
    )
    good_rsrp_dbm: float = -100.0
    location_sigma_db: float = 8.0
    location_probability: float = 0.9
    h_beamwidth_deg: float = 65.0
    v_beamwidth_deg: float = 10.0
    front_to_back_db: float = 25.0
    vertical_sidelobe_db: float = 20.0
    cpich_fraction_db: float = -10.0
    climate: int = 2
    n0: float = 320.0
    epsilon: float = 15.0
    sigma: float = 0.005
    polarization: int = 1
    mdvar: int = 12
    time_pct: float = 50.0
    situation_pct: float = 50.0
    clutter: bool | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        """Picklable (Dask sends it to its workers): the read-only mappings travel as
        dicts and are read-only again on the other side."""
        proxies = tuple(f.name for f in dataclasses.fields(self)
                        if isinstance(getattr(self, f.name), types.MappingProxyType))
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return _rebuild_radio, ({k: dict(values[k]) if k in proxies else v
                                 for k, v in values.items()}, proxies)

    @property
    def itm_params(self) -> dict[str, Any]:
        """The ITM parameters by name (location fixed at the median, 50 %): the keyword
        arguments of the ``itm`` model and of ``vncoverage._itm_kernels.ItmParams``."""
        return {"climate": self.climate, "n0": self.n0, "polarization": self.polarization,
                "epsilon": self.epsilon, "sigma": self.sigma, "mdvar": self.mdvar,
                "time_pct": self.time_pct, "location_pct": 50.0,
                "situation_pct": self.situation_pct}

    @property
    def location_margin_db(self) -> float:
        """Margin that turns the median level into the level exceeded at
        ``location_probability`` of locations: ``sigma * Q^-1(1 - p)``."""
        # imported here: scipy.special costs 0.3 s, and every command reads the config
        from scipy.special import ndtri  # inverse standard normal CDF (= norm.ppf)

        return float(self.location_sigma_db * ndtri(self.location_probability))


@dataclass(frozen=True)
class CoverageConfig:
    """Per-village verdict rule.

    Attributes
    ----------
    covered_population_share
        A village whose centre is covered is "covered" when at least this share of its
        settled population (household clusters) is covered, otherwise "lõm sóng" (weak).
        DOMAIN.md defines lõm sóng as "part of the settled area not covered"; 0.9 tolerates
        an isolated hamlet (assumption, set 1.0 for the strict reading).
    remote_town_m, remote_road_m
        An uncovered village is a *remote gap* (the plan's priority: "vùng sâu, vùng xa")
        when its centre is farther than ``remote_town_m`` from its district town or
        farther than ``remote_road_m`` from the road network (:mod:`vncoverage.remote`).
        15 km is an assumption: about the radius a district town's services (and the
        towers built for them) reach in Lạng Sơn's hills; on the bundled sample it marks
        about half of the uncovered villages as remote. 1 km is an assumption too: farther
        from a road, equipment and power for a tower would have to be carried in.
    """

    covered_population_share: float = 0.9
    remote_town_m: float = 15_000.0
    remote_road_m: float = 1_000.0


@dataclass(frozen=True)
class FtthConfig:
    """FTTH reach (DOMAIN.md).

    Attributes
    ----------
    drop_reach_m
        Maximum drop-cable length from splitter to household, 300 m.
    gpon_reach_m
        Maximum splitter-to-OLT route, 20 km (GPON class B+).
    straight_line_factor
        Without road data, route length = straight-line distance times this factor (1.2).
    rule
        Village FTTH verdict: "centre" (centre passed), "share" (at least
        ``household_share`` of households passed) or "centre_or_share".
    household_share
        Share of households for the "share" rules (assumption: 0.5).
    junction_tolerance_m
        Road files are rarely noded: a line whose end lies within this distance of another
        line (on it, or a few metres short) is joined to it there (5 m, assumption: the
        digitising error of provincial road layers). Lines that merely cross (bridges) are
        never joined.
    max_snap_m
        With a road network: maximum straight-line distance, in metres, from a splitter,
        OLT, village centre or household cluster to the nearest road for it to be snapped
        onto that road (500 m, assumption: about the longest service track a drop or feeder
        would follow off a mapped road). Points farther away are off the network,
        unreachable by road, and reported as such (never snapped across a valley).
    """

    drop_reach_m: float = 300.0
    gpon_reach_m: float = 20000.0
    straight_line_factor: float = 1.2
    rule: Literal["centre", "share", "centre_or_share"] = "centre_or_share"
    household_share: float = 0.5
    junction_tolerance_m: float = 5.0
    max_snap_m: float = 500.0


@dataclass(frozen=True)
class KpiConfig:
    """KPI definitions.

    Attributes
    ----------
    plan_start, plan_end
        A BTS commissioned in this closed interval is "new" for the shared-infrastructure
        KPI. The plan was adopted in the second half of 2023 with Q2/2023 baselines, so the
        default period is 2023-07-01 to 2025-12-31.
    operators
        Mobile network operators. A tower owned by anyone else is a neutral (shared) tower.
    count_weak_as_covered
        Whether "lõm sóng" villages count as covered in the mobile-broadband KPI (default
        False: only "covered" counts; the plan speaks of coverage, not of a signal at the
        cultural house).
    same_tower_m
        Sites of different ``site_id`` at most this far apart (single linkage: a chain of
        such sites) are one tower (each operator numbers its own sites): they count as one
        tower in the shared-BTS KPI, shared when it hosts several operators (30 m,
        assumption: the spread of coordinates surveyed separately for one mast).
    """

    plan_start: dt.date = dt.date(2023, 7, 1)
    plan_end: dt.date = dt.date(2025, 12, 31)
    operators: tuple[str, ...] = ("Viettel", "VNPT", "MobiFone")
    count_weak_as_covered: bool = False
    same_tower_m: float = 30.0


@dataclass(frozen=True)
class RunConfig:
    """Execution options.

    Attributes
    ----------
    threads
        Numba threads for the propagation kernels; 0 = all cores.
    progress
        Show progress bars.
    analyses
        What to compute: ``"mobile"`` (needs a DEM and cells or sites) and/or ``"fibre"``
        (needs FTTH nodes). Empty (the default): every analysis whose inputs are given.
    switch_off
        Technologies the run treats as switched off: ``"2G"`` and/or ``"3G"``, each among
        ``[radio] technologies``. Their layers still give today's service; the villages
        served today only through them are listed as losing service
        (:func:`vncoverage.villages.service_only_through`, ``switch_off_villages.csv``).
        Empty (the default): no switch-off.
    scheduler
        Where the propagation runs (:mod:`vncoverage.tiles`): empty (the default) in this
        process; ``"local:N"`` on a Dask LocalCluster of N worker processes;
        ``"threads:N"`` on one of N threads; ``"tcp://host:8786"`` (or ``tls://``) on the
        Dask scheduler at that address. The results are the same in every case.
    tile_px
        Side of the output tiles in pixels when a ``scheduler`` is set (one Dask task
        each).
    scratch
        Folder for the files the workers read and write (the DEM and land cover as used,
        the finished tiles) when a ``scheduler`` is set: it must be readable and writable
        by every worker (a shared filesystem with ``tcp://``). Default: the workspace's
        state folder, else a temporary folder. Also where a run larger than
        ``memory_mb`` keeps its grids (:mod:`vncoverage._grids`).
    memory_mb
        The memory (MB) a run aims to stay within. When the best-server layers would take
        more than a quarter of it (8 layers of a province at 30 m: 3.5 GB), the run keeps
        its whole-grid arrays in unlinked files in ``scratch`` and at most a quarter of
        ``memory_mb`` of them in the process at once (:class:`vncoverage._grids.GridMemory`);
        the rest is file cache, which the system writes to disk and frees when memory is
        short. 0: no limit (every grid in memory).
    """

    threads: int = 0
    progress: bool = True
    analyses: tuple[str, ...] = ()
    switch_off: tuple[str, ...] = ()
    scheduler: str = ""
    tile_px: int = 1024
    scratch: Path | None = None
    memory_mb: int = 2048


@dataclass(frozen=True)
class UncertaintyConfig:
    """The Monte Carlo over the shared error model of the mobile verdicts and KPIs
    (:mod:`vncoverage.uncertainty`).

    Attributes
    ----------
    enabled
        Compute ``p_covered`` per village and the KPIs' intervals (off by default: the
        outputs then have no uncertainty columns).
    draws
        Monte Carlo draws (1000: the 5 % and 95 % quantiles to about ±0.7 % probability).
    seed
        Seed of the common random numbers (the same seed gives the same draws; a site's
        and a village's errors are keyed by their ids, not by their order).
    global_sigma_db, site_sigma_db, village_sigma_db, point_sigma_db
        Standard deviations (dB) of the errors of the predicted median levels: one
        province-wide bias per draw; one error per site (EIRP, tilt, position; shared by
        its cells); one per village (local shadowing the DEM misses, shared by its
        points); one per point. Uncalibrated defaults 4, 5, 5, 4 dB (total 9.1 dB), an
        assumption documented in the README (:mod:`vncoverage.uncertainty`); a calibration
        replaces them.
    """

    enabled: bool = False
    draws: int = 1000
    seed: int = 20250101
    global_sigma_db: float = 4.0
    site_sigma_db: float = 5.0
    village_sigma_db: float = 5.0
    point_sigma_db: float = 4.0


@dataclass(frozen=True)
class CalibrationConfig:
    """Corrections fitted to measurements (:mod:`vncoverage.calibration`).

    Attributes
    ----------
    corrections
        The ``corrections.json`` that ``vncoverage calibrate`` wrote (``W/calibration/``):
        its offsets are added to the cells' EIRP per operator / technology / band when the
        inputs are loaded (noted, in the fingerprints and the report's provenance). None
        (default): the model is not corrected.
    measurements
        Measured levels (CSV / GPKG, what ``vncoverage calibrate`` reads): the run
        calibrates itself (a stage after the load, :func:`vncoverage.pipeline.run`), fits
        the corrections on the uncorrected model, adds them to the cells' EIRP and uses
        their residuals in the uncertainty. Not together with ``corrections``. None
        (default): no calibration in the run.
    measurements_layer
        Layer of a vector measurement file of several layers.
    seed, folds
        Seed of the sites' random assignment to the cross-validation folds and the number
        of folds (grouped by site), as ``vncoverage calibrate --seed / --folds``.
    """

    corrections: Path | None = None
    measurements: Path | None = None
    measurements_layer: str | None = None
    seed: int = 0
    folds: int = 5


@dataclass(frozen=True)
class PlanConfig:
    """Site and fibre planning (``vncoverage plan``, :mod:`vncoverage.plan`).

    Attributes
    ----------
    target_mobile, target_fibre
        Shares of villages to reach (None: the 2025 targets of the run, 98 % and 95 % in
        Lạng Sơn's plan).
    budget_vnd
        Optional budget (VND) of the mobile works: with a target, a cap; without a target
        (``objective``), the budget to spend.
    objective
        ``"cost"``: the cheapest works reaching the target; ``"villages"`` / ``"people"``:
        the most villages / people covered for ``budget_vnd``.
    sharing_share
        Minimum share of the new BTS on shared towers (the plan's 30 %).
    mode
        ``"neutral"``: a tower company builds, any operator may use a new tower;
        an operator's name: that operator's works only.
    time_limit_s
        Solver time limit; a solution stopped by it is reported with its gap, never as
        optimal.
    cost_table, candidates
        Override of the shipped cost table; user-supplied candidate sites (CSV / GPKG).
    road_distance_m, max_slope_deg, min_spacing_m
        New-tower candidates: within this distance of a road, on slopes at most this steep,
        at least this far apart.
    technology
        The technology the new sites carry (``"4G"``).
    commune_min_share
        Optional minimum share of each commune's villages covered after the plan (the
        plan's "remote villages first": no commune left behind); a commune's villages no
        candidate can reach are left out of its requirement (noted).
    """

    target_mobile: float | None = None
    target_fibre: float | None = None
    budget_vnd: float | None = None
    objective: Literal["cost", "villages", "people"] = "cost"
    sharing_share: float = 0.30
    mode: str = "neutral"
    time_limit_s: float = 120.0
    cost_table: Path | None = None
    candidates: Path | None = None
    road_distance_m: float = 1000.0
    max_slope_deg: float = 25.0
    min_spacing_m: float = 2000.0
    technology: str = "4G"
    commune_min_share: float | None = None


@dataclass(frozen=True)
class Config:
    """The whole configuration. Build it with :func:`load_config` or
    :func:`config_from_mapping`; never mutate it (use :func:`dataclasses.replace`)."""

    study: StudyConfig = field(default_factory=StudyConfig)
    inputs: InputsConfig = field(default_factory=InputsConfig)
    radio: RadioConfig = field(default_factory=RadioConfig)
    coverage: CoverageConfig = field(default_factory=CoverageConfig)
    ftth: FtthConfig = field(default_factory=FtthConfig)
    kpi: KpiConfig = field(default_factory=KpiConfig)
    run: RunConfig = field(default_factory=RunConfig)
    uncertainty: UncertaintyConfig = field(default_factory=UncertaintyConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    plan: PlanConfig = field(default_factory=PlanConfig)
    source: Path | None = None


def section_dict(cfg: Config, name: str) -> dict[str, Any]:
    """The section ``name`` of ``cfg`` as plain JSON-able values (mappings become dicts),
    for fingerprints and provenance."""
    sec = getattr(cfg, name)
    out = {}
    for f in dataclasses.fields(sec):
        v = getattr(sec, f.name)
        out[f.name] = dict(v) if isinstance(v, Mapping) else v
    return out


_SECTIONS: dict[str, type] = {
    "study": StudyConfig,
    "inputs": InputsConfig,
    "radio": RadioConfig,
    "coverage": CoverageConfig,
    "ftth": FtthConfig,
    "kpi": KpiConfig,
    "run": RunConfig,
    "uncertainty": UncertaintyConfig,
    "calibration": CalibrationConfig,
    "plan": PlanConfig,
}


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML configuration file.

    Raises
    ------
    ConfigError
        Listing every problem (unknown keys, wrong types, out-of-range values).
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            [Problem(str(path), "configuration file not found", "check the --config path")]
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            [Problem(str(path), f"not valid TOML: {exc}", "fix the TOML syntax")]
        ) from None
    return config_from_mapping(raw, base_dir=path.parent, source=path)


def config_from_mapping(
    raw: Mapping[str, Any], *, base_dir: Path | None = None, source: Path | None = None
) -> Config:
    """Build a validated :class:`Config` from nested mappings (as parsed from TOML)."""
    where = str(source) if source else "config"
    problems: list[Problem] = []
    sections: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _SECTIONS:
            problems.append(
                Problem(
                    where,
                    f"unknown section [{key}]",
                    f"use one of: {', '.join('[' + s + ']' for s in _SECTIONS)}",
                )
            )
            continue
        if not isinstance(value, Mapping):
            problems.append(Problem(where, f"[{key}] must be a table", f"write it as [{key}]"))
            continue
        built = _build_section(key, _SECTIONS[key], value, base_dir, where, problems)
        if built is not None:
            sections[key] = built
    if problems:
        raise ConfigError(problems)
    cfg = Config(**sections, source=source)
    _check_ranges(cfg, where)
    return cfg


def _build_section(
    name: str,
    cls: type,
    values: Mapping[str, Any],
    base_dir: Path | None,
    where: str,
    problems: list[Problem],
) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    n_before = len(problems)
    for key, value in values.items():
        if key not in fields:
            problems.append(
                Problem(
                    where,
                    f"unknown key '{key}' in [{name}]",
                    f"valid keys in [{name}]: {', '.join(sorted(fields))}",
                )
            )
            continue
        try:
            kwargs[key] = _coerce(hints[key], value, base_dir)
        except (TypeError, ValueError) as exc:
            problems.append(
                Problem(where, f"[{name}] {key}: {exc}", "see the README's Configuration table",
                        value=value)
            )
    if len(problems) > n_before:
        return None
    # Per-technology tables are merged into the defaults, so a user can set only "4G".
    for key in ("max_radius_m", "rsrp_threshold_dbm"):
        if key in kwargs:
            default = getattr(cls(), key)
            kwargs[key] = types.MappingProxyType({**default, **kwargs[key]})
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, base_dir: Path | None) -> Any:
    """``value`` (as parsed from TOML) checked against the type ``hint`` of its field and
    converted; relative paths are resolved against ``base_dir``. Raises TypeError or
    ValueError with the text shown to the user."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return _coerce_optional(args, value, base_dir)
    if hint is Path:
        return _coerce_path(value, base_dir)
    if origin is Literal:
        return _coerce_literal(args, value)
    if origin is tuple:
        return _coerce_tuple(args, value, base_dir)
    if origin is Mapping:
        return _coerce_mapping(args, value, base_dir)
    coercer = _SCALAR_COERCERS.get(hint)
    if coercer is None:
        raise TypeError(f"unsupported type {hint!r}")  # pragma: no cover - programming error
    return coercer(value)


def _coerce_optional(args: tuple[Any, ...], value: Any, base_dir: Path | None) -> Any:
    """``X | None``: ``None`` stays ``None`` when allowed, anything else is coerced to ``X``."""
    if value is None and type(None) in args:
        return None
    inner = [a for a in args if a is not type(None)]
    return _coerce(inner[0], value, base_dir)


def _coerce_path(value: Any, base_dir: Path | None) -> Path:
    """A non-empty path string, ``~`` expanded, relative paths resolved against ``base_dir``."""
    if not isinstance(value, str) or not value:
        raise TypeError("expected a non-empty path string")
    p = Path(value).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = (base_dir / p).resolve()
    return p


def _coerce_literal(args: tuple[Any, ...], value: Any) -> Any:
    """One of the allowed values of a ``Literal[...]`` field."""
    if value not in args:
        raise ValueError(f"must be one of {', '.join(map(repr, args))}")
    return value


def _coerce_bool(value: Any) -> bool:
    """A TOML boolean (no truthy numbers or strings)."""
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def _coerce_int(value: Any) -> int:
    """A TOML integer (a boolean is not an integer here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected an integer")
    return value


def _coerce_float(value: Any) -> float:
    """A finite TOML integer or float (not a boolean), as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("expected a number")
    if not math.isfinite(value):
        raise ValueError("must be finite")
    return float(value)


def _coerce_str(value: Any) -> str:
    """A TOML string."""
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _coerce_date(value: Any) -> dt.date:
    """A TOML date, the date of a TOML date-time, or an ISO ``YYYY-MM-DD`` string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    raise TypeError("expected a date (YYYY-MM-DD)")


def _coerce_tuple(args: tuple[Any, ...], value: Any, base_dir: Path | None) -> tuple[Any, ...]:
    """A TOML array as a tuple, each item coerced to the item type ``args[0]``."""
    if not isinstance(value, list | tuple):
        raise TypeError("expected a list")
    return tuple(_coerce(args[0], v, base_dir) for v in value)


def _coerce_mapping(args: tuple[Any, ...], value: Any,
                    base_dir: Path | None) -> dict[str, Any]:
    """A per-technology TOML table, keys among :data:`TECHNOLOGIES`, values coerced to the
    value type ``args[1]``."""
    if not isinstance(value, Mapping):
        raise TypeError("expected a table, e.g. { \"4G\" = 10000 }")
    unknown = [k for k in value if k not in TECHNOLOGIES]
    if unknown:
        raise ValueError(f"unknown technology {unknown}; use {', '.join(TECHNOLOGIES)}")
    return {k: _coerce(args[1], v, base_dir) for k, v in value.items()}


#: Coercers of the plain (non-generic) field types other than :class:`~pathlib.Path`.
_SCALAR_COERCERS: dict[Any, Callable[[Any], Any]] = {
    bool: _coerce_bool,
    int: _coerce_int,
    float: _coerce_float,
    str: _coerce_str,
    dt.date: _coerce_date,
}


def parse_scheduler(spec: str) -> tuple[str, int | str] | None:
    """``[run] scheduler`` read: None (this process), ``("processes", N)``,
    ``("threads", N)`` or ``("address", "tcp://...")``. Raises ValueError otherwise."""
    spec = spec.strip()
    if not spec:
        return None
    for prefix, kind in (("local:", "processes"), ("threads:", "threads")):
        if spec.startswith(prefix):
            n = spec[len(prefix):]
            if not n.isdigit() or not 1 <= int(n) <= 1024:
                raise ValueError(f"{spec!r}: the number of workers must be 1-1024")
            return kind, int(n)
    if spec.split("://", 1)[0] in ("tcp", "tls", "inproc", "ucx") and "://" in spec:
        return "address", spec
    raise ValueError(f"{spec!r} is not local:N, threads:N or a scheduler address")


def _scheduler_ok(spec: str) -> bool:
    try:
        parse_scheduler(spec)
    except ValueError:
        return False
    return True


def _check_ranges(cfg: Config, where: str) -> None:
    r, f, c, k = cfg.radio, cfg.ftth, cfg.coverage, cfg.kpi
    checks: list[tuple[bool, str, str]] = [
        (all(t in TECHNOLOGIES for t in r.technologies) and len(r.technologies) > 0,
         "[radio] technologies must be a non-empty subset of 2G, 3G, 4G, 5G",
         'e.g. technologies = ["4G", "5G"]'),
        (all(v > 0 for v in r.max_radius_m.values()), "[radio] max_radius_m must be > 0",
         "use a radius in metres, e.g. 10000"),
        (0.5 <= r.rx_height_m <= 10, "[radio] rx_height_m must be within 0.5-10 m",
         "1.5 m is a handset"),
        (0.5 <= r.k_factor <= 10, "[radio] k_factor must be within 0.5-10", "4/3 is standard"),
        (0 < r.location_probability < 1, "[radio] location_probability must be in (0, 1)",
         "e.g. 0.9"),
        (r.location_sigma_db >= 0, "[radio] location_sigma_db must be >= 0", "e.g. 8"),
        (0 < r.h_beamwidth_deg <= 360 and 0 < r.v_beamwidth_deg <= 180,
         "[radio] beamwidths must be positive", "e.g. 65 and 10 degrees"),
        (r.climate in range(1, 8), "[radio] climate must be 1..7 (ITM radio climates)",
         "2 = continental subtropical"),
        (r.polarization in (0, 1), "[radio] polarization must be 0 (horizontal) or 1 (vertical)",
         "use 1"),
        (250 <= r.n0 <= 400, "[radio] n0 must be within 250-400 N-units", "e.g. 320"),
        (r.mdvar in (0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33),
         "[radio] mdvar must be an ITM mode of variability (0-3, +10, +20)", "use 12"),
        (0 < r.time_pct < 100 and 0 < r.situation_pct < 100,
         "[radio] time_pct and situation_pct must be within (0, 100)", "use 50"),
        (0 < c.covered_population_share <= 1,
         "[coverage] covered_population_share must be in (0, 1]", "e.g. 0.9"),
        (c.remote_town_m > 0 and c.remote_road_m > 0,
         "[coverage] remote_town_m and remote_road_m must be > 0", "e.g. 15000 and 1000"),
        (f.drop_reach_m > 0 and f.gpon_reach_m > 0, "[ftth] reaches must be > 0",
         "e.g. 300 and 20000"),
        (f.straight_line_factor >= 1, "[ftth] straight_line_factor must be >= 1", "e.g. 1.2"),
        (0 < f.household_share <= 1, "[ftth] household_share must be in (0, 1]", "e.g. 0.5"),
        (f.max_snap_m > 0, "[ftth] max_snap_m must be > 0", "e.g. 500 (metres)"),
        (f.junction_tolerance_m >= 0, "[ftth] junction_tolerance_m must be >= 0",
         "e.g. 5 (metres); 0 joins only lines that share a vertex"),
        (k.same_tower_m >= 0, "[kpi] same_tower_m must be >= 0",
         "e.g. 30 (metres); 0 counts only equal site_id as one tower"),
        (k.plan_start <= k.plan_end, "[kpi] plan_start is after plan_end", "swap the dates"),
        (cfg.run.threads >= 0, "[run] threads must be >= 0", "0 uses every core"),
        (_scheduler_ok(cfg.run.scheduler),
         f"[run] scheduler = {cfg.run.scheduler!r} is not a scheduler",
         'write "" (this process), "local:2", "threads:2" or "tcp://host:8786"'),
        (64 <= cfg.run.tile_px <= 65536, "[run] tile_px must be within 64-65536",
         "e.g. 1024 (2048-4096 at 30 m)"),
        (cfg.run.memory_mb == 0 or cfg.run.memory_mb >= 256,
         "[run] memory_mb must be 0 (no limit) or >= 256", "e.g. 2048 (MB)"),
        (10 <= cfg.uncertainty.draws <= 100_000,
         "[uncertainty] draws must be within 10-100000", "e.g. 1000"),
        (min(cfg.uncertainty.global_sigma_db, cfg.uncertainty.site_sigma_db,
             cfg.uncertainty.village_sigma_db, cfg.uncertainty.point_sigma_db) >= 0,
         "[uncertainty] the sigmas must be >= 0", "e.g. 4 (dB); 0 leaves that error out"),
        (set(cfg.run.analyses) <= {"mobile", "fibre"}
         and len(set(cfg.run.analyses)) == len(cfg.run.analyses),
         "[run] analyses must list \"mobile\" and/or \"fibre\" (each once)",
         'e.g. analyses = ["fibre"] for a fibre-only run; leave it out for both'),
        (set(cfg.run.switch_off) <= {"2G", "3G"}
         and len(set(cfg.run.switch_off)) == len(cfg.run.switch_off),
         "[run] switch_off must list \"2G\" and/or \"3G\" (each once)",
         'e.g. switch_off = ["2G"]; leave it out for no switch-off'),
        (set(cfg.run.switch_off) <= set(r.technologies),
         f"[run] switch_off = {list(cfg.run.switch_off)} names a technology that [radio] "
         "technologies does not compute: today's service through it is unknown",
         'add it to [radio] technologies, e.g. technologies = ["2G", "3G", "4G", "5G"]'),
        (r.clutter is not True or cfg.inputs.landcover is not None,
         "[radio] clutter = true needs a land-cover raster",
         "set [inputs] landcover (e.g. ESA WorldCover), or leave clutter out"),
        (cfg.inputs.landcover_classes is None or cfg.inputs.landcover is not None,
         "[inputs] landcover_classes is given without [inputs] landcover",
         "set [inputs] landcover too, or remove landcover_classes"),
        (all(t is None or 0 < t <= 1 for t in (cfg.plan.target_mobile, cfg.plan.target_fibre)),
         "[plan] target_mobile and target_fibre must be in (0, 1]", "e.g. 0.98"),
        (cfg.plan.budget_vnd is None or cfg.plan.budget_vnd > 0,
         "[plan] budget_vnd must be > 0", "e.g. 50e9 (VND)"),
        (cfg.plan.objective == "cost" or cfg.plan.budget_vnd is not None,
         f"[plan] objective = \"{cfg.plan.objective}\" needs budget_vnd",
         "set budget_vnd, or objective = \"cost\""),
        (0 <= cfg.plan.sharing_share <= 1, "[plan] sharing_share must be in [0, 1]",
         "e.g. 0.3"),
        (cfg.plan.time_limit_s > 0, "[plan] time_limit_s must be > 0", "e.g. 120"),
        (cfg.plan.road_distance_m > 0 and cfg.plan.min_spacing_m >= 0
         and 0 < cfg.plan.max_slope_deg < 90,
         "[plan] road_distance_m > 0, min_spacing_m >= 0, max_slope_deg in (0, 90)",
         "e.g. 1000, 2000 and 25"),
        (cfg.plan.commune_min_share is None or 0 < cfg.plan.commune_min_share <= 1,
         "[plan] commune_min_share must be in (0, 1]", "e.g. 0.9"),
        (cfg.plan.technology in ("4G", "5G"), "[plan] technology must be 4G or 5G",
         "use \"4G\""),
        (cfg.calibration.measurements is None or cfg.calibration.corrections is None,
         "[calibration] measurements and [calibration] corrections are both set",
         "keep one: measurements (the run fits the corrections itself) or corrections "
         "(a corrections.json fitted earlier by `vncoverage calibrate`)"),
        (cfg.calibration.folds >= 2, "[calibration] folds must be >= 2", "e.g. 5"),
        (cfg.calibration.measurements_layer is None or cfg.calibration.measurements
         is not None, "[calibration] measurements_layer is given without measurements",
         "set [calibration] measurements too, or remove measurements_layer"),
        (cfg.inputs.dem_resolution_m is None or cfg.inputs.dem_resolution_m > 0,
         "[inputs] dem_resolution_m must be > 0", "e.g. 30 (metres); leave it out for the "
         "tiles' native resolution"),
    ]
    problems = [Problem(where, msg, fix) for ok, msg, fix in checks if not ok]
    if problems:
        raise ConfigError(problems)
