"""Fault injection for the tests of crash safety: :func:`fault` exits the process at once,
as if it were killed, when the environment variable :data:`FAULT_ENV` names its point."""

from __future__ import annotations

import logging
import os

__all__ = ["FAULT_ENV", "fault"]

log = logging.getLogger(__name__)

#: Environment variable naming a point where the process exits at once, as if killed
#: (``sweep``: a sweep was cached; ``staged``: everything is staged, before the commit
#: point; ``commit``: during the renames after it).
FAULT_ENV = "VNCOVERAGE_FAULT"


def fault(point: str) -> None:
    """Exit at once (status 77, no clean-up) if :data:`FAULT_ENV` is ``point``."""
    if os.environ.get(FAULT_ENV) == point:
        log.error("fault injection: exiting at %s", point)
        os._exit(77)
