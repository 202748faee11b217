"""The one gate every uploaded spreadsheet passes before it is parsed (.xlsx and CSV).

A 1 MB .xlsx can unpack to gigabytes (a "zip bomb"), an XML part can declare entities that expand
without end ("billion laughs") or read the server's files (XXE), and a sheet can claim a million rows
of sixteen thousand columns. So, before openpyxl sees a byte:

- the archive is read from its central directory only: its own size, the number of members, each
  member's and the total uncompressed size, and each member's compression ratio are checked against
  ``LIMITS``; Python's ``zipfile`` stops reading a member at the size the directory declares, so a
  member cannot unpack to more than was checked;
- every XML part's opening is read (decompressing at most ``XML_PROLOG_BYTES``) and refused if it
  declares a document type (``<!DOCTYPE`` / ``<!ENTITY``) — no Office file has one;
- openpyxl itself parses with defusedxml (it uses it when installed; ``defused()`` checks, and the
  system check ``common.E002`` stops start-up if it were switched off);
- rows are read through ``xlsx_rows`` / ``csv_rows``, which stop at ``LIMITS.rows`` rows and
  ``LIMITS.columns`` columns, and turn whatever the parser still raises into ``SheetRefused``.

``SheetRefused`` carries a problem and a fix for the person who uploaded the file; it is never a 500.
Readers: ``fuwu.common.clerk_sheets`` (institutions, receipts) and ``fuwu.residents.sources``; upload
forms call ``check_upload`` so the person is told at once, and the reader checks again in the job.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import openpyxl
from defusedxml.common import DefusedXmlException  # type: ignore[import-untyped]
from django.utils.translation import gettext as _
from openpyxl import load_workbook

ZIP_MAGIC = b"PK\x03\x04"  # .xlsx is a zip archive
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
XML_PROLOG_BYTES = 64 * 1024  # a document type can only come before the root element
_DTD_MARKERS = (b"<!doctype", b"<!entity")
MB = 1024 * 1024
EXCEL_MAX_ROWS = 1_048_576


@dataclass(frozen=True)
class Limits:
    upload_bytes: int = 20 * MB  # the file as uploaded (.xlsx or CSV): about 200,000 residents
    part_bytes: int = 160 * MB  # one member of the archive, unpacked
    total_bytes: int = 240 * MB  # all members, unpacked
    ratio: int = 200  # unpacked / packed, for members over 1 MB unpacked (real sheets: 5-50)
    members: int = 500
    rows: int = 200_000  # below the header
    columns: int = 200


LIMITS = Limits()
# A file an administrator gives `fuwu residents import` on the server: bigger, still bounded.
COMMAND_LIMITS = Limits(
    upload_bytes=1024 * MB, part_bytes=4096 * MB, total_bytes=4096 * MB, rows=10_000_000, members=500
)


class SheetRefused(Exception):
    """The file is not read at all; ``problem`` and ``fix`` are for the person who uploaded it."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}; {fix}")
        self.problem = problem
        self.fix = fix


def defused() -> bool:
    """True when openpyxl parses XML with defusedxml (no entity expansion, no external entities)."""
    return bool(openpyxl.DEFUSEDXML)


def _mb(n: int) -> str:
    return f"{n / MB:g}"


def _too_big(limits: Limits) -> SheetRefused:
    return SheetRefused(
        _("文件解压后过大（超过 %(mb)s MB），可能是损坏或恶意构造的文件") % {"mb": _mb(limits.total_bytes)},
        _("请分批上传，或用 Excel 打开后重新另存为 .xlsx"),
    )


def _not_a_workbook() -> SheetRefused:
    return SheetRefused(_("文件不是可以读取的 .xlsx 工作簿"), _("用 Excel 打开后另存为 .xlsx"))


def check_size(data: bytes, limits: Limits | None = None) -> None:
    limits = limits or LIMITS
    if len(data) > limits.upload_bytes:
        raise SheetRefused(
            _("文件超过 %(mb)s MB") % {"mb": _mb(limits.upload_bytes)},
            _("请分批上传（或由管理员用命令行导入）"),
        )


def check_xlsx(data: bytes, limits: Limits | None = None) -> None:
    """Refuse an archive that is too big unpacked, too compressed, too many parts, or declares a DTD."""
    limits = limits or LIMITS
    check_size(data, limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise _not_a_workbook() from exc
    with archive:
        members = archive.infolist()
        if len(members) > limits.members:
            raise SheetRefused(
                _("工作簿包含的部件过多（%(n)s 个）") % {"n": len(members)},
                _("用 Excel 打开后另存为 .xlsx，只保留名单所在的工作表"),
            )
        total = 0
        for member in members:
            total += member.file_size
            if member.file_size > limits.part_bytes or total > limits.total_bytes:
                raise _too_big(limits)
            packed = max(member.compress_size, 1)
            if member.file_size > MB and member.file_size / packed > limits.ratio:
                raise _too_big(limits)
        for member in members:  # every part, whatever its name: openpyxl finds parts by the relationships
            _check_prolog(archive, member)


def _check_prolog(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    try:
        with archive.open(member) as part:
            head = part.read(XML_PROLOG_BYTES)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise _not_a_workbook() from exc
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<") and any(marker in text for marker in _DTD_MARKERS):
        raise _dtd()


def _dtd() -> SheetRefused:
    return SheetRefused(
        _("工作簿中含有文档类型定义（DTD/实体），Excel 保存的文件不会有这些内容"),
        _("用 Excel 打开后重新另存为 .xlsx"),
    )


def check_upload(data: bytes, limits: Limits | None = None) -> None:
    """What an upload form calls: size, and for a workbook the archive's structure. Raises SheetRefused."""
    if data.startswith(ZIP_MAGIC):
        check_xlsx(data, limits)
    else:
        check_size(data, limits)


def _too_many_rows(limits: Limits) -> SheetRefused:
    return SheetRefused(
        _("名单超过 %(n)s 行") % {"n": f"{limits.rows:,}"},
        _("请分成几个文件上传"),
    )


def _too_many_columns(limits: Limits) -> SheetRefused:
    return SheetRefused(
        _("表格超过 %(n)s 列") % {"n": limits.columns},
        _("删除名单右侧多余的列后重新上传"),
    )


def _filled(cells: Sequence[Any]) -> bool:
    return any(c is not None and (not isinstance(c, str) or c.strip()) for c in cells)


def _capped(rows: Iterator[Sequence[Any]], limits: Limits) -> Iterator[tuple[int, Sequence[Any]]]:
    """(row number, cells) of the rows that hold anything, each cut to ``limits.columns`` cells; at most
    ``limits.rows`` of them below the header. Blank rows are skipped but keep their numbers.
    """
    filled = 0
    blank: object = None
    for number, row in enumerate(rows, start=1):
        if row is blank:  # openpyxl fills a gap between row numbers with one shared empty row: cheap to skip
            continue
        cells = row
        if len(cells) > limits.columns:
            if _filled(cells[limits.columns :]):
                raise _too_many_columns(limits)
            cells = cells[: limits.columns]
        if not _filled(cells):
            blank = row
            continue
        filled += 1
        if filled > limits.rows + 1:
            raise _too_many_rows(limits)
        yield number, cells


def _refusal(exc: BaseException) -> SheetRefused:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return _dtd()
        seen = seen.__cause__ or seen.__context__
    return _not_a_workbook()


def xlsx_rows(data: bytes, limits: Limits | None = None) -> Iterator[tuple[int, Sequence[Any]]]:
    """The first sheet's rows that hold anything, numbered as Excel shows them (values, not formulas),
    after ``check_xlsx``. Raises SheetRefused."""
    limits = limits or LIMITS
    check_xlsx(data, limits)
    if not defused():
        raise SheetRefused(_("服务器未启用安全的 XML 解析，暂不能读取 .xlsx"), _("请上传 CSV UTF-8，或联系管理员"))
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (KeyError, OSError, ValueError, TypeError, zipfile.BadZipFile, SyntaxError) as exc:
        # defusedxml's refusals are ValueErrors (openpyxl wraps them); InvalidFileException is an OSError.
        raise _refusal(exc) from exc
    try:
        sheet = book.active
        if sheet is None:
            raise SheetRefused(_("工作簿没有工作表"), _("把名单放在第一个工作表"))
        # Bounded even when the sheet claims A1:XFD1048576 or a row numbered 10**12: openpyxl pads rows
        # and fills the gaps between row numbers up to these.
        # openpyxl pads each row to the sheet's stated width: no wider than one past the cap.
        width = getattr(sheet, "max_column", None)
        max_col = min(width, limits.columns + 1) if width else None
        source = sheet.iter_rows(values_only=True, max_row=EXCEL_MAX_ROWS, max_col=max_col)
        yield from _capped(source, limits)
    except (KeyError, ValueError, TypeError, AttributeError, zipfile.BadZipFile, SyntaxError, EOFError) as exc:
        raise _refusal(exc) from exc
    finally:
        book.close()


def csv_rows(text: str, *, delimiter: str = ",", limits: Limits | None = None) -> Iterator[tuple[int, Sequence[Any]]]:
    """CSV rows as ``xlsx_rows`` gives them; a malformed file (a field over the csv module's limit) is refused."""
    try:
        yield from _capped(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), limits or LIMITS)
    except csv.Error as exc:
        raise SheetRefused(
            _("CSV 文件格式有误（%(error)s）") % {"error": exc},
            _("用 Excel 打开后另存为“CSV UTF-8（逗号分隔）”"),
        ) from exc
