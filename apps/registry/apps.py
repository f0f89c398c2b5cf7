from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "apps.registry"
    label = "registry"
    verbose_name = "人口登记"

    def ready(self) -> None:
        from apps.core.navigation import NavItem, nav_register

        nav_register(NavItem("人口查询", "registry:person_search", order=20))
        nav_register(NavItem("数据质量", "registry:quality", order=30))
