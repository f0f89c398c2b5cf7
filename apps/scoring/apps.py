from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "apps.scoring"
    label = "scoring"
    verbose_name = "目标管理责任制考核"

    def ready(self) -> None:
        from apps.core.navigation import NavItem, nav_register

        nav_register(NavItem("目标考核", "scoring:results", order=60))
        nav_register(NavItem("考核年度", "scoring:year", order=61))
        nav_register(NavItem("目标责任书", "scoring:contracts", order=62))
