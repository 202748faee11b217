"""Reading resident lists: spreadsheets (.xlsx, .csv) for clerks, Parquet for the synthetic population."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from fuwu.common import sheet_guard
from fuwu.common.sheet_guard import OLE_MAGIC, ZIP_MAGIC, Limits, SheetRefused
from fuwu.residents.columns import BY_NAME, COLUMNS, HEADER_ALIASES, IGNORED_HEADERS, REQUIRED, normalise_header


class SourceError(Exception):
    """The file as a whole cannot be read; nothing in it is imported."""

    def __init__(self, problem: str, fix: str, *, row: int = 0, column: str = "") -> None:
        self.problem = problem
        self.fix = fix
        self.row = row
        self.column = column
        super().__init__(f"{problem}; {fix}")


@dataclass
class Sheet:
    headers: dict[str, str]  # column name → the header as written in the file
    positions: dict[str, int]  # column name → index in each row
    rows: list[tuple[int, list[Any]]]  # (row number as the user sees it, cells)
    problems: list[SourceError] = field(default_factory=list)


def documented_headers() -> str:
    return ", ".join(f"{c.name} ({c.zh})" for c in COLUMNS)


def _header_map(header: list[Any]) -> Sheet:
    headers: dict[str, str] = {}
    positions: dict[str, int] = {}
    problems: list[SourceError] = []
    for index, cell in enumerate(header):
        text = "" if cell is None else str(cell).strip()
        key = normalise_header(text)
        if not key or key in IGNORED_HEADERS:
            continue
        name = HEADER_ALIASES.get(key)
        if name is None:
            problems.append(
                SourceError(
                    f"unknown column {text!r}",
                    "rename it to one of the documented headers, or delete the column",
                    row=1,
                    column=text,
                )
            )
        elif name in headers:
            problems.append(
                SourceError(
                    f"{text!r} is the same column as {headers[name]!r}",
                    "keep one of them",
                    row=1,
                    column=text,
                )
            )
        else:
            headers[name] = text
            positions[name] = index
    for name in REQUIRED:
        if name not in headers:
            problems.append(
                SourceError(
                    f"the column {BY_NAME[name].zh} ({name}) is missing",
                    f"add a column headed {BY_NAME[name].zh}",
                    row=1,
                    column=BY_NAME[name].zh,
                )
            )
    return Sheet(headers, positions, [], problems)


def _sheet(rows: Iterator[tuple[int, Sequence[Any]]]) -> Sheet:
    """From the guard's numbered rows that hold anything: the header must be row 1."""
    try:
        number, header = next(rows)
    except StopIteration:
        raise SourceError("the file is empty", "put the headers in row 1 and one resident per row below") from None
    if number != 1:
        raise SourceError("row 1 is empty", "put the headers in row 1 (姓名, 身份证号, 户号 …)", row=1)
    sheet = _header_map(list(header))
    sheet.rows.extend((n, list(cells)) for n, cells in rows)
    if not sheet.rows and not sheet.problems:
        raise SourceError("there are no residents below the headers", "one resident per row from row 2")
    return sheet


def read_xlsx(data: bytes, limits: Limits | None = None) -> Sheet:
    """The first sheet, through the upload guard (size, zip bomb, DTD, row and column caps)."""
    try:
        return _sheet(sheet_guard.xlsx_rows(data, limits))
    except SheetRefused as exc:
        raise SourceError(exc.problem, exc.fix) from exc


def read_csv(data: bytes, limits: Limits | None = None) -> Sheet:
    try:
        sheet_guard.check_size(data, limits)
        # utf-8-sig also accepts the byte-order mark Excel writes at the start of "CSV UTF-8".
        text = data.decode("utf-8-sig")
    except SheetRefused as exc:
        raise SourceError(exc.problem, exc.fix) from exc
    except UnicodeDecodeError as exc:
        raise SourceError(
            "the file is not UTF-8 text (perhaps GBK, which Excel's plain CSV uses on Chinese Windows)",
            "in Excel use Save As → CSV UTF-8 (逗号分隔)(*.csv), or upload the .xlsx",
        ) from exc
    first_line = text.split("\n", 1)[0]
    delimiter = "," if "," in first_line else ("\t" if "\t" in first_line else (";" if ";" in first_line else ","))
    try:
        return _sheet(sheet_guard.csv_rows(text, delimiter=delimiter, limits=limits))
    except SheetRefused as exc:
        raise SourceError(exc.problem, exc.fix) from exc


def read_spreadsheet(data: bytes, filename: str, limits: Limits | None = None) -> Sheet:
    """Read by content, not name: the magic bytes decide between .xlsx and CSV.

    ``limits``: the upload guard's (``sheet_guard.LIMITS``) unless the command line gives its own.
    """
    if data.startswith(ZIP_MAGIC):
        return read_xlsx(data, limits)
    if data.startswith(OLE_MAGIC) or filename.lower().endswith(".xls"):
        raise SourceError("this is an old .xls workbook", "open it in Excel and save it as .xlsx, or as CSV UTF-8")
    if filename.lower().endswith(".xlsx"):
        raise SourceError("the file is named .xlsx but is not a workbook", "open it in Excel and save it as .xlsx")
    return read_csv(data, limits)
