"""出生登记 sheets, with the rules of ``registry.services.birth_record``.

The natural key is the child (a birth per child): a registered 婴儿身份证号 links to that person, whose birth
date and sex must agree; otherwise the child is created like birth_record creates it (hukou type, household
and village from the mother, 子女, unmarried). A child without an ID number is found again by mother, birth
date and name, so a second import of the same sheet changes nothing. 孩次 and 政策属性 are computed
(births_recompute); a given value that disagrees is kept as a warning, the computed one stands. Mother,
father and child (and an existing birth of the child, with its mother) lie within the importing user's area:
an import links no person of another area.
"""

from __future__ import annotations

from typing import Any

from apps.imports.engine import Column, ImportContext, KindSpec, RowError, RowInvalid
from apps.imports.kinds import cells, plausible
from apps.registry import plausibility
from apps.registry.models import MaritalStatus, PolicyStatus, Sex
from apps.registry.rules import births_recompute

SEX = {label: value for value, label in Sex.choices}
POLICY = {label: value for value, label in PolicyStatus.choices}
POLICY_LABEL = dict(PolicyStatus.choices)

# The birth fields a sheet sets; compared to decide "changed" and written by the upsert.
FIELDS = ("mother_id", "father_id", "date", "sex", "village_id", "birth_order_given", "permit_id", "entered_on")


class BirthsSpec(KindSpec):
    kind = "births"
    columns = (
        Column("母亲身份证号", "mother"),
        Column("父亲身份证号", "father", required=False),
        Column("婴儿身份证号", "child", required=False),
        Column("婴儿姓名", "name"),
        Column("婴儿性别", "sex"),
        Column("出生日期", "date"),
        Column("出生地区划代码", "village", required=False),
        Column("孩次", "order", required=False),
        Column("政策属性", "policy", required=False),
        Column("生育服务证号", "permit", required=False),
        Column("登记日期", "entered_on", required=False),
    )
    stage_columns = (
        ("mother_number", "text"),
        ("father_number", "text"),
        ("child_number", "text"),
        ("child_name", "text"),
        ("sex", "text"),
        ("date", "date"),
        ("village_given", "text"),
        ("order_given", "smallint"),
        ("policy_given", "text"),
        ("permit_number", "text"),
        ("entered_given", "date"),
    )

    def parse(self, c: dict[str, Any], ctx: ImportContext) -> tuple:
        mother = cells.id_number("母亲身份证号", c["mother"])
        father = cells.id_number("父亲身份证号", c["father"], required=False)
        child = cells.id_number("婴儿身份证号", c["child"], required=False)
        name = cells.text("婴儿姓名", c["name"], max_length=50)
        sex = cells.choice("婴儿性别", c["sex"], SEX)
        born = cells.day("出生日期", c["date"], ctx)
        if child is not None:
            cells.agree(child, birth_date=born, sex=sex, date_column="出生日期", sex_column="婴儿性别")
            if child.number == mother.number:
                raise RowInvalid("婴儿身份证号", "婴儿身份证号与母亲身份证号相同")
            if father is not None and child.number == father.number:
                raise RowInvalid("婴儿身份证号", "婴儿身份证号与父亲身份证号相同")
        if father is not None and father.number == mother.number:
            raise RowInvalid("父亲身份证号", "父亲身份证号与母亲身份证号相同")
        village = cells.area_code("出生地区划代码", c["village"], required=False)
        if village:
            ctx.check_village("出生地区划代码", village)
        entered = cells.day("登记日期", c["entered_on"], ctx, required=False)
        if entered is not None and entered < born:
            raise RowInvalid("登记日期", "登记日期不能早于出生日期")
        return (
            mother.number,
            father.number if father else "",
            child.number if child else "",
            name,
            sex,
            born,
            village,
            cells.count("孩次", c["order"]),
            cells.choice("政策属性", c["policy"], POLICY, required=False),
            cells.text("生育服务证号", c["permit"], max_length=40),
            entered,
        )

    def check(self, cursor, ctx: ImportContext) -> list[RowError]:
        cells.stage_add_columns(
            cursor,
            mother_id="bigint",
            father_id="bigint",
            child_id="bigint",
            child_is_new="boolean NOT NULL DEFAULT false",
            child_gets_number="boolean NOT NULL DEFAULT false",
            birth_id="bigint",
            permit_id="bigint",
        )
        errors = cells.stage_reject_duplicates(
            cursor,
            keys=("child_number",),
            where="child_number <> ''",
            column="婴儿身份证号",
            message="婴儿身份证号与第{first}行重复",
        )
        errors += cells.stage_reject_duplicates(
            cursor,
            keys=("mother_number", "date", "child_name"),
            where="child_number = ''",
            column="婴儿姓名",
            message="与第{first}行重复（母亲、出生日期和婴儿姓名都相同）",
        )
        dates = (("date", "出生日期"),)
        cells.stage_resolve_person(cursor, number="mother_number", target="mother_id")
        errors += cells.stage_check_person(
            cursor,
            ctx,
            number="mother_number",
            target="mother_id",
            column="母亲身份证号",
            who="母亲",
            sex=Sex.FEMALE.value,
            in_scope=True,
            dates=dates,
        )
        cells.stage_resolve_person(cursor, number="father_number", target="father_id")
        errors += cells.stage_check_person(
            cursor,
            ctx,
            number="father_number",
            target="father_id",
            column="父亲身份证号",
            who="父亲",
            sex=Sex.MALE.value,
            dates=dates,
            after_death_ok=True,  # a child may be born after the father's death
            same_day_as_birth_ok=False,
        )
        errors += self._check_child(cursor, ctx)
        errors += self._check_permit(cursor)
        errors += plausible.stage_findings(
            cursor,
            ctx,
            plausibility.births_findings(
                candidates="SELECT row_no AS key, mother_id, father_id, date, birth_id AS self_id "
                "FROM import_stage WHERE NOT rejected"
            ),
            {"mother": "母亲身份证号", "father": "父亲身份证号", "date": "出生日期"},
        )
        return errors

    @staticmethod
    def _check_child(cursor, ctx: ImportContext) -> list[RowError]:
        cells.stage_resolve_person(cursor, number="child_number", target="child_id")
        # An unregistered number registers the child; a number held outside the user's area is refused like
        # any number that may not be used, before any message could name that person.
        errors = cells.stage_reject_outside(
            cursor, ctx, target="child_id", column="婴儿身份证号", message=cells.NUMBER_NOT_USABLE
        )
        cursor.execute(
            """
            UPDATE import_stage s SET rejected = true FROM registry_person c
            WHERE NOT s.rejected AND c.id = s.child_id AND (c.birth_date <> s.date OR c.sex <> s.sex)
            RETURNING s.row_no, c.name, c.birth_date, c.sex, s.date
            """
        )
        for row, name, born, sex, on in cursor.fetchall():
            if born != on:
                errors.append(
                    RowError(row, "出生日期", f"婴儿{name}登记的出生日期为{born:%Y-%m-%d}，与本行的出生日期不一致")
                )
            else:
                errors.append(RowError(row, "婴儿性别", f"婴儿{name}登记的性别为{Sex(sex).label}，与本行的性别不一致"))
        # A child registered by an earlier birth import without an ID number: the same mother, date and name
        # (a row that now gives the number adds it to that child).
        cursor.execute(
            """
            UPDATE import_stage s SET child_id = b.child_id, child_gets_number = (s.child_number <> '')
            FROM registry_birth b JOIN registry_person c ON c.id = b.child_id
            WHERE NOT s.rejected AND s.child_id IS NULL AND b.voided_at IS NULL
              AND b.mother_id = s.mother_id AND b.date = s.date AND c.name = s.child_name
              AND (s.child_number = '' OR c.id_number IS NULL)
            """
        )
        # ... and such a child who has since moved out of the user's area is not changed from here.
        errors += cells.stage_reject_outside(
            cursor, ctx, target="child_id", column="婴儿姓名", message="该婴儿的记录不能由您的单位修改"
        )
        cursor.execute("UPDATE import_stage SET child_is_new = true WHERE NOT rejected AND child_id IS NULL")
        errors += cells.stage_reject(
            cursor, column="婴儿姓名", message="婴儿姓名为空", where="s.child_is_new AND s.child_name = ''"
        )
        cursor.execute(
            "UPDATE import_stage s SET birth_id = b.id FROM registry_birth b "
            "WHERE NOT s.rejected AND b.child_id = s.child_id AND b.voided_at IS NULL"
        )
        if ctx.scope is not None:
            # The birth itself, and its mother (a row giving another mother re-ranks her births), must be
            # within the area too.
            in_scope, params = ctx.scope_sql("b.village_id")
            mother_in_scope, _ = ctx.scope_sql("bm.village_id")
            errors += cells.stage_reject(
                cursor,
                column="婴儿身份证号",
                message="该婴儿的出生已由您管辖范围以外的单位登记，不能由本单位修改",
                joins="registry_birth b JOIN registry_person bm ON bm.id = b.mother_id",
                where=f"b.id = s.birth_id AND NOT ({in_scope} AND {mother_in_scope})",
                params=params,
            )
        return errors

    @staticmethod
    def _check_permit(cursor) -> list[RowError]:
        cursor.execute(
            """
            UPDATE import_stage s SET permit_id = p.id FROM registry_birthpermit p
            WHERE NOT s.rejected AND p.number = s.permit_number AND s.permit_number <> '' AND p.voided_at IS NULL
            """
        )
        cursor.execute(
            """
            UPDATE import_stage s SET rejected = true
            WHERE NOT s.rejected AND s.permit_number <> ''
              AND (s.permit_id IS NULL OR NOT EXISTS (
                       SELECT 1 FROM registry_birthpermit p WHERE p.id = s.permit_id AND p.wife_id = s.mother_id))
            RETURNING s.row_no, s.permit_number
            """
        )
        # Unregistered or another woman's: the same words (whose permit it is, is not this import's to say).
        return [
            RowError(row, "生育服务证号", f"这位母亲名下没有生育服务证号{number}") for row, number in cursor.fetchall()
        ]

    def preview(self, cursor, ctx: ImportContext) -> tuple[int, int]:
        # Exactly what a commit would do, computed orders and policy status included (the warnings compare
        # with them): run_import rolls back every import it does not commit, a dry run's writes too.
        return self.write(cursor, ctx)

    def write(self, cursor, ctx: ImportContext) -> tuple[int, int]:
        params = {"user": ctx.user_id, "today": ctx.today}
        # 1. Numbers given now for children registered without one.
        cursor.execute(
            """
            UPDATE registry_person c SET id_number = s.child_number, version = c.version + 1, updated_at = now()
            FROM import_stage s
            WHERE NOT s.rejected AND s.child_gets_number AND c.id = s.child_id AND c.id_number IS NULL
            RETURNING c.id
            """
        )
        numbered = [child for (child,) in cursor.fetchall()]
        # 2. New children, as birth_record creates them: ids drawn first so that each row knows its child.
        cursor.execute(
            "UPDATE import_stage SET child_id = nextval(pg_get_serial_sequence('registry_person', 'id')) "
            "WHERE NOT rejected AND child_is_new"
        )
        cursor.execute(
            """
            INSERT INTO registry_person (id, id_number, name, sex, birth_date, ethnicity, hukou_type, employment_type,
                                         village_id, household_id, relation_to_head, marital_status, phone,
                                         version, created_at, updated_at, created_by_id)
            SELECT s.child_id, NULLIF(s.child_number, ''), s.child_name, s.sex, s.date, '汉族', m.hukou_type, '',
                   m.village_id, m.household_id, '子女', %(unmarried)s, '', 1, now(), now(), %(user)s
            FROM import_stage s JOIN registry_person m ON m.id = s.mother_id
            WHERE NOT s.rejected AND s.child_is_new
            ORDER BY s.row_no
            """,
            {**params, "unmarried": MaritalStatus.UNMARRIED.value},
        )
        # 3. The births. An empty optional cell keeps what an existing birth has (a sheet without 父亲身份证号
        # does not remove fathers, and an empty 登记日期 must not become a second import's date); for a new
        # birth an empty 出生地区划代码 is the mother's village and an empty 登记日期 today.
        cursor.execute(
            f"""
            WITH previous AS (
                SELECT DISTINCT b.mother_id FROM import_stage s JOIN registry_birth b ON b.id = s.birth_id
                WHERE NOT s.rejected AND b.mother_id <> s.mother_id
            ),
            upserted AS (
                INSERT INTO registry_birth (child_id, {", ".join(FIELDS)}, birth_order, policy_status,
                                            policy_status_computed, policy_override_reason,
                                            created_at, updated_at, created_by_id)
                SELECT s.child_id, s.mother_id, COALESCE(s.father_id, b.father_id), s.date, s.sex,
                       COALESCE(NULLIF(s.village_given, ''), b.village_id, m.village_id),
                       COALESCE(s.order_given, b.birth_order_given), COALESCE(s.permit_id, b.permit_id),
                       COALESCE(s.entered_given, b.entered_on, %(today)s),
                       1, 'in_policy', 'in_policy', '', now(), now(), %(user)s
                FROM import_stage s
                JOIN registry_person m ON m.id = s.mother_id
                LEFT JOIN registry_birth b ON b.id = s.birth_id
                WHERE NOT s.rejected ORDER BY s.row_no
                ON CONFLICT (child_id) WHERE voided_at IS NULL DO UPDATE SET
                    {", ".join(f"{f} = EXCLUDED.{f}" for f in FIELDS)}, updated_at = now()
                WHERE ({", ".join(f"registry_birth.{f}" for f in FIELDS)})
                      IS DISTINCT FROM ({", ".join(f"EXCLUDED.{f}" for f in FIELDS)})
                RETURNING (xmax = 0) AS inserted, child_id, mother_id
            )
            SELECT count(*) FILTER (WHERE inserted),
                   count(*) FILTER (WHERE NOT inserted)
                       + (SELECT count(*) FROM unnest(%(numbered)s::bigint[]) n
                          WHERE n NOT IN (SELECT child_id FROM upserted)),
                   COALESCE(array_agg(mother_id), '{{}}')
                       || COALESCE((SELECT array_agg(mother_id) FROM previous), '{{}}')
            FROM upserted
            """,
            {**params, "numbered": numbered},
        )
        created, updated, mothers = cursor.fetchone()
        cells.analyze_if_grown(cursor, "registry_birth", created + updated)
        # 4. 孩次 and 政策属性 of every birth of the mothers concerned (two set-based statements).
        births_recompute(mother_ids=mothers)
        return created, updated

    def warnings(self, cursor, ctx: ImportContext) -> list[RowError]:
        cursor.execute(
            """
            SELECT s.row_no, s.order_given, b.birth_order, s.policy_given, b.policy_status_computed
            FROM import_stage s JOIN registry_birth b ON b.child_id = s.child_id AND b.voided_at IS NULL
            WHERE NOT s.rejected
              AND (s.order_given <> b.birth_order
                   OR (s.policy_given <> '' AND b.policy_override_reason = ''
                       AND s.policy_given <> b.policy_status_computed))
            ORDER BY s.row_no
            """
        )
        warnings = []
        for row, order_given, order, policy_given, policy in cursor.fetchall():
            if order_given is not None and order_given != order:
                warnings.append(
                    RowError(
                        row, "孩次", f"填报的孩次为{order_given}，按该母亲已登记的生育计算为{order}，已按计算结果登记"
                    )
                )
            if policy_given and policy_given != policy:
                warnings.append(
                    RowError(
                        row,
                        "政策属性",
                        f"填报的政策属性为{POLICY_LABEL[policy_given]}，按生育政策规则计算为{POLICY_LABEL[policy]}，"
                        "已按计算结果登记",
                    )
                )
        return warnings
