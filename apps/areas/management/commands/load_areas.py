from pathlib import Path

from apps.areas.services import areas_load_csv
from apps.core.errors import RuleViolation
from apps.core.management.base import JsonSummaryCommand


class Command(JsonSummaryCommand):
    help = "Load the administrative areas from a CSV file (code,name,level,parent); all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def run(self, *args, file: Path, **options) -> dict:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise RuleViolation(f"无法读取文件 {file}：{exc.strerror}") from exc
        return areas_load_csv(text=text).as_dict()
