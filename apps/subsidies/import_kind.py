"""育儿补贴申领 sheets (DESIGN §8 ``childcare_applications``): 婴儿身份证号, 申请人身份证号, 申请人与婴儿关系
(父亲/母亲/其他监护人), 申请日期, 开户银行, 银行账号, and optionally 监护依据.

The kind lives in the subsidy app and is registered with the import engine at start-up
(``imports.kinds.kind_register``), since imports sits below subsidies (DESIGN §3). Each row passes the same
set-based check as a clerk's entry (``childcare_services.application_problems_sql``); rows are upserted by
(child, applicant), so a re-import of the same file changes nothing; the applicant's account replaces an
older active one when the number or the bank differs.
"""

from __future__ import annotations

from typing import Any

from apps.core.errors import RuleViolation
from apps.imports.engine import Column, ImportContext, KindSpec, RowError, RowInvalid
from apps.imports.kinds import cells
from apps.subsidies.childcare_services import (
    PROBLEMS,
    account_kind_of,
    application_problems_sql,
    check_params,
    childcare_programme,
)
from apps.subsidies.models import Relationship
from apps.subsidies.services import account_number_clean

RELATIONSHIP = {label: value for value, label in Relationship.choices} | {"监护人": Relationship.GUARDIAN}


class ChildcareApplicationsSpec(KindSpec):
    kind = "childcare_applications"
    columns = (
        Column("婴儿身份证号", "child"),
        Column("申请人身份证号", "applicant"),
        Column("申请人与婴儿关系", "relationship"),
        Column("申请日期", "applied_on"),
        Column("开户银行", "bank"),
        Column("银行账号", "account"),
        Column("监护依据", "basis", required=False),
    )
    stage_columns = (
        ("child_number", "text"),
        ("applicant_number", "text"),
        ("relationship", "text"),
        ("applied_on", "date"),
        ("bank_name", "text"),
        ("account_number", "text"),
        ("account_kind", "text"),
        ("basis", "text"),
    )

    def parse(self, c: dict[str, Any], ctx: ImportContext) -> tuple:
        child = cells.id_number("婴儿身份证号", c["child"]).number
        applicant = cells.id_number("申请人身份证号", c["applicant"]).number
        if child == applicant:
            raise RowInvalid("申请人身份证号", "申请人身份证号与婴儿身份证号相同")
        relationship = cells.choice("申请人与婴儿关系", c["relationship"], RELATIONSHIP)
        applied_on = cells.day("申请日期", c["applied_on"], ctx)
        bank = cells.text("开户银行", c["bank"], required=True, max_length=60)
        raw = cells.text("银行账号", c["account"], required=True, max_length=40)
        kind = account_kind_of(raw)
        try:
            number = account_number_clean(kind=kind, raw=raw)
        except RuleViolation as exc:
            raise RowInvalid("银行账号", exc.message) from None
        basis = cells.text("监护依据", c["basis"], max_length=200) if relationship == Relationship.GUARDIAN else ""
        return child, applicant, relationship, applied_on, bank, number, kind, basis

    def _programme_id(self, cursor) -> int:
        return childcare_programme().pk

    def check(self, cursor, ctx: ImportContext) -> list[RowError]:
        cells.stage_add_columns(cursor, child_id="bigint", applicant_id="bigint", village_id="text")
        errors = cells.stage_reject_duplicates(
            cursor,
            keys=("child_number", "applicant_number"),
            column="申请人身份证号",
            message="同一婴幼儿、同一申请人与第{first}行重复",
        )
        cells.stage_resolve_person(cursor, number="child_number", target="child_id")
        cells.stage_resolve_person(cursor, number="applicant_number", target="applicant_id")
        params = check_params(programme=childcare_programme(), scope=ctx.scope)
        checks = application_problems_sql(
            "SELECT row_no AS key, child_id, applicant_id, relationship::varchar, applied_on "
            "FROM import_stage WHERE NOT rejected"
        )
        cursor.execute(
            f"""
            WITH checked AS ({checks})
            UPDATE import_stage s SET rejected = (x.problem IS NOT NULL), village_id = x.village_id
            FROM checked x WHERE x.key = s.row_no
            RETURNING s.row_no, x.problem
            """,  # noqa: S608 - the checks are our own SQL, every value a parameter
            params.as_dict(),
        )
        for row, problem in cursor.fetchall():
            if problem:
                _, column, message = PROBLEMS[problem]
                errors.append(RowError(row, column, message))
        # One account per applicant: two rows of one applicant must name the same account.
        cursor.execute(
            """
            UPDATE import_stage s SET rejected = true
            FROM (
                SELECT row_no, first_value(row_no) OVER w AS first_row,
                       first_value(account_number || '|' || bank_name) OVER w AS first_account
                FROM import_stage WHERE NOT rejected
                WINDOW w AS (PARTITION BY applicant_id ORDER BY row_no)
            ) d
            WHERE d.row_no = s.row_no AND d.row_no > d.first_row
              AND d.first_account <> s.account_number || '|' || s.bank_name
            RETURNING s.row_no, d.first_row
            """
        )
        errors += [
            RowError(row, "银行账号", f"同一申请人的开户银行或银行账号与第{first}行不同")
            for row, first in cursor.fetchall()
        ]
        cursor.execute(
            "SELECT row_no FROM import_stage WHERE NOT rejected AND relationship = 'guardian' AND basis = ''"
        )
        ctx.warnings += [
            RowError(row, "监护依据", "其他监护人申领未填写监护依据，请补充") for (row,) in cursor.fetchall()
        ]
        return errors

    _CHANGED = (
        "(a.relationship, a.applied_on, a.guardian_basis, acc.account_number, acc.bank_name)"
        " IS DISTINCT FROM (s.relationship, s.applied_on, s.basis, s.account_number, s.bank_name)"
    )

    def preview(self, cursor, ctx: ImportContext) -> tuple[int, int]:
        cursor.execute(
            f"""
            SELECT count(*) FILTER (WHERE a.id IS NULL), count(*) FILTER (WHERE a.id IS NOT NULL AND {self._CHANGED})
            FROM import_stage s
            LEFT JOIN subsidies_childcareapplication a ON a.programme_id = %(programme)s AND a.status = 'active'
                 AND a.child_id = s.child_id AND a.applicant_id = s.applicant_id
            LEFT JOIN subsidies_bankaccount acc ON acc.id = a.account_id
            WHERE NOT s.rejected
            """,  # noqa: S608 - a constant of this class
            {"programme": self._programme_id(cursor)},
        )
        return cursor.fetchone()

    def write(self, cursor, ctx: ImportContext) -> tuple[int, int]:
        params = {"programme": self._programme_id(cursor), "user": ctx.user_id}
        # The applicants' accounts: a new one where the active account differs (or there is none).
        cursor.execute(
            """
            CREATE TEMP TABLE import_accounts ON COMMIT DROP AS
            SELECT DISTINCT ON (s.applicant_id) s.applicant_id, s.account_number, s.bank_name, s.account_kind
            FROM import_stage s
            LEFT JOIN subsidies_bankaccount a ON a.person_id = s.applicant_id AND a.is_active
            WHERE NOT s.rejected
              AND (a.id IS NULL OR (a.account_number, a.bank_name) <> (s.account_number, s.bank_name))
            ORDER BY s.applicant_id, s.row_no
            """
        )
        cursor.execute(
            "UPDATE subsidies_bankaccount a SET is_active = false FROM import_accounts n "
            "WHERE a.person_id = n.applicant_id AND a.is_active"
        )
        cursor.execute(
            """
            INSERT INTO subsidies_bankaccount
                (person_id, village_id, kind, bank_name, account_number, is_active, created_at, created_by_id)
            SELECT n.applicant_id, p.village_id, n.account_kind, n.bank_name, n.account_number, true, now(), %(user)s
            FROM import_accounts n JOIN registry_person p ON p.id = n.applicant_id
            """,
            params,
        )
        cursor.execute("DROP TABLE import_accounts")
        cursor.execute(
            """
            WITH upserted AS (
                INSERT INTO subsidies_childcareapplication
                    (programme_id, child_id, applicant_id, relationship, guardian_basis, applied_on, account_id,
                     village_id, status, status_reason, created_at, created_by_id)
                SELECT %(programme)s, s.child_id, s.applicant_id, s.relationship, s.basis, s.applied_on, a.id,
                       s.village_id, 'active', '', now(), %(user)s
                FROM import_stage s
                JOIN subsidies_bankaccount a ON a.person_id = s.applicant_id AND a.is_active
                WHERE NOT s.rejected
                ORDER BY s.row_no
                ON CONFLICT (programme_id, child_id, applicant_id) WHERE status = 'active' DO UPDATE SET
                    relationship = EXCLUDED.relationship, guardian_basis = EXCLUDED.guardian_basis,
                    applied_on = EXCLUDED.applied_on, account_id = EXCLUDED.account_id
                WHERE (subsidies_childcareapplication.relationship, subsidies_childcareapplication.guardian_basis,
                       subsidies_childcareapplication.applied_on, subsidies_childcareapplication.account_id)
                      IS DISTINCT FROM (EXCLUDED.relationship, EXCLUDED.guardian_basis, EXCLUDED.applied_on,
                                        EXCLUDED.account_id)
                RETURNING (xmax = 0) AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
            """,
            params,
        )
        return cursor.fetchone()
