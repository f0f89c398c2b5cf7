"""The DRF base every app's API builds on: pagination, error mapping and area scoping."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.access import DENIED_MESSAGE, api_part, may_read
from apps.core.errors import RuleViolation


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        """A ``page_size`` that is not a positive whole number is a 400, not silently the default."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"每页条数须为1到{self.max_page_size}的整数"]}
            )
        return min(int(raw), self.max_page_size)


def exception_handler(exc, context):
    """Rule violations and model validation errors are the client's fault: 400 with the message."""
    if isinstance(exc, RuleViolation):
        # A held entry (registry plausibility warnings) also says so by code, for clients to offer confirmation.
        extra = {"code": exc.code} if exc.code == "needs_confirmation" else {}
        exc = exceptions.ValidationError({**exc.as_dict(), **extra})
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, (ValueError, OverflowError)) and not isinstance(exc, Http404):
        # Malformed path or query values that slipped past a filter (e.g. a non-numeric id).
        exc = exceptions.ValidationError({"non_field_errors": ["请求参数格式不正确"]})
    return drf_exception_handler(exc, context)


class AreaScopedViewSetMixin:
    """Every viewset of located data reads through its model's area-scoped selector.

    Subclasses implement ``scoped_queryset(user=...)`` by calling the app's selector; ``get_queryset`` is
    final so that no viewset can forget the scope. Objects outside the user's area are then a 404.

    Every operation is also checked against the role matrix (``apps.core.access``) once the user is known
    (token or session): a role that may not read the viewset's part (``access_part``, else its app) gets a
    403 on every operation, list, detail and action alike.
    """

    access_part: str | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not may_read(request.user, api_part(self)):
            raise exceptions.PermissionDenied(DENIED_MESSAGE)
        if getattr(request.user, "must_change_password", False):  # a temporary password opens no record
            raise exceptions.PermissionDenied("请先登录网页修改管理员设置的临时密码")

    def scoped_queryset(self, *, user) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        return self.scoped_queryset(user=self.request.user)
