"""Exporting the proactive list: the streamed workbook against CSV and against the in-memory workbook it replaced.

    python -m benchmarks.outreach_export [--persons 20000] [--repeat 3]

Builds what ``make demo`` builds, at the size asked, in a temporary SQLite
database: the areas, every standard, a generated population screened on
DuckDB and loaded into the registry (every resident given a mobile number, so
each row decrypts one), and an officer for the whole city. Then exports every
entitled-but-not-served result (``?item=*``, the old export's scope) through
the real view:

* **baseline** — the same rows, built the same way (one query per chunk of
  results for persons, outcomes and areas; names masked, phones decrypted and
  masked), written to CSV with the ``csv`` module into memory. Every other
  line is a ratio to this one, measured in the same run;
* **before** — the export this replaced: every result, person and outcome
  read first, the rows appended to an ``openpyxl`` workbook in memory, saved
  into a buffer, and only then the response (its rows are built by the same
  code, so only the writing differs);
* **after** — ``GET /proactive/<run>/export.xlsx?item=*``: ``stream_xlsx``
  into a ``StreamingHttpResponse``, consumed chunk by chunk as a client
  would; also the CSV download.

Time is the median of ``--repeat`` runs (wall and CPU seconds); the first
byte is when the response's first chunk is ready. Peak memory is traced
(``tracemalloc``, Python allocations) in a separate pass, because tracing
slows the work it measures.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.screening import ensure_population

ROOT = Path(__file__).resolve().parent.parent


def measure(work: Callable[[], tuple[int, float]], repeat: int) -> dict[str, float]:
    """Median wall, CPU and first-byte seconds of ``work`` (which returns bytes written and first-byte time)."""
    walls, cpus, firsts = [], [], []
    size = 0
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        size, first = work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        firsts.append(first - wall)
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "seconds": statistics.median(walls),
        "cpu_seconds": statistics.median(cpus),
        "first_byte_seconds": statistics.median(firsts),
        "peak_mb": peak / 2**20,
        "bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fuwu-export-"))
    os.environ["FUWU_VAR_DIR"] = str(work)
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "fuwu.settings"
    population = work / "population.parquet"
    ensure_population(population, args.persons, args.seed)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from openpyxl import Workbook

    from fuwu.accounts.models import Department, Role, User
    from fuwu.areas.models import Area
    from fuwu.common.spreadsheets import safe_row
    from fuwu.eligibility import proactive
    from fuwu.eligibility.models import ScreeningRun
    from fuwu.residents import crypto
    from fuwu.residents.models import Person

    setup_test_environment()  # the test client's host; nothing else of the test runner
    quiet = open(os.devnull, "w")  # noqa: SIM115 - for the whole run
    call_command("migrate", verbosity=0)
    call_command("areas", "load", stdout=quiet)
    call_command("standards", "load", str(ROOT / "standards"), stdout=quiet)
    call_command("screen", "--population", str(population), "--out", str(work / "screen"), "--quiet", stdout=quiet)
    call_command("residents", "load-parquet", str(population), stdout=quiet)
    persons = list(Person.objects.only("pk", "id_number_hash"))
    for n, p in enumerate(persons):
        p.contact_phone_encrypted = crypto.seal_text(crypto.CONTACT_PHONE, f"138{n:08d}", row=p.id_number_hash)
    Person.objects.bulk_update(persons, ["contact_phone_encrypted"], batch_size=2000)
    officer = User.objects.create_user(
        "bench-officer",
        role=Role.DEPARTMENT_OFFICER,
        department=Department.objects.get_or_create(code="civil-affairs", defaults={"name_zh": "民政局"})[0],
        area=Area.objects.get(code="331000"),
    )
    run = ScreeningRun.objects.get()
    client = Client()
    client.force_login(officer)
    filters = proactive.Filters(item=proactive.ALL_ITEMS)
    items = proactive.items_info()
    rows_total = proactive.outreach_results(run=run, user=officer, filters=filters, items=items).count()

    def rows() -> Iterator[list[Any]]:
        results = proactive.outreach_results(run=run, user=officer, filters=filters, items=items)
        return proactive._export_rows(run=run, user=officer, results=results, items=items)

    def baseline() -> tuple[int, float]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(proactive.EXPORT_HEADER)
        for row in rows():
            writer.writerow(safe_row(row))
        data = out.getvalue().encode("utf-8")
        return len(data), time.perf_counter()

    def before() -> tuple[int, float]:
        # The replaced export: everything in memory, the workbook saved, then the response.
        every = list(rows())
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(proactive.EXPORT_HEADER)
        for row in every:
            sheet.append(safe_row(row))
        buffer = io.BytesIO()
        book.save(buffer)
        return len(buffer.getvalue()), time.perf_counter()

    def after(fmt: str) -> Callable[[], tuple[int, float]]:
        def run_view() -> tuple[int, float]:
            response = client.get(f"/proactive/{run.pk}/export.{fmt}", {"item": proactive.ALL_ITEMS})
            stream = iter(response.streaming_content)  # type: ignore[attr-defined]
            first_chunk = next(stream)
            first = time.perf_counter()
            size = len(first_chunk) + sum(len(chunk) for chunk in stream)
            return size, first

        return run_view

    results = {
        "baseline (rows to CSV in memory)": measure(baseline, args.repeat),
        "before: openpyxl workbook in memory, then sent": measure(before, args.repeat),
        "after: GET export.xlsx, streamed": measure(after("xlsx"), args.repeat),
        "after: GET export.csv, streamed": measure(after("csv"), args.repeat),
    }
    base = results["baseline (rows to CSV in memory)"]["seconds"]
    print(f"{rows_total:,} rows ({len(persons):,} residents, every item), SQLite, median of {args.repeat}\n")
    print("| Export | Time (s) | CPU (s) | ÷ baseline | First byte (s) | Peak traced MB | Size (MB) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        print(
            f"| {name} | {r['seconds']:.2f} | {r['cpu_seconds']:.2f} | {r['seconds'] / base:.2f}× "
            f"| {r['first_byte_seconds']:.2f} | {r['peak_mb']:.1f} | {r['bytes'] / 2**20:.1f} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"rows": rows_total, "persons": len(persons), "results": results}, indent=2))


if __name__ == "__main__":
    main()
