"""人口信息 sheets: upsert persons by ID number, creating households by number (户编号) as needed."""

from __future__ import annotations

from typing import Any

from apps.imports.engine import ALL_ROWS, Column, ImportContext, KindSpec, RowError, RowInvalid, RowRange
from apps.imports.kinds import cells
from apps.registry.models import EmploymentType, HukouType, MaritalStatus, Sex

SEX = {label: value for value, label in Sex.choices}
HUKOU = {label: value for value, label in HukouType.choices}
EMPLOYMENT = {label: value for value, label in EmploymentType.choices}
MARITAL = {label: value for value, label in MaritalStatus.choices} | {
    "初婚": MaritalStatus.MARRIED,
    "再婚": MaritalStatus.MARRIED,
    "有配偶": MaritalStatus.MARRIED,
}

# The person fields an import sets; compared to decide "changed" and written by the upsert.
FIELDS = (
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "hukou_type",
    "village_id",
    "relation_to_head",
    "marital_status",
    "phone",
    "employment_type",
)

# 户籍地区划代码 (optional; DESIGN §8): an empty cell keeps the registered 户籍地 (a sheet without the column
# must not erase what clerks entered); a new person without one has the residence's county.
KEEP_HUKOU_PLACE = "COALESCE(NULLIF(EXCLUDED.hukou_place_code, ''), registry_person.hukou_place_code)"
_KEEP_HUKOU_PLACE_FROM_STAGE = "COALESCE(NULLIF(s.hukou_place_code, ''), p.hukou_place_code)"


class PersonsSpec(KindSpec):
    kind = "persons"
    # No rule looks at a later row: a row is a duplicate of an earlier one, or out of scope, or neither.
    writes_by_chunk = True
    unique_in_file = (0, "身份证号", "身份证号与第{first}行重复")
    grows = ("registry_person", "registry_household")
    columns = (
        Column("身份证号", "id_number"),
        Column("姓名", "name"),
        Column("性别", "sex"),
        Column("出生日期", "birth_date"),
        Column("民族", "ethnicity", required=False),
        Column("户籍性质", "hukou_type"),
        Column("现住址区划代码", "village"),
        Column("户编号", "household", required=False),
        Column("与户主关系", "relation_to_head", required=False),
        Column("婚姻状况", "marital_status", required=False),
        Column("联系电话", "phone", required=False),
        Column("就业类型", "employment_type", required=False),
        Column("户籍地区划代码", "hukou_place", required=False),
    )
    stage_columns = (
        ("id_number", "text"),
        ("name", "text"),
        ("sex", "text"),
        ("birth_date", "date"),
        ("ethnicity", "text"),
        ("hukou_type", "text"),
        ("village_id", "text"),
        ("household_number", "text"),
        ("relation_to_head", "text"),
        ("marital_status", "text"),
        ("phone", "text"),
        ("employment_type", "text"),
        ("hukou_place_code", "text"),
    )

    def parse(self, c: dict[str, Any], ctx: ImportContext) -> tuple:
        parsed = cells.id_number("身份证号", c["id_number"])
        name = cells.text("姓名", c["name"], required=True, max_length=50)
        sex = cells.choice("性别", c["sex"], SEX)
        born = cells.day("出生日期", c["birth_date"], ctx)
        cells.agree(parsed, birth_date=born, sex=sex, date_column="出生日期", sex_column="性别")
        hukou = cells.choice("户籍性质", c["hukou_type"], HUKOU)
        village = ctx.check_village("现住址区划代码", cells.area_code("现住址区划代码", c["village"]))
        phone = cells.text("联系电话", c["phone"], max_length=20)
        if phone and not phone.replace("-", "").isdigit():
            raise RowInvalid("联系电话", "联系电话只能包含数字")
        return (
            parsed.number,
            name,
            sex,
            born,
            cells.text("民族", c["ethnicity"], max_length=20),
            hukou,
            village,
            cells.text("户编号", c["household"], max_length=30),
            cells.text("与户主关系", c["relation_to_head"], max_length=20),
            cells.choice("婚姻状况", c["marital_status"], MARITAL, required=False),
            phone,
            cells.choice("就业类型", c["employment_type"], EMPLOYMENT, required=False),
            cells.area_code("户籍地区划代码", c["hukou_place"], required=False),
        )

    def check(self, cursor, ctx: ImportContext, rows: RowRange = ALL_ROWS) -> list[RowError]:
        errors = []
        lo_hi = {"lo": rows[0], "hi": rows[1]}
        # The same ID twice in one file is found while parsing (``unique_in_file``).
        # A number held by a person outside the user's area (the upsert would change, even move, that person)
        # or by a retired duplicate record: refused with words that say neither who holds it nor where.
        if ctx.scope is not None or _any_retired(cursor):
            in_scope, params = ctx.scope_sql("p.village_id")
            cursor.execute(
                f"""
                UPDATE import_stage s SET rejected = true FROM registry_person p
                WHERE p.id_number = s.id_number AND NOT s.rejected
                  AND (p.merged_into_id IS NOT NULL OR NOT {in_scope})
                  AND s.row_no BETWEEN %(lo)s AND %(hi)s
                RETURNING s.row_no
                """,
                params | lo_hi,
            )
            errors += [RowError(r, "身份证号", cells.NUMBER_NOT_USABLE) for (r,) in cursor.fetchall()]
        if ctx.scope is not None:
            in_scope, params = ctx.scope_sql("h.village_id")
            cursor.execute(
                f"""
                UPDATE import_stage s SET rejected = true FROM registry_household h
                WHERE h.number = s.household_number AND NOT s.rejected AND NOT {in_scope}
                  AND s.row_no BETWEEN %(lo)s AND %(hi)s
                RETURNING s.row_no
                """,
                params | lo_hi,
            )
            errors += [RowError(r, "户编号", "该户编号属于您管辖范围以外的户") for (r,) in cursor.fetchall()]
        return errors

    _DIFFERS = (
        "(" + ", ".join(f"p.{f}" for f in FIELDS) + ", COALESCE(ph.number, ''), p.hukou_place_code)"
        " IS DISTINCT FROM (" + ", ".join(f"s.{f}" for f in FIELDS) + ", s.household_number, "
        "COALESCE(NULLIF(s.hukou_place_code, ''), p.hukou_place_code))"
    )

    def preview(self, cursor, ctx: ImportContext) -> tuple[int, int]:
        cursor.execute(
            f"""
            SELECT count(*) FILTER (WHERE p.id IS NULL),
                   count(*) FILTER (WHERE p.id IS NOT NULL AND {self._DIFFERS})
            FROM import_stage s
            LEFT JOIN registry_person p ON p.id_number = s.id_number
            LEFT JOIN registry_household ph ON ph.id = p.household_id
            WHERE NOT s.rejected
            """
        )
        return cursor.fetchone()

    def write(self, cursor, ctx: ImportContext, rows: RowRange = ALL_ROWS) -> tuple[int, int]:
        """Households first (by number), then the persons in two statements: an ``UPDATE`` of the registered
        persons whose values differ, then an ``INSERT`` of the numbers not yet registered.

        Not one ``INSERT … ON CONFLICT DO UPDATE``: its conflict path locks every existing row it meets, even
        one left unchanged by its ``WHERE``, which writes to every heap page a re-import touches (issue 16:
        re-importing an unchanged file cost half of a first import). The ``INSERT`` keeps ``ON CONFLICT`` for
        a number that another import registers between the two statements.
        """
        params = {"user": ctx.user_id, "lo": rows[0], "hi": rows[1]}
        cursor.execute(
            """
            INSERT INTO registry_household (number, village_id, address, created_at, updated_at, created_by_id)
            SELECT DISTINCT ON (household_number) household_number, village_id, '', now(), now(), %(user)s
            FROM import_stage s
            WHERE NOT rejected AND household_number <> '' AND row_no BETWEEN %(lo)s AND %(hi)s
              AND NOT EXISTS (SELECT FROM registry_household h WHERE h.number = s.household_number)
            ORDER BY household_number, row_no
            ON CONFLICT (number) DO NOTHING
            """,
            params,
        )
        cursor.execute(
            f"""
            UPDATE registry_person p SET
                {", ".join(f"{f} = s.{f}" for f in FIELDS)},
                household_id = h.id,
                hukou_place_code = {_KEEP_HUKOU_PLACE_FROM_STAGE},
                version = p.version + 1,
                updated_at = now()
            FROM import_stage s LEFT JOIN registry_household h ON h.number = s.household_number
            WHERE p.id_number = s.id_number AND NOT s.rejected AND s.row_no BETWEEN %(lo)s AND %(hi)s
              AND ({", ".join(f"p.{f}" for f in FIELDS)}, p.household_id, p.hukou_place_code)
                  IS DISTINCT FROM ({", ".join(f"s.{f}" for f in FIELDS)}, h.id, {_KEEP_HUKOU_PLACE_FROM_STAGE})
            """,
            params,
        )
        updated = cursor.rowcount
        columns = ", ".join(FIELDS)
        cursor.execute(
            f"""
            WITH upserted AS (
                INSERT INTO registry_person (id_number, {columns}, household_id, hukou_place_code, version,
                                             created_at, updated_at, created_by_id)
                SELECT s.id_number, {", ".join(f"s.{f}" for f in FIELDS)}, h.id, COALESCE(s.hukou_place_code, ''), 1,
                       now(), now(), %(user)s
                FROM import_stage s LEFT JOIN registry_household h ON h.number = s.household_number
                WHERE NOT s.rejected AND s.row_no BETWEEN %(lo)s AND %(hi)s
                  AND NOT EXISTS (SELECT FROM registry_person p WHERE p.id_number = s.id_number)
                ON CONFLICT (id_number) DO UPDATE SET
                    {", ".join(f"{f} = EXCLUDED.{f}" for f in FIELDS)},
                    household_id = EXCLUDED.household_id,
                    hukou_place_code = {KEEP_HUKOU_PLACE},
                    version = registry_person.version + 1,
                    updated_at = now()
                WHERE ({", ".join(f"registry_person.{f}" for f in FIELDS)}, registry_person.household_id,
                       registry_person.hukou_place_code)
                      IS DISTINCT FROM ({", ".join(f"EXCLUDED.{f}" for f in FIELDS)}, EXCLUDED.household_id,
                                        {KEEP_HUKOU_PLACE})
                RETURNING (xmax = 0) AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
            """,
            params,
        )
        created, raced = cursor.fetchone()
        return created, updated + raced


def _any_retired(cursor) -> bool:
    """Is any person record retired by a merge? Through the index on ``merged_into_id`` (an ``EXISTS`` is
    planned as a scan of the whole table while its statistics are stale, as after a bulk import)."""
    cursor.execute(
        "SELECT merged_into_id FROM registry_person WHERE merged_into_id IS NOT NULL ORDER BY merged_into_id LIMIT 1"
    )
    return cursor.fetchone() is not None
