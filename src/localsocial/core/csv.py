"""Spreadsheet-safe CSV cells, for every export (the directory's format, the stories' open
data and dashboard, the circles' statements, registers and reports).

Spreadsheets run a cell that starts with one of ``FORMULA_STARTS`` as a formula, so text that
people typed could run in whoever opens the file.  Export puts an apostrophe before such text
(spreadsheets hide it); import takes it off again."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def protect_cell(value: str) -> str:
    """``value`` as a cell no spreadsheet runs as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def unprotect_cell(value: str) -> str:
    """The text that ``protect_cell`` protected, as it was typed."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
