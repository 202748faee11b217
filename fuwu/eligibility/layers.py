"""A daily run's answers as layers: its lineage's full answers (hard links), a delta, and whom the delta replaces.

A daily registry run (``incremental.py``) screens only what changed; the answers of everybody else are those
of the run it builds on. Rather than copying them into new files (linear in the population), its results
folder holds (ADR 27):

- ``base-NNNNN.parquet``: hard links to the part files of the full run at the root of its lineage (the same
  inodes: no copy; each link keeps the file while a run that reads it is kept, whatever retention removes);
- ``delta.parquet``: the answers of every person screened again since that full run, the latest for each;
- ``replaced.parquet``: those persons' ids and the ids of persons who left the registry since (cumulative);
- ``manifest.json`` with a ``layers`` entry naming them, written last.

Read through one DuckDB expression (``source``): the base rows less the replaced persons, plus the delta.
The folder beside the results keeps who lives with whom the same way (``members-base.parquet``,
``members-delta.parquet``, less the same replaced persons). Each daily run rewrites the delta and the
replaced list, which grow with what changed since the full run, not with the population; past a share of
the population the next daily run is a full run (``incremental.FULL_SHARE``).

``served.parquet`` and ``candidates.json`` (every registry run) record who received what and which items
had candidates when the run stored them, so that the next daily run can tell whose candidate rows changed
although their answers did not.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]

from fuwu.eligibility.screening import MANIFEST

LAYERS = "layers"  # the manifest's entry
DELTA = "delta.parquet"
REPLACED = "replaced.parquet"
MEMBERS = "members.parquet"  # a full run's (person_id, household_id)
MEMBERS_BASE = "members-base.parquet"
MEMBERS_DELTA = "members-delta.parquet"
SERVED = "served.parquet"
CANDIDATES = "candidates.json"


def _quote(path: Path | str) -> str:
    return str(path).replace("'", "''")


def layers_of(out: Path | str) -> dict[str, Any] | None:
    """The ``layers`` entry of a results folder's manifest; None for an ordinary (full) run's folder."""
    manifest = Path(out) / MANIFEST
    if not manifest.is_file():
        return None
    layers: dict[str, Any] | None = json.loads(manifest.read_text(encoding="utf-8")).get(LAYERS)
    return layers


def without(table: str, ids: str, *, keep: bool = False) -> str:
    """The rows of ``table`` (a DuckDB table expression) whose person is not in ``ids`` (with ``keep``: is)."""
    return f"SELECT t.* FROM {table} AS t {'SEMI' if keep else 'ANTI'} JOIN {ids} AS i ON i.person_id = t.person_id"


def _files(paths: list[Path]) -> str:
    return "[" + ", ".join(f"'{_quote(p)}'" for p in paths) + "]"


def source(out: Path | str) -> str | None:
    """A DuckDB table expression over a layered results folder (the base less the replaced, plus the delta);
    None if the folder is not layered."""
    out = Path(out)
    layers = layers_of(out)
    if layers is None:
        return None
    base = _files([out / name for name in layers["base"]])
    replaced = f"read_parquet('{_quote(out / layers['replaced'])}')"
    kept = without(f"read_parquet({base}, union_by_name = true)", replaced)
    return f"(({kept}) UNION ALL BY NAME (SELECT * FROM read_parquet('{_quote(out / layers['delta'])}')))"


def members_source(folder: Path) -> str | None:
    """(person_id, household_id) of the registry when the run in ``folder`` exported it, as DuckDB reads it."""
    if (folder / MEMBERS).is_file():
        return f"read_parquet('{_quote(folder / MEMBERS)}')"
    if (folder / MEMBERS_BASE).is_file():
        replaced = folder / "results" / REPLACED
        kept = without(f"read_parquet('{_quote(folder / MEMBERS_BASE)}')", f"read_parquet('{_quote(replaced)}')")
        return (
            f"(SELECT person_id, household_id FROM ({kept}) UNION ALL "
            f"SELECT person_id, household_id FROM read_parquet('{_quote(folder / MEMBERS_DELTA)}'))"
        )
    if (folder / "registry.parquet").is_file():
        return f"read_parquet('{_quote(folder / 'registry.parquet')}')"
    return None


def _link(source: Path, target: Path) -> None:
    """A hard link (no copy); a copy where the file system has none (another device)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _copy(con: duckdb.DuckDBPyConnection, sql: str, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    con.execute(f"COPY ({sql}) TO '{_quote(tmp)}' (FORMAT PARQUET, COMPRESSION ZSTD)")
    tmp.replace(target)


def replaced_count(out: Path | str) -> int:
    """Persons a layered folder's delta replaces (0 for a full run's folder)."""
    layers = layers_of(out)
    if layers is None:
        return 0
    path = Path(out) / layers["replaced"]
    return int(duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{_quote(path)}')").fetchone()[0])  # type: ignore[index]


def write(*, previous: Path, screened: Path | None, out: Path, replaced: pa.Table) -> None:
    """``out`` as the layers of ``previous`` (a full run's or a layered results folder) with the persons in
    ``replaced`` (a ``person_id`` column: screened again, or gone) replaced by the rows in ``screened``
    (a run's folder; None if nobody was screened). The manifest comes last: until then the folder has no
    results (``store.has_results``)."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.register("replaced_now", replaced)
    before = layers_of(previous)
    if before is None:
        bases = sorted(previous.glob("part-*.parquet"))
        names = [f"base-{k:05d}.parquet" for k in range(len(bases))]
    else:
        bases = [previous / name for name in before["base"]]
        names = list(before["base"])
    for path, name in zip(bases, names, strict=True):
        _link(path, out / name)
    schema = f"SELECT * FROM read_parquet({_files(bases)}, union_by_name = true) LIMIT 0"
    parts = [schema]
    cumulative = ["SELECT person_id FROM replaced_now"]
    if before is not None:
        delta = _quote(previous / before["delta"])
        parts.append(without(f"read_parquet('{delta}')", "replaced_now"))
        cumulative.append(f"SELECT person_id FROM read_parquet('{_quote(previous / before['replaced'])}')")
    if screened is not None:
        parts.append(f"SELECT * FROM read_parquet('{_quote(screened)}/part-*.parquet', union_by_name = true)")
    union = " UNION ALL BY NAME ".join(f"({part})" for part in parts)
    _copy(con, f"SELECT * FROM ({union}) ORDER BY person_id", out / DELTA)
    _copy(con, f"SELECT DISTINCT person_id FROM ({' UNION ALL '.join(cumulative)}) ORDER BY person_id", out / REPLACED)
    manifest = json.loads((previous / MANIFEST).read_text(encoding="utf-8"))
    manifest.update(
        {"partitions": 0, "done": [], LAYERS: {"base": names, "delta": DELTA, "replaced": REPLACED}},
    )
    tmp = out / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(out / MANIFEST)


def write_members(*, previous: Path, export: Path, out: Path, replaced: pa.Table) -> None:
    """Who lives with whom, for the next daily run: ``previous``'s folder's members (its full run's, hard
    linked, and its delta) with the replaced persons' rows those of ``export`` (the screened persons' facts)."""
    con = duckdb.connect()
    con.register("replaced_now", replaced)
    if (previous / MEMBERS).is_file():
        _link(previous / MEMBERS, out / MEMBERS_BASE)
        earlier = f"SELECT person_id, household_id FROM read_parquet('{_quote(previous / MEMBERS)}') LIMIT 0"
    elif (previous / MEMBERS_BASE).is_file():
        _link(previous / MEMBERS_BASE, out / MEMBERS_BASE)
        earlier = without(f"read_parquet('{_quote(previous / MEMBERS_DELTA)}')", "replaced_now")
    else:  # a full run killed before it kept its members alone: read them from its export, once
        whole = members_source(previous)
        if whole is None:
            raise FileNotFoundError(f"no {MEMBERS}, {MEMBERS_BASE} or registry.parquet in {previous}")
        _copy(con, f"SELECT person_id, household_id FROM {whole} ORDER BY person_id", out / MEMBERS_BASE)
        earlier = f"SELECT person_id, household_id FROM read_parquet('{_quote(out / MEMBERS_BASE)}') LIMIT 0"
    _copy(
        con,
        f"SELECT * FROM (({earlier}) UNION ALL (SELECT person_id, household_id FROM read_parquet('{_quote(export)}'))) "
        "ORDER BY person_id",
        out / MEMBERS_DELTA,
    )


def served_keep(out: Path, served: pa.Table, items: list[str]) -> None:
    """Who received what, and which items had candidates, when the run in ``out`` stored its candidates."""
    con = duckdb.connect()
    con.register("served_now", served)
    _copy(con, "SELECT person_id, item FROM served_now ORDER BY person_id, item", out / SERVED)
    tmp = out / f".{CANDIDATES}.tmp"
    tmp.write_text(json.dumps({"items": sorted(items)}, ensure_ascii=False), encoding="utf-8")
    tmp.replace(out / CANDIDATES)


def candidate_items(out: Path) -> list[str] | None:
    """The items a run listed candidates for (``served_keep``); None if it did not record them."""
    path = out / CANDIDATES
    if not path.is_file() or not (out / SERVED).is_file():
        return None
    items: list[str] = json.loads(path.read_text(encoding="utf-8"))["items"]
    return items


def served_changed(out: Path, served: pa.Table) -> pa.Table:
    """Persons whose receiving changed (began or stopped, for any item) since the run in ``out`` stored."""
    con = duckdb.connect()
    con.register("served_now", served)
    before = f"read_parquet('{_quote(out / SERVED)}')"
    return con.sql(
        f"SELECT DISTINCT person_id FROM ((SELECT person_id, item FROM {before} EXCEPT "
        "SELECT person_id, item FROM served_now) UNION ALL (SELECT person_id, item FROM served_now EXCEPT "
        f"SELECT person_id, item FROM {before})) ORDER BY person_id"
    ).to_arrow_table()


def served(out: Path) -> pa.Table:
    """Who received what when the run in ``out`` stored its candidates (``served_keep``)."""
    return duckdb.connect().sql(f"SELECT person_id, item FROM read_parquet('{_quote(out / SERVED)}')").to_arrow_table()
