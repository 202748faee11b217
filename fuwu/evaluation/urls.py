from django.urls import path

from fuwu.evaluation import views, views_data, views_public

app_name = "evaluation"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    # Data quality, entries by hand, publication and the public page (before the area drill-down's pattern).
    path("quality/", views_data.data_quality, name="quality"),
    path("quality/<str:area_code>/", views_data.data_quality, name="quality_area"),
    path("public/<slug:key>/", views_public.standard_public, name="public"),
    path("<slug:key>/publish/", views_data.publish, name="publish"),
    path("<slug:key>/manual/<slug:indicator_key>/", views_data.manual_entry, name="manual"),
    path("<slug:key>/", views.standard, name="standard"),
    path("<slug:key>/<str:area_code>/", views.standard, name="area"),
]
