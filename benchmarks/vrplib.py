"""Reader for the Gehring & Homberger VRPTW files in ``../shared/data/vrptw-gh1000/`` and their solutions.

Written out rather than taken from the ``vrplib`` package so that the costs we report are computed by code
that shares nothing with the solver's side (PyVRP reads instances through ``vrplib``).

Convention (DIMACS 2021 VRPTW, checked against every ``.sol`` file in the data set): every distance is the
Euclidean distance *truncated* to one decimal, travel time equals distance, and the objective is total
distance. With unrounded distances no published cost is reproduced (each comes out 0.08–0.25 % higher),
and twelve of the thirty best-known solutions would reach some customer late (by up to 0.84).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path


def _data_dir() -> Path:
    """``FUWU_VRPTW_DIR``, else the workplace's ``shared`` folder beside the checkout (wherever it is cloned)."""
    if os.environ.get("FUWU_VRPTW_DIR"):
        return Path(os.environ["FUWU_VRPTW_DIR"])
    candidates = [
        Path(__file__).resolve().parents[2] / "shared" / "data" / "vrptw-gh1000",
        Path("/work/shared/data/vrptw-gh1000"),
    ]
    return next((c for c in candidates if c.is_dir()), candidates[0])


DATA_DIR = _data_dir()


@dataclass(frozen=True)
class Instance:
    name: str
    vehicles: int
    capacity: int
    coords: tuple[tuple[int, int], ...]  # index 0 is the depot
    demand: tuple[int, ...]
    ready: tuple[int, ...]
    due: tuple[int, ...]
    service: tuple[int, ...]

    @property
    def n_customers(self) -> int:
        return len(self.coords) - 1

    def tenths(self, a: int, b: int) -> int:
        """Distance between nodes ``a`` and ``b`` in tenths, truncated: exact integer arithmetic, no floats."""
        (xa, ya), (xb, yb) = self.coords[a], self.coords[b]
        return math.isqrt(100 * ((xa - xb) ** 2 + (ya - yb) ** 2))


@dataclass(frozen=True)
class Solution:
    routes: tuple[tuple[int, ...], ...]  # customer numbers 1..n, depot left implicit
    cost: float


def _number(text: str) -> int:
    value = float(text)
    if not value.is_integer():
        raise ValueError(f"expected a whole number, got {text!r}")
    return int(value)


def read_instance(path: Path) -> Instance:
    header: dict[str, str] = {}
    sections: dict[str, dict[int, list[int]]] = {}
    current: dict[int, list[int]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if line.endswith("SECTION"):
            current = sections.setdefault(line, {})
        elif current is None:
            key, _, value = line.partition(":")
            header[key.strip()] = value.strip()
        elif line != "-1":
            node, *values = line.split()
            current[int(node)] = [_number(v) for v in values]
    nodes = sorted(sections["NODE_COORD_SECTION"])
    if nodes != list(range(1, len(nodes) + 1)) or sections["DEPOT_SECTION"] != {1: []}:
        raise ValueError(f"{path.name}: expected nodes 1..n with node 1 as the only depot")
    if "SERVICE_TIME_SECTION" in sections:
        service = [sections["SERVICE_TIME_SECTION"][i][0] for i in nodes]
    else:  # one service time for every customer, none at the depot
        service = [0] + [_number(header["SERVICE_TIME"])] * (len(nodes) - 1)
    coords = sections["NODE_COORD_SECTION"]
    windows = sections["TIME_WINDOW_SECTION"]
    return Instance(
        name=header.get("NAME", path.stem),
        vehicles=int(header["VEHICLES"]),
        capacity=int(header["CAPACITY"]),
        coords=tuple((coords[i][0], coords[i][1]) for i in nodes),
        demand=tuple(sections["DEMAND_SECTION"][i][0] for i in nodes),
        ready=tuple(windows[i][0] for i in nodes),
        due=tuple(windows[i][1] for i in nodes),
        service=tuple(service),
    )


def read_solution(path: Path) -> Solution:
    routes: list[tuple[int, ...]] = []
    cost: float | None = None
    for line in path.read_text().splitlines():
        if line.startswith("Route"):
            routes.append(tuple(int(c) for c in line.partition(":")[2].split()))
        elif line.startswith("Cost"):
            cost = float(line.split()[1])
    if cost is None:
        raise ValueError(f"{path.name}: no Cost line")
    return Solution(tuple(routes), cost)


@dataclass(frozen=True)
class Check:
    distance: float  # total, in the instance's units
    problems: tuple[str, ...]  # empty when the routes are a feasible solution

    @property
    def feasible(self) -> bool:
        return not self.problems


def check_routes(instance: Instance, routes: tuple[tuple[int, ...], ...] | list[tuple[int, ...]]) -> Check:
    """Cost and feasibility of ``routes`` (customer numbers) by the DIMACS rules, all in integer tenths."""
    problems: list[str] = []
    seen = [c for r in routes for c in r]
    if sorted(seen) != list(range(1, instance.n_customers + 1)):
        problems.append("customers missing or repeated")
    if len([r for r in routes if r]) > instance.vehicles:
        problems.append("more routes than vehicles")
    total = 0
    for k, route in enumerate(routes):
        if sum(instance.demand[c] for c in route) > instance.capacity:
            problems.append(f"route {k + 1} over capacity")
        clock, here = 10 * instance.ready[0], 0
        for node in (*route, 0):
            leg = instance.tenths(here, node)
            total += leg
            clock = max(clock + 10 * instance.service[here] + leg, 10 * instance.ready[node])
            if clock > 10 * instance.due[node]:
                problems.append(f"route {k + 1} reaches node {node + 1} at {clock / 10} after {instance.due[node]}")
            here = node
    return Check(total / 10, tuple(problems))
