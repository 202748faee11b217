from django.urls import URLPattern, path

from fuwu.homecare import views_office as views
from fuwu.homecare import views_review

# Providers (inbox, day plan, caregivers) and officers (accounts, complaints, overdue orders, reviews).
urlpatterns: list[URLPattern] = [
    path("", views.office_home, name="office_home"),
    path("orders/<int:pk>/accept/", views.order_accept, name="order_accept"),
    path("orders/<int:pk>/decline/", views.order_decline, name="order_decline"),
    path("plan/", views.plan_day, name="plan_day"),
    path("plan/absent/", views.plan_absent, name="plan_absent"),
    path("caregivers/", views.caregivers, name="caregivers"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<int:pk>/", views.account, name="account"),
    path("accounts/<int:pk>/family/", views.account_family, name="account_family"),
    path("complaints/", views.complaints, name="complaints"),
    path("complaints/<int:pk>/resolve/", views.complaint_resolve, name="complaint_resolve"),
    path("overdue/", views.overdue, name="overdue"),
    # Officers: visits held by the standard's rules, proposed home positions, the map's county outline
    path("reviews/", views_review.review_list, name="reviews"),
    path("reviews/<int:pk>/", views_review.review_decide, name="review_decide"),
    path(
        "accounts/<int:pk>/proposals/<int:proposal_id>/",
        views_review.location_proposal,
        name="location_proposal",
    ),
    path("map/outline.geojson", views_review.county_outline, name="county_outline"),
]
