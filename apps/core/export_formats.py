"""django-import-export's CSV and xlsx formats, writing through the one safe writer (``apps.core.exports``):
the admin's export of configuration tables neutralises formulas like every other export. Named in
``settings.EXPORT_FORMATS`` (so this module imports nothing that needs Django set up)."""

from __future__ import annotations

from import_export.formats import base_formats

from apps.core.exports import csv_bytes, xlsx_bytes


class SafeCSV(base_formats.CSV):
    def export_data(self, dataset, **kwargs) -> str:
        return csv_bytes(dataset.headers, dataset, bom=False).decode("utf-8")


class SafeXLSX(base_formats.XLSX):
    def export_data(self, dataset, **kwargs) -> bytes:
        return xlsx_bytes(dataset.headers or [], dataset, title=dataset.title or "Sheet1")
