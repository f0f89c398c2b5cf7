"""Loading the scheme file: 370 + 630 = 1000, refusal of schemes that do not add up, versions, freezing."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction

from apps.core.errors import RuleViolation
from apps.scoring.models import AdjustmentRule, Scheme, SchemeItem, SchemeStatus
from apps.scoring.services import scheme_load, scheme_publish
from tests.scoring.conftest import SCHEME_FILE, SCHEME_TEXT

pytestmark = pytest.mark.django_db


def _run(*args) -> tuple[dict, int]:
    out = StringIO()
    code = 0
    try:
        call_command("load_scheme", *args, stdout=out)
    except SystemExit as exc:
        code = exc.code
    return json.loads(out.getvalue().strip().splitlines()[-1]), code


def test_shared_scheme_loads_to_370_plus_630_equals_1000():
    summary, code = _run(str(SCHEME_FILE))
    assert code == 0
    assert summary["ok"] is True
    assert summary["lines"] == {"party_gov": 370, "pfp": 630}
    assert summary["total_points"] == 1000
    assert summary["status"] == "published" and summary["version"] == 1
    scheme = Scheme.objects.get()
    leaves = SchemeItem.objects.filter(scheme=scheme).exclude(method="group")
    assert sum(i.points for i in leaves) == 1000
    veto = SchemeItem.objects.get(scheme=scheme, code="pg.basic_indicators")
    assert (veto.points, veto.method, veto.indicator_code, veto.veto) == (100, "indicator", "policy_compliance_rate",
                                                                          "exclude_unit")  # fmt: skip
    linear = SchemeItem.objects.get(scheme=scheme, code="pfp.informatisation.whole_population")
    assert (linear.scoring, linear.floor, linear.line.code) == ("linear", 86, "pfp")
    births = AdjustmentRule.objects.get(scheme=scheme, code="reported_out_of_policy_birth")
    assert (births.direction, births.kind, births.points, births.unreported_multiplier) == ("deduction", "per_case",
                                                                                           5, 2)  # fmt: skip
    assert AdjustmentRule.objects.get(scheme=scheme, code="experience").tiers == [5, 7, 10]


def test_loading_the_same_file_again_changes_nothing_and_a_changed_file_is_a_new_version():
    _run(str(SCHEME_FILE))
    again, _ = _run(str(SCHEME_FILE))
    assert again["created"] is False and again["version"] == 1
    changed = SCHEME_TEXT.replace("name: 统筹决策", "name: 统筹决策（修订）")
    result = scheme_load(text=changed)
    assert result.created and result.scheme.version == 2
    assert Scheme.objects.count() == 2


def test_a_parent_whose_children_do_not_add_up_is_refused_naming_the_item(tmp_path):
    bad = SCHEME_TEXT.replace(
        "{code: pg.comprehensive.sex_ratio, name: 出生人口性别比升高综合治理, points: 10",
        "{code: pg.comprehensive.sex_ratio, name: 出生人口性别比升高综合治理, points: 15",
    )
    path = tmp_path / "bad.yaml"
    path.write_text(bad, encoding="utf-8")
    summary, code = _run(str(path))
    assert code == 1
    assert summary == {
        "ok": False,
        "error": "项目「party_gov/pg.comprehensive（综合治理）」的分值为70分，但其下级项目合计为75分，两者必须相等",
    }
    assert Scheme.objects.count() == 0 and SchemeItem.objects.count() == 0


def test_a_line_that_does_not_add_up_is_refused():
    bad = SCHEME_TEXT.replace("    name: 人口计生线\n    points: 630", "    name: 人口计生线\n    points: 640")
    with pytest.raises(RuleViolation) as exc:
        scheme_load(text=bad)
    assert exc.value.message == "项目「pfp（人口计生线）」的分值为640分，但其下级项目合计为630分，两者必须相等"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("scoring: linear\n            floor: 80\n", "scoring: linear\n",
         "项目「pfp/pfp.enforcement/pfp.enforcement.only_child_reward（独生子女父母奖励费落实率）」为线性计分，须指定零分线（floor）"),
        ("veto: exclude_unit\n      - code: pg.planning", "veto: everything\n      - code: pg.planning",
         "项目「party_gov/pg.basic_indicators（基本人口指标（出生政策符合率控制在下达指标内））」的一票否决方式「everything」无效，应为exclude_unit、zero_line或zero_item"),
        ("kind: range, min: 10, max: 30", "kind: sliding",
         "扣分项目「cross_level_petition（工作不当造成越级上访）」的计分方式「sliding」无效，应为fixed、tiered、range或per_case"),
        ("indicator: sex_ratio_at_birth", "indicator: happiness",
         "项目「pfp/pfp.comprehensive/pfp.comprehensive.sex_ratio（关爱女孩行动、出生人口性别比综合治理）」的指标代码「happiness」不是已定义的指标"),
        ("lines:\n", "lines: [\n", "考核方案文件不是有效的YAML格式（第25行）"),
    ],
)  # fmt: skip
def test_malformed_schemes_are_refused_with_a_message(old, new, message):
    assert old in SCHEME_TEXT
    with pytest.raises(RuleViolation) as exc:
        scheme_load(text=SCHEME_TEXT.replace(old, new, 1))
    assert exc.value.message == message
    assert Scheme.objects.count() == 0


def test_a_published_scheme_is_frozen_in_the_database():
    scheme = scheme_load(text=SCHEME_TEXT).scheme
    assert scheme.status == SchemeStatus.PUBLISHED
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        Scheme.objects.filter(pk=scheme.pk).update(name="改过的名称")
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        SchemeItem.objects.filter(scheme=scheme, code="pg.planning").update(points=30)
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        Scheme.objects.filter(pk=scheme.pk).delete()
    with pytest.raises(RuleViolation, match="已发布"):
        scheme_publish(scheme=scheme)
    scheme.refresh_from_db()
    assert scheme.name == "镇（街道）人口和计划生育目标管理责任制考核评估办法"


def test_a_draft_can_be_published_once():
    scheme = scheme_load(text=SCHEME_TEXT, publish=False).scheme
    assert scheme.status == SchemeStatus.DRAFT
    Scheme.objects.filter(pk=scheme.pk).update(name="草稿可改")  # a draft is not frozen
    scheme.refresh_from_db()
    scheme_publish(scheme=scheme)
    assert Scheme.objects.get(pk=scheme.pk).status == SchemeStatus.PUBLISHED
