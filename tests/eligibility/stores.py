"""A screening run made from answers written by hand: its Parquet files as an engine writes them, then stored
through the service every real run goes through (``screening_run_complete``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from fuwu.eligibility.models import RunStatus, ScreeningRun
from fuwu.eligibility.screening import MANIFEST, Outcome
from fuwu.eligibility.services import screening_run_complete

# (person_id, hukou_area, item, status "eligible" | "unknown", amount or None)
Answer = tuple[int, str, str, str, Decimal | None]


def write_results(out: Path, answers: Iterable[Answer], *, rule_version: str = "v") -> Path:
    """One wide part file (a row per person, a status column per item, an amount column where given)."""
    answers = list(answers)
    out.mkdir(parents=True, exist_ok=True)
    items = sorted({a[2] for a in answers})
    with_amount = {a[2] for a in answers if a[4] is not None}
    persons = sorted({(a[0], a[1]) for a in answers})
    by_key = {(a[0], a[2]): a for a in answers}
    columns: dict[str, pa.Array] = {
        "person_id": pa.array([p for p, _ in persons], pa.int64()),
        "hukou_area": pa.array([area for _, area in persons], pa.string()),
    }
    for item in items:
        status = []
        amounts = []
        for person, _ in persons:
            answer = by_key.get((person, item))
            status.append(None if answer and answer[3] == "unknown" else answer is not None)
            amounts.append(answer[4] if answer else None)
        columns[item] = pa.array(status, pa.bool_())
        if item in with_amount:
            columns[f"{item}__amount"] = pa.array(amounts, pa.decimal128(18, 2))
    pq.write_table(pa.table(columns), out / "part-00000.parquet")
    manifest = {"items": {item: {"rule_version": rule_version, "period": "month", "unit": None} for item in items}}
    (out / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return out


def stored_run(
    out: Path, answers: Iterable[Answer], *, population: str = "registry", as_of: dt.date = dt.date(2026, 11, 29)
) -> ScreeningRun:
    """A completed run whose answers are ``answers``, stored as a real run's are."""
    write_results(out, answers)
    run = ScreeningRun.objects.create(
        engine="duckdb", as_of=as_of, population=population, output=str(out), rules_digest="d", status=RunStatus.RUNNING
    )
    return screening_run_complete(run=run, outcome=Outcome(out, 1, 0, 0, 0.0), actor=None, load_results=True)
