"""Officials' pages beside the dashboard: entering an indicator by hand, data quality, choosing what is public.

Views parse, call one service or selector, render; who may do what is in manual.py, quality.py's callers'
scope (permissions.py) and public.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from fuwu.areas.models import Area
from fuwu.areas.selectors import area_names, descendant_codes_prefix
from fuwu.common.params import DayField, ParamError, parse_month
from fuwu.evaluation import manual, permissions, public, quality, selectors
from fuwu.evaluation.models import PeriodKind
from fuwu.standards.models import Indicator, StandardVersion


def _login(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


def _version(key: str) -> StandardVersion:
    try:
        return selectors.version_for(key)
    except StandardVersion.DoesNotExist as exc:
        raise Http404("no such standard") from exc


# --- entering an indicator by hand ---------------------------------------------------------------------------


class ManualForm(forms.Form):
    area = forms.ChoiceField(label=gettext_lazy("地区"))
    period_kind = forms.ChoiceField(label=gettext_lazy("统计周期"), choices=PeriodKind.choices)
    period = forms.CharField(
        label=gettext_lazy("统计期"),
        max_length=7,
        help_text=gettext_lazy("月写成 2026-10，季度写成 2026-Q4，年写成 2026。"),
    )
    value = forms.DecimalField(label=gettext_lazy("数值"), max_digits=14, decimal_places=4, min_value=Decimal(0))
    numerator = forms.IntegerField(label=gettext_lazy("分子（可不填）"), required=False, min_value=0)
    denominator = forms.IntegerField(label=gettext_lazy("分母（可不填）"), required=False, min_value=1)
    source_document = forms.CharField(
        label=gettext_lazy("来源文件"),
        max_length=200,
        help_text=gettext_lazy("数值所依据的文件，如统计报表的名称和文号。"),
    )
    source_date = DayField(label=gettext_lazy("来源文件日期"), help_text=gettext_lazy("写成 2026-10-31 这样的格式。"))
    note = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=2000, widget=forms.Textarea)

    def __init__(self, *args: Any, areas: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = areas  # type: ignore[attr-defined]


def _areas_for(user: Any) -> list[Area]:
    """The officer's area and every area below it, by code."""
    own = Area.objects.get(pk=user.area_id)
    return list(Area.objects.filter(code__startswith=descendant_codes_prefix(own)).order_by("code"))


@never_cache
@require_http_methods(["GET", "POST"])
def manual_entry(request: HttpRequest, key: str, indicator_key: str) -> HttpResponse:
    if (refused := _login(request)) is not None:
        return refused
    version = _version(key)
    indicator = version.indicators.filter(key=indicator_key).first()
    if indicator is None or not manual.is_manual(version, indicator_key):
        raise Http404("no such indicator entered by hand")
    user: Any = request.user
    if not manual.can_enter(user, version):
        raise PermissionDenied
    areas = _areas_for(user)
    names = area_names([a.code for a in areas])
    choices = [(a.code, f"{names.get(a.code, a.name_zh)}（{a.code}）") for a in areas]
    form = ManualForm(request.POST or None, areas=choices, initial={"area": user.area.code})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            period = manual.parse_period(data["period_kind"], data["period"])
            manual.manual_value_enter(
                actor=request.user,
                indicator=indicator,
                area=Area.objects.select_related("parent").get(code=data["area"]),
                period=period,
                value=data["value"],
                numerator=data["numerator"],
                denominator=data["denominator"],
                source_document=data["source_document"],
                source_date=data["source_date"],
                note=data["note"],
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(request, _("已保存。"))
            return redirect("evaluation:manual", key=key, indicator_key=indicator_key)
    own = Area.objects.get(pk=user.area_id)
    context = {
        "version": version,
        "indicator": indicator,
        "form": form,
        "failed": form if form.errors else None,
        "history": manual.history(indicator, own),
        "own": own,
        "names": names,
    }
    return render(request, "evaluation/manual.html", context, status=400 if form.errors else 200)


# --- data quality -----------------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET"])
def data_quality(request: HttpRequest, area_code: str | None = None) -> HttpResponse:
    if (refused := _login(request)) is not None:
        return refused
    if not permissions.can_view_dashboard(request.user):
        raise PermissionDenied
    try:
        area = selectors.area_for_user(request.user, area_code)
    except (Area.DoesNotExist, PermissionDenied) as exc:
        raise Http404("no such area") from exc
    today = timezone.localdate()
    raw = request.GET.get("month")
    month, bad_month = today.replace(day=1), False
    if raw:
        try:
            month = parse_month(raw)
        except ParamError:
            bad_month = True
    rows = quality.quality(area, month)
    root = selectors.root_area(request.user)
    crumbs = selectors.breadcrumbs(area, root)
    codes = [a.code for a in crumbs] + [c.code for r in rows[:1] for c, _s in r.children]
    below = {c.pk for r in rows[:1] for c, _s in r.children if Area.objects.filter(parent=c).exists()}
    context = {
        "area": area,
        "crumbs": crumbs,
        "month": month,
        "bad_month": bad_month,
        "rows": rows,
        "names": area_names(codes),
        "below": below,
        "timely_days": quality.timely_days(),
    }
    return render(request, "evaluation/quality.html", context)


# --- choosing what is public ---------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def publish(request: HttpRequest, key: str) -> HttpResponse:
    if (refused := _login(request)) is not None:
        return refused
    if not public.can_publish(request.user):
        raise PermissionDenied
    version = _version(key)
    indicators = list(version.indicators.order_by("pk"))
    if request.method == "POST":
        chosen = set(request.POST.getlist("published"))
        unknown = chosen - {i.key for i in indicators}
        if unknown:
            messages.error(request, _("所选指标不属于这项标准，请刷新页面后重新选择。"))
            return redirect("evaluation:publish", key=key)
        changed = 0
        for indicator in indicators:
            changed += public.indicator_publish_set(
                actor=request.user, indicator=indicator, published=indicator.key in chosen
            )
        messages.success(request, _("已保存，%(n)d 项指标的公开设置有变化。") % {"n": changed})
        return redirect("evaluation:publish", key=key)
    published = public.published_keys(version)
    rows: list[tuple[Indicator, bool, bool]] = [
        (i, i.key in published, manual.is_manual(version, i.key)) for i in indicators
    ]
    return render(
        request,
        "evaluation/publish.html",
        {"version": version, "rows": rows, "min_denominator": public.min_denominator()},
    )


def manual_links(user: Any, version: StandardVersion) -> bool:
    """Whether the dashboard shows ``user`` the links to enter values by hand."""
    return manual.can_enter(user, version)
