"""Demo users for ``make run``: one per role on the demo county (大城县), its first township and village (the
logins the README lists, password given), and the rest of a county's staff: the township roles in every other
township (``<role>_<township digits>``, e.g. ``subsidy_reviewer_101``) and a village clerk in every village of
the first township (``village_clerk_<village digits>``). Those are created by the county admin the way it
creates users in the app, so each must change the password at first login; they sign off the demo's roster
steps (``apps.subsidies.demo``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
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
    hashed = make_password(password)
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
                password_hash=hashed,
            )
        else:
            user_set_roles(user=user, area=area, roles=demo.roles)
        logins.append({"username": user.username, "roles": user.roles, "area": f"{area.name} {area.code}"})
    return logins


def staff_usernames(*, level: str, area: Area) -> list[tuple[DemoUser, str]]:
    """The county's other staff on ``area``: (the demo user whose role they have, their user name)."""
    digits = area.code[6:9] if level == AreaLevel.TOWNSHIP else area.code[9:12]
    return [(demo, f"{demo.username}_{digits}") for demo in DEMO_USERS if demo.level == level]


@transaction.atomic
def demo_staff_ensure(*, password: str) -> int:
    """The township roles in every township but the first, a village clerk in every village of the first
    township but its first village; created by the county admin (temporary password). Idempotent; returns
    how many were created."""
    admin = User.objects.filter(username="county_admin").first()
    county = Area.objects.filter(level=AreaLevel.COUNTY).order_by("code").first()
    if admin is None or county is None:
        raise RuleViolation("请先创建演示用户（seed_demo_users）")
    townships = list(Area.objects.within(county.code).filter(level=AreaLevel.TOWNSHIP).order_by("code"))
    villages = list(Area.objects.within(townships[0].code).filter(level=AreaLevel.VILLAGE).order_by("code"))
    places = [(AreaLevel.TOWNSHIP, t) for t in townships[1:]] + [(AreaLevel.VILLAGE, v) for v in villages[1:]]
    wanted = [(demo, name, area) for level, area in places for demo, name in staff_usernames(level=level, area=area)]
    existing = set(User.objects.filter(username__in=[name for _, name, _ in wanted]).values_list("username", flat=True))
    hashed = make_password(password)
    created = 0
    for demo, name, area in wanted:
        if name in existing:
            continue
        user_create(username=name, password=password, password_hash=hashed, area=area, roles=demo.roles,
                    full_name=f"{area.name}{demo.full_name}", validate=False, by=admin)  # fmt: skip
        created += 1
    return created
