from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "apps.scoring"
    label = "scoring"
    verbose_name = "目标管理责任制考核"

    def ready(self) -> None:
        from apps.core.navigation import NavItem, nav_register

        readers = ("assessor", "county_viewer", "county_admin", "township_clerk")
        nav_register(NavItem("目标考核", "scoring:results", roles=readers, order=60))
