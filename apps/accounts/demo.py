"""Demo users for ``make run``: one per role, on the demo county (大城县), its first township and village."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from apps.accounts.models import Role, User
from apps.accounts.services import user_create, user_set_roles
from apps.areas.models import Area, AreaLevel
from apps.core.errors import RuleViolation


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    level: str
    roles: tuple[str, ...]


DEMO_USERS = (
    DemoUser("county_admin", "县管理员", AreaLevel.COUNTY, (Role.COUNTY_ADMIN,)),
    DemoUser("county_viewer", "县级查询", AreaLevel.COUNTY, (Role.COUNTY_VIEWER,)),
    DemoUser("assessor", "考核评估员", AreaLevel.COUNTY, (Role.ASSESSOR, Role.COUNTY_VIEWER)),
    DemoUser("subsidy_approver", "奖扶审批人", AreaLevel.COUNTY, (Role.SUBSIDY_APPROVER,)),
    DemoUser("township_admin", "乡镇管理员", AreaLevel.TOWNSHIP, (Role.TOWNSHIP_ADMIN,)),
    DemoUser("township_clerk", "乡镇录入员", AreaLevel.TOWNSHIP, (Role.TOWNSHIP_CLERK,)),
    # A township leader (乡镇领导): reads everything of the own township, e.g. its scoring results.
    DemoUser("township_leader", "乡镇领导", AreaLevel.TOWNSHIP, (Role.COUNTY_VIEWER,)),
    DemoUser("fee_officer", "征收员", AreaLevel.TOWNSHIP, (Role.FEE_OFFICER,)),
    DemoUser("subsidy_reviewer", "奖扶审核员", AreaLevel.TOWNSHIP, (Role.SUBSIDY_REVIEWER,)),
    DemoUser("village_clerk", "村级录入员", AreaLevel.VILLAGE, (Role.VILLAGE_CLERK,)),
)


@transaction.atomic
def demo_users_ensure(*, password: str) -> list[dict]:
    """Creates (or re-binds) the demo users on the first area of each level; idempotent."""
    first = {
        level: Area.objects.filter(level=level).order_by("code").first()
        for level in (AreaLevel.COUNTY, AreaLevel.TOWNSHIP, AreaLevel.VILLAGE)
    }
    if not all(first.values()):
        raise RuleViolation("请先导入行政区划（load_areas）再创建演示用户")
    logins = []
    for demo in DEMO_USERS:
        area = first[demo.level]
        user = User.objects.filter(username=demo.username).first()
        if user is None:
            user = user_create(
                username=demo.username,
                password=password,
                area=area,
                roles=demo.roles,
                full_name=demo.full_name,
                validate=False,
            )
        else:
            user_set_roles(user=user, area=area, roles=demo.roles)
        logins.append({"username": user.username, "roles": user.roles, "area": f"{area.name} {area.code}"})
    return logins
