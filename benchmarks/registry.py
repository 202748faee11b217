"""City-scale screening, end to end: what officials wait for, against the engine alone in the same run.

    python -m benchmarks.registry [--persons 200000] [--changed 0.01] [--json result.json] [--no-in-place] \
        [--import-only [--workers N] [--pipeline | --no-pipeline]] [--registry-loaded]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/fuwu_registry_bench python -m benchmarks.registry

Generates ``--persons`` residents (``fuwu population generate``), then, in a fresh database (a temporary
SQLite file, or the empty PostgreSQL database ``BENCH_DATABASE_URL`` names; with ``--registry-loaded``, one
that already holds the same file's registry, and step 3 is left out):

1. **engine alone** — DuckDB screens the population file into Parquet (``fuwu.eligibility.screening.run``,
   what ``benchmarks.screening`` times as "DuckDB screening, end to end"): the baseline;
2. ``fuwu screen --population`` — the command: the engine, then counting and storing what people act on;
3. ``fuwu residents load-parquet`` — the registry import;
4. ``fuwu screen --registry`` — export, engine, storing;
5. ``fuwu screen --registry --incremental`` the next day, after ``--changed`` of the persons had a fact
   changed (their ``updated_at`` bumped, as a save does);
6. on PostgreSQL only, ``fuwu screen --registry --in-place`` (ADR 18: the PostgreSQL engine over the facts
   view, no export, answers in a table): the next day, compared with step 5's files (loaded into the
   database), and the day after, compared with the previous in-place run's table, as a deployment that
   screens only in place runs every day (``--no-in-place`` leaves these out: at 6.6 million they take about
   45 minutes).

Each command is timed in this process (Django started once). The report gives every time as a ratio to the
engine alone, and the database growth of each run: rows written to the database against the results' row
count (eligible or unknown (person, item) answers).

Each step also reports the **longest write transaction** of this process (from ``BEGIN`` to its commit or
rollback, or a write statement on its own in autocommit: on SQLite, how long it held the one write lock) and,
on SQLite, the **longest wait of another process's one-row write**: a probe process (``--no-probe`` to leave
it out) commits one row in a table of its own every 50 ms through the whole run, as an officer's request
would, and each wait for the lock is recorded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
DAY0 = dt.date(2026, 11, 29)
DAY1 = dt.date(2026, 11, 30)
DAY2 = dt.date(2026, 12, 1)


def timed(fn: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, value


class LockWatch:
    """The longest write transaction of this process's connection, per step: from the end of ``BEGIN`` (on
    SQLite ``BEGIN IMMEDIATE`` holds the write lock from there) to the end of its commit or rollback; a write
    statement in autocommit counts on its own."""

    WRITES = ("INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "COPY", "REPLACE")

    def __init__(self) -> None:
        self.begun: float | None = None
        self.longest = 0.0
        self.transactions = 0

    def install(self) -> None:
        from django.db import connection

        connection.execute_wrappers.append(self)
        for name in ("_commit", "_rollback"):
            real = getattr(connection, name)

            def ended(real: Any = real) -> Any:
                try:
                    return real()
                finally:
                    self._close()

            setattr(connection, name, ended)

    def _close(self) -> None:
        if self.begun is not None:
            self.longest = max(self.longest, time.perf_counter() - self.begun)
            self.transactions += 1
            self.begun = None

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            text = sql.lstrip().upper()
            if text.startswith("BEGIN"):
                self.begun = time.perf_counter()
            elif self.begun is None and context["connection"].get_autocommit() and text.startswith(self.WRITES):
                self.longest = max(self.longest, time.perf_counter() - started)
                self.transactions += 1

    def take(self) -> tuple[float, int]:
        longest, count = self.longest, self.transactions
        self.longest, self.transactions = 0.0, 0
        return longest, count


PROBE = """
import json, sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], timeout=600, isolation_level=None)
con.execute("CREATE TABLE IF NOT EXISTS bench_lock_probe (at REAL, waited REAL)")
out = open(sys.argv[2], "a")
while True:
    started = time.time()
    con.execute("BEGIN IMMEDIATE")
    got = time.time()
    con.execute("INSERT INTO bench_lock_probe VALUES (?, ?)", (got, got - started))
    con.execute("COMMIT")
    out.write(json.dumps([started, time.time() - started]) + "\\n")
    out.flush()
    time.sleep(0.05)
"""


def probe_waits(log: Path, start: float, end: float) -> tuple[float, int]:
    """The longest wait of a probe write that began between ``start`` and ``end`` (epoch seconds), and how many."""
    waits = []
    for line in log.read_text().splitlines():
        began, waited = json.loads(line)
        if start <= began < end:
            waits.append(waited)
    return (max(waits) if waits else 0.0), len(waits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--changed", type=float, default=0.01, help="share of persons changed before the daily run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--work", type=Path, help="working directory (default: a temporary one)")
    parser.add_argument(
        "--import-only",
        action="store_true",
        help="time only the registry import: a first load, the same file again, and a file with --changed changed",
    )
    parser.add_argument(
        "--workers", type=int, help="with --import-only: the load's checking processes (default: the load's; 1: none)"
    )
    parser.add_argument("--no-probe", action="store_true", help="no probe process writing on SQLite")
    parser.add_argument(
        "--no-in-place", action="store_true", help="on PostgreSQL, leave out the in-place runs (step 6)"
    )
    parser.add_argument(
        "--registry-loaded",
        action="store_true",
        help="the database already holds this population's registry (an earlier `fuwu residents load-parquet` of "
        "the same file): step 3 is left out, and the database need not be empty",
    )
    parser.add_argument(
        "--pipeline",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with --import-only and one worker: check the next batch while one is written (default: the load's)",
    )
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="fuwu-bench-registry-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ["FUWU_VAR_DIR"] = str(work / "var")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{work / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fuwu.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from fuwu.eligibility import screening
    from fuwu.eligibility.models import ScreeningRun
    from fuwu.eligibility.selectors import rules_in_force
    from fuwu.residents.models import Person

    quiet = io.StringIO()
    call_command("migrate", verbosity=0)
    call_command("areas", "load", stdout=quiet)
    call_command("standards", "load", str(ROOT / "standards"), stdout=quiet)
    population = work / f"population-{args.persons}-{args.seed}.parquet"
    if not population.exists():
        call_command(
            "population", "generate", "--size", str(args.persons), "--seed", str(args.seed),
            "--out", str(population), "--quiet", stdout=quiet,
        )  # fmt: skip
    if args.import_only:
        import_only(args, population, work)
        return
    rules = rules_in_force()
    results: dict[str, Any] = {
        "persons": args.persons,
        "rules": len(rules),
        "database": connection.vendor,
        "load_average": os.getloadavg()[0],
        "date": timezone.now().isoformat(timespec="seconds"),
    }
    rows: list[tuple[str, float, float, ScreeningRun | None]] = []
    watch = LockWatch()
    watch.install()
    storing: list[float] = []  # seconds in screening_run_complete: counting, then storing what people act on
    from fuwu.eligibility import incremental, services

    def timed_storing(real: Any) -> Any:
        def complete_timed(**kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return real(**kwargs)
            finally:
                storing.append(time.perf_counter() - started)

        return complete_timed

    from fuwu.eligibility.management.commands import screen as screen_command
    from fuwu.eligibility.selectors import candidates_of

    # Every name the commands call: a full run's storing, and a daily run's (ADR 27).
    for name in ("screening_run_complete", "screening_daily_complete"):
        if not hasattr(services, name):  # an older version of fuwu, measured for comparison
            continue
        wrapped = timed_storing(getattr(services, name))
        for module in (services, incremental, screen_command):
            if hasattr(module, name):
                setattr(module, name, wrapped)
    locks: list[dict[str, Any]] = []
    probe = None
    probe_log = work / "lock-probe.jsonl"
    if connection.vendor == "sqlite" and not args.no_probe:
        import subprocess
        import sys

        probe_log.unlink(missing_ok=True)
        probe = subprocess.Popen([sys.executable, "-c", PROBE, str(connection.settings_dict["NAME"]), str(probe_log)])
        time.sleep(0.5)

    def timed(fn: Any) -> tuple[float, float, Any]:
        start_epoch = time.time()
        watch.take()
        wall, cpu = time.perf_counter(), time.process_time()
        value = fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        longest, transactions = watch.take()
        entry = {
            "longest_transaction": round(longest, 3),
            "transactions": transactions,
            "storing_seconds": round(sum(storing), 2),
        }
        storing.clear()
        if probe is not None:
            waited, probes = probe_waits(probe_log, start_epoch, time.time())
            entry.update(longest_probe_wait=round(waited, 3), probes=probes)
        locks.append(entry)
        return wall, cpu, value

    def engine_alone() -> Any:
        plan = screening.Plan(
            engine="duckdb", as_of=DAY0, population=population, out=work / "engine", partitions=16, rules=rules
        )
        return screening.run(plan, screening.DuckDBEngine(plan), fresh=True)

    wall, cpu, _ = timed(engine_alone)
    rows.append(("engine alone (DuckDB, population file → Parquet)", wall, cpu, None))

    def screen_population() -> ScreeningRun:
        call_command(
            "screen", "--population", str(population), "--out", str(work / "screen-population"),
            "--as-of", DAY0.isoformat(), "--partitions", "16", "--quiet", stdout=quiet,
        )  # fmt: skip
        return ScreeningRun.objects.order_by("-pk").first()  # type: ignore[return-value]

    wall, cpu, run = timed(screen_population)
    rows.append(("fuwu screen --population (end to end)", wall, cpu, run))

    if args.registry_loaded:
        expected = pq.ParquetFile(population).metadata.num_rows
        if Person.objects.count() != expected:
            raise SystemExit(
                f"--registry-loaded: the registry holds {Person.objects.count():,} persons, {expected:,} expected"
            )
    else:
        wall, cpu, _ = timed(lambda: call_command("residents", "load-parquet", str(population), stdout=quiet))
        rows.append(("fuwu residents load-parquet", wall, cpu, None))

    def screen_registry(*extra: str, as_of: dt.date = DAY0) -> ScreeningRun:
        call_command("screen", "--registry", "--as-of", as_of.isoformat(), *extra, "--quiet", stdout=quiet)
        return ScreeningRun.objects.order_by("-pk").first()  # type: ignore[return-value]

    wall, cpu, run = timed(screen_registry)
    rows.append(("fuwu screen --registry (export, engine, store)", wall, cpu, run))

    # The next day: a share of persons had a fact changed (a save bumps updated_at).
    # Every step-th person by id, chosen in the database: the ids are never all read into this process.
    step = max(1, round(1 / args.changed)) if args.changed > 0 else 0
    if step:
        changed = 0
        low = None
        while True:
            window = Person.objects.order_by("pk")
            if low is not None:
                window = window.filter(pk__gt=low)
            ids = list(window.values_list("pk", flat=True)[: 20_000 * step])
            if not ids:
                break
            chosen = ids[::step]
            Person.objects.filter(pk__in=chosen).update(updated_at=timezone.now())
            changed += len(chosen)
            low = ids[-1]
        results["changed_persons"] = changed
    wall, cpu, run = timed(lambda: screen_registry("--incremental", as_of=DAY1))
    rows.append((f"fuwu screen --registry --incremental ({args.changed:.0%} changed, next day)", wall, cpu, run))

    if connection.vendor == "postgresql" and not args.no_in_place:
        wall, cpu, run = timed(lambda: screen_registry("--in-place", as_of=DAY1))
        rows.append(("fuwu screen --registry --in-place (vs step 5's files)", wall, cpu, run))
        wall, cpu, run = timed(lambda: screen_registry("--in-place", as_of=DAY2))
        rows.append(("fuwu screen --registry --in-place, next day (vs in-place)", wall, cpu, run))
        results["in_place_engine_seconds"] = run.seconds if run is not None else None

    if probe is not None:
        probe.terminate()
        probe.wait()
    base = rows[0][1]
    print(
        f"{args.persons:,} persons × {len(rules)} rules, {connection.vendor}, load average {results['load_average']:.1f}"
    )
    print(f"{'step':<70} {'wall s':>8} {'cpu s':>8} {'÷ engine':>9} {'result rows':>12} {'db rows':>10} {'db %':>6}")
    results["steps"] = []
    for (name, wall, cpu, run), lock in zip(rows, locks, strict=True):
        entry: dict[str, Any] = {
            "step": name,
            "seconds": round(wall, 2),
            "cpu": round(cpu, 2),
            "ratio": wall / base,
            **lock,
        }
        extra = ""
        if run is not None:
            share = run.stored_rows / run.result_rows if run.result_rows else 0.0
            entry.update(
                result_rows=run.result_rows,
                stored_rows=run.stored_rows,
                stored_share=share,
                screened=run.screened,
                incremental=run.incremental,
                changes=run.changes.count(),
                candidates=candidates_of(run).count(),
            )
            extra = f"{run.result_rows:>12,} {run.stored_rows:>10,} {share:>6.1%}"
        waited = f" probe wait {lock['longest_probe_wait']:.2f}s" if "longest_probe_wait" in lock else ""
        print(f"{name:<70} {wall:>8.1f} {cpu:>8.1f} {wall / base:>8.2f}× {extra}")
        print(
            f"{'':<4}storing {lock['storing_seconds']:.1f}s, longest write transaction "
            f"{lock['longest_transaction']:.2f}s of {lock['transactions']}{waited}"
        )
        results["steps"].append(entry)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")


def import_only(args: argparse.Namespace, population: Path, work: Path) -> None:
    """``fuwu residents load`` alone: into an empty registry, again unchanged, again with a share changed.

    CPU is this process's and its finished children's (the load's worker processes), user and system; on a
    PostgreSQL server on this machine, also its backend's for this connection (read from /proc)."""
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.compute as pc  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]
    from django.core.management import call_command
    from django.db import connection

    from fuwu.residents.loading import default_pipeline, default_workers

    quiet = io.StringIO()
    table = pq.read_table(population)
    step = max(1, round(1 / args.changed)) if args.changed > 0 else table.num_rows + 1
    changed_mask = pa.array([i % step == 0 for i in range(table.num_rows)])
    income = table.column("income")
    bumped = pc.if_else(changed_mask, pc.add(pc.fill_null(income, 0), pa.scalar(1, income.type)), income)
    changed_file = work / f"{population.stem}-changed.parquet"
    pq.write_table(table.set_column(table.schema.get_field_index("income"), "income", bumped), changed_file)
    steps = [
        ("fuwu residents load (empty registry)", population),
        ("fuwu residents load (same file again: all unchanged)", population),
        (f"fuwu residents load ({args.changed:.0%} changed: updates)", changed_file),
    ]
    workers = ["--workers", str(args.workers)] if args.workers else []
    if args.pipeline is not None:
        workers.append("--pipeline" if args.pipeline else "--no-pipeline")
    pipeline = (args.workers or default_workers()) == 1 and (
        default_pipeline() if args.pipeline is None else args.pipeline
    )
    print(
        f"{args.persons:,} persons, {connection.vendor}, workers {args.workers or default_workers()}, "
        f"pipeline {'on' if pipeline else 'off'}, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'step':<60} {'wall s':>8} {'cpu s':>8} {'of it here':>10} {'server':>7} {'rows/s':>9}")
    results: dict[str, Any] = {
        "persons": args.persons,
        "database": connection.vendor,
        "workers": args.workers or default_workers(),
        "pipeline": pipeline,
        "load_average_before": os.getloadavg()[0],
        "steps": [],
    }
    growth: list[str] = []
    for name, path in steps:
        before, server_before = os.times(), server_cpu()
        stamps = Stamped()
        wall, _, _ = timed(
            lambda path=path, stamps=stamps: call_command(
                "residents", "load", str(path), *workers, verbosity=2, stdout=stamps
            )
        )
        growth.append(f"{name}: {stamps.growth(wall)}")
        after, server_after = os.times(), server_cpu()
        server = None
        if server_before and server_after and server_before[0] == server_after[0]:
            server = server_after[1] - server_before[1]
        here = after.user + after.system - before.user - before.system
        cpu = here + after.children_user + after.children_system - before.children_user - before.children_system
        shown = f"{server:>7.1f}" if server is not None else f"{'–':>7}"
        print(f"{name:<60} {wall:>8.1f} {cpu:>8.1f} {here:>10.1f} {shown} {args.persons / wall:>9,.0f}")
        results["steps"].append(
            {
                "step": name,
                "seconds": round(wall, 2),
                "cpu": round(cpu, 2),
                "cpu_here": round(here, 2),
                "cpu_server": None if server is None else round(server, 2),
            }
        )
    results["load_average_after"] = os.getloadavg()[0]
    results["growth"] = growth
    print("rows/s by quarter of the file (then the indexes' build, if any):")
    print("\n".join(growth))
    print(f"load average after {results['load_average_after']:.1f}")
    print(quiet.getvalue().strip())
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")


class Stamped(io.StringIO):
    """The load's progress lines (``  N of M rows``, verbosity 2) with the time each was written."""

    def __init__(self) -> None:
        super().__init__()
        self.start = time.perf_counter()
        self.lines: list[tuple[float, int, int, str]] = []  # (seconds since start, done, total, message)

    def write(self, text: str) -> int:
        parts = text.split(maxsplit=4)
        if len(parts) >= 4 and parts[1] == "of" and parts[3].startswith("rows"):
            done, total = int(parts[0].replace(",", "")), int(parts[2].replace(",", ""))
            self.lines.append((time.perf_counter() - self.start, done, total, parts[4] if len(parts) > 4 else ""))
        return super().write(text)

    def growth(self, wall: float) -> str:
        """Rows per second over each quarter of the rows, and the seconds from the last batch to the end."""
        rows = [(t, done) for t, done, _, message in self.lines if "index" not in message and "索引" not in message]
        if not rows or not self.lines[0][2]:
            return "no progress lines"
        total = self.lines[0][2]
        out, last_t, last_done = [], 0.0, rows[0][1]
        for quarter in (1, 2, 3, 4):
            upto = [(t, d) for t, d in rows if d <= total * quarter // 4]
            if not upto or upto[-1][1] == last_done:
                continue
            t, d = upto[-1]
            out.append(f"{(d - last_done) / max(t - last_t, 1e-9):,.0f}")
            last_t, last_done = t, d
        return " | ".join(out) + f" rows/s; after the last batch {wall - last_t:.1f} s"


def server_cpu() -> tuple[int, float] | None:
    """(backend pid, its CPU seconds) of this connection's PostgreSQL backend, if it runs on this machine."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = int(cursor.fetchone()[0])
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return None
    return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


if __name__ == "__main__":
    main()
