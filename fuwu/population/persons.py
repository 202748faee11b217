"""Per-person facts, topic by topic, for one batch of households whose ages are settled.

Each function draws from the batch's random stream; they run in a fixed order (see
``generate._batch_table``) so that a seed always gives the same people. Categorical results are codes
into the facts vocabularies, -1 meaning "does not apply" (written as the vocabulary's ``none``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from fuwu.eligibility import facts
from fuwu.population import parameters as P
from fuwu.population.areas import County
from fuwu.population.columns import codes, full_years
from fuwu.population.draws import Bools, Floats, Ints, banded, calibrated, categorical
from fuwu.population.households import CHILD_IN_LAW, GRANDCHILD, HEAD, SIBLING, SPOUSE, Batch


@dataclass(frozen=True)
class People:
    """What every topic needs: the batch's persons, their households and ages."""

    batch: Batch
    county: County
    birth: Ints  # days since 1970-01-01
    age: Ints  # full years on the as-of date

    @property
    def m(self) -> int:
        return len(self.batch.hh)

    @property
    def hh(self) -> Ints:
        return self.batch.hh

    @property
    def n_hh(self) -> int:
        return len(self.batch.hh_type)

    @property
    def female(self) -> Bools:
        return self.batch.female

    @property
    def urban(self) -> Bools:
        return self.batch.hh_urban[self.batch.hh]

    @property
    def village(self) -> Ints:
        return self.batch.hh_village[self.batch.hh]

    @property
    def elder(self) -> Bools:
        elder: Bools = self.age >= 60
        return elder

    @property
    def size(self) -> Ints:
        """Members of each person's household."""
        size: Ints = np.bincount(self.hh, minlength=self.n_hh)[self.hh]
        return size

    def per_household(self, values: Bools | Floats) -> Floats:
        """Sum over each household (one value per household)."""
        total: Floats = np.bincount(self.hh, weights=values.astype(np.float64), minlength=self.n_hh).astype(np.float64)
        return total


@dataclass(frozen=True)
class Disability:
    certified: Bools
    kind: Ints  # facts.DISABILITY_KINDS code, -1 without a certificate
    grade: Ints  # 1–4, 0 without a certificate (facts.py)
    mental: Bools

    @property
    def severe(self) -> Bools:
        severe: Bools = self.certified & (self.grade <= 2)
        return severe


def disability(rng: np.random.Generator, p: People) -> Disability:
    risk = banded(p.age, P.DISABILITY_AGE_RISK) * np.where(p.urban, 1.0, P.DISABILITY_RURAL_RISK)
    certified = calibrated(rng, risk, P.DISABLED_SHARE * p.m)
    position = categorical(rng, np.asarray(banded(p.age, list(P.DISABILITY_KIND_SHARES.items()))))
    cognitive = np.isin(position, [P.DISABILITY_KINDS.index(k) for k in P.COGNITIVE_KINDS])
    grade_rows = np.where(cognitive[:, None], P.GRADE_SHARES_COGNITIVE, P.GRADE_SHARES)
    grade = np.where(certified, categorical(rng, grade_rows) + 1, 0)
    return Disability(
        certified=certified,
        kind=np.where(certified, codes(facts.DISABILITY_KINDS, P.DISABILITY_KINDS)[position], -1),
        grade=grade,
        mental=certified & (position == P.DISABILITY_KINDS.index("mental")),
    )


@dataclass(frozen=True)
class CareNeed:
    code: Ints  # facts.CARE_NEEDS code, -1 when never assessed (unknown)
    moderate_or_worse: Bools


def care_need(rng: np.random.Generator, p: People, d: Disability) -> CareNeed:
    """Every elder has an ability assessment; under 60 only holders of grade 1–2 certificates."""
    cumulative = np.asarray(banded(p.age, P.CARE_NEED_CUMULATIVE))
    cumulative = np.where(d.certified[:, None], np.minimum(cumulative * P.CARE_NEED_DISABLED_FACTOR, 0.95), cumulative)
    cumulative = np.where((~p.elder & d.severe)[:, None], P.CARE_NEED_UNDER_60_GRADE_1_2, cumulative)
    u = rng.random(p.m)
    level = np.select([u < cumulative[:, 0], u < cumulative[:, 1], u < cumulative[:, 2]], [3, 2, 1], 0)
    assessed = p.elder | d.severe
    by_level = codes(facts.CARE_NEEDS, ("able", "mild", "moderate", "severe"))
    return CareNeed(code=np.where(assessed, by_level[level], -1), moderate_or_worse=assessed & (level >= 2))


@dataclass(frozen=True)
class School:
    stage: Ints  # facts.SCHOOL_STAGES code, -1 when not enrolled
    enrolled: Bools
    boarding: Bools  # false when not enrolled (facts.py)


def school(rng: np.random.Generator, p: People, as_of: dt.date) -> School:
    """Stage by age on 1 September of the school year; boarding mostly for rural secondary pupils."""
    year_start = dt.date(as_of.year if as_of.month >= 9 else as_of.year - 1, 9, 1)
    # Born after 1 September: -1, which no stage has.
    school_age = np.clip(full_years(p.birth, year_start), -1, P.MAX_AGE + 1)
    stage_by_age = np.full(P.MAX_AGE + 3, -1, dtype=np.int64)
    enrol_by_age = np.zeros(P.MAX_AGE + 3)
    for a, (stage_name, probability) in P.SCHOOL_BY_AGE.items():
        stage_by_age[a] = facts.SCHOOL_STAGES.index(stage_name)
        enrol_by_age[a] = probability
    stage = stage_by_age[school_age]
    enrolled = (stage >= 0) & (rng.random(p.m) < enrol_by_age[school_age])
    vocational = (stage == facts.SCHOOL_STAGES.index("senior_secondary")) & (rng.random(p.m) < P.VOCATIONAL_SHARE)
    stage = np.where(vocational, facts.SCHOOL_STAGES.index("secondary_vocational"), stage)
    by_stage = np.array([P.BOARDING.get(s, (0.0, 0.0)) for s in facts.SCHOOL_STAGES])
    rural = ~p.urban
    p_board = np.where(rural, by_stage[np.maximum(stage, 0), 0], by_stage[np.maximum(stage, 0), 1])
    xiang = np.array([k == "乡" for k in p.county.village_kind])[p.village]
    p_board = np.where(rural & xiang, np.minimum(p_board * P.BOARDING_XIANG_FACTOR, 0.95), p_board)
    boarding = enrolled & (rng.random(p.m) < p_board)
    return School(stage=np.where(enrolled, stage, -1), enrolled=enrolled, boarding=boarding)


@dataclass(frozen=True)
class LowIncome:
    code: Ints  # facts.LOW_INCOME code per person, -1 for none
    household: Ints  # per household: 0 neither, 1 minimum allowance, 2 marginal
    destitute: Bools

    def poor_household(self, p: People) -> Bools:
        poor: Bools = (self.household > 0) | (p.per_household(self.destitute) > 0)
        return poor


def low_income(rng: np.random.Generator, p: People, d: Disability, c: CareNeed) -> LowIncome:
    """Destitute persons live alone; allowance and marginal status belongs to the whole household.

    Households are chosen by relative risk (rural, elderly head, a disabled member, a single parent,
    a member needing care) so that elders and disabled people are over-represented, while the shares
    of persons stay at their targets.
    """
    hh_start = np.flatnonzero(np.r_[True, p.hh[1:] != p.hh[:-1]])
    size = np.bincount(p.hh, minlength=p.n_hh)
    rural = ~p.urban
    destitute_risk = (
        ((size[p.hh] == 1) & (p.elder | (d.certified & (d.grade <= 3) & (p.age >= 16))))
        * np.where(p.age >= 80, 1.5, 1.0)
        * np.where(rural, 2.0, 1.0)
        * np.where(d.certified, 2.0, 1.0)
    )
    destitute = calibrated(rng, destitute_risk, P.DESTITUTE_SHARE * p.m)
    r = P.LOW_INCOME_RISK
    risk = (
        np.where(p.batch.hh_urban, 1.0, r["rural"])
        * np.where(p.elder[hh_start], r["elder_head"], 1.0)
        * np.where(p.per_household(d.certified) > 0, r["disabled_member"], 1.0)
        * np.where(p.batch.hh_type == P.SINGLE_PARENT, r["single_parent"], 1.0)
        * np.where(p.per_household(c.moderate_or_worse) > 0, r["care_need"], 1.0)
        * (p.per_household(destitute) == 0)
    )
    # Person-weighted: the targets are shares of persons, and a household counts all its members.
    total = float((risk * size).sum()) or 1.0
    p_allowance = np.minimum(risk * P.MINIMUM_ALLOWANCE_SHARE * p.m / total, 0.9)
    p_marginal = np.minimum(risk * P.MARGINAL_SHARE * p.m / total, 0.9 - p_allowance)
    u = rng.random(p.n_hh)
    household = np.select([u < p_allowance, u < p_allowance + p_marginal], [1, 2], 0)
    by_household = np.r_[-1, codes(facts.LOW_INCOME, ("minimum_allowance", "marginal"))]
    code = np.where(destitute, facts.LOW_INCOME.index("destitute"), by_household[household[p.hh]])
    return LowIncome(code=code, household=household, destitute=destitute)


@dataclass(frozen=True)
class Income:
    fen: Ints  # personal annual income in fen
    employed: Bools  # working-age and in work
    elder_working: Bools  # a rural elder who still earns (farming, odd jobs)


def income_fen(rng: np.random.Generator, p: People, s: School, d: Disability, low: LowIncome) -> Income:
    """Personal annual income in fen: earnings, pensions, odd jobs; low-income households below their line."""
    urban, elder, age = p.urban, p.elder, p.age
    z = rng.standard_normal(p.m)
    working_age = (age >= 16) & (age < 60) & ~s.enrolled
    p_employed = np.asarray(banded(age, list(P.EMPLOYED.items())))
    employed = working_age & (rng.random(p.m) < np.where(p.female, p_employed[:, 1], p_employed[:, 0]))
    (rural_median, rural_sd), (urban_median, urban_sd) = P.EARNINGS
    earnings = (
        np.where(urban, urban_median, rural_median)
        * np.exp(np.where(urban, urban_sd, rural_sd) * z)
        * banded(age, P.EARNINGS_AGE_FACTOR)
    )
    other = working_age & ~employed & (rng.random(p.m) < P.NOT_EMPLOYED_WITH_INCOME)
    other_income = P.NOT_EMPLOYED_INCOME[0] * np.exp(P.NOT_EMPLOYED_INCOME[1] * z)
    (rural_pension, rural_pension_sd), (urban_pension, urban_pension_sd) = P.PENSION
    pension = np.where(
        urban, urban_pension * np.exp(urban_pension_sd * z), rural_pension * np.exp(rural_pension_sd * z)
    )
    still_working = ~urban & elder & (rng.random(p.m) < banded(age, P.RURAL_ELDER_WORKING))
    elder_earnings = P.RURAL_ELDER_EARNINGS[0] * np.exp(P.RURAL_ELDER_EARNINGS[1] * rng.standard_normal(p.m))
    income = np.select([employed, other, elder], [earnings, other_income, pension], 0.0)
    income = income + np.where(still_working, elder_earnings, 0.0)
    income = np.where(d.severe, income * P.SEVERE_DISABILITY_INCOME_FACTOR, income)

    # Low-income households: scale the members' incomes so the household's income per member is
    # below the allowance line (allowance) or between it and 1.5 times it (marginal).
    line = float(P.MINIMUM_ALLOWANCE_LINE)
    per_member = np.select(
        [low.household == 1, low.household == 2],
        [line * rng.uniform(0.15, 0.9, p.n_hh), line * rng.uniform(1.02, P.MARGINAL_FACTOR - 0.02, p.n_hh)],
        np.nan,
    )[p.hh]
    size = p.size
    total = p.per_household(income)[p.hh]
    scaled = np.where(total > 0, income * per_member * size / np.maximum(total, 1e-9), 0.0)
    # A household with no income at all: the head reports it (pensions, odd jobs).
    scaled = np.where((total <= 0) & (p.batch.role == HEAD), per_member * size, scaled)
    income = np.where(low.household[p.hh] > 0, scaled, income)
    income = np.where(low.destitute, line * rng.uniform(0.0, 0.5, p.m), income)
    # Down to the fen, so that scaled households stay below their line.
    fen: Ints = np.floor(income * 100).astype(np.int64)
    return Income(fen=fen, employed=employed, elder_working=still_working)


def house_grade(rng: np.random.Generator, p: People, low: LowIncome) -> Ints:
    """One grade per rural household, worse for low-income ones; -1 (none) for urban households."""
    rows = np.where(low.poor_household(p)[:, None], P.HOUSE_GRADES_LOW_INCOME, P.HOUSE_GRADES_NORMAL)
    grade = codes(facts.HOUSE_GRADES, ("A", "B", "C", "D"))[categorical(rng, rows)]
    per_person: Ints = np.where(p.urban, -1, grade[p.hh])
    return per_person


@dataclass(frozen=True)
class FamilyDoctor:
    hypertension: Bools
    diabetes: Bools
    pregnant: Bools
    severe_mental: Bools


def family_doctor(rng: np.random.Generator, p: People, s: School, d: Disability) -> FamilyDoctor:
    hypertension_p = np.asarray(banded(p.age, P.HYPERTENSION))
    diabetes_p = np.asarray(banded(p.age, P.DIABETES))
    hypertension = rng.random(p.m) < np.where(p.female, hypertension_p[:, 1], hypertension_p[:, 0])
    diabetes = rng.random(p.m) < np.where(p.female, diabetes_p[:, 1], diabetes_p[:, 0])
    role = p.batch.role
    has_spouse = p.per_household(role == SPOUSE)[p.hh] > 0
    partnered = (role == SPOUSE) | (role == CHILD_IN_LAW) | ((role == HEAD) & has_spouse)
    pregnant_risk = (
        p.female
        * banded(p.age, P.PREGNANT_AGE_RISK)
        * np.where(partnered, P.PREGNANT_PARTNERED_RISK, 1.0)
        * ~s.enrolled
    )
    pregnant = calibrated(rng, pregnant_risk, P.PREGNANT_SHARE * p.m)
    # Most holders of a mental-disability certificate are registered patients; the rest of the
    # target share comes from adults without one.
    severe_mental = d.mental & (rng.random(p.m) < P.SEVERE_MENTAL_IF_MENTAL_DISABILITY)
    rest = max(P.SEVERE_MENTAL_SHARE * p.m - float(severe_mental.sum()), 0.0)
    adult_risk = np.where(p.age < 65, 1.2, 1.0) * ((p.age >= 15) & ~severe_mental)
    severe_mental |= calibrated(rng, adult_risk, rest)
    return FamilyDoctor(hypertension=hypertension, diabetes=diabetes, pregnant=pregnant, severe_mental=severe_mental)


def veteran_category(rng: np.random.Generator, p: People) -> Ints:
    """Veterans (mostly older men) and survivors of those who died in service; -1 for none."""
    service_share = sum(P.VETERAN_SERVICE_SPLIT.values())
    survivor_share = sum(P.VETERAN_SURVIVOR_SPLIT.values())
    service_risk = banded(p.age, P.VETERAN_AGE_RISK) * np.where(p.female, P.VETERAN_WOMEN_RISK, 1.0)
    service = calibrated(rng, service_risk, P.VETERAN_SHARE * service_share * p.m)
    survivor_risk = banded(p.age, P.SURVIVOR_AGE_RISK) * np.where(p.female, P.SURVIVOR_WOMEN_RISK, 1.0) * ~service
    survivor = calibrated(rng, survivor_risk, P.VETERAN_SHARE * survivor_share * p.m)
    service_p = np.array(list(P.VETERAN_SERVICE_SPLIT.values())) / service_share
    survivor_p = np.array(list(P.VETERAN_SURVIVOR_SPLIT.values())) / survivor_share
    service_code = codes(facts.VETERAN_CATEGORIES, list(P.VETERAN_SERVICE_SPLIT))
    survivor_code = codes(facts.VETERAN_CATEGORIES, list(P.VETERAN_SURVIVOR_SPLIT))
    category: Ints = np.select(
        [service, survivor],
        [
            service_code[rng.choice(len(service_p), size=p.m, p=service_p)],
            survivor_code[rng.choice(len(survivor_p), size=p.m, p=survivor_p)],
        ],
        -1,
    )
    return category


@dataclass(frozen=True)
class Residence:
    village: Ints  # index into county.villages
    lives_alone: Bools


def residence(rng: np.random.Generator, p: People) -> Residence:
    """Most live at their hukou address. Some households live elsewhere in the county; in some rural
    households the members under 60 work in town and the elders stay at home, some of them alone."""
    elder = p.elder
    moved = rng.random(p.n_hh) < P.MOVED_HOUSEHOLD
    young_left = (
        ~p.batch.hh_urban
        & (p.per_household(elder) > 0)
        & (p.per_household(~elder) > 0)
        & ~moved
        & (rng.random(p.n_hh) < P.YOUNG_LEFT)
    )
    destination = rng.choice(len(p.county.villages), size=p.n_hh, p=p.county.street_weight)
    village = np.where(moved[p.hh] | (young_left[p.hh] & ~elder), destination[p.hh], p.village)
    at_home = village == p.village
    # An elder lives alone when no other member of the household lives at the hukou address.
    lives_alone = np.where(
        p.size == 1,
        rng.random(p.m) < P.SOLO_LIVES_ALONE,
        elder & at_home & (p.per_household(at_home)[p.hh] == 1),
    )
    return Residence(village=village, lives_alone=lives_alone)


@dataclass(frozen=True)
class Work:
    employment: Ints  # facts.EMPLOYMENT_STATUSES code, -1 for none
    pension: Ints  # facts.INSURANCE_SCHEMES code, -1 for none
    medical: Ints  # facts.INSURANCE_SCHEMES code, -1 for none


def work_and_insurance(
    rng: np.random.Generator, p: People, s: School, d: Disability, low: LowIncome, inc: Income
) -> Work:
    """Employment status and the pension and medical insurance schemes, from who works (``income_fen``).

    The employed split into employees, the self-employed and flexible workers; of the working-age people
    not in work or school, some are unemployed and seeking work, registered or not, chosen by relative risk
    (low income, the "4050" ages, disability); urban elders and women past the retirement age are retired.
    Employees and the retired are in the employees' schemes; the rest mostly in the residents' ones.
    """
    urban, age = p.urban, p.age
    working_age = (age >= 16) & (age < 60) & ~s.enrolled
    kind = categorical(rng, np.where(urban[:, None], P.EMPLOYED_KIND_URBAN, P.EMPLOYED_KIND_RURAL))
    employed_code = codes(facts.EMPLOYMENT_STATUSES, ("employed", "self_employed", "flexible"))[kind]

    idle = working_age & ~inc.employed
    retired_woman = idle & p.female & (age >= P.WOMEN_RETIRE_FROM) & urban & (rng.random(p.m) < P.WOMEN_RETIRED)
    seeking = idle & ~retired_woman
    fourty_fifty = np.where(p.female, age >= 40, age >= 50)
    risk: Floats = (
        seeking.astype(np.float64)
        * np.where(low.code >= 0, P.UNEMPLOYED_RISK["low_income"], 1.0)
        * np.where(fourty_fifty, P.UNEMPLOYED_RISK["4050"], 1.0)
        * np.where(d.certified, P.UNEMPLOYED_RISK["disabled"], 1.0)
    )
    # The labour force is the employed and the unemployed together, so each rate r of it is r / (1 - both)
    # times the employed.
    labour_force = float((working_age & inc.employed).sum()) / (
        1 - P.REGISTERED_UNEMPLOYED_RATE - P.UNREGISTERED_UNEMPLOYED_RATE
    )
    registered = calibrated(rng, risk, P.REGISTERED_UNEMPLOYED_RATE * labour_force)
    unregistered = calibrated(rng, risk * ~registered, P.UNREGISTERED_UNEMPLOYED_RATE * labour_force)

    # Elders: the urban mostly draw an employees' pension (retired); the rural a residents' one.
    elder_employee = p.elder & (
        rng.random(p.m) < np.where(urban, P.ELDER_EMPLOYEE_PENSION[1], P.ELDER_EMPLOYEE_PENSION[0])
    )
    retired = (p.elder & elder_employee & ~inc.elder_working) | retired_woman
    e = facts.EMPLOYMENT_STATUSES.index
    employment = np.select(
        [working_age & inc.employed, registered, unregistered, retired, p.elder & inc.elder_working],
        [employed_code, e("unemployed_registered"), e("unemployed"), e("retired"), e("flexible")],
        -1,
    )

    i = facts.INSURANCE_SCHEMES.index
    scheme = categorical(rng, np.where(urban[:, None], P.OTHER_PENSION_URBAN, P.OTHER_PENSION_RURAL))
    other_pension = np.array([-1, i("employee"), i("resident")])[scheme]
    pension = np.select(
        [age < 16, s.enrolled, employment == e("employed"), retired | elder_employee],
        [-1, -1, i("employee"), i("employee")],
        other_pension,
    )
    uninsured = rng.random(p.m) < P.MEDICAL_UNINSURED
    medical = np.select(
        [pension == i("employee"), uninsured],
        [i("employee"), -1],
        i("resident"),
    )
    return Work(employment=employment, pension=pension, medical=medical)


def orphan_status(rng: np.random.Generator, p: People) -> Ints:
    """Orphans and children without anyone actually caring for them: minors whose household has no parent
    of theirs — grandchildren raised by grandparents (skipped-generation households) and minor siblings of
    the household head."""
    role = p.batch.role
    skipped = p.batch.hh_type[p.hh] == P.SKIP_GEN
    risk: Floats = ((p.age < 18) & (((role == GRANDCHILD) & skipped) | (role == SIBLING))).astype(np.float64)
    minors = float((p.age < 18).sum())
    orphan = calibrated(rng, risk, P.ORPHAN_SHARE * minors)
    unsupported = calibrated(rng, np.where(orphan, 0.0, risk), P.DE_FACTO_UNSUPPORTED_SHARE * minors)
    o = facts.ORPHAN_STATUSES.index
    status: Ints = np.select([orphan, unsupported], [o("orphan"), o("de_facto_unsupported")], -1)
    return status
