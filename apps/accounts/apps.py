from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _role_groups_sync(**kwargs) -> None:
    from apps.accounts.services import role_groups_sync

    role_groups_sync()


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "用户与权限"

    def ready(self) -> None:
        from apps.core.navigation import NavItem, nav_register

        nav_register(NavItem("首页", "accounts:home", order=0))
        nav_register(NavItem("用户管理", "accounts:user_list", order=890))
        nav_register(NavItem("管理后台", "admin:index", order=900))
        # The role groups follow the matrix after every migrate (and after a test database is flushed).
        post_migrate.connect(_role_groups_sync, sender=self, dispatch_uid="accounts.role_groups_sync")
