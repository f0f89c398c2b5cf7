from django.urls import path

from apps.areas import views

app_name = "areas"
urlpatterns = [
    path("", views.area_list, name="list"),
    path("<str:code>/", views.area_detail, name="detail"),
]
