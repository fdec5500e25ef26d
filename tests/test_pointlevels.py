"""The sparse point × cell matrix of levels equals what the run's layers hold."""

from __future__ import annotations

import numpy as np

from vncoverage.config import load_config
from vncoverage.coverage import ANY, compute_layers
from vncoverage.fileio import load_inputs
from vncoverage.pointlevels import levels_at_points


def test_best_of_the_matrix_is_the_layers_best(tiny_world) -> None:
    cfg = load_config(tiny_world.config)
    inputs = load_inputs(cfg)
    assert inputs.cells is not None and inputs.dem is not None
    layers = compute_layers(inputs.cells, inputs.dem, cfg.radio)
    dem = inputs.dem
    rng = np.random.default_rng(3)
    xmin, ymin, xmax, ymax = dem.bounds
    n = 400
    x = rng.uniform(xmin - 500, xmax + 500, n)  # some points off the grid
    y = rng.uniform(ymin - 500, ymax + 500, n)
    pl = levels_at_points(inputs.cells, dem, cfg.radio, x, y)
    assert pl.n_points == n and len(pl.point) > 0
    rows, cols = dem.index(x, y)
    on = (rows >= 0) & (rows < dem.shape[0]) & (cols >= 0) & (cols < dem.shape[1])
    assert not np.isin(np.flatnonzero(~on), pl.point).any()
    checked = 0
    for t in cfg.radio.technologies:
        if (t, ANY) not in layers.layers:
            continue
        best, server = pl.best(pl.select(inputs.cells, technology=t))
        lay = layers.get(t, ANY)
        ref = np.full(n, -np.inf)
        ref_srv = np.full(n, -1)
        ref[on] = lay.best_dbm[rows[on], cols[on]]
        ref_srv[on] = lay.server[rows[on], cols[on]]
        both = np.isfinite(ref) | np.isfinite(best)
        checked += int(both.sum())
        np.testing.assert_allclose(best[both], ref[both], atol=1e-4)
        assert (server[both] == ref_srv[both]).all()
        unk = np.isnan(best)  # only unknown levels: the layer keeps -inf and counts it
        assert (np.isneginf(best[~unk]) == np.isneginf(ref[~unk])).all()
        assert np.isneginf(ref[unk]).all()
        assert (lay.unknown[rows[unk], cols[unk]] > 0).all()
        assert pl.cell_ids == layers.cell_ids
        for op in layers.operators:
            if (t, op) in layers.layers:
                b, _ = pl.best(pl.select(inputs.cells, technology=t, operator=op))
                ref_op = np.full(n, -np.inf)
                ref_op[on] = layers.get(t, op).best_dbm[rows[on], cols[on]]
                fin = np.isfinite(ref_op)
                np.testing.assert_allclose(b[fin], ref_op[fin], atol=1e-4)
                assert (np.isneginf(b) | np.isnan(b))[np.isneginf(ref_op)].all()
    assert checked > 50  # points with a level were compared
