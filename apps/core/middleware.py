"""Audit context: every row change made during a request is stamped with the user, path and method."""

from pghistory.middleware import HistoryMiddleware


class AuditContextMiddleware(HistoryMiddleware):
    def get_context(self, request):
        return {**super().get_context(request), "method": request.method}
