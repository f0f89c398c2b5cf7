from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "用户与权限"

    def ready(self) -> None:
        from apps.core.navigation import NavItem, nav_register

        nav_register(NavItem("首页", "accounts:home", order=0))
        nav_register(NavItem("管理后台", "admin:index", order=900))
