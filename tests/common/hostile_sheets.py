"""Hostile spreadsheets, generated: a zip bomb, XXE, billion laughs, a sheet that claims every cell."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def replace_member(
    data: bytes, name: str, content: bytes | None = None, *, chunks: int = 0, chunk: bytes = b""
) -> bytes:
    """``data`` with the member ``name`` replaced: by ``content``, or streamed as ``chunk`` × ``chunks``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info))
                continue
            member = zipfile.ZipInfo(name)
            member.compress_type = zipfile.ZIP_DEFLATED
            with target.open(member, "w", force_zip64=True) as part:
                if content is not None:
                    part.write(content)
                for _ in range(chunks):
                    part.write(chunk)
    return out.getvalue()


def zip_bomb(megabytes: int = 64) -> bytes:
    """A sheet of ``megabytes`` MB of identical rows: well under 1 MB packed, millions of cells unpacked."""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c>' + b'<c t="inlineStr"><is><t>y</t></is></c>' * 20 + b"</row>"
    chunk = row * (1024 * 1024 // len(row))
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>'.encode()
    bomb = replace_member(workbook([["姓名"]]), SHEET, head, chunks=megabytes, chunk=chunk)
    # The closing tags are not needed to show the point: the parser never gets that far.
    return bomb


def xxe() -> bytes:
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        f'<worksheet {NS}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    return replace_member(workbook([["姓名"]]), SHEET, sheet)


def billion_laughs() -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet [{entities}]>'
        f'<worksheet {NS}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    return replace_member(workbook([["姓名"]]), SHEET, sheet)


def every_cell() -> bytes:
    """A few hundred bytes that claim A1:XFD1048576, with one cell in the far corner."""
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><dimension ref="A1:XFD1048576"/><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c></row>'
        '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    return replace_member(workbook([["姓名"]]), SHEET, sheet)
