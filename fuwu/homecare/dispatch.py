"""A provider's daily dispatch plan: which caregiver makes which home visit, in what order, when.

Contract of :func:`plan` (and :func:`replan_after_absence`): in the returned :class:`Plan`

* every visit is either on exactly one caregiver's route or in ``unassigned`` with a reason in plain words;
* a visit goes only to a caregiver who holds every skill it requires and whose health certificate is valid;
* windows are hard and bound the *start* of a visit: it starts between ``window_start`` and ``window_end``
  (it may end later), so lateness is 0 by construction and is reported only as a check;
* a caregiver leaves home no earlier than the shift start and is back home by the shift end;
* among plans serving as many visits as possible, travel time is minimised, with a preference (a cost,
  never a rule) for the elder's usual caregiver.

Times are minutes from midnight. Internally the solvers work on whole seconds, travel rounded *up*, so a
schedule that fits in seconds also fits with the exact travel times.

How the rules reach PyVRP 0.14 (it has no list of allowed vehicles per client):

* one depot per caregiver's home, one vehicle type per caregiver (one vehicle, time window = shift);
* skills, and shifts that cannot reach a visit at all, are routing *profiles*: the profile of a caregiver
  who may not make a visit has ``MAX_VALUE`` distance and duration to and from that visit — the encoding
  PyVRP's own VRPLIB reader uses for ``vehicles_allowed_clients``; the huge duration makes such a route
  infeasible, so a feasible solution never contains one (and every route is checked again afterwards);
* continuity is a cost in the same profiles: for every caregiver except the elder's usual one, each edge
  into the visit costs ``Weights.continuity_minutes`` more. That is a prize difference in disguise: the
  solver gives the visit to someone else only when that saves more travel than the penalty;
* every visit is an optional client with a prize (``Weights.unassigned_minutes``) far above any detour, so
  a visit is left out only when it cannot be fitted, instead of the solve failing;
* a caregiver whose certificate has expired is not a vehicle at all.

Caregivers whose profiles coincide share one; with a different usual-caregiver row each caregiver needs
its own, and each profile holds two dense ``locations²`` matrices (about 19 MB for 1,000 visits).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from pyvrp import ProblemData

Point = tuple[float, float]
SolverName = Literal["pyvrp", "greedy"]
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# Small provider days converge in well under a second; a plan need not burn the whole budget then. It stops
# after this many search iterations per visit (at least _MIN_STALL) in a row without improvement.
_STALL_PER_VISIT = 20
_MIN_STALL = 2_000
_EARTH_RADIUS_KM = 6371.0088
# Late-acceptance history of PyVRP's search. The default (300) suits runs of hours; at a minute on 1,000
# clients a shorter memory ends lower (one run each, R1_10_1 from the greedy start: 3.9 % gap with 100,
# 4.1 % with 30, 6.5 % with 300; R2_10_1: 0.75 % with 100, 1.5 % with 30).
_ILS_HISTORY = 100


# --- Inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    id: str
    elder_id: str
    location: Point
    window_start: int
    window_end: int
    duration: int
    required_skills: frozenset[str] = frozenset()
    usual_caregiver: str | None = None


@dataclass(frozen=True)
class Caregiver:
    id: str
    home: Point
    shift_start: int
    shift_end: int
    skills: frozenset[str] = frozenset()
    certificate_valid: bool = True


@dataclass(frozen=True)
class Weights:
    """Costs in minutes of travel: what the plan is willing to drive to get something else."""

    continuity_minutes: float = 15.0
    # Must exceed any detour plus preference costs, so a visit is only dropped when it cannot be fitted.
    unassigned_minutes: float = 600.0
    # On a re-plan, moving a visit that was already promised to a (healthy) caregiver costs this much.
    stability_minutes: float = 5.0


class Travel(Protocol):
    def minutes(self, points: Sequence[Point]) -> FloatArray:
        """Travel time in minutes between every ordered pair of ``points`` (square, zero diagonal)."""
        ...


@dataclass(frozen=True)
class HaversineTravel:
    """Great-circle distance over (lat, lon), times a detour factor because roads are not straight."""

    speed_kmh: float = 25.0
    detour_factor: float = 1.3

    def minutes(self, points: Sequence[Point]) -> FloatArray:
        lat, lon = np.radians(np.asarray(points, dtype=np.float64)).T
        dlat = lat[:, None] - lat[None, :]
        dlon = lon[:, None] - lon[None, :]
        a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
        km = 2 * _EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
        return np.asarray(km * self.detour_factor / self.speed_kmh * 60.0, dtype=np.float64)


@dataclass(frozen=True)
class EuclideanTravel:
    """Straight lines on a plane; ``speed`` in distance units per minute (the benchmark's convention)."""

    speed: float = 1.0

    def minutes(self, points: Sequence[Point]) -> FloatArray:
        xy = np.asarray(points, dtype=np.float64)
        return np.asarray(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) / self.speed)


@dataclass(frozen=True, eq=False)
class MatrixTravel:
    """Times from a routing engine, looked up by exact point."""

    points: tuple[Point, ...]
    matrix: FloatArray

    def minutes(self, points: Sequence[Point]) -> FloatArray:
        index = {p: i for i, p in enumerate(self.points)}
        idx = [index[p] for p in points]
        return np.asarray(self.matrix[np.ix_(idx, idx)], dtype=np.float64)


# --- Output ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stop:
    visit_id: str
    elder_id: str
    arrival: float
    start: float
    end: float
    travel_minutes: float  # from the previous place (home or the previous elder)


@dataclass(frozen=True)
class Route:
    caregiver_id: str
    stops: tuple[Stop, ...]
    return_travel_minutes: float = 0.0
    return_home: float | None = None

    @property
    def travel_minutes(self) -> float:
        return sum(s.travel_minutes for s in self.stops) + self.return_travel_minutes

    @property
    def leave_home(self) -> float | None:
        return self.stops[0].arrival - self.stops[0].travel_minutes if self.stops else None


@dataclass(frozen=True)
class SolverSettings:
    solver: SolverName = "pyvrp"
    time_limit_s: float = 10.0
    seed: int = 0
    # CPU rather than wall seconds: for benchmarks on a shared machine, where wall time measures the load.
    cpu_time: bool = False


@dataclass(frozen=True)
class UnassignedVisit:
    visit_id: str
    reason: str


@dataclass(frozen=True, eq=False)
class Plan:
    routes: tuple[Route, ...]
    unassigned: tuple[UnassignedVisit, ...]
    total_travel_minutes: float
    total_lateness_minutes: float
    continuity: float | None  # share of served visits with a usual caregiver that went to that caregiver
    solver_used: str
    excluded_caregivers: tuple[tuple[str, str], ...]  # (caregiver id, why they got no visits at all)
    # What the plan was made from, so that it can be re-made.
    visits: tuple[Visit, ...]
    caregivers: tuple[Caregiver, ...]
    travel: Travel
    weights: Weights
    settings: SolverSettings

    def route_of(self, caregiver_id: str) -> Route | None:
        return next((r for r in self.routes if r.caregiver_id == caregiver_id), None)


# --- The integer routing core shared by the product and the benchmark --------------------------


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


# --- Planning a day -------------------------------------------------------------------------------


def clock(minutes: float) -> str:
    whole = round(minutes)
    return f"{whole // 60:02d}:{whole % 60:02d}"


@dataclass(frozen=True)
class _Start:
    """Where and when the still-open part of a caregiver's day begins, after the stops already fixed."""

    caregiver: Caregiver
    point: Point
    time: float
    fixed: tuple[Stop, ...] = ()


@dataclass(frozen=True)
class _Context:
    visits: tuple[Visit, ...]
    caregivers: tuple[Caregiver, ...]
    travel: Travel
    weights: Weights
    settings: SolverSettings
    excluded: tuple[tuple[str, str], ...]
    absent: frozenset[str] = frozenset()
    now: float | None = None
    planned_by: dict[str, str] = field(default_factory=dict)


def plan(
    visits: Sequence[Visit],
    caregivers: Sequence[Caregiver],
    *,
    travel: Travel | None = None,
    weights: Weights | None = None,
    time_limit_s: float = 10.0,
    seed: int = 0,
    solver: SolverName = "pyvrp",
    cpu_time: bool = False,
) -> Plan:
    """Plan one day. PyVRP by default; the greedy insertion when asked, or when PyVRP fails."""
    weights = weights or Weights()
    _validate(visits, caregivers, weights)
    context = _Context(
        visits=tuple(visits),
        caregivers=tuple(caregivers),
        travel=travel or HaversineTravel(),
        weights=weights,
        settings=SolverSettings(solver, time_limit_s, seed, cpu_time),
        excluded=tuple((c.id, "health certificate expired") for c in caregivers if not c.certificate_valid),
    )
    starts = [_Start(c, c.home, c.shift_start) for c in caregivers if c.certificate_valid]
    return _make_plan(context, list(visits), starts, closed=[])


def replan_after_absence(plan: Plan, caregiver_id: str, now: float) -> Plan:
    """Re-make ``plan`` at ``now`` because ``caregiver_id`` called in sick.

    Visits that started before ``now`` stay where they are (done or under way, by anyone). Every visit
    not yet started — the absent caregiver's, the others', and those unassigned before — is planned
    again among the other caregivers, each starting from where they are at ``now``. Moving a visit
    away from the healthy caregiver it was promised to costs ``Weights.stability_minutes``. Whoever
    called in sick at an earlier re-plan stays off.
    """
    caregivers = {c.id: c for c in plan.caregivers}
    if caregiver_id not in caregivers:
        raise ValueError(f"unknown caregiver {caregiver_id!r}")
    earlier = {cid for cid, _ in plan.excluded_caregivers if caregivers[cid].certificate_valid} - {caregiver_id}
    by_id = {v.id: v for v in plan.visits}
    starts: list[_Start] = []
    closed = [r for r in plan.routes if r.caregiver_id in earlier]
    todo: list[Visit] = []
    planned_by: dict[str, str] = {}
    for route in plan.routes:
        if route.caregiver_id in earlier:
            continue
        done = tuple(s for s in route.stops if s.start < now)
        for s in route.stops[len(done) :]:
            todo.append(by_id[s.visit_id])
            planned_by[s.visit_id] = route.caregiver_id
        carer = caregivers[route.caregiver_id]
        here = by_id[done[-1].visit_id].location if done else carer.home
        if route.caregiver_id == caregiver_id:
            if done:  # they finish what they started, then go home
                back = float(plan.travel.minutes([here, carer.home])[0, 1])
                closed.append(Route(carer.id, done, back, done[-1].end + back))
            continue
        starts.append(_Start(carer, here, max(done[-1].end if done else carer.shift_start, now), done))
    todo += [by_id[u.visit_id] for u in plan.unassigned]
    context = _Context(
        visits=plan.visits,
        caregivers=plan.caregivers,
        travel=plan.travel,
        weights=plan.weights,
        settings=plan.settings,
        excluded=(*plan.excluded_caregivers, (caregiver_id, f"called in sick at {clock(now)}")),
        absent=frozenset({*earlier, caregiver_id}),
        now=now,
        planned_by=planned_by,
    )
    return _make_plan(context, todo, starts, closed=closed)


def _validate(visits: Sequence[Visit], caregivers: Sequence[Caregiver], weights: Weights) -> None:
    if len({v.id for v in visits}) != len(visits):
        raise ValueError("visit ids must be unique")
    if len({c.id for c in caregivers}) != len(caregivers):
        raise ValueError("caregiver ids must be unique")
    for v in visits:
        if not 0 <= v.window_start <= v.window_end or v.duration < 0:
            raise ValueError(f"visit {v.id}: window must be ordered and duration non-negative")
    for c in caregivers:
        if not 0 <= c.shift_start <= c.shift_end:
            raise ValueError(f"caregiver {c.id}: shift must be ordered")
    if weights.unassigned_minutes <= weights.continuity_minutes + weights.stability_minutes:
        raise ValueError("leaving a visit out must cost more than any preference, or visits get dropped")


def _make_plan(context: _Context, todo: list[Visit], starts: list[_Start], closed: list[Route]) -> Plan:
    weights = context.weights
    # Depots: where each caregiver starts, then the homes of those who start elsewhere (a re-plan).
    depot_points = [s.point for s in starts]
    ends: list[int] = []
    for k, s in enumerate(starts):
        if s.point == s.caregiver.home:
            ends.append(k)
        else:
            ends.append(len(depot_points))
            depot_points.append(s.caregiver.home)
    nd = len(depot_points)
    points = depot_points + [v.location for v in todo]
    minutes = context.travel.minutes(points) if points else np.zeros((0, 0))
    # Rounded up, so that whatever fits in whole seconds also fits with the exact times.
    secs = np.ceil(minutes * 60 - 1e-6).astype(np.int64)
    np.fill_diagonal(secs, 0)
    not_before = context.now if context.now is not None else 0.0
    early = np.array([math.ceil(max(v.window_start, not_before) * 60) for v in todo], dtype=np.int64)
    late = np.array([v.window_end * 60 for v in todo], dtype=np.int64)
    service = np.array([v.duration * 60 for v in todo], dtype=np.int64)
    shift_early = np.array([math.ceil(s.time * 60) for s in starts], dtype=np.int64)
    shift_late = np.array([s.caregiver.shift_end * 60 for s in starts], dtype=np.int64)
    skilled = np.array([[v.required_skills <= s.caregiver.skills for v in todo] for s in starts], dtype=bool)
    skilled = skilled.reshape(len(starts), len(todo))
    begin = np.maximum(shift_early[:, None] + secs[: len(starts), nd:], early[None, :])
    back = secs[nd:, ends].T if len(starts) else np.zeros((0, len(todo)), dtype=np.int64)
    reach = (begin <= late[None, :]) & (begin + service[None, :] + back <= shift_late[:, None])
    able = skilled & reach
    solvable = [j for j in range(len(todo)) if early[j] <= late[j] and able[:, j].any()]

    unassigned: list[UnassignedVisit] = []
    in_problem = set(solvable)
    for j, v in enumerate(todo):
        if j not in in_problem:
            reason = _why_not(v, early[j] / 60, starts, skilled[:, j], reach[:, j], context)
            unassigned.append(UnassignedVisit(v.id, reason))

    fleets = []
    for k, s in enumerate(starts):
        penalty = np.zeros(len(solvable), dtype=np.int64)
        for col, j in enumerate(solvable):
            usual, promised = todo[j].usual_caregiver, context.planned_by.get(todo[j].id)
            if usual is not None and usual != s.caregiver.id:
                penalty[col] += round(weights.continuity_minutes * 60)
            if promised is not None and promised not in context.absent and promised != s.caregiver.id:
                penalty[col] += round(weights.stability_minutes * 60)
        fleets.append(
            Fleet(k, ends[k], int(shift_early[k]), int(shift_late[k]), allowed=able[k, solvable], penalty=penalty)
        )
    keep = list(range(nd)) + [nd + j for j in solvable]
    problem = RoutingProblem(
        coords=np.asarray(points, dtype=np.float64)[keep] if points else np.zeros((0, 2)),
        travel=secs[np.ix_(keep, keep)],
        n_depots=nd,
        tw_early=early[solvable],
        tw_late=late[solvable],
        service=service[solvable],
        prize=np.full(len(solvable), round(weights.unassigned_minutes * 60), dtype=np.int64),
        fleets=tuple(fleets),
    )
    solution = _solve(problem, context.settings)
    served = solution.served()
    for col, j in enumerate(solvable):
        if col not in served:
            who = ", ".join(starts[k].caregiver.id for k in np.flatnonzero(able[:, j]))
            why = f"capacity of the day exhausted: the caregivers who could make this visit ({who}) are fully booked"
            unassigned.append(UnassignedVisit(todo[j].id, f"{why} around {_window(todo[j])}"))

    by_fleet = dict(solution.routes)
    routes = list(closed)
    for k, s in enumerate(starts):
        clients = by_fleet.get(k, ())
        begins = route_starts(problem, k, clients)
        if begins is None:  # both solvers are checked already; this would be a bug here
            raise RuntimeError(f"route for {s.caregiver.id} breaks a rule")
        stops = list(s.fixed)
        here, free = k, int(shift_early[k])
        for c, b in zip(clients, begins, strict=True):
            j = solvable[c]
            leg = float(minutes[here, nd + j])
            # The first new visit: leave as late as possible rather than wait on the doorstep.
            arrival = b if here == k else free + int(secs[here, nd + j])
            stops.append(Stop(todo[j].id, todo[j].elder_id, arrival / 60, b / 60, (b + service[j]) / 60, leg))
            here, free = nd + j, b + int(service[j])
        if stops:
            back_min = float(minutes[here, ends[k]])
            home = (free + int(secs[here, ends[k]])) / 60
            routes.append(Route(s.caregiver.id, tuple(stops), back_min, home))
        else:
            routes.append(Route(s.caregiver.id, ()))
    order = {c.id: i for i, c in enumerate(context.caregivers)}
    routes.sort(key=lambda r: order[r.caregiver_id])
    return _summarise(context, routes, unassigned, solution.solver)


def _solve(problem: RoutingProblem, settings: SolverSettings) -> RoutingSolution:
    if problem.n_clients == 0:
        return RoutingSolution((), settings.solver, 0.0)
    clock = time.process_time if settings.cpu_time else time.perf_counter
    began = clock()
    greedy = solve_greedy(problem)
    if settings.solver == "greedy":
        return greedy
    try:
        # Started from the greedy plan, PyVRP can only improve on it: its best is never worse than its start.
        return solve_pyvrp(
            problem,
            time_limit_s=max(0.0, settings.time_limit_s - (clock() - began)),
            seed=settings.seed,
            cpu_time=settings.cpu_time,
            stall_iterations=max(_MIN_STALL, _STALL_PER_VISIT * problem.n_clients),
            initial=greedy,
        )
    except Exception as exc:  # any PyVRP failure must still leave the provider with a plan
        return RoutingSolution(greedy.routes, f"greedy (PyVRP failed: {exc})", greedy.seconds)


def _summarise(context: _Context, routes: list[Route], unassigned: list[UnassignedVisit], solver: str) -> Plan:
    by_id = {v.id: v for v in context.visits}
    lateness = 0.0
    usual = kept = 0
    for route in routes:
        for stop in route.stops:
            visit = by_id[stop.visit_id]
            lateness += max(0.0, stop.start - visit.window_end)
            if visit.usual_caregiver is not None:
                usual += 1
                kept += visit.usual_caregiver == route.caregiver_id
    order = {v.id: i for i, v in enumerate(context.visits)}
    return Plan(
        routes=tuple(routes),
        unassigned=tuple(sorted(unassigned, key=lambda u: order[u.visit_id])),
        total_travel_minutes=sum(r.travel_minutes for r in routes),
        total_lateness_minutes=lateness,
        continuity=kept / usual if usual else None,
        solver_used=solver,
        excluded_caregivers=context.excluded,
        visits=context.visits,
        caregivers=context.caregivers,
        travel=context.travel,
        weights=context.weights,
        settings=context.settings,
    )


def _window(visit: Visit) -> str:
    return f"{clock(visit.window_start)}–{clock(visit.window_end)}"


def _quoted(skills: Sequence[str]) -> str:
    names = [f"'{s}'" for s in skills]
    if len(names) == 1:
        return f"skill {names[0]}"
    return f"skills {', '.join(names[:-1])} and {names[-1]}"


def _why_not(
    visit: Visit, earliest: float, starts: list[_Start], skilled: BoolArray, reach: BoolArray, context: _Context
) -> str:
    """The first rule, from the most to the least fundamental, that no caregiver can satisfy."""
    window = _window(visit)
    if earliest > visit.window_end:
        return f"its window {window} had passed when the plan was re-made at {clock(earliest)}"
    need = sorted(visit.required_skills)
    who = f"caregiver with {_quoted(need)}" if need else "caregiver"
    holders = [c for c in context.caregivers if visit.required_skills <= c.skills]
    if not holders:
        if not context.caregivers:
            return "no caregiver is on the roster"
        missing = [s for s in need if not any(s in c.skills for c in context.caregivers)]
        return f"no caregiver has {_quoted(missing)}" if missing else f"no single caregiver has all of {_quoted(need)}"
    if not skilled.any():
        expired = [c.id for c in holders if not c.certificate_valid]
        away = [c.id for c in holders if c.id in context.absent]
        if expired and not away:
            return f"caregiver certificate expired: every {who} ({', '.join(expired)}) holds an expired certificate"
        if away and not expired:
            return f"every {who} ({', '.join(away)}) is absent"
        return f"every {who} is unavailable: {', '.join(expired)} (certificate expired), {', '.join(away)} (absent)"
    on_shift = [
        s
        for k, s in enumerate(starts)
        if skilled[k]
        and s.caregiver.shift_start <= visit.window_end
        and s.caregiver.shift_end >= earliest + visit.duration
    ]
    if not on_shift:
        return f"no {who} works at {window}"
    if all(s.time > visit.window_end for s in on_shift):  # only on a re-plan: still busy with started visits
        busy = ", ".join(s.caregiver.id for s in on_shift)
        return f"capacity of the day exhausted: every {who} on shift at {window} ({busy}) is busy with visits under way"
    return f"no {who}'s shift can reach this elder within the time window {window} and get home in time"
