"""The inbox measured on a database already built by ``benchmarks.applications`` (an A/B of two copies of it).

    python -m benchmarks.applications_ab path/to/copy.sqlite3 [requests]

``build()`` of ``benchmarks.applications`` writes the 200,000 applications; copy the file before a schema change
(e.g. an index added with ``CREATE INDEX`` and ``ANALYZE``) and run this on each copy in turn, alternately,
so both are measured at the same load. Prints one JSON line: p50 and p95 (ms) of each case of ``measure_inbox``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile


def main() -> None:
    path, requests = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20
    os.environ["FUWU_VAR_DIR"] = tempfile.mkdtemp(prefix="fuwu-applications-ab-")
    os.environ["DATABASE_URL"] = f"sqlite:///{os.path.abspath(path)}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "fuwu.settings"
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    from benchmarks.applications import measure_inbox
    from fuwu.accounts.models import User

    setup_test_environment()
    result = measure_inbox(User.objects.get(username="bench-officer"), requests)
    cases = {k: [round(v["p50_ms"], 1), round(v["p95_ms"], 1)] for k, v in result.items()}
    print(json.dumps({"database": path, "load": os.getloadavg()[0], **cases}, ensure_ascii=False))


if __name__ == "__main__":
    main()
