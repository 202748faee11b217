"""Latency of one resident's answer for every item: ``POST /api/v1/eligibility``.

    python -m benchmarks.eligibility_latency [--requests 1000]

Runs the real Django stack (URL routing, validation, rules, explanation, JSON)
in-process against a temporary database loaded with every standard in
``standards/``, with persons drawn from a generated population. The baseline,
measured in the same run, is ``GET /api/v1/facts`` — the same stack returning
a fixed document — so the rules' own cost reads as a ratio. Target: p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.screening import ensure_population

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fuwu-latency-"))
    os.environ["FUWU_VAR_DIR"] = str(work)
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "fuwu.settings"
    population = work / "population.parquet"
    ensure_population(population, max(args.requests * 3, 5000), args.seed)
    import django

    django.setup()
    import pyarrow.parquet as pq
    from django.core.management import call_command
    from django.test import Client

    from fuwu.eligibility.facts import BASE
    from fuwu.eligibility.selectors import rules_in_force

    call_command("migrate", verbosity=0)
    call_command("standards", "load", str(ROOT / "standards"), stdout=open(os.devnull, "w"))  # noqa: SIM115
    rules = len(rules_in_force())
    people = pq.read_table(population).slice(0, args.requests).to_pylist()
    client = Client()

    def body(person: dict[str, Any]) -> str:
        facts = {k: v for k, v in person.items() if k in BASE and k != "household_id"}
        return json.dumps({"as_of": "2026-11-29", "facts": facts}, default=str)

    client.post("/api/v1/eligibility", body(people[0]), content_type="application/json")  # warm caches
    baseline, timed = [], []
    for person in people:
        started = time.perf_counter()
        client.get("/api/v1/facts")
        baseline.append((time.perf_counter() - started) * 1000)
        payload = body(person)
        started = time.perf_counter()
        response = client.post("/api/v1/eligibility", payload, content_type="application/json")
        timed.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content
    p95, b95 = percentile(timed, 95), percentile(baseline, 95)
    print(f"POST /api/v1/eligibility, {rules} rules, {len(timed)} requests (in-process, SQLite)\n")
    print("| Request | p50 (ms) | p95 (ms) | p99 (ms) |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| Baseline: GET /api/v1/facts | {statistics.median(baseline):.1f} | {b95:.1f} | {percentile(baseline, 99):.1f} |"
    )
    print(
        f"| POST /api/v1/eligibility (every item) | {statistics.median(timed):.1f} | {p95:.1f} | {percentile(timed, 99):.1f} |"
    )
    print(f"\np95 ratio to baseline: {p95 / b95:.1f}×; target p95 < 100 ms: {'met' if p95 < 100 else 'NOT met'}")


if __name__ == "__main__":
    main()
