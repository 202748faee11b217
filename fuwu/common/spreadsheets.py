"""Spreadsheets for download: cells that cannot run as formulas, and workbooks streamed as they are written.

Every export in fuwu goes through ``safe_cell`` (``tests/common/test_export_views.py`` lists
every download and checks a hostile value comes out as text). A cell that starts with
``=``, ``+``, ``-``, ``@`` (or their full-width forms), a tab or a carriage return is read by Excel,
LibreOffice and WPS as a formula when the file is opened, or after it is saved
as CSV and opened again, so a name or a note typed as ``=HYPERLINK(...)``
would run on an official's computer. OWASP's advice ("CSV Injection") is to
prefix such cells with a single quote, which the spreadsheet shows as text;
``safe_cell`` does that and leaves every other value alone.

``stream_xlsx`` and ``stream_csv`` turn rows into bytes as they come, so a
download of any length starts at once and holds one chunk in memory, never
the whole file. The workbook is written directly as Office Open XML into a
zip archive that is itself streamed (``zipfile`` on an unseekable sink writes
each member's sizes after its data): one sheet per 1,048,575 rows (Excel's
limit), strings inline, a bold frozen header, dates and amounts as numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
# OWASP's list, and the full-width forms a Chinese input method types (WPS and Excel in CJK locales read
# "＝SUM(…)" as a formula too).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
EXCEL_MAX_ROWS = 1_048_576  # per sheet, the header included
CHUNK_BYTES = 64 * 1024

# XML 1.0 cannot carry these at all (openpyxl raises on them); they never mean anything in a cell.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_EPOCH = dt.datetime(1899, 12, 30)  # noqa: DTZ001 - Excel's day zero; serial dates carry no time zone


def safe_cell(value: Any) -> Any:
    """``value``, with a leading ``'`` if it is text that a spreadsheet would take for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


# --- CSV ---------------------------------------------------------------------------------------------------------


def stream_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """UTF-8 CSV with a byte-order mark (so Excel on Chinese Windows reads it as UTF-8), in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(safe_row(header))
    for row in rows:
        writer.writerow(safe_row("" if v is None else v for v in row))
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


# --- XLSX --------------------------------------------------------------------------------------------------------


class _Sink:
    """Where the zip archive is written: bytes wait here until the generator hands them on."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        self.size = 0
        return data


def _member(name: str) -> zipfile.ZipInfo:
    # A name alone would be dated 1980-01-01; unzip tools show the real time.
    info = zipfile.ZipInfo(name, date_time=timezone.localtime().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# Cell styles (cellXfs in styles.xml): 0 plain, 1 bold header, 2 date, 3 date and time, 4 two decimals.
_PLAIN, _BOLD, _DATE, _DATETIME, _MONEY = 0, 1, 2, 3, 4


def _text(value: str, ref: str, style: int) -> str:
    value = _ILLEGAL_XML.sub("", value)
    space = ' xml:space="preserve"' if value != value.strip() or "\n" in value else ""
    text = escape(value).replace("\r", "&#13;")
    return f'<c r="{ref}" t="inlineStr"{_s(style)}><is><t{space}>{text}</t></is></c>'


def _s(style: int) -> str:
    return f' s="{style}"' if style else ""


def _cell(value: Any, ref: str, bold: bool = False) -> str:
    value = safe_cell(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return _text(value, ref, _BOLD if bold else _PLAIN)
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, Decimal):
        if not value.is_finite():
            return _text(str(value), ref, _PLAIN)
        style = _MONEY if value.as_tuple().exponent == -2 else _PLAIN
        return f'<c r="{ref}"{_s(style)}><v>{value:f}</v></c>'
    if isinstance(value, float):
        return f'<c r="{ref}"><v>{value!r}</v></c>' if value == value and abs(value) != float("inf") else ""
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        serial = (value - _EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{_DATETIME}"><v>{serial!r}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="{_DATE}"><v>{(value - _EPOCH.date()).days}</v></c>'
    return _text(str(value), ref, _PLAIN)


def _row(number: int, values: Sequence[Any], letters: list[str], bold: bool = False) -> str:
    while len(letters) < len(values):
        letters.append(column_letter(len(letters) + 1))
    cells = "".join(_cell(v, f"{letters[i]}{number}", bold) for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


def _sheet_start(widths: Sequence[int]) -> str:
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, start=1))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        "</sheetView></sheetViews>"
        f"{f'<cols>{cols}</cols>' if cols else ''}<sheetData>"
    )


_SHEET_END = "</sheetData></worksheet>"

_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)


def sheet_name(title: str, number: int = 1) -> str:
    """A valid sheet name (at most 31 characters, none of ``[]:*?/\\``); sheets after the first are numbered."""
    name = _SHEET_NAME_FORBIDDEN.sub(" ", _ILLEGAL_XML.sub("", title)).strip("' ") or "Sheet"
    suffix = f" ({number})" if number > 1 else ""
    return name[: 31 - len(suffix)] + suffix


def _package(names: list[str]) -> dict[str, str]:
    """The parts that list the sheets, written last because the number of sheets is known only then."""
    sheets = "".join(
        f'<sheet name="{escape(n, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
        for i, n in enumerate(names, start=1)
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        f'Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(names) + 1)
    )
    styles_id = len(names) + 1
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(names) + 1)
    )
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    return {
        "xl/workbook.xml": (
            f'{head}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheets>{sheets}</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{head}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
            f'<Relationship Id="rId{styles_id}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
            'Target="styles.xml"/></Relationships>'
        ),
        "xl/styles.xml": _STYLES,
        "_rels/.rels": _ROOT_RELS,
        "[Content_Types].xml": (
            f'{head}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>"
        ),
    }


def default_widths(header: Sequence[str]) -> list[int]:
    """Wide enough for the header (a Chinese character is about two widths), at least 12."""
    return [max(12, len(name) * 2 + 2) for name in header]


def stream_xlsx(
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    widths: Sequence[int] | None = None,
    rows_per_sheet: int = EXCEL_MAX_ROWS - 1,
) -> Iterator[bytes]:
    """An .xlsx workbook as a stream of bytes: ``header`` in bold, frozen, then ``rows``.

    Nothing is held but the current chunk (about 64 KB). When the rows do not
    fit one sheet, they go on in "title (2)", "title (3)" …, each with the header.
    """
    sink = _Sink()
    widths = default_widths(header) if widths is None else widths
    letters: list[str] = []
    names: list[str] = []
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        sheet: Any = None
        line = 0
        for row in rows:
            if sheet is None or line > rows_per_sheet:
                if sheet is not None:
                    sheet.write(_SHEET_END.encode())
                    sheet.close()
                names.append(sheet_name(title, len(names) + 1))
                sheet = archive.open(_member(f"xl/worksheets/sheet{len(names)}.xml"), "w")
                sheet.write((_sheet_start(widths) + _row(1, header, letters, bold=True)).encode())
                line = 1
            line += 1
            sheet.write(_row(line, row, letters).encode())
            if sink.size >= CHUNK_BYTES:
                yield sink.take()
        if sheet is None:  # no rows: still a workbook with its header
            names.append(sheet_name(title))
            sheet = archive.open(_member("xl/worksheets/sheet1.xml"), "w")
            sheet.write((_sheet_start(widths) + _row(1, header, letters, bold=True)).encode())
        sheet.write(_SHEET_END.encode())
        sheet.close()
        for name, xml in _package(names).items():
            archive.writestr(_member(name), xml)
    yield sink.take()
