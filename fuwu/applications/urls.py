from django.urls import path

from fuwu.applications import views

app_name = "applications"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("apply/<slug:key>/", views.apply, name="apply"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/export/", views.inbox_export, name="inbox_export"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/supply/", views.supply, name="supply"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/files/<int:index>/", views.material_file, name="file"),
    path("<int:pk>/act/<slug:action>/", views.act, name="act"),
]
