from django.urls import path

from apps.indicators import views

app_name = "indicators"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("recompute/", views.recompute, name="recompute"),
    path("runs/<int:pk>/progress/", views.run_progress, name="run_progress"),
    path("compare/", views.compare, name="compare"),
    path("records/", views.records, name="records"),
    path("export.xlsx", views.export, name="export"),
    path("submissions/", views.submission_list, name="submission_list"),
    path("submissions/submit/", views.submission_create, name="submission_create"),
    path("submissions/<int:pk>/", views.submission_detail, name="submission_detail"),
    path("submissions/<int:pk>/decide/", views.submission_decide, name="submission_decide"),
]
