from django.urls import path

from fuwu.applications import views, views_proactive, views_ratings

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
    # 免申即享 (views_proactive.py)
    path("prefill/<int:run_id>/<str:township>/<slug:item>/", views_proactive.prefill, name="prefill"),
    path("<int:pk>/confirm/", views_proactive.confirm, name="confirm"),
    path("<int:pk>/decline/", views_proactive.decline, name="decline"),
    # 好差评 and rectification (views_ratings.py)
    path("<int:pk>/rate/", views_ratings.rate, name="rate"),
    path("rectifications/", views_ratings.rectifications, name="rectifications"),
    path("rectifications/<int:pk>/", views_ratings.rectification, name="rectification"),
    path("rectifications/<int:pk>/<slug:action>/", views_ratings.rectification_act, name="rectification_act"),
]
