"""Tables to files: CSV with a UTF-8 BOM (so Excel reads Chinese) and XLSX via openpyxl."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app import clock

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"
# A cell starting with one of these is a formula to Excel: text must never run as one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: Any) -> Any:
    """Excel has no time zones: instants are written in the organisation's local time."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(clock.zone()).replace(tzinfo=None)
    return value


def csv_text(value: Any) -> str:
    """A value as CSV text; text that Excel would run as a formula is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        # formatted by hand, not strftime: a plan export writes three per row, and this is
        # half the cost of each (same text: YYYY-MM-DD HH:MM in the organisation's time)
        t = value.astimezone(clock.zone()) if value.tzinfo is not None else value
        return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV file: BOM, header, rows; CRLF line ends as Excel expects."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_text(v) for v in row])
    return out.getvalue().encode("utf-8")


def _sheet_title(title: str) -> str:
    bad = set("[]:*?/\\")
    return "".join("_" if ch in bad else ch for ch in title)[:31] or "Sheet"


def write_sheet(workbook: Workbook, title: str, header: Sequence[str],
                rows: Iterable[Sequence[Any]], widths: Sequence[int] | None = None) -> None:
    """Append a write-only sheet: bold frozen header, text kept as text, dates as dates."""
    sheet = workbook.create_sheet(_sheet_title(title))
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        out = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=_plain(value))
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # openpyxl would store it as a formula
            if isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            out.append(cell)
        sheet.append(out)


def new_workbook() -> Workbook:
    """An empty streaming workbook (write-only: constant memory for long lists)."""
    return Workbook(write_only=True)


def workbook_bytes(workbook: Workbook) -> bytes:
    """The workbook as an .xlsx file."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_bytes(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]],
               widths: Sequence[int] | None = None) -> bytes:
    """A one-sheet .xlsx file."""
    workbook = new_workbook()
    write_sheet(workbook, title, header, rows, widths)
    return workbook_bytes(workbook)
