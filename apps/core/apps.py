from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "公共"

    def ready(self) -> None:
        from apps.core.navigation import NavItem, nav_register

        nav_register(NavItem("接口文档", "api-docs", order=950))

        from apps.core.pagecache import connect_signals

        connect_signals()

        from django.db.models.signals import post_migrate

        post_migrate.connect(_protect_audit, sender=self, dispatch_uid="core-audit-append-only")


def _protect_audit(using, **kwargs) -> None:
    """After every migrate: event tables added by any app since are append-only too."""
    from django.db import connections

    from apps.core.audit import protect_event_tables

    protect_event_tables(connections[using])
