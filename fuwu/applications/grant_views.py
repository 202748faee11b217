"""The finance export of grants' payment lines (officers: their department and area)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from fuwu.applications import grants
from fuwu.applications.services import ApplicationError
from fuwu.common.spreadsheets import XLSX_CONTENT_TYPE, stream_xlsx
from fuwu.residents.permissions import officer_prefix


@login_required
@require_GET
def finance(request: HttpRequest) -> HttpResponseBase:
    """The form (no months given) or the workbook: every payment line due in the months asked for."""
    user = request.user
    if officer_prefix(user) is None or getattr(user, "department_id", None) is None:
        raise PermissionDenied("the finance export is for department officers")
    this_month = timezone.localdate().strftime("%Y-%m")
    raw_from, raw_to = request.GET.get("from"), request.GET.get("to")
    if raw_from is None and raw_to is None:
        return render(request, "applications/finance.html", {"from": this_month, "to": this_month})
    try:
        first, last = grants.month_range(raw_from or "", raw_to or "")
    except ApplicationError as exc:
        context = {"from": raw_from or "", "to": raw_to or "", "error": str(exc), "field": exc.field}
        return render(request, "applications/finance.html", context, status=400)
    rows = grants.finance_rows(user=user, first=first, last=last)
    response = StreamingHttpResponse(
        stream_xlsx(str(_("发放明细")), grants.finance_header(), rows), content_type=XLSX_CONTENT_TYPE
    )
    name = f"grants-{first:%Y%m}-{last:%Y%m}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
