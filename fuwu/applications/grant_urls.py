from django.urls import path

from fuwu.applications import grant_views

app_name = "grants"

urlpatterns = [
    path("finance/", grant_views.finance, name="finance_export"),
]
