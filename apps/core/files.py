"""Small helpers for uploaded files."""

from __future__ import annotations

from pathlib import PurePath


def shorten_file_name(name: str, max_length: int) -> str:
    """``name`` cut to ``max_length`` characters keeping its extension ("很长的名字….xlsx"), so that a long
    upload name can be stored and its type still read from it."""
    if len(name) <= max_length:
        return name
    suffix = PurePath(name).suffix
    if len(suffix) >= max_length // 2:  # no real extension: just cut
        return name[:max_length]
    return name[: max_length - len(suffix) - 1] + "…" + suffix
