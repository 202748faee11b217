"""The numbers the synthetic population is calibrated on.

Every constant here has a section in ``docs/population.md`` saying where it comes from, or that it is a
modelled assumption. Change a number here and its section there together.

Shares are fractions of persons unless a name says otherwise. "Relative risk" tables give the shape
of a distribution over age or another trait; the overall share is a separate target, so a table can
be reshaped without moving the total (see ``generate._calibrated``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# The 2020 census date; the bulletin's resident population of Taizhou on that date.
CENSUS_TOTAL = 6_622_888

# Ages are laid out so that the census age structure holds on this date. It is fixed (not "today")
# so that a seed gives the same file whatever day it is run.
DEFAULT_AS_OF = dt.date(2025, 1, 1)


@dataclass(frozen=True)
class CountyParams:
    code: str
    name: str
    # 2020 census resident population; ``None`` for the three counties split from their joint total.
    census: int | None
    # Relative weight for splitting the joint total of the three mountain counties (end-2022 residents).
    split_weight: int
    # Share aged 60+ before rescaling so that the city-wide share equals AGED_60_PLUS (modelled except 临海).
    aged_60_plus: float
    # Probability that a household in a street community (街道) / a town or township holds urban hukou.
    urban_in_street: float
    urban_in_town: float


COUNTIES: tuple[CountyParams, ...] = (
    CountyParams("331002", "椒江区", 826_100, 0, 0.180, 0.75, 0.20),
    CountyParams("331003", "黄岩区", 707_500, 0, 0.205, 0.70, 0.15),
    CountyParams("331004", "路桥区", 628_900, 0, 0.175, 0.70, 0.18),
    CountyParams("331022", "三门县", None, 379, 0.230, 0.55, 0.08),
    CountyParams("331023", "天台县", None, 470, 0.235, 0.55, 0.08),
    CountyParams("331024", "仙居县", None, 430, 0.230, 0.55, 0.08),
    CountyParams("331081", "温岭市", 1_416_200, 0, 0.175, 0.60, 0.15),
    CountyParams("331082", "临海市", 1_114_100, 0, 0.2198, 0.60, 0.12),
    CountyParams("331083", "玉环市", 644_000, 0, 0.165, 0.60, 0.15),
)

# Towns and townships (乡) are less populous than streets; a township's households are spread over
# its generated villages by these weights (modelled).
TOWNSHIP_WEIGHT = {"街道": 1.6, "镇": 1.0, "乡": 0.35}
# Townships (乡) are mountain or island places: fewer urban hukou than towns (modelled).
URBAN_IN_XIANG_FACTOR = 0.4

# --- Age structure -----------------------------------------------------------------------------
# 2020 census, Taizhou: 0–14 14.69 %, 15–59 65.74 %, 60+ 19.57 %; 80+ about 3 % (issue 3).
AGED_0_14 = 0.1469
AGED_60_PLUS = 0.1957
AGED_80_PLUS = 0.030
# Five-year groups 0–4 … 100–104, per cent (modelled within the census broad groups above).
AGE_GROUPS_PERCENT = (
    4.50, 5.30, 4.89,  # 0–14: 14.69
    4.30, 5.00, 6.90, 9.20, 7.90, 7.60, 8.90, 8.70, 7.24,  # 15–59: 65.74
    6.00, 5.40, 3.30, 1.87,  # 60–79: 16.57
    1.60, 0.95, 0.36, 0.08, 0.01,  # 80+: 3.00
)  # fmt: skip
MAX_AGE = 5 * len(AGE_GROUPS_PERCENT) - 1

# --- Households (all modelled) -------------------------------------------------------------------
# Types of hukou household. The member ages they produce are only a first guess: each batch is then
# mapped rank for rank onto an exact draw from the county's age pyramid (see generate._assign_ages).
SOLO_ELDER, SOLO_ADULT, COUPLE, NUCLEAR, SINGLE_PARENT, THREE_GEN, SKIP_GEN, STEM, EXTENDED = range(9)
HOUSEHOLD_TYPES_RURAL = (0.075, 0.09, 0.235, 0.30, 0.04, 0.08, 0.05, 0.11, 0.02)
HOUSEHOLD_TYPES_URBAN = (0.07, 0.13, 0.26, 0.35, 0.05, 0.07, 0.01, 0.05, 0.01)
# Head's age range (years, lower inclusive) by household type.
HEAD_AGE = {
    SOLO_ELDER: (60, 100),
    SOLO_ADULT: (18, 60),
    COUPLE: (22, 90),
    NUCLEAR: (25, 58),
    SINGLE_PARENT: (26, 58),
    THREE_GEN: (28, 58),
    SKIP_GEN: (52, 82),
    STEM: (55, 92),
    EXTENDED: (28, 60),
}
YOUNG_COUPLE_SHARE = 0.35  # of COUPLE households: a young couple (22–35) rather than an older one (50+)
SPOUSE_PRESENT_SKIP_GEN = 0.65
SPOUSE_PRESENT_STEM = 0.60
MALE_HEAD_IN_COUPLE = 0.82
FEMALE_SOLO_ELDER = 0.62  # widows outnumber widowers
FEMALE_SOLO_ADULT = 0.25  # single working-age men are over-represented (sex ratio 108)
FEMALE_SINGLE_PARENT = 0.70
MALE_BIRTH_SHARE = 0.53  # sex ratio at birth of about 113 (modelled; see docs)
CHILDREN_NUCLEAR = ((1, 2, 3), (0.56, 0.38, 0.06))
CHILDREN_SINGLE_PARENT = ((1, 2), (0.70, 0.30))
CHILDREN_THREE_GEN = ((0, 1, 2), (0.20, 0.55, 0.25))
CHILDREN_EXTENDED = ((1, 2), (0.50, 0.50))
PARENTS_THREE_GEN = ((1, 2), (0.55, 0.45))
GRANDPARENT_THREE_GEN = 0.08
CHILD_IN_LAW_STEM = 0.85
GRANDCHILDREN_SKIP_GEN = ((1, 2), (0.70, 0.30))
GRANDCHILDREN_STEM = ((0, 1, 2), (0.35, 0.45, 0.20))
STEM_CHILD_SON = 0.70  # the married child living with the elderly head is usually a son
FEMALE_LONE_PARENT = 0.65  # a head's one co-resident parent is usually a widowed mother
FEMALE_GRANDPARENT = 0.75
FEMALE_SIBLING = 0.40
GRANDCHILD_FAMILY_SURNAME = 0.85  # the rest: another surname (a daughter's child, a step-child)

# --- Where people live (modelled) --------------------------------------------------------------
MOVED_HOUSEHOLD = 0.04  # the whole household lives in another village or community of the county
YOUNG_LEFT = 0.20  # rural households with elders: the members under 60 live in a town community
SOLO_LIVES_ALONE = 0.92  # the rest of one-person households live with relatives or in care homes

# --- Low income (household-based, modelled) ------------------------------------------------------
# The standard's minimum living allowance line (sr-minimum-allowance-standard, 950 yuan a month in
# standards/taizhou/taizhou-social-assistance.yaml); marginal households are below 1.5 times it.
MINIMUM_ALLOWANCE_LINE = 950 * 12
MARGINAL_FACTOR = 1.5
DESTITUTE_SHARE = 0.0008
MINIMUM_ALLOWANCE_SHARE = 0.010
MARGINAL_SHARE = 0.005
# Relative risk of a household by its traits (multiplied together).
LOW_INCOME_RISK = {
    "rural": 2.0,
    "elder_head": 3.0,
    "disabled_member": 4.0,
    "single_parent": 2.5,
    "care_need": 2.0,  # a member assessed with moderate or severe care need
}

# --- Disability certificates (modelled target; kinds' shape from the 2006 survey) ----------------
DISABLED_SHARE = 0.024
DISABILITY_AGE_RISK = ((0, 0.2), (15, 0.5), (30, 0.7), (45, 1.1), (60, 1.8), (70, 2.6), (80, 3.8))
DISABILITY_RURAL_RISK = 1.2
DISABILITY_KINDS = ("visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple")
COGNITIVE_KINDS = ("intellectual", "mental", "multiple")
# Shares in DISABILITY_KINDS order by age band.
DISABILITY_KIND_SHARES = {
    0: (0.05, 0.10, 0.08, 0.20, 0.35, 0.02, 0.20),  # children 0–14
    15: (0.09, 0.08, 0.02, 0.42, 0.12, 0.17, 0.10),  # 15–59
    60: (0.18, 0.24, 0.01, 0.40, 0.03, 0.05, 0.09),  # 60+
}
GRADE_SHARES = (0.12, 0.25, 0.28, 0.35)  # grades 1–4
GRADE_SHARES_COGNITIVE = (0.20, 0.35, 0.30, 0.15)  # intellectual, mental, multiple

# --- Care need from the ability assessment (modelled) --------------------------------------------
# Age band start → cumulative probability of (severe, moderate or worse, mild or worse).
CARE_NEED_CUMULATIVE = (
    (60, (0.010, 0.030, 0.090)),
    (65, (0.015, 0.045, 0.125)),
    (70, (0.025, 0.070, 0.190)),
    (75, (0.040, 0.110, 0.270)),
    (80, (0.070, 0.180, 0.400)),
    (85, (0.110, 0.260, 0.510)),
    (90, (0.180, 0.380, 0.630)),
)
CARE_NEED_DISABLED_FACTOR = 2.5  # a certified disabled elder's probabilities are scaled up by this
# Under 60 only holders of grade 1–2 certificates are assessed (for the nursing subsidy).
CARE_NEED_UNDER_60_GRADE_1_2 = (0.35, 0.75, 1.0)  # cumulative severe, moderate, mild

# --- Veterans and survivors (modelled) ----------------------------------------------------------
VETERAN_SHARE = 0.025
VETERAN_SERVICE_SPLIT = {"retired_soldier": 0.88, "retired_officer": 0.05, "disabled_serviceman": 0.02}
VETERAN_SURVIVOR_SPLIT = {"martyr_survivor": 0.03, "duty_death_survivor": 0.02}
VETERAN_AGE_RISK = ((20, 0.6), (30, 1.0), (45, 1.2), (60, 1.4), (80, 1.0))
VETERAN_WOMEN_RISK = 0.03
SURVIVOR_AGE_RISK = ((40, 0.5), (60, 1.0), (75, 1.6))
SURVIVOR_WOMEN_RISK = 1.8

# --- School (modelled) -------------------------------------------------------------------------
# Age on 1 September of the school year → (stage, enrolment probability).
SCHOOL_BY_AGE = {
    1: ("nursery", 0.10),
    2: ("nursery", 0.20),
    3: ("preschool", 0.97),
    4: ("preschool", 0.97),
    5: ("preschool", 0.97),
    **dict.fromkeys(range(6, 12), ("primary", 0.999)),
    **dict.fromkeys(range(12, 15), ("junior_secondary", 0.995)),
    **dict.fromkeys(range(15, 18), ("senior_secondary", 0.97)),  # split with vocational below
    18: ("higher", 0.60),
    19: ("higher", 0.62),
    20: ("higher", 0.60),
    21: ("higher", 0.55),
    22: ("higher", 0.20),
    23: ("higher", 0.08),
    24: ("higher", 0.06),
}
VOCATIONAL_SHARE = 0.42  # of the 15–17s at school: secondary vocational rather than general senior
# Boarding probability by stage for (rural, urban) hukou; townships (乡) raise rural boarding.
BOARDING = {
    "nursery": (0.0, 0.0),
    "preschool": (0.0, 0.0),
    "primary": (0.06, 0.01),
    "junior_secondary": (0.35, 0.08),
    "senior_secondary": (0.75, 0.45),
    "secondary_vocational": (0.65, 0.45),
    "higher": (0.92, 0.92),
}
BOARDING_XIANG_FACTOR = 1.5

# --- Family-doctor key groups (modelled) ---------------------------------------------------------
# Age band start → probability of being in the managed group (men, women).
HYPERTENSION = ((0, (0.0, 0.0)), (18, (0.006, 0.003)), (35, (0.05, 0.03)), (45, (0.13, 0.10)),
                (55, (0.23, 0.21)), (65, (0.33, 0.34)), (75, (0.40, 0.43)))  # fmt: skip
DIABETES = ((0, (0.0, 0.0)), (18, (0.003, 0.002)), (35, (0.022, 0.016)), (45, (0.055, 0.045)),
            (55, (0.095, 0.090)), (65, (0.125, 0.130)), (75, (0.120, 0.125)))  # fmt: skip
# Pregnant or within 42 days after birth: births a year (birth rate 6.1 ‰, 2022) times (280 + 42) / 365.
PREGNANT_SHARE = 0.0061 * (280 + 42) / 365
PREGNANT_AGE_RISK = ((18, 0.2), (20, 1.0), (25, 2.2), (30, 1.8), (35, 0.8), (40, 0.2), (45, 0.03), (50, 0.0))
PREGNANT_PARTNERED_RISK = 5.0
SEVERE_MENTAL_SHARE = 0.004
SEVERE_MENTAL_IF_MENTAL_DISABILITY = 0.60

# --- Rural house safety grades (modelled) --------------------------------------------------------
HOUSE_GRADES_NORMAL = (0.78, 0.19, 0.025, 0.005)
HOUSE_GRADES_LOW_INCOME = (0.50, 0.38, 0.09, 0.03)

# --- Income (yuan a year, modelled; calibrated near Taizhou's 2023 disposable income) ------------
# Median, log-sd of the earnings of the employed, by hukou (rural, urban).
EARNINGS = ((62_000.0, 0.60), (99_000.0, 0.60))
EMPLOYED = {  # age band start → (men, women)
    16: (0.45, 0.40),
    20: (0.92, 0.80),
    50: (0.88, 0.60),
    55: (0.75, 0.40),
}
EARNINGS_AGE_FACTOR = ((16, 0.65), (25, 0.90), (35, 1.10), (50, 1.00))
NOT_EMPLOYED_WITH_INCOME = 0.30
NOT_EMPLOYED_INCOME = (5_000.0, 0.80)
# Pensions of people aged 60+: (median, log-sd) for (rural, urban) hukou.
PENSION = ((9_000.0, 0.50), (50_000.0, 0.45))
# Rural elders who still work, by age band, and what they earn.
RURAL_ELDER_WORKING = ((60, 0.40), (70, 0.15), (80, 0.0))
RURAL_ELDER_EARNINGS = (32_000.0, 0.60)
SEVERE_DISABILITY_INCOME_FACTOR = 0.3  # grades 1–2

# --- Work and social insurance (modelled; see docs/population.md) -------------------------------
# The employed (by the income model above) as employees, self-employed and flexible workers.
EMPLOYED_KIND_URBAN = (0.72, 0.16, 0.12)
EMPLOYED_KIND_RURAL = (0.55, 0.25, 0.20)
# Unemployed and seeking work, as shares of the working-age labour force (the employed and the seekers).
REGISTERED_UNEMPLOYED_RATE = 0.025
UNREGISTERED_UNEMPLOYED_RATE = 0.025
UNEMPLOYED_RISK = {"low_income": 3.0, "4050": 1.5, "disabled": 1.5}
# Urban women not in work from this age have mostly retired (the old statutory age, 50 or 55).
WOMEN_RETIRE_FROM = 50
WOMEN_RETIRED = 0.6
# Elders drawing an employees' pension, (rural, urban) hukou; the rest a residents' one.
ELDER_EMPLOYEE_PENSION = (0.12, 0.85)
# Pension scheme of those neither employees nor retired (working age and older, not at school):
# (none, employees' scheme kept up individually, residents' scheme).
OTHER_PENSION_URBAN = (0.06, 0.44, 0.50)
OTHER_PENSION_RURAL = (0.06, 0.14, 0.80)
MEDICAL_UNINSURED = 0.01  # of those not in the employees' scheme

# --- Orphans and children without anyone caring for them (modelled) -------------------------------
# Shares of all minors (under 18).
ORPHAN_SHARE = 0.0003
DE_FACTO_UNSUPPORTED_SHARE = 0.0006
