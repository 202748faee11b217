"""Dispatch benchmark: PyVRP against the greedy fallback, on Gehring & Homberger and on a synthetic county day.

    python -m benchmarks.dispatch --time-limit 60 [--instances C1_10_1,...] [--json out.json]

Every number printed is recomputed from the returned routes by code that is not the solver's: the GH costs
by ``benchmarks.vrplib.check_routes`` (integer tenths, DIMACS rules), the county day by ``verify_plan``
below (exact haversine travel, windows, shifts, skills, certificates, each visit once).

``--clock cpu`` (the default) gives PyVRP its time limit in process CPU seconds: the machine is shared,
and wall time would measure the neighbours' load rather than the solver. PyVRP is single-threaded, so a
CPU second is a second on a dedicated core. ``--clock wall`` uses the wall clock instead.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import platform
import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import numpy as np

from benchmarks.vrplib import DATA_DIR, Instance, check_routes, read_instance, read_solution
from fuwu.homecare.dispatch import (
    Caregiver,
    HaversineTravel,
    Plan,
    Travel,
    Visit,
    plan,
)
from fuwu.homecare.routing import (
    Fleet,
    RoutingProblem,
    RoutingSolution,
    solve_greedy,
    solve_pyvrp,
)

GH_INSTANCES = tuple(
    f"{cls}_10_{k}" for cls in ("C1", "C2", "R1", "R2", "RC1", "RC2") for k in range(1, 6)
)  # fmt: skip


# --- Gehring & Homberger ------------------------------------------------------------------------


def gh_problem(instance: Instance) -> RoutingProblem:
    """The instance in tenths: exact integers under the DIMACS truncation, so PyVRP's costs are exact too."""
    xy = np.asarray(instance.coords, dtype=np.int64)
    squared = 100 * ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)
    tenths = np.floor(np.sqrt(squared.astype(np.float64))).astype(np.int64)
    # Floating-point square roots can be one off either way; integer checks make the floor exact.
    tenths -= tenths * tenths > squared
    tenths += (tenths + 1) ** 2 <= squared
    ready, due, service = (10 * np.asarray(a, dtype=np.int64) for a in (instance.ready, instance.due, instance.service))
    return RoutingProblem(
        coords=xy.astype(np.float64),
        travel=tenths,
        n_depots=1,
        tw_early=ready[1:],
        tw_late=due[1:],
        service=service[1:],
        prize=np.zeros(instance.n_customers, dtype=np.int64),
        fleets=(Fleet(0, 0, int(ready[0]), int(due[0]), count=instance.vehicles, capacity=instance.capacity),),
        required=True,
        demand=np.asarray(instance.demand[1:], dtype=np.int64),
    )


@dataclass
class GhRow:
    instance: str
    bks: float
    bks_reproduced: bool
    pyvrp: float | None
    pyvrp_gap: float | None
    pyvrp_routes: int
    pyvrp_feasible: bool
    pyvrp_cpu_s: float
    greedy: float
    greedy_gap: float
    greedy_routes: int
    greedy_feasible: bool
    greedy_cpu_s: float


def _customer_routes(solution: RoutingSolution) -> list[tuple[int, ...]]:
    return [tuple(c + 1 for c in clients) for _, clients in solution.routes]


def run_gh(name: str, *, time_limit: float, seed: int, cpu_clock: bool, data_dir: Path) -> GhRow:
    instance = read_instance(data_dir / f"{name}.vrp")
    best = read_solution(data_dir / f"{name}.sol")
    published = check_routes(instance, best.routes)
    problem = gh_problem(instance)

    began = time.process_time()
    greedy = solve_greedy(problem)
    greedy_cpu = time.process_time() - began
    greedy_check = check_routes(instance, _customer_routes(greedy))

    try:
        # Warm-started from the greedy plan: the product does the same when it falls back.
        # The greedy's own time counts against the limit.
        budget = time_limit - greedy_cpu
        found = solve_pyvrp(problem, time_limit_s=budget, seed=seed, cpu_time=cpu_clock, initial=greedy)
        pyvrp_check = check_routes(instance, _customer_routes(found))
        pyvrp_cost: float | None = pyvrp_check.distance
        pyvrp_ok, pyvrp_routes = pyvrp_check.feasible, len(found.routes)
    except RuntimeError:
        pyvrp_cost, pyvrp_ok, pyvrp_routes = None, False, 0
    pyvrp_cpu = time.process_time() - began  # greedy warm start included

    def gap(cost: float) -> float:
        return 100 * (cost - best.cost) / best.cost

    return GhRow(
        instance=name,
        bks=best.cost,
        bks_reproduced=published.feasible and math.isclose(published.distance, best.cost, abs_tol=0.05),
        pyvrp=pyvrp_cost,
        pyvrp_gap=gap(pyvrp_cost) if pyvrp_cost is not None and pyvrp_ok else None,
        pyvrp_routes=pyvrp_routes,
        pyvrp_feasible=pyvrp_ok,
        pyvrp_cpu_s=pyvrp_cpu,
        greedy=greedy_check.distance,
        greedy_gap=gap(greedy_check.distance),
        greedy_routes=len(greedy.routes),
        greedy_feasible=greedy_check.feasible,
        greedy_cpu_s=greedy_cpu,
    )


def gh_table(rows: Sequence[GhRow]) -> str:
    def num(x: float | None, fmt: str) -> str:
        return "—" if x is None else format(x, fmt)

    lines = [
        "| Instance | BKS | BKS re-computed | PyVRP | gap % | routes | feasible | Greedy | gap % | routes | feasible |",
        "|---|---:|:-:|---:|---:|---:|:-:|---:|---:|---:|:-:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.instance} | {r.bks:.1f} | {'yes' if r.bks_reproduced else 'NO'} | {num(r.pyvrp, '.1f')} "
            f"| {num(r.pyvrp_gap, '.2f')} | {r.pyvrp_routes} | {'yes' if r.pyvrp_feasible else 'NO'} "
            f"| {r.greedy:.1f} | {r.greedy_gap:.2f} | {r.greedy_routes} | {'yes' if r.greedy_feasible else 'NO'} |"
        )
    gaps = [r.pyvrp_gap for r in rows if r.pyvrp_gap is not None]
    pyvrp_avg = f"**{sum(gaps) / len(gaps):.2f}**" if len(gaps) == len(rows) else f"({len(gaps)}/{len(rows)} solved)"
    greedy_avg = sum(r.greedy_gap for r in rows) / len(rows)
    lines.append(f"| **average** | | | | {pyvrp_avg} | | | | **{greedy_avg:.2f}** | | |")
    return "\n".join(lines)


# --- A synthetic county day ---------------------------------------------------------------------

# Tiantai County, Taizhou: the county seat (approximately) and made-up township centres around it.
SEAT = (29.142, 121.006)
SKILLS = ("bathing", "nursing", "rehab")


def taizhou_day(
    *, seed: int = 2024, n_visits: int = 1000, n_caregivers: int = 85
) -> tuple[list[Visit], list[Caregiver]]:
    """A deterministic busy day: elders clustered round townships, 30–120 min windows in 08:00–18:00."""
    rng = np.random.default_rng(seed)
    # Township centres within ~25 km; the seat itself holds the most elders.
    n_towns = 12
    angles = rng.uniform(0, 2 * math.pi, n_towns)
    radii = np.concatenate([[0.0], rng.uniform(6, 25, n_towns - 1)])
    # About 111 km per degree of latitude and 97 km per degree of longitude at 29° N.
    towns = [
        (SEAT[0] + r * math.sin(a) / 111.0, SEAT[1] + r * math.cos(a) / 97.0)
        for a, r in zip(angles, radii, strict=True)
    ]
    town_weight = np.concatenate([[0.3], np.full(n_towns - 1, 0.7 / (n_towns - 1))])

    def near(town: int, km: float) -> tuple[float, float]:
        lat, lon = towns[town]
        dy, dx = rng.normal(0, km, 2)
        return (round(lat + dy / 111.0, 6), round(lon + dx / 97.0, 6))

    caregivers: list[Caregiver] = []
    for k in range(n_caregivers):
        town = int(rng.choice(n_towns, p=town_weight))
        shift = [(480, 1080), (450, 1050), (510, 1110)][int(rng.choice(3, p=[0.6, 0.2, 0.2]))]
        skills = frozenset(s for s, p in zip(SKILLS, (0.4, 0.3, 0.1), strict=True) if rng.random() < p)
        caregivers.append(
            Caregiver(
                id=f"c{k:03d}",
                home=near(town, 2.0),
                shift_start=shift[0],
                shift_end=shift[1],
                skills=skills,
                # A few certificates lapse in any month; the planner must leave those caregivers out.
                certificate_valid=rng.random() > 0.03,
            )
        )
    caregiver_town = [int(np.argmin([math.dist(c.home, t) for t in towns])) for c in caregivers]

    visits: list[Visit] = []
    caseload = dict.fromkeys((c.id for c in caregivers), 0)  # minutes of visits they are usual for
    elder = 0
    while len(visits) < n_visits:
        town = int(rng.choice(n_towns, p=town_weight))
        home = near(town, 1.5)
        need = frozenset(s for s, p in zip(SKILLS, (0.15, 0.10, 0.04), strict=True) if rng.random() < p)
        # One elder in five is visited twice: morning and afternoon.
        slots = [(480, 720), (780, 1080)] if rng.random() < 0.2 else [(480, 1080)]
        specs = []
        for lo, hi in slots:
            length = int(rng.choice([30, 60, 90, 120]))
            start = int(rng.integers(lo // 15, (hi - length) // 15 + 1)) * 15
            specs.append((start, start + length, int(rng.choice([30, 45, 60, 90], p=[0.55, 0.3, 0.1, 0.05]))))
        # For four elders in five, the usual caregiver is the least-loaded one of the township who has the
        # skills, as long as their caseload stays under six hours: how a provider hands out elders.
        minutes = sum(d for _, _, d in specs)
        local = sorted(
            (caseload[c.id], c.id)
            for c, t in zip(caregivers, caregiver_town, strict=True)
            if t == town and need <= c.skills and caseload[c.id] + minutes <= 360
        )
        usual = local[0][1] if local and rng.random() < 0.8 else None
        if usual is not None:
            caseload[usual] += minutes
        for part, (start, end, duration) in enumerate(specs):
            visits.append(
                Visit(
                    id=f"v{len(visits):04d}",
                    elder_id=f"e{elder:04d}",
                    location=home,
                    window_start=start,
                    window_end=end,
                    duration=duration,
                    required_skills=need if part == 0 else frozenset(),
                    usual_caregiver=usual,
                )
            )
            if len(visits) == n_visits:
                break
        elder += 1
    return visits, caregivers


@dataclass
class DayResult:
    solver: str
    served: int
    unassigned: int
    unassigned_by_reason: dict[str, int]
    travel_hours: float
    lateness_minutes: float
    continuity_pct: float | None
    violations: list[str]
    wall_s: float
    cpu_s: float


def verify_plan(plan_: Plan, travel: Travel) -> tuple[float, float, float | None, list[str]]:
    """Travel (min), lateness (min), continuity and broken rules of a plan, recomputed from its routes only."""
    visits = {v.id: v for v in plan_.visits}
    carers = {c.id: c for c in plan_.caregivers}
    problems: list[str] = []
    seen: Counter[str] = Counter()
    total = lateness = 0.0
    usual = kept = 0
    for route in plan_.routes:
        c = carers[route.caregiver_id]
        if route.stops and not c.certificate_valid:
            problems.append(f"{c.id} has an expired certificate but got visits")
        points = [c.home] + [visits[s.visit_id].location for s in route.stops] + [c.home]
        legs = [float(travel.minutes([a, b])[0, 1]) for a, b in itertools.pairwise(points)]
        if route.stops:
            total += sum(legs)
        free = float(c.shift_start)
        for stop, leg in zip(route.stops, legs, strict=False):
            v = visits[stop.visit_id]
            seen[v.id] += 1
            if not v.required_skills <= c.skills:
                problems.append(f"{v.id} needs {sorted(v.required_skills)}; {c.id} lacks them")
            if stop.start < max(free + leg, v.window_start) - 1e-6:
                problems.append(f"{v.id} starts before {c.id} can be there")
            lateness += max(0.0, stop.start - v.window_end)
            if stop.start > v.window_end + 1e-6:
                problems.append(f"{v.id} starts after its window")
            if v.usual_caregiver is not None:
                usual += 1
                kept += v.usual_caregiver == c.id
            free = stop.start + v.duration
        if route.stops and free + legs[-1] > c.shift_end + 1e-6:
            problems.append(f"{c.id} is home after the shift ends")
    unassigned = {u.visit_id for u in plan_.unassigned}
    problems += [f"{v} planned {n} times" for v, n in seen.items() if n > 1]
    problems += [f"{v} neither planned nor reported" for v in visits if v not in seen and v not in unassigned]
    problems += [f"{v} both planned and unassigned" for v in unassigned if v in seen]
    return total, lateness, (100 * kept / usual if usual else None), problems


def _reason_kind(reason: str) -> str:
    kinds = {
        "capacity of the day exhausted": "capacity of the day exhausted",
        "certificate expired": "certificate expired",
        "no caregiver has": "skill missing",
        " works at ": "nobody with the skills on shift",
        "can reach": "no shift reaches the elder in the window",
    }
    return next((kind for key, kind in kinds.items() if key in reason), reason)


def run_day(solver: str, time_limit: float, seed: int, cpu_clock: bool) -> DayResult:
    visits, caregivers = taizhou_day()
    travel = HaversineTravel()
    wall, cpu = time.perf_counter(), time.process_time()
    made = plan(
        visits,
        caregivers,
        travel=travel,
        time_limit_s=time_limit,
        seed=seed,
        solver="pyvrp" if solver == "pyvrp" else "greedy",
        cpu_time=cpu_clock,
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    travel_min, lateness, continuity, problems = verify_plan(made, travel)
    reasons = Counter(_reason_kind(u.reason) for u in made.unassigned)
    return DayResult(
        solver=made.solver_used,
        served=sum(len(r.stops) for r in made.routes),
        unassigned=len(made.unassigned),
        unassigned_by_reason=dict(reasons.most_common()),
        travel_hours=travel_min / 60,
        lateness_minutes=lateness,
        continuity_pct=continuity,
        violations=problems,
        wall_s=wall,
        cpu_s=cpu,
    )


def day_table(results: Sequence[DayResult]) -> str:
    lines = [
        "| Solver | served | unassigned | travel (h) | lateness (min) | continuity % | violations | wall s | CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        cont = "—" if r.continuity_pct is None else f"{r.continuity_pct:.1f}"
        lines.append(
            f"| {r.solver} | {r.served} | {r.unassigned} | {r.travel_hours:.1f} | {r.lateness_minutes:.0f} "
            f"| {cont} | {len(r.violations)} | {r.wall_s:.0f} | {r.cpu_s:.0f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per instance for PyVRP")
    parser.add_argument("--instances", default=",".join(GH_INSTANCES), help="comma-separated GH names, or ''")
    parser.add_argument("--json", type=Path, help="write every result here (rewritten after each instance)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    parser.add_argument("--no-day", action="store_true", help="skip the synthetic county day")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument(
        "--jobs", type=int, default=1, help="GH instances solved at once (fair only with --clock cpu, the default)"
    )
    args = parser.parse_args(argv)
    cpu_clock = args.clock == "cpu"
    names = [n for n in args.instances.split(",") if n]
    report: dict[str, object] = {
        "command": "python -m benchmarks.dispatch " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "time_limit_s": args.time_limit,
        "clock": args.clock,
        "gh": [],
        "day": [],
    }

    def save() -> None:
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))

    rows: list[GhRow] = []
    solve_one = partial(run_gh, time_limit=args.time_limit, seed=args.seed, cpu_clock=cpu_clock, data_dir=args.data_dir)
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for row in pool.map(solve_one, names):
            rows.append(row)
            report["gh"] = [asdict(r) for r in rows]
            save()
            gap = "—" if row.pyvrp_gap is None else f"{row.pyvrp_gap:.2f}"
            greedy = f"{row.greedy} ({row.greedy_gap:.2f} %)"
            print(f"{row.instance}: PyVRP {row.pyvrp} ({gap} %), greedy {greedy}", flush=True)
    days: list[DayResult] = []
    if not args.no_day:
        for solver in ("pyvrp", "greedy"):
            days.append(run_day(solver, args.time_limit, args.seed, cpu_clock))
            report["day"] = [asdict(d) for d in days]
            save()
    report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    save()
    if rows:
        print(f"\n## Gehring & Homberger, 1000 customers, {args.time_limit:g} s ({args.clock}) per instance\n")
        print(gh_table(rows))
    if days:
        print(f"\n## Synthetic Taizhou county day ({len(taizhou_day()[0])} visits)\n")
        print(day_table(days))
        for d in days:
            print(f"\n{d.solver} unassigned by reason: {d.unassigned_by_reason}")
            if d.violations:
                print(f"{d.solver} VIOLATIONS: {d.violations[:10]}")


if __name__ == "__main__":
    main()
