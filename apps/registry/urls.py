from django.urls import path

from apps.registry import views

app_name = "registry"
urlpatterns = [
    path("persons/", views.person_search, name="person_search"),
    path("persons/export/", views.person_export, name="person_export"),
    path("persons/export/full/", views.person_export_full, name="person_export_full"),
    path("persons/new/", views.person_create_view, name="person_create"),
    path("persons/<int:pk>/", views.person_detail, name="person_detail"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("persons/<int:pk>/merge/<int:other>/", views.person_merge, name="person_merge"),
    path("persons/<int:pk>/births/new/", views.birth_create, name="birth_create"),
    path("persons/<int:pk>/death/new/", views.death_create, name="death_create"),
    path("persons/<int:pk>/marriages/new/", views.marriage_create, name="marriage_create"),
    path("persons/<int:pk>/contraception/new/", views.contraception_create, name="contraception_create"),
    path("persons/<int:pk>/moves/new/", views.move_create, name="move_create"),
    path("contraception/<int:pk>/end/", views.contraception_end_view, name="contraception_end"),
    path("births/<int:pk>/policy/", views.birth_policy_override_view, name="birth_policy_override"),
    path("<slug:kind>/<int:pk>/correct/", views.event_correct, name="event_correct"),
    path("<slug:kind>/<int:pk>/void/", views.event_void, name="event_void"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("quality/", views.quality, name="quality"),
]
