from django.urls import path

from apps.core import views

app_name = "core"
urlpatterns = [
    path("history/<str:model_label>/<str:pk>/", views.history, name="history"),
]
