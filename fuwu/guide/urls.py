from django.urls import path

from fuwu.guide import views

app_name = "guide"

urlpatterns = [
    path("", views.home, name="home"),
    path("standards/", views.standard_list, name="standard_list"),
    path("standards/<slug:key>/", views.standard_detail, name="standard_detail"),
    path("standards/<slug:key>/v<int:number>/", views.standard_detail, name="standard_version"),
    path("standards/<slug:key>/diff/<int:old>..<int:new>/", views.standard_diff, name="standard_diff"),
    path("items/<slug:key>/", views.item_detail, name="item_detail"),
    path("items/<slug:key>/guide.pdf", views.item_pdf, name="item_pdf"),
    path("search/", views.search, name="search"),
    path("display/", views.display_mode, name="display_mode"),
]
