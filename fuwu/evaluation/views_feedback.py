"""Feedback on a standard's clauses: the public pages (write, read what is approved) and the office's inbox.

Thin: parse, call ``fuwu.evaluation.feedback``, render. The public pages never show a contact, an author or
an address; the inbox shows the contact to the standards office only, masked, and in full on an audited
reveal (a POST, the contact in that response only).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fuwu.accounts.lockout import client_ip
from fuwu.common.params import ParamError, parse_id
from fuwu.evaluation import feedback
from fuwu.evaluation.models import FeedbackStatus
from fuwu.standards.models import Clause, StandardVersion

# The form's hidden field a person never sees nor fills; a robot filling every field does.
HONEYPOT = "website"


def _version(key: str) -> StandardVersion:
    try:
        return feedback.version_in_force(key)
    except StandardVersion.DoesNotExist as exc:
        raise Http404("no standard in force with this key") from exc


@never_cache
@require_GET
def standard(request: HttpRequest, key: str) -> HttpResponse:
    version = _version(key)
    return render(
        request,
        "evaluation/feedback/standard.html",
        {
            "version": version,
            "counts": feedback.counts_by_clause(version, public=True),
            "comments": feedback.public_feedback(version)[:200],
        },
    )


def _clause_page(
    request: HttpRequest, version: StandardVersion, clause: Clause, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "version": version,
        "clause": clause,
        "comments": feedback.public_feedback(version, clause=clause),
        "error": error,
        "form": {"text": request.POST.get("text", ""), "contact": request.POST.get("contact", "")} if error else {},
        "sent": request.GET.get("sent") == "1",
        "limits": feedback._limits(),
        "honeypot": HONEYPOT,
    }
    return render(request, "evaluation/feedback/clause.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def clause(request: HttpRequest, key: str, number: str) -> HttpResponse:
    version = _version(key)
    try:
        row = feedback.clause_of(version, number)
    except Clause.DoesNotExist as exc:
        raise Http404("no such clause") from exc
    if request.method == "GET":
        return _clause_page(request, version, row)
    done = reverse("evaluation:feedback_clause", args=[key, number]) + "?sent=1"
    if request.POST.get(HONEYPOT):
        return redirect(done)  # thanked like anyone, kept nowhere
    try:
        feedback.feedback_submit(
            version=version,
            clause_number=number,
            text=str(request.POST.get("text", "")),
            contact=str(request.POST.get("contact", "")),
            author=request.user,
            address=client_ip(request),
        )
    except feedback.TooMuchFeedback as exc:
        return _clause_page(request, version, row, error=str(exc), status=429)
    except feedback.FeedbackError as exc:
        return _clause_page(request, version, row, error=str(exc), status=400)
    return redirect(done)


@never_cache
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not feedback.can_read_all(request.user):
        raise PermissionDenied
    status = request.GET.get("status", FeedbackStatus.PENDING)
    if status not in FeedbackStatus.values:
        status = FeedbackStatus.PENDING
    rows = list(feedback.inbox(request.user, status=status)[:200])
    versions = {r.version_id: r.version for r in rows}
    can_moderate = feedback.can_moderate(request.user)
    return render(
        request,
        "evaluation/feedback/inbox.html",
        {
            "rows": rows,
            # (comment, its masked contact): the contact is the office's only.
            "entries": [(r, feedback.masked_contact(r) if can_moderate else "") for r in rows],
            "status": status,
            "statuses": FeedbackStatus.choices,
            "counts": [(v, feedback.counts_by_clause(v, public=False)) for v in versions.values()],
            "can_moderate": can_moderate,
        },
    )


@never_cache
@require_POST
def contact(request: HttpRequest, pk: int) -> HttpResponse:
    """A comment's contact in full (audited), for the office; in this response only, never in a URL."""
    if not request.user.is_authenticated or not feedback.can_moderate(request.user):
        raise PermissionDenied
    try:
        feedback_id = parse_id(pk, field="feedback")
        full = feedback.feedback_contact_reveal(actor=request.user, feedback_id=feedback_id)
    except (feedback.FeedbackError, ParamError) as exc:
        raise Http404(str(exc)) from exc
    back = str(request.POST.get("back", ""))
    back = back if back in FeedbackStatus.values else FeedbackStatus.PENDING
    return render(
        request, "evaluation/feedback/contact.html", {"feedback_id": feedback_id, "contact": full, "back": back}
    )


def _write(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if not request.user.is_authenticated or not feedback.can_moderate(request.user):
        raise PermissionDenied
    try:
        feedback_id = parse_id(pk, field="feedback")
        if action == "moderate":
            feedback.feedback_moderate(
                actor=request.user,
                feedback_id=feedback_id,
                decision=str(request.POST.get("decision", "")),
                note=str(request.POST.get("note", "")),
            )
            messages.success(request, _("已审核。"))
        else:
            feedback.feedback_answer(
                actor=request.user, feedback_id=feedback_id, answer=str(request.POST.get("answer", ""))
            )
            messages.success(request, _("答复已公开。"))
    except (feedback.FeedbackError, ParamError) as exc:
        messages.error(request, str(exc))
    back = str(request.POST.get("back", ""))
    back = back if back in FeedbackStatus.values else FeedbackStatus.PENDING
    return redirect(reverse("evaluation:feedback_inbox") + f"?status={back}")


@require_POST
def moderate(request: HttpRequest, pk: int) -> HttpResponse:
    return _write(request, pk, "moderate")


@require_POST
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    return _write(request, pk, "answer")
