from django.urls import path

from fuwu.residents import views

app_name = "residents"

urlpatterns = [
    path("", views.person_list, name="list"),
    path("<int:pk>/", views.person_detail, name="detail"),
    path("<int:pk>/reveal/", views.person_reveal, name="reveal"),
    path("<int:pk>/contact/", views.person_contact, name="contact"),
    path("import/", views.person_import, name="import"),
    path("import/<int:pk>/", views.import_report, name="import_report"),
    path("load/", views.registry_load, name="load"),
    path("import/<int:pk>/errors.xlsx", views.import_errors, name="import_errors"),
]
