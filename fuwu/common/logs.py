"""Log records as JSON lines (FUWU_LOG_FORMAT=json), for a collector that reads fields rather than prose."""

from __future__ import annotations

import datetime as dt
import json
import logging
from zoneinfo import ZoneInfo

from django.conf import settings


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message"[, "exception"]}``, the time in the site's zone with its offset."""

    def format(self, record: logging.LogRecord) -> str:
        zone = ZoneInfo(getattr(settings, "TIME_ZONE", "Asia/Shanghai"))
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, tz=zone).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
