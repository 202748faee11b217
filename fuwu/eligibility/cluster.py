"""Screening the registry on a Spark cluster: fuwu writes the plan, spark-submit screens, fuwu stores.

1. ``registry_spark_plan`` exports the registry partitioned by county (facts only: no names, no
   identity numbers) and writes a plan: the rules compiled to Spark SQL, one query per partition of
   persons, with the as-of day and the input and output folders.
2. ``spark-submit fuwu/eligibility/spark_submit.py PLAN.json`` screens it on whatever master it is
   given and writes the result layout of ``screening.run`` (no Django, no database there).
3. ``screening_registry_store`` checks that the output is this plan's and complete, records the run
   (``population="registry"``, engine ``spark``) and stores what people act on with
   ``screening_run_complete``, as a run screened here would be; then the export is deleted, keeping
   who lives with whom for the next daily run (``store.members_keep``).

docs/spark.md describes running it against a standalone cluster.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings
from django.utils import timezone

from fuwu.common.audit import audit_persons_read
from fuwu.eligibility import inplace, screening, spark_submit, store
from fuwu.eligibility.engines import households_sql
from fuwu.eligibility.models import RunStatus, ScreeningRun
from fuwu.eligibility.registry import COUNTY, REGISTRY, export_registry_by_county
from fuwu.eligibility.screening import Outcome, Plan, rules_digest
from fuwu.eligibility.services import (
    REGISTRY_PARTITION_PERSONS,
    registry_rules_for,
    screening_run_complete,
    screening_run_start,
)

ENGINE = "spark"


@dataclass(frozen=True)
class SparkPlan:
    path: Path
    persons: int
    counties: int
    partitions: int
    out: Path


def _plan(document: dict[str, Any], rules: Any) -> Plan:
    return Plan(
        engine=ENGINE,
        as_of=dt.date.fromisoformat(document["as_of"]),
        population=Path(document["population"]),
        out=Path(document["out"]),
        partitions=len(document["partitions"]),
        rules=rules,
    )


def registry_spark_plan(
    *, actor: Any, as_of: dt.date, plan_path: Path, out_dir: Path | None = None, partitions: int | None = None
) -> SparkPlan:
    """Export the registry by county into ``out_dir`` and write the plan for spark-submit to ``plan_path``.

    ``out_dir`` (default: a new time-stamped folder under ``VAR_DIR/registry-screens``) gets
    ``registry/`` (the export) and later ``results/``; on a cluster it must be on storage the
    driver, every executor and this machine see at the same path. ``partitions``: of persons, each
    screened by one query into one file (default: one per 200,000 persons, at most 16).
    """
    inplace.wanted(False)  # a deployment that keeps the facts in the database refuses the export
    rules = registry_rules_for(actor)
    if partitions is not None and partitions < 1:
        raise screening.ScreeningError("--partitions must be at least 1")
    if out_dir is None:
        out_dir = Path(settings.VAR_DIR) / "registry-screens" / timezone.localtime().strftime("%Y%m%d-%H%M%S-%f")
    out_dir = out_dir.resolve()
    results = out_dir / "results"
    if (results / screening.MANIFEST).exists():
        raise screening.ScreeningError(f"{out_dir} already holds a screening's results: choose another --out")
    facts_at = timezone.now()  # a fact changed after this may be missing from the export
    population = out_dir / "registry"
    persons = export_registry_by_county(population)
    if persons == 0:
        raise screening.ScreeningError("the registry holds nobody: import residents first (fuwu residents import)")
    plan = Plan(
        engine=ENGINE,
        as_of=as_of,
        population=population,
        out=results,
        partitions=partitions or max(1, min(16, -(-persons // REGISTRY_PARTITION_PERSONS))),
        rules=rules,
    )
    bounds = (
        duckdb.connect()
        .execute(f"SELECT min(person_id), max(person_id) FROM {screening.parquet_source(population)}")  # noqa: S608 - our path
        .fetchone()
    )
    low, high = bounds or (0, 0)
    counties = sum(1 for p in population.iterdir() if p.name.startswith(f"{COUNTY}="))
    queries = [
        plan.partition_sql(
            source="population", households="households", dialect="spark", where=f"person_id BETWEEN {a} AND {b}"
        )
        for a, b in plan.ranges(int(low), int(high))
    ]
    document = {
        "format": spark_submit.PLAN_FORMAT,
        "as_of": as_of.isoformat(),
        "population": str(population),
        "out": str(results),
        "persons": persons,
        "facts_at": facts_at.isoformat(),
        "households_sql": households_sql("population", as_of=as_of, dialect="spark"),
        "partitions": queries,
        "manifest": plan.manifest(),
    }
    plan_path = plan_path.resolve()
    plan_path.parent.mkdir(parents=True, exist_ok=True)
    plan_path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    # Every person's facts are now in a folder a cluster will read: on the record, with where.
    audit_persons_read(
        actor=actor,
        purpose="registry export for a Spark cluster",
        count=persons,
        exported=True,
        details={"folder": str(population), "plan": str(plan_path), "as_of": as_of.isoformat()},
    )
    return SparkPlan(path=plan_path, persons=persons, counties=counties, partitions=plan.partitions, out=results)


def screening_registry_store(*, actor: Any, plan_path: Path) -> ScreeningRun:
    """Store the results spark-submit wrote for the plan at ``plan_path``, as a completed registry run.

    Refused with a clear message when the output is not complete, is another screening's, or the
    rules in force changed since the plan was written. Killed on the way, nothing half-stored is shown
    (``screening_run_complete`` shows the run only once complete) and the same call completes the run.
    """
    try:
        document = spark_submit.load_plan(plan_path)
    except spark_submit.PlanError as exc:
        raise screening.ScreeningError(str(exc)) from exc
    rules = registry_rules_for(actor)
    plan = _plan(document, rules)
    if rules_digest(rules) != document["manifest"]["rules_digest"]:
        raise screening.ScreeningError(
            "the rules in force changed since the plan was written: write a new plan and run spark-submit again"
        )
    stored = ScreeningRun.objects.filter(output=str(plan.out), status=RunStatus.COMPLETED).first()
    if stored is not None:
        raise screening.ScreeningError(f"{plan.out} is already stored as run {stored.pk}")
    try:
        done = spark_submit.finished(document)
    except spark_submit.PlanError as exc:
        raise screening.ScreeningError(str(exc)) from exc
    if done is None or len(done) < plan.partitions:
        raise screening.ScreeningError(
            f"{plan.out}: {len(done or ())} of {plan.partitions} partitions screened; run spark-submit on "
            f"{plan_path} (again: it resumes) and store the results when it has finished"
        )
    info_path = plan.out / spark_submit.RUN_INFO
    info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.exists() else {}
    run = screening_run_start(plan=plan, actor=actor, population=REGISTRY)
    run.facts_at = dt.datetime.fromisoformat(document["facts_at"])
    ScreeningRun.objects.filter(pk=run.pk).update(facts_at=run.facts_at)
    outcome = Outcome(plan.out, plan.partitions, 0, 0, float(info.get("seconds", 0.0)))
    run = screening_run_complete(run=run, outcome=outcome, actor=actor, load_results=True)
    if plan.population.exists():  # the export's facts go; who lives with whom stays for the daily run
        store.members_keep(plan.population, plan.out.parent / "members.parquet")
    return run
