"""Where SMS and e-mail go: one backend per channel, named in ``settings.FUWU_NOTICES["backends"]``.

A backend is a class with ``send(message) -> str`` (the reference it gives the message) that raises
:class:`DeliveryFailed` (or anything else) when the message did not go; the delivery is then tried again later.
A real SMS gateway is one more class here (or anywhere importable) and one settings change::

    FUWU_NOTICES["backends"]["sms"] = "myproject.sms.GatewayBackend"

* :class:`OutboxFileBackend` — the demo's and development's: each message is a file under
  ``<FUWU_VAR_DIR>/outbox/`` (staff read them at /notices/outbox/).
* :class:`LogBackend` — writes each message to the ``fuwu.notices`` log.

The message a backend is handed carries the real address in ``to`` (needed to send) and the masked form in
``to_masked``; what a backend keeps or shows (a file, a log line) must use ``to_masked`` only.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("fuwu.notices")


class DeliveryFailed(Exception):
    """The backend could not send the message; it will be tried again."""


@dataclass(frozen=True)
class OutgoingMessage:
    reference: str  # the delivery's own id, e.g. "delivery-12"
    channel: str
    to: str
    to_masked: str
    subject: str
    body: str


class Backend(Protocol):
    def send(self, message: OutgoingMessage) -> str: ...


def outbox_dir() -> Path:
    return Path(settings.VAR_DIR) / "outbox"


class OutboxFileBackend:
    """Writes each message to ``<FUWU_VAR_DIR>/outbox/<reference>-<channel>.json`` (masked address only)."""

    def send(self, message: OutgoingMessage) -> str:
        folder = outbox_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{message.reference}-{message.channel}.json"
            content = {
                "channel": message.channel,
                "to": message.to_masked,
                "subject": message.subject,
                "body": message.body,
            }
            path.write_text(json.dumps(content, ensure_ascii=False, indent=1), encoding="utf-8")
        except OSError as exc:
            raise DeliveryFailed(f"outbox not writable: {exc.strerror}") from exc
        return path.name


class LogBackend:
    """Writes each message to the log (the console in development)."""

    def send(self, message: OutgoingMessage) -> str:
        logger.info("%s to %s: %s", message.channel, message.to_masked, message.body)
        return f"log:{message.reference}"


def backend_path(channel: str) -> str:
    configured = cast("dict[str, str]", settings.FUWU_NOTICES["backends"])
    return str(configured[channel])


def backend_for(channel: str) -> Backend:
    backend: Backend = import_string(backend_path(channel))()
    return backend
