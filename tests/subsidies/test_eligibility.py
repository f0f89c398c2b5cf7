"""Each fixture programme's eligibility on hand-built families: edge ages, two daughters, reasons in Chinese."""

from __future__ import annotations

from datetime import date

import pytest

from apps.core.errors import RuleViolation
from apps.subsidies.eligibility import predicates_validate, reason_labels
from apps.subsidies.services import disability_record, rosters_generate
from tests.conftest import TOWNSHIP_B, VILLAGE_B
from tests.subsidies.conftest import entries_of, roster_of

RURAL_OK = [
    "农业户籍",
    "配偶为农业户籍（或无配偶）",
    "年满60周岁",
    "健在",
    "现存一个子女或两个女孩，或子女死亡现无子女",
    "1973至2001年间无政策外生育",
]


def test_rural_reward_age_60_exactly_on_the_period_date_and_two_daughters(make_family, programme):
    # 2025 is reckoned on 31 December 2025 (the programme's reference day is the period's end).
    make_family(surname="赵", father=date(1965, 12, 31), mother=date(1966, 1, 1), children=[("M", date(1990, 5, 1))])
    make_family(
        surname="钱", father=date(1960, 3, 1), mother=date(1962, 3, 1),
        children=[("F", date(1985, 1, 1)), ("F", date(1988, 1, 1))],
    )  # fmt: skip
    make_family(
        surname="孙", father=date(1960, 3, 1), mother=date(1962, 3, 1),
        children=[("M", date(1985, 1, 1)), ("F", date(1988, 1, 1))],
    )  # fmt: skip
    make_family(
        surname="李", father=date(1960, 3, 1), mother=date(1962, 3, 1),
        children=[("F", date(1985, 1, 1)), ("F", date(1988, 1, 1))], out_of_policy=True,
    )  # fmt: skip
    make_family(
        surname="周", father=date(1950, 1, 1), mother=date(1952, 1, 1), children=[("M", date(1980, 1, 1))],
        hukou="non_agricultural",
    )  # fmt: skip

    written = rosters_generate(programme=programme("rural_reward"), period="2025", by=None)

    assert written == 3
    assert entries_of("rural_reward", "2025") == {
        "赵父": ("new", "960.00", RURAL_OK),  # 60 exactly on 2025-12-31
        "钱父": ("new", "960.00", RURAL_OK),  # two daughters
        "钱母": ("new", "960.00", RURAL_OK),
    }
    # 赵母 turns 60 a day later, 孙 has a son and a daughter, 李's second daughter was out of policy, 周 is urban.


def test_rural_reward_mother_turning_60_the_next_year_is_new_and_father_continues(make_family, programme, kill):
    family = make_family(
        surname="赵", father=date(1965, 12, 31), mother=date(1966, 1, 1), children=[("M", date(1990, 5, 1))]
    )
    rosters_generate(programme=programme("rural_reward"), period="2025", by=None)
    rosters_generate(programme=programme("rural_reward"), period="2026", by=None)
    assert entries_of("rural_reward", "2026") == {
        "赵父": ("continuing", "960.00", RURAL_OK),
        "赵母": ("new", "960.00", RURAL_OK),
    }
    kill(family.father, date(2026, 3, 1))
    rosters_generate(programme=programme("rural_reward"), period="2026", by=None)  # a draft is regenerated
    assert entries_of("rural_reward", "2026")["赵父"] == ("leaving", "0.00", ["已死亡"])


def test_special_assistance_death_and_disability_with_mother_aged_49(make_family, programme, kill):
    # Reckoned on 2025-12-31: a mother born 1976-12-31 is exactly 49.
    died = make_family(
        surname="吴", father=date(1974, 5, 1), mother=date(1976, 12, 31), children=[("M", date(2000, 1, 1))]
    )
    kill(died.children[0], date(2020, 6, 1))
    young = make_family(
        surname="郑", father=date(1974, 5, 1), mother=date(1977, 1, 1), children=[("M", date(2000, 1, 1))]
    )
    kill(young.children[0], date(2020, 6, 1))
    disabled = make_family(
        surname="冯", father=date(1970, 5, 1), mother=date(1972, 2, 1), children=[("F", date(1995, 1, 1))]
    )
    disability_record(person=disabled.children[0], certificate_number="13102519950101002", grade=3,
                      recognised_on=date(2015, 1, 1), by=None)  # fmt: skip
    mild = make_family(
        surname="陈", father=date(1970, 5, 1), mother=date(1972, 2, 1), children=[("F", date(1995, 1, 1))]
    )
    disability_record(person=mild.children[0], certificate_number="13102519950101003", grade=4,
                      recognised_on=date(2015, 1, 1), by=None)  # fmt: skip

    rosters_generate(programme=programme("special_assistance"), period="2025", by=None)

    died_reasons = ["独生子女死亡", "女方年满49周岁", "健在"]
    disabled_reasons = ["独生子女三级以上伤残", "女方年满49周岁", "健在"]
    assert entries_of("special_assistance", "2025") == {
        "吴父": ("new", "7080.00", died_reasons),
        "吴母": ("new", "7080.00", died_reasons),
        "冯父": ("new", "5520.00", disabled_reasons),
        "冯母": ("new", "5520.00", disabled_reasons),
    }
    # 郑's mother is a day short of 49; 陈's daughter is fourth-grade disabled (三级以上 required).
    assert set(roster_of("special_assistance", "2025").entries.values_list("category", flat=True)) == {
        "独生子女死亡",
        "独生子女伤残",
    }


def test_only_child_parents_child_exactly_18_leaves(make_family, programme):
    # Monthly, reckoned on the first day of the month: on 2025-06-01 a child born 2007-06-01 is exactly 18.
    make_family(surname="褚", father=date(1980, 1, 1), mother=date(1982, 1, 1), children=[("M", date(2007, 6, 1))])
    make_family(surname="卫", father=date(1980, 1, 1), mother=date(1982, 1, 1), children=[("F", date(2007, 6, 2))])
    make_family(
        surname="蒋", father=date(1980, 1, 1), mother=date(1982, 1, 1),
        children=[("F", date(2010, 1, 1)), ("F", date(2012, 1, 1))],
    )  # fmt: skip

    rosters_generate(programme=programme("only_child_parents"), period="2025M05", by=None)
    rosters_generate(programme=programme("only_child_parents"), period="2025M06", by=None)

    reasons = ["只生育一个子女", "子女未满18周岁", "健在"]
    assert entries_of("only_child_parents", "2025M06") == {
        "褚父": ("leaving", "0.00", ["子女已满18周岁"]),
        "褚母": ("leaving", "0.00", ["子女已满18周岁"]),
        "卫父": ("continuing", "10.00", reasons),
        "卫母": ("continuing", "10.00", reasons),
    }


def test_childcare_is_paid_on_application_to_the_applicant_from_2025(make_family, programme):
    from apps.registry.models import Person
    from apps.subsidies.childcare_services import childcare_application_submit
    from tests.registry.conftest import make_id_number
    from tests.subsidies.conftest import card_number

    family = make_family(
        surname="沈", father=date(1990, 1, 1), mother=date(1992, 1, 1),
        children=[("M", date(2022, 6, 1)), ("F", date(2022, 6, 2)), ("F", date(2024, 2, 29))],
    )  # fmt: skip
    for child in family.children:
        Person.objects.filter(pk=child.pk).update(id_number=make_id_number(child.birth_date, child.sex))
        child.refresh_from_db()
    # No rule before 2025: the childcare subsidy starts on 2025-01-01.
    with pytest.raises(RuleViolation, match="没有有效的资格规则"):
        rosters_generate(programme=programme("childcare"), period="2024M12", by=None)
    # The father applies for the first child, the mother for the third; no one for the second.
    for child, parent, relationship, prefix in (
        (family.children[0], family.father, "father", "62281"),
        (family.children[2], family.mother, "mother", "62282"),
    ):
        childcare_application_submit(
            child_id_number=child.id_number, applicant_id_number=parent.id_number, relationship=relationship,
            applied_on=date(2025, 6, 10), bank_name="农商银行", account_number=card_number(prefix), by=None,
        )  # fmt: skip

    rosters_generate(programme=programme("childcare"), period="2025M06", by=None)

    entries = roster_of("childcare", "2025M06").entries.order_by("person__birth_date", "month")
    # By month from the birth month: the first child's last month is May 2025 (3 on 2025-06-01), paid back
    # with the months since January; the third child every month of 2025 so far; each to the applicant.
    assert [(e.person.name, e.month, e.payee_id, str(e.amount), e.change) for e in entries] == [
        *[("沈子1", f"2025M0{m}", family.father.pk, "300.00", "new") for m in range(1, 6)],
        *[("沈女3", f"2025M0{m}", family.mother.pk, "300.00", "new") for m in range(1, 7)],
    ]
    assert entries.last().reasons == ["未满3周岁", "健在", "户籍在本县", "父母或监护人已申领"]
    assert entries.first().reasons[-1] == "补发往月"


def test_a_beneficiary_who_moved_townships_leaves_one_roster_and_joins_the_other(make_family, programme):
    from apps.registry.services import move_record

    family = make_family(
        surname="韩", father=date(1960, 1, 1), mother=date(1961, 1, 1), children=[("M", date(1990, 1, 1))]
    )
    rosters_generate(programme=programme("rural_reward"), period="2025", by=None)
    move_record(
        person=family.father, kind="move_in", on=date(2026, 2, 1), origin_code=family.father.village_id,
        destination_code=VILLAGE_B, by=None,
    )  # fmt: skip
    rosters_generate(programme=programme("rural_reward"), period="2026", by=None)

    assert roster_of("rural_reward", "2026").entries.get(person=family.father).reasons == [
        "已迁往本县其他乡镇（在该乡镇名册中）"
    ]
    moved = roster_of("rural_reward", "2026", TOWNSHIP_B).entries.get(person=family.father)
    assert (moved.change, str(moved.amount)) == ("new", "960.00")


def test_predicates_are_validated_and_read_in_chinese():
    assert predicates_validate([{"code": "age_at_least", "years": 60}], subject="parent") == [
        {"code": "age_at_least", "years": 60}
    ]
    with pytest.raises(RuleViolation, match="未知的资格条件"):
        predicates_validate([{"code": "drop_table"}], subject="parent")
    with pytest.raises(RuleViolation, match="整数"):
        predicates_validate([{"code": "age_at_least", "years": "60; DROP"}], subject="parent")
    with pytest.raises(RuleViolation, match="不适用"):
        predicates_validate([{"code": "only_child"}], subject="child")
    assert reason_labels(["!hukou:agricultural", "not_found"]) == [
        "不是农业户籍",
        "登记信息中已无符合条件的记录（迁出本县或生育记录已更正）",
    ]


def test_a_submitted_roster_is_not_regenerated(make_family, programme, users):
    from apps.subsidies.services import roster_village_submit

    make_family(surname="杨", father=date(1960, 1, 1), mother=date(1961, 1, 1), children=[("M", date(1990, 1, 1))])
    rosters_generate(programme=programme("rural_reward"), period="2025", by=users["admin"])
    roster_village_submit(roster=roster_of("rural_reward", "2025"), by=users["village"], comment="已核实")
    with pytest.raises(RuleViolation, match="不能重新生成"):
        rosters_generate(programme=programme("rural_reward"), period="2025", by=users["admin"])
    with pytest.raises(RuleViolation, match="县级统一生成"):
        rosters_generate(programme=programme("rural_reward"), period="2025", by=users["reviewer"])
