from django.urls import path

from fuwu.standards import views

app_name = "registry"

urlpatterns = [
    path("reviews/", views.reviews, name="reviews"),
    path("versions/<int:pk>/history/", views.history, name="history"),
    path("versions/<int:pk>/<slug:action>/", views.transition, name="transition"),
]
