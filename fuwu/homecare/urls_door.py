"""Pages at the door (mounted at /homecare/): the elders' families, and the caregivers on their rounds."""

from django.urls import URLPattern, path

from fuwu.homecare import views_door as views

urlpatterns: list[URLPattern] = [
    # Family (resident linked to an elder)
    path("", views.family_home, name="family_home"),
    path("elders/<int:person_id>/book/", views.book, name="book"),
    path("orders/<int:pk>/", views.order, name="order"),
    path("orders/<int:pk>/cancel/", views.order_cancel, name="order_cancel"),
    path("orders/<int:pk>/confirm/", views.order_confirm, name="order_confirm"),
    path("orders/<int:pk>/rate/", views.order_rate, name="order_rate"),
    path("orders/<int:pk>/complain/", views.order_complain, name="order_complain"),
    # Anyone who may see the order (family, its caregiver, provider, officers)
    path("orders/<int:pk>/photos/<int:photo_id>/", views.photo, name="photo"),
    # Caregiver
    path("route/", views.route, name="route"),
    path("visits/<int:pk>/", views.visit, name="visit"),
    path("visits/<int:pk>/check-in/", views.visit_check_in, name="visit_check_in"),
    path("visits/<int:pk>/check-out/", views.visit_check_out, name="visit_check_out"),
    path("visits/<int:pk>/photos/", views.visit_photo, name="visit_photo"),
    path("visits/<int:pk>/confirm/", views.visit_confirm, name="visit_confirm"),
    path("visits/<int:pk>/no-show/", views.visit_no_show, name="visit_no_show"),
]
