"""The resident self-check (no login): answer plain questions, see what one may be entitled to and why.

Two steps: first the few answers that decide most (age, hukou, home); then only the questions that can still
change an answer for this person (``selfcheck.questions_that_matter``); then the results, which can be printed.

Nothing is stored and nothing about the answers is logged: they live only in the
request, are kept out of error reports, and the response is not cached. The one trace is a counter: each item
the results found adds one to that item's count for the day (``fuwu.evaluation.publicity``), with nothing
about who asked or what they answered.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from fuwu.eligibility.forms import BASIC_FIELDS, FIELD_FACTS, SelfCheckForm
from fuwu.eligibility.selectors import rules_in_force
from fuwu.eligibility.selfcheck import found_items, questions_that_matter, self_check_results
from fuwu.evaluation import publicity
from fuwu.evaluation.models import PublicityKind
from fuwu.standards import selectors as standard_selectors

BASICS, QUESTIONS = "1", "2"


def _questions(request: HttpRequest, form: SelfCheckForm, step: str) -> HttpResponse:
    if step == BASICS:
        shown = set(BASIC_FIELDS)
    else:
        answers = form.facts() if form.is_valid() else {}
        matter = questions_that_matter(answers, rules=rules_in_force(), as_of=form.today, fields=FIELD_FACTS)
        # The basics stay on the page to be corrected; questions already answered stay too.
        shown = set(BASIC_FIELDS) | matter | form.answered_fields() | set(form.errors)
    return render(
        request, "eligibility/check.html", {"form": form, "sections": form.sections(only=shown), "step": step}
    )


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest) -> HttpResponse:
    """GET: the first questions. POST: the next questions (``next``, ``edit``) or the results."""
    today = timezone.localdate()
    if request.method != "POST":
        return _questions(request, SelfCheckForm(today=today), BASICS)
    form = SelfCheckForm(request.POST, today=today)
    step = request.POST.get("step", QUESTIONS)
    if not form.is_valid():
        return _questions(request, form, BASICS if step == BASICS else QUESTIONS)
    if "next" in request.POST or "edit" in request.POST:
        return _questions(request, form, QUESTIONS)
    items = {(i.version.standard.key, i.key): i for i in standard_selectors.items_in_force()}
    results = self_check_results(form.facts(), rules=rules_in_force(), items=items, as_of=today)
    # The answers ride along in hidden fields so "修改回答" can bring them back without storing them.
    answers = [(name, request.POST.getlist(name)) for name in form.fields]
    printing = "print" in request.POST
    if not printing:
        publicity.count(request, PublicityKind.SELF_CHECK, found_items(results))
    return render(request, "eligibility/results.html", {"answers": answers, "r": results, "printing": printing})


@require_GET
def townships(request: HttpRequest) -> HttpResponse:
    """The township question for one county (htmx narrows the list when the county changes)."""
    form = SelfCheckForm(initial={"hukou_county": request.GET.get("hukou_county", "")}, today=timezone.localdate())
    return render(request, "eligibility/_township.html", {"field": form["hukou_township"]})
