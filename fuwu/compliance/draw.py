"""The random draw (双随机) as a pure function of what it read (the frame) and its seed, so anyone can redo it.

Method ``sha256-rank-v1``, published with every draw:

1. Institutions are split into strata by kind and county. In a stratum of N institutions whose kind is drawn
   at ratio r, the number drawn is ceil(r × N).
2. Each institution in the stratum is ranked by ``sha256("<seed>|<stratum>|<institution id>")`` as
   hexadecimal text; the lowest ranks are drawn.
3. For each institution drawn, each eligible inspector is ranked by
   ``sha256("<seed>|inspect|<institution id>|<inspector id>")``; the two lowest are drawn. Eligible: in the
   pool, their area covers the institution's county, not employed by the institution, not declared
   conflicted with it.

Hashes rather than a pseudo-random generator: the result does not depend on the Python version, and a
citizen can check one pick with any SHA-256 tool.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

METHOD = "sha256-rank-v1"
PAIR = 2


@dataclass(frozen=True)
class PoolMember:
    id: int
    area_prefix: str  # the inspector covers institutions whose county code starts with this
    employer: int | None


@dataclass(frozen=True)
class Frame:
    strata: Mapping[str, list[int]]  # "kind|county code" → institution ids
    ratios: Mapping[str, Decimal]  # kind → share drawn
    pool: list[PoolMember]
    conflicts: frozenset[tuple[int, int]]  # (inspector, institution)

    def as_json(self) -> dict[str, Any]:
        return {
            "strata": {k: sorted(v) for k, v in sorted(self.strata.items())},
            "ratios": {k: str(v) for k, v in sorted(self.ratios.items())},
            "pool": [{"id": m.id, "area": m.area_prefix, "employer": m.employer} for m in sorted(self.pool, key=_id)],
            "conflicts": sorted([list(c) for c in self.conflicts]),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Frame:
        return cls(
            strata={k: list(v) for k, v in data["strata"].items()},
            ratios={k: Decimal(v) for k, v in data["ratios"].items()},
            pool=[PoolMember(m["id"], m["area"], m["employer"]) for m in data["pool"]],
            conflicts=frozenset((int(a), int(b)) for a, b in data["conflicts"]),
        )

    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.as_json(), sort_keys=True).encode()).hexdigest()


def _id(member: PoolMember) -> int:
    return member.id


@dataclass(frozen=True)
class Pick:
    institution: int
    stratum: str
    inspectors: tuple[int, int]


@dataclass(frozen=True)
class Shortage:
    """An institution drawn for which fewer than two inspectors are eligible."""

    institution: int
    stratum: str
    eligible: int


def rank(seed: str, *parts: object) -> str:
    return hashlib.sha256("|".join([seed, *map(str, parts)]).encode()).hexdigest()


def quota(ratio: Decimal, size: int) -> int:
    return min(size, math.ceil(ratio * size)) if ratio > 0 else 0


def county_of(stratum: str) -> str:
    return stratum.rsplit("|", 1)[1]


def draw(frame: Frame, seed: str) -> tuple[list[Pick], list[Shortage]]:
    picks: list[Pick] = []
    shortages: list[Shortage] = []
    pool = sorted(frame.pool, key=_id)
    for stratum in sorted(frame.strata):
        kind = stratum.rsplit("|", 1)[0]
        members = frame.strata[stratum]
        chosen = sorted(members, key=lambda i: rank(seed, stratum, i))[
            : quota(frame.ratios.get(kind, Decimal(0)), len(members))
        ]
        county = county_of(stratum)
        for institution in sorted(chosen):
            eligible = [
                m.id
                for m in pool
                if county.startswith(m.area_prefix)
                and m.employer != institution
                and (m.id, institution) not in frame.conflicts
            ]
            if len(eligible) < PAIR:
                shortages.append(Shortage(institution, stratum, len(eligible)))
                continue
            first, second = sorted(eligible, key=lambda i: rank(seed, "inspect", institution, i))[:PAIR]
            picks.append(Pick(institution, stratum, (first, second)))
    return picks, shortages
