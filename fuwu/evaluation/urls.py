from django.urls import path

from fuwu.evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("<slug:key>/", views.standard, name="standard"),
    path("<slug:key>/<str:area_code>/", views.standard, name="area"),
]
