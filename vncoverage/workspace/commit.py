"""The commit protocol of a workspace: everything is first written to ``W/.staging``; a
``COMMIT`` list written there is the commit point; the files are then renamed into place.
A run killed before the commit point leaves the previous results untouched (the staging
folder is discarded by the next run); killed after it, the next run (or :func:`recover`)
completes the renames."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import fileio
from .faults import fault
from .manifest import MANIFEST, read_manifest

__all__ = ["COMMIT", "STAGING", "commit", "recover", "verify_outputs"]

log = logging.getLogger(__name__)

STAGING = ".staging"
COMMIT = "COMMIT"


def recover(ws: Path) -> bool:
    """Finish or discard what a killed run left in ``ws/.staging``. Returns True when a
    committed run was completed. Call with the lock held."""
    staging = ws / STAGING
    if not staging.exists():
        return False
    marker = staging / COMMIT
    if marker.exists():
        try:
            plan = json.loads(marker.read_text())
        except ValueError:
            plan = None
        if plan is not None:
            log.warning("completing the run %s that was interrupted after its commit point",
                        plan.get("run_id"))
            _apply_commit(ws, plan)
            return True
    log.info("discarding the unfinished staging folder of an interrupted run")
    shutil.rmtree(staging, ignore_errors=True)
    return False


def _apply_commit(ws: Path, plan: Mapping[str, Any]) -> None:
    staging = ws / STAGING
    for rel in plan["files"]:
        src, dst = staging / rel, ws / rel
        if src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            src.replace(dst)
            fault("commit")
    for rel in plan.get("delete", []):
        with contextlib.suppress(FileNotFoundError):
            (ws / rel).unlink()
    (staging / COMMIT).unlink()
    shutil.rmtree(staging, ignore_errors=True)


def commit(ws: Path, staging: Path, previous: Mapping[str, Any] | None, run_id: int) -> None:
    files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*")
                   if p.is_file() and p.name != COMMIT)
    # the manifest last, so that it never describes files not yet in place
    files.sort(key=lambda f: f == MANIFEST)
    old = set((previous or {}).get("outputs", {})) if previous else set()
    delete = sorted(o for o in old if o not in files)
    plan = {"run_id": run_id, "files": files, "delete": delete}
    fault("staged")
    fileio.write_text(staging / COMMIT, json.dumps(plan))
    _apply_commit(ws, plan)


def verify_outputs(ws: Path) -> list[str]:
    """Problems with the outputs and state of a workspace against its manifest (missing
    files, changed checksums); empty when consistent."""
    man = read_manifest(ws)
    if man is None:
        return [f"{ws / MANIFEST} is missing or unreadable"]
    problems = []
    for group in ("outputs", "state"):
        for rel, digest in man.get(group, {}).items():
            p = ws / rel
            if not p.exists():
                problems.append(f"{rel} is missing")
            elif fileio.file_sha256(p) != digest:
                problems.append(f"{rel} differs from the manifest")
    return problems

