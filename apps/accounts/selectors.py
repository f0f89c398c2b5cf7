"""Reads of user accounts: always within the reader's area and the role matrix's ``users`` part."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.areas.models import Area
from apps.core import access


def users_visible_to(*, user: User, query: str = "") -> QuerySet[User]:
    users = access.readable(User.objects.visible_to(user), user, "users").select_related("area")
    query = query.strip()
    if query:
        users = users.filter(Q(username__icontains=query) | Q(first_name__icontains=query))
    return users.order_by("area_id", "username")


def areas_assignable_by(*, user: User) -> QuerySet[Area]:
    """The areas an admin may bind its users to: its own and everything under it."""
    return Area.objects.visible_to(user).order_by("code")


def locked_out_usernames(*, usernames: list[str]) -> set[str]:
    """Of these user names, those locked out now (from some address) after too many wrong passwords
    (django-axes, by user name and address: DESIGN §10)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return set(
        AccessAttempt.objects.filter(
            username__in=usernames, failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
        ).values_list("username", flat=True)
    )


def users_locked_out_visible_to(*, user: User) -> QuerySet[User]:
    """The accounts of the reader's area locked out now (one query: the lockouts as a subquery)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    locked = AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
    ).values("username")
    return users_visible_to(user=user).filter(username__in=locked)


def users_awaiting_first_login_visible_to(*, user: User) -> QuerySet[User]:
    """Active accounts of the reader's area given a temporary password and never signed in since."""
    return users_visible_to(user=user).filter(is_active=True, must_change_password=True, last_login__isnull=True)
