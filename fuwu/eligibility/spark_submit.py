"""Screening on a Spark cluster: the entry point ``spark-submit`` runs, with no Django and no database.

    spark-submit --master spark://HOST:7077 fuwu/eligibility/spark_submit.py PLAN.json

``PLAN.json`` is written by ``fuwu screen --registry --engine spark --plan-only PLAN.json``
(``fuwu.eligibility.cluster``): the as-of day, the folder of the registry export partitioned by
county (``county=331002/part-0.parquet``), the output folder, the household query and one compiled
Spark SQL query per partition of persons, and the manifest the output must carry. This file needs
nothing but the standard library and pyspark, so the driver can run wherever spark-submit does; the
executors run SQL only (no Python code is shipped to them).

The output has the layout ``fuwu.eligibility.screening.run`` writes (``part-NNNNN.parquet``, one
file per partition, renamed into place when complete, and ``manifest.json`` listing the finished
ones), so a killed submission resumes where it stopped, and ``fuwu screen --store-results PLAN.json``
stores what people act on. ``spark.json`` beside them records the master and the seconds the
submissions took. Input and output must be at the same path for the driver and every executor
(shared storage such as an NFS mount: the driver renames files there).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PLAN_FORMAT = "fuwu-spark-plan/1"
MANIFEST = "manifest.json"  # as fuwu.eligibility.screening.MANIFEST
RUN_INFO = "spark.json"


class PlanError(Exception):
    pass


def configure(builder: Any) -> Any:
    """The session settings every fuwu screening on Spark uses (in-process engine and spark-submit alike)."""
    return (
        builder.appName("fuwu-screening")
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        .config("spark.ui.showConsoleProgress", "false")
        # Parquet decimals and timestamps as other engines write them.
        .config("spark.sql.parquet.writeLegacyFormat", "false")
        # county=331002 stays a code (text), not the number 331002.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    )


def write_one_file(frame: Any, path: Path) -> None:
    """Write a DataFrame as the single Parquet file ``path``: one task, its part file renamed to ``path``."""
    target = path.with_name(path.name + ".spark")
    frame.coalesce(1).write.mode("overwrite").parquet(str(target))
    [part] = sorted(target.glob("part-*.parquet"))
    os.replace(part, path)
    shutil.rmtree(target, ignore_errors=True)


def load_plan(path: Path) -> dict[str, Any]:
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PlanError(
            f"{path}: cannot read the plan ({exc}); write it with: "
            f"fuwu screen --registry --engine spark --plan-only {path}"
        ) from exc
    if not isinstance(plan, dict) or plan.get("format") != PLAN_FORMAT:
        raise PlanError(f"{path} is not a fuwu Spark plan ({PLAN_FORMAT}); write it with fuwu screen --plan-only")
    missing = [k for k in ("as_of", "population", "out", "households_sql", "partitions", "manifest") if k not in plan]
    if missing:
        raise PlanError(f"{path}: the plan lacks {', '.join(missing)}; write it again with fuwu screen --plan-only")
    return plan


def _write_json(path: Path, data: dict[str, Any]) -> None:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, indent=2, ensure_ascii=False))
    os.replace(name, path)


def finished(plan: dict[str, Any]) -> set[int] | None:
    """The partitions the output already holds for this plan; None if it holds nothing yet."""
    manifest = Path(plan["out"]) / MANIFEST
    if not manifest.exists():
        return None
    existing = json.loads(manifest.read_text(encoding="utf-8"))
    if {k: v for k, v in existing.items() if k != "done"} != plan["manifest"]:
        raise PlanError(
            f"{plan['out']} holds a different screening (other rules, date, population or partitions); "
            "write the plan with another --out, or pass --fresh to start over"
        )
    return set(existing.get("done", []))


def run(spark: Any, plan: dict[str, Any], *, fresh: bool = False, log: Any = None) -> int:
    """Screen every partition of ``plan`` not yet finished; return how many were screened now."""
    started = time.perf_counter()
    out = Path(plan["out"])
    out.mkdir(parents=True, exist_ok=True)
    queries: list[str] = plan["partitions"]
    previous = None if fresh else finished(plan)
    done = previous or set()
    if previous is None:
        for stale in out.glob("part-*.parquet"):
            stale.unlink()
        _write_json(out / MANIFEST, {**plan["manifest"], "done": []})
    todo = [k for k in range(len(queries)) if k not in done]
    if todo:
        spark.read.parquet(plan["population"]).createOrReplaceTempView("population")
        spark.sql(plan["households_sql"]).cache().createOrReplaceTempView("households")
        for k in todo:
            final = out / f"part-{k:05d}.parquet"
            tmp = out / f".{final.name}.tmp"
            write_one_file(spark.sql(queries[k]), tmp)
            os.replace(tmp, final)
            done.add(k)
            _write_json(out / MANIFEST, {**plan["manifest"], "done": sorted(done)})
            (log or _say)(f"partition {k + 1}/{len(queries)} screened")
    # The seconds of every submission on this output (a resumed one adds to those before it).
    info = out / RUN_INFO
    before = json.loads(info.read_text(encoding="utf-8")).get("seconds", 0.0) if previous and info.exists() else 0.0
    _write_json(
        info,
        {
            "master": spark.sparkContext.master,
            "seconds": round(before + time.perf_counter() - started, 3),
            "screened_now": len(todo),
        },
    )
    return len(todo)


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"} or len(argv) > 2 or (len(argv) == 2 and argv[1] != "--fresh"):
        sys.stderr.write("usage: spark-submit [--master URL] fuwu/eligibility/spark_submit.py PLAN.json [--fresh]\n")
        return 2
    fresh = len(argv) == 2
    try:
        plan = load_plan(Path(argv[0]))
        if not fresh:
            finished(plan)  # a clear message before a session starts
    except PlanError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    from pyspark.sql import SparkSession

    spark = configure(SparkSession.builder).getOrCreate()  # the master is spark-submit's --master
    try:
        screened = run(spark, plan, fresh=fresh)
    finally:
        spark.stop()
    _say(f"{screened} partitions screened → {plan['out']}; store them with: fuwu screen --store-results {argv[0]}")
    return 0


if __name__ == "__main__":
    # Run as a script, its own folder comes first on sys.path, where fuwu's selectors.py would hide the
    # standard library's selectors (which pyspark's sockets import). The program needs nothing from there.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.exit(main(sys.argv[1:]))
