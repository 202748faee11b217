"""Every route the site serves, from the URL conf and the OpenAPI document, and the arguments to fill them.

``routes()`` walks ``get_resolver()``; ``api_operations()`` reads ``/api/v1/openapi.json``. ``ARGS`` says, for
every route with parameters, how to fill them from one side of the world ("A": the matrix's own county,
"B": another county and other owners), so each object URL is asked for an object of each side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.security.world import Side, World


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the pattern itself for unnamed ones
    pattern: str
    params: tuple[str, ...]


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            name = f"{namespace}{entry.name}" if entry.name else pattern
            yield Route(name, pattern, tuple(entry.pattern.regex.groupindex))


def routes() -> list[Route]:
    """Every route of the site except the Django admin's (asked about as a family, see matrix.ADMIN)."""
    return [r for r in _walk(get_resolver()) if not r.pattern.startswith("admin/")]


def admin_routes() -> list[Route]:
    return [r for r in _walk(get_resolver()) if r.pattern.startswith("admin/")]


Args = Callable[[World, Side], dict[str, Any]]


def _pk(attr: str) -> Args:
    return lambda world, side: {"pk": getattr(side, attr).pk}


def _applicant_notice(application: int) -> int:
    """The notice the side's application wrote to its applicant (the family member who submitted it)."""
    from fuwu.notices.models import Notice

    found = Notice.objects.filter(subject=f"applications.application:{application}", audience="applicant").first()
    assert found is not None, "the world's application wrote no notice"
    return found.pk


ARGS: dict[str, Args] = {
    "guide:standard_detail": lambda w, s: {"key": "taizhou-home-care"},
    "guide:standard_version": lambda w, s: {"key": "taizhou-home-care", "number": 1},
    "guide:standard_diff": lambda w, s: {"key": "taizhou-home-care", "old": 1, "new": 1},
    "guide:item_detail": lambda w, s: {"key": "hc-meals"},
    "guide:item_pdf": lambda w, s: {"key": "hc-meals"},
    "registry:history": lambda w, s: {"pk": w.version.pk},
    "registry:transition": lambda w, s: {"pk": w.version.pk, "action": "begin_review"},
    "residents:detail": lambda w, s: {"pk": s.elder.pk},
    "applications:apply": lambda w, s: {"key": "hc-meals"},
    "applications:detail": _pk("application"),
    "applications:supply": _pk("application"),
    "applications:withdraw": _pk("application"),
    "applications:file": lambda w, s: {"pk": s.application.pk, "index": 1},
    "applications:act": lambda w, s: {"pk": s.application.pk, "action": "accept"},
    # 免申即享: hc-meals is not given without an application, so officers get 404 past the role check.
    "applications:prefill": lambda w, s: {"run_id": w.run.pk, "township": s.township.code, "item": "hc-meals"},
    "applications:confirm": _pk("application"),
    "applications:decline": _pk("application"),
    "applications:rate": _pk("decided"),
    "applications:rectification": _pk("rectification_app"),
    "applications:rectification_act": lambda w, s: {"pk": s.rectification_app.pk, "action": "record"},
    "notices:read": lambda w, s: {"pk": _applicant_notice(s.application.pk)},
    "residents:reveal": lambda w, s: {"pk": s.elder.pk},
    "residents:contact": lambda w, s: {"pk": s.elder.pk},
    "residents:import_report": _pk("person_import"),
    "residents:import_errors": _pk("person_import"),
    "proactive:run": lambda w, s: {"run_id": w.run.pk},
    "proactive:list": lambda w, s: {"run_id": w.run.pk},
    "proactive:record": lambda w, s: {"run_id": w.run.pk},
    "proactive:export": lambda w, s: {"run_id": w.run.pk},
    "proactive:export_csv": lambda w, s: {"run_id": w.run.pk},
    "proactive:people": lambda w, s: {"run_id": w.run.pk, "township": s.township.code, "item": "hc-meals"},
    "homecare:book": lambda w, s: {"person_id": s.elder.pk},
    "homecare:order": _pk("order"),
    "homecare:order_cancel": _pk("booked"),
    "homecare:order_confirm": _pk("held"),
    "homecare:order_rate": _pk("order"),
    "homecare:order_complain": _pk("order"),
    "homecare:photo": lambda w, s: {"pk": s.order.pk, "photo_id": s.photo.pk},
    "homecare:visit": _pk("visit"),
    "homecare:visit_check_in": _pk("visit"),
    "homecare:visit_check_out": _pk("visit"),
    "homecare:visit_photo": _pk("visit"),
    "homecare:visit_confirm": _pk("held"),
    "homecare:visit_no_show": _pk("visit"),
    "homecare:order_accept": _pk("booked"),
    "homecare:order_decline": _pk("booked"),
    "homecare:account": _pk("account"),
    "homecare:account_family": _pk("account"),
    "homecare:complaint_resolve": _pk("complaint"),
    "homecare:review_decide": _pk("held"),
    "homecare:location_proposal": lambda w, s: {"pk": s.account.pk, "proposal_id": s.proposal.pk},
    "homecare:settlement": _pk("settlement"),
    "homecare:settlement_confirm": _pk("settlement"),
    "homecare:settlement_xlsx": _pk("settlement"),
    "homecare:settlement_pdf": _pk("settlement"),
    "homecare:statement": lambda w, s: {"account_id": s.account.pk, "month": "2026-12"},
    "homecare:statement_pdf": lambda w, s: {"account_id": s.account.pk, "month": "2026-12"},
    "homecare:callback_record": _pk("callback"),
    "compliance:institution": _pk("institution"),
    "compliance:result": _pk("published"),
    "compliance:draw": _pk("draw"),
    "compliance:import_errors": _pk("institution_import"),
    "compliance:office_draw": _pk("draw"),
    "compliance:draw_publish": _pk("draw"),
    "compliance:draw_redo": _pk("draw"),
    "compliance:inspection_publish": _pk("published"),
    "compliance:pilot": _pk("pilot"),
    "compliance:pilot_decide": _pk("pilot"),
    "compliance:inspection": _pk("inspection"),
    "compliance:start": _pk("inspection"),
    "compliance:answer": lambda w, s: {"pk": s.inspection.pk, "item_pk": s.item.pk},
    "compliance:evidence": lambda w, s: {"pk": s.inspection.pk, "item_pk": s.item.pk},
    "compliance:sign": _pk("inspection"),
    "compliance:reinspect": _pk("published"),
    "compliance:record": _pk("published"),
    "compliance:evidence_file": _pk("evidence"),
    "compliance:order": _pk("rectification"),
    "compliance:order_evidence": _pk("rectification"),
    "compliance:order_answer": _pk("rectification"),
    "compliance:order_decide": _pk("rectification"),
    "compliance:self_assess": lambda w, s: {"pk": s.institution.pk, "standard": s.standard.key},
    "evaluation:standard": lambda w, s: {"key": "taizhou-home-care"},
    "evaluation:area": lambda w, s: {"key": "taizhou-home-care", "area_code": s.county.code},
    "evaluation:standard_xlsx": lambda w, s: {"key": "taizhou-home-care", "area_code": s.county.code},
    "evaluation:standard_pdf": lambda w, s: {"key": "taizhou-home-care", "area_code": s.county.code},
    "evaluation:review_report": lambda w, s: {"key": "taizhou-home-care"},
    "evaluation:review_decide": lambda w, s: {"key": "taizhou-home-care"},
    "evaluation:review_pdf": lambda w, s: {"pk": _evaluation(w).pk},
    "evaluation:feedback_standard": lambda w, s: {"key": "taizhou-home-care"},
    "evaluation:feedback_clause": lambda w, s: {"key": "taizhou-home-care", "number": "6.2.1"},
    "evaluation:feedback_moderate": lambda w, s: {"pk": _feedback(w).pk},
    "evaluation:feedback_answer": lambda w, s: {"pk": _feedback(w).pk},
    "evaluation:feedback_contact": lambda w, s: {"pk": _feedback(w).pk},
    "evaluation:quality_area": lambda w, s: {"area_code": s.county.code},
    "evaluation:public": lambda w, s: {"key": "taizhou-home-care"},
    "evaluation:publish": lambda w, s: {"key": "taizhou-home-care"},
    # Entered by hand, led by the veterans bureau: the world's officers (civil affairs) may not enter it.
    "evaluation:manual": lambda w, s: {"key": "taizhou-veterans-service-centre", "indicator_key": "vc-satisfaction"},
    "jobs:detail": _pk("job"),
    "jobs:panel": _pk("job"),
    "api-1.0.0:get_standard": lambda w, s: {"key": "taizhou-home-care"},
    "api-1.0.0:get_item": lambda w, s: {"key": "hc-meals"},
    "api-1.0.0:get_area": lambda w, s: {"code": s.county.code},
    "api-1.0.0:get_order": lambda w, s: {"order_id": s.order.pk},
    "api-1.0.0:cancel_order": lambda w, s: {"order_id": s.booked.pk},
    "api-1.0.0:statement": lambda w, s: {"person_id": s.elder.pk},
    "api-1.0.0:get_application": lambda w, s: {"application_id": s.application.pk},
    "api-1.0.0:act": lambda w, s: {"application_id": s.application.pk, "action": "accept"},
    "api-1.0.0:supply_files": lambda w, s: {"application_id": s.application.pk},
}
# Routes whose arguments name an object that belongs to someone (an area, an owner): asked for both sides.
# The others (a standard, an item, the screening run) are the same object for everyone.
SHARED = {
    "guide:standard_detail",
    "guide:standard_version",
    "evaluation:standard",
    "evaluation:review_report",
    "evaluation:review_decide",
    "evaluation:review_pdf",
    "evaluation:feedback_standard",
    "evaluation:feedback_clause",
    "evaluation:feedback_moderate",
    "evaluation:feedback_answer",
    "evaluation:feedback_contact",
    "evaluation:public",
    "evaluation:publish",
    "evaluation:manual",
    "guide:standard_diff",
    "guide:item_detail",
    "applications:apply",
    "guide:item_pdf",
    "registry:history",
    "registry:transition",
    "proactive:run",
    "proactive:list",
    "proactive:record",
    "proactive:export",
    "proactive:export_csv",
    "api-1.0.0:get_standard",
    "api-1.0.0:get_item",
}


def _feedback(world: World) -> Any:
    """One comment on the home-care standard's clause 6.2.1, for the moderation and answer routes."""
    from django.utils import timezone

    from fuwu.evaluation.models import ClauseFeedback

    found = ClauseFeedback.objects.filter(version=world.version, address_hash="matrix").first()
    if found is None:
        clause = world.version.clauses.get(number="6.2.1")
        found = ClauseFeedback.objects.create(
            version=world.version, clause=clause, text="矩阵意见", address_hash="matrix", submitted_at=timezone.now()
        )
    return found


def _evaluation(world: World) -> Any:
    """One stored evaluation (a small PDF) of the home-care standard, for the report's download."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from fuwu.evaluation.models import StandardEvaluation

    found = StandardEvaluation.objects.filter(version=world.version).first()
    if found is None:
        name = default_storage.save("evaluation/reports/matrix.pdf", ContentFile(b"%PDF-1.4 matrix"))
        found = StandardEvaluation.objects.create(
            version=world.version,
            period_start=timezone.localdate(),
            period_end=timezone.localdate(),
            data={},
            suggested="continue",
            decision="continue",
            report=name,
            report_sha256="0" * 64,
            decided_by=world.users["stdoffice"],
            decided_at=timezone.now(),
        )
    return found


def url_for(world: World, route: Route, side: str) -> str:
    if not route.params:
        return "/" + route.pattern.replace("^", "").replace("$", "")
    kwargs = ARGS[route.name](world, world.sides[side])
    return reverse(route.name, kwargs=kwargs)


def _jpeg() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.common.test_uploads import jpeg

    return SimpleUploadedFile("photo.jpg", jpeg(), content_type="image/jpeg")


# API operations that take multipart/form-data (a file each), asked with an Idempotency-Key.
MULTIPART_API = frozenset({"api-1.0.0:supply_files"})

# A valid body for each write, so that a refusal is the permission check's and not the form's: an empty body
# would be turned away by validation first and prove nothing about who may write.
POST_DATA: dict[str, Callable[[World, Side], dict[str, Any]]] = {
    "applications:apply": lambda w, s: {"stage": "preview", "id_number": "331002194403050011"},
    "applications:supply": lambda w, s: {"revision": s.application.revision, "how-1": "counter"},
    "applications:withdraw": lambda w, s: {"revision": s.application.revision, "reason": "不需要了"},
    "applications:act": lambda w, s: {"revision": s.application.revision},
    "applications:confirm": lambda w, s: {"revision": s.application.revision, "how-1": "counter", "confirm": "on"},
    "applications:decline": lambda w, s: {"revision": s.application.revision, "reason": "不需要"},
    "applications:rate": lambda w, s: {"level": "2", "reasons": ["slow"], "text": "太慢"},
    "applications:rectification_act": lambda w, s: {"action": "已约谈窗口人员，改正了办事指南"},
    "homecare:order_cancel": lambda w, s: {"reason": "住院"},
    "homecare:order_confirm": lambda w, s: {},
    "homecare:order_rate": lambda w, s: {"stars": "5", "comment": "好"},
    "homecare:order_complain": lambda w, s: {"text": "没有按时上门"},
    "homecare:visit_check_in": lambda w, s: {
        "latitude": str(s.account.latitude),
        "longitude": str(s.account.longitude),
    },
    "homecare:visit_no_show": lambda w, s: {"reason": "老人不在家"},
    "homecare:visit_photo": lambda w, s: {"photo": _jpeg()},
    "homecare:order_decline": lambda w, s: {"reason": "人手不足"},
    "homecare:account": lambda w, s: {
        "address": "某小区",
        "source": "typed",
        "note": "核实",
        "latitude": "28.6",
        "longitude": "121.4",
    },
    "homecare:account_family": lambda w, s: {"username": "resident", "relation": "儿子"},
    "homecare:complaint_resolve": lambda w, s: {"decision": "upheld", "outcome": "核实属实"},
    "homecare:review_decide": lambda w, s: {"decision": "full", "note": "核实无误"},
    "homecare:location_proposal": lambda w, s: {"action": "accept"},
    "homecare:settlement_generate": lambda w, s: {"provider": str(s.provider.pk), "month": "2026-12"},
    "homecare:callback_record": lambda w, s: {"reached": "yes", "satisfied": "yes", "note": "满意"},
    "homecare:callbacks_sample": lambda w, s: {"month": "2026-12"},
    "compliance:answer": lambda w, s: {"result": "compliant", "note": ""},
    "compliance:evidence": lambda w, s: {"file": _jpeg()},
    "compliance:sign": lambda w, s: {"summary": "完成"},
    "compliance:order_evidence": lambda w, s: {"file": _jpeg()},
    "compliance:order_answer": lambda w, s: {"response": "已整改"},
    "compliance:order_decide": lambda w, s: {"decision": "return", "note": "补充材料"},
    "compliance:draw_redo": lambda w, s: {"reason": "重新抽取"},
    "compliance:pilot_decide": lambda w, s: {"decision": "accept", "note": "验收通过"},
    "registry:transition": lambda w, s: {"note": "复审"},
    "evaluation:review_decide": lambda w, s: {"decision": "continue", "reasons": "矩阵：复审结论"},
    "evaluation:feedback_clause": lambda w, s: {"text": "送餐时间建议调整", "contact": ""},
    "evaluation:feedback_moderate": lambda w, s: {"decision": "approved"},
    "evaluation:feedback_answer": lambda w, s: {"answer": "感谢意见"},
    "evaluation:feedback_contact": lambda w, s: {"back": "pending"},
    "proactive:record": lambda w, s: {"person_id": str(s.newcomer.pk), "item": "hc-meals", "status": "contacted"},
    "residents:reveal": lambda w, s: {},
    "api-1.0.0:cancel_order": lambda w, s: {"reason": "住院"},
    "api-1.0.0:act": lambda w, s: {"revision": s.application.revision},
    "api-1.0.0:supply_files": lambda w, s: {"revision": s.application.revision, "material-1": _jpeg()},
    # Unlock an account of county A: its officer and the standards office may, B's officer may not.
    "accounts:lockouts": lambda w, s: {"username": w.owners["A"]["inspector"].username},
}
