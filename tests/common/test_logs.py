"""FUWU_LOG_FORMAT=json: one JSON object per line, the time in Asia/Shanghai with its offset."""

from __future__ import annotations

import json
import logging
import sys

from fuwu.common.logs import JsonFormatter


def test_a_record_becomes_one_json_line_with_the_exception() -> None:
    try:
        raise ValueError("bad row")
    except ValueError:
        record = logging.LogRecord("fuwu.jobs", logging.ERROR, __file__, 1, "job %s failed", (7,), sys.exc_info())
    record.created = 1796601600.0  # 2026-12-07 00:00:00 UTC
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["time"] == "2026-12-07T08:00:00.000+08:00"
    assert (entry["level"], entry["logger"], entry["message"]) == ("ERROR", "fuwu.jobs", "job 7 failed")
    assert "ValueError: bad row" in entry["exception"]
