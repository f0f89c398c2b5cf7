"""迁移流动 sheets: 迁入/迁出/流入/流出, keyed by (person, kind, date), with the rules of
``registry.services.move_record``: the county-side end (the destination of a move in, the origin of a move
out) is a village of the county within the user's area and locates the record, and the person lives within that
area; afterwards each moved person's current village follows their latest move (``registry.rules.residence_sync``)."""

from __future__ import annotations

from typing import Any

from apps.imports.engine import Column, ImportContext, KindSpec, RowError, RowInvalid
from apps.imports.kinds import cells, plausible
from apps.registry import plausibility
from apps.registry.models import INWARD_MOVES, MoveKind
from apps.registry.rules import residence_sync

KIND = {label: value for value, label in MoveKind.choices}
FIELDS = ("origin_code", "destination_code", "certificate_number", "village_id")


class MovesSpec(KindSpec):
    kind = "moves"
    columns = (
        Column("身份证号", "id_number"),
        Column("类型", "kind"),
        Column("日期", "date"),
        Column("原区划代码", "origin"),
        Column("现区划代码", "destination"),
        Column("婚育证明号", "certificate", required=False),
    )
    stage_columns = (
        ("id_number", "text"),
        ("kind", "text"),
        ("date", "date"),
        ("origin_code", "text"),
        ("destination_code", "text"),
        ("certificate_number", "text"),
        ("village_id", "text"),
    )

    def parse(self, c: dict[str, Any], ctx: ImportContext) -> tuple:
        parsed = cells.id_number("身份证号", c["id_number"])
        kind = cells.choice("类型", c["kind"], KIND)
        on = cells.day("日期", c["date"], ctx)
        origin = cells.area_code("原区划代码", c["origin"])
        destination = cells.area_code("现区划代码", c["destination"])
        if origin == destination:
            raise RowInvalid("现区划代码", "原区划代码与现区划代码相同")
        if kind in INWARD_MOVES:
            village = ctx.check_village("现区划代码", destination)
        else:
            village = ctx.check_village("原区划代码", origin)
        certificate = cells.text("婚育证明号", c["certificate"], max_length=40)
        return parsed.number, kind, on, origin, destination, certificate, village

    def check(self, cursor, ctx: ImportContext) -> list[RowError]:
        cells.stage_add_columns(cursor, person_id="bigint")
        errors = cells.stage_reject_duplicates(
            cursor,
            keys=("id_number", "kind", "date"),
            column="身份证号",
            message="与第{first}行重复（身份证号、类型和日期都相同）",
        )
        cells.stage_resolve_person(cursor, number="id_number", target="person_id")
        # Located by the county-side end (checked against the scope in ``parse``); the person, whose current
        # village the move may change, must live within the user's area too (an arrival from another
        # township of the county is recorded once that township has recorded the departure).
        errors += cells.stage_check_person(
            cursor, ctx, number="id_number", target="person_id", column="身份证号", dates=(("date", "日期"),)
        )
        if ctx.scope is not None:
            in_scope, params = ctx.scope_sql("m.village_id")
            errors += cells.stage_reject(
                cursor,
                column="类型",
                message="该迁移记录已由您管辖范围以外的单位登记，不能由本单位修改",
                joins="registry_move m",
                where=f"(m.person_id, m.kind, m.date) = (s.person_id, s.kind, s.date) AND m.voided_at IS NULL "
                f"AND NOT {in_scope}",
                params=params,
            )
        errors += plausible.stage_findings(
            cursor,
            ctx,
            plausibility.moves_findings(
                candidates="SELECT s.row_no AS key, s.person_id, s.kind, s.date, s.origin_code, s.destination_code, "
                "m.id AS self_id FROM import_stage s LEFT JOIN registry_move m ON m.voided_at IS NULL "
                "AND (m.person_id, m.kind, m.date) = (s.person_id, s.kind, s.date) WHERE NOT s.rejected"
            ),
            {"date": "日期", "origin_code": "原区划代码", "destination_code": "现区划代码"},
        )
        return errors

    _DIFFERS = f"({', '.join(f'm.{f}' for f in FIELDS)}) IS DISTINCT FROM ({', '.join(f's.{f}' for f in FIELDS)})"

    def preview(self, cursor, ctx: ImportContext) -> tuple[int, int]:
        cursor.execute(
            f"""
            SELECT count(*) FILTER (WHERE m.id IS NULL), count(*) FILTER (WHERE m.id IS NOT NULL AND {self._DIFFERS})
            FROM import_stage s
            LEFT JOIN registry_move m
                   ON (m.person_id, m.kind, m.date) = (s.person_id, s.kind, s.date) AND m.voided_at IS NULL
            WHERE NOT s.rejected
            """
        )
        return cursor.fetchone()

    def write(self, cursor, ctx: ImportContext) -> tuple[int, int]:
        columns = ", ".join(FIELDS)
        cursor.execute(
            f"""
            WITH upserted AS (
                INSERT INTO registry_move (person_id, kind, date, {columns}, created_at, updated_at, created_by_id)
                SELECT s.person_id, s.kind, s.date, {", ".join(f"s.{f}" for f in FIELDS)}, now(), now(), %(user)s
                FROM import_stage s
                WHERE NOT s.rejected ORDER BY s.row_no
                ON CONFLICT (person_id, kind, date) WHERE voided_at IS NULL DO UPDATE SET
                    {", ".join(f"{f} = EXCLUDED.{f}" for f in FIELDS)}, updated_at = now()
                WHERE ({", ".join(f"registry_move.{f}" for f in FIELDS)})
                      IS DISTINCT FROM ({", ".join(f"EXCLUDED.{f}" for f in FIELDS)})
                RETURNING (xmax = 0) AS inserted, person_id
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
                   COALESCE(array_agg(DISTINCT person_id), '{{}}')
            FROM upserted
            """,
            {"user": ctx.user_id},
        )
        created, updated, persons = cursor.fetchone()
        cells.analyze_if_grown(cursor, "registry_move", created + updated)
        # The current village follows the latest live move into a village of this county: the registry's rule.
        residence_sync(person_ids=persons)
        return created, updated
