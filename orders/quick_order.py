"""Quick order: lines of "SKU, quantity" pasted or uploaded, parsed without touching the database.

Accepted separators: a comma, a semicolon (spreadsheets in many European locales), a tab
(pasted from a spreadsheet) or spaces. Quoted CSV fields are understood. A first line naming
the columns (for example "SKU,Quantity") is skipped. Blank lines are ignored.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .rules import QuantityError, parse_quantity

MAX_BYTES = 256 * 1024
MAX_LINES = 500
_HEADER_WORDS = {"sku", "skus", "code", "item", "article", "product"}


class QuickOrderFileError(ValueError):
    """The upload as a whole cannot be read; str() is the reason."""


@dataclass(frozen=True, slots=True)
class QuickOrderEntry:
    """One non-blank input line: a SKU and quantity, or the reason it could not be read."""

    line_no: int
    sku: str
    quantity: int | None
    error: str | None = None


def decode_upload(data: bytes) -> str:
    """UTF-8 text, with or without a byte order mark; anything else is refused whole."""
    if len(data) > MAX_BYTES:
        raise QuickOrderFileError(
            _("The file is too large: at most %(kb)s KB.") % {"kb": MAX_BYTES // 1024}
        )
    if b"\x00" in data:
        raise QuickOrderFileError(_("This is not a text file: upload a CSV or a .txt file."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise QuickOrderFileError(
            _("The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8”.")
        ) from None


def _fields(line: str) -> list[str]:
    for delimiter in ("\t", ";", ","):
        if delimiter in line:
            try:
                row = next(csv.reader([line], delimiter=delimiter, strict=True))
            except csv.Error:
                return []
            fields = [f.strip() for f in row]
            while fields and not fields[-1]:  # trailing empty cells from spreadsheets
                fields.pop()
            return fields
    return line.split()


def _is_header(fields: list[str]) -> bool:
    return bool(fields) and fields[0].strip().lower() in _HEADER_WORDS


def parse_lines(text: str) -> list[QuickOrderEntry]:
    """Each non-blank line as an entry; raises QuickOrderFileError for too many lines."""
    text = text.removeprefix("\ufeff")
    entries = []
    first = True
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        fields = _fields(line)
        if first and _is_header(fields):
            first = False
            continue
        first = False
        if len(entries) >= MAX_LINES:
            raise QuickOrderFileError(
                _("At most %(n)s lines at a time: split the list.") % {"n": MAX_LINES}
            )
        entries.append(_entry(line_no, line, fields))
    return entries


def _entry(line_no: int, line: str, fields: list[str]) -> QuickOrderEntry:
    sku = fields[0][:64] if fields else line[:64]
    if len(fields) != 2 or not fields[0]:
        return QuickOrderEntry(
            line_no, sku, None, _("Write the SKU and the quantity, such as “TS-100-M, 24”.")
        )
    try:
        quantity = parse_quantity(fields[1])
    except QuantityError as exc:
        return QuickOrderEntry(line_no, sku, None, str(exc))
    return QuickOrderEntry(line_no, sku, quantity)
