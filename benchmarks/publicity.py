"""What counting guide views costs the guide page: the same page, counted and not, on the same server in one run.

    python -m benchmarks.publicity [--requests 1000] [--concurrency 4] [--rounds 5] [--json result.json]

Builds what ``benchmarks.pages`` builds (migrations and every standard, a fresh SQLite database, or
``BENCH_DATABASE_URL``), starts gunicorn with 2 workers, and asks ApacheBench for a guide page alternately
as a browser (a user agent ``fuwu.evaluation.publicity`` counts: an addition in memory, a write every minute)
and as a robot (the same request, the same code, but the user agent rule says not to count). Each round
measures both; the result is the median over ``--rounds`` of the counted page's requests/s and server CPU
per request against the uncounted one's (CPU per request does not move with the shared machine's load).
Target (issue 13): the counted page at ≥ 95 % of the uncounted. The counts written are checked at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.pages import GUNICORN, ROOT, free_port, prepare, server_cpu_seconds

TARGET = 0.95
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
ROBOT = "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"


def ab(url: str, *, agent: str, requests: int, concurrency: int, server: int) -> dict[str, float]:
    cpu_before = server_cpu_seconds(server)
    command = ["ab", "-q", "-n", str(requests), "-c", str(concurrency), "-H", f"User-Agent: {agent}", url]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    if re.search(r"Non-2xx responses:\s+(\d+)", out):
        raise SystemExit(f"{url}: some responses were not 200")
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "cpu_ms": 1000 * (server_cpu_seconds(server) - cpu_before) / requests}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fuwu-publicity-bench-"))
    database = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{work / 'bench.sqlite3'}")
    env = {
        **os.environ,
        "FUWU_VAR_DIR": str(work),
        "DATABASE_URL": database,
        "DJANGO_SETTINGS_MODULE": "fuwu.settings",
        "DEBUG": "false",
        "PYTHONPATH": str(ROOT),
    }
    setup = prepare(env)
    port = free_port()
    url = f"http://127.0.0.1:{port}/items/{setup['item']}/"
    server = subprocess.Popen(
        [*GUNICORN, f"--bind=127.0.0.1:{port}", "--workers=2", "--log-level=warning"], env=env, cwd=ROOT
    )
    counted: list[dict[str, float]] = []
    plain: list[dict[str, float]] = []
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        for agent in (BROWSER, ROBOT):  # warm both workers' caches
            ab(url, agent=agent, requests=20, concurrency=args.concurrency, server=server.pid)
        for n in range(args.rounds):
            # Alternate which goes first: the machine's load moves within a round.
            order = [(BROWSER, counted), (ROBOT, plain)]
            for agent, into in order if n % 2 == 0 else reversed(order):
                into.append(
                    ab(url, agent=agent, requests=args.requests, concurrency=args.concurrency, server=server.pid)
                )
            print(f"round {n + 1} of {args.rounds} done", flush=True)
    finally:
        server.terminate()  # the workers write their last counts as they exit
        server.wait(timeout=30)
    check = (
        "from fuwu.evaluation.models import PublicityCount; from django.db.models import Sum; "
        f"print(PublicityCount.objects.filter(item_key={setup['item']!r}).aggregate(n=Sum('hits'))['n'] or 0)"
    )
    written = subprocess.run(
        [sys.executable, "-m", "fuwu", "shell", "-c", check],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    result: dict[str, Any] = {
        "database": database.split("@")[-1].split("/")[-1],
        "requests": args.requests,
        "rounds": args.rounds,
        "counted_rps": round(statistics.median(r["rps"] for r in counted), 1),
        "uncounted_rps": round(statistics.median(r["rps"] for r in plain), 1),
        "rps_ratio": round(statistics.median(c["rps"] / p["rps"] for c, p in zip(counted, plain, strict=True)), 3),
        "counted_cpu_ms": round(statistics.median(r["cpu_ms"] for r in counted), 3),
        "uncounted_cpu_ms": round(statistics.median(r["cpu_ms"] for r in plain), 3),
        "cpu_ratio": round(
            statistics.median(p["cpu_ms"] / c["cpu_ms"] for c, p in zip(counted, plain, strict=True)), 3
        ),
        "views_asked_as_browser": args.requests * args.rounds + 20,
        "views_written": int(written),
        "load_average_after": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(result, indent=2))
    print(
        f"target ≥ {TARGET:.0%} of the uncounted page by CPU: {'met' if result['cpu_ratio'] >= TARGET else 'NOT met'}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
