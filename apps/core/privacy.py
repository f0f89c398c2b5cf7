"""Masking of personal identifiers on screens, in exports and anywhere near logs.

Lists and exports always mask; a detail page shows the full number only to roles that work with it.
"""

import re

_DIGITS_RE = re.compile(r"\d{15}[\dXx]{3}|\d{15}|1\d{10}")


def mask_id_number(value: str | None) -> str:
    """``110101199003071234`` -> ``110101********1234`` (6 + 8 masked + 4, as on official lists)."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_account(value: str | None) -> str:
    """A bank card or passbook number: ``6222021234567890123`` -> ``6222***********0123`` (first and last 4)."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_name(value: str | None) -> str:
    """``王小明`` -> ``王**``: the surname only, for a person outside the reader's area."""
    if not value:
        return ""
    return value[0] + "*" * max(len(value) - 1, 1)


def mask_phone(value: str | None) -> str:
    """``13812345678`` -> ``138****5678``."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def redact(text: str) -> str:
    """Masks anything shaped like an ID or mobile number inside free text (log lines, error messages)."""
    return _DIGITS_RE.sub(lambda m: mask_id_number(m.group()) if len(m.group()) >= 15 else mask_phone(m.group()), text)
