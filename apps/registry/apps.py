from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "apps.registry"
    label = "registry"
    verbose_name = "人口登记"

    def ready(self) -> None:
        from apps.core.navigation import NavItem, nav_register

        clerks = ("village_clerk", "township_clerk", "county_admin", "county_viewer")
        nav_register(NavItem("人口查询", "registry:person_search", roles=clerks, order=20))
        nav_register(NavItem("数据质量", "registry:quality", roles=clerks, order=30))
