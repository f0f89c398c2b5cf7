"""Audit context: every row change made during a request is stamped with the user, path and method. Privacy
headers: no caching of personal data, a Permissions-Policy. The role matrix, checked before every page."""

from django.conf import settings
from django.utils.cache import patch_cache_control
from pghistory.middleware import HistoryMiddleware


class AuditContextMiddleware(HistoryMiddleware):
    def get_context(self, request):
        return {**super().get_context(request), "method": request.method}


class PrivacyHeadersMiddleware:
    """``Cache-Control: no-store`` on every page a signed-in user gets and on every API response (both may
    carry full ID numbers: no browser, proxy or back button may keep them), and the Permissions-Policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.path.startswith("/api/") or (user is not None and user.is_authenticated):
            patch_cache_control(response, no_store=True, no_cache=True, private=True, max_age=0)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class RoleMatrixMiddleware:
    """Every page is checked against the role matrix before its view runs (``apps.core.access``): a signed-in
    user whose roles may not read the page's part (or write it, for a page that writes) gets a 403. A page
    missing from the matrix is refused to everyone but a superuser. API views check the same matrix after
    their own authentication (token or session) in ``apps.core.api.AreaScopedViewSetMixin``; a signed-out
    user is left to the view (which sends them to sign in)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from django.core.exceptions import PermissionDenied
        from rest_framework.views import APIView

        from apps.core import access

        view_class = getattr(view_func, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return None  # checked by the API view itself, after token authentication
        if not request.user.is_authenticated:
            return None  # the view sends a signed-out user to sign in
        match = request.resolver_match
        if (match.namespace, match.url_name) == ("core", "history"):
            return None  # the history view checks the part of the record it shows (``access.part_of_model``)
        if not access.page_allowed(request.user, match.namespace, match.url_name or ""):
            raise PermissionDenied(access.DENIED_MESSAGE)
        return None
