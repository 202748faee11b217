"""The proactive list of a large area, on a database a registry benchmark left (``benchmarks.registry --work DIR``).

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/fuwu_bench66 FUWU_VAR_DIR=DIR/var \
        python -m benchmarks.area_lists [--run ID] [--tries 5] 331083 331002 331082001

For each area code: the first page of 50 of ``proactive.newly_entitled`` (what an officer of that area sees
first; the area given as the officer's) and its count, timed ``--tries`` times, with the area scope written as
``code_within`` (a range beside ``startswith``) and, for comparison, as a plain ``startswith`` (``LIKE``), in
the same run. ``--run``: the screening run to read (default: the latest completed one).
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("areas", nargs="+", help="area codes (a county, a township, …)")
    parser.add_argument("--run", type=int)
    parser.add_argument("--tries", type=int, default=5)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fuwu.settings")
    import django

    django.setup()
    from django.db.models import Q

    from fuwu.areas.selectors import code_within
    from fuwu.eligibility import proactive
    from fuwu.eligibility.models import RunStatus, ScreeningRun

    runs = ScreeningRun.objects.filter(status=RunStatus.COMPLETED)
    run = runs.get(pk=args.run) if args.run else runs.order_by("-finished_at").first()
    assert run is not None, "no completed screening run"
    ways = {"startswith": lambda field, prefix: Q(**{f"{field}__startswith": prefix}), "code_within": code_within}
    print(f"run {run.pk} ({run.as_of}, {run.persons:,} persons)")
    for area in args.areas:
        proactive.area_prefix_for = lambda user, area=area: area  # type: ignore[assignment]
        for name, scope in ways.items():
            proactive.code_within = scope  # type: ignore[assignment]
            pages = []
            for _ in range(args.tries):
                start = time.perf_counter()
                list(proactive.newly_entitled(run=run, user=None)[:50])
                pages.append(time.perf_counter() - start)
            start = time.perf_counter()
            n = proactive.newly_entitled(run=run, user=None).count()
            counted = time.perf_counter() - start
            print(
                f"{area:<12} {name:<12} first page {min(pages) * 1000:8.1f}–{max(pages) * 1000:8.1f} ms, "
                f"count {n:>10,} in {counted * 1000:6.0f} ms"
            )


if __name__ == "__main__":
    main()
