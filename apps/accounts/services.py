"""Writes of user accounts."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.models import Role, User
from apps.areas.models import Area
from apps.core.errors import RuleViolation


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    area: Area,
    roles: Iterable[str],
    full_name: str = "",
    is_staff: bool = False,
    validate: bool = True,
) -> User:
    roles = list(dict.fromkeys(roles))
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise RuleViolation(f"未知角色：{'、'.join(unknown)}", field="roles")
    if User.objects.filter(username=username).exists():
        raise RuleViolation(f"用户名“{username}”已存在", field="username")
    user = User(username=username, area=area, roles=roles, first_name=full_name, is_staff=is_staff)
    if validate:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise RuleViolation("；".join(exc.messages), field="password") from exc
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def user_set_roles(*, user: User, area: Area, roles: Iterable[str]) -> User:
    roles = list(dict.fromkeys(roles))
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise RuleViolation(f"未知角色：{'、'.join(unknown)}", field="roles")
    user.area = area
    user.roles = roles
    user.save(update_fields=["area", "roles"])
    return user
