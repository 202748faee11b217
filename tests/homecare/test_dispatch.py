"""Dispatch planning: small days whose best plan is known by hand, checked by a checker of our own."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import replace
from typing import Any, cast

import pytest

from benchmarks.dispatch import GH_INSTANCES, gh_problem, taizhou_day
from benchmarks.vrplib import DATA_DIR, check_routes, read_instance, read_solution
from fuwu.homecare import dispatch
from fuwu.homecare.dispatch import (
    Caregiver,
    EuclideanTravel,
    HaversineTravel,
    Plan,
    SolverName,
    Travel,
    Visit,
    Weights,
    plan,
    replan_after_absence,
)
from fuwu.homecare.routing import (
    IntArray,
    RoutingProblem,
    RoutingSolution,
    solve_greedy,
    solve_pyvrp,
)

LINE = EuclideanTravel(speed=1.0)  # one distance unit per minute: travel is readable off the coordinates
QUICK = 2.0  # seconds; the small days below converge long before


@pytest.fixture(params=["pyvrp", "pyvrp from scratch", "greedy"])
def solver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> SolverName:
    """Each test runs with PyVRP as shipped (warm-started from the greedy plan), PyVRP alone, and greedy."""
    if request.param == "pyvrp from scratch":
        # Without the greedy start, so that the PyVRP encoding (profiles, prizes) is what gets tested.
        warm = dispatch.solve_pyvrp

        def cold(problem: RoutingProblem, **kwargs: Any) -> RoutingSolution:
            return warm(problem, **{**kwargs, "initial": None})

        monkeypatch.setattr(dispatch, "solve_pyvrp", cold)
        return "pyvrp"
    return cast(SolverName, request.param)


def carer(
    id_: str,
    home: tuple[float, float] = (0, 0),
    *,
    shift_start: int = 0,
    shift_end: int = 1000,
    skills: frozenset[str] = frozenset(),
    certificate_valid: bool = True,
) -> Caregiver:
    return Caregiver(id_, home, shift_start, shift_end, skills, certificate_valid)


def visit(
    id_: str,
    at: tuple[float, float],
    start: int = 0,
    end: int = 900,
    duration: int = 0,
    *,
    required_skills: frozenset[str] = frozenset(),
    usual_caregiver: str | None = None,
    staff: int = 1,
) -> Visit:
    return Visit(id_, f"elder-{id_}", at, start, end, duration, required_skills, usual_caregiver, staff)


def violations(made: Plan, travel: Travel) -> list[str]:
    """Every rule the plan breaks, recomputed from the routes alone (never the solver's own flags).

    A visit for more than one is on its lead's route and on each partner's, all starting at the same minute.
    """
    visits = {v.id: v for v in made.visits}
    carers = {c.id: c for c in made.caregivers}
    broken: list[str] = []
    placed = Counter(s.visit_id for r in made.routes for s in r.stops if s.role == "lead")
    for vid in visits:
        reported = sum(u.visit_id == vid for u in made.unassigned)
        if placed[vid] + reported != 1:
            broken.append(f"{vid}: planned {placed[vid]}x, reported unassigned {reported}x")
    crews: dict[str, list[tuple[str, float]]] = {}
    for route in made.routes:
        for stop in route.stops:
            crews.setdefault(stop.visit_id, []).append((route.caregiver_id, stop.start))
    for vid, crew in crews.items():
        if placed[vid] and len(crew) != visits[vid].staff:
            broken.append(f"{vid}: {len(crew)} caregivers planned, {visits[vid].staff} needed")
        if len({who for who, _ in crew}) != len(crew) or len({round(when, 6) for _, when in crew}) != 1:
            broken.append(f"{vid}: the crew {crew} is not distinct caregivers starting together")
    for route in made.routes:
        c = carers[route.caregiver_id]
        here, free = c.home, float(c.shift_start)
        for stop in route.stops:
            v = visits[stop.visit_id]
            leg = float(travel.minutes([here, v.location])[0, 1])
            if not c.certificate_valid:
                broken.append(f"{v.id}: {c.id}'s certificate has expired")
            if not v.required_skills <= c.skills:
                broken.append(f"{v.id}: {c.id} lacks {sorted(v.required_skills - c.skills)}")
            if stop.start < free + leg - 1e-6:
                broken.append(f"{v.id}: starts at {stop.start} but {c.id} cannot be there before {free + leg}")
            if not v.window_start - 1e-6 <= stop.start <= v.window_end + 1e-6:
                broken.append(f"{v.id}: starts at {stop.start} outside {v.window_start}-{v.window_end}")
            if not math.isclose(stop.end, stop.start + v.duration):
                broken.append(f"{v.id}: lasts {stop.end - stop.start}, not {v.duration}")
            here, free = v.location, stop.start + v.duration
        if route.stops and free + float(travel.minutes([here, c.home])[0, 1]) > c.shift_end + 1e-6:
            broken.append(f"{c.id}: home after the shift ends")
    return broken


def travel_of(made: Plan) -> float:
    return round(made.total_travel_minutes, 6)


def assignment(made: Plan) -> dict[str, str]:
    return {s.visit_id: r.caregiver_id for r in made.routes for s in r.stops if s.role == "lead"}


def partners(made: Plan) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for route in made.routes:
        for stop in route.stops:
            if stop.role == "partner":
                found.setdefault(stop.visit_id, set()).add(route.caregiver_id)
    return found


def reasons(made: Plan) -> dict[str, str]:
    return {u.visit_id: u.reason for u in made.unassigned}


def test_two_caregivers_take_the_visits_on_their_side(solver: SolverName) -> None:
    # Optimum by hand: each caregiver does the two visits on their side, 20 out and 20 back: 80 in all.
    carers = [carer("west", (0, 0)), carer("east", (100, 0))]
    visits = [visit("w1", (10, 0)), visit("w2", (20, 0)), visit("e1", (90, 0)), visit("e2", (80, 0))]
    made = plan(visits, carers, travel=LINE, solver=solver, time_limit_s=QUICK)
    assert violations(made, LINE) == []
    assert travel_of(made) == 80
    assert assignment(made) == {"w1": "west", "w2": "west", "e1": "east", "e2": "east"}
    assert made.total_lateness_minutes == 0
    assert made.unassigned == ()


def test_a_bath_for_two_gets_a_second_caregiver_at_the_same_minute(solver: SolverName) -> None:
    # Two caregivers either side of the elder: one leads, the other joins; both 50 out and 50 back.
    carers = [carer("west", (0, 0)), carer("east", (100, 0))]
    bath = visit("bath", (50, 0), 100, 200, 60, staff=2)
    made = plan([bath], carers, travel=LINE, solver=solver, time_limit_s=QUICK)
    assert violations(made, LINE) == []
    assert made.unassigned == ()
    (lead,) = assignment(made).values()
    assert partners(made) == {"bath": {"west", "east"} - {lead}}
    assert travel_of(made) == 200


def test_the_partner_is_whoever_is_free_then(solver: SolverName) -> None:
    # "busy" must make the nursing visit at 100-160 (only they can); the bath at 100 takes the other two.
    skill = frozenset({"nursing"})
    carers = [carer("a", (0, 0)), carer("busy", (0, 0), skills=skill), carer("c", (0, 10))]
    visits = [
        visit("nurse", (50, 0), 100, 100, 60, required_skills=skill),
        visit("bath", (50, 5), 100, 100, 60, staff=2),
    ]
    made = plan(visits, carers, travel=LINE, solver=solver, time_limit_s=QUICK)
    assert violations(made, LINE) == []
    assert assignment(made)["nurse"] == "busy"
    assert {assignment(made)["bath"], *partners(made)["bath"]} == {"a", "c"}


def test_a_bath_without_a_free_second_caregiver_is_left_out_with_the_reason(solver: SolverName) -> None:
    # Both can bathe, but "busy" alone can nurse at 100: the bath at 100 finds no second pair of hands.
    skill = frozenset({"nursing"})
    carers = [carer("a", (0, 0)), carer("busy", (0, 0), skills=skill)]
    visits = [
        visit("nurse", (50, 0), 100, 100, 60, required_skills=skill),
        visit("bath", (50, 5), 100, 100, 60, staff=2),
    ]
    made = plan(visits, carers, travel=LINE, solver=solver, time_limit_s=QUICK)
    assert violations(made, LINE) == []
    assert assignment(made) == {"nurse": "busy"}
    assert reasons(made) == {
        "bath": "needs 2 caregivers together: no other caregiver can join the lead at 01:40–02:40 or later "
        "in its window"
    }
    assert all(r.stops == () for r in made.routes if r.caregiver_id == "a")


def test_the_bath_waits_for_a_partner_who_comes_from_further_away(solver: SolverName) -> None:
    # "near" could start at 50; "far" cannot be there before 120: the bath starts at 120, both there.
    carers = [carer("near", (0, 0)), carer("far", (170, 0))]
    made = plan([visit("bath", (50, 0), 0, 300, 60, staff=2)], carers, travel=LINE, solver=solver)
    assert violations(made, LINE) == []
    starts = {r.caregiver_id: s.start for r in made.routes for s in r.stops}
    assert starts == {"near": 120, "far": 120}


def test_a_bath_only_one_caregiver_could_make_is_not_planned(solver: SolverName) -> None:
    carers = [carer("a", (0, 0)), carer("late", (0, 0), shift_start=500)]
    made = plan([visit("bath", (50, 0), 100, 150, 60, staff=2)], carers, travel=LINE, solver=solver)
    assert reasons(made) == {"bath": "needs 2 caregivers together: only a can make it at 01:40–02:30"}
    assert all(r.stops == () for r in made.routes)


def test_a_bath_finds_a_new_partner_when_one_calls_in_sick(solver: SolverName) -> None:
    carers = [carer("west", (0, 0)), carer("east", (100, 0)), carer("north", (50, 40))]
    made = plan([visit("bath", (50, 0), 100, 200, 60, staff=2)], carers, travel=LINE, solver=solver)
    crew = {assignment(made)["bath"], *partners(made)["bath"]}
    sick = sorted(crew)[0]
    later = replan_after_absence(made, sick, now=10)
    assert violations(later, LINE) == []
    assert {assignment(later)["bath"], *partners(later)["bath"]} == {"west", "east", "north"} - {sick}


def test_windows_decide_the_order(solver: SolverName) -> None:
    # b must start by 25, so b (20 out) comes first, then a (10 back), then home (10): 40, with a wait.
    visits = [visit("a", (10, 0), 50, 60, duration=5), visit("b", (20, 0), 0, 25, duration=5)]
    made = plan(visits, [carer("c")], travel=LINE, solver=solver, time_limit_s=QUICK)
    route = made.routes[0]
    assert [s.visit_id for s in route.stops] == ["b", "a"]
    assert travel_of(made) == 40
    assert route.stops[0].start == 20
    assert route.stops[1].start == 50
    assert route.leave_home == 0
    assert route.return_home == 65
    assert violations(made, LINE) == []


def test_skills_are_required(solver: SolverName) -> None:
    # "near" lives next to both elders but cannot bathe; "far" comes 50 each way for the bath only.
    carers = [carer("near", (0, 10)), carer("far", (50, 0), skills=frozenset({"bathing"}))]
    visits = [visit("bath", (0, 0), required_skills=frozenset({"bathing"})), visit("chat", (0, 12))]
    made = plan(visits, carers, travel=LINE, solver=solver, time_limit_s=QUICK)
    assert assignment(made) == {"bath": "far", "chat": "near"}
    assert travel_of(made) == 104
    assert violations(made, LINE) == []


def test_shifts_are_respected(solver: SolverName) -> None:
    carers = [
        carer("morning", (0, 0), shift_start=480, shift_end=720),
        carer("day", (40, 0), shift_start=480, shift_end=1080),
    ]
    visits = [visit("am", (5, 0), 500, 530, duration=60), visit("pm", (5, 0), 800, 830, duration=60)]
    made = plan(visits, carers, travel=LINE, solver=solver, time_limit_s=QUICK)
    # "morning" lives next door but has gone home by 12:00; "day" comes anyway and takes "am" on the way.
    assert assignment(made) == {"am": "day", "pm": "day"}
    assert travel_of(made) == 70
    assert violations(made, LINE) == []


def test_an_expired_certificate_is_never_assigned(solver: SolverName) -> None:
    carers = [carer("lapsed", (0, 0), certificate_valid=False), carer("valid", (60, 0))]
    visits = [visit(f"v{i}", (i, 0)) for i in range(4)]
    made = plan(visits, carers, travel=LINE, solver=solver, time_limit_s=QUICK)
    assert set(assignment(made).values()) == {"valid"}
    assert made.route_of("lapsed") is None
    assert ("lapsed", "health certificate expired") in made.excluded_caregivers
    assert violations(made, LINE) == []


def test_impossible_visits_come_back_with_the_reason(solver: SolverName) -> None:
    carers = [
        carer("ann", (0, 0), shift_start=480, shift_end=1080, skills=frozenset({"bathing"})),
        carer("bo", (0, 0), shift_start=480, shift_end=1080, skills=frozenset({"rehab"}), certificate_valid=False),
    ]
    visits = [
        visit("nurse", (5, 0), 600, 660, required_skills=frozenset({"nursing"})),
        visit("evening", (5, 0), 1200, 1260, required_skills=frozenset({"bathing"})),
        visit("faraway", (500, 0), 500, 560),
        visit("rehab", (5, 0), 600, 660, required_skills=frozenset({"rehab"})),
        visit("first", (5, 0), 490, 500, duration=60),
        visit("second", (5, 0), 490, 500, duration=60),
    ]
    made = plan(visits, carers, travel=LINE, solver=solver, time_limit_s=QUICK)
    why = reasons(made)
    assert why["nurse"] == "no caregiver has skill 'nursing'"
    assert why["evening"] == "no caregiver with skill 'bathing' works at 20:00–21:00"
    assert why["faraway"].startswith("no caregiver's shift can reach this elder within the time window 08:20–09:20")
    assert why["rehab"].startswith("caregiver certificate expired")
    # Only one of two simultaneous hour-long visits fits ann's morning; which one is the solver's choice.
    full = [v for v in ("first", "second") if v in why]
    assert len(full) == 1
    assert why[full[0]].startswith("capacity of the day exhausted")
    assert len(assignment(made)) == 1
    assert violations(made, LINE) == []


def test_continuity_is_kept_when_it_costs_nothing(solver: SolverName) -> None:
    # Both caregivers live in the same place: the usual one gets the elder at no extra travel.
    carers = [carer("a", (0, 0)), carer("b", (0, 0))]
    visits = [visit("v1", (10, 0), usual_caregiver="b"), visit("v2", (-10, 0), usual_caregiver="a")]
    made = plan(visits, carers, travel=LINE, solver=solver, time_limit_s=QUICK)
    assert assignment(made) == {"v1": "b", "v2": "a"}
    assert made.continuity == 1.0
    assert travel_of(made) == 40


@pytest.mark.parametrize(("penalty", "expected"), [(15.0, "near"), (30.0, "usual")])
def test_continuity_is_a_price_not_a_rule(solver: SolverName, penalty: float, expected: str) -> None:
    # The usual caregiver lives 10 further away: 20 more minutes of travel, worth paying only above 20.
    carers = [carer("near", (0, 0)), carer("usual", (-10, 0))]
    visits = [visit("v", (5, 0), usual_caregiver="usual")]
    weights = Weights(continuity_minutes=penalty)
    made = plan(visits, carers, travel=LINE, weights=weights, solver=solver, time_limit_s=QUICK)
    assert assignment(made) == {"v": expected}


def test_replan_after_absence_keeps_what_started_and_moves_the_rest(solver: SolverName) -> None:
    carers = [
        carer("sick", (0, 0), shift_start=480, shift_end=1080),
        carer("helper", (0, 5), shift_start=480, shift_end=1080),
    ]
    visits = [
        visit("s1", (10, 0), 500, 520, duration=30, usual_caregiver="sick"),
        visit("s2", (20, 0), 600, 660, duration=30, usual_caregiver="sick"),
        visit("s3", (30, 0), 700, 760, duration=30, usual_caregiver="sick"),
        visit("h1", (0, 10), 500, 520, duration=30, usual_caregiver="helper"),
        visit("h2", (0, 20), 600, 620, duration=30, usual_caregiver="helper"),
        # At 11:00 nobody can make this one any more: only "sick" could, and "helper" is busy then.
        visit("clash", (0, 20), 600, 620, duration=30, usual_caregiver="sick"),
    ]
    first = plan(visits, carers, travel=LINE, solver=solver, time_limit_s=QUICK)
    assert violations(first, LINE) == []
    assert assignment(first)["s1"] == "sick"
    assert assignment(first)["h1"] == "helper"

    now = 590.0
    again = replan_after_absence(first, "sick", now)
    assert violations(again, LINE) == []
    before = {s.visit_id: s for r in first.routes for s in r.stops}
    after = {s.visit_id: s for r in again.routes for s in r.stops}
    # Whatever started before the call stays exactly as it was.
    assert after["s1"] == before["s1"]
    assert after["h1"] == before["h1"]
    sick_route = again.route_of("sick")
    assert sick_route is not None
    assert [s.visit_id for s in sick_route.stops] == ["s1"]
    # The rest of the sick caregiver's day goes to the helper, after the call and in the helper's own time.
    assert all(s.start >= now for r in again.routes for s in r.stops if s.visit_id not in ("s1", "h1"))
    assert assignment(again)["s2"] == "helper"
    assert assignment(again)["s3"] == "helper"
    # The helper keeps the visit promised to them; the one at the same time cannot be made by anyone.
    assert assignment(again)["h2"] == "helper"
    assert reasons(again)["clash"].startswith("capacity of the day exhausted")
    assert ("sick", "called in sick at 09:50") in again.excluded_caregivers


def test_a_second_absence_keeps_the_first_one_off(solver: SolverName) -> None:
    carers = [carer(name) for name in ("a", "b", "c")]
    # Nine short visits, three at a time at 100, 160 and 220: everyone is busy in every slot.
    slots = [100 + 60 * (k // 3) for k in range(9)]
    visits = [visit(f"v{k}", (10 * (k % 3 + 1), 0), slots[k], slots[k] + 10, 20) for k in range(9)]
    first = plan(visits, carers, travel=LINE, solver=solver, time_limit_s=QUICK)
    assert first.unassigned == ()
    second = replan_after_absence(first, "a", now=150)
    third = replan_after_absence(second, "b", now=170)
    assert violations(third, LINE) == []
    for made, who, now in ((second, "a", 150), (third, "a", 150), (third, "b", 170)):
        route = made.route_of(who)
        assert route is None or all(s.start < now for s in route.stops)
    assert {cid for cid, _ in third.excluded_caregivers} == {"a", "b"}
    # "c" alone cannot make three visits at once: the leftovers say why.
    assert len(reasons(third)) >= 3
    assert all(r.startswith(("capacity", "its window", "no caregiver's shift")) for r in reasons(third).values())


def test_replan_reports_a_window_that_has_passed() -> None:
    carers = [carer("sick"), carer("other")]
    # Three hour-long visits at once for two caregivers: one is left over, and by 00:30 it is too late.
    visits = [visit(f"v{i}", (10, 0), 10, 20, duration=60) for i in range(3)]
    first = plan(visits, carers, travel=LINE, solver="greedy")
    (left_over,) = first.unassigned
    assert left_over.reason.startswith("capacity of the day exhausted")
    again = replan_after_absence(first, "sick", now=30.0)
    assert reasons(again) == {
        left_over.visit_id: "its window 00:10–00:20 had passed when the plan was re-made at 00:30"
    }
    assert assignment(again) == assignment(first)
    assert violations(again, LINE) == []
    with pytest.raises(ValueError, match="unknown caregiver"):
        replan_after_absence(first, "nobody", now=5.0)


def test_a_county_morning_is_feasible(solver: SolverName) -> None:
    visits, carers = taizhou_day(n_visits=120, n_caregivers=12, seed=7)
    travel = HaversineTravel()
    made = plan(visits, carers, travel=travel, solver=solver, time_limit_s=3.0)
    assert violations(made, travel) == []
    assert made.total_lateness_minutes == 0
    assert made.solver_used == solver
    served = sum(len(r.stops) for r in made.routes)
    assert served + len(made.unassigned) == len(visits)
    assert all(u.reason for u in made.unassigned)


def test_pyvrp_failure_falls_back_to_greedy(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(dispatch, "solve_pyvrp", broken)
    made = plan([visit("v", (3, 4))], [carer("c")], travel=LINE, solver="pyvrp")
    assert made.solver_used == "greedy (PyVRP failed: solver crashed)"
    assert travel_of(made) == 10


def test_haversine_minutes() -> None:
    # One degree of latitude is about 111.2 km; with the default 1.3 detour at 25 km/h that is ~347 min.
    minutes = HaversineTravel().minutes([(29.0, 121.0), (30.0, 121.0)])
    assert minutes[0, 1] == pytest.approx(111.195 * 1.3 / 25 * 60, rel=1e-3)
    assert minutes[0, 0] == 0


def test_invalid_input_is_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        plan([visit("v", (0, 0)), visit("v", (1, 0))], [carer("c")], travel=LINE)
    with pytest.raises(ValueError, match="window"):
        plan([visit("v", (0, 0), 50, 40)], [carer("c")], travel=LINE)
    with pytest.raises(ValueError, match="preference"):
        plan([], [carer("c")], travel=LINE, weights=Weights(continuity_minutes=900))


# --- Gehring & Homberger ----------------------------------------------------------------------


@pytest.mark.parametrize("name", GH_INSTANCES)
def test_published_solutions_reproduce_their_cost(name: str) -> None:
    instance = read_instance(DATA_DIR / f"{name}.vrp")
    best = read_solution(DATA_DIR / f"{name}.sol")
    check = check_routes(instance, best.routes)
    assert check.feasible, check.problems[:3]
    assert check.distance == pytest.approx(best.cost, abs=1e-9)


def test_unrounded_distances_do_not_reproduce_the_published_cost() -> None:
    instance = read_instance(DATA_DIR / "C1_10_1.vrp")
    best = read_solution(DATA_DIR / "C1_10_1.sol")
    exact = sum(
        math.dist(instance.coords[a], instance.coords[b])
        for route in best.routes
        for a, b in zip((0, *route), (*route, 0), strict=True)
    )
    assert exact == pytest.approx(42479.08, abs=0.01)
    assert best.cost == 42444.8


def test_gh_problem_uses_exact_truncated_tenths() -> None:
    instance = read_instance(DATA_DIR / "R2_10_1.vrp")
    problem = gh_problem(instance)
    for a, b in [(0, 1), (5, 900), (17, 333), (999, 1000)]:
        assert (
            problem.travel[a, b]
            == instance.tenths(a, b)
            == math.floor(10 * math.dist(instance.coords[a], instance.coords[b]))
        )


def test_both_solvers_solve_part_of_a_gh_instance_feasibly(solver: SolverName) -> None:
    # The first 200 customers of RC1_10_1 are a VRPTW instance of their own; the full 1000 are the benchmark's.
    whole = read_instance(DATA_DIR / "RC1_10_1.vrp")
    part = replace(
        whole,
        **{f: getattr(whole, f)[:201] for f in ("coords", "demand", "ready", "due", "service")},
    )
    problem = gh_problem(part)
    found = solve_greedy(problem) if solver == "greedy" else solve_pyvrp(problem, time_limit_s=2.0, seed=1)
    check = check_routes(part, [tuple(c + 1 for c in clients) for _, clients in found.routes])
    assert check.feasible, check.problems[:3]
    assert check.distance * 10 == pytest.approx(sum(_cost(problem.travel, c) for _, c in found.routes))


def _cost(travel: IntArray, clients: tuple[int, ...]) -> int:
    nodes = (0, *(c + 1 for c in clients), 0)
    return sum(int(travel[a, b]) for a, b in itertools.pairwise(nodes))
