from django.urls import path

from fuwu.eligibility import views

app_name = "eligibility"

urlpatterns = [
    path("", views.check, name="check"),
    path("townships/", views.townships, name="townships"),
]
