"""Screening the resident registry in place: the registered persons as a population file.

``export_registry`` writes every ``Person`` with the columns and Arrow types of
a generated population (``fuwu.population.generate.schema``), less the name and
identity number, which no rule reads. ``person_id`` is the Person's primary key,
so a screening of the file yields results that point at registry rows. A NULL
fact stays NULL (unknown) in the file; the generated population's nullability
is widened to the model's, since a clerk's sheet may leave any optional fact
empty.

The rows are read in primary-key order through a streaming cursor (a
server-side one on PostgreSQL) with plain SQL, not model instances, turned
into Arrow a column at a time and written one row group per batch, so memory
does not grow with the registry; the file appears only when complete
(temporary name, then ``os.replace``). Only the fact columns are selected: the
encrypted columns (identity number, contacts) and the name are never read,
so nothing is decrypted for a screening.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pa_csv  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from django.db import connection, models

from fuwu.eligibility.facts import BASE_FACTS
from fuwu.eligibility.models import RunStatus, ScreeningRun
from fuwu.population.generate import schema as population_schema
from fuwu.residents.models import Person

REGISTRY = "registry"  # ScreeningRun.population of a run over the registry
BATCH = 20_000
COPY_BLOCK = 4 << 20  # bytes of CSV per Arrow batch of a PostgreSQL export (about 30,000 persons)
# Columns of a generated population that the registry does not export: nothing screens on them.
NOT_EXPORTED = frozenset({"name", "id_number"})
COUNTY = "county"  # the partition column of an export by county: the first digits of hukou_area
COUNTY_DIGITS = 6
NO_COUNTY = "__HIVE_DEFAULT_PARTITION__"  # Spark's and DuckDB's name for a NULL partition value


def _model_field(column: str) -> str:
    # household_id is the foreign key's column; the field is ``household``.
    return "household" if column == "household_id" else column


def registry_schema() -> Any:
    """The generated population's schema without name and identity number, nullable where the model is."""
    fields = []
    for f in population_schema():
        if f.name in NOT_EXPORTED:
            continue
        field = None if f.name == "person_id" else Person._meta.get_field(_model_field(f.name))
        nullable = isinstance(field, models.Field) and field.null
        fields.append(pa.field(f.name, f.type, nullable=nullable))
    return pa.schema(fields)


def _array(values: Sequence[Any], type_: Any, sqlite: bool) -> Any:
    # On SQLite ``_select`` reads dates and decimals as text and booleans as 0/1; Arrow converts a column at once.
    if sqlite and _as_text(type_):
        return pa.array(values, pa.string()).cast(type_)
    if sqlite and pa.types.is_boolean(type_):
        return pa.array(values, pa.int8()).cast(type_)
    return pa.array(values, type=type_)


def _as_text(type_: Any) -> bool:
    return bool(pa.types.is_date(type_) or pa.types.is_decimal(type_))


def _sqlite_column(name: str, type_: Any) -> str:
    # No declared type on a CAST: SQLite hands back the stored text or 0/1 without a converter per value.
    if _as_text(type_):
        return f"CAST({name} AS TEXT)"
    if pa.types.is_boolean(type_):
        return f"CAST({name} AS INTEGER)"
    return name


def _table(rows: list[tuple[Any, ...]], schema: Any, sqlite: bool = False) -> Any:
    columns = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [_array(values, f.type, sqlite) for values, f in zip(columns, schema, strict=True)], schema=schema
    )


def _export_schema() -> Any:
    schema = registry_schema()
    missing = {f.name for f in BASE_FACTS} - set(schema.names)
    if missing:  # the population schema and the facts vocabulary must agree; generate.py checks the same
        raise ValueError(f"no population column for base fact(s) {', '.join(sorted(missing))}")
    return schema


def _tables(schema: Any, only: Sequence[int] | None) -> Iterator[Any]:
    if connection.vendor == "postgresql":
        if only is None:
            yield from _copied_tables(schema)
            return
        # A daily run's persons: ``BATCH`` ids a ``COPY``, as the whole registry is read (a Python object per
        # value took most of the export's time).
        ids = sorted(set(only))
        for start in range(0, len(ids), BATCH):
            yield from _copied_tables(schema, ids[start : start + BATCH])
        return
    sqlite = connection.vendor == "sqlite"
    for batch in _batches(schema, only):
        yield _table(batch, schema, sqlite)


class _CopyStream(io.RawIOBase):
    """A ``COPY … TO STDOUT`` read as a file, for Arrow's CSV reader (psycopg's connection is thread-safe: Arrow
    may read ahead from a thread of its own)."""

    def __init__(self, copy: Any) -> None:
        super().__init__()
        self.copy = copy
        self.pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            data = self.copy.read()
            if not data:
                return 0
            self.pending = memoryview(bytes(data))
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


def _copied_tables(schema: Any, only: Sequence[int] | None = None) -> Iterator[Any]:
    """PostgreSQL: the rows in primary-key order as CSV (``COPY … TO STDOUT``), parsed into Arrow by Arrow a block
    (``COPY_BLOCK`` bytes) at a time — no Python object per value — and handed on ``BATCH`` rows at a time, as
    the other path does. A NULL is an empty unquoted field, an empty text an empty quoted one; booleans are t/f.
    ``only``: just these ids (written into the statement as integers: ``COPY`` takes no parameters)."""
    pk = connection.ops.quote_name(Person._meta.pk.column)
    where = f" WHERE {pk} = ANY('{{{','.join(str(int(i)) for i in only)}}}'::bigint[])" if only is not None else ""
    read = pa_csv.ReadOptions(column_names=schema.names, block_size=COPY_BLOCK)
    parse = pa_csv.ParseOptions(newlines_in_values=True)
    convert = pa_csv.ConvertOptions(
        column_types=schema,
        true_values=["t"],
        false_values=["f"],
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    waiting: list[Any] = []
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY ({_select(schema)}{where} ORDER BY {pk}) TO STDOUT (FORMAT csv)") as copy,
    ):
        stream = io.BufferedReader(_CopyStream(copy), COPY_BLOCK)
        if not stream.peek(1):  # no person: Arrow refuses an empty CSV
            return
        for batch in pa_csv.open_csv(stream, read, parse, convert):
            waiting.append(pa.Table.from_batches([batch]).cast(schema))
            while sum(t.num_rows for t in waiting) >= BATCH:
                rows = pa.concat_tables(waiting)
                yield rows.slice(0, BATCH)
                waiting = [rows.slice(BATCH)]
    if sum(t.num_rows for t in waiting):
        yield pa.concat_tables(waiting)


def export_registry(path: Path, *, only: Sequence[int] | None = None) -> int:
    """Write every registered person's base facts to ``path`` (Parquet); return the number of persons.

    ``only``: just these Person ids (an incremental run), read ``BATCH`` ids at a time.
    """
    schema = _export_schema()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    persons = 0
    try:
        with os.fdopen(fd, "wb") as handle, pq.ParquetWriter(handle, schema, compression="zstd") as writer:
            for table in _tables(schema, only):
                writer.write_table(table)
                persons += table.num_rows
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return persons


def export_registry_by_county(folder: Path) -> int:
    """The export of ``export_registry``, as a folder partitioned by county; return the number of persons.

    Streamed like it, a batch at a time, with no one-file export in between.

    Hive style, as Spark and DuckDB read it: ``county=331002/part-0.parquet`` holds the persons whose
    hukou_area starts with 331002 (``county=__HIVE_DEFAULT_PARTITION__`` those with no hukou area),
    with the export's columns (the county is the folder's name, not a column in the files). Written
    beside ``folder`` and renamed into place when complete; an existing ``folder`` is replaced.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    schema = _export_schema()
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    persons = 0
    # Written here, in the thread that reads the database (Arrow's dataset writer would read the rows from
    # a thread of its own, which SQLite refuses). Each county's rows wait until they make a row group.
    writers: dict[str, Any] = {}
    waiting: dict[str, list[Any]] = {}

    def flush(county: str) -> None:
        if county not in writers:
            (work / f"{COUNTY}={county}").mkdir()
            writers[county] = pq.ParquetWriter(
                work / f"{COUNTY}={county}" / "part-0.parquet", schema, compression="zstd"
            )
        writers[county].write_table(pa.concat_tables(waiting.pop(county)))

    try:
        for table in _tables(schema, None):
            persons += table.num_rows
            counties = pc.utf8_slice_codeunits(table.column("hukou_area"), 0, COUNTY_DIGITS)
            for value in pc.unique(counties).to_pylist():
                county = value or NO_COUNTY
                if not county.isalnum() and county != NO_COUNTY:  # an area code; never a path
                    raise ValueError(f"hukou_area {value!r} does not start with a county code")
                rows = table.filter(pc.equal(counties, value) if value is not None else pc.is_null(counties))
                waiting.setdefault(county, []).append(rows)
                if sum(t.num_rows for t in waiting[county]) >= BATCH:
                    flush(county)
        for county in list(waiting):
            flush(county)
        if persons == 0:  # an empty registry: one empty file, so readers see the columns
            waiting[NO_COUNTY] = [schema.empty_table()]
            flush(NO_COUNTY)
        for writer in writers.values():
            writer.close()
        writers.clear()
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(work, folder)
    finally:
        for writer in writers.values():
            writer.close()
        shutil.rmtree(work, ignore_errors=True)
    return persons


def _select(schema: Any) -> str:
    """SELECT of the schema's columns from the Person table, in its order (SQLite: see ``_sqlite_column``)."""
    quote = connection.ops.quote_name
    columns = []
    for f in schema:
        field = Person._meta.pk if f.name == "person_id" else Person._meta.get_field(_model_field(f.name))
        if not isinstance(field, models.Field) or not field.column:  # the schema names a model field; never here
            raise ValueError(f"no Person column for population column {f.name}")
        name = quote(field.column)
        columns.append(_sqlite_column(name, f.type) if connection.vendor == "sqlite" else name)
    return f"SELECT {', '.join(columns)} FROM {quote(Person._meta.db_table)}"  # noqa: S608 - the model's names


def _batches(schema: Any, only: Sequence[int] | None) -> Iterator[list[tuple[Any, ...]]]:
    """The rows, ``BATCH`` at a time, in primary-key order."""
    pk = connection.ops.quote_name(Person._meta.pk.column)
    if only is None:
        with connection.chunked_cursor() as cursor:
            cursor.execute(f"{_select(schema)} ORDER BY {pk}")
            while rows := cursor.fetchmany(BATCH):
                yield rows
        return
    ids = sorted(set(only))
    with connection.cursor() as cursor:
        for start in range(0, len(ids), BATCH):
            part = ids[start : start + BATCH]
            cursor.execute(f"{_select(schema)} WHERE {pk} IN ({', '.join(['%s'] * len(part))}) ORDER BY {pk}", part)
            if rows := cursor.fetchall():
                yield rows


def latest_registry_run() -> ScreeningRun | None:
    """The newest finished screening of the registry (not a what-if draft)."""
    return (
        ScreeningRun.objects.filter(population=REGISTRY, status=RunStatus.COMPLETED, draft=False)
        .order_by("-finished_at")
        .first()
    )
