from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from apps.accounts.forms import LoginForm
from apps.areas.selectors import area_children


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def home(request):
    """The signed-in user's start page: who and where they are, and the areas under them."""
    area = request.user.area
    children = area_children(area=area) if area else []
    return render(request, "accounts/home.html", {"area": area, "children": children})
