from django.urls import include, path

app_name = "homecare"

# Pages for those at the door (elders, families, caregivers), for the office (providers, officers), and
# the month's reports (settlement, statements, supervision).
urlpatterns = [
    path("", include("fuwu.homecare.urls_door")),
    path("office/", include("fuwu.homecare.urls_office")),
    path("reports/", include("fuwu.homecare.urls_reports")),
]
