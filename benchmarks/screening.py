"""Screening benchmark: every rule over Taizhou's 6.6 million residents.

    python -m benchmarks.screening [--persons 6622888] [--seed 1] [--sample 20000] [--skip-spark]

Measures, each in its own process so peak memory is its own:

* DuckDB end to end (read the Parquet population, screen, write Parquet) — target ≤ 30 s;
* a baseline in the same run: DuckDB reading the population and writing it back
  unchanged (pure I/O), so the screening cost reads as a ratio to the machine;
* the same rules one resident at a time in Python (``explain``) on a sample,
  scaled to the population — target: DuckDB ≥ 100× faster;
* Spark in local mode (``local[2]``);
* peak resident memory of each.

Rules are the ones in ``standards/`` (every item with a rule), read from the files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 29)


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fuwu.settings")
    import django

    django.setup()


def _rules() -> list[Any]:
    from fuwu.eligibility.ruleset import rules_from_document
    from fuwu.standards.parsing import parse_many

    rules = []
    for parsed in parse_many([ROOT / "standards"]):
        rules += rules_from_document(parsed.document, version=1, content_hash=parsed.content_hash)
    return rules


# --- measurements, each run in a child process -----------------------------------------


def peak_mb(pid: int | str = "self") -> float:
    """Peak resident memory (VmHWM) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children_peak_mb() -> float:
    """The largest peak among this process's live children (Spark's JVM)."""
    peaks = [0.0]
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                peaks.append(peak_mb(pid))
            except OSError:
                continue
    return max(peaks)


def measure_duckdb(population: Path, out: Path, threads: int) -> dict[str, Any]:
    from fuwu.eligibility import screening

    rules = _rules()
    plan = screening.Plan(engine="duckdb", as_of=AS_OF, population=population, out=out, partitions=4, rules=rules)
    started = time.perf_counter()
    outcome = screening.run(plan, screening.DuckDBEngine(plan, threads=threads), fresh=True)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "persons": outcome.rows, "rules": len(rules)}


def measure_io(population: Path, out: Path, threads: int) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{population}')) TO '{out / 'copy.parquet'}' (FORMAT PARQUET, COMPRESSION ZSTD)"
    )
    return {"seconds": time.perf_counter() - started}


def measure_python(population: Path, sample: int) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from fuwu.eligibility.explain import explain

    rules = _rules()
    table = pq.read_table(population)
    total = table.num_rows
    # Whole households from the start of the file, so household facts are right.
    rows = table.slice(0, sample).to_pylist()
    households: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        households[row["household_id"]].append(row)
    started = time.perf_counter()
    for row in rows:
        explain(row, rules=rules, as_of=AS_OF, household=households[row["household_id"]])
    seconds = time.perf_counter() - started
    return {"seconds_sample": seconds, "sample": len(rows), "scaled_seconds": seconds / len(rows) * total}


def measure_spark(population: Path, out: Path) -> dict[str, Any]:
    from fuwu.eligibility import screening

    rules = _rules()
    plan = screening.Plan(engine="spark", as_of=AS_OF, population=population, out=out, partitions=4, rules=rules)
    started = time.perf_counter()
    engine = screening.SparkEngine(plan, master="local[2]")
    startup = time.perf_counter() - started
    outcome = screening.run(plan, engine, fresh=True)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "startup_seconds": startup, "persons": outcome.rows, "jvm_peak_mb": children_peak_mb()}


MEASURES = {"duckdb": measure_duckdb, "io": measure_io, "python": measure_python, "spark": measure_spark}


def child(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; add its peak memory."""
    code = (
        "import json, sys, resource; from benchmarks import screening as b; b._setup_django(); "
        f"r = b.MEASURES[{name!r}](**{{k: (b.Path(v) if k in ('population', 'out') else v) for k, v in json.loads(sys.argv[1]).items()}}); "
        "r['peak_mb'] = b.peak_mb(); print(json.dumps(r))"
    )
    env = {**os.environ, "FUWU_VAR_DIR": os.environ.get("FUWU_VAR_DIR", str(ROOT / "var" / "bench"))}
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(kwargs, default=str)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{result.stderr[-3000:]}")
    measured: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def ensure_population(path: Path, persons: int, seed: int) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "fuwu",
            "population",
            "generate",
            "--size",
            str(persons),
            "--seed",
            str(seed),
            "--out",
            str(path),
            "--quiet",
        ],
        cwd=ROOT,
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--persons", type=int, default=6_622_888)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    population = args.work / f"population-{args.persons}-{args.seed}.parquet"
    ensure_population(population, args.persons, args.seed)
    results: dict[str, Any] = {"persons": args.persons, "as_of": AS_OF.isoformat(), "threads": args.threads}
    results["io"] = child("io", {"population": population, "out": args.work / "io", "threads": args.threads})
    results["duckdb"] = child(
        "duckdb", {"population": population, "out": args.work / "duckdb", "threads": args.threads}
    )
    results["python"] = child("python", {"population": population, "sample": args.sample})
    if not args.skip_spark:
        results["spark"] = child("spark", {"population": population, "out": args.work / "spark"})

    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    duck = results["duckdb"]["seconds"]
    py = results["python"]["scaled_seconds"]
    print(
        f"Screening {args.persons:,} residents × {results['duckdb']['rules']} rules, as of {AS_OF}, "
        f"{args.threads} threads\n"
    )
    print("| Measurement | Time (s) | Ratio | Peak memory (MB) |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| Baseline: DuckDB copies the population (read + write, no rules) | {results['io']['seconds']:.1f} | 1.0× | {results['io']['peak_mb']:.0f} |"
    )
    print(
        f"| DuckDB screening, end to end (read, screen, write {results['duckdb']['persons']:,} person rows) | {duck:.1f} | "
        f"{duck / results['io']['seconds']:.1f}× baseline | {results['duckdb']['peak_mb']:.0f} |"
    )
    print(
        f"| Python, one resident at a time ({results['python']['sample']:,} sampled, scaled) | {py:.0f} | "
        f"DuckDB is {py / duck:.0f}× faster | {results['python']['peak_mb']:.0f} |"
    )
    if "spark" in results:
        s = results["spark"]
        print(
            f"| Spark local[2], end to end (of which JVM start {s['startup_seconds']:.0f} s) | {s['seconds']:.1f} | "
            f"{s['seconds'] / duck:.1f}× DuckDB | {s['peak_mb']:.0f} Python + {s['jvm_peak_mb']:.0f} JVM |"
        )


if __name__ == "__main__":
    main()
