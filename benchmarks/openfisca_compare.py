"""fuwu and OpenFisca-core side by side: the same rules, the same population, person by person (issue 3 §6).

The thirteen rules of ``benchmarks/fixtures/openfisca-subset.yaml`` are written once in fuwu's rule language
and once, by hand, as an OpenFisca tax-benefit system below: a ``Person`` and a ``Household`` entity, a
``Variable`` per fact (inputs for the base facts, formulas for the derived ones) and, per item, an eligibility
boolean and, where the rule has a level, its amount and units. The dated values (allowance tables, the
minimum-allowance line, …) are OpenFisca parameters built from the fixture's ``parameters`` section, so each
side looks up the value in force on the as-of date by its own machinery; the formulas share no code with fuwu.

Both sides read one Parquet population (``tests/eligibility/population.py``, every base fact):

* fuwu: ``screening.run`` with the ``DuckDBEngine``, end to end: read, screen, write Parquet partitions;
* OpenFisca: read the columns into numpy arrays, build a ``Simulation`` with ``SimulationBuilder`` (persons,
  households, memberships) and ``set_input``, then ``calculate`` every item's variables, all vectorised.

The two answers are then joined on (person, item): the eligible set, the amounts in fen and the units must be
identical. OpenFisca has no NULL, so the population is generated with no unknown facts (``unknown=0``); fuwu's
"unknown" answers would otherwise have nothing to compare with.

Two modelling choices on the OpenFisca side are forced by exactness, and are worth knowing:

* OpenFisca's ``float`` variables are float32. A household's summed income (up to 600,000 yuan) is then only
  exact to about 6 fen, so incomes are ``int`` variables in fen and the household income per member is
  rounded half-up in integer arithmetic, as fuwu defines it. Amounts (at most tens of thousands of yuan) stay
  float32 yuan and are compared after rounding to the fen, half away from zero.
* Area codes have 12 digits, more than OpenFisca's ``int`` (int32) holds, so they are ``str`` variables; the
  derived city and county codes (4 and 6 digits) are ``int``, which compare much faster than OpenFisca's
  object-dtype strings.

Each side runs in its own subprocess; its wall clock is measured inside it, and its peak memory is the
process's own high-water mark (``VmHWM``). ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is not used: on Linux,
``subprocess`` starts children with vfork, and the child's ``ru_maxrss`` then includes the parent's own peak.

    python -m benchmarks.openfisca_compare --persons 1000000 --seed 1 --json result.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from openfisca_core.entities import build_entity
from openfisca_core.indexed_enums import Enum
from openfisca_core.parameters import ParameterNode
from openfisca_core.periods import DAY, ETERNITY, instant
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

from fuwu.eligibility.facts import BASE_FACTS, FactType

FIXTURE = Path(__file__).parent / "fixtures" / "openfisca-subset.yaml"
DEFAULT_AS_OF = dt.date(2026, 11, 29)
REPO = Path(__file__).resolve().parent.parent

# --- The OpenFisca model ------------------------------------------------------------------------------------

Person = build_entity(key="person", plural="persons", label="A resident", is_person=True)
Household = build_entity(
    key="household",
    plural="households",
    label="A hukou household (户)",
    roles=[{"key": "member", "plural": "members", "label": "Member"}],
)

# One OpenFisca Enum per categorical fact, with the vocabulary's values (their order is the index).
ENUMS: dict[str, type[Enum]] = {
    f.name: Enum("".join(p.title() for p in f.name.split("_")), [(v, v) for v in f.allowed])
    for f in BASE_FACTS
    if f.type == FactType.TEXT and f.allowed
}


def _input_variable(name: str, fact_type: FactType) -> type[Variable]:
    """A base fact: stored per person, the same on every date."""
    attributes: dict[str, Any] = {"entity": Person, "definition_period": ETERNITY, "label": name}
    if name in ENUMS:
        enum = ENUMS[name]
        attributes |= {"value_type": Enum, "possible_values": enum, "default_value": next(iter(enum))}
    elif name == "income":
        attributes |= {"value_type": int, "unit": "fen"}  # float32 is too coarse for household sums
    else:
        attributes["value_type"] = {
            FactType.BOOLEAN: bool,
            FactType.INTEGER: int,
            FactType.DATE: dt.date,
            FactType.AREA: str,  # 12 digits: more than int32 holds
            FactType.TEXT: str,
        }[fact_type]
    return type(name, (Variable,), attributes)


INPUTS = tuple(_input_variable(f.name, f.type) for f in BASE_FACTS if f.name != "household_id")

LowIncome = ENUMS["low_income_status"]
CareNeed = ENUMS["care_need"]
Veteran = ENUMS["veteran_category"]
Stage = ENUMS["school_stage"]
HouseGrade = ENUMS["house_grade"]
HukouType = ENUMS["hukou_type"]
Sex = ENUMS["sex"]

TAIZHOU_LOW, TAIZHOU_HIGH = "331000000000", "331099999999"


def _fen(value: float) -> int:
    """A parameter's value in fen (parameters are exact decimals with at most two places)."""
    return int((Decimal(str(value)) * 100).to_integral_value())


# Derived facts --------------------------------------------------------------------------------------------


class age(Variable):
    value_type = int
    entity = Person
    definition_period = DAY
    label = "Age in full years (周岁) on the day; a 29 February birthday counts from 1 March"

    def formula(person, period, parameters):
        birth = person("birth_date", period)
        day = period.start
        years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
        month_start = birth.astype("datetime64[M]")
        months = month_start.astype(np.int64) % 12 + 1
        days = (birth - month_start).astype(np.int64) + 1
        before_birthday = (day.month * 100 + day.day) < (months * 100 + days)
        return day.year - years - before_birthday


class hukou_city(Variable):
    value_type = int  # 4 digits fit; integers compare far faster than OpenFisca's object-dtype strings
    entity = Person
    definition_period = DAY
    label = "Hukou city: the first 4 digits of the area code, as a number"

    def formula(person, period, parameters):
        return person("hukou_area", period).astype("U4").astype(np.int32)


class hukou_county(Variable):
    value_type = int
    entity = Person
    definition_period = DAY
    label = "Hukou county: the first 6 digits of the area code, as a number"

    def formula(person, period, parameters):
        return person("hukou_area", period).astype("U6").astype(np.int32)


class is_veteran(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        return person("veteran_category", period) != Veteran.none


class is_disabled(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        return person("disability_grade", period) > 0


class household_size(Variable):
    value_type = int
    entity = Household
    definition_period = DAY

    def formula(household, period, parameters):
        return household.nb_persons()


class household_income_per_capita(Variable):
    value_type = int
    entity = Household
    definition_period = DAY
    unit = "fen"
    label = "Household income per member, rounded half-up to the fen"

    def formula(household, period, parameters):
        total = household.sum(household.members("income", period)).astype(np.int64)
        members = household.nb_persons().astype(np.int64)
        return (2 * total + members) // (2 * members)


class household_has_disabled(Variable):
    value_type = bool
    entity = Household
    definition_period = DAY

    def formula(household, period, parameters):
        return household.any(household.members("is_disabled", period))


# Shared conditions ------------------------------------------------------------------------------------------


class has_taizhou_hukou(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        return person("hukou_city", period) == 3310


class lives_in_taizhou(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        area = person("residence_area", period).astype("U12")
        return (area >= TAIZHOU_LOW) & (area <= TAIZHOU_HIGH)


def _low_income(person: Any, period: Any) -> Any:
    return person("low_income_status", period) != LowIncome.none


# The items ------------------------------------------------------------------------------------------------


class old_age_allowance_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        return (person("age", period) >= 80) & person("has_taizhou_hukou", period)


class old_age_allowance_amount(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    unit = "yuan per month"

    def formula(person, period, parameters):
        table = parameters(period).old_age_allowance
        age = person("age", period)
        amount = np.select([age >= 100, age >= 90], [table["100+"], table["90-99"]], table["80-89"])
        return amount * person("old_age_allowance_eligible", period)


class home_care_subsidy_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        age = person("age", period)
        return (age >= 60) & (_low_income(person, period) | (age >= 80)) & person("has_taizhou_hukou", period)


def _care_need_bands(person: Any, period: Any) -> tuple[Any, ...]:
    need = person("care_need", period)
    return need == CareNeed.severe, need == CareNeed.moderate, need == CareNeed.mild


class home_care_subsidy_amount(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    unit = "yuan per month"

    def formula(person, period, parameters):
        table = parameters(period).home_care_subsidy
        amount = np.select(
            list(_care_need_bands(person, period)), [table.severe, table.moderate, table.mild], table.able
        )
        return amount * person("home_care_subsidy_eligible", period)


class home_care_subsidy_units(Variable):
    value_type = int
    entity = Person
    definition_period = DAY
    unit = "hours per month"

    def formula(person, period, parameters):
        hours = np.select(list(_care_need_bands(person, period)), [30, 20, 10], 4)
        return hours * person("home_care_subsidy_eligible", period)


class disability_living_subsidy_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        status = person("low_income_status", period)
        low_income = (status == LowIncome.minimum_allowance) | (status == LowIncome.marginal)
        return person("is_disabled", period) & low_income & person("has_taizhou_hukou", period)


class disability_living_subsidy_amount(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    unit = "yuan per month"

    def formula(person, period, parameters):
        full = parameters(period).disability_living_subsidy
        amount = np.where(person("disability_grade", period) <= 2, full, full * 0.5)
        return amount * person("disability_living_subsidy_eligible", period)


class disability_nursing_subsidy_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        grade = person("disability_grade", period)
        return ((grade == 1) | (grade == 2)) & person("has_taizhou_hukou", period)


class disability_nursing_subsidy_amount(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    unit = "yuan per month"

    def formula(person, period, parameters):
        table = parameters(period).disability_nursing_subsidy
        amount = np.where(person("disability_grade", period) == 1, table["grade-1"], table["grade-2"])
        return amount * person("disability_nursing_subsidy_eligible", period)


class family_doctor_key_groups_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        key_group = (
            (person("age", period) >= 65)
            | person("fd_hypertension", period)
            | person("fd_diabetes", period)
            | person("fd_severe_mental", period)
            | person("fd_pregnant", period)
            | person("is_disabled", period)
        )
        return key_group & person("lives_in_taizhou", period)


class family_doctor_key_groups_units(Variable):
    value_type = int
    entity = Person
    definition_period = DAY
    unit = "follow-ups per year"

    def formula(person, period, parameters):
        return 4 * person("family_doctor_key_groups_eligible", period)


class child_health_0_6_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        return (person("age", period) <= 6) & person("lives_in_taizhou", period)


class child_health_0_6_units(Variable):
    value_type = int
    entity = Person
    definition_period = DAY
    unit = "contacts, once"

    def formula(person, period, parameters):
        return 13 * person("child_health_0_6_eligible", period)


class boarding_living_allowance_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        stage = person("school_stage", period)
        at_school = (stage == Stage.primary) | (stage == Stage.junior_secondary) | (stage == Stage.senior_secondary)
        return (
            at_school & person("boarding", period) & _low_income(person, period) & person("has_taizhou_hukou", period)
        )


class boarding_living_allowance_amount(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    unit = "yuan per year"

    def formula(person, period, parameters):
        table = parameters(period).boarding_allowance
        stage = person("school_stage", period)
        amount = np.select(
            [stage == Stage.primary, stage == Stage.junior_secondary], [table.primary, table.junior], table.senior
        )
        return amount * person("boarding_living_allowance_eligible", period)


class rural_house_renovation_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        grade = person("house_grade", period)
        unsafe = (grade == HouseGrade.C) | (grade == HouseGrade.D)
        low_income_or_disabled = _low_income(person, period) | person.household("household_has_disabled", period)
        return (
            (person("hukou_type", period) == HukouType.rural)
            & unsafe
            & low_income_or_disabled
            & person("has_taizhou_hukou", period)
        )


class rural_house_renovation_amount(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    unit = "yuan, once"

    def formula(person, period, parameters):
        table = parameters(period).house_renovation
        amount = np.where(person("house_grade", period) == HouseGrade.D, table.D, table.C)
        return amount * person("rural_house_renovation_eligible", period)


class free_bus_70_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        return (person("age", period) >= 70) & person("has_taizhou_hukou", period)


class minimum_allowance_topup_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        line = _fen(parameters(period).minimum_allowance_line)
        below = person.household("household_income_per_capita", period) < line
        minimum = person("low_income_status", period) == LowIncome.minimum_allowance
        return minimum & below & person("has_taizhou_hukou", period)


class minimum_allowance_topup_amount(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    unit = "yuan per year"

    def formula(person, period, parameters):
        p = parameters(period)
        per_capita = person.household("household_income_per_capita", period).astype(np.int64)
        fen = np.maximum(_fen(p.minimum_allowance_line) - per_capita, _fen(p.minimum_topup_floor))
        return fen / 100 * person("minimum_allowance_topup_eligible", period)


class veterans_festival_visit_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        return person("is_veteran", period) & person("has_taizhou_hukou", period)


class veterans_festival_visit_amount(Variable):
    value_type = float
    entity = Person
    definition_period = DAY
    unit = "yuan per year"

    def formula(person, period, parameters):
        table = parameters(period).veterans_visit
        category = person("veteran_category", period)
        priority = (
            (category == Veteran.disabled_serviceman)
            | (category == Veteran.martyr_survivor)
            | (category == Veteran.duty_death_survivor)
        )
        return np.where(priority, table.priority, table.standard) * person("veterans_festival_visit_eligible", period)


class veterans_festival_visit_units(Variable):
    value_type = int
    entity = Person
    definition_period = DAY
    unit = "visits per year"

    def formula(person, period, parameters):
        return 1 * person("veterans_festival_visit_eligible", period)


class lone_elder_visits_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        county = person("hukou_county", period)
        in_counties = (county == 331002) | (county == 331081)
        return (person("age", period) >= 70) & person("lives_alone", period) & in_counties


class lone_elder_visits_units(Variable):
    value_type = int
    entity = Person
    definition_period = DAY
    unit = "visits per month"

    def formula(person, period, parameters):
        visits = np.where(person("age", period) >= 80, 4, 2)
        return visits * person("lone_elder_visits_eligible", period)


class two_cancer_screening_eligible(Variable):
    value_type = bool
    entity = Person
    definition_period = DAY

    def formula(person, period, parameters):
        age = person("age", period)
        woman = person("sex", period) == Sex.female
        return woman & (age >= 35) & (age <= 64) & person("lives_in_taizhou", period)


class two_cancer_screening_units(Variable):
    value_type = int
    entity = Person
    definition_period = DAY
    unit = "screenings per year"

    def formula(person, period, parameters):
        return 1 * person("two_cancer_screening_eligible", period)


DERIVED = (
    age,
    hukou_city,
    hukou_county,
    is_veteran,
    is_disabled,
    household_size,
    household_income_per_capita,
    household_has_disabled,
    has_taizhou_hukou,
    lives_in_taizhou,
)
RULES = (
    old_age_allowance_eligible,
    old_age_allowance_amount,
    home_care_subsidy_eligible,
    home_care_subsidy_amount,
    home_care_subsidy_units,
    disability_living_subsidy_eligible,
    disability_living_subsidy_amount,
    disability_nursing_subsidy_eligible,
    disability_nursing_subsidy_amount,
    family_doctor_key_groups_eligible,
    family_doctor_key_groups_units,
    child_health_0_6_eligible,
    child_health_0_6_units,
    boarding_living_allowance_eligible,
    boarding_living_allowance_amount,
    rural_house_renovation_eligible,
    rural_house_renovation_amount,
    free_bus_70_eligible,
    minimum_allowance_topup_eligible,
    minimum_allowance_topup_amount,
    veterans_festival_visit_eligible,
    veterans_festival_visit_amount,
    veterans_festival_visit_units,
    lone_elder_visits_eligible,
    lone_elder_visits_units,
    two_cancer_screening_eligible,
    two_cancer_screening_units,
)
ITEMS = tuple(v.__name__.removesuffix("_eligible").replace("_", "-") for v in RULES if v.__name__.endswith("_eligible"))


def _variable_base(item: str) -> str:
    return item.replace("-", "_")


# --- Parameters -----------------------------------------------------------------------------------------------


@cache
def parsed_fixture(fixture: Path = FIXTURE) -> Any:
    from fuwu.standards.parsing import parse_standard_file

    return parse_standard_file(fixture)


def parameter_data(fixture: Path = FIXTURE) -> dict[str, Any]:
    """The fixture's dated parameters in OpenFisca's parameter format (a table becomes a node of bands)."""
    data: dict[str, Any] = {}
    for parameter in parsed_fixture(fixture).document.parameters:
        dated = [(v.effective_from.isoformat(), v.value) for v in parameter.values]

        def history(band: str | None, dated: list[tuple[str, Any]] = dated) -> dict[str, Any]:
            return {"values": {day: {"value": float(value[band] if band else value)} for day, value in dated}}

        first = dated[0][1]
        name = parameter.id.replace("-", "_")
        data[name] = {band: history(band) for band in first} if isinstance(first, dict) else history(None)
    return data


Perturbation = tuple[str, float]  # ("minimum_allowance_line" or "old_age_allowance.80-89", amount added)


def build_system(*, as_of: dt.date, fixture: Path = FIXTURE, perturb: Perturbation | None = None) -> TaxBenefitSystem:
    """The OpenFisca model; ``perturb`` adds an amount to one parameter from ``as_of`` on (to test the test)."""
    system = TaxBenefitSystem([Person, Household])
    system.add_variables(*INPUTS, *DERIVED, *RULES)
    system.parameters = ParameterNode("", data=parameter_data(fixture))
    if perturb:
        name, delta = perturb
        node: Any = system.parameters
        for part in name.split("."):
            node = node.children[part]
        node.update(start=instant(as_of.isoformat()), value=float(node(as_of.isoformat())) + delta)
    return system


# --- The OpenFisca side ---------------------------------------------------------------------------------------


def _column(table: pa.Table, name: str, fact_type: FactType) -> np.ndarray:
    column = table.column(name).combine_chunks()
    if name in ENUMS:  # encode to the Enum's indices, distinct values only
        codes = {v: i for i, v in enumerate(ENUMS[name].__members__)}
        encoded = pc.dictionary_encode(column)
        lookup = np.array([codes[v] for v in encoded.dictionary.to_pylist()], dtype=np.int16)
        return lookup[encoded.indices.to_numpy()]
    if name == "income":
        return pc.cast(pc.multiply(column, pa.scalar(100)), pa.int64()).to_numpy().astype(np.int32)
    return column.to_numpy(zero_copy_only=False)


@dataclass
class OpenFiscaRun:
    seconds: float
    load_seconds: float
    compute_seconds: float
    results: pa.Table  # person_id, item, amount_fen, units_hundredths: the eligible (person, item) pairs


def run_openfisca(population: Path, *, as_of: dt.date, system: TaxBenefitSystem) -> OpenFiscaRun:
    """Load the population into a Simulation and compute every item, vectorised."""
    started = time.perf_counter()
    names = ["person_id", "household_id", *(f.name for f in BASE_FACTS if f.name != "household_id")]
    table = pq.read_table(population, columns=names)
    households = pc.dictionary_encode(table.column("household_id").combine_chunks())
    person_ids = table.column("person_id").to_numpy()

    builder = SimulationBuilder()
    builder.create_entities(system)
    builder.declare_person_entity("person", person_ids)
    household = builder.declare_entity("household", np.arange(len(households.dictionary)))
    builder.join_with_persons(household, households.indices.to_numpy(), np.zeros(len(person_ids), dtype=np.int16))
    simulation = builder.build(system)
    for fact in BASE_FACTS:
        if fact.name != "household_id":
            simulation.set_input(fact.name, "eternity", _column(table, fact.name, fact.type))
    del table
    loaded = time.perf_counter()

    day = as_of.isoformat()
    computed: dict[str, tuple[np.ndarray, np.ndarray | None, np.ndarray | None]] = {}
    for item in ITEMS:
        base = _variable_base(item)
        eligible = simulation.calculate(f"{base}_eligible", day)
        amount = simulation.calculate(f"{base}_amount", day) if f"{base}_amount" in system.variables else None
        units = simulation.calculate(f"{base}_units", day) if f"{base}_units" in system.variables else None
        computed[item] = (eligible, amount, units)
    finished = time.perf_counter()

    parts = []
    for item, (eligible, amount, units) in computed.items():
        index = np.flatnonzero(eligible)
        parts.append(
            pa.table(
                {
                    "person_id": pa.array(person_ids[index], pa.int64()),
                    "item": pa.array([item] * len(index), pa.string()),
                    "amount_fen": _hundredths(amount, index),
                    "units_hundredths": _hundredths(units, index),
                }
            )
        )
    return OpenFiscaRun(finished - started, loaded - started, finished - loaded, pa.concat_tables(parts))


def _hundredths(values: np.ndarray | None, index: np.ndarray) -> pa.Array:
    """Yuan to fen (units to hundredths), rounded half away from zero; null where the rule has no such level."""
    if values is None:
        return pa.nulls(len(index), pa.int64())
    scaled = values[index].astype(np.float64) * 100
    return pa.array((np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)).astype(np.int64))


# --- The fuwu side --------------------------------------------------------------------------------------------


def fuwu_rules(fixture: Path = FIXTURE) -> list[Any]:
    from fuwu.eligibility.ruleset import rules_from_document

    parsed = parsed_fixture(fixture)
    return rules_from_document(parsed.document, version=1, content_hash=parsed.content_hash)


def run_fuwu(
    population: Path,
    out: Path,
    *,
    as_of: dt.date,
    rules: Sequence[Any],
    partitions: int = 16,
    threads: int | None = None,
) -> float:
    """``screening.run`` with DuckDB, end to end (read, screen, write Parquet); its wall-clock seconds."""
    import duckdb  # noqa: F401 - imported before the clock starts, as OpenFisca is

    from fuwu.eligibility import screening

    started = time.perf_counter()
    plan = screening.Plan(
        engine="duckdb", as_of=as_of, population=population, out=out, partitions=partitions, rules=rules
    )
    screening.run(plan, screening.DuckDBEngine(plan, threads=threads), fresh=True)
    return time.perf_counter() - started


# --- Comparison -----------------------------------------------------------------------------------------------


EXAMPLE_COLUMNS = (
    "person_id",
    "item",
    "fuwu_status",
    "fuwu_amount_fen",
    "fuwu_units_hundredths",
    "openfisca_eligible",
    "openfisca_amount_fen",
    "openfisca_units_hundredths",
)
JOIN = """
CREATE TABLE joined AS
WITH f AS (
    SELECT person_id, item, status,
           CAST(amount * 100 AS BIGINT) AS amount_fen, CAST(units * 100 AS BIGINT) AS units_hundredths
    FROM fuwu_long),
o AS (SELECT * FROM read_parquet(?)),
j AS (
    SELECT coalesce(f.person_id, o.person_id) AS person_id, coalesce(f.item, o.item) AS item,
           f.status AS fuwu_status, f.amount_fen AS fuwu_amount_fen, f.units_hundredths AS fuwu_units_hundredths,
           o.person_id IS NOT NULL AS openfisca_eligible,
           o.amount_fen AS openfisca_amount_fen, o.units_hundredths AS openfisca_units_hundredths
    FROM f FULL OUTER JOIN o ON f.person_id = o.person_id AND f.item = o.item)
SELECT *,
       fuwu_status IS DISTINCT FROM 'eligible' OR NOT openfisca_eligible
       OR fuwu_amount_fen IS DISTINCT FROM openfisca_amount_fen
       OR fuwu_units_hundredths IS DISTINCT FROM openfisca_units_hundredths AS differs
FROM j
"""


def compare(fuwu_out: Path, openfisca_results: Path, *, persons: int, items: Sequence[str]) -> dict[str, Any]:
    """Join the two answers on (person, item): eligible set, amount (fen) and units must be identical."""
    import duckdb

    from fuwu.eligibility import screening

    con = duckdb.connect()
    # fuwu's files are wide (one row per person); compare its long form, (person, item) rows.
    con.register("fuwu_long", screening.read_results(fuwu_out))
    con.execute(JOIN, [str(openfisca_results)])
    by_item = dict(
        con.execute("SELECT item, count(*) FROM joined WHERE differs GROUP BY item ORDER BY item").fetchall()
    )
    eligible = dict(
        con.execute("SELECT item, count(*) FROM joined WHERE fuwu_status = 'eligible' GROUP BY item").fetchall()
    )
    rows = con.execute(
        "SELECT person_id, item, fuwu_status, fuwu_amount_fen, fuwu_units_hundredths, openfisca_eligible, "
        "openfisca_amount_fen, openfisca_units_hundredths FROM joined WHERE differs ORDER BY person_id, item LIMIT 10"
    ).fetchall()
    fuwu_rows, openfisca_rows = con.execute(
        "SELECT count(fuwu_status), count(*) FILTER (WHERE openfisca_eligible) FROM joined"
    ).fetchone()
    con.close()
    pairs = persons * len(items)
    differences = sum(by_item.values())
    return {
        "persons": persons,
        "items": len(items),
        "pairs": pairs,
        "fuwu_rows": fuwu_rows,
        "openfisca_rows": openfisca_rows,
        "eligible_by_item": {item: eligible.get(item, 0) for item in items},
        "differences": differences,
        "differences_by_item": by_item,
        "agreement": 1 - differences / pairs if pairs else 1.0,
        "examples": [dict(zip(EXAMPLE_COLUMNS, row, strict=True)) for row in rows],
    }


def agreement_text(comparison: Mapping[str, Any]) -> str:
    if comparison["differences"] == 0:
        return "100%"
    first = comparison["examples"][0]
    return (
        f"{comparison['differences']:,} of {comparison['pairs']:,} (person, item) pairs differ, "
        f"e.g. person {first['person_id']} {first['item']}"
    )


# --- Processes, timing and memory -----------------------------------------------------------------------------


def cpu_seconds() -> float:
    """User and system CPU time of this process so far, all threads (DuckDB's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    """This process's peak resident memory, in MB (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale / 1024


def generate(persons: int, seed: int, as_of: dt.date, path: Path) -> None:
    from tests.eligibility.population import random_population, write

    # OpenFisca has no NULL: every fact is known (unknown=0).
    write(random_population(persons, seed=seed, as_of=as_of, unknown=0.0), path)


def _child(args: argparse.Namespace) -> dict[str, Any]:
    as_of = dt.date.fromisoformat(args.as_of)
    if args.child == "generate":
        generate(args.persons, args.seed, as_of, args.population)
        return {"peak_mb": peak_mb()}
    if args.child == "fuwu":
        rules = fuwu_rules()
        cpu = cpu_seconds()
        seconds = run_fuwu(
            args.population, args.out, as_of=as_of, rules=rules, partitions=args.partitions, threads=args.threads
        )
        return {"seconds": seconds, "cpu_seconds": cpu_seconds() - cpu, "peak_mb": peak_mb(), "rules": len(rules)}
    started = time.perf_counter()
    perturb = None
    if args.perturb:
        name, delta = args.perturb.split("=")
        perturb = (name, float(delta))
    system = build_system(as_of=as_of, perturb=perturb)
    built = time.perf_counter() - started
    cpu = cpu_seconds()
    run = run_openfisca(args.population, as_of=as_of, system=system)
    cpu = cpu_seconds() - cpu
    peak = peak_mb()  # before writing the results, which is not part of the timed work
    pq.write_table(run.results, args.out)
    return {
        "seconds": run.seconds,
        "cpu_seconds": cpu,
        "load_seconds": run.load_seconds,
        "compute_seconds": run.compute_seconds,
        "build_system_seconds": built,
        "peak_mb": peak,
    }


def _spawn(step: str, args: argparse.Namespace, **paths: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.openfisca_compare",
        "--child",
        step,
        "--persons",
        str(args.persons),
        "--seed",
        str(args.seed),
        "--as-of",
        args.as_of,
        "--partitions",
        str(args.partitions),
    ]
    if args.threads:
        command += ["--threads", str(args.threads)]
    if args.perturb and step == "openfisca":
        command += ["--perturb", args.perturb]
    for key, path in paths.items():
        command += [f"--{key}", str(path)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{step} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def markdown(result: Mapping[str, Any]) -> str:
    fuwu, openfisca, comparison = result["fuwu"], result["openfisca"], result["comparison"]
    header = "| rules | persons | agreement | fuwu s | OpenFisca s | ratio | fuwu peak MB | OpenFisca peak MB |"
    row = (
        f"| {comparison['items']} | {comparison['persons']:,} | {agreement_text(comparison)} "
        f"| {fuwu['seconds']:.2f} | {openfisca['seconds']:.2f} | {openfisca['seconds'] / fuwu['seconds']:.2f}× "
        f"| {fuwu['peak_mb']:.0f} | {openfisca['peak_mb']:.0f} |"
    )
    partitions = f"{result['partitions']} partition{'s' if result['partitions'] != 1 else ''}"
    pairs = (
        f"{comparison['fuwu_rows']:,} eligible (person, item) pairs on each side"
        if comparison["fuwu_rows"] == comparison["openfisca_rows"]
        else f"{comparison['fuwu_rows']:,} eligible (person, item) pairs from fuwu, "
        f"{comparison['openfisca_rows']:,} from OpenFisca"
    )
    notes = (
        f"\nAs of {result['as_of']}, seed {result['seed']}, no unknown facts (OpenFisca has no NULL); "
        f"{pairs}. "
        f"fuwu: DuckDB {result['duckdb']}, {partitions}, read → screen → write Parquet. "
        f"OpenFisca-core {result['openfisca_version']}: load {openfisca['load_seconds']:.2f} s "
        f"+ compute {openfisca['compute_seconds']:.2f} s (building the tax-benefit system, "
        f"{openfisca['build_system_seconds']:.2f} s, not counted). Ratio = OpenFisca / fuwu. "
        f"CPU time (user + system): fuwu {fuwu['cpu_seconds']:.2f} s, OpenFisca {openfisca['cpu_seconds']:.2f} s. "
        f"{result['cpus']} CPUs (load average {result['load_average'][0]:.1f} before, "
        f"{result['load_average'][1]:.1f} after), Python {result['python']}."
    )
    lines = [header, "|---:|---:|---|---:|---:|---:|---:|---:|", row, notes]
    if comparison["differences"]:
        lines += ["", f"Differences by item: {comparison['differences_by_item']}. First examples:"]
        lines += [f"- {example}" for example in comparison["examples"][:5]]
    if result.get("perturb"):
        lines += ["", f"OpenFisca parameter perturbed on purpose: {result['perturb']}."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.openfisca_compare", description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", default=DEFAULT_AS_OF.isoformat(), help="YYYY-MM-DD, on or after 2020-01-01")
    parser.add_argument("--partitions", type=int, default=16, help="fuwu screening partitions (as `fuwu screen`)")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    parser.add_argument("--workdir", type=Path, default=None, help="Keep the population and outputs here")
    parser.add_argument("--json", type=Path, default=None, help="Also write the result as JSON to this path")
    parser.add_argument(
        "--perturb",
        default=None,
        metavar="PARAMETER=DELTA",
        help="Add DELTA to one OpenFisca parameter from the as-of date on (e.g. old_age_allowance.80-89=1), "
        "to see the comparison fail",
    )
    parser.add_argument("--child", choices=["generate", "fuwu", "openfisca"], help=argparse.SUPPRESS)
    parser.add_argument("--population", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args)))
        return 0
    first = max(p.values[0].effective_from for p in parsed_fixture().document.parameters)
    if dt.date.fromisoformat(args.as_of) < first:
        # fuwu would answer "unknown" (no value in force), OpenFisca would stop: nothing to compare.
        parser.error(f"--as-of must be on or after {first}, when every parameter has a value")

    import duckdb
    import openfisca_core

    with tempfile.TemporaryDirectory(prefix="fuwu-openfisca-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        population = work / f"population-{args.persons}-{args.seed}-{args.as_of}.parquet"
        if not population.exists():
            _spawn("generate", args, population=population)
        load_before = os.getloadavg()[0]  # other work on the machine skews wall-clock times; say how much
        fuwu = _spawn("fuwu", args, population=population, out=work / "fuwu")
        openfisca = _spawn("openfisca", args, population=population, out=work / "openfisca.parquet")
        comparison = compare(work / "fuwu", work / "openfisca.parquet", persons=args.persons, items=ITEMS)
    result = {
        "command": "python -m benchmarks.openfisca_compare " + " ".join(sys.argv[1:] if argv is None else argv),
        "as_of": args.as_of,
        "seed": args.seed,
        "partitions": args.partitions,
        "threads": args.threads,
        "perturb": args.perturb,
        "cpus": os.cpu_count(),
        "load_average": [load_before, os.getloadavg()[0]],
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "openfisca_version": getattr(openfisca_core, "__version__", _version("openfisca-core")),
        "fuwu": fuwu,
        "openfisca": openfisca,
        "comparison": comparison,
    }
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return 0 if comparison["differences"] == 0 else 1


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


if __name__ == "__main__":
    raise SystemExit(main())
