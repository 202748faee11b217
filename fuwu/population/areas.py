"""Counties, their generated villages and their age pyramids, from the areas file and the parameters."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from fuwu.areas.services import GENERATED_FROM
from fuwu.population import PopulationError
from fuwu.population import parameters as P
from fuwu.population.draws import Floats

# `make demo` (`fuwu areas load`) generates two villages per township: township code + 901, 902.
VILLAGES_PER_TOWNSHIP = 2


@dataclass(frozen=True)
class County:
    params: P.CountyParams
    persons: int
    villages: tuple[str, ...]
    village_kind: tuple[str, ...]  # 街道, 镇 or 乡 of the village's township
    village_weight: Floats
    village_urban: Floats  # probability that a household there holds urban hukou
    street_weight: Floats  # where people move to: the county's street communities
    age_cdf: Floats  # cumulative distribution over single years of age 0..MAX_AGE


def read_townships(areas_path: Path) -> dict[str, list[tuple[str, str]]]:
    """County code → [(township code, kind)] from the areas file."""
    try:
        data = yaml.safe_load(areas_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PopulationError(f"cannot read the areas file {areas_path}: {exc}") from exc
    found: dict[str, list[tuple[str, str]]] = {}

    def visit(node: dict[str, Any]) -> None:
        if node.get("level") == "county":
            found[str(node["code"])] = [
                (str(t["code"]), str(t["kind"])) for t in node.get("children") or [] if t.get("level") == "township"
            ]
        for child in node.get("children") or []:
            visit(child)

    for root in (data or {}).get("areas") or []:
        visit(root)
    return found


def census_weights() -> list[float]:
    """Each county's 2020 census population; the three mountain counties' joint remainder is split
    by their end-2022 resident populations (their census figures are not in the issue)."""
    six = sum(c.census or 0 for c in P.COUNTIES)
    three_weight = sum(c.split_weight for c in P.COUNTIES)
    return [
        float(c.census) if c.census is not None else (P.CENSUS_TOTAL - six) * c.split_weight / three_weight
        for c in P.COUNTIES
    ]


def county_sizes(size: int) -> list[int]:
    """Largest-remainder apportionment of ``size`` persons over the counties by census share."""
    weights = census_weights()
    total = sum(weights)
    exact = [size * w / total for w in weights]
    sizes = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (sizes[i] - exact[i], i))
    for i in by_remainder[: size - sum(sizes)]:
        sizes[i] += 1
    return sizes


def age_cdf(aged_60_plus: float) -> Floats:
    """Cumulative shares by single year of age: the city's five-year groups (even within each),
    with the 60+ share set to the county's and the younger groups scaled to make room."""
    groups = np.repeat(np.asarray(P.AGE_GROUPS_PERCENT, dtype=np.float64) / 5.0, 5)
    ages = np.arange(P.MAX_AGE + 1)
    elder = ages >= 60
    groups = groups / groups.sum()
    weights = np.where(
        elder, groups * aged_60_plus / P.AGED_60_PLUS, groups * (1 - aged_60_plus) / (1 - P.AGED_60_PLUS)
    )
    cdf: Floats = np.cumsum(weights / weights.sum())
    cdf[-1] = 1.0
    return cdf


def load_counties(areas_path: Path, size: int) -> list[County]:
    """The counties in the areas file, each with its share of ``size`` persons and its villages."""
    townships = read_townships(areas_path)
    expected = {c.code for c in P.COUNTIES}
    if set(townships) != expected:
        raise PopulationError(
            f"{areas_path}: counties {sorted(townships)} differ from the population model's {sorted(expected)}"
        )
    sizes = county_sizes(size)
    shares = census_weights()
    # County 60+ shares are modelled relative to one another; rescale so the city has the census share.
    scale = P.AGED_60_PLUS * sum(shares) / sum(s * c.aged_60_plus for s, c in zip(shares, P.COUNTIES, strict=True))
    counties = []
    for params, persons in zip(P.COUNTIES, sizes, strict=True):
        codes: list[str] = []
        kinds: list[str] = []
        for township, kind in townships[params.code]:
            for n in range(VILLAGES_PER_TOWNSHIP):
                codes.append(f"{township}{GENERATED_FROM + n:03d}")
                kinds.append(kind)
        if not codes:
            raise PopulationError(f"{areas_path}: county {params.code} has no townships")
        weight = np.array([P.TOWNSHIP_WEIGHT.get(k, 1.0) for k in kinds])
        urban = np.array(
            [
                params.urban_in_street
                if k == "街道"
                else params.urban_in_town * (P.URBAN_IN_XIANG_FACTOR if k == "乡" else 1.0)
                for k in kinds
            ]
        )
        street = weight * np.array([k == "街道" for k in kinds])
        if not street.any():
            street = weight
        counties.append(
            County(
                params=params,
                persons=persons,
                villages=tuple(codes),
                village_kind=tuple(kinds),
                village_weight=weight / weight.sum(),
                village_urban=urban,
                street_weight=street / street.sum(),
                age_cdf=age_cdf(min(params.aged_60_plus * scale, 0.9)),
            )
        )
    return counties
