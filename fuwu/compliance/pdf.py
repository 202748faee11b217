"""The inspection record (检查记录) as PDF: CJK fonts embedded, the photos with where and when they were taken."""

from __future__ import annotations

from pathlib import Path

from django.utils import timezone

from fuwu.compliance.checklists import kind_name
from fuwu.compliance.models import Inspection
from fuwu.compliance.scoring import grade_label
from fuwu.guide.pdf import render_pdf


def record_pdf(inspection: Inspection) -> bytes:
    items = list(inspection.items.select_related("answer").prefetch_related("files").order_by("position"))
    photos = {
        item.pk: [Path(e.file.path).as_uri() for e in item.files.all() if e.is_image and Path(e.file.path).exists()]
        for item in items
    }
    context = {
        "inspection": inspection,
        "kind_name": kind_name(inspection.institution.kind),
        "grade": grade_label(passed=inspection.passed, grade_zh=inspection.grade_zh, grade_en=inspection.grade_en),
        "items": [(item, photos.get(item.pk, [])) for item in items],
        "orders": list(inspection.orders.select_related("item").order_by("due_on")),
        "inspectors": [u.get_full_name() or u.get_username() for u in inspection.inspectors.all()],
        "printed_at": timezone.localtime(),
        "modeled": any(item.modeled for item in items),
    }
    return render_pdf("compliance/record_print.html", context, base_url=None)
