"""Cell parsers shared by the kinds: each returns a clean value or raises ``RowInvalid`` naming the column."""

from __future__ import annotations

from datetime import date
from typing import Any

from apps.core.errors import RuleViolation
from apps.core.idnumbers import ParsedId, check_agreement, parse_id_number
from apps.imports.engine import ImportContext, RowInvalid
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
