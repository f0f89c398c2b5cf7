from django.urls import path

from apps.scoring import sample_views, views

app_name = "scoring"
urlpatterns = [
    path("", views.results, name="results"),
    path("export/", views.results_export, name="results_export"),
    path("recompute/", views.recompute, name="recompute"),
    path("schemes/<int:pk>/", views.scheme_detail, name="scheme_detail"),
    path("assessments/<int:pk>/", views.assessment_detail, name="assessment_detail"),
    path("assessments/<int:pk>/items/<int:item_pk>/", views.item_score_save, name="item_score_save"),
    path("assessments/<int:pk>/adjustments/", views.adjustment_claim_view, name="adjustment_claim"),
    path("adjustments/<int:pk>/decide/", views.adjustment_decide_view, name="adjustment_decide"),
    path("assessments/<int:pk>/finalise/", views.assessment_finalise_view, name="assessment_finalise"),
    path("year/", views.year, name="year"),
    path("year/open/", views.year_open, name="year_open"),
    path("schemes/<int:pk>/publish/", views.scheme_publish_view, name="scheme_publish"),
    path("contracts/", views.contracts, name="contracts"),
    path("contracts/<int:year>/<str:area_code>/", views.contract_edit, name="contract_edit"),
    path("sample-checks/", sample_views.sample_check_list, name="sample_check_list"),
    path("sample-checks/draw/", sample_views.sample_check_draw, name="sample_check_draw"),
    path("sample-checks/<int:pk>/", sample_views.sample_check_detail, name="sample_check_detail"),
    path("sample-checks/<int:pk>/print/", sample_views.sample_check_print, name="sample_check_print"),
    path("sample-checks/<int:pk>/findings/", sample_views.sample_finding_save, name="sample_finding_save"),
    path("sample-checks/<int:pk>/close/", sample_views.sample_check_close, name="sample_check_close"),
    path("evidence/scores/<int:pk>/", views.score_evidence, name="score_evidence"),
    path("evidence/adjustments/<int:pk>/", views.adjustment_evidence, name="adjustment_evidence"),
]
