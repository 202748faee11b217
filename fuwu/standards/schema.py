"""The standard document format: one YAML file per standard.

These typed models are the single definition of the format. The loader
validates every file against them, and ``fuwu standards schema`` exports them
as the JSON Schema published at ``docs/standard.schema.json``.

Every model forbids unknown keys, so a misspelt field is an error, not a silent
loss.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

# The Standardization Law (2017, art. 29) caps a standard's review period at five years.
MAX_REVIEW_PERIOD_YEARS = 5

# GB/T 1.1—2020 numbering: chapters 1, 2 …; clauses 5.1, 5.1.2 …; annexes A, A.1 ….
CLAUSE_NUMBER_PATTERN = r"^(?:[1-9][0-9]*|[A-Z])(?:\.[1-9][0-9]*)*$"
IDENTIFIER_PATTERN = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"

Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN, max_length=80)]
ClauseRef = Annotated[str, StringConstraints(pattern=CLAUSE_NUMBER_PATTERN, max_length=32)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)


class Text(Strict):
    """A text in Chinese (authoritative) and English (a reading aid)."""

    zh: NonEmpty
    en: NonEmpty | None = None


class LifeArea(StrEnum):
    """The nine life areas of the national basic public service standard."""

    CHILDCARE = "childcare"  # 幼有所育
    EDUCATION = "education"  # 学有所教
    EMPLOYMENT = "employment"  # 劳有所得
    MEDICAL = "medical"  # 病有所医
    ELDERLY = "elderly"  # 老有所养
    HOUSING = "housing"  # 住有所居
    VULNERABLE = "vulnerable"  # 弱有所扶
    VETERANS = "veterans"  # 优军服务保障
    CULTURE_SPORTS = "culture-sports"  # 文体服务保障


class Status(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    UNDER_REVIEW = "under_review"
    REVISED = "revised"
    ABOLISHED = "abolished"


class ClauseKind(StrEnum):
    REQUIREMENT = "requirement"  # 应 / 不应
    RECOMMENDATION = "recommendation"  # 宜 / 不宜
    PERMISSION = "permission"  # 可 / 不必
    STATEMENT = "statement"  # 陈述


class Subject(StrEnum):
    """What an institution-facing requirement is about (drives compliance checklists)."""

    SITE = "site"  # 场所与建筑
    EQUIPMENT = "equipment"  # 设施设备
    STAFFING = "staffing"  # 人员配备与资质
    TRAINING = "training"  # 培训
    PROCESS = "process"  # 服务流程
    QUALITY = "quality"  # 服务质量
    MANAGEMENT = "management"  # 管理


# --- Compliance: the institutions a standard governs, how each clause is assessed, how an inspection is graded ---
# Read by fuwu.compliance (checklists, scoring, pilots). Everything here is optional: a standard without
# `institution_kinds` governs no institution and has no checklist.


class AssessmentMethod(StrEnum):
    """How an inspector establishes whether a clause is met."""

    DOCUMENT = "document"  # 查阅资料
    ON_SITE = "on_site"  # 现场查看
    INTERVIEW = "interview"  # 询问访谈
    DATA_CHECK = "data_check"  # 数据核查


class EvidenceKind(StrEnum):
    """What an answer must carry: a photo taken on site, a file (a scan, a certificate), or a measured number."""

    PHOTO = "photo"
    FILE = "file"
    NUMBER = "number"


class InstitutionKind(Strict):
    """A kind of institution this standard governs, e.g. a village veterans' service station.

    Kind ids are shared across standards: two standards that declare the same id govern the same kind
    (and must name it alike).
    """

    id: Identifier
    name: Text
    level: Literal["county", "township", "village"] = Field(
        description="The level of area an institution of this kind sits in and serves (county, township or street, "
        "village or community)."
    )
    description: Text | None = None
    modeled: bool = Field(default=False, description="True when this kind is fuwu's reading, not named in the text.")
    basis: NonEmpty | None = Field(default=None, description="Where the kind comes from, in words.")


class Measure(Strict):
    """The number an inspector records for a clause (e.g. the hall's floor area), with the bound the clause sets."""

    name: Text
    unit: Text
    at_least: Decimal | None = None
    at_most: Decimal | None = None

    @model_validator(mode="after")
    def _bounds_ordered(self) -> Measure:
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError(f"at_least ({self.at_least}) is above at_most ({self.at_most})")
        return self


class Assessment(Strict):
    """How one requirement (or recommendation) clause is checked at an inspection."""

    applies_to: list[Identifier] = Field(
        default_factory=list,
        description="Ids of this standard's `institution_kinds` the clause binds; empty means every kind it declares.",
    )
    method: AssessmentMethod | None = Field(default=None, description="Required unless `not_assessed` is given.")
    evidence: list[EvidenceKind] = Field(default_factory=list, description="What an answer must carry.")
    measure: Measure | None = Field(default=None, description="Required when `evidence` lists `number`.")
    weight: int = Field(default=1, ge=1, le=100, description="The clause's share of the score, against the others.")
    critical: bool = Field(
        default=False, description="A failed critical clause fails the whole inspection, whatever the score."
    )
    guidance: Text | None = Field(default=None, description="What the inspector looks at, in plain words.")
    rectification_days: int | None = Field(
        default=None, ge=1, le=180, description="Working days to put a failure right; the grading's default if absent."
    )
    not_assessed: Text | None = Field(
        default=None,
        description="Why this requirement is not on any institution's checklist (e.g. it binds the department).",
    )
    modeled: bool = Field(default=False, description="True when this assessment is fuwu's, not the published text's.")
    basis: NonEmpty | None = Field(default=None, description="Where the assessment comes from; required when modeled.")

    @model_validator(mode="after")
    def _complete(self) -> Assessment:
        if self.not_assessed is not None:
            if self.method or self.evidence or self.measure or self.critical or self.applies_to:
                raise ValueError("a clause that is not assessed has only `not_assessed` (and modeled, basis)")
            return self
        if self.method is None:
            raise ValueError("method is required: document, on_site, interview or data_check")
        repeated = sorted({e for e in self.evidence if self.evidence.count(e) > 1})
        if repeated:
            raise ValueError(f"evidence must be listed once each; repeated: {', '.join(repeated)}")
        if (EvidenceKind.NUMBER in self.evidence) != (self.measure is not None):
            raise ValueError("evidence lists `number` exactly when a `measure` says what number to record")
        if self.modeled and not self.basis:
            raise ValueError("a modelled assessment needs a `basis` saying where it comes from")
        return self


class Grade(Strict):
    """A grade above a pass, e.g. a star rating; the highest whose `min_score` the score reaches applies."""

    id: Identifier
    name: Text
    min_score: Decimal = Field(ge=0, le=100)
    stars: int | None = Field(default=None, ge=1, le=5)


class PilotAcceptance(Strict):
    """What a pilot area must show to be accepted (验收): its institutions' inspections against these thresholds."""

    min_average_score: Decimal = Field(ge=0, le=100)
    min_passing_percent: Decimal = Field(ge=0, le=100, description="Share of the area's institutions that pass.")


class Grading(Strict):
    """How an inspection against this standard is scored (0-100, by weight) and graded."""

    partial_credit: Decimal = Field(
        default=Decimal("0.5"), ge=0, le=1, description="The share of a clause's weight a partly-met answer earns."
    )
    pass_score: Decimal = Field(default=Decimal(60), ge=0, le=100)
    grades: list[Grade] = Field(default_factory=list, description="Highest first; each at or above the pass score.")
    rectification_days: int = Field(default=10, ge=1, le=180, description="Working days to put a failure right.")
    escalation_days: int = Field(
        default=5, ge=1, le=60, description="Working days after a missed deadline before it goes to the city."
    )
    acceptance: PilotAcceptance | None = None
    clause: ClauseRef | None = None
    modeled: bool = False
    basis: NonEmpty | None = None

    @model_validator(mode="after")
    def _grades_descend(self) -> Grading:
        scores = [g.min_score for g in self.grades]
        if any(a <= b for a, b in itertools.pairwise(scores)):
            raise ValueError("grades must be listed highest first, each min_score below the one before")
        low = [g.id for g in self.grades if g.min_score < self.pass_score]
        if low:
            raise ValueError(f"grades below the pass score ({self.pass_score}): {', '.join(low)}; a grade is a pass")
        ids = [g.id for g in self.grades]
        if len(set(ids)) != len(ids):
            raise ValueError("grade ids must be unique")
        if self.modeled and not self.basis:
            raise ValueError("a modelled grading needs a `basis` saying where it comes from")
        return self


def assessment_problems(document: StandardDocument) -> list[tuple[tuple[str | int, ...], str]]:
    """Assessments that do not fit their clause or the kinds declared, as (path, message), like qualifications."""
    kinds = [k.id for k in document.institution_kinds]
    problems: list[tuple[tuple[str | int, ...], str]] = []
    repeated = sorted({k for k in kinds if kinds.count(k) > 1})
    if repeated:
        problems.append(
            (("institution_kinds",), f"institution kind ids must be unique; repeated: {', '.join(repeated)}")
        )
    listed = ", ".join(kinds) or "none"

    def visit(clauses: list[Clause], path: tuple[str | int, ...]) -> None:
        for i, clause in enumerate(clauses):
            here = (*path, i)
            a = clause.assessment
            if a is None:
                if kinds and clause.kind == ClauseKind.REQUIREMENT and clause.subject is not None:
                    problems.append(
                        (
                            here,
                            f"requirement {clause.number} binds institutions (subject {clause.subject}) but says "
                            "nothing of how it is assessed; add `assessment:` (method, evidence, weight) or "
                            "`assessment: {not_assessed: {zh: ...}}` with the reason",
                        )
                    )
            elif clause.kind not in (ClauseKind.REQUIREMENT, ClauseKind.RECOMMENDATION):
                problems.append(
                    (
                        (*here, "assessment"),
                        f"clause {clause.number} is a {clause.kind}; "
                        "only requirements and recommendations are assessed",
                    )
                )
            elif not kinds:
                problems.append(
                    (
                        (*here, "assessment"),
                        f"clause {clause.number} has an assessment but the standard declares no institution_kinds",
                    )
                )
            else:
                if a.critical and clause.kind != ClauseKind.REQUIREMENT:
                    problems.append(
                        (
                            (*here, "assessment", "critical"),
                            f"clause {clause.number} is a recommendation (宜); only a requirement (应) can be critical",
                        )
                    )
                for j, kind in enumerate(a.applies_to):
                    if kind not in kinds:
                        problems.append(
                            (
                                (*here, "assessment", "applies_to", j),
                                f"clause {clause.number} applies to institution kind {kind!r}, which is not declared; "
                                f"declared institution kinds: {listed}",
                            )
                        )
            visit(clause.children, (*here, "children"))

    visit(document.clauses, ("clauses",))
    return problems


def institution_kind_conflicts(documents: list[StandardDocument]) -> list[tuple[str, int, str]]:
    """Kinds declared by several standards under different names, as (standard id, index, message)."""
    first: dict[str, tuple[str, InstitutionKind]] = {}
    problems: list[tuple[str, int, str]] = []
    for document in documents:
        for i, kind in enumerate(document.institution_kinds):
            seen = first.setdefault(kind.id, (document.id, kind))
            if seen[0] != document.id and (seen[1].name.zh, seen[1].level) != (kind.name.zh, kind.level):
                problems.append(
                    (
                        document.id,
                        i,
                        f"institution kind {kind.id!r} is also declared by {seen[0]} as {seen[1].name.zh} "
                        f"({seen[1].level}); a kind shared by standards has one name and level",
                    )
                )
    return problems


class Source(Strict):
    """Where a file's content comes from, and how far it can be trusted."""

    basis: NonEmpty = Field(description="Where the content comes from, in words.")
    references: list[NonEmpty] = Field(default_factory=list, description="Published documents relied on.")
    modeled: bool = Field(
        description="True when any part of the file is modelled rather than taken from the published text."
    )
    notes: NonEmpty | None = None


class Clause(Strict):
    number: ClauseRef
    title: Text | None = None
    kind: ClauseKind = ClauseKind.STATEMENT
    subject: Subject | None = Field(
        default=None, description="Required on requirements that bind service institutions."
    )
    text: Text | None = None
    modeled: bool = Field(default=False, description="True when this clause's wording is modelled, not official.")
    assessment: Assessment | None = Field(default=None, description="How an inspection checks this clause.")
    children: list[Clause] = Field(default_factory=list)

    @model_validator(mode="after")
    def _children_are_numbered_under_parent(self) -> Clause:
        if self.title is None and self.text is None:
            raise ValueError("a clause needs a title, a text, or both")
        for child in self.children:
            if not child.number.startswith(self.number + "."):
                raise ValueError(
                    f"child clause {child.number!r} is not numbered under {self.number!r}; expected {self.number}.N"
                )
        return self


class Cited(Strict):
    """A piece of an item's description with the clause it comes from."""

    text: Text
    clause: ClauseRef | None = None
    modeled: bool = False


class Level(Strict):
    """How much of the service a person gets."""

    text: Text
    quantity: Decimal | None = None
    frequency: NonEmpty | None = Field(default=None, description="e.g. per_month, per_year, once")
    amount: Decimal | None = Field(default=None, description="Money, in yuan.")
    parameter: Identifier | None = Field(default=None, description="A dated parameter that sets the amount.")
    unit: NonEmpty | None = None
    clause: ClauseRef | None = None
    modeled: bool = False


class Criterion(Strict):
    """One condition of eligibility: a boolean expression over the facts vocabulary (docs/facts.md)."""

    expr: NonEmpty = Field(description="e.g. \"age >= 80 AND hukou_city = '3310'\"")
    text: Text | None = Field(default=None, description="The condition in plain words, shown in explanations.")
    clause: ClauseRef | None = None


class RuleLevel(Strict):
    """How much an eligible person gets, as expressions that may use param('id'[, 'band'])."""

    amount: NonEmpty | None = Field(default=None, description="Money in yuan per period.")
    units: NonEmpty | None = Field(default=None, description="Service units per period.")
    unit: NonEmpty | None = Field(default=None, description="What a unit is, e.g. visit, hour.")
    period: Literal["once", "month", "year"] = "month"
    clause: ClauseRef | None = None
    shared: Identifier | None = Field(
        default=None,
        description=(
            "Items whose levels name the same `shared` id pay one allowance between them: a person entitled to "
            "several of them receives the largest of their amounts once, not each."
        ),
    )
    self_paid: bool = Field(
        default=False,
        description=(
            "True when the amount is a price the person pays (e.g. a package bought at their own cost), "
            "not money or a service the person receives; it is then shown as a price and left out of costs."
        ),
    )


class Rule(Strict):
    """Eligible when every criterion is true; not eligible when any is false; otherwise unknown."""

    criteria: dict[Identifier, Criterion] = Field(min_length=1)
    level: RuleLevel | None = None
    modeled: bool = False


class TargetGroup(Strict):
    text: Text
    clause: ClauseRef | None = None
    modeled: bool = False
    rule: Rule | None = Field(default=None, description="The executable eligibility rule for this target group.")


class Material(Strict):
    name: Text
    form: Literal["original", "copy", "original_or_copy", "electronic"] = "original"
    count: int = Field(default=1, ge=1)
    shared_data: bool = Field(
        default=False, description="True when data sharing can fetch it, so the applicant need not bring it."
    )
    note: Text | None = None
    clause: ClauseRef | None = None
    modeled: bool = False


class Step(Strict):
    name: Text
    description: Text | None = None
    actor: Text | None = None
    legal_limit_days: int | None = Field(default=None, ge=0, description="Statutory limit, in working days.")
    promised_limit_days: int | None = Field(default=None, ge=0, description="Promised limit, in working days.")
    clause: ClauseRef | None = None
    modeled: bool = False

    @model_validator(mode="after")
    def _promise_within_law(self) -> Step:
        if (
            self.legal_limit_days is not None
            and self.promised_limit_days is not None
            and self.promised_limit_days > self.legal_limit_days
        ):
            raise ValueError(
                f"promised_limit_days ({self.promised_limit_days}) exceeds legal_limit_days "
                f"({self.legal_limit_days}); a promise must be at most the legal limit"
            )
        return self


class OnlineChannel(Strict):
    name: Text
    url: NonEmpty | None = None


class WindowChannel(Strict):
    name: Text
    address: Text | None = None
    hours: Text | None = None


class PhoneChannel(Strict):
    name: Text
    number: Annotated[str, StringConstraints(pattern=r"^[0-9+\- ]{3,20}$")]


class Channels(Strict):
    online: list[OnlineChannel] = Field(default_factory=list)
    windows: list[WindowChannel] = Field(default_factory=list)
    phone: list[PhoneChannel] = Field(default_factory=list)
    clause: ClauseRef | None = None
    modeled: bool = False


class Delivery(Strict):
    """What one visit of an item takes: its length, its staff and the qualifications they need (for dispatch)."""

    minutes: int = Field(ge=1, le=1440, description="The minimum length of one visit, in minutes.")
    staff: int = Field(default=1, ge=1, le=10, description="How many staff deliver one visit together.")
    qualifications: list[Identifier] = Field(
        default_factory=list,
        description="Ids of qualifications declared in this standard's `qualifications`; "
        "every member of staff on the visit needs all of them. Empty when none beyond the general staff rules.",
    )
    clause: ClauseRef | None = Field(
        default=None, description="The clause that sets the visit length and staffing; none when they are modelled."
    )
    modeled: bool = Field(
        default=False, description="True when these values are modelled rather than taken from the published text."
    )

    @field_validator("qualifications")
    @classmethod
    def _qualifications_once(cls, ids: list[str]) -> list[str]:
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"qualifications must be listed once each; repeated: {', '.join(repeated)}")
        return ids


class Proactive(Strict):
    """What officials do for people a screening finds entitled to the item but not yet served (免申即享).

    One line per item, e.g. ``proactive: {outreach: true, modeled: true}``; later marks (such as granting the
    item without an application) belong here too.
    """

    outreach: bool = Field(
        description=(
            "True when each newly entitled person should be contacted one by one: there is something to apply "
            "for, claim or enrol in. False for services open to everyone that nobody needs to be told about "
            "individually (radio, television, libraries, health records)."
        )
    )
    clause: ClauseRef | None = Field(default=None, description="The clause that asks for the outreach, if any.")
    modeled: bool = Field(
        default=False, description="True when the choice is the platform's own reading, not the published text."
    )
    without_application: Literal["confirm", "grant"] | None = Field(
        default=None,
        description=(
            "How the item is given without an application (免申即享) to people a screening finds entitled: "
            "'confirm' — an officer's screening run pre-fills an application from the registry and the person "
            "only confirms (or declines) it; 'grant' — the run approves it at once and the person is told, "
            "for an item whose rule states a level (amount or units) the person receives. Absent: not offered."
        ),
    )
    note: Text | None = Field(
        default=None,
        description="Why the item is offered so, in plain words; say when the mark is the platform's modelling.",
    )


class ServiceItem(Strict):
    id: Identifier
    name: Text
    life_area: LifeArea
    category: Text | None = Field(default=None, description="The category within the life area.")
    national_item: Identifier | None = Field(
        default=None, description="The national standard item this local item implements."
    )
    national_group: Literal["same", "wider", "narrower"] | None = Field(
        default=None,
        description=(
            "How this item's target group compares with its national item's, for a person living and registered "
            "in this standard's area: 'same' (the default: they answer alike, the local item deciding only what the "
            "national one leaves to local rules, such as a local income line), 'wider' (this item also serves "
            "people the national one does not), 'narrower' (it serves part of the national item's group). "
            "Only with national_item."
        ),
    )
    target_group: TargetGroup
    content: Cited
    level: Level | None = None
    expenditure: Cited | None = Field(default=None, description="Expenditure responsibility (who pays).")
    lead_department: Text | None = None
    materials: list[Material] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    channels: Channels | None = None
    fees: Cited | None = None
    legal_basis: list[Text] = Field(default_factory=list)
    delivery: Delivery | None = Field(
        default=None, description="How one visit is delivered: its length, staff and required qualifications."
    )
    proactive: Proactive | None = Field(
        default=None,
        description="Whether the proactive list asks officials to contact the entitled; every item in "
        "standards/ says (absent: the list files the item with those not worth a call).",
    )
    modeled: bool = False

    @model_validator(mode="after")
    def _national_group_needs_national_item(self) -> ServiceItem:
        if self.national_group is not None and self.national_item is None:
            raise ValueError("national_group says how this item compares with its national_item; give national_item")
        return self


def proactive_problems(document: StandardDocument) -> list[tuple[tuple[str | int, ...], str]]:
    """``proactive.without_application: grant`` on an item that has nothing to grant, as (path, message).

    Granting without an application gives the level the item's rule works out, as an approval would: the item
    needs an executable rule (``target_group.rule``) whose ``level`` states an amount or units the person
    receives (not a price they pay). Checked by the loader after validation, so the error points at the mark.
    """
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for i, item in enumerate(document.items):
        mark = item.proactive
        if mark is None or mark.without_application != "grant":
            continue
        path: tuple[str | int, ...] = ("items", i, "proactive", "without_application")
        rule = item.target_group.rule
        level = rule.level if rule is not None else None
        if rule is None:
            problems.append(
                (
                    path,
                    f"item {item.id!r} has no target_group.rule, so nothing can be granted "
                    "without an application; use 'confirm', or add the rule",
                )
            )
        elif level is None or (level.amount is None and level.units is None):
            problems.append(
                (
                    path,
                    f"item {item.id!r}: its rule states no level (amount or units) to grant; "
                    "use 'confirm', or give the rule a level",
                )
            )
        elif level.self_paid:
            problems.append(
                (path, f"item {item.id!r}: its level is a price the person pays, not something granted; use 'confirm'")
            )
    return problems


class Qualification(Strict):
    """A qualification that staff must hold to deliver an item, as the standard words it."""

    id: Identifier
    name: Text = Field(description="The qualification in the standard's words, e.g. the certificate that shows it.")
    note: Text | None = Field(default=None, description="How the qualification is read or shown, in plain words.")
    clause: ClauseRef | None = Field(default=None, description="The clause that requires it.")
    modeled: bool = Field(
        default=False, description="True when this qualification is modelled rather than taken from the published text."
    )


# --- visit rules ------------------------------------------------------------------------------------
# How a door-to-door visit is checked when staff arrive and leave, and how an irregular visit is settled.
# Read by home care (check-in, check-out, the family's confirmation, settlement); the numbers are dated
# parameters of the same standard, named here by id and checked by `visit_rule_problems`.


class VisitFlag(StrEnum):
    """What can be irregular about a visit that took place."""

    SHORT = "short"  # checked out before the item's `delivery.minutes`
    EARLY = "early"  # checked in earlier than the agreed time less the punctuality tolerance
    LATE = "late"  # checked in later than the agreed time plus the punctuality tolerance
    OUT_OF_RANGE = "out_of_range"  # checked in or out further from the home than the check-in radius
    TYPED_LOCATION = "typed_location"  # coordinates typed by hand instead of taken from the device
    STAFF_MISSING = "staff_missing"  # fewer staff checked in than the item's `delivery.staff`


class VisitSettlement(StrEnum):
    """How a flagged visit is settled."""

    FULL = "full"  # paid in full; the flag is only noted
    PRO_RATA = "pro_rata"  # paid for the share of the minimum duration delivered (short visits only)
    HOLD = "hold"  # held for the officer's review, who approves it in full, pays it reduced, or refuses it


class VisitFlagRule(Strict):
    flag: VisitFlag
    settle: VisitSettlement
    clause: ClauseRef | None = Field(default=None, description="The clause that says how such a visit is settled.")
    modeled: bool = Field(default=False, description="True when this rule is modelled, not published.")


class VisitRules(Strict):
    """When staff may check in, what counts as on time, and how each irregular visit is settled."""

    checkin_window: Identifier = Field(
        description="A parameter whose value is a table {before, after} in minutes: check-in is accepted only "
        "from `before` minutes before the agreed time until `after` minutes after it."
    )
    punctuality: Identifier = Field(
        description="A parameter in minutes: arriving more than this before or after the agreed time flags the "
        "visit early or late."
    )
    flags: list[VisitFlagRule] = Field(
        description="How a visit with each flag is settled; every flag is listed once. When a visit has several "
        "flags, `hold` wins over `pro_rata`, which wins over `full`."
    )
    clause: ClauseRef | None = Field(default=None, description="The clause on punctuality and check-in.")
    modeled: bool = False

    @field_validator("flags")
    @classmethod
    def _every_flag_once(cls, rules: list[VisitFlagRule]) -> list[VisitFlagRule]:
        named = [VisitFlag(r.flag) for r in rules]
        repeated = sorted({f.value for f in named if named.count(f) > 1})
        if repeated:
            raise ValueError(f"each flag is listed once; repeated: {', '.join(repeated)}")
        missing = [f.value for f in VisitFlag if f not in named]
        if missing:
            raise ValueError(f"say how every flag is settled; missing: {', '.join(missing)}")
        prorated = [r.flag for r in rules if r.settle == VisitSettlement.PRO_RATA and r.flag != VisitFlag.SHORT]
        if prorated:
            raise ValueError(
                f"pro_rata settles a short visit by its duration; use full or hold for: {', '.join(prorated)}"
            )
        return rules


def visit_rule_problems(document: StandardDocument) -> list[tuple[tuple[str | int, ...], str]]:
    """Visit rules naming a parameter the document does not declare, or one of the wrong shape, as (path, message).

    Checked by the loader after validation, like qualifications, so each error points at the reference's line.
    """
    rules = document.visit_rules
    if rules is None:
        return []
    declared = {p.id: p for p in document.parameters}
    listed = ", ".join(sorted(declared)) or "none"
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for field, table in (("checkin_window", True), ("punctuality", False)):
        key = getattr(rules, field)
        parameter = declared.get(key)
        if parameter is None:
            problems.append(
                (
                    ("visit_rules", field),
                    f"names parameter {key!r}, which is not declared; declared parameters: {listed}",
                )
            )
            continue
        for i, value in enumerate(parameter.values):
            wrong = (
                not isinstance(value.value, dict) or set(value.value) != {"before", "after"}
                if table
                else isinstance(value.value, dict)
            )
            if wrong:
                shape = "a table {before: minutes, after: minutes}" if table else "a single number of minutes"
                problems.append(
                    (
                        ("parameters", document.parameters.index(parameter), "values", i, "value"),
                        f"parameter {key!r} is used as visit_rules.{field}, so each value must be {shape}",
                    )
                )
    return problems


class IndicatorComputation(Strict):
    """An indicator as data: rows of one published data view counted twice (docs/evaluation.md).

    The denominator counts the view's rows in the period and area that match ``denominator`` (every row when
    it is left out); the numerator counts those of them that also match ``numerator``. Both are boolean
    expressions in the rule language over the view's columns, and may name the standard's parameters
    with ``param('id')`` (the value in force on the period's first day).
    """

    view: Identifier = Field(description="A published data view, e.g. homecare_visits (docs/evaluation.md).")
    numerator: NonEmpty = Field(description="Which counted rows meet the indicator (a boolean expression).")
    denominator: NonEmpty | None = Field(
        default=None, description="Which rows are counted at all (a boolean expression); every row when left out."
    )
    period: Literal["month", "quarter", "year"] = Field(
        default="month", description="The shortest period the indicator is meaningful for; longer ones follow."
    )
    area_level: Literal["city", "county", "township", "village"] = Field(
        default="township", description="The finest area level the indicator is meaningful at; coarser ones follow."
    )


class Indicator(Strict):
    id: Identifier
    name: Text
    formula: Text = Field(description="How it is computed, in words.")
    target: Decimal | None = None
    comparison: Literal["at_least", "at_most", "equal"] = "at_least"
    unit: NonEmpty | None = None
    clause: ClauseRef | None = None
    modeled: bool = False
    computation: IndicatorComputation | None = Field(
        default=None, description="How fuwu computes it from its own data; leave out with not_computable_reason."
    )
    not_computable_reason: Text | None = Field(
        default=None,
        description="Why fuwu cannot compute it from the data it holds (the value is then entered by hand).",
    )

    @model_validator(mode="after")
    def _computed_or_explained(self) -> Indicator:
        if self.computation is not None and self.not_computable_reason is not None:
            raise ValueError("give either computation or not_computable_reason, not both")
        return self


class ParameterValue(Strict):
    effective_from: dt.date
    value: Decimal | dict[str, Decimal] = Field(
        description="A number, or a table of numbers keyed by band (e.g. age bands)."
    )


class Parameter(Strict):
    id: Identifier
    name: Text
    unit: NonEmpty
    values: list[ParameterValue] = Field(min_length=1)
    bands: dict[str, Text] = Field(
        default_factory=dict,
        description="The bands of a table (the keys of its values) in words, as pages show them, "
        "e.g. {age-80-89: {zh: 80至89周岁, en: Aged 80 to 89}}. A table keyed by item ids is named by its items.",
    )
    clause: ClauseRef | None = None
    modeled: bool = False

    @model_validator(mode="after")
    def _bands_exist(self) -> Parameter:
        keys = {k for v in self.values if isinstance(v.value, dict) for k in v.value}
        unknown = sorted(set(self.bands) - keys)
        # Only for tables: a value that should be a table and is not gets its own, more useful error elsewhere.
        if keys and unknown:
            raise ValueError(f"bands {unknown} name no band of the values; the bands are {sorted(keys)}")
        return self

    @field_validator("values")
    @classmethod
    def _dates_increase(cls, values: list[ParameterValue]) -> list[ParameterValue]:
        dates = [v.effective_from for v in values]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError("values must be in strictly increasing effective_from order")
        return values


class Meta(Strict):
    number: Annotated[str, StringConstraints(min_length=3, max_length=64)] = Field(
        description="The standard's number, e.g. 'DB3310/T 100—2021'."
    )
    title: Text
    scope: Literal["national", "provincial", "local", "group"] = "local"
    issuing_body: Text
    drafting_bodies: list[Text] = Field(default_factory=list)
    issued_on: dt.date
    effective_on: dt.date
    status: Literal[Status.DRAFT, Status.PUBLISHED] = Status.PUBLISHED
    review_period_years: int = Field(default=MAX_REVIEW_PERIOD_YEARS, ge=1, le=MAX_REVIEW_PERIOD_YEARS)
    supersedes: list[NonEmpty] = Field(default_factory=list, description="Numbers of standards this replaces.")
    summary: Text | None = None
    modeled_fields: list[NonEmpty] = Field(
        default_factory=list,
        description="Metadata fields whose values are modelled, not published (e.g. number, issued_on).",
    )

    @field_validator("number")
    @classmethod
    def _number_has_year(cls, number: str) -> str:
        if not re.search(r"(?:[—-]\s*\d{4}|（\d{4}年版）)$", number):
            raise ValueError(
                "a standard number ends with its year, e.g. 'DB3310/T 100—2021' or '国家基本公共服务标准（2023年版）'"
            )
        return number

    @model_validator(mode="after")
    def _effective_after_issue(self) -> Meta:
        if self.effective_on < self.issued_on:
            raise ValueError(
                f"effective_on ({self.effective_on}) is before issued_on ({self.issued_on}); "
                "a standard takes effect on or after its issue date"
            )
        return self


class StandardDocument(Strict):
    """One standard, as one YAML file."""

    schema_version: Literal[1] = 1
    id: Identifier = Field(description="A stable key that stays the same across revisions.")
    meta: Meta
    source: Source
    clauses: list[Clause] = Field(min_length=1)
    items: list[ServiceItem] = Field(default_factory=list)
    indicators: list[Indicator] = Field(default_factory=list)
    qualifications: list[Qualification] = Field(
        default_factory=list,
        description="Staff qualifications that items' `delivery.qualifications` refer to by id.",
    )
    parameters: list[Parameter] = Field(default_factory=list)
    visit_rules: VisitRules | None = Field(
        default=None,
        description="For door-to-door services: when staff may check in and how irregular visits are settled.",
    )
    institution_kinds: list[InstitutionKind] = Field(
        default_factory=list, description="The kinds of institution this standard governs (compliance checklists)."
    )
    grading: Grading | None = Field(default=None, description="How inspections are scored and graded; defaults apply.")

    @model_validator(mode="after")
    def _references_resolve(self) -> StandardDocument:
        numbers = [c.number for c in walk_clauses(self.clauses)]
        duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
        if duplicates:
            raise ValueError(f"clause numbers must be unique; repeated: {', '.join(duplicates)}")
        for kind, ids in (
            ("item", [i.id for i in self.items]),
            ("indicator", [i.id for i in self.indicators]),
            ("parameter", [p.id for p in self.parameters]),
            ("qualification", [q.id for q in self.qualifications]),
        ):
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:
                raise ValueError(f"{kind} ids must be unique; repeated: {', '.join(repeated)}")
        known = set(numbers)
        missing = sorted({ref for ref in clause_references(self) if ref not in known})
        if missing:
            raise ValueError(
                f"clause references not found in this standard's clauses: {', '.join(missing)}; "
                "add the clause or correct the reference"
            )
        parameters = {p.id for p in self.parameters}
        for item in self.items:
            if item.level and item.level.parameter and item.level.parameter not in parameters:
                raise ValueError(
                    f"item {item.id!r} level uses parameter {item.level.parameter!r}, which is not declared; "
                    f"declared parameters: {', '.join(sorted(parameters)) or 'none'}"
                )
        for clause in walk_clauses(self.clauses):
            if clause.subject is not None and clause.kind == ClauseKind.STATEMENT:
                raise ValueError(
                    f"clause {clause.number} has a subject but is a statement; "
                    "a subject belongs on a requirement, recommendation or permission"
                )
        return self


def walk_clauses(clauses: list[Clause]) -> list[Clause]:
    """The clause tree in document order, flattened."""
    out: list[Clause] = []
    for clause in clauses:
        out.append(clause)
        out.extend(walk_clauses(clause.children))
    return out


def clause_references(document: StandardDocument) -> list[str]:
    refs: list[str | None] = []
    for item in document.items:
        refs += [item.target_group.clause, item.content.clause]
        for part in (item.level, item.expenditure, item.channels, item.fees, item.delivery, item.proactive):
            refs.append(part.clause if part else None)
        refs += [m.clause for m in item.materials] + [s.clause for s in item.steps]
        if item.target_group.rule:
            refs += [c.clause for c in item.target_group.rule.criteria.values()]
            refs.append(item.target_group.rule.level.clause if item.target_group.rule.level else None)
    refs += [i.clause for i in document.indicators] + [p.clause for p in document.parameters]
    refs += [q.clause for q in document.qualifications]
    if document.visit_rules is not None:
        refs += [document.visit_rules.clause, *(r.clause for r in document.visit_rules.flags)]
    refs.append(document.grading.clause if document.grading else None)
    return [r for r in refs if r]


def undeclared_qualifications(document: StandardDocument) -> list[tuple[tuple[str | int, ...], str]]:
    """Qualifications an item's delivery requires but the document does not declare, as (path, message).

    Checked by the loader after validation, like rules, so each error can point at the reference's own line.
    """
    declared = {q.id for q in document.qualifications}
    listed = ", ".join(sorted(declared)) or "none"
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for i, item in enumerate(document.items):
        if item.delivery is None:
            continue
        for j, qualification in enumerate(item.delivery.qualifications):
            if qualification not in declared:
                problems.append(
                    (
                        ("items", i, "delivery", "qualifications", j),
                        f"item {item.id!r} delivery requires qualification {qualification!r}, which is not "
                        f"declared; declared qualifications: {listed}",
                    )
                )
    return problems


def json_schema() -> dict[str, Any]:
    schema = StandardDocument.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://fuwu.example.org/schema/standard/v1.json"
    schema["title"] = "fuwu standard document"
    return schema
