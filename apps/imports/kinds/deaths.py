"""死亡登记 sheets: one live death per person (the natural key), of a person within the user's area, as
``registry.services.death_record`` keeps it: ``registry.rules.death_sync`` sets the person's death date, closes
any contraceptive use still open on that date and widows the surviving spouse."""

from __future__ import annotations

from typing import Any

from apps.imports.engine import Column, ImportContext, KindSpec, RowError
from apps.imports.kinds import cells, plausible
from apps.registry import plausibility
from apps.registry.rules import death_sync

# What may not follow a death (services.death_record): label, and the condition on staged row ``s``.
LATER_RECORDS = (
    (
        "出生登记",
        "SELECT 1 FROM registry_birth x WHERE x.mother_id = s.person_id AND x.date > s.date AND x.voided_at IS NULL",
    ),
    (
        "婚姻登记",
        "SELECT 1 FROM registry_marriage x WHERE (x.wife_id = s.person_id OR x.husband_id = s.person_id)"
        " AND x.date > s.date AND x.voided_at IS NULL",
    ),
    (
        "迁移流动",
        "SELECT 1 FROM registry_move x WHERE x.person_id = s.person_id AND x.date > s.date AND x.voided_at IS NULL",
    ),
    (
        "避孕措施",
        "SELECT 1 FROM registry_contraceptiveuse x WHERE x.person_id = s.person_id AND x.start_date > s.date"
        " AND x.voided_at IS NULL",
    ),
)


class DeathsSpec(KindSpec):
    kind = "deaths"
    columns = (Column("身份证号", "id_number"), Column("死亡日期", "date"))
    stage_columns = (("id_number", "text"), ("date", "date"))

    def parse(self, c: dict[str, Any], ctx: ImportContext) -> tuple:
        return cells.id_number("身份证号", c["id_number"]).number, cells.day("死亡日期", c["date"], ctx)

    def check(self, cursor, ctx: ImportContext) -> list[RowError]:
        cells.stage_add_columns(cursor, person_id="bigint")
        errors = cells.stage_reject_duplicates(
            cursor, keys=("id_number",), column="身份证号", message="身份证号与第{first}行重复"
        )
        cells.stage_resolve_person(cursor, number="id_number", target="person_id")
        errors += cells.stage_check_person(
            cursor,
            ctx,
            number="id_number",
            target="person_id",
            column="身份证号",
            in_scope=True,
            dates=(("date", "死亡日期"),),
            after_death_ok=True,  # the death itself: a changed date corrects it
        )
        if ctx.scope is not None:
            in_scope, params = ctx.scope_sql("d.village_id")
            errors += cells.stage_reject(
                cursor,
                column="死亡日期",
                message="该死亡登记已由您管辖范围以外的单位登记，不能由本单位修改",
                joins="registry_death d",
                where=f"d.person_id = s.person_id AND d.voided_at IS NULL AND NOT {in_scope}",
                params=params,
            )
        for label, exists in LATER_RECORDS:
            cursor.execute(
                f"UPDATE import_stage s SET rejected = true WHERE NOT s.rejected AND EXISTS ({exists}) "
                "RETURNING s.row_no, s.date"
            )
            errors += [
                RowError(row, "死亡日期", f"该人员在{on:%Y-%m-%d}之后还有{label}记录，请核对死亡日期")
                for row, on in cursor.fetchall()
            ]
        errors += plausible.stage_findings(
            cursor,
            ctx,
            plausibility.deaths_findings(
                candidates="SELECT row_no AS key, person_id, date, NULL::bigint AS self_id "
                "FROM import_stage WHERE NOT rejected"
            ),
            {"date": "死亡日期"},
        )
        return errors

    def preview(self, cursor, ctx: ImportContext) -> tuple[int, int]:
        cursor.execute(
            """
            SELECT count(*) FILTER (WHERE d.id IS NULL), count(*) FILTER (WHERE d.date <> s.date)
            FROM import_stage s LEFT JOIN registry_death d ON d.person_id = s.person_id AND d.voided_at IS NULL
            WHERE NOT s.rejected
            """
        )
        return cursor.fetchone()

    def write(self, cursor, ctx: ImportContext) -> tuple[int, int]:
        # Located at the village of residence at death: the person's current village.
        cursor.execute(
            """
            WITH upserted AS (
                INSERT INTO registry_death (person_id, date, village_id, created_at, updated_at, created_by_id)
                SELECT s.person_id, s.date, p.village_id, now(), now(), %(user)s
                FROM import_stage s JOIN registry_person p ON p.id = s.person_id
                WHERE NOT s.rejected ORDER BY s.row_no
                ON CONFLICT (person_id) WHERE voided_at IS NULL DO UPDATE SET date = EXCLUDED.date, updated_at = now()
                WHERE registry_death.date IS DISTINCT FROM EXCLUDED.date
                RETURNING (xmax = 0) AS inserted, person_id
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
                   COALESCE(array_agg(person_id), '{}')
            FROM upserted
            """,
            {"user": ctx.user_id},
        )
        created, updated, persons = cursor.fetchone()
        # The death date, contraception closed by the death, the spouse's marital status: the registry's rule.
        death_sync(person_ids=persons)
        return created, updated
