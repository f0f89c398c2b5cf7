from django.urls import path

from apps.core import views

app_name = "core"
urlpatterns = [
    path("worklist/<str:key>/", views.worklist_open, name="worklist_open"),
    path("history/<str:model_label>/<str:pk>/", views.history, name="history"),
]
