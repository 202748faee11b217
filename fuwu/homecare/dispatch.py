"""A provider's daily dispatch plan: which caregiver makes which home visit, in what order, when.

Contract of :func:`plan` (and :func:`replan_after_absence`): in the returned :class:`Plan`

* every visit is either on exactly one caregiver's route as its lead or in ``unassigned`` with a reason in plain
  words; a visit for ``staff`` caregivers is also on ``staff - 1`` other routes as a partner, all starting at the
  same minute (PyVRP cannot synchronise vehicles: see ``_pair`` for how, and what is not guaranteed);
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

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from fuwu.homecare.routing import (
    BoolArray,
    Fleet,
    FloatArray,
    IntArray,
    RoutingProblem,
    RoutingSolution,
    route_starts,
    solve_greedy,
    solve_pyvrp,
)

if TYPE_CHECKING:
    pass

Point = tuple[float, float]
SolverName = Literal["pyvrp", "greedy"]
StopRole = Literal["lead", "partner"]

# Small provider days converge in well under a second; a plan need not burn the whole budget then. It stops
# after this many search iterations per visit (at least _MIN_STALL) in a row without improvement.
_STALL_PER_VISIT = 20
_MIN_STALL = 2_000
_EARTH_RADIUS_KM = 6371.0088


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
    # How many caregivers make the visit together (bathing: two). The lead's stop and each partner's stop
    # start at the same minute.
    staff: int = 1


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
    # "lead" makes the visit (one per visit); "partner" joins a visit that needs more than one caregiver.
    role: StopRole = "lead"


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
            if s.role == "lead":  # a partner's stop comes back with its visit
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
        if v.staff < 1:
            raise ValueError(f"visit {v.id}: at least one caregiver makes a visit")
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
    # A visit for two needs two caregivers who could each make it; otherwise it is not worth a place in a route.
    solvable = [j for j in range(len(todo)) if early[j] <= late[j] and able[:, j].sum() >= max(1, todo[j].staff)]

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
    for k, s in enumerate(starts):
        if route_starts(problem, k, by_fleet.get(k, ())) is None:  # both solvers are checked already: a bug here
            raise RuntimeError(f"route for {s.caregiver.id} breaks a rule")
    day = _Day(starts, nd, ends, secs, early, late, service, shift_early, shift_late)
    lead: StopRole = "lead"
    sequences = [[(solvable[c], lead) for c in by_fleet.get(k, ())] for k in range(len(starts))]
    fixed = _pair(day, todo, sequences, skilled, unassigned)
    routes = list(closed)
    for k, s in enumerate(starts):
        begins = day.timeline(k, sequences[k], fixed)
        if begins is None:  # pairing only inserts where a timeline fits; this would be a bug here
            raise RuntimeError(f"route for {s.caregiver.id} breaks a rule after pairing")
        stops = list(s.fixed)
        here, free = k, int(shift_early[k])
        for (j, role), b in zip(sequences[k], begins, strict=True):
            leg = float(minutes[here, nd + j])
            # The first new visit: leave as late as possible rather than wait on the doorstep.
            arrival = b if here == k else free + int(secs[here, nd + j])
            stops.append(Stop(todo[j].id, todo[j].elder_id, arrival / 60, b / 60, (b + service[j]) / 60, leg, role))
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


@dataclass(frozen=True, eq=False)
class _Day:
    """The day's times in whole seconds, indexed as in ``_make_plan`` (depots, then the visits to plan)."""

    starts: list[_Start]
    nd: int
    ends: list[int]
    secs: IntArray
    early: IntArray
    late: IntArray
    service: IntArray
    shift_early: IntArray
    shift_late: IntArray

    def timeline(self, k: int, sequence: Sequence[tuple[int, StopRole]], fixed: dict[int, int]) -> list[int] | None:
        """Earliest starts of ``sequence`` (visit index, role) on caregiver ``k``'s day, or None if it breaks a rule.

        A visit in ``fixed`` starts exactly then (both caregivers of a two-person visit are there together).
        """
        now, here = int(self.shift_early[k]), k
        begins: list[int] = []
        for j, _role in sequence:
            arrive = now + int(self.secs[here, self.nd + j])
            begin = fixed.get(j, max(arrive, int(self.early[j])))
            if begin < arrive or begin > self.late[j]:
                return None
            begins.append(begin)
            now, here = begin + int(self.service[j]), self.nd + j
        if now + int(self.secs[here, self.ends[k]]) > self.shift_late[k]:
            return None
        return begins

    def arrival(
        self, k: int, sequence: Sequence[tuple[int, StopRole]], at: int, j: int, fixed: dict[int, int]
    ) -> int | None:
        """The earliest caregiver ``k`` can be at visit ``j`` if it comes at position ``at`` of ``sequence``."""
        now, here = int(self.shift_early[k]), k
        for i, _role in sequence[:at]:
            arrive = now + int(self.secs[here, self.nd + i])
            begin = fixed.get(i, max(arrive, int(self.early[i])))
            if begin < arrive or begin > self.late[i]:
                return None
            now, here = begin + int(self.service[i]), self.nd + i
        return now + int(self.secs[here, self.nd + j])

    def detour(self, k: int, sequence: Sequence[tuple[int, StopRole]], at: int, j: int) -> int:
        """Extra travel (seconds) for caregiver ``k`` to go to visit ``j`` between positions ``at - 1`` and ``at``."""
        before = k if at == 0 else self.nd + sequence[at - 1][0]
        after = self.ends[k] if at == len(sequence) else self.nd + sequence[at][0]
        here = self.nd + j
        return int(self.secs[before, here] + self.secs[here, after] - self.secs[before, after])


def _pair(
    day: _Day,
    todo: list[Visit],
    sequences: list[list[tuple[int, StopRole]]],
    skilled: BoolArray,
    unassigned: list[UnassignedVisit],
) -> dict[int, int]:
    """Give every visit that needs more than one caregiver its partners, at the minute its lead starts it.

    PyVRP has no synchronised visits, so the solver plans each visit for its lead alone; then, in order of
    start, each multi-staff visit gets its partners among the other caregivers with the skills: for each
    of them and each place in their day, the visit starts when both can be there (the lead's planned start,
    or later if the partner arrives later) provided both days still keep every window and shift (other
    visits may move within their windows; visits already paired do not move). The smallest detour wins,
    then the earliest start. A visit that finds too few partners is taken off its lead's route and reported
    unassigned. Sequences are changed in place; returns the fixed start (seconds) of each paired visit.

    Not guaranteed: a plan that could fit a two-person visit by moving the lead's or another caregiver's
    visits to other caregivers is not searched for; the first partner sets the start that any further
    partners (three-person visits) must meet.
    """
    fixed: dict[int, int] = {}
    leads = {j: k for k, sequence in enumerate(sequences) for j, role in sequence if role == "lead"}
    waiting = [j for j in leads if todo[j].staff > 1]
    starts_now = {k: day.timeline(k, sequence, fixed) for k, sequence in enumerate(sequences)}

    def start_of(j: int) -> int:
        k = leads[j]
        begins = starts_now[k] or []
        return begins[[i for i, _ in sequences[k]].index(j)]

    for j in sorted(waiting, key=start_of):
        k = leads[j]
        begins = day.timeline(k, sequences[k], fixed)
        assert begins is not None  # noqa: S101 - every sequence stays feasible between steps
        planned = begins[[i for i, _ in sequences[k]].index(j)]
        when = planned
        chosen: list[int] = []
        for _ in range(todo[j].staff - 1):
            best: tuple[int, int, int, int] | None = None
            for p, sequence in enumerate(sequences):
                if p == k or p in chosen or not skilled[p, j]:
                    continue
                for at in range(len(sequence) + 1):
                    come = day.arrival(p, sequence, at, j, fixed)
                    if come is None:
                        continue
                    # Together: when the later of the two can be there (once set, further partners keep it).
                    start = max(when, come) if not chosen else when
                    trial = {**fixed, j: start}
                    candidate = [*sequence[:at], (j, "partner"), *sequence[at:]]
                    if day.timeline(p, candidate, trial) is None or day.timeline(k, sequences[k], trial) is None:
                        continue
                    if any(day.timeline(c, sequences[c], trial) is None for c in chosen):
                        continue
                    option = (day.detour(p, sequence, at, j), start, p, at)
                    if best is None or option < best:
                        best = option
            if best is None:
                break
            _cost, when, p, at = best
            sequences[p].insert(at, (j, "partner"))
            chosen.append(p)
        if len(chosen) == todo[j].staff - 1:
            fixed[j] = when
            continue
        for p in [k, *chosen]:
            sequences[p][:] = [entry for entry in sequences[p] if entry[0] != j]
        unassigned.append(UnassignedVisit(todo[j].id, _no_partner(todo[j], planned)))
    return fixed


def _no_partner(visit: Visit, when: int) -> str:
    need = sorted(visit.required_skills)
    who = f"caregiver with {_quoted(need)}" if need else "caregiver"
    span = f"{clock(when / 60)}–{clock((when / 60) + visit.duration)}"
    return f"needs {visit.staff} caregivers together: no other {who} can join the lead at {span} or later in its window"


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
            if stop.role != "lead":
                continue
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
    able = [s.caregiver.id for k, s in enumerate(starts) if skilled[k] and reach[k]]
    if able and len(able) < visit.staff:
        return f"needs {visit.staff} caregivers together: only {', '.join(able)} can make it at {window}"
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
