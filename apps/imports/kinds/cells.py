"""Cell parsers shared by the kinds: each returns a clean value or raises ``RowInvalid`` naming the column."""

from __future__ import annotations

from datetime import date
from typing import Any

from apps.core.errors import RuleViolation
from apps.core.idnumbers import ParsedId, check_agreement, parse_id_number
from apps.imports.engine import ImportContext, RowError, RowInvalid
from apps.imports.reading import to_date, to_text


def text(column: str, value: Any, *, required: bool = False, max_length: int = 200) -> str:
    result = to_text(value)
    if required and not result:
        raise RowInvalid(column, f"{column}为空")
    if len(result) > max_length:
        raise RowInvalid(column, f"{column}超过{max_length}个字符")
    return result


def choice(column: str, value: Any, mapping: dict[str, str], *, required: bool = True) -> str:
    raw = to_text(value)
    if not raw:
        if required:
            raise RowInvalid(column, f"{column}为空")
        return ""
    try:
        return mapping[raw]
    except KeyError:
        allowed = "、".join(dict.fromkeys(k for k in mapping if not k.isascii()))
        raise RowInvalid(column, f"{column}“{raw}”无效，应为{allowed}") from None


def day(column: str, value: Any, ctx: ImportContext, *, required: bool = True) -> date | None:
    try:
        result = to_date(value)
    except (ValueError, OverflowError):
        raise RowInvalid(column, f"{column}“{to_text(value)}”不是有效日期（例：2020-03-15）") from None
    if result is None:
        if required:
            raise RowInvalid(column, f"{column}为空")
        return None
    if result > ctx.today:
        raise RowInvalid(column, f"{column}{result:%Y-%m-%d}晚于今天")
    if result.year < 1880:
        raise RowInvalid(column, f"{column}{result:%Y-%m-%d}不合理")
    return result


def id_number(column: str, value: Any, *, required: bool = True) -> ParsedId | None:
    if value is None or value == "":
        if required:
            raise RowInvalid(column, f"{column}为空")
        return None
    try:
        return parse_id_number(value)
    except RuleViolation as exc:
        raise RowInvalid(column, exc.message) from None


def agree(parsed: ParsedId, *, birth_date: date | None, sex: str | None, date_column: str, sex_column: str) -> None:
    try:
        check_agreement(parsed, birth_date=birth_date, sex=sex)
    except RuleViolation as exc:
        raise RowInvalid(date_column if exc.field == "birth_date" else sex_column, exc.message) from None


def area_code(column: str, value: Any, *, required: bool = True) -> str:
    code = to_text(value)
    if not code:
        if required:
            raise RowInvalid(column, f"{column}为空")
        return ""
    if len(code) != 12 or not code.isdigit():
        raise RowInvalid(column, f"{column}“{code}”应为12位数字")
    return code


_CHINESE_NUMERALS = {n: str(i) for i, n in enumerate("一二三四五六七八九十", start=1)}


def count(column: str, value: Any, *, max_value: int = 99) -> int | None:
    """A small positive whole number such as 孩次: ``2``, ``2.0``, ``第2孩``, ``二孩``; ``None`` when empty."""
    raw = to_text(value)
    if not raw:
        return None
    digits = raw.removeprefix("第").removesuffix("孩").removesuffix("胎")
    digits = _CHINESE_NUMERALS.get(digits, digits)
    if digits.endswith(".0"):
        digits = digits[:-2]
    if not digits.isdigit() or not 1 <= int(digits) <= max_value:
        raise RowInvalid(column, f"{column}“{raw}”应为1到{max_value}之间的整数")
    return int(digits)


# --- staging-table helpers for the event kinds --------------------------------------------------------
# Each check is one set-based statement over ``import_stage`` that marks the rows it rejects and returns
# them with what the message needs; a row keeps only its first error (every check skips rejected rows).

# A person outside the importing user's area is, to that user, not there: the message for an ID number
# registered elsewhere is the one for a number registered nowhere, and names nothing of the person (an
# import must not be a way to learn who holds a number, or where).
NOT_IN_SCOPE = "在您的管辖范围内没有该身份证号的人员"
# Where an unknown number would be registered (a persons row, a new child), a number that may not be used:
# the same words whatever the reason (held by a person outside the area, a retired duplicate record).
NUMBER_NOT_USABLE = "该身份证号不能由您的单位登记或修改"


def stage_add_columns(cursor, **columns: str) -> None:
    """Columns a kind fills in ``check`` (resolved ids and the like), beside those ``parse`` wrote."""
    cursor.execute("ALTER TABLE import_stage " + ", ".join(f"ADD COLUMN {name} {sql}" for name, sql in columns.items()))


def stage_resolve_person(cursor, *, number: str, target: str) -> None:
    """``target`` := the id of the registered person whose ID number is in ``number`` (NULL if none)."""
    cursor.execute(
        f"UPDATE import_stage s SET {target} = p.id FROM registry_person p "
        f"WHERE p.id_number = s.{number} AND NOT s.rejected"
    )


def stage_reject_duplicates(
    cursor, *, keys: tuple[str, ...], column: str, message: str, where: str = "TRUE"
) -> list[RowError]:
    """The same natural key twice in one file: the first row stands, each later one is rejected with
    ``message`` formatted with ``first`` (the standing row's number)."""
    cursor.execute(
        f"""
        UPDATE import_stage s SET rejected = true
        FROM (
            SELECT row_no, first_value(row_no) OVER (PARTITION BY {", ".join(keys)} ORDER BY row_no) AS first_row
            FROM import_stage WHERE NOT rejected AND ({where})
        ) d
        WHERE d.row_no = s.row_no AND d.row_no > d.first_row
        RETURNING s.row_no, d.first_row
        """
    )
    return [RowError(row, column, message.format(first=first)) for row, first in cursor.fetchall()]


def stage_check_person(
    cursor,
    ctx: ImportContext,
    *,
    number: str,
    target: str,
    column: str,
    who: str = "",
    sex: str | None = None,
    in_scope: bool = True,
    dates: tuple[tuple[str, str], ...] = (),
    after_death_ok: bool = False,
    same_day_as_birth_ok: bool = True,
) -> list[RowError]:
    """The rules every event row obeys for one of its persons, in one statement (DESIGN §5, and
    ``registry.services._check_event_date``): the person is registered (not a retired duplicate), lives
    within the user's area (``in_scope``: every role of every kind; an import never touches a person of
    another area), has the sex the role needs, and every date in ``dates`` (``(stage column, header)``) lies
    between the person's birth and death. Unregistered and out of area give the same ``NOT_IN_SCOPE``; the
    messages that name the person come only after the scope check has passed.

    ``number`` is the staged ID number column (an empty one is skipped: an optional person), ``target``
    the resolved id column (``stage_resolve_person``); ``who`` names the role in messages (母亲, 女方).
    """
    scope_sql, params = ctx.scope_sql("p.village_id") if in_scope else ("TRUE", {})
    params = {**params, "sex": sex}
    before = "<" if same_day_as_birth_ok else "<="
    cases = [
        f"WHEN p.id IS NULL OR p.merged_into_id IS NOT NULL OR NOT {scope_sql} THEN 'unknown'",
        "WHEN %(sex)s::text IS NOT NULL AND p.sex <> %(sex)s THEN 'sex'",
    ]
    for i, (stage_column, _) in enumerate(dates):
        cases.append(f"WHEN s2.{stage_column} {before} p.birth_date THEN 'before_birth:{i}'")
        if not after_death_ok:
            cases.append(f"WHEN s2.{stage_column} > p.death_date THEN 'after_death:{i}'")
    date_values = ", ".join(f"s2.{c}" for c, _ in dates) or "NULL"
    cursor.execute(
        f"""
        UPDATE import_stage s SET rejected = true
        FROM (
            SELECT s2.row_no, p.name, p.birth_date, p.death_date,
                   ARRAY[{date_values}]::date[] AS dates,
                   CASE {" ".join(cases)} END AS problem
            FROM import_stage s2 LEFT JOIN registry_person p ON p.id = s2.{target}
            WHERE NOT s2.rejected AND s2.{number} <> ''
        ) x
        WHERE x.row_no = s.row_no AND x.problem IS NOT NULL
        RETURNING s.row_no, x.problem, x.name, x.birth_date, x.death_date, x.dates
        """,
        params,
    )
    errors = []
    for row, problem, name, born, died, values in cursor.fetchall():
        if problem == "unknown":
            errors.append(RowError(row, column, NOT_IN_SCOPE))
        elif problem == "sex":
            errors.append(RowError(row, column, f"{who}{name}的性别登记为{'男' if sex == 'F' else '女'}"))
        else:
            kind, i = problem.split(":")
            header, on = dates[int(i)][1], values[int(i)]
            if kind == "before_birth":
                message = f"{header}{on:%Y-%m-%d}早于{who}{name}的出生日期{born:%Y-%m-%d}"
            else:
                message = f"{header}{on:%Y-%m-%d}晚于{who}{name}的死亡日期{died:%Y-%m-%d}"
            errors.append(RowError(row, header, message))
    return errors


def stage_reject_outside(cursor, ctx: ImportContext, *, target: str, column: str, message: str) -> list[RowError]:
    """Rejects the valid rows whose person in ``target`` (a resolved id column) lives outside the user's area
    or is a retired duplicate record, with ``message`` (which must name nothing of that person)."""
    scope_sql, params = ctx.scope_sql("p.village_id")
    return stage_reject(
        cursor,
        column=column,
        message=message,
        joins="registry_person p",
        where=f"p.id = s.{target} AND (p.merged_into_id IS NOT NULL OR NOT {scope_sql})",
        params=params,
    )


def stage_reject(
    cursor, *, column: str, message: str, where: str, joins: str = "", params: dict | None = None
) -> list[RowError]:
    """Rejects the valid rows that meet ``where`` (``s`` is the staging row; ``joins`` adds a FROM list)."""
    cursor.execute(
        f"UPDATE import_stage s SET rejected = true {'FROM ' + joins if joins else ''} "
        f"WHERE NOT s.rejected AND ({where}) RETURNING s.row_no",
        params or {},
    )
    return [RowError(row, column, message) for (row,) in cursor.fetchall()]


ANALYZE_AFTER_ROWS = 1000


def analyze_if_grown(cursor, table: str, written: int) -> None:
    """Fresh planner statistics after a bulk write, before statements that read the table back: with the
    statistics of the table before the import, PostgreSQL plans those as if it were still small (a
    20,000-row births import spent 45 s in one re-ranking statement, 0.2 s after ANALYZE)."""
    if written >= ANALYZE_AFTER_ROWS:
        cursor.execute(f"ANALYZE {table}")
