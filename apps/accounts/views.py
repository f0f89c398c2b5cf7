from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from apps.accounts.forms import LoginForm
from apps.areas.selectors import area_children
from apps.core.clientip import login_rate_limited
from apps.core.worklist import worklist_for


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if login_rate_limited(request):
            context = self.get_context_data(form=self.get_form_class()(request))
            return self.render_to_response({**context, "rate_limited": True}, status=429)
        return super().post(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def home(request):
    """The signed-in user's start page (工作台): the work waiting for them, by role (``apps.core.worklist``),
    then who and where they are and the areas under them."""
    area = request.user.area
    children = area_children(area=area) if area else []
    context = {"area": area, "children": children, "worklist": worklist_for(request.user)}
    return render(request, "accounts/home.html", context)
