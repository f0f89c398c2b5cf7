"""Resident ID numbers (公民身份号码, GB 11643-1999) as they arrive from forms and spreadsheets.

stdnum checks the checksum and the embedded birth date. Its birth-place check is not used: it dates region
codes by the birth year although numbers were issued later, so it refuses real numbers such as
``131025195003070013`` (born 1950 in 大城县, a code from 1988) — DESIGN §5. The normalisation and the messages
for what Excel does to numbers are ours: no library knows them.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from apps.core.errors import RuleViolation

_SCIENTIFIC_RE = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
_SEPARATORS_RE = re.compile(r"[\s\-_]")
_FORMAT_RE = re.compile(r"^\d{17}[\dX]$")
_LAST = frozenset("0123456789Xx")  # the 18th character of a well-formed number as typed
# A birth date in a year before the one this module was loaded in is in the past on any later day: only a
# later one needs today's date (asked per row, it was a tenth of an import's ID checks).
_LOADED_YEAR = date.today().year


class ParsedId(NamedTuple):
    # A named tuple, not a frozen dataclass: an import builds one per row, and a frozen dataclass's
    # ``__init__`` costs more than the checksum.
    number: str
    birth_date: date
    sex: str  # "M" or "F", from the 17th digit (odd = male)
    upgraded_from_15: bool = False


def normalise(raw: object) -> str:
    """Full-width digits and X become half-width, spaces and dashes go, a trailing x becomes X."""
    if raw is None:
        return ""
    if isinstance(raw, float):
        # A number cell: Excel keeps 15 significant digits, so an 18-digit number has lost its tail.
        raise RuleViolation(
            "身份证号被Excel存成了数字，后几位已丢失；请把该列设为“文本”格式后重新录入",
            field="id_number",
            code="excel_number",
        )
    text = unicodedata.normalize("NFKC", str(raw))
    text = _SEPARATORS_RE.sub("", text).upper()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]  # an integer cell read back as "…​.0"
    return text


@lru_cache(maxsize=65536)
def _birth_date(yyyymmdd: str) -> date | None:
    """stdnum's date check, cached by the 8 date digits: an import of 1,000,000 rows sees a few 10,000 dates."""
    try:
        return ric.get_birth_date(f"000000{yyyymmdd}0000")
    except StdnumError:
        return None


def check_digit(first17: str) -> str:
    """The GB 11643 check digit of the first 17 digits (stdnum's function takes the full 18 characters)."""
    return ric.calc_check_digit(first17 + "0")


def _upgrade_15(number: str) -> str:
    """First-generation 15-digit numbers: insert the century (19) and compute the check digit."""
    first17 = number[:6] + "19" + number[6:]
    return first17 + check_digit(first17)


def parse_id_number(raw: object) -> ParsedId:
    """Validates and normalises one ID number; raises ``RuleViolation`` with a message a clerk can act on.

    The message never repeats the number: it may end up in a log or an error report.
    """
    if isinstance(raw, str) and len(raw) == 18 and raw.isascii() and raw[:17].isdigit() and raw[17] in _LAST:
        text, upgraded = raw.upper(), False  # the common case: well formed, nothing to normalise
    else:
        text, upgraded = _parse_format(raw)
    if check_digit(text[:17]) != text[17]:
        raise RuleViolation("身份证号校验位不正确，请核对是否录错", field="id_number", code="checksum")
    born = _birth_date(text[6:14])
    if born is None:
        raise RuleViolation("身份证号中的出生日期不存在", field="id_number", code="birth_date")
    if born.year >= _LOADED_YEAR and born > date.today():
        raise RuleViolation("身份证号中的出生日期在今天之后", field="id_number", code="birth_date")
    sex = "M" if int(text[16]) % 2 == 1 else "F"
    return ParsedId(text, born, sex, upgraded)


def _parse_format(raw: object) -> tuple[str, bool]:
    """``(the 18 characters, upgraded from 15 digits?)`` of a number that is not already well formed, or the
    ``RuleViolation`` that says what Excel or the clerk did to it."""
    text = normalise(raw)
    if not text:
        raise RuleViolation("身份证号为空", field="id_number", code="required")
    if _SCIENTIFIC_RE.match(text):
        raise RuleViolation(
            "身份证号被Excel转换成了科学计数法（如1.30102E+17），原号码已丢失；请把该列设为“文本”格式后重新录入",
            field="id_number",
            code="excel_scientific",
        )
    upgraded = False
    if len(text) == 15 and text.isdigit():
        text = _upgrade_15(text)
        upgraded = True
    if len(text) == 17 and text.isdigit():
        raise RuleViolation(
            "身份证号只有17位，缺少最后一位（可能被Excel截断或录入时漏掉）",
            field="id_number",
            code="too_short",
        )
    if len(text) != 18 or not _FORMAT_RE.match(text):
        raise RuleViolation(
            f"身份证号应为18位（前17位为数字，最后一位为数字或X），实际为{len(text)}个字符",
            field="id_number",
            code="format",
        )
    return text, upgraded


def check_agreement(parsed: ParsedId, *, birth_date: date | None, sex: str | None) -> None:
    """The birth date and sex given alongside must be those inside the number (DESIGN §5)."""
    if birth_date is not None and birth_date != parsed.birth_date:
        raise RuleViolation(
            f"出生日期{birth_date:%Y-%m-%d}与身份证号中的出生日期{parsed.birth_date:%Y-%m-%d}不一致",
            field="birth_date",
            code="birth_date_mismatch",
        )
    if sex and sex != parsed.sex:
        raise RuleViolation(
            f"性别与身份证号不一致（身份证号第17位表示{'男' if parsed.sex == 'M' else '女'}）",
            field="sex",
            code="sex_mismatch",
        )
