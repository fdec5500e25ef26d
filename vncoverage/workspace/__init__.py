"""Workspaces: incremental, reproducible runs that never lose results.

``vncoverage run --out W`` leaves a *workspace* in ``W``::

    W/                      the outputs of the last complete run (villages.gpkg, kpi.csv,
                            report.html, map.html, ...), changes*.csv after an update
    W/manifest.json         provenance: inputs and their checksums, configuration, versions,
                            timestamps, the fingerprints of every stage, the checksum of
                            every output and state file, the history of runs (.manifest)
    W/state/                what the next run needs to be incremental: the best-server
                            layers, the current cell list, per-village results, FTTH results
                            (.store)
    W/cache/sweeps/         the radial path-loss sweeps, one file per sweep group, named by
                            a hash of everything that determines it (site position, height,
                            frequency, radius, model and its parameters, receiver height,
                            k-factor, DEM, package version), each with its own checksum
                            (.caches, in the array container of .container)
    W/cache/inputs/         parsed inputs, keyed by the file's sha256 and the reading options
    W/.lock                 present while a run owns the workspace (.lock)

How a run proceeds (:func:`run_workspace`, :mod:`.run`):

1. load and validate every input; nothing in ``W`` is touched if this fails;
2. take the lock (a live owner is an error; a lock left by a dead process is recovered);
   finish a previous run that was killed after its commit point (see 5);
3. with nothing changed since the last run (same stage fingerprints, same output options)
   and its files intact, stop: nothing is computed;
4. otherwise :func:`vncoverage.pipeline.run`, with the state as its store
   (:class:`~.store.StateStore`): each stage reuses what the last run kept under the same
   fingerprint, e.g. when only cells changed the layers are updated in place, only the
   villages whose pixels changed are summarised again and FTTH is reused;
5. new state, outputs, ``changes*.csv`` and the manifest are written to ``W/.staging``; a
   ``COMMIT`` list written there is the commit point, then the files are renamed into
   place (:mod:`.commit`). A process killed before the commit point leaves the previous
   results untouched; killed after it, the next run (or :func:`recover`) completes the
   renames. Cache entries are written atomically as they are computed, so a killed run's
   finished sweeps are reused.

Inputs are only read. This package is the workspace's storage layer: with
:mod:`vncoverage.fileio` it is the only code that touches paths; the computation is in
:mod:`vncoverage.pipeline` and the stages.
"""

from __future__ import annotations

from .caches import DirReadCache, DirSweepCache
from .commit import recover, verify_outputs
from .container import pack_arrays, unpack_arrays
from .faults import FAULT_ENV
from .lock import workspace_lock
from .manifest import read_manifest
from .run import MODES, WorkspaceRun, run_workspace
from .store import StateStore

__all__ = [
    "FAULT_ENV",
    "MODES",
    "DirReadCache",
    "DirSweepCache",
    "StateStore",
    "WorkspaceRun",
    "pack_arrays",
    "read_manifest",
    "recover",
    "run_workspace",
    "unpack_arrays",
    "verify_outputs",
    "workspace_lock",
]
