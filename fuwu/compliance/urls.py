from django.urls import path

from fuwu.compliance.views import field, mine, office, public

app_name = "compliance"

urlpatterns = [
    # The public: find institutions, their grades, the draws and results (一公开), coverage.
    path("", public.find, name="find"),
    path("institutions/<int:pk>/", public.institution, name="institution"),
    path("results/", public.results, name="results"),
    path("results/<int:pk>/", public.result, name="result"),
    path("draws/<int:pk>/", public.draw, name="draw"),
    path("coverage/", public.coverage_page, name="coverage"),
    path("coverage.xlsx", public.coverage_xlsx, name="coverage_xlsx"),
    path("map/counties.geojson", public.counties_geojson, name="counties_geojson"),
    # Departments, the standards office, auditors.
    path("office/", office.home, name="office"),
    path("office/institutions/", office.institutions, name="office_institutions"),
    path("office/institutions/import/", office.institutions_import_page, name="import"),
    path("office/imports/<int:pk>/errors.xlsx", office.import_errors, name="import_errors"),
    path("office/draws/new/", office.draw_new, name="draw_new"),
    path("office/draws/<int:pk>/", office.draw_detail, name="office_draw"),
    path("office/draws/<int:pk>/publish/", office.draw_publish_view, name="draw_publish"),
    path("office/draws/<int:pk>/redraw/", office.draw_redo_view, name="draw_redo"),
    path("office/inspections/<int:pk>/publish/", office.inspection_publish_view, name="inspection_publish"),
    path("office/rectifications/", office.rectifications, name="rectifications"),
    path("office/pilots/", office.pilots, name="pilots"),
    path("office/pilots/<int:pk>/", office.pilot_detail, name="pilot"),
    path("office/pilots/<int:pk>/decide/", office.pilot_decide_view, name="pilot_decide"),
    # Inspectors in the field, and institutions filling or answering.
    path("field/", field.home, name="field"),
    path("inspections/<int:pk>/", field.inspection, name="inspection"),
    path("inspections/<int:pk>/start/", field.start, name="start"),
    path("inspections/<int:pk>/items/<int:item_pk>/answer/", field.answer, name="answer"),
    path("inspections/<int:pk>/items/<int:item_pk>/evidence/", field.evidence, name="evidence"),
    path("inspections/<int:pk>/sign/", field.sign, name="sign"),
    path("inspections/<int:pk>/reinspect/", field.reinspect, name="reinspect"),
    path("inspections/<int:pk>/record.pdf", field.record, name="record"),
    path("evidence/<int:pk>/", field.evidence_file, name="evidence_file"),
    path("rectifications/<int:pk>/", field.order, name="order"),
    path("rectifications/<int:pk>/evidence/", field.order_evidence, name="order_evidence"),
    path("rectifications/<int:pk>/answer/", field.order_answer_view, name="order_answer"),
    path("rectifications/<int:pk>/decide/", field.order_decide, name="order_decide"),
    # Institution administrators.
    path("mine/", mine.home, name="mine"),
    path("mine/<int:pk>/self-assessment/<slug:standard>/", mine.self_assess, name="self_assess"),
]
