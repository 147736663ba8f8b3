"""Counts that may leave the service: only over at least ``MIN_PERSONS`` distinct persons.

An organisation may see how many alerts it has, by rule and state, to plan its work; it never
sees anything per person. A cell about fewer than ten persons is withheld (``None``), and when a
row's total is shown with exactly one cell withheld, the smallest other cell is withheld too, so
the total cannot give the withheld one back by subtraction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

MIN_PERSONS = 10


@dataclass(frozen=True)
class Cell:
    alerts: int
    persons: int


def shown(cell: Cell | None) -> int | None:
    if cell is None or cell.persons < MIN_PERSONS:
        return None
    return cell.alerts


def row(cells: Mapping[str, Cell], columns: tuple[str, ...], total: Cell) -> dict[str, int | None]:
    """One row of a table (a rule), its columns (states) and its total, suppressed."""
    out: dict[str, int | None] = {column: shown(cells.get(column)) for column in columns}
    out_total = shown(total)
    withheld = [c for c in columns if out[c] is None]
    if out_total is not None and len(withheld) == 1:
        candidates = sorted((value, column) for column, value in out.items() if value is not None)
        if candidates:
            out[candidates[0][1]] = None
    out["total"] = out_total
    return out
