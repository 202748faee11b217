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

Everybody else's answers stay those of the run it builds on, and nothing about them is copied (ADR 27): the
new run's files are layers over its lineage's full run (``layers.py``: hard links, a delta, who it replaces),
its candidates are the earlier runs' rows less those it ends (``Candidate.until``) plus its own, and its
counts are the previous run's, less the replaced persons' previous answers, plus their new ones. What it
reads and writes grows with what changed; what reads the whole population is one pass over the previous
answers (the replaced persons' rows), one query over the person table (who changed, whose birthday counts)
and one count and sum of its ids (who left). The screened households' members are the previous export's
(``layers.members_source``) less the changed and deleted persons, plus the changed persons as they are now.
The whole answers still equal a full run's on the same day (``tests/eligibility/test_incremental.py``
compares answers, candidates, counts and changes).

Besides the screened and deleted persons, the persons whose receiving changed since the previous run (a grant
began or ended) have their candidate rows stored again, from their unchanged answers.

It falls back to a full screening when there is no previous registry run with its files (and its record of who
received what), when the rules or the items worth a call differ (another rules digest, a dated parameter that
takes effect in between), when age is used in a way whose thresholds cannot be read, when more than
``FULL_SHARE`` of the persons were screened again since the last full run, or after
``FUWU_SCREENING_DAILY_CHAIN`` daily runs in a row.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import BigIntegerField, Count, F, Q, Sum
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_noop
from sqlglot import exp

from fuwu.eligibility import inplace, layers, screening, store
from fuwu.eligibility.models import RunStatus, ScreeningCount, ScreeningRun
from fuwu.eligibility.registry import REGISTRY, export_registry
from fuwu.eligibility.rules import is_param, param_value
from fuwu.eligibility.ruleset import ItemRule
from fuwu.eligibility.screening import MANIFEST, Plan, rules_digest
from fuwu.eligibility.services import (
    ProgressFn,
    _no_progress,
    _outreach_items,
    registry_rules_for,
    screening_daily_complete,
    screening_registry_abandon,
    screening_registry_run,
    screening_run_start,
    served_table,
)
from fuwu.residents.models import Person

logger = logging.getLogger(__name__)

FULL_SHARE = 0.3  # above this share of persons screened again since the full run, a full run is as quick
BIRTH_DATES = 900  # at most this many birth dates listed (a parameter each on SQLite), else a range per age
BUCKET = 1024  # persons (by id) per bucket compared to find who left the registry (``_gone``)
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
    windows = [(_years_before(since, age), _years_before(until, age)) for age in sorted(a for a in ages if a >= 0)]
    if sum((high - low).days for low, high in windows) <= BIRTH_DATES:
        # The few birth dates themselves: one hashed look-up a row, where a range per age was ~80 comparisons.
        return Q(
            birth_date__in=sorted(
                {low + dt.timedelta(days=k + 1) for low, high in windows for k in range((high - low).days)}
            )
        )
    query = Q(pk__in=[])
    for low, high in windows:
        query |= Q(birth_date__gt=low, birth_date__lte=high)
    return query


def _parameters_used(rule: ItemRule, day: dt.date) -> list[str | None]:
    """The values that ``bind`` puts in ``rule``'s expressions on ``day``, in order (None: NULL)."""
    values: list[str | None] = []
    for expression in (*(c.expression for c in rule.criteria), rule.amount, rule.units):
        if expression is None:
            continue
        for node in expression.tree.find_all(exp.Anonymous):
            if is_param(node):
                value = param_value(node, parameters=rule.parameters, as_of=day)
                values.append(None if value is None else str(value))
    return values


def _same_rules(rules: Sequence[ItemRule], before: dt.date, now: dt.date) -> bool:
    """No dated parameter takes effect between the two dates (the bound rules are the same).

    Compares the parameters' values on both dates, which is what binding puts in the rules: binding and
    printing every rule twice took a second and a half of each daily run.
    """
    return all(_parameters_used(rule, before) == _parameters_used(rule, now) for rule in rules)


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
    if _members(previous) is None or previous.generation + 1 > settings.FUWU_SCREENING_DAILY_CHAIN:
        return None
    if layers.candidate_items(Path(previous.output)) != _outreach_items():
        return None  # no record of who received what, or other items worth a call: every candidate may differ
    return previous if _same_rules(rules, previous.as_of, as_of) else None


def _members(run: ScreeningRun) -> str | None:
    """Who was in which household when ``run`` exported the registry, as DuckDB reads it."""
    return layers.members_source(Path(run.output).parent)


def _ids(values: Iterable[int]) -> pa.Table:
    return pa.table({"person_id": pa.array(sorted(set(values)), pa.int64())})


def _buckets(rows: Iterable[Sequence[Any]]) -> dict[int, tuple[int, int]]:
    return {int(b): (int(n), int(total)) for b, n, total in rows}


def _gone(con: duckdb.DuckDBPyConnection, members: str, changed: pa.Table) -> tuple[list[int], list[int], int]:
    """(persons deleted since the export ``members`` lists, persons there now that neither it nor ``changed``
    has, persons now), reading no more than the buckets that differ.

    Ids are counted and summed, in the export and in the database: when the database's count and sum equal the
    export's plus the changed persons new since, nobody was deleted (the usual day: one aggregate over the
    table). Otherwise they are counted and summed per bucket of ``BUCKET`` ids (one ``GROUP BY`` there); a
    bucket whose count and sum agree holds nobody deleted, and only the others' ids are compared one by one.
    Someone there now but in neither (a save that committed after the export began although it set
    ``updated_at`` before) is screened too. A deletion and such a save could hide each other only if their ids
    summed alike, as within one bucket before.
    """
    con.register("changed_ids", changed)
    totals = "SELECT count(*), coalesce(sum(person_id), 0) FROM "
    ((listed_n, listed_sum),) = con.execute(totals + members).fetchall()
    ((new_n, new_sum),) = con.execute(f"{totals}({layers.without('changed_ids', members)})").fetchall()
    whole = Person.objects.aggregate(n=Count("pk"), total=Sum("pk"))
    persons, total = int(whole["n"]), int(whole["total"] or 0)
    if (int(listed_n) + int(new_n), int(listed_sum) + int(new_sum)) == (persons, total):
        return [], [], persons  # every bucket would agree: one count and sum over the table, not one per bucket
    before = _buckets(
        con.execute(f"SELECT person_id // {BUCKET}, count(*), sum(person_id) FROM {members} GROUP BY 1").fetchall()
    )
    new = _buckets(
        con.execute(
            f"SELECT person_id // {BUCKET}, count(*), sum(person_id) FROM "
            f"({layers.without('changed_ids', members)}) GROUP BY 1"
        ).fetchall()
    )
    bucket = Cast(F("pk"), BigIntegerField()) / BUCKET
    now = _buckets(
        Person.objects.annotate(bucket=bucket)
        .values("bucket")
        .annotate(n=Count("pk"), total=Sum("pk"))
        .order_by()
        .values_list("bucket", "n", "total")
    )
    differ = sorted(
        b
        for b in before.keys() | new.keys() | now.keys()
        if tuple(x + y for x, y in zip(before.get(b, (0, 0)), new.get(b, (0, 0)), strict=True)) != now.get(b, (0, 0))
    )
    deleted: list[int] = []
    unseen: list[int] = []
    for b in differ:
        there = set(Person.objects.filter(pk__gte=b * BUCKET, pk__lt=(b + 1) * BUCKET).values_list("pk", flat=True))
        listed = {
            r[0]
            for r in con.execute(
                f"SELECT person_id FROM {members} WHERE person_id >= ? AND person_id < ?",
                [b * BUCKET, (b + 1) * BUCKET],
            ).fetchall()
        }
        deleted += sorted(listed - there)
        unseen += sorted(there - listed - set(changed.column("person_id").to_pylist()))
    return deleted, unseen, persons


def affected_persons(
    previous: ScreeningRun, as_of: dt.date, rules: Sequence[ItemRule]
) -> tuple[list[int], list[int], int]:
    """(persons to screen, persons deleted since ``previous``, persons in the registry now)."""
    assert previous.facts_at is not None  # noqa: S101 - base_run chose a registry run with an export time
    members = _members(previous)
    assert members is not None  # noqa: S101 - base_run checked
    con = duckdb.connect()
    # One pass over the registry finds both who changed and whose age crossed a threshold. A birthday changes no
    # household fact, but the person is screened with their whole household: their own household facts (size,
    # income per member) are computed from the members screened with them.
    since = previous.facts_at
    birthdays = birthday_crossings(previous.as_of, as_of, age_thresholds(rules, as_of))
    wanted = Q(updated_at__gte=since) | birthdays if birthdays else Q()  # an empty Q is everyone; ORed, nobody
    found = list(Person.objects.filter(wanted).values_list("pk", "household_id", "updated_at"))
    changed = [(pk, household) for pk, household, at in found if at >= since]
    deleted, unseen, persons = _gone(con, members, _ids(pk for pk, _ in changed))
    if unseen:
        changed += list(Person.objects.filter(pk__in=unseen).values_list("pk", "household_id"))
    # Households now and before of everyone who changed or left: their members' household facts may differ.
    con.register("moved", _ids([pk for pk, _ in changed] + deleted))
    households = {h for _, h in changed} | {h for _, h, _ in found}
    households |= {
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT household_id FROM {members} WHERE person_id IN (SELECT person_id FROM moved)"
        ).fetchall()
    }
    # Their members now: the changed persons as the registry has them, everybody else as the export listed them
    # (whoever moved in or out since changed, so is in ``moved``) — read from the export's file, not the table.
    con.register("households", pa.table({"household_id": pa.array(sorted(households), pa.string())}))
    screened = {pk for pk, _ in changed}
    screened.update(
        r[0]
        for r in con.execute(
            f"SELECT m.person_id FROM {members} AS m SEMI JOIN households AS h ON h.household_id = m.household_id "
            "ANTI JOIN moved AS c ON c.person_id = m.person_id"
        ).fetchall()
    )
    return sorted(screened), sorted(deleted), persons


def _rows_of(con: duckdb.DuckDBPyConnection, sql: str, out: Path, manifest: dict[str, Any]) -> Path:
    """A results folder (one part file and ``manifest``) holding the rows of ``sql``: what ``store`` reads."""
    out.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({sql}) TO '{store._quote(out / 'part-00000.parquet')}' (FORMAT PARQUET)")
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return out


def _counts(base: ScreeningRun, before: Path, after: Path) -> store.Counts:
    """The run's counts: ``base``'s, less the replaced persons' answers there (``before``), plus theirs now."""
    old, new = store.count(before), store.count(after)
    totals: dict[tuple[str, str], list[Any]] = {}
    for township, item, eligible, unknown, amount in ScreeningCount.objects.filter(run=base).values_list(
        "township", "item", "eligible", "unknown", "amount"
    ):
        totals[(township, item)] = [eligible, unknown, Decimal(amount)]
    for sign, counts in ((-1, old), (1, new)):
        for township, item, eligible, unknown, amount in counts.townships:
            total = totals.setdefault((township, item), [0, 0, Decimal(0)])
            total[0] += sign * eligible
            total[1] += sign * unknown
            total[2] += sign * amount
    townships = [(t, i, e, u, a) for (t, i), (e, u, a) in sorted(totals.items()) if e or u]
    items: dict[str, dict[str, Any]] = {}
    for _, item, eligible, unknown, amount in townships:
        entry = items.setdefault(item, {"eligible": 0, "unknown": 0, "amount": Decimal(0)})
        entry["eligible"] += eligible
        entry["unknown"] += unknown
        entry["amount"] += amount
    shown = {item: {**c, "amount": str(c["amount"])} for item, c in sorted(items.items())}
    return store.Counts(
        shown, townships, base.persons - old.persons + new.persons, base.result_rows - old.rows + new.rows
    )


def _candidates_differ(previous: Path, before: Path, after: Path, *, served: pa.Table, outreach: list[str]) -> pa.Table:
    """The persons whose candidate rows differ between ``before`` (the rows the previous run reads: its answers
    and who received what then) and ``after`` (their answers now, receiving now): only theirs are stored again.
    Most persons screened again (a household member of someone who changed) keep the same rows."""
    con = duckdb.connect()
    con.register("served_before", layers.served(previous))
    con.register("served_now", served)
    empty = False
    for name, out, receiving in (("old", before, "served_before"), ("new", after, "served_now")):
        batches = list(store.candidates(out, items=outreach, served=con.table(receiving).to_arrow_table()))
        table = pa.Table.from_batches(batches) if batches else None
        if table is None:
            con.execute(f"CREATE TEMP TABLE {name} (person_id BIGINT)")
            empty = True
            continue
        con.register(f"{name}_rows", table)
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_rows")
    columns = ", ".join(store.CANDIDATE_COLUMNS)
    if empty:  # one side has no rows: its persons' rows all differ
        sql = "SELECT person_id FROM old UNION SELECT person_id FROM new"
    else:
        sql = (
            f"(SELECT {columns} FROM old EXCEPT SELECT {columns} FROM new) UNION ALL "
            f"(SELECT {columns} FROM new EXCEPT SELECT {columns} FROM old)"
        )
    return con.sql(f"SELECT DISTINCT person_id FROM ({sql}) ORDER BY person_id").to_arrow_table()


def _claim(run: ScreeningRun, previous: ScreeningRun, *, facts_at: dt.datetime, output: Path) -> bool:
    """Make ``run`` the next generation of ``previous``'s lineage; False if another daily run holds it."""
    try:
        with transaction.atomic():  # a savepoint inside a caller's transaction
            ScreeningRun.objects.filter(pk=run.pk).update(
                incremental=True,
                facts_at=facts_at,
                output=str(output),
                base=previous,
                lineage_id=previous.lineage_id or previous.pk,
                generation=previous.generation + 1,
            )
    except IntegrityError:
        return False
    run.refresh_from_db()
    return True


def screening_registry_incremental(
    *,
    actor: Any,
    as_of: dt.date,
    out_dir: Path | None = None,
    progress: ProgressFn | None = None,
    in_place: bool | None = None,
) -> ScreeningRun:
    """Screen only what changed since the previous registry run; a full run when that is not possible.

    The new run's files read as every person's answers (``layers``: the unchanged persons' are its lineage's
    files, linked); its stored changes are those of the screened and deleted persons. Same permissions,
    directory layout, failure handling and storage as ``screening_registry_run``. Screening in place
    (``in_place``, default the setting ``FUWU_SCREEN_IN_PLACE``) is always a full run: this one exports the
    changed persons' facts.
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

    def full() -> ScreeningRun:
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        return screening_registry_run(actor=actor, as_of=as_of, out_dir=None if created else out_dir)

    try:
        facts_at = timezone.now()
        progress(0, None, gettext_noop("找出有变化的居民"))
        screened_ids, deleted, total = affected_persons(previous, as_of, rules)
        replaced = _ids([*screened_ids, *deleted])
        before_out = Path(previous.output)
        if layers.replaced_count(before_out) + replaced.num_rows > FULL_SHARE * max(total, 1):
            return full()
        population = out_dir / "changed.parquet"
        export_registry(population, only=screened_ids)
        plan = Plan(
            engine="duckdb", as_of=as_of, population=population, out=out_dir / "screened", partitions=1, rules=rules
        )
        run = screening_run_start(plan=plan, actor=actor, population=REGISTRY)
        if not _claim(run, previous, facts_at=facts_at, output=out_dir / "results"):
            logger.warning("another daily run builds on run %s: screening everyone instead", previous.pk)
            screening_registry_abandon(run_id=run.pk, actor=actor)
            run = None
            return full()
        progress(0, 1, gettext_noop("逐项判断是否符合条件"))
        started = timezone.now()
        screening.run(plan, screening.DuckDBEngine(plan), fresh=True)
        screened = plan.out if store.has_results(plan.out) else None
        layers.write(previous=before_out, screened=screened, out=out_dir / "results", replaced=replaced)
        layers.write_members(previous=before_out.parent, export=population, out=out_dir, replaced=replaced)
        # Whose candidate rows are stored again: the replaced persons, and those whose receiving changed.
        served = served_table()
        outreach = _outreach_items()
        touched = _ids(
            [
                *replaced.column("person_id").to_pylist(),
                *layers.served_changed(before_out, served).column("person_id").to_pylist(),
            ]
        )
        con = duckdb.connect()
        con.register("touched", touched)
        con.register("replaced_now", replaced)
        manifest = {
            k: v
            for k, v in json.loads((before_out / MANIFEST).read_text(encoding="utf-8")).items()
            if k != layers.LAYERS
        }
        work = out_dir / "work"
        # The one pass over the previous answers: the touched persons' rows.
        before = _rows_of(
            con,
            layers.without(store.source(before_out), "touched", keep=True),
            work / "before",
            manifest,
        )
        now = [layers.without(f"read_parquet('{store._quote(before / 'part-00000.parquet')}')", "replaced_now")]
        if screened is not None:
            now.append(f"SELECT * FROM {store.source(screened)}")
        after = _rows_of(con, " UNION ALL BY NAME ".join(f"({part})" for part in now), work / "after", manifest)
        layers.served_keep(out_dir / "results", served, outreach)
        counts = _counts(previous, before, after)
        ended = _candidates_differ(before_out, before, after, served=served, outreach=outreach)
        seconds = (timezone.now() - started).total_seconds()
        run = screening_daily_complete(
            run=run,
            base=previous,
            counts=counts,
            before=before,
            after=after,
            ended=ended,
            served=served,
            outreach=outreach,
            seconds=seconds,
            screened=len(screened_ids),
            actor=actor,
            progress=progress,
        )
        # The changed persons' facts in clear go; members-delta.parquet keeps the households.
        population.unlink()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(plan.out, ignore_errors=True)  # the delta holds these answers
        return run
    except BaseException:
        if run is not None:
            screening_registry_abandon(run_id=run.pk, actor=actor)
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
