"""The indicators at city scale: materialise every indicator for 24 months × every area, and the dashboard.

    python -m benchmarks.evaluation [--scale 0.1] [--villages-per-township 20] [--requests 60] [--python] [--json out]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/fuwu_evaluation_bench python -m benchmarks.evaluation
    BENCH_DATABASE_URL=… python -m benchmarks.evaluation --pages-only   # the dashboard again, on that city

Builds, in a temporary SQLite database (or the empty PostgreSQL database ``BENCH_DATABASE_URL`` names, migrated
in place): the area list (``fuwu areas load``, with ``--villages-per-township`` generated villages), every
standard (``fuwu standards load``), and at ``--scale`` 1 the issue's city — 6.6M persons (households of three,
written by one INSERT … SELECT over a number series), 1M home-care orders over 24 months (about 96 per
account: ~10,400 accounts, each with its 24 allowance months; completed, rated, confirmed, called back,
complained about, some with a second caregiver, in fixed shares from ``random.Random(seed)``) and 200,000
applications of the three items the computed on-time indicators count, decided on time or late — written as
rows by COPY on PostgreSQL (``Writer``: no model instance, no ORM call per row), each phase timed. Then, in the
same run:

* **baseline** — a plain scan of the same data: ``SELECT count(*)`` of every table the views read;
* **materialise** — ``indicators_compute`` over the 24 months (their quarters and years too) from an empty
  table, on the set-based path (the scheduled job's); a re-run (nothing changed); new orders in the last month
  and a run (only its periods recomputed); with ``--python``, the row-by-row reference path over the same range
  (digests forgotten, so every period is re-read);
* **dashboard** — ``GET /evaluation/``, ``/evaluation/<standard>/`` and one county's page, through the test
  client as the standards office: p50 and p95 of ``--requests`` requests after 3 warm-ups, against
  ``GET /healthz``.

Targets (issue 13): materialising under 60 s, a dashboard page under 300 ms p95. The load average is printed:
the machine is shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.applications import percentile
from benchmarks.applications import timed as repeated

ROOT = Path(__file__).resolve().parent.parent
PERSONS, ORDERS, APPLICATIONS = 6_600_000, 1_000_000, 200_000
ORDERS_PER_ACCOUNT = 96  # four visits a month for 24 months
FIRST_MONTH, MONTHS = dt.date(2024, 12, 1), 24
NOW = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
ITEMS = ("sr-minimum-living-allowance", "ma-cost-assistance", "ma-illness-poverty-assistance")
HOME_CARE = "taizhou-home-care"
BATCH = 5000


def month(i: int) -> dt.date:
    index = FIRST_MONTH.year * 12 + FIRST_MONTH.month - 1 + i
    return dt.date(index // 12, index % 12 + 1, 1)


def _series_sql(n: int, vendor: str) -> str:
    """A relation ``g(n)`` of 0 … n-1."""
    if vendor == "postgresql":
        return f"generate_series(0, {n - 1}) AS g(n)"
    return f"(WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {n - 1}) SELECT n FROM s) g"


def _persons(count: int, villages: list[str]) -> None:
    """``count`` persons in households of three, spread over ``villages``, by two INSERT … SELECT."""
    from django.db import connection

    vendor = connection.vendor
    pad = (lambda e: f"lpad(({e})::text, 10, '0')") if vendor == "postgresql" else (lambda e: f"printf('%010d', {e})")
    blob = "decode('00', 'hex')" if vendor == "postgresql" else "X'00'"
    now = "now()" if vendor == "postgresql" else "datetime('now')"
    day = (lambda d: f"DATE '{d}'") if vendor == "postgresql" else (lambda d: f"'{d}'")
    households = -(-count // 3)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_village (i integer PRIMARY KEY, code varchar(12))")
        cursor.executemany("INSERT INTO bench_village VALUES (%s, %s)", list(enumerate(villages)))
        cursor.execute(
            "INSERT INTO residents_household (household_id, hukou_area, created_at) "
            f"SELECT 'E' || {pad('g.n')}, v.code, {now} FROM {_series_sql(households, vendor)} "
            f"JOIN bench_village v ON v.i = g.n % {len(villages)}"
        )
        cursor.execute(
            "INSERT INTO residents_person (name, id_number_encrypted, id_number_hash, source_id, birth_date, sex, "
            "hukou_area, household_id, id_area_differs, id_from_15_digits, created_at, updated_at) "
            f"SELECT '基准' || g.n, {blob}, 'ebench' || {pad('g.n')}, 'ebench-' || g.n, "
            f"CASE WHEN g.n % 4 = 0 THEN {day('1940-05-01')} ELSE {day('1975-05-01')} END, "
            "CASE WHEN g.n % 2 = 0 THEN 'male' ELSE 'female' END, "
            f"v.code, 'E' || {pad('g.n / 3')}, FALSE, FALSE, {now}, {now} "
            f"FROM {_series_sql(count, vendor)} JOIN bench_village v ON v.i = (g.n / 3) % {len(villages)}"
        )
        cursor.execute("DROP TABLE bench_village")


def build(
    scale: float, *, seed: int = 1, villages_per_township: int = 2, standards: list[Path] | None = None
) -> dict[str, Any]:
    """The city at ``scale`` (1 = the issue's sizes), in bulk; returns the sizes and the reader.

    ``standards``: the files to load (default: every standard)."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    from fuwu.accounts.models import Role, User
    from fuwu.applications.models import Application, Capacity
    from fuwu.areas.models import Area, AreaLevel
    from fuwu.homecare import models as hc
    from fuwu.residents.models import Person
    from fuwu.standards.models import ServiceItem

    rng = random.Random(seed)
    started = mark = time.perf_counter()
    timings: dict[str, float] = {}
    quiet = io.StringIO()
    call_command("migrate", verbosity=0)
    call_command("areas", "load", "--villages-per-township", str(villages_per_township), stdout=quiet)
    call_command("standards", "load", *(str(p) for p in standards or [ROOT / "standards"]), stdout=quiet)
    villages = list(Area.objects.filter(level=AreaLevel.VILLAGE).order_by("code").values_list("code", flat=True))
    timings["schema_areas_standards_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    persons = max(30, round(PERSONS * scale))
    _persons(persons, villages)
    timings["persons_s"] = time.perf_counter() - mark
    mark = time.perf_counter()

    office = User.objects.create_user("bench-office", role=Role.STANDARDS_OFFICE)
    booker = office  # books the orders and submits the applications (at a counter)
    providers = hc.Provider.objects.bulk_create(
        hc.Provider(
            name=f"基准机构{i}",
            licence_number=f"BENCH-{i}",
            licence_valid_until=dt.date(2030, 1, 1),
            address="台州",
            contact_name="联系人",
            contact_phone="0576-00000000",
        )
        for i in range(20)
    )
    caregivers = hc.Caregiver.objects.bulk_create(
        hc.Caregiver(
            provider=providers[i % 20],
            name=f"护理员{i}",
            health_certificate_expires=dt.date(2030, 1, 1),
            home_latitude=28.65,
            home_longitude=121.42,
            shift_start=dt.time(8),
            shift_end=dt.time(17),
        )
        for i in range(200)
    )
    hc.TrainingRecord.objects.bulk_create(
        hc.TrainingRecord(caregiver=c, kind=hc.TrainingKind.IN_SERVICE, hours=rng.choice((8, 16, 40)),
                          completed_on=month(rng.randrange(MONTHS)) + dt.timedelta(days=9), topic="在岗培训")
        for c in caregivers
    )  # fmt: skip

    timings["homecare_setup_s"] = time.perf_counter() - mark

    mark = time.perf_counter()
    orders_wanted = max(ORDERS_PER_ACCOUNT, round(ORDERS * scale))
    # One account in five opens during the range and draws fewer months: a tenth more accounts than 96 orders
    # each would need, and the orders stop at the number wanted (the last accounts have none: entitled, unserved).
    accounts_wanted = -(-orders_wanted * 11 // (ORDERS_PER_ACCOUNT * 10))
    # Elders (every fourth person is born in 1940), taken village by village in turn (the first elder of every
    # village, then the second, …), so that home care reaches every village rather than those a stride hits.
    elders = list(
        Person.objects.filter(source_id__startswith="ebench-", birth_date=dt.date(1940, 5, 1))
        .annotate(turn=Window(RowNumber(), partition_by=F("hukou_area"), order_by=F("pk").asc()))
        .order_by("turn", "hukou_area")
        .values_list("pk", flat=True)[:accounts_wanted]
    )
    zone = dt.timezone(dt.timedelta(hours=8))
    accounts = hc.EntitlementAccount.objects.bulk_create(
        (
            hc.EntitlementAccount(
                person_id=pk,
                provider=providers[i % 20],
                monthly_allowance=1000,
                items=["hc-meals"],
                rule_version="bench",
                # Opened over the first months, a share of them during the range (new accounts).
                opened_on=month(0) - dt.timedelta(days=30) if i % 5 else month(i % 12) + dt.timedelta(days=i % 27),
                first_visit_due=(month(0) if i % 5 else month(i % 12)) + dt.timedelta(days=35),
            )
            for i, pk in enumerate(elders)
        ),
        batch_size=BATCH,
    )
    made = _homecare(rng, accounts, orders_wanted, [c.pk for c in caregivers], booker.pk, zone)
    timings["homecare_s"] = time.perf_counter() - mark

    mark = time.perf_counter()
    by_key = {
        i.key: i for i in ServiceItem.objects.filter(key__in=ITEMS).select_related("version") if i.version.in_force
    }
    wanted = max(len(ITEMS), round(APPLICATIONS * scale))
    applicants = Person.objects.filter(source_id__startswith="ebench-").order_by("pk").values_list("pk", "hukou_area")
    writer = Writer(Application)
    first_pk = writer.next_pk()
    for start in range(0, wanted, BATCH * 10):
        rows: list[dict[str, Any]] = []
        for pk, area in applicants[start : min(wanted, start + BATCH * 10)]:
            item = by_key[ITEMS[rng.randrange(len(ITEMS))]]
            submitted = dt.datetime.combine(month(rng.randrange(MONTHS)), dt.time(9), tzinfo=zone) + dt.timedelta(
                days=rng.randrange(28), minutes=rng.randrange(600)
            )
            roll = rng.random()
            status = (
                "approved" if roll < 0.6 else "refused" if roll < 0.75 else "withdrawn" if roll < 0.8 else "in_progress"
            )
            decided = status in ("approved", "refused")
            rows.append(
                {
                    "id": first_pk + start + len(rows), "item_id": item.pk, "version_id": item.version_id,
                    "item_key": item.key, "person_id": pk, "area_code": area, "submitted_by_id": booker.pk,
                    "capacity": Capacity.COUNTER, "status": status, "step": 1,
                    "due_on": (submitted + dt.timedelta(days=20)).date(), "submitted_at": submitted,
                    "decided_at": submitted + dt.timedelta(days=rng.randint(1, 26), hours=rng.randrange(8)) if decided else None,
                }
            )  # fmt: skip
        writer.write(rows)
    writer.done()
    made_apps = writer.written
    timings["applications_s"] = time.perf_counter() - mark

    mark = time.perf_counter()
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
    timings["analyze_s"] = time.perf_counter() - mark
    return {
        "timings": timings,
        "office": office,
        "persons": persons,
        "villages": len(villages),
        "accounts": len(accounts),
        "orders": made,
        "applications": made_apps,
        "build_s": time.perf_counter() - started,
        "booker": booker,
        "caregivers": caregivers,
    }


class Writer:
    """Rows of one model written in bulk: ``COPY … FROM STDIN`` on PostgreSQL, multi-row INSERTs elsewhere.

    A row is a dict of attribute names (``account_id``, not ``account``) with the row's own values; the primary
    key is the next free one unless the row gives it (to be referred to by other rows); every other column takes the model's default, read once from an unsaved instance. No model
    instance per row, no ``save()``: a million orders cost the tuples and the COPY."""

    def __init__(self, model: Any, flush: int = 50_000) -> None:
        from django.db import connection

        self.model, self.flush_at, self.written = model, flush, 0
        self.fields = list(model._meta.concrete_fields)
        template = model()
        self.defaults = {f.attname: f.get_db_prep_save(f.pre_save(template, add=True), connection) for f in self.fields}
        # psycopg adapts dates, aware datetimes, numbers and text itself: only JSON needs Django's preparation
        # there; SQLite's datetimes and decimals do (UTC text).
        self.by_name = {
            f.attname: f
            for f in self.fields
            if connection.vendor != "postgresql" or f.get_internal_type() == "JSONField"
        }
        self.connection = connection
        self.names = [f.attname for f in self.fields]
        self.rows: list[tuple[Any, ...]] = []
        self.pk_name = model._meta.pk.attname
        self.pk: int | None = None

    def next_pk(self) -> int:
        from django.db.models import Max

        return int(self.model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1

    def write(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            if self.pk_name not in row:
                self.pk = self.pk or self.next_pk()
                row = {self.pk_name: self.pk, **row}
                self.pk += 1
            values = dict(self.defaults)
            for name, value in row.items():
                if name not in values:
                    raise KeyError(f"{self.model._meta.label} has no column {name!r}")
                field = self.by_name.get(name)
                values[name] = value if field is None else field.get_db_prep_save(value, self.connection)
            self.rows.append(tuple(values[n] for n in self.names))
        if len(self.rows) >= self.flush_at:
            self.flush()

    def flush(self) -> None:
        from django.db import connection

        if not self.rows:
            return
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = ", ".join(quote(f.column) for f in self.fields)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.fields))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", self.rows)
        self.written += len(self.rows)
        self.rows = []

    def done(self) -> None:
        """The last rows, and the primary key's sequence moved past the keys given (PostgreSQL)."""
        from django.core.management.color import no_style
        from django.db import connection

        self.flush()
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [self.model]):
                cursor.execute(sql)


def _homecare(
    rng: random.Random, accounts: list[Any], wanted: int, caregivers: list[int], booker: int, zone: dt.tzinfo
) -> int:
    """Every account's 24 allowance months, four orders in each month from its opening until ``wanted`` orders,
    and their ratings, callbacks, complaints and second caregivers (``Writer``: COPY, primary keys given)."""
    from fuwu.homecare import models as hc

    months, orders = Writer(hc.AccountMonth), Writer(hc.Order)
    responses = {m: Writer(m) for m in (hc.Rating, hc.Callback, hc.Complaint, hc.VisitPartner)}
    month_pk, order_pk = months.next_pk(), orders.next_pk()
    made = 0
    for start in range(0, len(accounts), 1000):
        month_rows, order_rows = [], []
        for account in accounts[start : start + 1000]:
            opened = account.opened_on.replace(day=1)
            for m in range(MONTHS):
                month_rows.append({"id": month_pk, "account_id": account.pk, "month": month(m), "allowance": 100_000})
                if made < wanted and month(m) >= opened:
                    for _ in range(4):
                        order_rows.append(
                            _order(rng, order_pk, month_pk, month(m), account, caregivers, booker, zone, made)
                        )
                        order_pk += 1
                        made += 1
                month_pk += 1
        months.write(month_rows)
        months.flush()  # the months before the orders that draw on them
        orders.write(order_rows)
        orders.flush()
        for model, rows in _responses(rng, order_rows, caregivers, booker).items():
            responses[model].write(rows)
    for writer in (months, orders, *responses.values()):
        writer.done()
    return made


def _order(
    rng: random.Random,
    pk: int,
    month_pk: int,
    first_day: dt.date,
    account: Any,
    caregivers: list[int],
    booker: int,
    zone: dt.tzinfo,
    n: int,
) -> dict[str, Any]:
    day = dt.datetime.combine(first_day, dt.time(9), tzinfo=zone) + dt.timedelta(days=rng.randrange(28))
    roll = rng.random()
    status = (
        "completed" if roll < 0.6 else "rated" if roll < 0.85 else "cancelled" if roll < 0.9
        else "no_show" if roll < 0.93 else "scheduled"
    )  # fmt: skip
    done = status in ("completed", "rated")
    planned = status not in ("cancelled",)
    checkin = day + dt.timedelta(minutes=rng.randint(-20, 45)) if done else None
    typed = done and rng.random() < 0.03
    return {
        "id": pk, "account_id": account.pk, "provider_id": account.provider_id, "item": "hc-meals",
        "kind": "subsidised" if rng.random() < 0.9 else "package", "status": status,
        "window_start": day - dt.timedelta(hours=1), "window_end": day + dt.timedelta(hours=2), "minutes": 60,
        "price": 50, "subsidy": 50, "account_month_id": month_pk, "booked_by_id": booker, "idempotency_key": f"e{n}",
        "requested_at": day - dt.timedelta(days=2), "respond_by": day - dt.timedelta(days=1),
        "caregiver_id": caregivers[n % len(caregivers)] if planned else None,
        "planned_start": day if planned else None,
        "checkin_at": checkin, "checkin_distance_m": rng.randrange(400) if done else None,
        "checkin_typed": typed, "checkin_reason": "定位失败" if typed else "",
        "checkout_at": checkin + dt.timedelta(minutes=rng.choice((45, 60, 65))) if checkin else None,
        "checkout_distance_m": rng.randrange(400) if done else None,
        "confirmation_code": "000000",
        "confirmed_at": checkin + dt.timedelta(hours=2) if checkin and (status == "rated" or rng.random() < 0.9) else None,
    }  # fmt: skip


def _responses(
    rng: random.Random, orders: list[dict[str, Any]], caregivers: list[int], booker: int
) -> dict[Any, list[dict[str, Any]]]:
    """Ratings of the rated orders, callbacks, complaints and second caregivers, in fixed shares."""
    from fuwu.homecare import models as hc

    out: dict[Any, list[dict[str, Any]]] = {hc.Rating: [], hc.Callback: [], hc.Complaint: [], hc.VisitPartner: []}
    for o in orders:
        done = o["status"] in ("completed", "rated")
        if o["status"] == "rated":
            out[hc.Rating].append(
                {"order_id": o["id"], "stars": rng.choice((2, 4, 5, 5)), "rated_by_id": booker, "rated_at": o["confirmed_at"]}
            )  # fmt: skip
        if done and rng.random() < 0.08:
            reached = rng.random() < 0.8
            sampled = o["checkin_at"].date()
            out[hc.Callback].append(
                {"order_id": o["id"], "sampled_on": sampled, "due_on": sampled + dt.timedelta(days=10),
                 "done_at": o["checkout_at"], "reached": reached, "satisfied": (rng.random() < 0.9) if reached else None}
            )  # fmt: skip
        if done and rng.random() < 0.005:
            resolved = rng.random() < 0.8
            lodged = o["checkout_at"] + dt.timedelta(days=1)
            out[hc.Complaint].append(
                {"order_id": o["id"], "text": "投诉", "lodged_by_id": booker, "lodged_at": lodged,
                 "due_on": lodged.date() + dt.timedelta(days=7), "status": "upheld" if resolved else "open",
                 "outcome": "已处理" if resolved else "",
                 "resolved_at": lodged + dt.timedelta(days=rng.randint(1, 12)) if resolved else None}
            )  # fmt: skip
        if done and rng.random() < 0.05:
            second = caregivers[(caregivers.index(o["caregiver_id"]) + 1) % len(caregivers)]
            out[hc.VisitPartner].append(
                {"order_id": o["id"], "caregiver_id": second,
                 "checkin_at": o["planned_start"] + dt.timedelta(minutes=rng.randint(-10, 50))}
            )  # fmt: skip
    return out


SCANNED = (
    "residents_person",
    "homecare_entitlementaccount",
    "homecare_accountmonth",
    "homecare_order",
    "homecare_visitpartner",
    "homecare_rating",
    "homecare_callback",
    "homecare_complaint",
    "applications_application",
)


def clock(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = run()
    return time.perf_counter() - started, value


def plain_scan() -> dict[str, int]:
    """``SELECT count(*)`` of every table the views read: the baseline."""
    from django.db import connection

    with connection.cursor() as cursor:
        out = {}
        for table in SCANNED:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            out[table] = int(cursor.fetchone()[0])
    return out


def materialise(built: dict[str, Any], *, python: bool) -> list[dict[str, Any]]:
    from fuwu.evaluation.engine import indicators_compute
    from fuwu.evaluation.models import IndicatorPeriod

    last = month(MONTHS - 1) + dt.timedelta(days=27)

    def run(path: str = "sql", now: dt.datetime = NOW) -> dict[str, Any]:
        return indicators_compute(first=month(0), last=last, now=now, path=path).as_dict()

    steps = []
    seconds, _ = clock(plain_scan)
    steps.append({"step": "baseline: SELECT count(*) of every table the views read", "seconds": seconds})
    seconds, summary = clock(run)
    steps.append({"step": "materialise, set-based path, empty table", "seconds": seconds, **summary})
    seconds, summary = clock(lambda: run(now=NOW + dt.timedelta(hours=1)))
    steps.append({"step": "re-run, nothing changed", "seconds": seconds, **summary})
    _more_orders(built)
    seconds, summary = clock(lambda: run(now=NOW + dt.timedelta(hours=2)))
    steps.append({"step": "after 200 new orders in the last month", "seconds": seconds, **summary})
    if python:
        IndicatorPeriod.objects.all().delete()
        seconds, summary = clock(lambda: run("python", NOW + dt.timedelta(hours=3)))
        steps.append({"step": "row-by-row reference path, every period re-read", "seconds": seconds, **summary})
    return steps


def _more_orders(built: dict[str, Any]) -> None:
    from fuwu.homecare import models as hc

    rng = random.Random(99)
    zone = dt.timezone(dt.timedelta(hours=8))
    months = list(hc.AccountMonth.objects.filter(month=month(MONTHS - 1)).select_related("account")[:50])
    caregivers = [c.pk for c in built["caregivers"]]
    writer = Writer(hc.Order)
    pk = writer.next_pk()
    writer.write(
        [
            _order(rng, pk + i, am.pk, am.month, am.account, caregivers, built["booker"].pk, zone, 10**9 + i)
            for i, am in enumerate(months * 4)
        ]
    )
    writer.done()


def dashboard(office: Any, requests: int) -> dict[str, dict[str, float]]:
    from django.test import Client

    from fuwu.areas.models import Area, AreaLevel

    client = Client()
    client.force_login(office)
    county = Area.objects.filter(level=AreaLevel.COUNTY).order_by("code").values_list("code", flat=True).first()

    def get(url: str) -> Callable[[], None]:
        def run() -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return run

    cases = {
        "baseline: GET /healthz": get("/healthz"),
        "GET /evaluation/ (every standard's latest month)": get("/evaluation/"),
        f"GET /evaluation/{HOME_CARE}/ (the city)": get(f"/evaluation/{HOME_CARE}/"),
        f"GET /evaluation/{HOME_CARE}/{county}/ (a county)": get(f"/evaluation/{HOME_CARE}/{county}/"),
    }
    out = {}
    for name, run in cases.items():
        times = repeated(run, requests)
        out[name] = {"p50_ms": statistics.median(times) * 1000, "p95_ms": percentile(times, 95) * 1000}
    return out


def _print_pages(pages: dict[str, dict[str, float]]) -> None:
    home = pages["baseline: GET /healthz"]["p95_ms"]
    print("\n| Request | p50 (ms) | p95 (ms) | p95 ÷ GET /healthz | Target |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, r in pages.items():
        target = "" if name.startswith("baseline") else f"p95 < 300 ms: {'met' if r['p95_ms'] < 300 else 'NOT met'}"
        print(f"| {name} | {r['p50_ms']:.1f} | **{r['p95_ms']:.1f}** | {r['p95_ms'] / home:.1f}× | {target} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1, help="1 = 6.6M persons, 1M orders, 200,000 applications")
    parser.add_argument("--villages-per-township", type=int, default=20)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--python", action="store_true", help="also time the row-by-row reference path")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--pages-only",
        action="store_true",
        help="only the dashboard's requests, on the city a previous run left in BENCH_DATABASE_URL",
    )
    args = parser.parse_args()
    if args.pages_only and "BENCH_DATABASE_URL" not in os.environ:
        parser.error("--pages-only measures a database a previous run built: set BENCH_DATABASE_URL")

    work = Path(tempfile.mkdtemp(prefix="fuwu-evaluation-bench-"))
    os.environ["FUWU_VAR_DIR"] = str(work)
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{work / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "fuwu.settings"
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    from fuwu.evaluation.models import IndicatorValue

    setup_test_environment()  # the test client's host; nothing else of the test runner
    load_before = os.getloadavg()
    if args.pages_only:
        from fuwu.accounts.models import User

        _print_pages(dashboard(User.objects.get(username="bench-office"), args.requests))
        print(f"\nload average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after")
        return
    built = build(args.scale, seed=args.seed, villages_per_township=args.villages_per_township)
    print(
        f"{built['persons']:,} persons, {built['accounts']:,} accounts, {built['orders']:,} orders, "
        f"{built['applications']:,} applications, {built['villages']:,} villages; {connection.vendor}; "
        f"built in {built['build_s']:.0f} s; load average {load_before[0]:.1f} before"
    )
    print("generation: " + ", ".join(f"{k.removesuffix('_s')} {v:.1f} s" for k, v in built["timings"].items()))
    steps = materialise(built, python=args.python)
    values = IndicatorValue.objects.count()
    pages = dashboard(built["office"], args.requests)
    load_after = os.getloadavg()
    print(f"{values:,} indicator values; load average {load_after[0]:.1f} after\n")
    base = steps[0]["seconds"]
    print("| Step | Seconds | ÷ plain scan | Periods computed / unchanged | Values written |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for s in steps:
        counts = (
            f"{s['periods_computed']} / {s['periods_unchanged']} | {s['values_written']:,}"
            if "indicators" in s
            else "|"
        )
        print(f"| {s['step']} | **{s['seconds']:.2f}** | {s['seconds'] / base:.1f}× | {counts} |")
    _print_pages(pages)
    if args.json:
        sizes = {k: v for k, v in built.items() if isinstance(v, (int, float))}
        args.json.write_text(
            json.dumps(
                {"database": connection.vendor, "scale": args.scale, "sizes": sizes, "values": values,
                 "generation": built["timings"],
                 "load": [load_before, load_after], "steps": steps, "pages": pages},
                indent=2, default=str,
            )
        )  # fmt: skip


if __name__ == "__main__":
    main()
