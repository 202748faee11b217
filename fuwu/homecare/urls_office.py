from django.urls import URLPattern, path

from fuwu.homecare import views_office as views

# Providers (inbox, day plan, caregivers) and officers (accounts, complaints, overdue orders).
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
]
