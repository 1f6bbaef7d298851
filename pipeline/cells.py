"""Cell addresses: the column letters of a 0-based column index.

Kept apart from the Excel module so that reading and checking a submission (a validation worker) need
not import the workbook writer.
"""
from __future__ import annotations


def column_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


class FormulaError(str):
    """A formula cell whose value a reader takes for a blank: its error (#DIV/0!, #N/A), or NO_RESULT when the file
    holds no result for it. Never a value: cleaning reports it on its cell, whatever the column."""

    NO_RESULT = "（公式，无计算结果）"

    @property
    def code(self) -> str:
        """The finding that tells of it: no saved result, or the formula's error."""
        return "formula-no-result" if self == self.NO_RESULT else "formula-error"
