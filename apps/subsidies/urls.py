from django.urls import path

from apps.subsidies import childcare_views, views

app_name = "subsidies"
urlpatterns = [
    path("rosters/", views.roster_list, name="roster_list"),
    path("rosters/generate/", views.roster_generate_view, name="roster_generate"),
    path("rosters/<int:pk>/", views.roster_detail, name="roster_detail"),
    path("rosters/<int:pk>/notice/", views.roster_notice, name="roster_notice"),
    path("rosters/<int:pk>/export.xlsx", views.roster_export_view, name="roster_export"),
    path("rosters/<int:pk>/notice.xlsx", views.roster_notice_export_view, name="roster_notice_export"),
    path("rosters/<int:pk>/submit-on-behalf/", views.roster_submit_on_behalf, name="roster_submit_on_behalf"),
    path("rosters/<int:pk>/corrections/", views.roster_correct, name="roster_correct"),
    path("rosters/<int:pk>/objections/", views.objection_create, name="objection_create"),
    path("rosters/<int:pk>/objections/<int:objection_pk>/decide/", views.objection_decide, name="objection_decide"),
    path("rosters/<int:pk>/<str:action>/", views.roster_action, name="roster_action"),
    path("rosters/<int:pk>/entries/<int:entry_pk>/account/", views.account_edit, name="account_edit"),
    path("rosters/<int:pk>/batches/new/", views.batch_create_view, name="batch_create"),
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/export/<str:fmt>/", views.batch_export_view, name="batch_export"),
    path("batches/<int:pk>/return/", views.batch_return_view, name="batch_return"),
    path("childcare/", childcare_views.childcare_list, name="childcare_list"),
    path("childcare/new/", childcare_views.childcare_create, name="childcare_create"),
    path("childcare/<int:pk>/close/", childcare_views.childcare_close, name="childcare_close"),
]
