"""Import jobs in the REST API (DESIGN §8 ``imports``): read-only list and detail of the jobs in the user's
area, for the roles that import. Uploading stays in the browser (dry run, then confirm)."""

from __future__ import annotations

from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.filters import OrderingFilter

from apps.core.api import AreaScopedViewSetMixin
from apps.imports import selectors, services
from apps.imports.models import ImportJob


class MayImport(permissions.BasePermission):
    message = "您的角色不能查看批量导入任务"

    def has_permission(self, request, view) -> bool:
        return services.may_import(request.user)


class ImportJobSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    mode_display = serializers.CharField(source="get_mode_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    area = serializers.CharField(source="area_id", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    is_finished = serializers.BooleanField(read_only=True)
    error_report_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = (
            "id", "kind", "kind_display", "mode", "mode_display", "dry_run", "status", "status_display",
            "is_finished", "file_name", "file_sha256", "area", "created_by", "created_at", "started_at",
            "finished_at", "header_row", "rows", "created", "updated", "unchanged", "rejected", "warnings",
            "message", "seconds", "error_report_url",
        )  # fmt: skip
        read_only_fields = fields

    def get_error_report_url(self, job: ImportJob) -> str | None:
        """The scoped download view, never a media URL: the report holds the original rows."""
        if not job.error_report:
            return None
        url = reverse("imports:error_report", args=[job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ImportJobDetailSerializer(ImportJobSerializer):
    first_errors = serializers.JSONField(read_only=True)

    class Meta(ImportJobSerializer.Meta):
        fields = (*ImportJobSerializer.Meta.fields, "first_errors")
        read_only_fields = fields


class ImportJobViewSet(
    AreaScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """导入任务 in the user's area, newest first; ``first_errors`` (row, column, message) in the detail."""

    permission_classes = [permissions.IsAuthenticated, MayImport]
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_fields = ["kind", "status", "dry_run"]
    ordering_fields = ["created_at", "id"]
    lookup_value_regex = r"\d+"

    def scoped_queryset(self, *, user):
        return selectors.jobs_visible_to(user=user)

    def get_serializer_class(self):
        return ImportJobDetailSerializer if self.action == "retrieve" else ImportJobSerializer
