"""Reads for entitlements: the rules in force, and screening results scoped to the reader."""

from __future__ import annotations

from django.db.models import QuerySet

from fuwu.eligibility.models import Candidate, RunStatus, ScreeningRun
from fuwu.eligibility.ruleset import ItemRule, rules_from_document
from fuwu.eligibility.screening import Plan, rules_digest
from fuwu.standards.models import StandardVersion
from fuwu.standards.schema import StandardDocument
from fuwu.standards.selectors import versions_in_force

_cache: dict[tuple[tuple[int, str], ...], list[ItemRule]] = {}


def rules_for_versions(versions: list[StandardVersion]) -> list[ItemRule]:
    rules: list[ItemRule] = []
    for v in versions:
        document = StandardDocument.model_validate(v.document)
        rules += rules_from_document(document, version=v.number, content_hash=v.content_hash)
    return rules


def rules_in_force() -> list[ItemRule]:
    """Every rule of every version in force; parsed once per set of versions, then reused.

    The cache key is read without the documents: decoding every standard's JSON
    on each request would cost more than answering it.
    """
    in_force = versions_in_force().order_by("standard__key")
    key = tuple(in_force.values_list("pk", "content_hash"))
    if key not in _cache:
        _cache.clear()
        _cache[key] = rules_for_versions(list(in_force))
    return _cache[key]


def completed_run(plan: Plan) -> ScreeningRun | None:
    """A finished run of exactly this plan (population, date, rules, output), if there is one."""
    return ScreeningRun.objects.filter(
        engine=plan.engine,
        as_of=plan.as_of,
        population=str(plan.population),
        output=str(plan.out),
        rules_digest=rules_digest(plan.rules),
        status=RunStatus.COMPLETED,
    ).first()


def chain_ids(run: ScreeningRun) -> list[int]:
    """The runs whose candidate rows ``run`` reads: the full run at the root of its lineage, the completed daily
    runs before it, and itself (ADR 27); just itself for a run of no lineage."""
    if run.lineage_id is None:
        return [run.pk]
    between = ScreeningRun.objects.filter(
        lineage_id=run.lineage_id, generation__lt=run.generation, status=RunStatus.COMPLETED
    ).values_list("pk", flat=True)
    return [run.lineage_id, *between, run.pk]


def candidates_of(run: ScreeningRun) -> QuerySet[Candidate]:
    """The run's candidates: its own rows, and for a daily run those of the runs before it in its lineage that
    neither it nor one of them ended (``Candidate.until``)."""
    if run.lineage_id is None:
        return Candidate.objects.filter(run=run)
    ids = chain_ids(run)
    return Candidate.objects.filter(run_id__in=ids).exclude(until_id__in=ids)
