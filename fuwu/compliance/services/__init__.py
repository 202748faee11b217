"""Compliance writes. Each function is keyword-only, runs in one transaction, checks who may act and from which
state, and writes its audit row. Refusals raise :class:`ComplianceError` with a stable ``code`` and a message for
the person who acted (what is wrong and what to do), or ``PermissionDenied``.

* ``institutions``: the registry, its Excel import, the pool of inspectors, home-care providers as institutions;
* ``inspections``: checklists started, answered, evidenced, signed and published; self-assessments, re-inspections;
* ``rectification``: orders answered with evidence, decided, flagged overdue and escalated;
* ``draws``: the random draw of institutions and inspectors, its publication and (never silent) redraw;
* ``pilots``: pilot areas designated and accepted.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


class ComplianceError(Exception):
    """A refused request; ``code`` is stable for the API and tests, the message is for people."""

    def __init__(self, message: str, *, code: str = "refused") -> None:
        super().__init__(message)
        self.code = code


def local_now() -> dt.datetime:
    return timezone.localtime()
