"""The lock of a workspace: one run at a time (``W/.lock``)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import WorkspaceError
from .manifest import utc_now

__all__ = ["LOCK", "workspace_lock"]

log = logging.getLogger(__name__)

LOCK = ".lock"


@contextlib.contextmanager
def workspace_lock(ws: Path, command: str = "run") -> Iterator[None]:
    """Own the workspace ``ws`` for the duration of the block.

    Raises
    ------
    WorkspaceError
        When another live process owns it. A lock whose process no longer exists (on this
        machine) is taken over, with a warning.
    """
    ws.mkdir(parents=True, exist_ok=True)
    lock = ws / LOCK
    me = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
          "started": utc_now()}
    for _attempt in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = _read_lock(lock)
            if owner is not None and _owner_alive(owner):
                raise WorkspaceError(
                    f"workspace {ws} is in use by process {owner.get('pid')} on "
                    f"{owner.get('host')} ({owner.get('command')}, since "
                    f"{owner.get('started')}). Wait for it to finish; if that process no "
                    f"longer runs, delete {lock}.") from None
            log.warning("taking over the stale lock %s (owner %s is gone)", lock, owner)
            with contextlib.suppress(FileNotFoundError):
                stale = lock.with_name(f"{LOCK}.stale-{os.getpid()}")
                lock.replace(stale)
                stale.unlink()
            continue
        with os.fdopen(fd, "w") as fh:
            json.dump(me, fh)
        break
    else:
        raise WorkspaceError(f"could not take the lock {lock}; delete it if no run is active")
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


def _read_lock(lock: Path) -> dict[str, Any] | None:
    try:
        out = json.loads(lock.read_text())
        return out if isinstance(out, dict) else None
    except (OSError, ValueError):
        return None  # empty or half-written lock: its writer died between open and write


def _owner_alive(owner: Mapping[str, Any]) -> bool:
    if owner.get("host") != socket.gethostname():
        return True  # cannot tell: assume alive
    try:
        os.kill(int(owner["pid"]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, KeyError, ValueError, TypeError):
        return True
    return True

