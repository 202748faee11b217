"""Whole-population screening: every rule over every resident, crash-safe, on DuckDB, PostgreSQL or Spark.

The population is split into partitions by ranges of ``person_id`` (so an
engine can skip the row groups of other partitions). Each partition is
screened by one query and written to ``part-NNNNN.parquet``
through a temporary file and an atomic rename; ``manifest.json`` records the
partitions that are finished. Killed mid-run, the same command resumes after
the last finished partition, and because each partition's output is sorted
and deterministic, the result is identical to an uninterrupted run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from fuwu.eligibility.engines import (
    column,
    households_sql,
    result_columns,
    rule_version,
    screening_sql,
)
from fuwu.eligibility.facts import BASE_FACTS, FactType
from fuwu.eligibility.ruleset import ItemRule

MANIFEST = "manifest.json"
# The long form, one row per (person, item) that is eligible or unknown: what
# consumers read (``read_results``). The files themselves are wide (engines.screening_sql).
RESULT_SCHEMA = pa.schema(
    [
        ("person_id", pa.int64()),
        ("hukou_area", pa.string()),
        ("item", pa.string()),
        ("rule_version", pa.string()),
        ("status", pa.string()),
        ("amount", pa.decimal128(18, 2)),
        ("units", pa.decimal128(18, 2)),
    ]
)


class ScreeningError(Exception):
    pass


def rules_digest(rules: Sequence[ItemRule]) -> str:
    return hashlib.sha256("\n".join(sorted(rule_version(r) + r.item for r in rules)).encode()).hexdigest()


def population_fingerprint(path: Path) -> str:
    """Identifies the input by its size and Parquet footer (schema, row groups, column statistics).

    A folder (partitioned by county): by every Parquet file's path in it and fingerprint.
    """
    if path.is_dir():
        files = sorted(path.rglob("*.parquet"))
        return hashlib.sha256(
            "\n".join(f"{f.relative_to(path)} {population_fingerprint(f)}" for f in files).encode()
        ).hexdigest()
    with path.open("rb") as f:
        f.seek(-8, os.SEEK_END)
        footer_length = int.from_bytes(f.read(4), "little")
        f.seek(-8 - footer_length, os.SEEK_END)
        footer = f.read(footer_length)
    return hashlib.sha256(path.stat().st_size.to_bytes(8, "little") + footer).hexdigest()


@dataclass(frozen=True)
class Plan:
    engine: str
    as_of: dt.date
    population: Path
    out: Path
    partitions: int
    rules: Sequence[ItemRule]

    def manifest(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "as_of": self.as_of.isoformat(),
            "population": str(self.population),
            "population_fingerprint": population_fingerprint(self.population),
            "rules_digest": rules_digest(self.rules),
            "partitions": self.partitions,
            "items": {
                r.item: {"rule_version": rule_version(r), "period": r.period, "unit": r.unit} for r in self.rules
            },
        }

    def wide_schema(self) -> pa.Schema:
        fields = [pa.field("person_id", pa.int64()), pa.field("hukou_area", pa.string())]
        for name, kind in result_columns(self.rules, self.as_of):
            fields.append(pa.field(name, pa.bool_() if kind == "status" else pa.decimal128(18, 2)))
        return pa.schema(fields)

    def partition_sql(self, *, source: str, households: str, dialect: str, where: str) -> str:
        """The screening query for one range of persons, against precomputed household facts."""
        return screening_sql(
            self.rules, source=source, as_of=self.as_of, dialect=dialect, where=where, households=households
        )

    def ranges(self, low: int, high: int) -> list[tuple[int, int]]:
        """Equal ranges of person_id covering [low, high], one per partition."""
        width = max(1, -(-(high - low + 1) // self.partitions))
        return [(low + k * width, low + (k + 1) * width - 1) for k in range(self.partitions)]


class Engine(Protocol):
    """Screens one range of persons and writes their wide rows, sorted by person, to a Parquet file."""

    def prepare(self) -> tuple[int, int]:
        """Set up; return the lowest and highest person_id."""
        ...

    def screen_partition(self, where: str, path: Path) -> int: ...
    def close(self) -> None: ...


def _where(bounds: tuple[int, int]) -> str:
    return f"person_id BETWEEN {bounds[0]} AND {bounds[1]}"


class DuckDBEngine:
    def __init__(self, plan: Plan, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        import duckdb

        self.plan = plan
        self.con = duckdb.connect()
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        self.con.execute("SET preserve_insertion_order = false")

    def prepare(self) -> tuple[int, int]:
        source = parquet_source(self.plan.population)
        self.con.execute(f"CREATE VIEW population AS SELECT * FROM {source}")
        # Household facts once for the whole run; each partition joins to them.
        self.con.execute(
            "CREATE TEMP TABLE households AS " + households_sql("population", as_of=self.plan.as_of, dialect="duckdb")
        )
        low, high = self.con.execute("SELECT min(person_id), max(person_id) FROM population").fetchone() or (0, 0)
        return int(low or 0), int(high or 0)

    def screen_partition(self, where: str, path: Path) -> int:
        sql = self.plan.partition_sql(source="population", households="households", dialect="duckdb", where=where)
        self.con.execute(f"COPY ({sql}) TO '{_quote(path)}' (FORMAT PARQUET, COMPRESSION ZSTD)")
        return int(pq.ParquetFile(path).metadata.num_rows)

    def close(self) -> None:
        self.con.close()


class PostgresEngine:
    """Runs the same query inside PostgreSQL, on the population loaded into a table there."""

    TABLE = "fuwu_screening_population"
    HOUSEHOLDS = "fuwu_screening_households"

    def __init__(self, plan: Plan, *, dsn: str) -> None:
        import psycopg

        self.plan = plan
        self.conn = psycopg.connect(dsn, autocommit=True)

    def prepare(self) -> tuple[int, int]:
        load_parquet_into_postgres(self.conn, self.plan.population, self.TABLE)
        with self.conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {self.HOUSEHOLDS}")
            cur.execute(
                f"CREATE UNLOGGED TABLE {self.HOUSEHOLDS} AS "
                + households_sql(self.TABLE, as_of=self.plan.as_of, dialect="postgres")
            )
            cur.execute(f"CREATE INDEX ON {self.HOUSEHOLDS} (household_id)")
            cur.execute(f"ANALYZE {self.HOUSEHOLDS}")
            cur.execute(f"SELECT min(person_id), max(person_id) FROM {self.TABLE}")
            low, high = cur.fetchone() or (0, 0)
        return int(low or 0), int(high or 0)

    def screen_partition(self, where: str, path: Path) -> int:
        sql = self.plan.partition_sql(source=self.TABLE, households=self.HOUSEHOLDS, dialect="postgres", where=where)
        schema = self.plan.wide_schema()
        rows = 0
        # A server-side cursor streams the rows; it lives inside a transaction.
        with (
            self.conn.transaction(),
            self.conn.cursor(name="screen") as cur,
            pq.ParquetWriter(path, schema, compression="zstd") as w,
        ):
            cur.itersize = 20_000
            cur.execute(sql)
            while batch := cur.fetchmany(20_000):
                columns = list(zip(*batch, strict=True))
                w.write_table(pa.table(dict(zip(schema.names, columns, strict=True)), schema=schema))
                rows += len(batch)
        return rows

    def close(self) -> None:
        with self.conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {self.HOUSEHOLDS}")
        self.conn.close()


PG_TYPES = {
    FactType.BOOLEAN: "boolean",
    FactType.INTEGER: "integer",
    FactType.DECIMAL: "numeric(14, 2)",
    FactType.DATE: "date",
    FactType.TEXT: "text",
    FactType.AREA: "text",
}


def load_parquet_into_postgres(conn: Any, path: Path, table: str) -> None:
    """Copy the population's columns into an UNLOGGED table with COPY, batch by batch."""
    columns = [("person_id", "bigint"), ("household_id", "text")] + [
        (f.name, PG_TYPES[f.type]) for f in BASE_FACTS if f.name != "household_id"
    ]
    names = [c for c, _ in columns]
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE UNLOGGED TABLE {table} ({', '.join(f'{c} {t}' for c, t in columns)})")
        parquet = pq.ParquetFile(path)
        with cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            for batch in parquet.iter_batches(batch_size=100_000, columns=names):
                for row in zip(*(batch.column(n).to_pylist() for n in names), strict=True):
                    copy.write_row(row)
        cur.execute(f"CREATE INDEX ON {table} (household_id)")
        cur.execute(f"ANALYZE {table}")


class SparkEngine:
    """Spark inside this process; ``population`` a Parquet file or a folder partitioned by county.

    For a cluster, ``fuwu.eligibility.spark_submit`` runs the same queries under spark-submit.
    """

    def __init__(self, plan: Plan, *, master: str) -> None:
        from pyspark.sql import SparkSession

        from fuwu.eligibility.spark_submit import configure

        self.plan = plan
        self.spark = (
            configure(SparkSession.builder.master(master))
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.driver.memory", os.environ.get("FUWU_SPARK_DRIVER_MEMORY", "2g"))
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")

    def prepare(self) -> tuple[int, int]:
        self.spark.read.parquet(str(self.plan.population)).createOrReplaceTempView("population")
        households = self.spark.sql(households_sql("population", as_of=self.plan.as_of, dialect="spark"))
        households.cache().createOrReplaceTempView("households")
        low, high = self.spark.sql("SELECT min(person_id), max(person_id) FROM population").collect()[0]
        return int(low or 0), int(high or 0)

    def screen_partition(self, where: str, path: Path) -> int:
        sql = self.plan.partition_sql(source="population", households="households", dialect="spark", where=where)
        # Spark writes the partition itself: collecting it into this process would
        # defeat the point of Spark. One task, so one part file, renamed into place.
        from fuwu.eligibility.spark_submit import write_one_file

        write_one_file(self.spark.sql(sql), path)
        return int(pq.ParquetFile(path).metadata.num_rows)

    def close(self) -> None:
        self.spark.catalog.dropTempView("households")


def parquet_source(path: Path) -> str:
    """DuckDB's reader of a population: one Parquet file, or a folder partitioned by county (Hive style)."""
    if path.is_dir():
        return f"read_parquet('{_quote(path)}/**/*.parquet', hive_partitioning = true)"
    return f"read_parquet('{_quote(path)}')"


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


@contextmanager
def _atomic_file(final: Path) -> Iterator[Path]:
    fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
    os.close(fd)
    os.unlink(name)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with _atomic_file(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


@dataclass(frozen=True)
class Outcome:
    out: Path
    partitions_run: int
    partitions_skipped: int
    rows: int
    seconds: float


def run(
    plan: Plan,
    engine: Engine,
    *,
    progress: Callable[[int, int], None] | None = None,
    fresh: bool = False,
) -> Outcome:
    """Screen every partition not yet finished; resumable and idempotent."""
    started = time.perf_counter()
    plan.out.mkdir(parents=True, exist_ok=True)
    manifest_path = plan.out / MANIFEST
    wanted = plan.manifest()
    if manifest_path.exists() and not fresh:
        existing = json.loads(manifest_path.read_text(encoding="utf-8"))
        if {k: v for k, v in existing.items() if k != "done"} != wanted:
            raise ScreeningError(
                f"{plan.out} holds a different screening (other rules, date, population or partitions); "
                "choose another --out or pass --fresh to start over"
            )
        done = set(existing.get("done", []))
    else:
        for stale in plan.out.glob("part-*.parquet"):
            stale.unlink()
        done = set()
        _write_json(manifest_path, {**wanted, "done": []})
    todo = [k for k in range(plan.partitions) if k not in done]
    rows = 0
    if todo:
        ranges = plan.ranges(*engine.prepare())
        try:
            for k in todo:
                final = plan.out / f"part-{k:05d}.parquet"
                with _atomic_file(final) as tmp:
                    rows += engine.screen_partition(_where(ranges[k]), tmp)
                done.add(k)
                _write_json(manifest_path, {**wanted, "done": sorted(done)})
                if progress:
                    progress(len(done), plan.partitions)
        finally:
            engine.close()
    return Outcome(plan.out, len(todo), plan.partitions - len(todo), rows, time.perf_counter() - started)


def read_results(out: Path) -> pa.Table:
    """The long form of a finished screening: one row per (person, item) eligible or unknown.

    Sorted by person, then item. Built from the wide files by DuckDB, reading
    each item's columns only.
    """
    import duckdb

    from fuwu.eligibility import layers

    parts = sorted(out.glob("part-*.parquet"))
    layered = layers.source(out)  # a daily run's folder (ADR 27)
    if not parts and layered is None:
        return RESULT_SCHEMA.empty_table()
    items = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["items"]
    con = duckdb.connect()
    files = layered or "read_parquet([" + ", ".join(f"'{_quote(p)}'" for p in parts) + "])"
    names = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {files}").fetchall()}
    branches = []
    for item, info in items.items():
        status = column(item, "duckdb")
        levels = [
            column(f"{item}__{level}", "duckdb") if f"{item}__{level}" in names else "CAST(NULL AS DECIMAL(18, 2))"
            for level in ("amount", "units")
        ]
        branches.append(
            f"SELECT person_id, hukou_area, '{item}' AS item, '{info['rule_version']}' AS rule_version, "
            f"CASE WHEN {status} THEN 'eligible' ELSE 'unknown' END AS status, "
            f"{levels[0]} AS amount, {levels[1]} AS units "
            f"FROM {files} WHERE {status} OR {status} IS NULL"
        )
    table = con.sql(" UNION ALL ".join(branches) + " ORDER BY person_id, item").to_arrow_table()
    return table.cast(RESULT_SCHEMA)


def clear(out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
