from django.urls import path

from apps.reconciliation import views

app_name = "reconciliation"

urlpatterns = [
    path("", views.estimate, name="estimate"),
    path("worklists/", views.worklist, name="worklist"),
    path("review/", views.review, name="review"),
    path("review/decide/", views.review_decide, name="review_decide"),
    path("rematch/", views.rematch, name="rematch"),
]
