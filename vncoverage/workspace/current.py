"""The results of a workspace's current state, for commands that read them without
committing anything (``vncoverage plan``).

A workspace's current cells are its own (``add-sites`` and ``update`` change them), not the
configuration's: :func:`current_results` runs the pipeline on the configuration's inputs
with the workspace's cells and its state as the store, so every stage whose fingerprint
still holds is reused (nothing is written). A folder that is not a workspace yet gets a
first run (:func:`vncoverage.workspace.run_workspace`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .. import fileio, pipeline
from ..config import Config
from ..results import Results
from .caches import DirSweepCache
from .lock import workspace_lock
from .manifest import read_manifest
from .run import run_workspace
from .store import StateStore

__all__ = ["current_results"]


def current_results(cfg: Config, ws: str | Path, *, progress: bool | None = None,
                    lang: str = "vi") -> Results:
    """The results of the workspace ``ws`` as it stands (module docstring)."""
    ws = Path(ws)
    if read_manifest(ws) is None:
        wr = run_workspace(cfg, ws, progress=progress, lang=lang)
        assert wr.results is not None
        return wr.results
    inputs = fileio.load_inputs(cfg)
    with workspace_lock(ws, "plan"):
        previous = read_manifest(ws)
        store = StateStore(ws, previous, DirSweepCache(ws / "cache" / "sweeps"))
        cells = store.cells()
        if cells is not None and inputs.cells is not None:
            inputs = dataclasses.replace(inputs, cells=cells.to_crs(inputs.cells.crs))
        res = pipeline.run(cfg, inputs=inputs, store=store, progress=progress)
        store.sweeps.flush()
    return res
