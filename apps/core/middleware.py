"""Audit context: every row change made during a request is stamped with the user, path and method. Privacy
headers: no caching of personal data, a Permissions-Policy."""

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
