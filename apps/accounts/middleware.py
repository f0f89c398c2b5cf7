"""A password set by an admin is temporary: until the user has chosen its own, every page sends it to the
password change page (signing out aside), and the API answers 403."""

from django.http import JsonResponse
from django.shortcuts import redirect

ALLOWED = {("accounts", "password_change"), ("accounts", "logout")}
MESSAGE = "请先修改管理员设置的临时密码"


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not getattr(user, "must_change_password", False):
            return None
        match = request.resolver_match
        if (match.namespace, match.url_name) in ALLOWED:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": MESSAGE}, status=403)
        return redirect("accounts:password_change")
