"""Home-care accounts: opened from a screening of the registry, and where each elder's visits happen."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from fuwu.areas.models import Area
from fuwu.areas.selectors import descendant_codes_prefix
from fuwu.common import workdays
from fuwu.common.audit import audit
from fuwu.eligibility.inplace import eligible
from fuwu.eligibility.models import ScreeningRun
from fuwu.eligibility.store import Answer, MissingResults
from fuwu.homecare import permissions, standard
from fuwu.homecare.models import (
    AccountStatus,
    EntitlementAccount,
    LocationProposal,
    LocationSource,
    OrderKind,
    ProposalStatus,
    Provider,
)
from fuwu.homecare.services import HomeCareError, calendar_overrides, local_now
from fuwu.residents.models import Person


@dataclass
class OpeningReport:
    opened: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def provider_coverage() -> list[tuple[str, Provider]]:
    """(area-code prefix, provider) for every area an active provider serves, narrowest area first."""
    coverage = [
        (descendant_codes_prefix(area), provider)
        for area in Area.objects.filter(homecare_providers__active=True).prefetch_related("homecare_providers")
        for provider in area.homecare_providers.all()
        if provider.active
    ]
    return sorted(coverage, key=lambda pair: -len(pair[0]))


def provider_for_area(hukou_area: str, coverage: list[tuple[str, Provider]] | None = None) -> Provider | None:
    """The active provider whose served areas include ``hukou_area`` most narrowly."""
    for prefix, provider in provider_coverage() if coverage is None else coverage:
        if hukou_area.startswith(prefix):
            return provider
    return None


@transaction.atomic
def accounts_open_from_run(*, actor: Any, run: ScreeningRun, today: dt.date | None = None) -> OpeningReport:
    """Open (or update) an account for every registered elder the run found entitled to a subsidised project.

    Only a screening of the registry names registered people; an officer opens accounts in their own
    area. Entitled people with an unknown fact are left for the officer (the proactive list shows them).
    """
    if not permissions.can_open_accounts(actor):
        raise PermissionDenied("only a department officer with an area may open home-care accounts")
    if run.population != "registry":
        raise HomeCareError(_("只有对户籍登记人员的筛查才能开通服务账户；请先在“筛查户籍登记人员”页面运行筛查。"))
    today = today or local_now().date()
    subsidised = {k for k, p in standard.projects(on=today).items() if p.kind == OrderKind.SUBSIDISED}
    try:  # every answer stays in the run's files; the database keeps only the proactive list
        results = [r for r in eligible(run, items=subsidised) if r.amount is not None]
    except MissingResults as exc:
        raise HomeCareError(_("这次筛查的结果已按保存期限删除；请重新筛查户籍登记人员。")) from exc
    by_person: dict[int, list[Answer]] = {}
    for result in results:
        by_person.setdefault(result.person_id, []).append(result)
    prefix = descendant_codes_prefix(actor.area)
    persons = Person.objects.in_bulk(list(by_person))
    accounts = {a.person_id: a for a in EntitlementAccount.objects.filter(person_id__in=list(by_person))}
    overrides = calendar_overrides()
    coverage = provider_coverage()
    first_visit_days = int(standard.number("first_visit_days", on=today))
    report = OpeningReport()
    for person_id, rows in by_person.items():
        person = persons.get(person_id)
        if person is None:
            report.skip(_("登记信息已删除"))
            continue
        if not person.hukou_area.startswith(prefix):
            report.skip(_("不在本人辖区"))
            continue
        # One monthly allowance shared by every project (the rule gives each project the same amount).
        allowance = max(r.amount for r in rows if r.amount is not None)
        items = sorted(r.item for r in rows)
        version = rows[0].rule_version
        outcome = account_open(
            actor=actor,
            person=person,
            allowance=allowance,
            items=items,
            rule_version=version,
            today=today,
            run=run,
            account=accounts.get(person_id),
            coverage=coverage,
            overrides=overrides,
            first_visit_days=first_visit_days,
        )
        if outcome == NO_PROVIDER:
            report.skip(_("辖区内没有签约服务机构"))
        else:
            setattr(report, outcome, getattr(report, outcome) + 1)
    return report


NO_PROVIDER = "no_provider"


def account_open(
    *,
    actor: Any,
    person: Person,
    allowance: Decimal,
    items: list[str],
    rule_version: str,
    today: dt.date,
    run: ScreeningRun | None = None,
    account: EntitlementAccount | None = None,
    coverage: list[tuple[str, Provider]] | None = None,
    overrides: dict[dt.date, bool] | None = None,
    first_visit_days: int | None = None,
) -> str:
    """Open the elder's account (or bring it up to ``allowance`` and ``items``), audited; in the caller's transaction.

    Returns "opened", "updated", "unchanged", or ``NO_PROVIDER`` when no active provider serves the elder's area.
    Called per elder by a screening's opening (above) and by an approved application (``applications.grants``).
    """
    if not permissions.can_open_accounts(actor) or not person.hukou_area.startswith(
        descendant_codes_prefix(actor.area)
    ):
        raise PermissionDenied("only a department officer of the elder's area may open a home-care account")
    if account is None:
        account = EntitlementAccount.objects.filter(person=person).first()
    if account is None:
        provider = provider_for_area(person.hukou_area, coverage)
        if provider is None:
            return NO_PROVIDER
        days = first_visit_days if first_visit_days is not None else int(standard.number("first_visit_days", on=today))
        account = EntitlementAccount.objects.create(
            person=person,
            provider=provider,
            monthly_allowance=allowance,
            items=items,
            rule_version=rule_version,
            screening_run=run,
            opened_on=today,
            first_visit_due=workdays.add_working_days(
                today, days, overrides=calendar_overrides() if overrides is None else overrides
            ),
        )
        audit(actor=actor, event="homecare.account_opened", obj=account, after=_account_state(account))
        return "opened"
    if (account.monthly_allowance, account.items, account.status) != (allowance, items, AccountStatus.ACTIVE):
        before = _account_state(account)
        account.monthly_allowance, account.items, account.status = allowance, items, AccountStatus.ACTIVE
        account.rule_version, account.screening_run = rule_version, run
        account.save()
        audit(actor=actor, event="homecare.account_updated", obj=account, before=before, after=_account_state(account))
        return "updated"
    return "unchanged"


def _account_state(account: EntitlementAccount) -> dict[str, Any]:
    return {
        "allowance": str(account.monthly_allowance),
        "items": account.items,
        "provider": account.provider_id,
        "status": account.status,
    }


@transaction.atomic
def account_set_home(
    *,
    actor: Any,
    account: EntitlementAccount,
    address: str,
    latitude: Decimal,
    longitude: Decimal,
    source: str = LocationSource.TYPED,
    note: str = "",
) -> EntitlementAccount:
    """Where visits happen: needed for dispatch and the check-in distance.

    ``source`` says where the position came from: picked on the map, or typed by hand (allowed, with the
    officer's ``note`` of where the figures came from). A caregiver's located check-in is taken through
    ``location_proposal_accept`` instead.
    """
    if not (permissions.is_officer_for(actor, account.person) or permissions.manages(actor, account.provider)):
        raise PermissionDenied("only the elder's officer or provider may set the home location")
    if not (latitude.is_finite() and longitude.is_finite() and -90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise HomeCareError(_("经纬度超出范围：纬度应在 -90～90，经度应在 -180～180 之间。"), code="bad_location")
    if source not in (LocationSource.MAP, LocationSource.TYPED):
        raise HomeCareError(_("请在地图上选定住址位置，或手动填写经纬度。"), code="bad_source")
    if source == LocationSource.TYPED and not note.strip():
        raise HomeCareError(
            _("经纬度是手动填写的：请在“说明”中写明坐标从哪里得来（例如“手机地图应用长按住处读取”）。"),
            code="note_required",
        )
    return _set_home(actor, account, address.strip(), latitude, longitude, source, note.strip())


def _set_home(
    actor: Any,
    account: EntitlementAccount,
    address: str,
    latitude: Decimal,
    longitude: Decimal,
    source: str,
    note: str,
) -> EntitlementAccount:
    before = {
        "address": account.address,
        "lat": str(account.latitude),
        "lon": str(account.longitude),
        "source": account.location_source,
    }
    account.address, account.latitude, account.longitude = address, latitude, longitude
    account.location_source, account.location_note = source, note[:300]
    account.save(update_fields=["address", "latitude", "longitude", "location_source", "location_note"])
    audit(
        actor=actor,
        event="homecare.account_home_set",
        obj=account,
        before=before,
        after={"address": address, "lat": str(latitude), "lon": str(longitude), "source": source},
        note=note,
    )
    return account


def _pending_proposal(actor: Any, proposal: LocationProposal) -> LocationProposal:
    proposal = LocationProposal.objects.select_for_update().select_related("account__person").get(pk=proposal.pk)
    if not permissions.is_officer_for(actor, proposal.account.person):
        raise PermissionDenied("only the elder's officer may decide on a proposed home position")
    if proposal.status != ProposalStatus.PENDING:
        raise HomeCareError(_("这个定位建议已经处理过了。"), code="wrong_state")
    return proposal


@transaction.atomic
def location_proposal_accept(
    *, actor: Any, proposal: LocationProposal, now: dt.datetime | None = None
) -> EntitlementAccount:
    """The officer takes a caregiver's located check-in as the home's position."""
    proposal = _pending_proposal(actor, proposal)
    account = EntitlementAccount.objects.select_for_update().get(pk=proposal.account_id)
    proposal.status, proposal.decided_at, proposal.decided_by = ProposalStatus.ACCEPTED, now or local_now(), actor
    proposal.save(update_fields=["status", "decided_at", "decided_by"])
    note = _("%(caregiver)s %(when)s签到时的手机定位") % {
        "caregiver": proposal.caregiver.name,
        "when": f"{proposal.proposed_at:%Y-%m-%d %H:%M}",
    }
    return _set_home(
        actor, account, account.address, proposal.latitude, proposal.longitude, LocationSource.CHECKIN, note
    )


@transaction.atomic
def location_proposal_dismiss(
    *, actor: Any, proposal: LocationProposal, now: dt.datetime | None = None
) -> LocationProposal:
    """The officer keeps the position on record (e.g. the caregiver was not at the home that day)."""
    proposal = _pending_proposal(actor, proposal)
    proposal.status, proposal.decided_at, proposal.decided_by = ProposalStatus.DISMISSED, now or local_now(), actor
    proposal.save(update_fields=["status", "decided_at", "decided_by"])
    audit(
        actor=actor, event="homecare.location_proposal_dismissed", obj=proposal.account, after={"proposal": proposal.pk}
    )
    return proposal
