from django.urls import path

from apps.accounts import views

app_name = "accounts"
urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.password_change, name="password_change"),
    path("accounts/users/", views.user_list, name="user_list"),
    path("accounts/users/new/", views.user_create, name="user_create"),
    path("accounts/users/<int:pk>/", views.user_edit, name="user_edit"),
    path("accounts/users/<int:pk>/password/", views.user_password_reset, name="user_password_reset"),
    path("accounts/users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("accounts/users/<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
    path("", views.home, name="home"),
]
