"""Rosters as Excel: the roster (花名册) and its public notice (公示名单), written by the one safe writer
(``apps.core.exports``), ID and account numbers always masked (DESIGN §4; a notice is posted in public)."""

from __future__ import annotations

from apps.core.exports import Heading, XlsxWriter, export_log_record, office_name
from apps.core.privacy import mask_account, mask_id_number
from apps.subsidies import selectors
from apps.subsidies.models import Change, Roster

ROSTER_HEADERS = ["序号", "村（居）", "姓名", "公民身份号码", "类别", "变动", "原因", "应发金额（元）", "领取人",
                  "开户银行", "账号"]  # fmt: skip
NOTICE_HEADERS = ["序号", "姓名", "公民身份号码", "村（居）", "类别", "变动", "金额（元）"]


def _title(roster: Roster) -> str:
    return f"{roster.township.name}{roster.programme.name}（{roster.period}）"


def _heading(roster: Roster, user, what: str) -> Heading:
    period = f"{roster.period}（{roster.period_start:%Y-%m-%d}至{roster.period_end:%Y-%m-%d}）"
    return Heading(f"{_title(roster)}{what}", office_name(user.area), period)


def roster_export_xlsx(*, roster: Roster, user) -> bytes:
    """The entries of the roster the user may see, masked, and logged."""
    writer = XlsxWriter()
    sheet = writer.sheet("花名册", heading=_heading(roster, user, "花名册"),
                         widths=[6, 18, 10, 21, 12, 8, 30, 14, 10, 16, 22], freeze="A2")  # fmt: skip
    sheet.header(ROSTER_HEADERS)
    entries = selectors.roster_entries(roster=roster, user=user)
    for n, e in enumerate(entries.iterator(chunk_size=2000), start=1):
        sheet.append([n, e.village.name, e.person.name, mask_id_number(e.person.id_number), e.category,
                      e.get_change_display(), "；".join(e.reasons), e.amount, e.payee.name, e.account_bank or "",
                      mask_account(e.account_number)])  # fmt: skip
    export_log_record(
        by=user, export="subsidies.roster", rows=sheet.rows - 3, full_ids=False, area_code=roster.township_id or ""
    )
    return writer.save()


def roster_notice_xlsx(*, roster: Roster, user) -> bytes:
    """公示名单 as a file, the same rows as the printable page (those leaving are not posted)."""
    writer = XlsxWriter()
    sheet = writer.sheet("公示名单", heading=_heading(roster, user, "对象公示"), widths=[6, 10, 21, 18, 12, 8, 12],
                         freeze="A2")  # fmt: skip
    sheet.header(NOTICE_HEADERS)
    entries = selectors.roster_entries(roster=roster, user=user).exclude(change=Change.LEAVING)
    for n, e in enumerate(entries.iterator(chunk_size=2000), start=1):
        sheet.append([n, e.person.name, mask_id_number(e.person.id_number), e.village.name, e.category,
                      e.get_change_display(), e.amount])  # fmt: skip
    export_log_record(
        by=user, export="subsidies.notice", rows=sheet.rows - 3, full_ids=False, area_code=roster.township_id or ""
    )
    return writer.save()
