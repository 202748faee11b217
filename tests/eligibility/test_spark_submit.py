"""The registry beyond one machine: exported by county, screened by ``spark-submit``, stored by fuwu.

Real ``spark-submit`` on the entry point, against the DuckDB engine's answers on the same registry: in
local mode (``--master local[2]``), and against a Spark standalone cluster — a master and a worker
started here as their own JVMs (``spark-class …Master`` / ``…Worker``, the processes ``start-master.sh``
and ``start-worker.sh`` launch), so the executors are the worker's, not the driver's.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.dataset as pds
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from fuwu.eligibility import screening, spark_submit
from fuwu.eligibility.models import RunStatus, ScreeningCount, ScreeningRun
from fuwu.eligibility.registry import export_registry
from fuwu.eligibility.selectors import rules_in_force
from fuwu.eligibility.services import screening_registry_run
from fuwu.residents.models import Person
from tests.eligibility.test_engines import RULES, differences, engine_answers
from tests.jobs.conftest import populate

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 11, 29)
PERSONS = 300


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    return Path(settings.VAR_DIR)


def write_plan(tmp_path: Path, *extra: str) -> tuple[Path, Path]:
    plan, out = tmp_path / "plan.json", tmp_path / "screen"
    call_command(
        "screen", "--registry", "--engine", "spark", "--as-of", AS_OF.isoformat(),
        "--plan-only", str(plan), "--out", str(out), *extra, stdout=io.StringIO(),
    )  # fmt: skip
    return plan, out


def answers(out: Path) -> dict[tuple[int, str], tuple[Any, ...]]:
    return {
        (r["person_id"], r["item"]): (r["status"], r["amount"], r["units"])
        for r in screening.read_results(out).to_pylist()
    }


def test_the_plan_exports_facts_by_county_and_nothing_is_stored_before_spark_ran(
    var_dir: Path, tmp_path: Path, settings: Any
) -> None:
    populate(tmp_path, PERSONS)
    plan_path, _ = write_plan(tmp_path, "--partitions", "3")
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    assert plan["format"] == spark_submit.PLAN_FORMAT
    assert len(plan["partitions"]) == 3
    assert plan["as_of"] == AS_OF.isoformat()
    folder = Path(plan["population"])
    counties = sorted(p.name for p in folder.iterdir())
    assert len(counties) > 1, "the generated registry spans several counties"
    for name in counties:
        county = name.removeprefix("county=")
        assert len(county) == 6, name
        assert county.isdigit(), name
        for part in (folder / name).glob("*.parquet"):
            table = pq.read_table(part)
            assert {"name", "id_number", "county"}.isdisjoint(table.column_names)  # facts only
            assert all(area.startswith(county) for area in table.column("hukou_area").to_pylist())
    whole = pds.dataset(folder, partitioning="hive").to_table()
    assert sorted(whole.column("person_id").to_pylist()) == sorted(Person.objects.values_list("pk", flat=True))

    # DuckDB reads the folder as it reads the one-file export: the same answers.
    single = export_registry(tmp_path / "registry.parquet")
    assert single == PERSONS
    assert engine_answers("duckdb", folder, tmp_path / "by-county", RULES, AS_OF) == engine_answers(
        "duckdb", tmp_path / "registry.parquet", tmp_path / "one-file", RULES, AS_OF
    )

    with pytest.raises(CommandError, match=r"0 of 3 partitions screened; run spark-submit"):
        call_command("screen", "--store-results", str(plan_path))
    assert not ScreeningRun.objects.exists()
    with pytest.raises(CommandError, match=r"--plan-only PLAN.json"):
        call_command("screen", "--registry", "--engine", "spark", "--as-of", AS_OF.isoformat())
    settings.FUWU_SCREEN_IN_PLACE = True  # facts must not leave the database: no export for a cluster either
    with pytest.raises(CommandError, match=r"in place only"):
        write_plan(tmp_path / "refused")
    with pytest.raises(CommandError, match=r"use it with --registry --engine spark"):
        call_command("screen", "--registry", "--plan-only", str(tmp_path / "p.json"))
    (tmp_path / "other.json").write_text("{}", encoding="utf-8")
    with pytest.raises(CommandError, match=r"not a fuwu Spark plan"):
        call_command("screen", "--store-results", str(tmp_path / "other.json"))


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def spark_env() -> dict[str, str]:
    # No Django settings and no database for Spark's programs: they must need neither.
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}}
    env.update(
        {"SPARK_HOME": str(spark_home()), "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    )
    return env


def spark_submit_run(
    plan: Path, tmp_path: Path, master: str = "local[2]", *options: str
) -> subprocess.CompletedProcess[str]:
    command = [
        str(spark_home() / "bin" / "spark-submit"),
        "--master", master,
        "--driver-memory", "1g",
        "--conf", "spark.ui.enabled=false",
        *options,
        str(Path(spark_submit.__file__).resolve()),
        str(plan),
    ]  # fmt: skip
    return subprocess.run(  # noqa: S603 - pyspark's own script
        command, env=spark_env(), cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="the cluster step never touches fuwu's database and storing is the path every suite tests: "
    "its JVM runs once, in the SQLite suite (CI runs both suites within half an hour)",
)
def test_spark_submit_screens_the_county_export_like_duckdb_and_fuwu_stores_it(var_dir: Path, tmp_path: Path) -> None:
    populate(tmp_path, PERSONS)
    plan, out = write_plan(tmp_path, "--partitions", "3")
    result = spark_submit_run(plan, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "3 partitions screened" in result.stdout
    results = out / "results"
    assert sorted(p.name for p in results.glob("part-*.parquet")) == [f"part-{k:05d}.parquet" for k in range(3)]
    first = json.loads((results / spark_submit.RUN_INFO).read_text(encoding="utf-8"))
    assert first["master"] == "local[2]"
    assert first["screened_now"] == 3

    # The same registry through the DuckDB engine, from the one-file export.
    single = export_registry(tmp_path / "registry.parquet")
    rules = rules_in_force()  # what the plan was compiled from (RULES adds the test standards)
    want = engine_answers("duckdb", tmp_path / "registry.parquet", tmp_path / "duckdb", rules, AS_OF)
    got = answers(results)
    assert single == PERSONS
    assert want, "the generated registry has entitlements"
    assert got == want, differences(want, got)

    # The in-process engine reads the folder too.
    in_process = engine_answers("spark", out / "registry", tmp_path / "in-process", rules, AS_OF)
    assert in_process == want, differences(want, in_process)

    # Submitted again: everything is done, nothing is screened twice.
    again = spark_submit_run(plan, tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "0 partitions screened" in again.stdout
    info = json.loads((results / spark_submit.RUN_INFO).read_text(encoding="utf-8"))
    assert info["screened_now"] == 0
    assert info["seconds"] > 1  # the first submission's time is kept

    call_command("screen", "--store-results", str(plan), stdout=io.StringIO())
    run = ScreeningRun.objects.get()
    assert (run.engine, run.population, run.status, run.as_of) == ("spark", "registry", RunStatus.COMPLETED, AS_OF)
    assert run.facts_at is not None
    assert run.seconds == info["seconds"]
    assert not (out / "registry").exists(), "the export's facts are deleted once stored"
    assert (out / "members.parquet").exists()
    with pytest.raises(CommandError, match=r"already stored as run"):
        call_command("screen", "--store-results", str(plan))

    # What is stored equals a registry run screened here with DuckDB.
    duckdb_run = screening_registry_run(actor=None, as_of=AS_OF)
    assert answers(Path(duckdb_run.output)) == got

    def counts(r: ScreeningRun) -> set[tuple[Any, ...]]:
        return set(
            ScreeningCount.objects.filter(run=r).values_list("township", "item", "eligible", "unknown", "amount")
        )

    assert counts(run) == counts(duckdb_run)
    assert counts(run)
    assert (run.persons, run.result_rows, run.counts) == (duckdb_run.persons, duckdb_run.result_rows, duckdb_run.counts)


def test_the_entry_point_refuses_a_bad_plan_or_another_screenings_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert spark_submit.main([]) == 2
    assert spark_submit.main([str(tmp_path / "missing.json")]) == 2
    assert "cannot read the plan" in capsys.readouterr().err
    out = tmp_path / "results"
    out.mkdir()
    (out / spark_submit.MANIFEST).write_text(json.dumps({"rules_digest": "other", "done": [0]}), encoding="utf-8")
    plan = {
        "format": spark_submit.PLAN_FORMAT,
        "as_of": AS_OF.isoformat(),
        "population": str(tmp_path / "registry"),
        "out": str(out),
        "households_sql": "SELECT 1",
        "partitions": ["SELECT 1"],
        "manifest": {"rules_digest": "mine"},
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    assert spark_submit.main([str(tmp_path / "plan.json")]) == 2  # before any Spark session starts
    assert "holds a different screening" in capsys.readouterr().err
    plan["manifest"] = {"rules_digest": "other"}
    assert spark_submit.finished(plan) == {0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def standalone_cluster(tmp_path: Path) -> Iterator[str]:
    """A Spark standalone cluster on this machine: one master and one worker, each its own JVM."""
    spark_class = str(spark_home() / "bin" / "spark-class")
    port, ui = free_port(), free_port()
    master = f"spark://127.0.0.1:{port}"
    logs = tmp_path / "cluster"
    logs.mkdir()
    daemons = []
    try:
        for name, args in (
            ("master", ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
                        "--webui-port", str(ui)]),
            ("worker", ["org.apache.spark.deploy.worker.Worker", master, "--host", "127.0.0.1", "--cores", "2",
                        "--memory", "1g", "--webui-port", str(free_port()), "--work-dir", str(logs / "work")]),
        ):  # fmt: skip
            with (logs / f"{name}.log").open("wb") as log:
                daemons.append(subprocess.Popen([spark_class, *args], env=spark_env(), stdout=log, stderr=log))  # noqa: S603
        deadline = time.monotonic() + 120
        while True:  # the master's own status page lists the worker once it has registered
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=5) as response:
                    if json.load(response).get("aliveworkers", 0) >= 1:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or any(d.poll() is not None for d in daemons):
                pytest.fail("the standalone cluster did not start:\n" + "\n".join(
                    (logs / f"{n}.log").read_text(errors="replace")[-2000:] for n in ("master", "worker")))  # fmt: skip
            time.sleep(0.5)
        yield master
    finally:
        for daemon in daemons:
            daemon.terminate()
        for daemon in daemons:
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="its JVMs run once, in the SQLite suite, like the local-mode test above",
)
def test_spark_submit_to_a_standalone_cluster_screens_on_its_worker_like_duckdb(
    var_dir: Path, tmp_path: Path, standalone_cluster: str
) -> None:
    populate(tmp_path, PERSONS)
    plan, out = write_plan(tmp_path, "--partitions", "2")
    result = spark_submit_run(
        plan, tmp_path, standalone_cluster, "--executor-memory", "512m", "--total-executor-cores", "2"
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "2 partitions screened" in result.stdout
    info = json.loads((out / "results" / spark_submit.RUN_INFO).read_text(encoding="utf-8"))
    assert info["master"] == standalone_cluster

    # The work ran in the worker's executor, not in the driver: the worker kept the application's folder.
    assert list((tmp_path / "cluster" / "work").glob("app-*/0")), "no executor ran on the worker"

    single = tmp_path / "registry.parquet"
    export_registry(single)
    want = engine_answers("duckdb", single, tmp_path / "duckdb", rules_in_force(), AS_OF)
    assert want, "the generated registry has entitlements"
    got = answers(out / "results")
    assert got == want, differences(want, got)

    call_command("screen", "--store-results", str(plan), stdout=io.StringIO())
    run = ScreeningRun.objects.get()
    assert (run.engine, run.status) == ("spark", RunStatus.COMPLETED)
    assert run.persons == PERSONS
