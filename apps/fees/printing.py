"""Helpers of the printed documents (征收决定书, 缴纳社会抚养费票据)."""

from __future__ import annotations

from decimal import Decimal

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_GROUPS = ["", "万", "亿"]


def _four(n: int) -> str:
    """0 < n < 10000 in capital numerals, with the zeros a bank clerk writes (壹仟零伍)."""
    out, zero = "", False
    for pos in range(3, -1, -1):
        d = n // 10**pos % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + _UNITS[pos]
    return out


def amount_in_words(amount: Decimal) -> str:
    """人民币大写: ``13000.50`` → ``壹万叁仟元伍角整``... as on Chinese receipts (``整`` after whole yuan or jiao)."""
    amount = Decimal(amount).quantize(Decimal("0.01"))
    if amount < 0:
        return "负" + amount_in_words(-amount)
    yuan = int(amount)
    fen_total = int((amount - yuan) * 100)
    jiao, fen = divmod(fen_total, 10)
    parts, groups, n, i = [], [], yuan, 0
    while n:
        groups.append((i, n % 10000))
        n //= 10000
        i += 1
    need_zero = False
    for index, value in reversed(groups):
        if value == 0:
            need_zero = bool(parts)
            continue
        if parts and (need_zero or value < 1000):
            parts.append("零")
        parts.append(_four(value) + _GROUPS[index])
        need_zero = False
    words = "".join(parts)
    if yuan:
        words += "元"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif fen and yuan:
        words += "零"
    if fen:
        words += _DIGITS[fen] + "分"
    if not fen:
        words += "整"
    return words if words != "整" else "零元整"
