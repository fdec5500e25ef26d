"""The propagation on Dask tiles (:mod:`vncoverage.tiles`) gives the in-process layers to the
bit: threads and processes, tiles smaller than the computation radius, sites on tile
corners and edges, a worker killed mid-run, a run stopped and started again."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point

from vncoverage import tiles
from vncoverage.cli import main
from vncoverage.cli.options import load
from vncoverage.clutter import ClutterGrid
from vncoverage.config import ConfigError, config_from_mapping, parse_scheduler
from vncoverage.coverage import compute_layers, group_geometry, new_layers, sweep_groups
from vncoverage.fileio import load_inputs
from vncoverage.pointlevels import PointCollector
from vncoverage.tiles import TiledRun, compute_layers_tiled, open_client, tile_boxes

distributed = pytest.importorskip("distributed")

#: smaller than the 4G radius at 90 m (10 km: 111 pixels), so a group meets up to 9 tiles
TILE = 48


@pytest.fixture(scope="module")
def sample():
    cfg = load(None)
    return cfg, load_inputs(cfg)


@pytest.fixture(scope="module")
def case(sample):
    """The sample's DEM and land cover, 24 cells near the grid's centre and the copies of
    one of them on a tile corner, a tile edge and a pixel centre on a corner, and 400
    seeded points."""
    cfg, inputs = sample
    dem, cells = inputs.dem, inputs.cells
    t = dem.transform
    r_mid, c_mid = (s // 2 // TILE * TILE for s in dem.shape)
    cx, cy = t @ (c_mid, r_mid)  # a tile corner
    d = np.hypot(cells.geometry.x - cx, cells.geometry.y - cy)
    near = cells.loc[d.sort_values().index[:24]]
    base = near[near["technology"] == "4G"].iloc[0]
    extra = []
    for k, (col, row) in enumerate([(c_mid, r_mid), (c_mid + 3 * TILE, r_mid + 17.3),
                                    (c_mid - 2 * TILE + 0.5, r_mid - TILE + 0.5)]):
        x, y = t @ (col, row)
        extra.append(base.copy().rename(f"EDGE-{k}"))
        extra[-1]["geometry"] = Point(x, y)
    sub = gpd.GeoDataFrame(pd.concat([near, pd.DataFrame(extra)]), geometry="geometry",
                           crs=near.crs)
    clutter = ClutterGrid.from_landcover(inputs.landcover, cfg.radio.rx_height_m)
    rng = np.random.default_rng(7)
    px = rng.uniform(cx - 15_000, cx + 15_000, 400)
    py = rng.uniform(cy - 15_000, cy + 15_000, 400)
    collector = PointCollector(dem, px, py)
    layers = compute_layers(sub, dem, cfg.radio, clutter=clutter, on_raster=collector)
    return cfg, dem, sub, clutter, (px, py), layers, collector.levels(layers.cell_ids)


def _tiled(case, client, scratch: Path, *, stats: TiledRun | None = None):
    cfg, dem, cells, clutter, points, _, _ = case
    collector = PointCollector(dem, *points)
    layers = compute_layers_tiled(cells, dem, cfg.radio, client=client, scratch=scratch,
                                  tile_px=TILE, clutter=clutter, collector=collector,
                                  points=points, stats=stats)
    return layers, collector.levels(layers.cell_ids)


def _assert_same(case, layers, levels) -> None:
    _, _, _, _, _, ref, ref_levels = case
    assert list(layers.layers) == list(ref.layers)
    assert layers.cell_ids == ref.cell_ids
    for key, lay in ref.layers.items():
        got = layers.layers[key]
        for name in ("best_dbm", "server", "unknown", "flags"):
            a, b = getattr(lay, name), getattr(got, name)
            assert a.dtype == b.dtype, (key, name)
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), (key, name)
    for name in ("point", "cell", "level_dbm"):
        assert np.array_equal(getattr(ref_levels, name), getattr(levels, name),
                              equal_nan=True), name
    assert [str(m) for m in layers.notes] == [str(m) for m in ref.notes]


def test_the_case_is_what_it_claims(case):
    """Tiles smaller than a group's window, sites on tile corners and edges, something
    covered and some points reached: otherwise the equality tests prove little."""
    cfg, dem, cells, _, _, layers, levels = case
    groups = sweep_groups(cells, cfg.radio)
    sizes = [group_geometry(g, dem, cfg.radio)[3] for g in groups]
    assert min(sizes) > 2 * TILE
    edge = [g for g in groups if any(c.startswith("EDGE-") for c in g.cell_ids)]
    assert len(edge) == 3
    lay = layers.get("4G")
    assert np.isfinite(lay.best_dbm).sum() > 50_000
    assert len(levels.point) > 1000


def test_threads_equal_in_process(case, tmp_path):
    stats = TiledRun()
    with open_client("threads:2") as client:
        layers, levels = _tiled(case, client, tmp_path, stats=stats)
    _assert_same(case, layers, levels)
    assert stats.computed == stats.tiles > 9 and stats.reused == 0
    # the tiles stay on disk for the village summary until removed; the staged grids stay
    assert stats.store is not None and len(stats.store.files) == stats.tiles
    assert len(list((tmp_path / "tiles").glob("*.npz"))) == stats.tiles
    stats.store.remove()
    assert not list((tmp_path / "tiles").glob("*.npz"))
    assert len(list(tmp_path.glob("dem-*.tif"))) == 1


def test_village_summary_by_tile_equals_the_whole_grid(sample, tmp_path):
    """Villages summarised by tile on Dask, each task reading its window of the layers
    from the tile files (tiles of 100 pixels: most villages' windows span several): the
    same table, to the bit, as the summary on the whole grid in one process."""
    from vncoverage.villages import summarise_villages

    cfg, inputs = sample
    cells = inputs.cells.sample(300, random_state=3)
    ref = compute_layers(cells, inputs.dem, cfg.radio)
    want = summarise_villages(inputs.villages, inputs.centres, inputs.settlements, ref,
                              cfg.radio, cfg.coverage)
    stats = TiledRun()
    with open_client("local:2") as client:
        layers = compute_layers_tiled(cells, inputs.dem, cfg.radio, client=client,
                                      scratch=tmp_path, tile_px=100, stats=stats)
        assert stats.store is not None
        window = stats.store.window((37, 150, 437, 321))
        assert np.array_equal(window.get("4G").server, ref.get("4G").server[37:437, 150:321])
        got = tiles.summarise_villages_tiled(client, stats.store, inputs.villages,
                                             inputs.centres, inputs.settlements, cfg.radio,
                                             cfg.coverage, 100)
    assert np.array_equal(layers.get("4G").best_dbm, ref.get("4G").best_dbm)
    assert got.index.equals(want.index) and list(got.columns) == list(want.columns)
    assert got.to_csv() == want.to_csv()
    assert (want["verdict_mbb_any"] == "covered").any() and (
        want["verdict_mbb_any"] != "covered").any()


def test_processes_equal_in_process(case, tmp_path):
    with open_client("local:2") as client:
        layers, levels = _tiled(case, client, tmp_path)
    _assert_same(case, layers, levels)


def test_no_read_outside_the_window(case, tmp_path, monkeypatch):
    """The worker's arrays are the whole grid's, zero outside the window it read. Filled
    with 5 km mountains and the tallest clutter instead, the layers do not move: no path
    reads outside its window."""
    read = tiles.Grids.read

    def poisoned(self, box):
        dem, clutter = read(self, box)
        r0, c0, r1, c1 = box
        outside = np.ones(self.shape, bool)
        outside[r0:r1, c0:c1] = False
        dem.elevation[outside] = 5000.0
        if clutter is not None:
            tall = int(np.argmax(clutter.lut_height_m))
            clutter.classes[outside] = tall
            clutter.rx_heights()[outside] = clutter.lut_height_m[tall]
        return dem, clutter

    monkeypatch.setattr(tiles.Grids, "read", poisoned)
    with open_client("threads:1") as client:
        layers, levels = _tiled(case, client, tmp_path)
    _assert_same(case, layers, levels)


def test_a_stopped_run_starts_where_it_was(case, tmp_path, monkeypatch):
    """A tile fails after the others are written: the run stops with an error naming the
    tile and keeps the finished ones; the next run computes only that one and gives the
    same layers."""
    real = tiles.run_tile
    cfg, dem, cells, clutter, _, layers, _ = case
    grids = tiles.stage_grids(dem, clutter, tmp_path)
    empty = new_layers(dem, cfg.radio.technologies, sorted(cells["operator"].unique()),
                       layers.cell_ids)
    n_jobs = len(tiles._jobs(cells, dem, cfg.radio, grids, empty, TILE, None))
    folder = tmp_path / "tiles"
    chosen = tmp_path / "failing"  # a file: Dask pickles the function for every task

    def fails_last(job, grids, radio, keys, where, threads=1):
        try:
            fd = os.open(chosen, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.write(fd, job.key.encode())
            os.close(fd)
        except FileExistsError:
            if chosen.read_text() != job.key:
                return real(job, grids, radio, keys, where, threads)
        deadline = time.monotonic() + 300
        while len(list(folder.glob("*.npz"))) < n_jobs - 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        raise OSError("disk full")

    monkeypatch.setattr(tiles, "run_tile", fails_last)
    with open_client("threads:2") as client, pytest.raises(RuntimeError) as err:
        _tiled(case, client, tmp_path)
    msg = str(err.value)
    assert "tile rows" in msg and "disk full" in msg and "run again" in msg
    written = {p.stem for p in folder.glob("*.npz")}
    assert len(written) == n_jobs - 1 and chosen.read_text() not in written
    monkeypatch.setattr(tiles, "run_tile", real)
    stats = TiledRun()
    with open_client("threads:2") as client:
        again, levels = _tiled(case, client, tmp_path, stats=stats)
    assert (stats.tiles, stats.reused, stats.computed) == (n_jobs, n_jobs - 1, 1)
    _assert_same(case, again, levels)


def test_a_killed_worker_is_retried(case, tmp_path):
    """The first worker to start a tile dies (os._exit, as if killed); Dask retries the
    task elsewhere and the layers are the same."""
    marker = tmp_path / "killed"

    class KillOnce(distributed.WorkerPlugin):
        def __init__(self, path: str) -> None:
            self.path = path

        def setup(self, worker):
            self.worker = worker

        def transition(self, key, start, finish, **kwargs):
            if (finish == "executing" and str(key).startswith("vncoverage-tile-")
                    and not Path(self.path).exists()):
                Path(self.path).write_text(str(key))
                os._exit(1)

    with open_client("local:2") as client:
        client.register_plugin(KillOnce(str(marker)))
        layers, levels = _tiled(case, client, tmp_path / "scratch")
    assert marker.exists()
    _assert_same(case, layers, levels)


def test_scheduler_specs():
    assert parse_scheduler("") is None
    assert parse_scheduler("local:4") == ("processes", 4)
    assert parse_scheduler("threads:2") == ("threads", 2)
    assert parse_scheduler("tcp://10.0.0.5:8786") == ("address", "tcp://10.0.0.5:8786")
    for bad in ("local", "local:0", "local:x", "dask", "http://host:8786", "threads:-1"):
        with pytest.raises(ValueError):
            parse_scheduler(bad)
    with pytest.raises(ConfigError) as err:
        config_from_mapping({"run": {"scheduler": "local:zero"}})
    assert "[run] scheduler" in str(err.value) and "local:2" in str(err.value)
    with pytest.raises(ConfigError):
        config_from_mapping({"run": {"tile_px": 8}})


def test_radio_config_travels_to_workers():
    radio = load(None).radio
    back = pickle.loads(pickle.dumps(radio))
    assert back == radio and type(back.max_radius_m) is type(radio.max_radius_m)
    with pytest.raises(TypeError):
        back.max_radius_m["4G"] = 1.0  # type: ignore[index]


def test_cli_refuses_a_bad_scheduler(tmp_path):
    res = CliRunner().invoke(main, ["run", "--out", str(tmp_path / "o"), "--scheduler",
                                    "everywhere"])
    assert res.exit_code == 2 and "--scheduler" in res.output
    assert not (tmp_path / "o").exists()


def test_tile_boxes_cover_the_grid_once():
    boxes = tile_boxes((130, 70), 48)
    seen = np.zeros((130, 70), int)
    for r0, c0, r1, c1 in boxes:
        seen[r0:r1, c0:c1] += 1
    assert (seen == 1).all() and len(boxes) == 3 * 2


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.csv"))}


def _rasters(out: Path) -> dict[str, np.ndarray]:
    import rasterio

    arrays = {}
    for p in sorted(out.glob("*.tif")):
        with rasterio.open(p) as src:
            arrays[p.name] = src.read()
    return arrays


@pytest.mark.parametrize("spec", ["threads:2", "local:2"])
def test_run_on_dask_writes_the_same_files(tiny_world, tmp_path, spec):
    """`vncoverage run --scheduler` on the tiny world, tiles of 64 pixels (the radius is 6
    km: 120 pixels): the tables byte for byte and the rasters equal to the in-process
    run's."""
    ref, got = tmp_path / "ref", tmp_path / "dask"
    for out, extra in ((ref, []), (got, ["--scheduler", spec, "--tile-px", "64"])):
        res = CliRunner().invoke(main, ["run", "--config", str(tiny_world.config), "--out",
                                        str(out), "--no-progress", "--no-map", *extra])
        assert res.exit_code == 0, res.output
    a, b = _outputs(ref), _outputs(got)
    assert a.keys() == b.keys() and "villages.csv" in a
    for name in a:
        assert a[name] == b[name], name
    ra, rb = _rasters(ref), _rasters(got)
    assert ra.keys() == rb.keys() and ra
    for name in ra:
        assert np.array_equal(ra[name], rb[name], equal_nan=True), name
    # the workspace's scratch folder (staged grids, tiles) is gone after a complete run
    assert (got / "state").is_dir() and not (got / "state" / "scratch").exists()


def test_an_update_recomputes_only_the_tiles_it_touches(case, tmp_path):
    """From the layers of an older cell table, the tiled update gives the layers, the
    update record (cells, windows, changed boxes) and the new cells' point entries of the
    in-process update, computing only the tiles the changed cells' windows meet."""
    import copy

    from vncoverage.coverage import update_layers

    cfg, dem, cells, clutter, points, _, _ = case
    four_g = [c for c in cells.index if cells.loc[c, "technology"] == "4G"]
    old = cells.drop(index=four_g[:2])  # two cells are added by the update
    new = cells.drop(index=[four_g[2]]).copy()  # one removed
    new.loc[four_g[3], "eirp_dbm"] = float(new.loc[four_g[3], "eirp_dbm"]) - 6.0  # changed
    new.loc[four_g[4], "operator"] = "Newcomer"  # a new operator's layer
    start = compute_layers(old, dem, cfg.radio, clutter=clutter)
    ref_layers = copy.deepcopy(start)
    ref_points = PointCollector(dem, *points)
    ref = update_layers(ref_layers, old, new, dem, cfg.radio, clutter=clutter,
                        on_raster=ref_points)
    got_layers = copy.deepcopy(start)
    got_points = PointCollector(dem, *points)
    stats = TiledRun()
    with open_client("threads:2") as client:
        got = tiles.update_layers_tiled(got_layers, old, new, dem, cfg.radio, client=client,
                                        scratch=tmp_path, tile_px=TILE, clutter=clutter,
                                        collector=got_points, points=points, stats=stats)
    assert (got.added, got.changed, got.removed) == (ref.added, ref.changed, ref.removed)
    assert got.windows_by_cell == ref.windows_by_cell
    assert sorted(got.changed_boxes) == sorted(ref.changed_boxes)
    assert list(got_layers.layers) == list(ref_layers.layers)
    assert ("4G", "Newcomer") in got_layers.layers
    for key, lay in ref_layers.layers.items():
        for name in ("best_dbm", "server", "unknown", "flags"):
            a, b = getattr(lay, name), getattr(got_layers.layers[key], name)
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), (key, name)
    assert [str(m) for m in got_layers.notes] == [str(m) for m in ref_layers.notes]
    a, b = ref_points.levels(ref_layers.cell_ids), got_points.levels(got_layers.cell_ids)
    for name in ("point", "cell", "level_dbm"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
    n_all = len(tile_boxes(dem.shape, TILE))
    assert 0 < stats.computed == stats.tiles < n_all


def test_a_workspace_on_dask_updates_as_a_full_run(tmp_path):
    """A workspace run on Dask, then the operators' new list (a site added, a sector
    re-tilted, a cell removed) on Dask: the same layers, villages and KPIs as a full run
    in one process on the final list."""
    import dataclasses

    import pandas as pd
    from conftest import build_world

    from vncoverage.config import load_config
    from vncoverage.pipeline import run as run_pipeline
    from vncoverage.workspace import run_workspace

    world = build_world(tmp_path / "world", ridge=True)
    base = load_config(world.config)
    cfg = dataclasses.replace(base, run=dataclasses.replace(
        base.run, scheduler="threads:2", tile_px=40))
    ws = tmp_path / "ws"
    first = run_workspace(cfg, ws, progress=False)
    assert first.results is not None
    assert "on Dask (threads:2)" in first.results.computed["layers"]
    cells = pd.read_csv(world.cells)
    new = cells.iloc[[0]].copy()
    new["cell_id"], new["site_id"], new["operator"] = "MB-S9-4G-1", "S9", "Mobifone"
    new["lon"] += 0.025
    new["lat"] -= 0.02
    final = pd.concat([cells, new])
    final.loc[final["cell_id"] == "VT-S1-4G-2", "tilt_deg"] = 8
    final = final[final["cell_id"] != "VN-S2-4G-1"]
    final.to_csv(tmp_path / "final.csv", index=False)
    upd = run_workspace(cfg, ws, mode="update", progress=False, sites=tmp_path / "final.csv")
    assert upd.results is not None and upd.changes is not None
    text = upd.results.computed["layers"]
    assert text.startswith("updated: 1 added, 1 changed, 1 removed") and "on Dask" in text
    full_cfg = dataclasses.replace(base, inputs=dataclasses.replace(
        base.inputs, cells=tmp_path / "final.csv"))
    full = run_pipeline(full_cfg, progress=False)
    a, b = upd.results.layers, full.layers
    assert a.cell_ids == b.cell_ids and list(a.layers) == list(b.layers)
    for key, lay in b.layers.items():
        for name in ("best_dbm", "server", "unknown", "flags"):
            assert np.array_equal(getattr(lay, name), getattr(a.layers[key], name)), key
    cols = [c for c in full.villages.columns if c != "geometry"]
    pd.testing.assert_frame_equal(upd.results.villages[cols], full.villages[cols])
    pd.testing.assert_frame_equal(upd.results.kpis, full.kpis)
    assert not (ws / "state" / "scratch").exists()


def test_tiles_without_the_whole_grid_and_their_mosaic(case, tmp_path):
    """compute_tiles keeps the layers in the tile files only (the driver never holds the
    grid); windows read back across tile edges, and the mosaics (a GeoTIFF per tile and a
    GDAL virtual raster) open in rasterio as the in-process layers."""
    import rasterio

    cfg, dem, cells, clutter, points, ref, ref_levels = case
    collector = PointCollector(dem, *points)
    with open_client("threads:2") as client:
        store = tiles.compute_tiles(cells, dem, cfg.radio, client=client, scratch=tmp_path,
                                    tile_px=TILE, clutter=clutter, collector=collector,
                                    points=points)
    levels = collector.levels(list(store.cell_ids))
    assert np.array_equal(levels.level_dbm, ref_levels.level_dbm, equal_nan=True)
    assert store.keys == tuple(ref.layers) and store.cell_ids == tuple(ref.cell_ids)
    r0, c0 = (s // 2 - TILE // 2 - 7 for s in dem.shape)
    box = (r0, c0, r0 + 3 * TILE + 5, c0 + 2 * TILE + 1)
    win = store.window(box)
    assert win.dem.transform == dem.window(*box).transform
    for key, lay in ref.layers.items():
        got = win.layers[key]
        for name in ("best_dbm", "server", "unknown", "flags"):
            assert np.array_equal(getattr(lay, name)[box[0]:box[2], box[1]:box[3]],
                                  getattr(got, name)), (key, name)
    vrts = store.write_mosaic(tmp_path / "mosaic")
    assert {p.name for p in vrts} >= {"4g_any_best.vrt", "4g_any_server.vrt"}
    lay = ref.get("4G")
    with rasterio.open(tmp_path / "mosaic" / "4g_any_best.vrt") as src:
        assert src.shape == dem.shape and src.transform == dem.transform
        assert src.crs == dem.crs
        best = src.read(1)
    assert np.array_equal(best, np.where(np.isfinite(lay.best_dbm), lay.best_dbm, np.nan),
                          equal_nan=True)
    with rasterio.open(tmp_path / "mosaic" / "4g_any_server.vrt") as src:
        server = src.read(1)
    reached = np.zeros(dem.shape, bool)
    for r0, c0, r1, c1 in store.files:
        reached[r0:r1, c0:c1] = True
    assert np.array_equal(server[reached], lay.server[reached])
    assert (lay.server[~reached] == -1).all() and not np.isfinite(lay.best_dbm[~reached]).any()
    store.remove()
    assert not list((tmp_path / "tiles").glob("*.npz"))
