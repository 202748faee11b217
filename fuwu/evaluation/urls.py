from django.urls import path

from fuwu.evaluation import views, views_data, views_feedback, views_public, views_review

app_name = "evaluation"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    # Feedback on clauses and the review of a standard (ADR 25); before "<key>/", which would take them.
    path("review/", views_review.index, name="review_index"),
    path("review/reports/<int:pk>/report.pdf", views_review.report_pdf, name="review_pdf"),
    path("review/<slug:key>/", views_review.report, name="review_report"),
    path("review/<slug:key>/decide/", views_review.decide, name="review_decide"),
    path("feedback/", views_feedback.inbox, name="feedback_inbox"),
    path("feedback/item/<int:pk>/moderate/", views_feedback.moderate, name="feedback_moderate"),
    path("feedback/item/<int:pk>/answer/", views_feedback.answer, name="feedback_answer"),
    path("feedback/item/<int:pk>/contact/", views_feedback.contact, name="feedback_contact"),
    path("feedback/<slug:key>/", views_feedback.standard, name="feedback_standard"),
    path("feedback/<slug:key>/clause/<str:number>/", views_feedback.clause, name="feedback_clause"),
    # (end of review and feedback)
    # Data quality, entries by hand, publication and the public page (before the area drill-down's pattern).
    path("quality/", views_data.data_quality, name="quality"),
    path("quality/<str:area_code>/", views_data.data_quality, name="quality_area"),
    path("public/<slug:key>/", views_public.standard_public, name="public"),
    path("<slug:key>/publish/", views_data.publish, name="publish"),
    path("<slug:key>/manual/<slug:indicator_key>/", views_data.manual_entry, name="manual"),
    path("<slug:key>/<str:area_code>/indicators.xlsx", views.standard_xlsx, name="standard_xlsx"),
    path("<slug:key>/<str:area_code>/dashboard.pdf", views.standard_pdf, name="standard_pdf"),
    path("<slug:key>/", views.standard, name="standard"),
    path("<slug:key>/<str:area_code>/", views.standard, name="area"),
]
