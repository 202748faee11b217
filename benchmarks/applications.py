"""Applications at scale: the department inbox's first page, and the overdue job, over 200,000 open applications.

    python -m benchmarks.applications [--applications 200000] [--requests 60] [--repeat 3] [--json out.json]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/fuwu_apps_bench python -m benchmarks.applications

Builds, in a temporary SQLite database (or the PostgreSQL database ``BENCH_DATABASE_URL`` names, migrated in
place and emptied of applications first): the student-aid standard, one county with 10 townships and 100
villages, the education bureau and one of its officers for the whole county, and ``--applications`` open
applications, one for each of the standard's five items per resident, written in bulk — 15 % submitted (no clock yet), 15 %
awaiting the applicant (clock stopped), 70 % in progress with due dates spread over the 60 days either side of
today (so about half of those are overdue). Then, in the same run:

* **baseline** — ``GET /healthz`` through the same test client (the framework's floor: middleware, session,
  routing), and a plain indexed query (one application by primary key);
* **inbox** — ``GET /applications/inbox/`` as the officer meets it (every open application of the county,
  soonest due first, 50 a page, with the count and the overdue count), and the same with ``?overdue=on`` and
  with ``?item=…&step=1``: p50 and p95 of ``--requests`` requests after 3 warm-ups, and p95 ÷ the baseline;
* **overdue job** — ``applications_flag_overdue`` from nothing flagged (every overdue application flagged and
  escalated: an UPDATE and an INSERT … SELECT of that many rows), median of ``--repeat`` runs (the flags and
  escalations are reset between runs), and a re-run on top (nothing new: what the job costs on a quiet day);
  its baseline is a ``COUNT(*)`` of the overdue applications.

Targets (issue 11): the inbox's first page p95 < 200 ms, the overdue job < 10 s. The load average is printed:
the machine is shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STUDENT_AID = ROOT / "standards" / "taizhou" / "taizhou-student-aid.yaml"
ITEM = "sa-preschool-aid"
COUNTY = "331002"
BATCH = 5000


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile: the smallest value that at least ``p`` % of the values do not exceed."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def build(applications: int, *, seed: int = 1) -> dict[str, Any]:
    """The world, in bulk; returns the officer and sizes."""
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from fuwu.accounts.models import Department, Role, User
    from fuwu.applications.models import Application, ApplicationEvent, ApplicationMaterial, Overdue
    from fuwu.areas.models import Area, AreaLevel
    from fuwu.residents import crypto, idnumber
    from fuwu.residents.models import Household, Person
    from fuwu.standards.models import ServiceItem
    from fuwu.standards.parsing import parse_many
    from fuwu.standards.services import standards_load

    rng = random.Random(seed)
    call_command("migrate", verbosity=0)
    if not ServiceItem.objects.filter(key=ITEM).exists():
        standards_load(parsed=parse_many([STUDENT_AID]), actor=None)
    # Every item of the student-aid standard (five, all led by the education bureau): one open application of
    # each per resident, as the one-open-application-per-item rule allows.
    items = [
        i
        for i in ServiceItem.objects.filter(version__standard__key="taizhou-student-aid").select_related("version")
        if i.version.in_force
    ]
    items.sort(key=lambda i: i.key)
    steps = {i.pk: len(i.data.get("steps") or []) for i in items}
    # A database given again (PostgreSQL) starts from no applications and no benchmark residents.
    Overdue.objects.all().delete()
    ApplicationEvent.objects.all().delete()
    ApplicationMaterial.objects.all().delete()
    Application.objects.all().delete()
    Person.objects.filter(source_id__startswith="bench-").delete()
    Household.objects.filter(household_id__startswith="B").delete()
    with transaction.atomic():
        city, _ = Area.objects.get_or_create(code="331000", defaults={"name_zh": "台州市", "level": AreaLevel.CITY})
        county, _ = Area.objects.get_or_create(
            code=COUNTY, defaults={"name_zh": "椒江区", "level": AreaLevel.COUNTY, "parent": city}
        )
        villages = []
        for t in range(10):
            town, _ = Area.objects.get_or_create(
                code=f"{COUNTY}{t + 1:03d}",
                defaults={"name_zh": f"街道{t + 1}", "level": AreaLevel.TOWNSHIP, "parent": county},
            )
            for v in range(10):
                village, _ = Area.objects.get_or_create(
                    code=f"{town.code}{201 + v:03d}",
                    defaults={"name_zh": f"社区{t + 1}-{v + 1}", "level": AreaLevel.VILLAGE, "parent": town},
                )
                villages.append(village.code)
        education, _ = Department.objects.get_or_create(code="education", defaults={"name_zh": "教育局"})
        officer = User.objects.filter(username="bench-officer").first() or User.objects.create_user(
            "bench-officer", role=Role.DEPARTMENT_OFFICER, department=education, area=county
        )

    started = time.perf_counter()
    today = timezone.localdate()
    now = timezone.now()
    born = dt.date(2021, 1, 1)
    made = 0
    people = -(-applications // len(items))
    while made < people:
        size = min(BATCH, people - made)
        households, persons = [], []
        for n in range(made, made + size):
            area = villages[n % len(villages)]
            number = idnumber.make(area[:6], born + dt.timedelta(days=n // 900), n % 900)
            lookup = crypto.lookup_hash(number)
            households.append(Household(household_id=f"B{n:09d}", hukou_area=area))
            persons.append(
                Person(
                    name=f"基准{n}",
                    id_number_hash=lookup,
                    id_number_encrypted=crypto.encrypt(number, lookup=lookup),
                    source_id=f"bench-{n}",
                    birth_date=number.birth_date,
                    sex=number.sex,
                    hukou_area=area,
                    household_id=f"B{n:09d}",
                    relation="head",
                    school_stage="preschool",
                )
            )
        with transaction.atomic():
            Household.objects.bulk_create(households)
            Person.objects.bulk_create(persons)
            rows = []
            for p in persons:
                for item in items:
                    if len(rows) + made * len(items) >= applications:
                        break
                    rows.append(_application(rng, item, p, education, officer, steps[item.pk], today, now))
            Application.objects.bulk_create(rows, batch_size=1000)
        made += size
    from django.db import connection

    # Fresh statistics (and, on PostgreSQL, the visibility map) as a live database has them. VACUUM cannot run in
    # a transaction: inside one (the benchmark's own test) the statistics alone.
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
    return {"officer": officer, "today": today, "applications": applications, "build_s": time.perf_counter() - started}


def _application(
    rng: random.Random, item: Any, p: Any, department: Any, officer: Any, steps: int, today: dt.date, now: dt.datetime
) -> Any:
    from fuwu.applications.models import Application, Capacity, Status

    roll = rng.random()
    status = Status.SUBMITTED if roll < 0.15 else Status.AWAITING_APPLICANT if roll < 0.3 else Status.IN_PROGRESS
    paused = status == Status.AWAITING_APPLICANT
    return Application(
        item=item,
        version=item.version,
        item_key=item.key,
        person=p,
        area_code=p.hukou_area,
        department=department,
        submitted_by=officer,
        capacity=Capacity.COUNTER,
        status=status,
        step=0 if status == Status.SUBMITTED else rng.randint(1, max(1, steps - 1)),
        due_on=today + dt.timedelta(days=rng.randint(-60, 60)) if status != Status.SUBMITTED else None,
        resume_status=Status.IN_PROGRESS if paused else "",
        paused_on=today - dt.timedelta(days=3) if paused else None,
        days_left=rng.randint(-5, 20) if paused else None,
        submitted_at=now - dt.timedelta(minutes=rng.randint(0, 200_000)),
    )


def timed(run: Callable[[], Any], times: int, warm: int = 3) -> list[float]:
    for _ in range(warm):
        run()
    out = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        out.append(time.perf_counter() - started)
    return out


def measure_inbox(officer: Any, requests: int) -> dict[str, dict[str, float]]:
    from django.test import Client

    from fuwu.applications.models import Application

    client = Client()
    client.force_login(officer)
    some = Application.objects.order_by("pk").values_list("pk", flat=True)[len(Application.objects.all()) // 2 :][:1]
    pk = some[0] if some else 1

    def get(url: str) -> Callable[[], None]:
        def run() -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return run

    def query() -> None:
        list(Application.objects.filter(pk=pk).values_list("pk", "status"))

    cases = {
        "baseline: GET /healthz": get("/healthz"),
        "baseline: one application by primary key": query,
        "inbox, first page": get("/applications/inbox/"),
        "inbox, overdue only": get("/applications/inbox/?overdue=on"),
        "inbox, item and step": get(f"/applications/inbox/?item={ITEM}&step=1"),
    }
    out = {}
    for name, run in cases.items():
        times = timed(run, requests)
        out[name] = {"p50_ms": statistics.median(times) * 1000, "p95_ms": percentile(times, 95) * 1000}
    return out


def measure_overdue(repeat: int) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from fuwu.applications.models import Application, ApplicationEvent, EventKind, Overdue
    from fuwu.applications.overdue import applications_flag_overdue, overdue_q

    today = timezone.localdate()

    def reset() -> None:
        with transaction.atomic():
            ApplicationEvent.objects.filter(kind=EventKind.ESCALATED).delete()
            Overdue.objects.all().delete()

    def baseline() -> None:
        Application.objects.filter(overdue_q(today)).count()

    base = statistics.median(timed(baseline, repeat, warm=1))
    runs, result = [], None
    for _ in range(repeat):
        reset()
        started = time.perf_counter()
        result = applications_flag_overdue()
        runs.append(time.perf_counter() - started)
    rerun = timed(applications_flag_overdue, repeat, warm=0)
    assert result is not None
    return {
        "baseline_count_s": base,
        "first_run_s": statistics.median(runs),
        "rerun_s": statistics.median(rerun),
        "flagged": result.overdue,
        "escalated": result.escalated,
        "open": Application.objects.filter(status__in=["submitted", "in_progress", "awaiting_applicant"]).count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fuwu-applications-bench-"))
    os.environ["FUWU_VAR_DIR"] = str(work)
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{work / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "fuwu.settings"
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host; nothing else of the test runner
    load_before = os.getloadavg()
    built = build(args.applications, seed=args.seed)
    inbox = measure_inbox(built["officer"], args.requests)
    overdue = measure_overdue(args.repeat)
    load_after = os.getloadavg()

    base = inbox["baseline: GET /healthz"]["p95_ms"]
    print(
        f"{args.applications:,} open applications ({overdue['flagged']:,} overdue); {connection.vendor}; "
        f"built in {built['build_s']:.0f} s; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after\n"
    )
    print("| Request | p50 (ms) | p95 (ms) | p95 ÷ GET /healthz | Target |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, r in inbox.items():
        target = ""
        if name.startswith("inbox"):
            target = f"p95 < 200 ms: {'met' if r['p95_ms'] < 200 else 'NOT met'}"
        print(f"| {name} | {r['p50_ms']:.1f} | **{r['p95_ms']:.1f}** | {r['p95_ms'] / base:.1f}× | {target} |")
    o = overdue
    print("\n| Overdue job | Median (s) | ÷ baseline | Target |")
    print("| --- | ---: | ---: | --- |")
    print(f"| baseline: COUNT(*) of the overdue | {o['baseline_count_s']:.3f} | 1.0× | |")
    print(
        f"| first run: {o['flagged']:,} flagged, {o['escalated']:,} escalated | **{o['first_run_s']:.2f}** | "
        f"{o['first_run_s'] / o['baseline_count_s']:.0f}× | < 10 s: {'met' if o['first_run_s'] < 10 else 'NOT met'} |"
    )
    print(f"| re-run (nothing new) | {o['rerun_s']:.2f} | {o['rerun_s'] / o['baseline_count_s']:.0f}× | |")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "database": connection.vendor,
                    "applications": args.applications,
                    "load": [load_before, load_after],
                    "inbox": inbox,
                    "overdue": overdue,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
