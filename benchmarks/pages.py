"""Public pages under gunicorn, as ratios of a hello-world view's throughput on the same server in the same run.

    python -m benchmarks.pages [--requests 2000] [--concurrency 4] [--rounds 3] [--json result.json]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/fuwu_pages_bench python -m benchmarks.pages

Builds what ``make setup-demo`` builds for the public pages (migrations and every standard in
``standards/``; a PostgreSQL database given by ``BENCH_DATABASE_URL`` is migrated and loaded in place,
which is a no-op when it already holds them), starts gunicorn with 2 workers on it (``DEBUG`` off, no
access log), and measures with ApacheBench (``ab``, Debian's ``apache2-utils``):

* **baseline** — ``/healthz``, a hello-world view: the whole middleware stack, no database, no template;
* the service menu ``/``, the standards list, the largest standard's page, a guide, and search (owned by
  the search work; reported, not a target here); the menu again for a logged-in resident (the frame is
  rendered for them, not shared).

Each round measures every page once (``--requests`` requests, ``--concurrency`` at a time, after a warm-up
that fills both workers' caches), each right after a run of the baseline, and takes the page's ratio to
that run: the machines we run on are shared and their load moves within a round. The result is each page's
median requests/s and median ratio over ``--rounds`` rounds. Every response must be 200.

Requests/s on a shared machine moves with everyone else's load (a run of the baseline has measured anywhere
from 150 to 2,300/s within one minute). So each run also counts the CPU seconds the server's processes
spent (``/proc``, master and workers): CPU per request does not depend on what else runs, and a
server-bound page's throughput on an idle machine is the cores divided by it. The target is judged on
that ratio (hello-world's CPU per request ÷ the page's), with requests/s beside it. Target (issue 10): the menu, a guide, a
standard's page and the list at ≥ 50 % of the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.5
GUNICORN = [sys.executable, "-m", "gunicorn", "fuwu.wsgi:application"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(env: dict[str, str]) -> dict[str, str]:
    """Migrate and load the standards; return the URLs to measure and a logged-in session cookie."""
    python = [sys.executable, "-m", "fuwu"]
    for command in (["migrate", "--no-input", "-v", "0"], ["standards", "load", "standards/"]):
        subprocess.run([*python, *command], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    script = """
import json
from django.test import Client
from fuwu.accounts.models import Role, User
from fuwu.standards.models import ServiceItem, StandardVersion
from fuwu.standards.selectors import items_in_force

user, _ = User.objects.get_or_create(username="bench-resident", defaults={"role": Role.RESIDENT})
client = Client()
client.force_login(user)
largest = max(StandardVersion.objects.filter(status__in=["published", "under_review"]).select_related("standard"),
              key=lambda v: v.clauses.count())
item = items_in_force().filter(version__standard__key="taizhou-home-care").first() or items_in_force().first()
print(json.dumps({"standard": largest.standard.key, "item": item.key, "session": client.cookies["sessionid"].value}))
"""
    out = subprocess.run(
        [*python, "shell", "-c", script], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def server_cpu_seconds(master: int) -> float:
    """CPU seconds (user + system) used so far by the gunicorn master and its workers."""
    pids = [master]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # the field after the state is the parent's pid
            pids.append(int(stat.parent.name))
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def ab(
    url: str, *, requests: int, concurrency: int, cookie: str | None = None, server: int | None = None
) -> dict[str, float]:
    cpu_before = server_cpu_seconds(server) if server else 0.0
    command = ["ab", "-q", "-n", str(requests), "-c", str(concurrency)]
    if cookie:
        command += ["-C", cookie]
    out = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    if non_2xx:
        raise SystemExit(f"{url}: {non_2xx.group(1)} responses were not 200")
    mean = float(re.search(r"Time per request:\s+([\d.]+) \[ms\] \(mean\)", out).group(1))  # type: ignore[union-attr]
    cpu = (server_cpu_seconds(server) - cpu_before) if server else 0.0
    return {"rps": rps, "latency_ms": mean, "cpu_ms": 1000 * cpu / requests}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if shutil.which("ab") is None:
        raise SystemExit("needs ApacheBench: apt-get install apache2-utils")

    work = Path(tempfile.mkdtemp(prefix="fuwu-pages-bench-"))
    database = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{work / 'bench.sqlite3'}")
    env = {
        **os.environ,
        "FUWU_VAR_DIR": str(work),
        "DATABASE_URL": database,
        "DJANGO_SETTINGS_MODULE": "fuwu.settings",
        "DEBUG": "false",
        "PYTHONPATH": str(ROOT),
    }
    started = time.perf_counter()
    setup = prepare(env)
    print(f"database ready in {time.perf_counter() - started:.0f} s: {database.split('@')[-1]}", flush=True)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*GUNICORN, f"--bind=127.0.0.1:{port}", f"--workers={args.workers}", "--log-level=warning"],
        env=env,
        cwd=ROOT,
        process_group=0,
    )
    # Search answers in seconds today (issue 8 is rewriting it): a few requests give its rate.
    search_requests = max(20, args.requests // 50)
    pages: list[tuple[str, str, str | None]] = [
        ("Baseline: hello-world view (/healthz)", "/healthz", None),
        ("Service menu /", "/", None),
        ("Standards list /standards/", "/standards/", None),
        (f"A standard's page (the largest, {setup['standard']})", f"/standards/{setup['standard']}/", None),
        (f"A guide /items/{setup['item']}/", f"/items/{setup['item']}/", None),
        ("Search /search/?q=上门 (not a target here)", "/search/?q=" + urllib.parse.quote("上门"), None),
        ("Service menu, logged in", "/", f"sessionid={setup['session']}"),
    ]
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()  # noqa: S310 - our own server
                break
            except OSError:
                time.sleep(0.2)
        for _, path, cookie in pages:  # warm both workers' caches
            ab(base + path, requests=8, concurrency=args.concurrency, cookie=cookie)
        samples: dict[str, list[dict[str, float]]] = {path + (cookie or ""): [] for _, path, cookie in pages}
        for n in range(args.rounds):
            for _, path, cookie in pages[1:]:
                # The baseline right before each page: the machine is shared, and its load moves within a round.
                hello = ab(base + "/healthz", requests=args.requests, concurrency=args.concurrency, server=server.pid)
                samples["/healthz"].append(hello)
                n_requests = search_requests if path.startswith("/search/") else args.requests
                page = ab(
                    base + path, requests=n_requests, concurrency=args.concurrency, cookie=cookie, server=server.pid
                )
                samples[path + (cookie or "")].append(
                    {**page, "ratio": page["rps"] / hello["rps"], "cpu_ratio": hello["cpu_ms"] / page["cpu_ms"]}
                )
            print(f"round {n + 1} of {args.rounds} done", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)

    rows: list[dict[str, Any]] = []
    for label, path, cookie in pages:
        runs = samples[path + (cookie or "")]
        rows.append(
            {
                "page": label,
                "path": path,
                "rps": round(statistics.median(s["rps"] for s in runs), 1),
                "rps_runs": [round(s["rps"], 1) for s in runs],
                "latency_ms": round(statistics.median(s["latency_ms"] for s in runs), 2),
                "ratio": round(statistics.median(s.get("ratio", 1.0) for s in runs), 3),
                "ratio_runs": [round(s.get("ratio", 1.0), 3) for s in runs],
                "cpu_ms": round(statistics.median(s["cpu_ms"] for s in runs), 3),
                "cpu_ratio": round(statistics.median(s.get("cpu_ratio", 1.0) for s in runs), 3),
            }
        )
    load = os.getloadavg()
    result = {
        "database": "postgresql" if database.startswith("postgres") else "sqlite",
        "workers": args.workers,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "load_average_after": [round(x, 1) for x in load],
        "pages": rows,
    }
    print(f"\n{result['database']}, gunicorn {args.workers} workers, ab -n {args.requests} -c {args.concurrency}, ")
    print(f"median of {args.rounds} rounds, load average after: {load[0]:.1f}\n")
    print("| Page | Requests/s | ÷ hello-world | Server CPU per request (ms) | Throughput by CPU ÷ hello-world |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        mark = ""
        if "target" not in row["page"] and row["path"] != "/healthz" and "logged in" not in row["page"]:
            mark = " ✓" if row["cpu_ratio"] >= TARGET else " ✗"
        print(
            f"| {row['page']} | {row['rps']:,.0f} | {row['ratio']:.0%} | {row['cpu_ms']:.2f} | {row['cpu_ratio']:.0%}{mark} |"
        )
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
