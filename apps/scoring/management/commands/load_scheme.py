from datetime import date
from decimal import Decimal
from pathlib import Path

from apps.core.errors import RuleViolation
from apps.core.management.base import JsonSummaryCommand
from apps.scoring.services import scheme_load


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


class Command(JsonSummaryCommand):
    help = "Load a scoring scheme (考核方案) file as a new, published version (DESIGN §8)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--effective-from", type=date.fromisoformat, default=None, help="YYYY-MM-DD")
        parser.add_argument("--draft", action="store_true", help="load without publishing")

    def run(self, *args, file: str, effective_from, draft: bool, **options) -> dict:
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RuleViolation(f"找不到文件：{path}") from None
        except (UnicodeDecodeError, IsADirectoryError):
            raise RuleViolation(f"文件不是UTF-8文本：{path}") from None
        result = scheme_load(text=text, effective_from=effective_from, publish=not draft)
        scheme = result.scheme
        scheme.refresh_from_db()
        lines = {i.code: _number(i.points) for i in scheme.items.filter(parent__isnull=True).order_by("position")}
        return {
            "scheme": scheme.code,
            "version": scheme.version,
            "created": result.created,
            "status": scheme.status,
            "lines": lines,
            "total_points": _number(scheme.total_points),
            "items": scheme.items.count(),
            "adjustments": scheme.rules.count(),
        }
