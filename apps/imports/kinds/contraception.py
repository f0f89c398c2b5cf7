"""避孕措施 sheets: methods in use, keyed by (person, method, start date), with the rules of
``registry.services.contraception_record``: the method fits the person's sex, an open earlier method ends
the day a later one starts, and nothing stays in use after the person's death (``registry.rules.death_sync``)."""

from __future__ import annotations

from typing import Any

from apps.imports.engine import Column, ImportContext, KindSpec, RowError, RowInvalid
from apps.imports.kinds import cells, plausible
from apps.registry import plausibility
from apps.registry.models import ContraceptiveMethod
from apps.registry.rules import contraception_sync
from apps.registry.services import FEMALE_ONLY_METHODS

METHOD = {label: value for value, label in ContraceptiveMethod.choices}


class ContraceptionSpec(KindSpec):
    kind = "contraception"
    columns = (
        Column("身份证号", "id_number"),
        Column("措施", "method"),
        Column("开始日期", "start_date"),
        Column("结束日期", "end_date", required=False),
    )
    stage_columns = (("id_number", "text"), ("method", "text"), ("start_date", "date"), ("end_date", "date"))

    def parse(self, c: dict[str, Any], ctx: ImportContext) -> tuple:
        parsed = cells.id_number("身份证号", c["id_number"])
        method = cells.choice("措施", c["method"], METHOD)
        start = cells.day("开始日期", c["start_date"], ctx)
        end = cells.day("结束日期", c["end_date"], ctx, required=False)
        if end is not None and end < start:
            raise RowInvalid("结束日期", "结束日期不能早于开始日期")
        return parsed.number, method, start, end

    def check(self, cursor, ctx: ImportContext) -> list[RowError]:
        cells.stage_add_columns(cursor, person_id="bigint")
        errors = cells.stage_reject_duplicates(
            cursor,
            keys=("id_number", "method", "start_date"),
            column="身份证号",
            message="与第{first}行重复（身份证号、措施和开始日期都相同）",
        )
        cells.stage_resolve_person(cursor, number="id_number", target="person_id")
        errors += cells.stage_check_person(
            cursor,
            ctx,
            number="id_number",
            target="person_id",
            column="身份证号",
            in_scope=True,
            dates=(("start_date", "开始日期"), ("end_date", "结束日期")),
        )
        if ctx.scope is not None:  # a use recorded where the person lived before
            in_scope, params = ctx.scope_sql("u.village_id")
            errors += cells.stage_reject(
                cursor,
                column="开始日期",
                message="该避孕措施记录已由您管辖范围以外的单位登记，不能由本单位修改",
                joins="registry_contraceptiveuse u",
                where="(u.person_id, u.method, u.start_date) = (s.person_id, s.method, s.start_date) "
                f"AND u.voided_at IS NULL AND NOT {in_scope}",
                params=params,
            )
        cursor.execute(
            """
            UPDATE import_stage s SET rejected = true FROM registry_person p
            WHERE NOT s.rejected AND p.id = s.person_id
              AND ((s.method = ANY(%(female_only)s) AND p.sex <> 'F') OR (s.method = %(male_only)s AND p.sex <> 'M'))
            RETURNING s.row_no, s.method
            """,
            {
                "female_only": sorted(m.value for m in FEMALE_ONLY_METHODS),
                "male_only": ContraceptiveMethod.MALE_STERILISATION.value,
            },
        )
        errors += [
            RowError(
                row,
                "措施",
                f"“{ContraceptiveMethod(method).label}”只适用于"
                + ("男性" if method == ContraceptiveMethod.MALE_STERILISATION else "女性"),
            )
            for row, method in cursor.fetchall()
        ]
        errors += plausible.stage_findings(
            cursor,
            ctx,
            plausibility.contraception_findings(
                candidates="SELECT row_no AS key, person_id, start_date AS date, NULL::bigint AS self_id "
                "FROM import_stage WHERE NOT rejected"
            ),
            {"start_date": "开始日期"},
        )
        return errors

    # An empty 结束日期 never reopens a use the registry has ended (by a later method or a death).
    _DIFFERS = "u.end_date IS DISTINCT FROM COALESCE(s.end_date, u.end_date)"

    def preview(self, cursor, ctx: ImportContext) -> tuple[int, int]:
        cursor.execute(
            f"""
            SELECT count(*) FILTER (WHERE u.id IS NULL), count(*) FILTER (WHERE u.id IS NOT NULL AND {self._DIFFERS})
            FROM import_stage s
            LEFT JOIN registry_contraceptiveuse u
                   ON (u.person_id, u.method, u.start_date) = (s.person_id, s.method, s.start_date)
                  AND u.voided_at IS NULL
            WHERE NOT s.rejected
            """
        )
        return cursor.fetchone()

    def write(self, cursor, ctx: ImportContext) -> tuple[int, int]:
        cursor.execute(
            """
            WITH upserted AS (
                INSERT INTO registry_contraceptiveuse (person_id, method, start_date, end_date, village_id,
                                                       created_at, updated_at, created_by_id)
                SELECT s.person_id, s.method, s.start_date, s.end_date, p.village_id, now(), now(), %(user)s
                FROM import_stage s JOIN registry_person p ON p.id = s.person_id
                WHERE NOT s.rejected ORDER BY s.row_no
                ON CONFLICT (person_id, method, start_date) WHERE voided_at IS NULL DO UPDATE
                    SET end_date = COALESCE(EXCLUDED.end_date, registry_contraceptiveuse.end_date), updated_at = now()
                WHERE registry_contraceptiveuse.end_date
                      IS DISTINCT FROM COALESCE(EXCLUDED.end_date, registry_contraceptiveuse.end_date)
                RETURNING (xmax = 0) AS inserted, person_id
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
                   COALESCE(array_agg(DISTINCT person_id), '{}')
            FROM upserted
            """,
            {"user": ctx.user_id},
        )
        created, updated, persons = cursor.fetchone()
        cells.analyze_if_grown(cursor, "registry_contraceptiveuse", created + updated)
        if persons:
            # An open method ends the day the next one starts, and at the person's death (the registry's rule).
            contraception_sync(person_ids=persons)
        return created, updated
