from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "apps.imports"
    label = "imports"
    verbose_name = "批量导入"

    def ready(self) -> None:
        from apps.core.navigation import NavItem, nav_register

        nav_register(NavItem("批量导入", "imports:list", roles=("county_admin", "township_clerk"), order=40))
