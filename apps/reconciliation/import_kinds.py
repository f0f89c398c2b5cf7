"""The departments' birth lists as import kinds (DESIGN §8), registered with the import engine from
``ReconciliationConfig.ready`` (imports sits below this app):

- ``hospital_births`` (出生医学证明): 出生医学证明编号, 母亲身份证号, 婴儿性别, 出生日期, 医院;
- ``police_births`` (公安新生儿户籍登记): 婴儿身份证号 (may be empty), 母亲身份证号, 婴儿性别, 出生日期,
  户籍登记日期, 派出所.

Same engine as every kind: dry run, row/column errors, scope. The mother must be a registered person within
the importer's area (``cells.stage_check_person``: one message for unregistered and out of area, naming
nothing of her); the record is located at her village. Rows are upserted by their natural key (the
certificate number; the child's ID number, else mother, date, sex and the ordinal among such rows), so a
re-import changes nothing; after the write the mothers' records are matched (``services.matches_run``).
"""

from __future__ import annotations

from typing import Any

from apps.imports.engine import Column, ImportContext, KindSpec, RowError, RowInvalid
from apps.imports.kinds import cells
from apps.reconciliation.models import Source
from apps.reconciliation.services import matches_run

SEX = {"男": "M", "女": "F"}


class _OutsideBirthsSpec(KindSpec):
    source: str
    key_column: str  # header named by a duplicate-key error
    stage_columns = (
        ("key", "text"),
        ("mother_number", "text"),
        ("child_id_number", "text"),
        ("sex", "text"),
        ("date", "date"),
        ("certificate_number", "text"),
        ("institution", "text"),
        ("registered_on", "date"),
    )

    def _common(self, c: dict[str, Any], ctx: ImportContext) -> tuple:
        mother = cells.id_number("母亲身份证号", c["mother"]).number
        sex = cells.choice("婴儿性别", c["sex"], SEX)
        born = cells.day("出生日期", c["date"], ctx)
        return mother, sex, born

    def check(self, cursor, ctx: ImportContext) -> list[RowError]:
        cells.stage_add_columns(cursor, mother_id="bigint", village_id="text")
        errors = cells.stage_reject_duplicates(
            cursor, keys=("key",), column=self.key_column, message=f"{self.key_column}与第{{first}}行重复"
        )
        cells.stage_resolve_person(cursor, number="mother_number", target="mother_id")
        errors += cells.stage_check_person(
            cursor, ctx, number="mother_number", target="mother_id", column="母亲身份证号", who="母亲",
            sex="F", in_scope=True, dates=(("date", "出生日期"),),
        )  # fmt: skip
        cursor.execute(
            "UPDATE import_stage s SET village_id = p.village_id FROM registry_person p "
            "WHERE p.id = s.mother_id AND NOT s.rejected"
        )
        # A record already imported by another area cannot be changed from here (nor is it named).
        in_scope, params = ctx.scope_sql("o.village_id")
        if ctx.scope is not None:
            errors += cells.stage_reject(
                cursor, column=self.key_column, message="该记录已由您管辖范围以外的单位导入，不能由本单位修改",
                joins="reconciliation_outsidebirth o",
                where=f"o.source = %(source)s AND o.key = s.key AND NOT {in_scope}",
                params={**params, "source": self.source},
            )  # fmt: skip
        return errors

    _FIELDS = ("mother_id", "child_id_number", "sex", "date", "certificate_number", "institution", "registered_on")

    def _changed(self) -> str:
        before, after = (", ".join(f"{alias}.{f}" for f in self._FIELDS) for alias in ("o", "s"))
        return f"({before}) IS DISTINCT FROM ({after})"

    def preview(self, cursor, ctx: ImportContext) -> tuple[int, int]:
        cursor.execute(
            f"""
            SELECT count(*) FILTER (WHERE o.id IS NULL), count(*) FILTER (WHERE o.id IS NOT NULL AND {self._changed()})
            FROM import_stage s LEFT JOIN reconciliation_outsidebirth o ON o.source = %(source)s AND o.key = s.key
            WHERE NOT s.rejected
            """,  # noqa: S608 - constants of this class
            {"source": self.source},
        )
        return cursor.fetchone()

    def write(self, cursor, ctx: ImportContext) -> tuple[int, int]:
        fields = ", ".join(self._FIELDS)
        updates = ", ".join(f"{f} = EXCLUDED.{f}" for f in self._FIELDS)
        target = ", ".join(f"reconciliation_outsidebirth.{f}" for f in self._FIELDS)
        excluded = ", ".join(f"EXCLUDED.{f}" for f in self._FIELDS)
        cursor.execute(
            f"""
            WITH upserted AS (
                INSERT INTO reconciliation_outsidebirth
                    (source, key, {fields}, village_id, status, candidates, import_job_id, created_at)
                SELECT %(source)s, s.key, {", ".join("s." + f for f in self._FIELDS)}, s.village_id, 'unmatched', 0,
                       %(job)s, now()
                FROM import_stage s WHERE NOT s.rejected ORDER BY s.row_no
                ON CONFLICT (source, key) DO UPDATE SET {updates}, village_id = EXCLUDED.village_id,
                    import_job_id = EXCLUDED.import_job_id,
                    -- changed facts undo a clerk's decision: the record is matched afresh
                    status = CASE WHEN reconciliation_outsidebirth.status IN ('picked', 'none') THEN 'unmatched'
                                  ELSE reconciliation_outsidebirth.status END,
                    birth_id = NULL, reviewed_by_id = NULL, reviewed_at = NULL
                WHERE ({target}) IS DISTINCT FROM ({excluded})
                RETURNING (xmax = 0) AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
            """,  # noqa: S608 - constants of this class
            {"source": self.source, "job": ctx.job_id},
        )
        created, updated = cursor.fetchone()
        cells.analyze_if_grown(cursor, "reconciliation_outsidebirth", created)
        cursor.execute("SELECT COALESCE(array_agg(DISTINCT mother_id), '{}') FROM import_stage WHERE NOT rejected")
        (mothers,) = cursor.fetchone()
        matches_run(mother_ids=mothers)
        return created, updated


class HospitalBirthsSpec(_OutsideBirthsSpec):
    """出生医学证明: one row per certificate."""

    kind = "hospital_births"
    source = Source.HOSPITAL
    key_column = "出生医学证明编号"
    columns = (
        Column("出生医学证明编号", "certificate"),
        Column("母亲身份证号", "mother"),
        Column("婴儿性别", "sex"),
        Column("出生日期", "date"),
        Column("医院", "institution"),
    )

    def parse(self, c: dict[str, Any], ctx: ImportContext) -> tuple:
        certificate = cells.text("出生医学证明编号", c["certificate"], required=True, max_length=40)
        mother, sex, born = self._common(c, ctx)
        institution = cells.text("医院", c["institution"], required=True, max_length=100)
        return certificate, mother, "", sex, born, certificate, institution, None


class PoliceBirthsSpec(_OutsideBirthsSpec):
    """公安新生儿户籍登记: one row per registered newborn."""

    kind = "police_births"
    source = Source.POLICE
    key_column = "婴儿身份证号"
    columns = (
        Column("婴儿身份证号", "child", required=False),
        Column("母亲身份证号", "mother"),
        Column("婴儿性别", "sex"),
        Column("出生日期", "date"),
        Column("户籍登记日期", "registered_on"),
        Column("派出所", "institution"),
    )

    def parse(self, c: dict[str, Any], ctx: ImportContext) -> tuple:
        mother, sex, born = self._common(c, ctx)
        child = cells.id_number("婴儿身份证号", c["child"], required=False)
        if child is not None:
            cells.agree(child, birth_date=born, sex=sex, date_column="出生日期", sex_column="婴儿性别")
            if child.number == mother:
                raise RowInvalid("婴儿身份证号", "婴儿身份证号与母亲身份证号相同")
        registered = cells.day("户籍登记日期", c["registered_on"], ctx)
        if registered < born:
            raise RowInvalid("户籍登记日期", f"户籍登记日期{registered:%Y-%m-%d}早于出生日期{born:%Y-%m-%d}")
        institution = cells.text("派出所", c["institution"], required=True, max_length=100)
        # Without the child's number: mother, date and sex; twins of one sex told apart by ``check``.
        key = child.number if child is not None else f"{mother}|{born:%Y%m%d}|{sex}"
        return key, mother, child.number if child else "", sex, born, "", institution, registered

    def check(self, cursor, ctx: ImportContext) -> list[RowError]:
        # Rows without a child number that share mother, date and sex: the n-th such row is key "…|n".
        cursor.execute(
            """
            UPDATE import_stage s SET key = s.key || '|' || d.n
            FROM (SELECT row_no, row_number() OVER (PARTITION BY key ORDER BY row_no) AS n
                  FROM import_stage WHERE child_id_number = '') d
            WHERE d.row_no = s.row_no
            """
        )
        return super().check(cursor, ctx)
