"""婚姻登记 sheets: marriages and divorces, keyed by (wife, husband, kind, date), located at the wife's village,
with the rules of ``registry.services.marriage_record``; both spouses are within the importing user's area, and
each one's marital status follows their latest live event (``registry.rules.marital_status_sync``)."""

from __future__ import annotations

from typing import Any

from apps.imports.engine import Column, ImportContext, KindSpec, RowError, RowInvalid
from apps.imports.kinds import cells, plausible
from apps.registry import plausibility
from apps.registry.models import MarriageKind
from apps.registry.rules import marital_status_sync

KIND = {label: value for value, label in MarriageKind.choices}
KEY = ("wife_id", "husband_id", "kind", "date")


class MarriagesSpec(KindSpec):
    kind = "marriages"
    columns = (
        Column("女方身份证号", "wife"),
        Column("男方身份证号", "husband"),
        Column("类型", "kind"),
        Column("登记日期", "date"),
    )
    stage_columns = (("wife_number", "text"), ("husband_number", "text"), ("kind", "text"), ("date", "date"))

    def parse(self, c: dict[str, Any], ctx: ImportContext) -> tuple:
        wife = cells.id_number("女方身份证号", c["wife"])
        husband = cells.id_number("男方身份证号", c["husband"])
        if wife.number == husband.number:
            raise RowInvalid("男方身份证号", "男方身份证号与女方身份证号相同")
        return wife.number, husband.number, cells.choice("类型", c["kind"], KIND), cells.day("登记日期", c["date"], ctx)

    def check(self, cursor, ctx: ImportContext) -> list[RowError]:
        cells.stage_add_columns(cursor, wife_id="bigint", husband_id="bigint")
        errors = cells.stage_reject_duplicates(
            cursor,
            keys=("wife_number", "husband_number", "kind", "date"),
            column="女方身份证号",
            message="与第{first}行重复（女方、男方、类型和登记日期都相同）",
        )
        for role, number, target, sex in (
            ("女方", "wife_number", "wife_id", "F"),
            ("男方", "husband_number", "husband_id", "M"),
        ):
            cells.stage_resolve_person(cursor, number=number, target=target)
            errors += cells.stage_check_person(
                cursor,
                ctx,
                number=number,
                target=target,
                column=f"{role}身份证号",
                who=role,
                sex=sex,
                dates=(("date", "登记日期"),),
            )
        errors += self._check_sequence(cursor)
        errors += plausible.stage_findings(
            cursor,
            ctx,
            plausibility.marriages_findings(
                candidates="SELECT s.row_no AS key, s.wife_id, s.husband_id, s.kind, s.date, m.id AS self_id "
                "FROM import_stage s LEFT JOIN registry_marriage m ON m.voided_at IS NULL "
                "AND (m.wife_id, m.husband_id, m.kind, m.date) = (s.wife_id, s.husband_id, s.kind, s.date) "
                "WHERE NOT s.rejected"
            ),
            {"wife": "女方身份证号", "husband": "男方身份证号", "kind": "类型"},
        )
        return errors

    @staticmethod
    def _check_sequence(cursor) -> list[RowError]:
        """A divorce needs the couple's marriage before it (services.marriage_record), judged against the
        registry and the earlier rows of the file. A marriage of a couple married already is the plausibility
        rule ``repeated_marriage_same_couple`` (registry.plausibility)."""
        cursor.execute(
            """
            WITH couples AS (SELECT DISTINCT wife_id, husband_id FROM import_stage WHERE NOT rejected),
            events AS (
                SELECT m.wife_id, m.husband_id, m.kind, m.date, 0 AS source, m.id AS ord, NULL::integer AS row_no
                FROM registry_marriage m JOIN couples c USING (wife_id, husband_id)
                WHERE m.voided_at IS NULL
                UNION ALL
                SELECT s.wife_id, s.husband_id, s.kind, s.date, 1, s.row_no, s.row_no
                FROM import_stage s
                WHERE NOT s.rejected AND NOT EXISTS (
                    SELECT 1 FROM registry_marriage m
                    WHERE (m.wife_id, m.husband_id, m.kind, m.date) = (s.wife_id, s.husband_id, s.kind, s.date)
                      AND m.voided_at IS NULL
                )
            ),
            ordered AS (
                SELECT row_no, kind,
                       lag(kind) OVER (PARTITION BY wife_id, husband_id ORDER BY date, source, ord) AS previous
                FROM events
            )
            UPDATE import_stage s SET rejected = true FROM ordered o
            WHERE o.row_no = s.row_no
              AND o.kind = 'divorce' AND o.previous IS DISTINCT FROM 'marriage'
            RETURNING s.row_no
            """
        )
        return [RowError(row, "类型", "这两人在该日期前没有结婚登记，不能登记离婚") for (row,) in cursor.fetchall()]

    def preview(self, cursor, ctx: ImportContext) -> tuple[int, int]:
        cursor.execute(
            """
            SELECT count(*) FROM import_stage s
            WHERE NOT s.rejected AND NOT EXISTS (
                SELECT 1 FROM registry_marriage m
                WHERE (m.wife_id, m.husband_id, m.kind, m.date) = (s.wife_id, s.husband_id, s.kind, s.date)
                  AND m.voided_at IS NULL
            )
            """
        )
        return cursor.fetchone()[0], 0  # every column is part of the key: a row is new or unchanged

    def write(self, cursor, ctx: ImportContext) -> tuple[int, int]:
        cursor.execute(
            """
            WITH inserted AS (
                INSERT INTO registry_marriage (wife_id, husband_id, kind, date, village_id,
                                               created_at, updated_at, created_by_id)
                SELECT s.wife_id, s.husband_id, s.kind, s.date, w.village_id, now(), now(), %(user)s
                FROM import_stage s JOIN registry_person w ON w.id = s.wife_id
                WHERE NOT s.rejected ORDER BY s.row_no
                ON CONFLICT (wife_id, husband_id, kind, date) WHERE voided_at IS NULL DO NOTHING
                RETURNING wife_id, husband_id
            )
            SELECT count(*), COALESCE(array_agg(wife_id) || array_agg(husband_id), '{}') FROM inserted
            """,
            {"user": ctx.user_id},
        )
        created, persons = cursor.fetchone()
        cells.analyze_if_grown(cursor, "registry_marriage", created)
        # 婚姻状况 of both spouses follows their latest live marriage event: the registry's one rule.
        marital_status_sync(person_ids=persons)
        return created, 0
