from django.urls import path

from apps.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/", views.job_create, name="create"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/progress/", views.job_progress, name="progress"),
    path("<int:pk>/commit/", views.job_commit, name="commit"),
    path("<int:pk>/requeue/", views.job_requeue, name="requeue"),
    path("<int:pk>/errors.xlsx", views.job_error_report, name="error_report"),
]
