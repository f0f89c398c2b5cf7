"""Sign-in, the start page, the own password, and managing users (county admin; township admin for its
township). Views are thin: users are read through ``selectors.users_visible_to`` (a user outside the admin's
area is a 404) and every write is one function of ``services``, whose ``RuleViolation`` is shown beside the
field it names."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import selectors, services
from apps.accounts.forms import LoginForm, OwnPasswordChangeForm, PasswordResetForm, UserCreateForm, UserForm
from apps.accounts.models import User
from apps.areas.selectors import area_children
from apps.core.clientip import login_rate_limited
from apps.core.errors import RuleViolation
from apps.core.pagecache import cached_page
from apps.core.worklist import worklist_for

PAGE_SIZE = 50


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
@cached_page(seconds=300)
def home(request):
    """The signed-in user's start page (工作台): the work waiting for them, by role (``apps.core.worklist``),
    then who and where they are and the areas under them."""
    area = request.user.area
    children = area_children(area=area) if area else []
    context = {"area": area, "children": children, "worklist": worklist_for(request.user)}
    return render(request, "accounts/home.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    """The own password; the first page after signing in with a temporary one (``PasswordChangeRequired…``)."""
    form = OwnPasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_password_change(user=request.user, password=form.cleaned_data["new_password1"])
        except RuleViolation as exc:
            form.add_error("new_password1", exc.message)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, "密码已修改。")
            return redirect("accounts:home")
    return render(request, "accounts/password_change.html", {"form": form})


def _user_or_404(request, pk: int) -> User:
    return get_object_or_404(selectors.users_visible_to(user=request.user), pk=pk)


@login_required
def user_list(request):
    query = request.GET.get("q", "")
    page = Paginator(selectors.users_visible_to(user=request.user, query=query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    locked = selectors.locked_out_usernames(usernames=[u.username for u in page.object_list])
    rows = [{"user": u, "locked": u.username in locked} for u in page.object_list]
    return render(request, "accounts/user_list.html", {"page": page, "rows": rows, "query": query})


@login_required
@require_http_methods(["GET", "POST"])
def user_create(request):
    form = UserCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_create(
                username=data["username"], password=data["password1"], area=data["area"], roles=data["roles"],
                full_name=data["full_name"], by=request.user,
            )  # fmt: skip
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.success(request, f"已创建用户“{user.username}”，首次登录后须修改初始密码。")
            return redirect("accounts:user_list")
    return render(request, "accounts/user_form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request, pk: int):
    target = _user_or_404(request, pk)
    initial = {"full_name": target.first_name, "area": target.area_id, "roles": target.roles}
    form = UserForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.user_update(
                user=target, by=request.user, full_name=data["full_name"], area=data["area"], roles=data["roles"]
            )
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            messages.success(request, f"已保存用户“{target.username}”。")
            return redirect("accounts:user_list")
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "target": target, "reset_form": PasswordResetForm(user=request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def user_password_reset(request, pk: int):
    target = _user_or_404(request, pk)
    form = PasswordResetForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            password = services.user_password_reset(
                user=target, by=request.user, password=form.cleaned_data["password"]
            )
        except RuleViolation as exc:
            form.add_violation(exc)
        else:
            # Shown once, on this answer only (never in a message, a URL or a log).
            generated = not form.cleaned_data["password"]
            return render(
                request, "accounts/user_password_done.html",
                {"target": target, "password": password if generated else None},
            )  # fmt: skip
    return render(request, "accounts/user_password_reset.html", {"form": form, "target": target})


def _action(request, pk: int, act, done: str):
    target = _user_or_404(request, pk)
    try:
        act(target)
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done.format(username=target.username))
    return redirect("accounts:user_list")


@login_required
@require_POST
def user_set_active(request, pk: int):
    active = request.POST.get("active") == "1"
    return _action(
        request, pk, lambda user: services.user_set_active(user=user, active=active, by=request.user),
        "已启用用户“{username}”。" if active else "已停用用户“{username}”，该账号不能再登录。",
    )  # fmt: skip


@login_required
@require_POST
def user_unlock(request, pk: int):
    return _action(
        request, pk, lambda user: services.user_unlock(user=user, by=request.user), "已解除用户“{username}”的锁定。"
    )
