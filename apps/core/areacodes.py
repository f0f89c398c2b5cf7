"""The 12-digit statistical division codes (统计用区划代码) and the code ranges that scope every query.

A code is 2 province + 2 city + 2 county + 3 township + 3 village digits. Everything under an area is the
half-open range ``[code, code + 10**k)`` where ``k`` is the number of trailing digits the area's level leaves
free, so "everything under township T" is ``code >= T and code < T + 1000`` (DESIGN §4): one index range scan,
no recursive query.
"""

import re
from enum import IntEnum

CODE_RE = re.compile(r"^\d{12}$")


class CodeLevel(IntEnum):
    """The level a code's shape implies, by how many leading digits are significant."""

    PROVINCE = 2
    CITY = 4
    COUNTY = 6
    TOWNSHIP = 9
    VILLAGE = 12


def is_valid_code(code: str) -> bool:
    return bool(CODE_RE.match(code or ""))


def level_of(code: str) -> CodeLevel:
    if not is_valid_code(code):
        raise ValueError("not a 12-digit area code")
    for level in CodeLevel:
        if code[level.value :].strip("0") == "":
            return level
    return CodeLevel.VILLAGE


def code_range(code: str) -> tuple[str, str]:
    """The half-open range ``[low, high)`` of 12-digit codes under ``code`` (itself included)."""
    level = level_of(code)
    free = 12 - level.value
    if free == 0:
        return code, f"{int(code) + 1:012d}"
    return code, f"{int(code) + 10**free:012d}"


def contains(ancestor: str, code: str) -> bool:
    low, high = code_range(ancestor)
    return low <= code < high


def township_of(code: str) -> str:
    return code[:9] + "000"


def county_of(code: str) -> str:
    return code[:6] + "000000"
