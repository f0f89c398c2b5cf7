"""Writes of user accounts.

Roles are permissions (DESIGN §4): each role has one group holding exactly the Django permissions the role
matrix gives it (``access.role_permissions``), and every write of a user here keeps the user's groups and
``is_staff`` (the admin site) in step with its roles. Managing users (create, bind, give roles, disable, reset a
password, unlock) is for the roles that write the ``users`` part, within their own area, giving only the roles
they may grant (``access.grantable_roles``). ``User`` is tracked by pghistory: every change is kept with who
and when.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from axes.utils import reset as axes_reset
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.models import Role, User
from apps.areas.models import Area
from apps.core import access
from apps.core.errors import RuleViolation
from apps.core.scoping import ensure_area_in_scope

ACTIONS = ("view", "add", "change", "delete")


def role_groups_sync(*, apps=django_apps) -> None:
    """One group per role (named by the role) with exactly the permissions of ``access.role_permissions``.
    Idempotent; run by the migration that creates the groups and after every ``migrate`` (``AccountsConfig``),
    so the groups follow the matrix. ``apps``: the historical registry inside a migration."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    GroupModel = apps.get_model("auth", "Group")
    wanted: dict[str, object] = {}
    for label in access.CONFIG_MODELS:
        app_label, model_name = label.split(".")
        try:
            verbose = apps.get_model(app_label, model_name)._meta.verbose_name_raw
        except LookupError:  # a migration's registry need not hold every app: the name is only shown
            verbose = model_name
        content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model_name)
        for action in ACTIONS:  # as ``create_permissions`` would, which may not have run yet
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type,
                codename=f"{action}_{model_name}",
                defaults={"name": f"Can {action} {verbose}"},
            )
            wanted[f"{app_label}.{action}_{model_name}"] = permission
    for role in Role.values:
        group, _ = GroupModel.objects.get_or_create(name=role)
        group.permissions.set([wanted[perm] for perm in sorted(access.role_permissions(role))])


def _access_sync(user: User) -> None:
    """The user's groups are its roles' groups; the admin site is open to the roles that enter it."""
    user.groups.set(Group.objects.filter(name__in=user.roles))


def _check_roles(roles: Iterable[str], *, by: User | None) -> list[str]:
    roles = list(dict.fromkeys(roles))
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise RuleViolation(f"未知角色：{'、'.join(unknown)}", field="roles")
    refused = [Role(r).label for r in roles if by is not None and r not in access.grantable_roles(by)]
    if refused:
        raise RuleViolation(f"您不能授予以下角色：{'、'.join(refused)}", field="roles")
    return roles


def _check_manager(*, by: User | None, area: Area | None = None, target: User | None = None) -> None:
    """``by`` may manage users, the area lies in ``by``'s own area, and ``target`` is one of ``by``'s users
    (bound inside ``by``'s area, every role of it one ``by`` may grant) and not ``by`` itself."""
    if by is None:
        return  # a command (seed_demo_users, createsuperuser-like scripts)
    if not access.may_write(by, "users"):
        raise RuleViolation("您的角色不能管理用户")
    if area is not None:
        ensure_area_in_scope(user=by, code=area.code, field="area", message="所选区划不在您的管辖范围内")
    if target is not None:
        if target.pk == by.pk:
            raise RuleViolation("不能修改自己的角色、区划或启用状态，请联系上级管理员")
        if not User.objects.visible_to(by).filter(pk=target.pk).exists():
            raise RuleViolation("该用户不在您的管辖范围内")
        if target.is_superuser or set(target.roles) - access.grantable_roles(by):
            raise RuleViolation("该用户的角色超出您可以管理的范围，请联系县级管理员")


def _checked_password(password: str, user: User) -> str:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise RuleViolation("；".join(exc.messages), field="password") from exc
    return password


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
    by: User | None = None,
    password_hash: str = "",
) -> User:
    """A new account bound to ``area`` with ``roles``. Created by an admin (``by``), the password is a temporary
        one that the user must change at first login. ``is_staff`` is kept for older callers: the admin site
        follows the roles (``access.may_enter_admin``). ``password_hash``: an already hashed ``password`` (the demo's
    many users share one password and one hash; hashing is slow on purpose)."""
    del is_staff
    _check_manager(by=by, area=area)
    roles = _check_roles(roles, by=by)
    username = (username or "").strip()
    if not username:
        raise RuleViolation("请填写用户名", field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise RuleViolation(f"用户名“{username}”已存在", field="username")
    user = User(
        username=username,
        area=area,
        roles=roles,
        first_name=full_name,
        is_staff=access.may_enter_admin(roles),
        must_change_password=by is not None,
    )
    if validate:
        _checked_password(password, user)
    if password_hash:
        user.password = password_hash
    else:
        user.set_password(password)
    user.save()
    _access_sync(user)
    return user


@transaction.atomic
def user_set_roles(*, user: User, area: Area, roles: Iterable[str], by: User | None = None) -> User:
    """Binds the user to ``area`` with ``roles`` (groups and the admin site follow)."""
    _check_manager(by=by, area=area, target=user)
    roles = _check_roles(roles, by=by)
    user.area = area
    user.roles = roles
    user.is_staff = user.is_superuser or access.may_enter_admin(roles)
    user.save(update_fields=["area", "roles", "is_staff"])
    _access_sync(user)
    return user


@transaction.atomic
def user_update(*, user: User, by: User, full_name: str, area: Area, roles: Iterable[str]) -> User:
    """An admin changes a user's name, area and roles."""
    user_set_roles(user=user, area=area, roles=roles, by=by)
    if user.first_name != full_name:
        user.first_name = full_name
        user.save(update_fields=["first_name"])
    return user


@transaction.atomic
def user_set_active(*, user: User, active: bool, by: User) -> User:
    """Disables (or enables again) an account; a disabled account cannot sign in and is never deleted, so its
    records keep their author."""
    _check_manager(by=by, target=user)
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def user_password_reset(*, user: User, by: User, password: str = "") -> str:
    """Sets a temporary password (typed by the admin, or generated when none is given) that the user must
    change at the next login; returns it, to be shown to the admin once. Clears the account's lockouts."""
    _check_manager(by=by, target=user)
    password = _checked_password(password, user) if password else secrets.token_urlsafe(9)
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    transaction.on_commit(lambda: axes_reset(username=user.username))
    return password


def user_unlock(*, user: User, by: User) -> int:
    """Lifts the lockouts of the account (from every address) after wrong passwords; returns how many."""
    _check_manager(by=by, target=user)
    return axes_reset(username=user.username)


@transaction.atomic
def user_password_change(*, user: User, password: str) -> User:
    """The user sets its own password (the old one already checked by the form); a temporary one ends here."""
    _checked_password(password, user)
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    return user
