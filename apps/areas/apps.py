from django.apps import AppConfig


class AreasConfig(AppConfig):
    name = "apps.areas"
    label = "areas"
    verbose_name = "行政区划"

    def ready(self) -> None:
        from apps.core.navigation import NavItem, nav_register

        nav_register(NavItem("行政区划", "areas:list", order=10))
