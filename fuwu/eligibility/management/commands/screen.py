"""``fuwu screen``: every rule over every resident, in one pass."""

from __future__ import annotations

import datetime as dt
import os
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from tqdm import tqdm

from fuwu.common.readiness import NeedsStandards
from fuwu.eligibility import screening, spark_submit
from fuwu.eligibility.incremental import screening_registry_incremental
from fuwu.eligibility.selectors import completed_run, rules_in_force
from fuwu.eligibility.services import screening_registry_run, screening_run_complete, screening_run_start


def postgres_dsn() -> str:
    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        dsn = os.environ.get("FUWU_SCREEN_POSTGRES")
        if not dsn:
            raise CommandError(
                "--engine postgres needs PostgreSQL: set DATABASE_URL to a PostgreSQL database, "
                "or FUWU_SCREEN_POSTGRES to a connection string for the screening work"
            )
        return dsn
    parts = {
        "host": db.get("HOST") or "localhost",
        "port": db.get("PORT") or 5432,
        "dbname": db["NAME"],
        "user": db.get("USER") or "",
        "password": db.get("PASSWORD") or "",
    }
    return " ".join(f"{key}={value}" for key, value in parts.items() if value != "")


class Command(NeedsStandards):
    help = "Screen a population against every rule in force; resumable; results to Parquet and the database."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--engine", choices=["duckdb", "postgres", "spark"], default="duckdb")
        parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument(
            "--population",
            type=Path,
            help="Parquet file of the population (duckdb, spark: or a folder of them, e.g. partitioned by county)",
        )
        source.add_argument(
            "--registry",
            action="store_true",
            help="Screen the registered residents (DuckDB; results by Person id; --out optional; "
            "with --engine spark, --plan-only writes a plan for spark-submit instead)",
        )
        source.add_argument(
            "--store-results",
            type=Path,
            metavar="PLAN",
            help="Store the results spark-submit wrote for this plan as a registry run (docs/spark.md)",
        )
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="With --registry: screen only persons whose facts changed or whose age crossed a rule's "
            "threshold since the previous registry run (a full run if there is none)",
        )
        parser.add_argument(
            "--in-place",
            action="store_true",
            default=None,
            help="With --registry: screen in PostgreSQL over the facts view, exporting nothing (the default "
            "when FUWU_SCREEN_IN_PLACE is on; --incremental then screens everyone)",
        )
        parser.add_argument(
            "--plan-only",
            type=Path,
            metavar="PLAN",
            help="With --registry --engine spark: export the registry partitioned by county and write the plan "
            "(JSON) that spark-submit runs with fuwu/eligibility/spark_submit.py; screen nothing here",
        )
        parser.add_argument("--out", type=Path, help="Output directory (Parquet partitions)")
        parser.add_argument(
            "--partitions", type=int, default=None, help="Partitions of persons (default 16; the registry: by its size)"
        )
        parser.add_argument("--spark-master", default="local[2]")
        parser.add_argument("--fresh", action="store_true", help="Start over instead of resuming")
        parser.add_argument("--no-db", action="store_true", help="Write Parquet only, not the result rows")
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.utils import timezone

        if options["store_results"]:
            self._store(options)
            return
        if options["registry"] and options["engine"] == "spark":
            self._spark_plan(options)
            return
        if options["plan_only"]:
            raise CommandError("--plan-only writes a plan for spark-submit: use it with --registry --engine spark")
        if options["registry"]:
            self._registry(options)
            return
        if options["incremental"] or options["in_place"]:
            raise CommandError("--incremental and --in-place screen the registry: add --registry")
        if options["out"] is None:
            raise CommandError("--out is required with --population")
        population: Path = options["population"]
        if population.is_dir() and options["engine"] == "postgres":
            raise CommandError(
                f"{population} is a folder: the postgres engine reads one Parquet file (duckdb and spark read both)"
            )
        if not population.exists():
            raise CommandError(f"population file not found: {population}")
        partitions = 16 if options["partitions"] is None else options["partitions"]
        if partitions < 1:
            raise CommandError("--partitions must be at least 1")
        rules = rules_in_force()
        if not rules:
            raise CommandError("no rules in force: load the standards first (fuwu standards load standards/)")
        plan = screening.Plan(
            engine=options["engine"],
            as_of=options["as_of"] or timezone.localdate(),
            population=population.resolve(),
            out=options["out"].resolve(),
            partitions=partitions,
            rules=rules,
        )
        done = completed_run(plan)
        if done is not None and not options["fresh"]:
            self.stdout.write(f"run {done.pk} already screened this population with these rules on {plan.as_of}")
            return
        engine: screening.Engine
        if plan.engine == "duckdb":
            engine = screening.DuckDBEngine(plan)
        elif plan.engine == "postgres":
            engine = screening.PostgresEngine(plan, dsn=postgres_dsn())
        else:
            engine = screening.SparkEngine(plan, master=options["spark_master"])
        run = screening_run_start(plan=plan, actor=None)
        bar = tqdm(
            total=plan.partitions, unit="partition", file=sys.stderr, disable=options["quiet"] or None, desc="screening"
        )

        def progress(done: int, total: int) -> None:
            bar.n = done
            bar.refresh()

        try:
            outcome = screening.run(plan, engine, progress=progress, fresh=options["fresh"])
        except screening.ScreeningError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        run = screening_run_complete(run=run, outcome=outcome, actor=None, load_results=not options["no_db"])
        self.stdout.write(
            f"run {run.pk}: {len(rules)} rules, {run.persons} persons with a result, "
            f"{outcome.partitions_run} partitions screened, {outcome.partitions_skipped} resumed, "
            f"{outcome.seconds:.1f}s → {plan.out}"
        )

    def _registry(self, options: dict[str, Any]) -> None:
        from django.utils import timezone

        if options["engine"] != "duckdb" or options["no_db"]:
            raise CommandError(
                "--registry screens with DuckDB and loads the results: drop --engine and --no-db "
                "(or, for a Spark cluster, --engine spark --plan-only PLAN.json)"
            )
        screen = screening_registry_incremental if options["incremental"] else screening_registry_run
        try:
            run = screen(
                actor=None,
                as_of=options["as_of"] or timezone.localdate(),
                out_dir=options["out"],
                in_place=options["in_place"],
            )
        except screening.ScreeningError as exc:
            raise CommandError(str(exc)) from exc
        kind = f"incremental, {run.screened} persons screened" if run.incremental else "full"
        self.stdout.write(
            f"run {run.pk}: registry screened on {run.as_of} ({kind}), {run.persons} persons with a result, "
            f"{run.changes.count()} entitlement changes, {run.stored_rows} rows stored → {run.output}"
        )

    def _spark_plan(self, options: dict[str, Any]) -> None:
        from django.utils import timezone

        from fuwu.eligibility.cluster import registry_spark_plan

        if not options["plan_only"]:
            raise CommandError(
                "--registry --engine spark runs on a cluster: add --plan-only PLAN.json, run spark-submit on it, "
                "then fuwu screen --store-results PLAN.json (docs/spark.md)"
            )
        if options["incremental"] or options["in_place"] or options["no_db"] or options["fresh"]:
            raise CommandError("--plan-only takes --as-of, --out and --partitions only")
        try:
            written = registry_spark_plan(
                actor=None,
                as_of=options["as_of"] or timezone.localdate(),
                plan_path=options["plan_only"],
                out_dir=options["out"],
                partitions=options["partitions"],
            )
        except screening.ScreeningError as exc:
            raise CommandError(str(exc)) from exc
        entry = Path(spark_submit.__file__).resolve()
        self.stdout.write(
            f"plan {written.path}: {written.persons} persons in {written.counties} counties, "
            f"{written.partitions} partitions → {written.out}\n"
            f"next: spark-submit --master spark://HOST:7077 {entry} {written.path}\n"
            f"then: fuwu screen --store-results {written.path}"
        )

    def _store(self, options: dict[str, Any]) -> None:
        from fuwu.eligibility.cluster import screening_registry_store

        try:
            run = screening_registry_store(actor=None, plan_path=options["store_results"])
        except screening.ScreeningError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"run {run.pk}: registry screened on {run.as_of} (spark), {run.persons} persons with a result, "
            f"{run.changes.count()} entitlement changes, {run.stored_rows} rows stored → {run.output}"
        )
