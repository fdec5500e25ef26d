"""What a run computed, in memory: :class:`Results`, frozen.

:func:`vncoverage.pipeline.run` builds it, once, with everything the outputs show: the
per-village table (remote gaps with the configured thresholds included), the KPI tables,
the tower inventory, the 4G best-server bands, the covered masks, the server index of each
cell and the changes since the previous run of a workspace. Writers, the map, the report
and the exports (:mod:`vncoverage.outputs`) only read it; a caller that wants to add a
note or a timing makes a new one with :func:`dataclasses.replace`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from .calibration import Calibration
from .changes import Changes
from .config import Config
from .coverage import Layers, LayerUpdate
from .datatypes import Inputs, Raster
from .fibre import FtthResult
from .pointlevels import PointLevels
from .uncertainty import Uncertainty

__all__ = ["Results"]


@dataclass(frozen=True)
class Results:
    """Everything a run computed.

    Attributes
    ----------
    cfg, inputs
        The configuration and the validated inputs of the run.
    layers
        Best-server layers per technology and operator (:mod:`vncoverage.coverage`); None
        in a run without the mobile analysis (see ``analyses``).
    summary
        Per-village mobile coverage as the villages stage computed it
        (:func:`vncoverage.villages.summarise_villages`), indexed by ``village_id`` (no
        columns without the mobile analysis).
    ftth
        FTTH reach (:func:`vncoverage.fibre.ftth_reach`), or None without FTTH nodes.
    villages
        Every per-village figure, indexed by ``village_id``: the village layer, ``summary``,
        the nearest tower, the centre (``centre_x``, ``centre_y``), the FTTH columns and the
        remote-gap columns (:func:`vncoverage.remote.remote_gaps`, with the configured
        thresholds).
    kpis, by_district, by_commune_2025
        The KPI table and the per-district / per-2025-commune tables (:mod:`vncoverage.kpi`).
    towers
        One row per tower (:func:`vncoverage.towers.towers_from_cells`); None without the
        mobile analysis.
    towns
        District town points (working CRS), or None when the districts layer has none.
    server_index
        Per cell id (the cell table's order): its index in ``layers.cell_ids``, the value of
        the server bands; -1 for cells of technologies not computed.
    rsrp_4g, server_4g
        The 4G best-server RSRP (dBm, NaN where no cell reaches or unknown) and best-server
        index (-1 none or unknown) of any operator; None without 4G.
    coverage_masks
        Covered masks (1 covered, 0 not, 255 unknown) per ``(technology, operator)``, the
        ``MBB`` unions included, described ``"<technology> <operator>"``.
    notes
        What the user should know about the inputs and the computation, for the report:
        :class:`~vncoverage.i18n.Message` objects (English ``str`` values that
        ``render(lang)`` in the report's language; ``source`` names the input file).
    timings
        Seconds per stage.
    computed
        What each stage did (``"computed"``, ``"reused"``, ``"updated: ..."``).
    layer_update
        What an incremental run changed in the layers, or None for a full computation.
    changes
        What changed since the previous run of a workspace (None outside an update).
    analyses
        The analyses the run made: ``"mobile"`` (coverage, per-village mobile verdicts,
        the mobile and BTS KPIs, the rasters, the towers) and/or ``"fibre"`` (FTTH reach and
        KPI). Figures of an analysis not made are absent, never zero; the KPIs of an
        analysis not made say "not computed".
    uncertainty
        The Monte Carlo of the verdicts and KPIs (:mod:`vncoverage.uncertainty`: its
        ``p_covered`` columns are in ``villages``, its KPI columns in ``kpis``), or None
        when ``[uncertainty] enabled`` is false.
    point_levels
        The village points' matrix of levels it used (:mod:`vncoverage.pointlevels`; a
        workspace may keep it for the next update), or None.
    calibration
        The calibration the run made itself (``[calibration] measurements``,
        :func:`vncoverage.calibration.calibrate` on the uncorrected model; its corrections
        are in the EIRP of ``inputs.cells``), or None when it made none.
    """

    cfg: Config
    inputs: Inputs
    layers: Layers | None
    summary: pd.DataFrame
    ftth: FtthResult | None
    villages: gpd.GeoDataFrame
    kpis: pd.DataFrame
    by_district: pd.DataFrame
    by_commune_2025: pd.DataFrame
    towers: gpd.GeoDataFrame | None
    towns: gpd.GeoSeries | None
    server_index: pd.Series
    rsrp_4g: Raster | None
    server_4g: Raster | None
    coverage_masks: Mapping[tuple[str, str], Raster]
    notes: tuple[str, ...]
    timings: Mapping[str, float]
    computed: Mapping[str, str]
    layer_update: LayerUpdate | None = None
    changes: Changes | None = None
    analyses: tuple[str, ...] = ("mobile", "fibre")
    uncertainty: Uncertainty | None = None
    point_levels: PointLevels | None = None
    calibration: Calibration | None = None

    @property
    def mobile(self) -> bool:
        """Whether the run made the mobile analysis."""
        return "mobile" in self.analyses

    @property
    def fibre(self) -> bool:
        """Whether the run made the fibre analysis (FTTH nodes given and asked for)."""
        return "fibre" in self.analyses

    @property
    def fibre_roads(self) -> gpd.GeoDataFrame | None:
        """Fibre-ready roads (stretches within the drop reach of a usable splitter along the
        roads), or None without road data or FTTH nodes."""
        return self.ftth.fibre_roads if self.ftth is not None else None

    @property
    def ftth_unreached(self) -> gpd.GeoDataFrame | None:
        """Villages not FTTH-covered, as centre points with the cable length needed."""
        return self.ftth.unreached if self.ftth is not None else None

    @property
    def n_cells(self) -> dict[str, int]:
        """Cells per computed technology."""
        c = self.inputs.cells
        if c is None:
            return {}
        return {t: int((c["technology"] == t).sum()) for t in self.cfg.radio.technologies}
