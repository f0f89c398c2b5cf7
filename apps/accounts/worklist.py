"""The start page's user-account work (``apps.core.worklist``) for the county and township admins: accounts
locked out after wrong passwords (to unlock) and new accounts whose holder has not signed in yet (to tell
them their temporary password, or to disable an account nobody uses)."""

from __future__ import annotations

from apps.accounts import selectors
from apps.core.access import USER_ADMINS
from apps.core.worklist import WorkItem


def items(user) -> list[WorkItem]:
    return [
        WorkItem("accounts.locked", "因密码错误次数过多被锁定的账户", "accounts:user_list", roles=USER_ADMINS,
                 count=lambda: selectors.users_locked_out_visible_to(user=user).count(),
                 hint="核实是本人操作后在用户列表中解锁，必要时重置密码", order=80),
        WorkItem("accounts.first_login", "尚未首次登录的新账户", "accounts:user_list", roles=USER_ADMINS,
                 count=lambda: selectors.users_awaiting_first_login_visible_to(user=user).count(),
                 hint="将初始密码告知本人（首次登录须修改密码）；无人使用的账户请停用", order=80),
    ]  # fmt: skip
