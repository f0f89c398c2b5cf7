from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "apps.indicators"
    label = "indicators"
    verbose_name = "统计指标"

    def ready(self) -> None:
        from apps.core.navigation import NavItem, nav_register

        nav_register(NavItem("统计指标", "indicators:dashboard", order=30))
