"""The month's reports, at /homecare/reports/ (namespace ``homecare``)."""

from django.urls import URLPattern, path, register_converter

from fuwu.homecare import views_reports as views


class MonthConverter:
    """``YYYY-MM`` in a path; the view checks it is a real month."""

    regex = r"[0-9]{4}-[0-9]{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(MonthConverter, "hc_month")

urlpatterns: list[URLPattern] = [
    path("settlements/", views.settlements, name="settlements"),
    path("settlements/generate/", views.settlement_generate, name="settlement_generate"),
    path("settlements/<int:pk>/", views.settlement_detail, name="settlement"),
    path("settlements/<int:pk>/confirm/", views.settlement_confirm, name="settlement_confirm"),
    path("settlements/<int:pk>.xlsx", views.settlement_xlsx, name="settlement_xlsx"),
    path("settlements/<int:pk>.pdf", views.settlement_pdf, name="settlement_pdf"),
    path("statement/<int:account_id>/<hc_month:month>/", views.statement, name="statement"),
    path("statement/<int:account_id>/<hc_month:month>.pdf", views.statement_pdf, name="statement_pdf"),
    path("supervision/", views.supervision_page, name="supervision"),
    path("supervision/sample/", views.callbacks_sample, name="callbacks_sample"),
    path("callbacks/<int:pk>/", views.callback_record, name="callback_record"),
]
