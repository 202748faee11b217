"""The notices pages: my messages (mark read), and the outbox of SMS and e-mail for staff."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from fuwu.notices import messages, selectors, services

PAGE_SIZE = 30


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notices_of(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(n, messages.render(n.kind, n.audience, n.params)) for n in page]
    return render(request, "notices/list.html", {"page": page, "rows": rows})


@login_required
@require_POST
def read(request: HttpRequest, pk: int) -> HttpResponse:
    notice = services.notice_mark_read(user=request.user, notice_id=pk)
    if request.POST.get("open") and url_has_allowed_host_and_scheme(notice.link, allowed_hosts=None):
        return redirect(notice.link)
    return redirect("notices:inbox")


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    services.notices_mark_all_read(user=request.user)
    return redirect("notices:inbox")


@login_required
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    if not selectors.may_read_outbox(request.user):
        raise PermissionDenied("the outbox is for the standards office and auditors")
    return render(request, "notices/outbox.html", {"entries": selectors.outbox_entries()})
