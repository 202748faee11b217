"""Every day, only what changed: an incremental screening of the registry.

A full screening answers every person's every question again, although from one day to the next
almost nothing changes. The daily run screens only

- the persons whose facts changed since the previous run's export of the registry (``Person.updated_at``;
  births and moves in included), with every member of their households, now and before (household facts
  such as income per member or zero employment belong to the whole household), and of the households of
  persons since deleted;
- the persons whose age crossed one of the rules' age thresholds between the two dates (80 today: a
  birthday alone changes entitlements). Age is the only fact that changes with the date alone
  (``facts.py``), and no household fact reads it; but like everyone screened they are screened with their
  whole household, from which their own household facts are computed.

Everybody else's answers are copied from the previous run's files, so the new run's files hold the whole
population's answers, equal to a full run's on the same day (``tests/eligibility/test_incremental.py``
compares them), and are stored like a full run's (``services.screening_run_complete``). The changes
since the previous run are compared for the screened and deleted persons only.

It falls back to a full screening when there is no previous registry run with its files, when the rules
differ (another rules digest, or a dated parameter that takes effect in between), when age is used in a
way whose thresholds cannot be read, or when more than ``FULL_SHARE`` of the persons would be screened.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop
from sqlglot import exp

from fuwu.eligibility import inplace, screening, store
from fuwu.eligibility.models import RunStatus, ScreeningRun
from fuwu.eligibility.registry import REGISTRY, export_registry
from fuwu.eligibility.ruleset import ItemRule
from fuwu.eligibility.screening import MANIFEST, Outcome, Plan, rules_digest
from fuwu.eligibility.services import (
    ProgressFn,
    _no_progress,
    registry_rules_for,
    screening_registry_abandon,
    screening_registry_run,
    screening_run_complete,
    screening_run_start,
)
from fuwu.residents.models import Person

FULL_SHARE = 0.3  # above this share of persons to screen, a full run is as quick and simpler
COMPARISONS = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.EQ, exp.NEQ)


def age_thresholds(rules: Sequence[ItemRule], as_of: dt.date) -> set[int] | None:
    """The ages at which some rule's answer or level may change; None if age is used otherwise than compared
    with numbers (then every birthday matters)."""
    ages: set[int] = set()
    for rule in rules:
        bound = rule.bound(as_of)
        for tree in (*bound.criteria, bound.amount, bound.units):
            if tree is None:
                continue
            for node in tree.find_all(exp.Column):
                if node.name != "age":
                    continue
                parent = node.parent
                while isinstance(parent, exp.Paren):
                    parent = parent.parent
                if isinstance(parent, (*COMPARISONS, exp.Between, exp.In)):
                    if isinstance(parent, exp.In):
                        literals = list(parent.expressions)
                    else:
                        literals = [n for n in parent.iter_expressions() if id(n) != id(node)]
                    if all(isinstance(n, exp.Literal) and n.is_number for n in literals):
                        for n in literals:
                            whole = int(Decimal(n.this).to_integral_value(rounding="ROUND_FLOOR"))
                            ages.update((whole, whole + 1))  # >= t changes at t, > t at t + 1
                        continue
                if isinstance(parent, exp.Is):  # age IS NULL: the date does not change it
                    continue
                return None
    return ages


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one: nobody is born on it, the 28th is the bound
        return day.replace(year=day.year - years, day=28)


def birthday_crossings(since: dt.date, until: dt.date, ages: set[int] | None) -> Q:
    """Persons whose age became one of ``ages`` (any age, if None) after ``since`` and by ``until``.

    Age in full years reaches ``a`` on the day ``birth_date <= until - a years`` first holds.
    """
    if until <= since:
        return Q(pk__in=[])
    if ages is None:  # every birthday in the window: born on a month-day that falls in it
        span = range((until - since).days)
        days = {(since + dt.timedelta(days=k + 1)).strftime("%m%d") for k in span}
        if len(days) >= 366:
            return Q()
        query = Q(pk__in=[])
        for md in days:
            query |= Q(birth_date__month=int(md[:2]), birth_date__day=int(md[2:]))
        return query
    query = Q(pk__in=[])
    for age in sorted(a for a in ages if a >= 0):
        query |= Q(birth_date__gt=_years_before(since, age), birth_date__lte=_years_before(until, age))
    return query


def _same_rules(rules: Sequence[ItemRule], before: dt.date, now: dt.date) -> bool:
    """No dated parameter takes effect between the two dates (the bound rules are the same)."""
    for rule in rules:
        a, b = rule.bound(before), rule.bound(now)
        if [c.sql() for c in a.criteria] != [c.sql() for c in b.criteria]:
            return False
        for x, y in ((a.amount, b.amount), (a.units, b.units)):
            if (x.sql() if x is not None else None) != (y.sql() if y is not None else None):
                return False
    return True


def base_run(rules: Sequence[ItemRule], as_of: dt.date) -> ScreeningRun | None:
    """The registry run an incremental run on ``as_of`` builds on, or None if it must screen everyone."""
    previous = (
        ScreeningRun.objects.filter(
            population=REGISTRY, status=RunStatus.COMPLETED, draft=False, purged_at__isnull=True, as_of__lte=as_of
        )
        .exclude(facts_at=None)
        .order_by("-as_of", "-finished_at")
        .first()
    )
    if previous is None or previous.rules_digest != rules_digest(rules) or not store.has_results(previous.output):
        return None
    if _members(previous) is None:
        return None
    return previous if _same_rules(rules, previous.as_of, as_of) else None


def _members(run: ScreeningRun) -> Path | None:
    """Who was in which household when ``run`` exported the registry (its export, or the slim list)."""
    folder = Path(run.output).parent
    for name in ("members.parquet", "registry.parquet"):
        if (folder / name).is_file():
            return folder / name
    return None


def _ids(values: Any) -> pa.Table:
    return pa.table({"person_id": pa.array(sorted(set(values)), pa.int64())})


def affected_persons(previous: ScreeningRun, as_of: dt.date, rules: Sequence[ItemRule]) -> tuple[list[int], list[int]]:
    """(persons to screen, persons deleted since ``previous``)."""
    assert previous.facts_at is not None  # noqa: S101 - base_run chose a registry run with an export time
    before = _members(previous)
    assert before is not None  # noqa: S101 - base_run checked
    con = duckdb.connect()
    changed = list(Person.objects.filter(updated_at__gte=previous.facts_at).values_list("pk", "household_id"))
    current = _ids(Person.objects.values_list("pk", flat=True).iterator(chunk_size=100_000))
    con.register("current_ids", current)
    source = f"read_parquet('{store._quote(before)}')"
    deleted = [
        r[0]
        for r in con.execute(
            f"SELECT person_id FROM {source} WHERE person_id NOT IN (SELECT person_id FROM current_ids)"
        ).fetchall()
    ]
    # Households now and before of everyone who changed or left: their members' household facts may differ.
    con.register("moved", _ids([pk for pk, _ in changed] + deleted))
    households = {h for _, h in changed} | {
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT household_id FROM {source} WHERE person_id IN (SELECT person_id FROM moved)"
        ).fetchall()
    }
    # A birthday changes no household fact, but the person is screened with their whole household: their own
    # household facts (size, income per member) are computed from the members screened with them.
    birthdays = Person.objects.filter(birthday_crossings(previous.as_of, as_of, age_thresholds(rules, as_of)))
    households |= set(birthdays.values_list("household_id", flat=True))
    members: set[int] = set()
    ordered = sorted(h for h in households if h is not None)
    for start in range(0, len(ordered), 10_000):
        members.update(
            Person.objects.filter(household_id__in=ordered[start : start + 10_000]).values_list("pk", flat=True)
        )
    return sorted(members), sorted(deleted)


def _merge(previous: Path, screened: Path, out: Path, *, replaced: pa.Table) -> None:
    """The previous run's rows less the replaced persons, plus the screened rows: one part file, by person."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.register("replaced", replaced)
    parts = [f"SELECT * FROM {store.source(previous)} WHERE person_id NOT IN (SELECT person_id FROM replaced)"]
    if store.has_results(screened):
        parts.append(f"SELECT * FROM {store.source(screened)}")
    final = out / "part-00000.parquet"
    tmp = out / ".part-00000.parquet.tmp"
    con.execute(
        f"COPY ({' UNION ALL BY NAME '.join(parts)} ORDER BY person_id) TO '{store._quote(tmp)}' "
        "(FORMAT PARQUET, COMPRESSION ZSTD)"
    )
    tmp.replace(final)
    manifest = json.loads((previous / MANIFEST).read_text(encoding="utf-8"))
    manifest.update({"partitions": 1, "done": [0], "incremental_of": str(previous)})
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")


def _write_members(before: Path, screened: Path, out: Path, *, replaced: pa.Table) -> None:
    """(person_id, household_id) of the registry now, for the next incremental run: before's, updated."""
    con = duckdb.connect()
    con.register("replaced", replaced)
    tmp = out.with_suffix(".tmp")
    con.execute(
        f"COPY (SELECT person_id, household_id FROM read_parquet('{store._quote(before)}') "
        "WHERE person_id NOT IN (SELECT person_id FROM replaced) UNION ALL "
        f"SELECT person_id, household_id FROM read_parquet('{store._quote(screened)}') ORDER BY person_id) "
        f"TO '{store._quote(tmp)}' (FORMAT PARQUET, COMPRESSION ZSTD)"
    )
    tmp.replace(out)


def screening_registry_incremental(
    *,
    actor: Any,
    as_of: dt.date,
    out_dir: Path | None = None,
    progress: ProgressFn | None = None,
    in_place: bool | None = None,
) -> ScreeningRun:
    """Screen only what changed since the previous registry run; a full run when that is not possible.

    The new run's files hold every person's answers (copied for those who did not change); its stored
    changes are those of the screened and deleted persons. Same permissions, directory layout, failure
    handling and storage as ``screening_registry_run``. Screening in place (``in_place``, default the
    setting ``FUWU_SCREEN_IN_PLACE``) is always a full run: this one exports the changed persons' facts.
    """
    progress = progress or _no_progress
    rules = registry_rules_for(actor)
    if inplace.wanted(in_place):
        return screening_registry_run(actor=actor, as_of=as_of, out_dir=out_dir, progress=progress, in_place=True)
    previous = base_run(rules, as_of)
    if previous is None:
        return screening_registry_run(actor=actor, as_of=as_of, out_dir=out_dir, progress=progress)
    created = out_dir is None
    if out_dir is None:
        out_dir = Path(settings.VAR_DIR) / "registry-screens" / timezone.localtime().strftime("%Y%m%d-%H%M%S-%f")
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=not created)
    run = None
    try:
        facts_at = timezone.now()
        progress(0, None, gettext_noop("找出有变化的居民"))
        screened_ids, deleted = affected_persons(previous, as_of, rules)
        total = Person.objects.count()
        if len(screened_ids) > FULL_SHARE * max(total, 1):
            if created:
                shutil.rmtree(out_dir, ignore_errors=True)
            return screening_registry_run(actor=actor, as_of=as_of, out_dir=None if created else out_dir)
        population = out_dir / "changed.parquet"
        export_registry(population, only=screened_ids)
        before = _members(previous)
        assert before is not None  # noqa: S101 - base_run checked
        _write_members(before, population, out_dir / "members.parquet", replaced=_ids([*screened_ids, *deleted]))
        plan = Plan(
            engine="duckdb", as_of=as_of, population=population, out=out_dir / "screened", partitions=1, rules=rules
        )
        run = screening_run_start(plan=plan, actor=actor, population=REGISTRY)
        ScreeningRun.objects.filter(pk=run.pk).update(
            incremental=True, facts_at=facts_at, output=str(out_dir / "results")
        )
        run.refresh_from_db()
        progress(0, 1, gettext_noop("逐项判断是否符合条件"))
        started = timezone.now()
        outcome = screening.run(plan, screening.DuckDBEngine(plan), fresh=True)
        replaced = _ids([*screened_ids, *deleted])
        _merge(Path(previous.output), plan.out, out_dir / "results", replaced=replaced)
        seconds = (timezone.now() - started).total_seconds()
        merged = Outcome(out_dir / "results", outcome.partitions_run, 0, outcome.rows, seconds)
        run = screening_run_complete(
            run=run,
            outcome=merged,
            actor=actor,
            load_results=True,
            progress=progress,
            changed_persons=replaced,
            screened=len(screened_ids),
            carry_from=previous,
        )
        population.unlink()  # the changed persons' facts in clear; members.parquet keeps the households
        return run
    except BaseException:
        if run is not None:
            screening_registry_abandon(run_id=run.pk, actor=actor)
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
