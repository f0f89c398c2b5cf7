"""Base for the fixed-interface commands (DESIGN §8): the last line of output is a JSON summary, and a
failure exits non-zero with the summary still printed."""

import json
import sys

from django.core.management.base import BaseCommand

from apps.core.errors import RuleViolation


class JsonSummaryCommand(BaseCommand):
    def handle(self, *args, **options):
        try:
            summary = self.run(*args, **options)
        except RuleViolation as exc:
            self.stdout.write(json.dumps({"ok": False, "error": exc.message}, ensure_ascii=False))
            sys.exit(1)
        ok = summary.pop("ok", True)
        self.stdout.write(json.dumps({"ok": ok, **summary}, ensure_ascii=False, default=str))
        if not ok:
            sys.exit(1)

    def run(self, *args, **options) -> dict:
        raise NotImplementedError
