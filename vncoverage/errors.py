"""The exception hierarchy of vncoverage.

Every error the package raises on purpose derives from :class:`VncoverageError`. Errors about
user input mix in the matching built-in (``ValueError``, ``OSError``) so that generic handlers
keep working, in the manner of rasterio's ``RasterioIOError(RasterioError, OSError)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CRSError",
    "ConfigError",
    "InputDataError",
    "ModelDomainError",
    "Problem",
    "VncoverageError",
    "WorkspaceError",
]


class VncoverageError(Exception):
    """Base class of every error raised by vncoverage."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input: what, where and how to fix it.

    Parameters
    ----------
    file
        The input file (or layer, or ``"config"``) the problem was found in.
    message
        What is wrong, in one sentence.
    fix
        What the user should do about it.
    row
        Row number (1-based data row for tables, as a spreadsheet shows it with the header
        on line 1, i.e. ``row`` = pandas index + 2) or feature id; ``None`` for whole-file
        problems.
    column
        The column concerned, if any.
    value
        The offending value, if any (rendered with ``repr``).
    record
        The record's own id when ``row`` is a spreadsheet row (e.g. ``"cell_id 'VT-0012-4G-1'"``),
        so that the row can be found by searching the sheet for its id.
    """

    file: str
    message: str
    fix: str
    row: str | int | None = None
    column: str | None = None
    value: object = None
    record: str | None = None

    def render(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.record is not None:
            where += f" ({self.record})"
        if self.column is not None:
            where += f", column '{self.column}'"
        text = f"{where}: {self.message}"
        if self.value is not None:
            text += f" (value: {self.value!r})"
        return f"{text}\n    fix: {self.fix}"


class InputDataError(VncoverageError, ValueError):
    """One or more problems in the input data, all collected before any computation.

    The message lists every problem with its file, row, column, value and fix.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("InputDataError needs at least one problem")
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the input data:"
        super().__init__("\n".join([head, *("- " + p.render() for p in self.problems)]))

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt from its problems (a stage in a forked child sends its error back pickled)
        return type(self), (self.problems,)


class ConfigError(InputDataError):
    """The configuration file is invalid (unknown key, wrong type, value out of range)."""


class CRSError(InputDataError):
    """A coordinate reference system is missing, unusable or mismatched."""


class ModelDomainError(VncoverageError, ValueError):
    """A propagation model was asked to work outside its declared validity domain."""


class WorkspaceError(VncoverageError, OSError):
    """An output workspace cannot be used (locked, not writable, inconsistent)."""
