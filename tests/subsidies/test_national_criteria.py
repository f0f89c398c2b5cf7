"""奖扶 per the national criteria (issue 14): both spouses agricultural hukou, living children rather than births,
out-of-policy births counted only in 1973–2001, aged 60+ — each on hand-built families, with the reason a
reviewer reads. The roster of 2025 is reckoned on 2025-12-31."""

from __future__ import annotations

from datetime import date

import pytest

from apps.core.errors import RuleViolation
from apps.registry.models import Birth, Person
from apps.registry.services import birth_policy_override, marriage_record
from apps.subsidies.eligibility import predicates_validate
from apps.subsidies.services import rosters_generate
from tests.subsidies.conftest import entries_of

pytestmark = pytest.mark.django_db

OLD = date(1955, 3, 1)  # 70 at the end of 2025
OLDER = date(1953, 3, 1)


@pytest.fixture
def rural_reward(programme):
    def run() -> dict:
        rosters_generate(programme=programme("rural_reward"), period="2025", by=None)
        return entries_of("rural_reward", "2025")

    return run


def _urban(person: Person) -> None:
    Person.objects.filter(pk=person.pk).update(hukou_type="non_agricultural")


def _permitted(child: Person) -> None:
    """A second child born under a permit (再生育审批): in policy."""
    birth_policy_override(birth=Birth.objects.get(child=child), status="in_policy", reason="再生育审批已批准", by=None)


def test_a_rural_wife_of_an_urban_husband_is_not_eligible(make_family, rural_reward):
    married = make_family(surname="甲", father=OLDER, mother=OLD, children=[("M", date(1980, 1, 1))])
    _urban(married.father)
    marriage_record(wife=married.mother, husband=married.father, kind="marriage", on=date(1978, 5, 1), by=None)
    # No marriage on record: the child's father stands for the spouse.
    unrecorded = make_family(surname="乙", father=OLDER, mother=OLD, children=[("M", date(1980, 1, 1))])
    _urban(unrecorded.father)

    entries = rural_reward()

    assert entries == {}


def test_the_spouse_is_the_one_on_the_reference_date(make_family, rural_reward, kill):
    widowed = make_family(surname="丙", father=OLDER, mother=OLD, children=[("M", date(1980, 1, 1))])
    _urban(widowed.father)
    marriage_record(wife=widowed.mother, husband=widowed.father, kind="marriage", on=date(1978, 5, 1), by=None)
    kill(widowed.father, date(2010, 1, 1))  # a widow is judged on her own hukou
    divorced = make_family(surname="丁", father=OLDER, mother=OLD, children=[("M", date(1980, 1, 1))])
    _urban(divorced.father)
    marriage_record(wife=divorced.mother, husband=divorced.father, kind="marriage", on=date(1978, 5, 1), by=None)
    marriage_record(wife=divorced.mother, husband=divorced.father, kind="divorce", on=date(1990, 5, 1), by=None)

    entries = rural_reward()

    assert set(entries) == {"丙母", "丁母"}
    assert "配偶为农业户籍（或无配偶）" in entries["丙母"][2]


def test_living_children_count_not_births(make_family, rural_reward, kill):
    # The only child died; the couple then had a permitted second child: one living child.
    second = make_family(
        surname="戊", father=OLDER, mother=OLD, children=[("M", date(1980, 1, 1)), ("F", date(1995, 1, 1))]
    )
    kill(second.children[0], date(1990, 1, 1))
    _permitted(second.children[1])
    # A son and a daughter, both living: not eligible. The same family whose son died: one living daughter.
    make_family(surname="己", father=OLDER, mother=OLD, children=[("M", date(1980, 1, 1)), ("F", date(1983, 1, 1))])
    son_died = make_family(
        surname="庚", father=OLDER, mother=OLD, children=[("M", date(1980, 1, 1)), ("F", date(1983, 1, 1))]
    )
    kill(son_died.children[0], date(2000, 1, 1))
    _permitted(son_died.children[1])
    # Every child died: 子女死亡现无子女.
    none_left = make_family(surname="辛", father=OLDER, mother=OLD, children=[("F", date(1980, 1, 1))])
    kill(none_left.children[0], date(2005, 1, 1))
    # A child who dies after the reference date still counts as living on it.
    later = make_family(
        surname="壬", father=OLDER, mother=OLD, children=[("M", date(1980, 1, 1)), ("F", date(1983, 1, 1))]
    )
    kill(later.children[0], date(2026, 1, 1))

    entries = rural_reward()

    assert set(entries) == {"戊父", "戊母", "庚父", "庚母", "辛父", "辛母"}
    assert all(e[0] == "new" and e[1] == "960.00" for e in entries.values())
    assert "现存一个子女或两个女孩，或子女死亡现无子女" in entries["戊父"][2]


@pytest.mark.parametrize(("year", "eligible"), [(1972, True), (1973, False), (2001, False), (2002, True)], ids=str)
def test_out_of_policy_births_count_only_from_1973_to_2001(make_family, rural_reward, year, eligible):
    mother = date(min(year - 30, 1965), 1, 1)  # 60 or over at the end of 2025
    make_family(
        surname="癸", father=mother.replace(year=mother.year - 2), mother=mother,
        children=[("F", date(year - 2, 1, 1)), ("F", date(year, 6, 1))], out_of_policy=True,
    )  # fmt: skip
    entries = rural_reward()
    assert ("癸母" in entries) is eligible


def test_age_60_on_the_reference_date(make_family, rural_reward):
    make_family(surname="子", father=date(1965, 12, 31), mother=date(1966, 1, 1), children=[("M", date(1990, 1, 1))])
    assert set(rural_reward()) == {"子父"}


def test_a_beneficiary_whose_spouse_record_changes_leaves_with_the_reason(make_family, programme):
    family = make_family(surname="丑", father=OLDER, mother=OLD, children=[("M", date(1980, 1, 1))])
    marriage_record(wife=family.mother, husband=family.father, kind="marriage", on=date(1978, 5, 1), by=None)
    rosters_generate(programme=programme("rural_reward"), period="2025", by=None)
    _urban(family.father)  # the husband's hukou corrected to urban
    rosters_generate(programme=programme("rural_reward"), period="2026", by=None)
    entries = entries_of("rural_reward", "2026")
    assert entries["丑母"] == ("leaving", "0.00", ["配偶不是农业户籍"])
    assert entries["丑父"] == ("leaving", "0.00", ["不是农业户籍"])


def test_the_window_years_are_validated():
    spec = {"code": "no_out_of_policy_birth_between", "from_year": 1973, "to_year": 2001}
    assert predicates_validate([spec], subject="parent") == [spec]
    with pytest.raises(RuleViolation, match="年份"):
        predicates_validate([{**spec, "from_year": 73}], subject="parent")
    with pytest.raises(RuleViolation, match="起始年份不能晚于截止年份"):
        predicates_validate([{**spec, "from_year": 2002}], subject="parent")
    with pytest.raises(RuleViolation, match="不适用"):
        predicates_validate([{"code": "spouse_hukou", "type": "agricultural"}], subject="child")
