from django.urls import path

from fuwu.eligibility import proactive_views as views

app_name = "proactive"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("screen/", views.screen, name="screen"),
    path("<int:run_id>/", views.overview, name="run"),
    path("<int:run_id>/list/", views.people_list, name="list"),
    path("<int:run_id>/record/", views.record, name="record"),
    path("<int:run_id>/export.xlsx", views.export, name="export"),
    path("<int:run_id>/export.csv", views.export, {"fmt": "csv"}, name="export_csv"),
    path("<int:run_id>/<str:township>/<slug:item>/", views.people, name="people"),
]
