from django.contrib import admin
from django.urls import include, path

from fuwu.api.api import api
from fuwu.common import health, views

urlpatterns = [
    path("", include("fuwu.guide.urls")),
    path("staff/", include("fuwu.standards.urls")),
    path("accounts/", include("fuwu.accounts.urls")),
    path("residents/", include("fuwu.residents.urls")),
    path("check/", include("fuwu.eligibility.urls")),
    path("proactive/", include("fuwu.eligibility.proactive_urls")),
    path("homecare/", include("fuwu.homecare.urls")),
    path("compliance/", include("fuwu.compliance.urls")),
    path("applications/", include("fuwu.applications.urls")),
    path("grants/", include("fuwu.applications.grant_urls")),
    path("notices/", include("fuwu.notices.urls")),
    path("evaluation/", include("fuwu.evaluation.urls")),
    path("jobs/", include("fuwu.jobs.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Browsers ask for /favicon.ico whatever the page links to.
    path("favicon.ico", views.favicon),
]

handler500 = "fuwu.common.views.server_error"
