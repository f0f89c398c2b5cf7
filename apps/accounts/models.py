"""Users (用户), each bound to one area, with the roles of DESIGN §4."""

import pghistory
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.fields import ArrayField
from django.db import models

from apps.core import access
from apps.core.scoping import AreaScopedQuerySet


class Role(models.TextChoices):
    VILLAGE_CLERK = "village_clerk", "村级录入员"
    TOWNSHIP_CLERK = "township_clerk", "乡镇录入员"
    FEE_OFFICER = "fee_officer", "社会抚养费征收员"
    SUBSIDY_REVIEWER = "subsidy_reviewer", "奖扶审核员"
    SUBSIDY_APPROVER = "subsidy_approver", "奖扶审批人"
    ASSESSOR = "assessor", "考核评估员"
    COUNTY_VIEWER = "county_viewer", "县级查询"
    COUNTY_ADMIN = "county_admin", "县级管理员"
    TOWNSHIP_ADMIN = "township_admin", "乡镇管理员"


# Roles whose work needs the full resident ID number (entering records, assessing fees, paying people),
# from the role matrix. Every other role sees masked numbers everywhere.
FULL_ID_ROLES = access.READ["registry.full_ids"]


class AccountManager(UserManager.from_queryset(AreaScopedQuerySet)):
    """Django's user manager with the area scope (``User.objects.visible_to(user)``)."""


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["password", "last_login"],
)
class User(AbstractUser):
    """用户. ``area`` bounds everything the user may see; ``roles`` says what the user may do there."""

    area = models.ForeignKey(
        "areas.Area",
        verbose_name="所属区划",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text="用户只能查看和办理本区划（含下级）的数据。",
    )
    roles = ArrayField(
        models.CharField(max_length=32, choices=Role.choices),
        verbose_name="角色",
        default=list,
        blank=True,
    )
    must_change_password = models.BooleanField(
        "须修改密码",
        default=False,
        help_text="管理员设置或重置的密码：用户下次登录后须先修改密码才能办理其他事务。",
    )

    area_scope_field = "area_id"
    objects = AccountManager()

    class Meta(AbstractUser.Meta):
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(condition=models.Q(roles__contained_by=Role.values), name="user_roles_known"),
            # Only a superuser may work without an area; everyone else is bound to one.
            models.CheckConstraint(
                condition=models.Q(is_superuser=True) | models.Q(area__isnull=False) | models.Q(is_active=False),
                name="user_active_has_area",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def has_role(self, *roles: str) -> bool:
        return self.is_superuser or any(r in self.roles for r in roles)

    @property
    def may_see_full_ids(self) -> bool:
        return self.is_superuser or any(r in FULL_ID_ROLES for r in self.roles)

    @property
    def role_labels(self) -> list[str]:
        return [Role(r).label for r in self.roles if r in Role.values]
