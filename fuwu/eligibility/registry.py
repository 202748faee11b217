"""Screening the resident registry in place: the registered persons as a population file.

``export_registry`` writes every ``Person`` with the columns and Arrow types of
a generated population (``fuwu.population.generate.schema``), less the name and
identity number, which no rule reads. ``person_id`` is the Person's primary key,
so a screening of the file yields results that point at registry rows. A NULL
fact stays NULL (unknown) in the file; the generated population's nullability
is widened to the model's, since a clerk's sheet may leave any optional fact
empty.

The rows are read in primary-key order through a streaming cursor and written
one row group per batch, so memory does not grow with the registry; the file
appears only when complete (temporary name, then ``os.replace``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from django.db import models

from fuwu.eligibility.facts import BASE_FACTS
from fuwu.eligibility.models import RunStatus, ScreeningRun
from fuwu.population.generate import schema as population_schema
from fuwu.residents.models import Person

REGISTRY = "registry"  # ScreeningRun.population of a run over the registry
BATCH = 20_000
# Columns of a generated population that the registry does not export: nothing screens on them.
NOT_EXPORTED = frozenset({"name", "id_number"})


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


def _table(rows: list[tuple[Any, ...]], schema: Any) -> Any:
    columns = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [pa.array(values, type=f.type) for values, f in zip(columns, schema, strict=True)], schema=schema
    )


def export_registry(path: Path, *, only: Sequence[int] | None = None) -> int:
    """Write every registered person's base facts to ``path`` (Parquet); return the number of persons.

    ``only``: just these Person ids (an incremental run), read ``BATCH`` ids at a time.
    """
    schema = registry_schema()
    names = ["pk" if n == "person_id" else n for n in schema.names]
    missing = {f.name for f in BASE_FACTS} - set(schema.names)
    if missing:  # the population schema and the facts vocabulary must agree; generate.py checks the same
        raise ValueError(f"no population column for base fact(s) {', '.join(sorted(missing))}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    persons = 0
    try:
        with os.fdopen(fd, "wb") as handle, pq.ParquetWriter(handle, schema, compression="zstd") as writer:
            batch: list[tuple[Any, ...]] = []
            for row in _rows(names, only):
                batch.append(row)
                if len(batch) == BATCH:
                    writer.write_table(_table(batch, schema))
                    persons += len(batch)
                    batch = []
            if batch:
                writer.write_table(_table(batch, schema))
                persons += len(batch)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return persons


def _rows(names: list[str], only: Sequence[int] | None) -> Iterator[tuple[Any, ...]]:
    if only is None:
        yield from Person.objects.order_by("pk").values_list(*names).iterator(chunk_size=BATCH)
        return
    ids = sorted(set(only))
    for start in range(0, len(ids), BATCH):
        part = ids[start : start + BATCH]
        yield from Person.objects.filter(pk__in=part).order_by("pk").values_list(*names)


def latest_registry_run() -> ScreeningRun | None:
    """The newest finished screening of the registry (not a what-if draft)."""
    return (
        ScreeningRun.objects.filter(population=REGISTRY, status=RunStatus.COMPLETED, draft=False)
        .order_by("-finished_at")
        .first()
    )
