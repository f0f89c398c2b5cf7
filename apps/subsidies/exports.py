"""Rosters and bank files as streamed downloads (issue 16): the roster (花名册), its public notice (公示名单) and
the bank's file (代发文件, CSV or xlsx), written by the one safe writer (``apps.core.exports``) as their rows
are read through one server-side cursor. Roster and notice mask ID and account numbers (DESIGN §4; a notice
is posted in public); the bank's file carries them in full, only for those who pay, logged with the purpose
"银行代发". Every check and the log entry come before the first byte."""

from __future__ import annotations

from collections.abc import Iterator

from apps.core.errors import RuleViolation
from apps.core.exports import (
    BANK_PURPOSE,
    Download,
    Heading,
    export_log_record,
    office_name,
    streamed_rows,
    table_download,
)
from apps.core.privacy import mask_account, mask_id_number
from apps.subsidies import selectors
from apps.subsidies.models import Change, PaymentBatch, Roster

ROSTER_HEADERS = ["序号", "村（居）", "姓名", "公民身份号码", "类别", "变动", "原因", "应发金额（元）", "领取人",
                  "开户银行", "账号"]  # fmt: skip
NOTICE_HEADERS = ["序号", "姓名", "公民身份号码", "村（居）", "类别", "变动", "金额（元）"]
BANK_FORMATS = ("csv", "xlsx")


def _title(roster: Roster) -> str:
    return f"{roster.township.name}{roster.programme.name}（{roster.period}）"


def _heading(roster: Roster, user, what: str) -> Heading:
    period = f"{roster.period}（{roster.period_start:%Y-%m-%d}至{roster.period_end:%Y-%m-%d}）"
    return Heading(f"{_title(roster)}{what}", office_name(user.area), period)


def _notice_heading(roster: Roster, user) -> Heading:
    """公示名单's heading: the programme's publishing office (data) and the notice's dates and contact."""
    programme = roster.programme
    when = f"{roster.period}"
    if roster.approved_on and roster.notice_ends_on:
        when += f"，公示期{roster.approved_on:%Y-%m-%d}至{roster.notice_ends_on:%Y-%m-%d}前"
    if programme.notice_contact:
        when += f"，受理异议：{programme.notice_contact}"
    return Heading(f"{_title(roster)}对象公示", programme.notice_office or office_name(user.area), when)


def roster_export(*, roster: Roster, user) -> Download:
    """花名册 (xlsx): the entries of the roster the user may see, masked, and logged."""
    entries = selectors.roster_entries(roster=roster, user=user)
    rows = entries.count()
    export_log_record(by=user, export="subsidies.roster", rows=rows, full_ids=False, area_code=roster.township_id or "")

    def lines() -> Iterator[list]:
        for n, e in enumerate(streamed_rows(entries), start=1):
            yield [n, e.village.name, e.person.name, mask_id_number(e.person.id_number), e.category,
                   e.get_change_display(), "；".join(e.reasons), e.amount, e.payee.name, e.account_bank or "",
                   mask_account(e.account_number)]  # fmt: skip

    return table_download(
        "xlsx", ROSTER_HEADERS, lines(), rows_count=rows, filename=f"roster-{roster.pk}", title="花名册",
        heading=_heading(roster, user, "花名册"), widths=[6, 18, 10, 21, 12, 8, 30, 14, 10, 16, 22], freeze="A2",
    )  # fmt: skip


def roster_notice_export(*, roster: Roster, user) -> Download:
    """公示名单 as a file, the same rows as the printable page (those leaving are not posted)."""
    entries = selectors.roster_entries(roster=roster, user=user).exclude(change=Change.LEAVING)
    rows = entries.count()
    export_log_record(by=user, export="subsidies.notice", rows=rows, full_ids=False, area_code=roster.township_id or "")

    def lines() -> Iterator[list]:
        for n, e in enumerate(streamed_rows(entries), start=1):
            yield [n, e.person.name, mask_id_number(e.person.id_number), e.village.name, e.category,
                   e.get_change_display(), e.amount]  # fmt: skip

    return table_download(
        "xlsx", NOTICE_HEADERS, lines(), rows_count=rows, filename=f"notice-{roster.pk}", title="公示名单",
        heading=_notice_heading(roster, user), widths=[6, 10, 21, 18, 12, 8, 12], freeze="A2",
    )  # fmt: skip


def batch_export_rows(*, batch: PaymentBatch, full_ids: bool) -> Iterator[list]:
    """The batch's payments, one line each, in payment order, read through one server-side cursor."""
    payments = batch.payments.order_by("id").values_list(
        "pk", "payee__name", "payee__id_number", "account__bank_name", "account__account_number", "amount",
        "programme__name", "period",
    )  # fmt: skip
    for pk, name, id_number, bank, account, amount, programme, period in streamed_rows(payments):
        id_number = id_number or ""
        yield [pk, name, id_number if full_ids else mask_id_number(id_number), bank, account, amount, programme,
               period]  # fmt: skip


def batch_export(*, batch: PaymentBatch, fmt: str, by) -> Download:
    """代发文件 for the bank: CSV (UTF-8 with BOM, so Excel opens it) or xlsx, ID and account numbers in full —
    so only for those who pay, of the batch's own township or the county, and logged with the purpose
    "银行代发". No cell (a payee's name, the bank's name) can run as a formula; amounts stay exact numbers.
    The bank's program reads the table from the first row: in the xlsx, what the file is goes on a sheet of
    its own."""
    from apps.accounts.models import Role
    from apps.subsidies.services import EXPORT_HEADERS, _require, _require_area

    _require(by, Role.SUBSIDY_REVIEWER, Role.SUBSIDY_APPROVER, Role.COUNTY_ADMIN, message="您没有导出代发文件的权限")
    _require_area(by, batch.township_id)
    if fmt not in BANK_FORMATS:
        raise RuleViolation("导出格式应为csv或xlsx", field="format")
    rows = batch.payments.count()
    export_log_record(
        by=by, export=f"subsidies.batch.{fmt}", rows=rows, full_ids=True, purpose=BANK_PURPOSE,
        area_code=batch.township_id or "",
    )  # fmt: skip
    roster = batch.roster
    about = Heading(f"{batch.township.name}{roster.programme.name}代发文件（批次{batch.pk}）", office_name(by.area),
                    roster.period)  # fmt: skip
    return table_download(
        fmt, EXPORT_HEADERS, batch_export_rows(batch=batch, full_ids=True), rows_count=rows,
        filename=f"batch-{batch.pk}", title="代发明细", text_columns=(2, 4), widths=[10, 10, 21, 16, 22, 12, 16, 10],
        about=about,
    )  # fmt: skip
