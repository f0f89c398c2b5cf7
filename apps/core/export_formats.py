"""django-import-export's CSV and xlsx formats, writing through the one safe writer (``apps.core.exports``):
the admin's export of configuration tables neutralises formulas like every other export. Named in
``settings.EXPORT_FORMATS`` (so this module imports nothing that needs Django set up)."""

from __future__ import annotations

from import_export.formats import base_formats

from apps.core.exports import Heading, csv_bytes, office_name, xlsx_bytes


class SafeCSV(base_formats.CSV):
    def export_data(self, dataset, **kwargs) -> str:
        return csv_bytes(dataset.headers, dataset, bom=False).decode("utf-8")


class SafeXLSX(base_formats.XLSX):
    def export_data(self, dataset, **kwargs) -> bytes:
        from django.utils import timezone

        title = dataset.title or "配置数据导出"  # the admin passes no model; its file name names it
        heading = Heading(title, office_name(), f"截至{timezone.localdate():%Y年%m月%d日}")
        return xlsx_bytes(dataset.headers or [], dataset, title=title, heading=heading, freeze="A2")
