"""The cost table of the plan: what each kind of work costs, in VND.

The shipped table (``vncoverage/plan_costs.csv``, package data) has one row per item:
``item``, ``value``, ``unit`` (``VND``, ``VND/km``, ``VND/year`` or ``years``) and ``basis``
(where the figure comes from, or ``assumption: ...``). ``[plan] cost_table`` names a table
of the same layout whose rows replace the shipped rows of the same item (its ``unit`` and
``basis`` may be left empty: the shipped unit holds, and the basis becomes "given in
FILE"). An item the shipped table does not have, a value that is no number or negative, a
unit other than the item's, an item given twice: each is a :class:`~vncoverage.errors.Problem`
naming the file, the row, the column and the fix, raised together as
:class:`~vncoverage.errors.InputDataError`. The table is read by the project's tolerant
table reader (encodings, separators, decimal commas, ``1.100.000.000`` digit grouping).

Items:

======================  ========  ====================================================
``bts_4g_equipment``    VND       one 3-sector 4G eNodeB, installed
``bts_5g_equipment``    VND       one 3-sector 5G gNodeB, installed
``upgrade_works``       VND       works to add 4G/5G on an operator's own 2G/3G site
``colocation_works``    VND       works to add an operator on another company's tower
``colocation_rent_year`` VND/year tower space rent of one tenant
``rent_years``          years     years of rent capitalised into a co-location (0: none)
``new_macro_tower``     VND       a new macro tower (civil works, tower, power), no radio
``village_tower``       VND       a small tower in a village, no radio
``access_road_km``      VND/km    access track beyond the nearest road
``power_line_km``       VND/km    power line beyond the nearest road
``fibre_cable_km``      VND/km    fibre cable per km of route
``fibre_trench_km``     VND/km    trench / poles per km of route (shared by the cables)
``splitter_new``        VND       a new splitter
``olt_port``            VND       one OLT GPON port
``drop_household``      VND       drop cable and ONT per household
======================  ========  ====================================================

The costs of the candidate works (:meth:`CostTable.work_cost`):

* ``upgrade`` = ``bts_<tech>_equipment`` + ``upgrade_works``;
* ``colocation`` = ``bts_<tech>_equipment`` + ``colocation_works`` +
  ``colocation_rent_year`` x ``rent_years`` (rent capitalised, undiscounted);
* ``new_tower`` = ``new_macro_tower`` + ``bts_<tech>_equipment`` + (``access_road_km`` +
  ``power_line_km``) x km from the nearest road;
* ``village_tower`` = ``village_tower`` + ``bts_<tech>_equipment`` (the village is reached
  by its own path and grid: no road or power line is added).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputDataError, Problem
from ..fileio._columns import read_table
from ..fileio._tables import ParsedTable, parse_number

__all__ = ["COST_FILE", "CostRow", "CostTable", "read_cost_table"]

#: The shipped cost table (package data).
COST_FILE = Path(__file__).resolve().parents[1] / "plan_costs.csv"

#: Columns of a cost table.
COST_COLUMNS = ("item", "value", "unit", "basis")

#: The units an item may have.
UNITS = ("VND", "VND/km", "VND/year", "years")

#: The kinds of candidate work priced by :meth:`CostTable.work_cost`.
WORKS = ("upgrade", "colocation", "new_tower", "village_tower")


@dataclass(frozen=True)
class CostRow:
    """One item of the cost table: its value (in ``unit``), where the figure comes from
    (``basis``) and the file it was read from (``source``: the shipped table or the
    user's)."""

    value: float
    unit: str
    basis: str
    source: str


@dataclass(frozen=True)
class CostTable:
    """The resolved cost table: the shipped rows with the user's over them."""

    rows: Mapping[str, CostRow]

    def get(self, item: str) -> float:
        """The value of ``item`` (VND, VND/km, VND/year or years: see its ``unit``).

        Raises
        ------
        KeyError
            If the table has no such item (the message lists the items).
        """
        row = self.rows.get(item)
        if row is None:
            raise KeyError(f"the cost table has no item {item!r}; items: "
                           + ", ".join(sorted(self.rows)))
        return row.value

    def equipment_item(self, technology: str) -> str:
        """The equipment item of a technology (``bts_4g_equipment``)."""
        return f"bts_{technology.lower()}_equipment"

    def work_cost(self, kind: str, technology: str = "4G", *, road_km: float = 0.0
                  ) -> tuple[float, str]:
        """The cost (VND) of one candidate work of ``kind`` (:data:`WORKS`) adding
        ``technology``, and how it was made (the items and their values, for the ``basis``
        column of the candidates); ``road_km``: a new tower's distance from the nearest
        road, km (priced by ``access_road_km`` + ``power_line_km``)."""
        eq = self.equipment_item(technology)
        parts: list[tuple[str, float, float]]  # (item, quantity, value)
        if kind == "upgrade":
            parts = [(eq, 1.0, self.get(eq)), ("upgrade_works", 1.0, self.get("upgrade_works"))]
        elif kind == "colocation":
            parts = [(eq, 1.0, self.get(eq)),
                     ("colocation_works", 1.0, self.get("colocation_works")),
                     ("colocation_rent_year", self.get("rent_years"),
                      self.get("colocation_rent_year"))]
        elif kind == "new_tower":
            parts = [("new_macro_tower", 1.0, self.get("new_macro_tower")),
                     (eq, 1.0, self.get(eq))]
            if road_km > 0:
                parts += [("access_road_km", road_km, self.get("access_road_km")),
                          ("power_line_km", road_km, self.get("power_line_km"))]
        elif kind == "village_tower":
            parts = [("village_tower", 1.0, self.get("village_tower")), (eq, 1.0, self.get(eq))]
        else:
            raise ValueError(f"unknown work {kind!r}; one of {', '.join(WORKS)}")
        total = float(sum(q * v for _, q, v in parts))
        text = " + ".join(item if q == 1.0 else f"{q:g} x {item}" for item, q, _ in parts)
        return total, text

    def provenance(self) -> pd.DataFrame:
        """The table for the report: one row per item (sorted) with ``value``, ``unit``,
        ``basis`` and ``source``."""
        return pd.DataFrame(
            [{"item": k, "value": r.value, "unit": r.unit, "basis": r.basis,
              "source": r.source} for k, r in sorted(self.rows.items())],
            columns=["item", "value", "unit", "basis", "source"])

    @property
    def table(self) -> pd.DataFrame:
        """:meth:`provenance` indexed by ``item``."""
        return self.provenance().set_index("item")

    @property
    def digest(self) -> str:
        """SHA-256 of the resolved rows (item, value, unit; sorted), for fingerprints: two
        tables that price every item alike have the same digest whatever their files or
        bases say."""
        rows = [[k, repr(float(r.value)), r.unit] for k, r in sorted(self.rows.items())]
        return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def read_cost_table(path: str | Path | None = None) -> CostTable:
    """The shipped cost table (:data:`COST_FILE`) with the rows of ``path`` (``[plan]
    cost_table``, same layout) over it; see the module docstring.

    Raises
    ------
    InputDataError
        With every problem of the user's table (or of the shipped one).
    """
    problems: list[Problem] = []
    shipped = _read_rows(COST_FILE, None, problems)
    if problems or shipped is None:
        raise InputDataError(problems or [Problem(str(COST_FILE), "the shipped cost table "
                                                  "cannot be read", "reinstall vncoverage")])
    rows = dict(shipped)
    if path is not None:
        user = _read_rows(Path(path), shipped, problems)
        if problems:
            raise InputDataError(problems)
        assert user is not None
        rows.update(user)
    return CostTable(rows)


def _read_rows(path: Path, shipped: Mapping[str, CostRow] | None,
               problems: list[Problem]) -> dict[str, CostRow] | None:
    """The rows of one cost table, checked (``shipped``: the items and units a user's
    table may give; None for the shipped table itself)."""
    n0 = len(problems)
    table = read_table(path, COST_COLUMNS, problems, None)
    if table is None:
        return None
    file = table.file
    cols = [str(c) for c in table.df.columns]
    unknown = [c for c in cols if c not in COST_COLUMNS]
    if unknown:
        problems.append(Problem(file, f"unknown column(s) {', '.join(map(repr, unknown))} in "
                                "the cost table", "use only the columns "
                                + ", ".join(COST_COLUMNS)))
    missing = [c for c in ("item", "value") if c not in cols]
    if missing:
        problems.append(Problem(file, f"missing column(s) {', '.join(missing)}",
                                "a cost table has the columns item, value (VND), and "
                                "optionally unit and basis"))
        return None
    out: dict[str, CostRow] = {}
    first_row: dict[str, int] = {}
    for row, rec in zip(table.df.index, table.df.to_dict("records"), strict=True):
        got = _row(table, int(row), {str(k): v for k, v in rec.items()}, shipped, problems)
        if got is None:
            continue
        item, cost = got
        if item in first_row:
            problems.append(Problem(file, f"item '{item}' is given twice (rows "
                                    f"{first_row[item]} and {row})", "give each item one row",
                                    row=int(row), column="item", value=item))
            continue
        first_row[item] = int(row)
        out[item] = cost
    if shipped is None:  # the shipped table: every row needs its unit and basis
        for item, cost in out.items():
            if cost.unit not in UNITS or not cost.basis:
                problems.append(Problem(file, f"item '{item}' has no valid unit or basis",
                                        "reinstall vncoverage", row=first_row[item]))
    return out if len(problems) == n0 else None


def _row(table: ParsedTable, row: int, rec: Mapping[str, Any],
         shipped: Mapping[str, CostRow] | None,
         problems: list[Problem]) -> tuple[str, CostRow] | None:
    """One row of a cost table as ``(item, CostRow)``, or None (a problem) when bad."""
    file = table.file
    item = _text(rec.get("item"))
    if not item:
        problems.append(Problem(file, "item is empty", "write the item's name (one of the "
                                "shipped table's items)", row=row, column="item"))
        return None
    if shipped is not None and item not in shipped:
        problems.append(Problem(file, f"unknown cost item '{item}'",
                                "use one of the shipped items: " + ", ".join(sorted(shipped)),
                                row=row, column="item", value=item))
        return None
    raw = rec.get("value")
    raw = None if _text(raw) == "" else raw
    value, _ = parse_number(str(raw), units=("vnd", "đ", "đồng")) if raw is not None \
        else (None, "")
    if value is None or value < 0:
        problems.append(Problem(file, f"the value of '{item}' must be a number >= 0",
                                "write the cost in VND (or the item's unit), e.g. 400000000",
                                row=row, column="value", value=raw))
        return None
    unit = _text(rec.get("unit"))
    base = shipped.get(item) if shipped is not None else None
    if base is not None and unit and unit != base.unit:
        problems.append(Problem(file, f"the unit of '{item}' is {base.unit}, not {unit}",
                                f"give the value in {base.unit} (or leave unit empty)",
                                row=row, column="unit", value=unit))
        return None
    basis = _text(rec.get("basis"))
    if base is not None and not basis:
        basis = f"given in {file}"
    return item, CostRow(float(value), unit or (base.unit if base is not None else ""), basis,
                         _source(file))


def _text(value: object) -> str:
    """A text cell, stripped ("" when empty)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _source(file: str) -> str:
    """The table a row comes from, for the report (the shipped table by its package
    path)."""
    return (str(Path("vncoverage") / COST_FILE.name)
            if Path(file).resolve() == COST_FILE else file)
