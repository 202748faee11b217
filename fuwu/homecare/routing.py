"""The integer routing core under home-care dispatch and the VRPTW benchmark: PyVRP and a greedy insertion.

Problems are in whole seconds: ``RoutingProblem`` has depots (one per caregiver's home, or one shared
depot in the benchmark), clients with time windows, service times and prizes, and fleets of vehicles
with the clients each may serve. ``fuwu.homecare.dispatch`` builds these from a provider's day; the
benchmark builds them from Gehring & Homberger instances.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from pyvrp import ProblemData

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# Late-acceptance history of PyVRP's search. The default (300) suits runs of hours; at a minute on 1,000
# clients a shorter memory ends lower (one run each, R1_10_1 from the greedy start: 3.9 % gap with 100,
# 4.1 % with 30, 6.5 % with 300; R2_10_1: 0.75 % with 100, 1.5 % with 30).
_ILS_HISTORY = 100


@dataclass(frozen=True, eq=False)
class Fleet:
    """Identical vehicles; a caregiver is a fleet of one. ``allowed``/``penalty`` are per client."""

    start: int
    end: int
    tw_early: int
    tw_late: int
    count: int = 1
    capacity: int | None = None
    allowed: BoolArray | None = None
    penalty: IntArray | None = None


@dataclass(frozen=True, eq=False)
class RoutingProblem:
    """Locations are the depots (0..n_depots-1) then one per client; ``travel`` is cost and duration."""

    coords: FloatArray
    travel: IntArray
    n_depots: int
    tw_early: IntArray
    tw_late: IntArray
    service: IntArray
    prize: IntArray
    fleets: tuple[Fleet, ...]
    required: bool = False
    demand: IntArray | None = None

    @property
    def n_clients(self) -> int:
        return len(self.tw_early)


@dataclass(frozen=True)
class RoutingSolution:
    routes: tuple[tuple[int, tuple[int, ...]], ...]  # (fleet index, clients in visiting order)
    solver: str
    seconds: float

    def served(self) -> set[int]:
        return {c for _, clients in self.routes for c in clients}


def route_starts(problem: RoutingProblem, fleet_idx: int, clients: Sequence[int]) -> list[int] | None:
    """Earliest start times of ``clients`` on that fleet's route, or None if the route breaks a rule."""
    fleet = problem.fleets[fleet_idx]
    t = problem.travel
    nd = problem.n_depots
    if fleet.allowed is not None and not all(fleet.allowed[c] for c in clients):
        return None
    demand = problem.demand
    if demand is not None and fleet.capacity is not None and demand[list(clients)].sum() > fleet.capacity:
        return None
    starts: list[int] = []
    now, here = fleet.tw_early, fleet.start
    for c in clients:
        begin = max(now + int(t[here, nd + c]), int(problem.tw_early[c]))
        if begin > problem.tw_late[c]:
            return None
        starts.append(begin)
        now, here = begin + int(problem.service[c]), nd + c
    if now + int(t[here, fleet.end]) > fleet.tw_late:
        return None
    return starts


class _Deadline:
    """Counts from when it is made, so that building PyVRP's data is inside the time limit too.

    On CPU time when asked: on a shared machine wall time measures the neighbours' load, not the solver.
    """

    def __init__(self, seconds: float, *, cpu: bool) -> None:
        self._clock = time.process_time if cpu else time.perf_counter
        self._end = self._clock() + seconds

    def __call__(self, best_cost: float) -> bool:
        return self._clock() > self._end


def solve_pyvrp(
    problem: RoutingProblem,
    *,
    time_limit_s: float,
    seed: int = 0,
    cpu_time: bool = False,
    stall_iterations: int | None = None,
    initial: RoutingSolution | None = None,
) -> RoutingSolution:
    """Solve with PyVRP's iterated local search; raises if no feasible, rule-abiding solution comes back."""
    # Imported here so that the greedy fallback keeps working when PyVRP itself is broken.
    from pyvrp import IteratedLocalSearchParams, Solution, SolveParams, solve
    from pyvrp import Route as PyvrpRoute
    from pyvrp.stop import MultipleCriteria, NoImprovement, StoppingCriterion

    began = time.perf_counter()
    criteria: list[StoppingCriterion] = [_Deadline(time_limit_s, cpu=cpu_time)]
    data = _pyvrp_data(problem)
    if stall_iterations is not None:
        criteria.append(NoImprovement(stall_iterations))
    start = None
    if initial is not None:
        start = Solution(data, [PyvrpRoute(data, list(clients), fleet) for fleet, clients in initial.routes])
    params = SolveParams(ils=IteratedLocalSearchParams(history_length=_ILS_HISTORY))
    result = solve(data, MultipleCriteria(criteria), seed, collect_stats=False, params=params, initial_solution=start)
    if not result.is_feasible():
        raise RuntimeError("PyVRP returned no feasible solution")
    routes = tuple(
        (r.vehicle_type(), tuple(a.idx for a in r if a.is_client())) for r in result.best.routes() if r.num_clients()
    )
    for fleet_idx, clients in routes:
        if route_starts(problem, fleet_idx, clients) is None:
            raise RuntimeError("PyVRP returned a route that breaks a rule")
    if problem.required and sum(len(c) for _, c in routes) != problem.n_clients:
        raise RuntimeError("PyVRP left a required client out")
    return RoutingSolution(routes, "pyvrp", time.perf_counter() - began)


def _pyvrp_data(problem: RoutingProblem) -> ProblemData:
    from pyvrp import Client, Depot, Location, ProblemData, VehicleType
    from pyvrp.constants import MAX_VALUE

    nd, n = problem.n_depots, problem.n_clients
    diagonal = np.arange(nd + n)
    profiles: dict[tuple[bytes, bytes], int] = {}
    distances: list[IntArray] = []
    durations: list[IntArray] = []
    fleet_profile: list[int] = []
    for fleet in problem.fleets:
        key = (
            b"" if fleet.allowed is None else np.packbits(fleet.allowed).tobytes(),
            b"" if fleet.penalty is None else fleet.penalty.tobytes(),
        )
        if key not in profiles:
            dist = problem.travel.copy()
            if fleet.penalty is not None:
                dist[:, nd:] += fleet.penalty[None, :]
            dur = problem.travel
            if fleet.allowed is not None and not fleet.allowed.all():
                banned = nd + np.flatnonzero(~fleet.allowed)
                dur = dur.copy()
                for m in (dist, dur):
                    m[:, banned] = MAX_VALUE
                    m[banned, :] = MAX_VALUE
            dist[diagonal, diagonal] = 0
            dur[diagonal, diagonal] = 0
            profiles[key] = len(distances)
            distances.append(dist)
            durations.append(dur)
        fleet_profile.append(profiles[key])

    load = problem.demand is not None
    return ProblemData(
        locations=[Location(x=float(x), y=float(y)) for x, y in problem.coords],
        clients=[
            Client(
                location=nd + j,
                delivery=[int(problem.demand[j])] if problem.demand is not None else [],
                service_duration=int(problem.service[j]),
                tw_early=int(problem.tw_early[j]),
                tw_late=int(problem.tw_late[j]),
                prize=int(problem.prize[j]),
                required=problem.required,
            )
            for j in range(n)
        ],
        depots=[Depot(location=i) for i in range(nd)],
        vehicle_types=[
            VehicleType(
                num_available=f.count,
                capacity=[f.capacity or 0] if load else [],
                start_depot=f.start,
                end_depot=f.end,
                tw_early=f.tw_early,
                tw_late=f.tw_late,
                profile=fleet_profile[k],
            )
            for k, f in enumerate(problem.fleets)
        ],
        # PyVRP's stub spells the matrices `ndarray[int]`, which no real array matches.
        distance_matrices=distances,  # type: ignore[arg-type]
        duration_matrices=durations,  # type: ignore[arg-type]
    )


@dataclass
class _GreedyRoute:
    fleet: int
    nodes: list[int]  # location indices, start depot .. end depot
    begin: list[int]  # earliest start of service at each node
    latest: list[int]  # latest start at each node that keeps the rest of the route feasible
    load: int = 0


def solve_greedy(problem: RoutingProblem) -> RoutingSolution:
    """Deterministic parallel regret-2 insertion (Potvin & Rousseau style), vectorised over clients.

    Each client's cheapest feasible insertion is kept per open route; the client with the largest
    regret (second-cheapest minus cheapest route) is inserted next, so visits with one possible
    caregiver are placed before the easy ones take that caregiver's time. A fleet of one (a caregiver)
    is open from the start; a larger fleet opens a new vehicle only when nothing fits the open ones,
    seeded with the most urgent client (earliest window end).
    """
    began = time.perf_counter()
    t, nd, n = problem.travel, problem.n_depots, problem.n_clients
    service = np.concatenate([np.zeros(nd, dtype=np.int64), problem.service])
    e, late = problem.tw_early, problem.tw_late
    demand = problem.demand if problem.demand is not None else np.zeros(n, dtype=np.int64)
    columns = sum(min(f.count, n) for f in problem.fleets)
    cost = np.full((n, columns), np.inf)
    where = np.zeros((n, columns), dtype=np.int64)
    waiting = np.ones(n, dtype=bool)
    routes: list[_GreedyRoute] = []
    spare = [f.count for f in problem.fleets]

    def refresh(r: _GreedyRoute) -> None:
        nodes = r.nodes
        r.begin = [problem.fleets[r.fleet].tw_early]
        for a, b in itertools.pairwise(nodes):
            arrive = r.begin[-1] + int(service[a]) + int(t[a, b])
            r.begin.append(max(arrive, int(e[b - nd])) if b >= nd else arrive)
        r.latest = [0] * len(nodes)
        r.latest[-1] = problem.fleets[r.fleet].tw_late
        for k in range(len(nodes) - 2, 0, -1):
            c = nodes[k] - nd
            r.latest[k] = min(int(late[c]), r.latest[k + 1] - int(service[nodes[k]]) - int(t[nodes[k], nodes[k + 1]]))

    def column(col: int) -> None:
        r = routes[col]
        fleet = problem.fleets[r.fleet]
        cand = np.flatnonzero(waiting)
        cost[:, col] = np.inf
        if fleet.allowed is not None:
            cand = cand[fleet.allowed[cand]]
        if fleet.capacity is not None:
            cand = cand[r.load + demand[cand] <= fleet.capacity]
        if not len(cand):
            return
        nodes = np.asarray(r.nodes)
        i, j = nodes[:-1], nodes[1:]
        locs = nd + cand
        leave = np.asarray(r.begin[:-1]) + service[i]
        to_u = t[np.ix_(i, locs)]
        start_u = np.maximum(leave[:, None] + to_u, e[cand][None, :])
        from_u = t[np.ix_(locs, j)].T
        reach_j = start_u + problem.service[cand][None, :] + from_u
        ok = (start_u <= late[cand][None, :]) & (reach_j <= np.asarray(r.latest[1:])[:, None])
        delta = (to_u + from_u - t[i, j][:, None]).astype(np.float64)
        if fleet.penalty is not None:
            delta += fleet.penalty[cand][None, :]
        delta[~ok] = np.inf
        pos = np.argmin(delta, axis=0)
        cost[cand, col] = delta[pos, np.arange(len(cand))]
        where[cand, col] = pos

    def open_route(fleet_idx: int) -> int:
        f = problem.fleets[fleet_idx]
        routes.append(_GreedyRoute(fleet_idx, [f.start, f.end], [], []))
        spare[fleet_idx] -= 1
        refresh(routes[-1])
        column(len(routes) - 1)
        return len(routes) - 1

    def insert(client: int, col: int) -> None:
        r = routes[col]
        r.nodes.insert(int(where[client, col]) + 1, nd + client)
        r.load += int(demand[client])
        waiting[client] = False
        cost[client, :] = np.inf
        refresh(r)
        column(col)

    for k, f in enumerate(problem.fleets):
        if f.count == 1:
            open_route(k)
    while waiting.any():
        open_cols = len(routes)
        sub = cost[:, :open_cols]
        best = sub.min(axis=1) if open_cols else np.full(n, np.inf)
        if np.isfinite(best).any():
            second = np.partition(sub, 1, axis=1)[:, 1] if open_cols > 1 else np.full(n, np.inf)
            finite = np.isfinite(best)
            regret = np.full(n, -np.inf)
            # A client with one possible route has "infinite" regret; capped so that cheaper still wins ties.
            regret[finite] = np.minimum(second[finite], best[finite] + 1e12) - best[finite]
            # Largest regret first; then cheapest; then lowest index, so that the result is reproducible.
            order = np.lexsort((np.arange(n), best, -regret))
            client = int(order[0])
            insert(client, int(np.argmin(sub[client])))
            continue
        # Nothing fits an open route: start a new vehicle with the most urgent client that one can take
        # (ties: the farthest from the first depot, as in Solomon's seeding).
        seed = next(
            (
                (int(c), k)
                for c in np.lexsort((-t[0, nd:], late))
                if waiting[c]
                for k, f in enumerate(problem.fleets)
                if spare[k] > 0 and f.count > 1 and route_starts(problem, k, [int(c)]) is not None
            ),
            None,
        )
        if seed is None:
            break
        insert(seed[0], open_route(seed[1]))
    solution = tuple((r.fleet, tuple(node - nd for node in r.nodes[1:-1])) for r in routes if len(r.nodes) > 2)
    return RoutingSolution(solution, "greedy", time.perf_counter() - began)
