"""``compute_indicators`` and ``report`` (DESIGN §8): a JSON summary on the last line, non-zero on failure."""

from __future__ import annotations

import json
from io import StringIO

import openpyxl
import pytest
from django.core.management import call_command

from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A


def run(*args) -> tuple[int, dict]:
    out = StringIO()
    try:
        call_command(*args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue().strip().splitlines()[-1])


def test_compute_then_report_as_json_and_xlsx(events_scenario, tmp_path):
    code, summary = run("compute_indicators", "--period", "2024Q1")
    assert code == 0
    assert (summary["ok"], summary["period"], summary["area"], summary["status"]) == (True, "2024Q1", COUNTY, "success")
    assert summary["values"] == 411 * 34  # every indicator but the two from unregistered sources (fees, subsidies)

    code, report = run("report", "--period", "2024Q1", "--area", TOWNSHIP_A, "--format", "json")
    assert code == 0
    assert (report["area"], report["period"], report["run"]) == (TOWNSHIP_A, "2024Q1", summary["run"])
    assert report["values"]["births"] == {"value": 3, "numerator": 3, "denominator": 1}
    assert report["values"]["birth_rate"] == {"value": 260.869565, "numerator": 3, "denominator": 11.5}
    assert report["values"]["sex_ratio_parity3plus"] == {"value": None, "numerator": 1, "denominator": 0}
    assert "fee_collection_rate" not in report["values"]  # no source registered
    # Births after 2021 are not assessed as in or out of policy: 不适用 with its reason, not 100.00.
    policy = report["values"]["policy_compliance_rate"]
    assert (policy["value"], policy["numerator"], policy["denominator"]) == (None, 0, 0)
    assert "2021年7月20日起" in policy["not_applicable"]
    # Today's indicators are in the report: township A's women and mothers are hand-counted in test_demography.
    assert {"children_0_2", "old_age_dependency_ratio", "general_fertility_rate", "total_fertility_rate"} <= set(
        report["values"]
    )

    out = tmp_path / "report.xlsx"
    code, summary = run("report", "--period", "2024q1", "--area", COUNTY, "--format", "xlsx", "--out", str(out))
    assert (code, summary["out"], summary["areas"]) == (0, str(out), 411)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["县", "乡镇", "村", "指标说明"]
    assert wb["村"].freeze_panes == "C4"  # the title lines and the header stay in view
    assert [c.value for c in wb["村"][3]][:3] == ["区划代码", "区划名称", "出生人数（人）"]
    village_row = next(r for r in wb["村"].iter_rows(min_row=4, values_only=True) if r[0] == VILLAGE_A)
    assert village_row[2] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("compute_indicators", "--period", "2024Q5"), "报表期应写作"),
        (("compute_indicators", "--period", "2024Q1", "--area", "131025999999"), "区划代码应为本县已有的12位区划代码"),
        (("report", "--period", "2024Q1", "--area", COUNTY), "2024年第1季度尚无大城县的报表"),
        (("report", "--period", "2024Q1", "--area", "12"), "区划代码“12”不存在"),
    ],
)
def test_failures_exit_non_zero_with_a_message(areas, args, message):
    code, summary = run(*args)
    assert code == 1
    assert summary["ok"] is False and message in summary["error"]
