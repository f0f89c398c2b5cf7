from django.urls import path

from apps.fees import views

app_name = "fees"
urlpatterns = [
    path("", views.case_list, name="case_list"),
    path("ledger/", views.ledger, name="ledger"),
    path("enforcement/", views.enforcement_list, name="enforcement_list"),
    path("terminate/", views.terminate, name="terminate"),
    path("births/<int:birth_pk>/open/", views.case_open, name="case_open"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/decide/", views.case_decide, name="case_decide"),
    path("cases/<int:pk>/instalments/", views.case_instalments, name="case_instalments"),
    path("cases/<int:pk>/payments/new/", views.payment_create, name="payment_create"),
    path("cases/<int:pk>/refunds/new/", views.refund_create, name="refund_create"),
    path("cases/<int:pk>/transfer/", views.case_transfer, name="case_transfer"),
    path("cases/<int:pk>/refer/", views.case_refer, name="case_refer"),
    path("cases/<int:pk>/withdraw/", views.case_withdraw, name="case_withdraw"),
    path("cases/<int:pk>/notice/", views.decision_notice, name="decision_notice"),
    path("cases/<int:pk>/termination/", views.termination_notice, name="termination_notice"),
    path("payments/<int:pk>/receipt/", views.receipt, name="receipt"),
    path("payments/<int:pk>/reverse/", views.payment_reverse, name="payment_reverse"),
]
