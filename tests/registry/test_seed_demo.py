"""``seed_demo``: a deterministic demo county whose data keep the registry's rules (DESIGN §5, §8)."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.models import F

from apps.areas.models import Area
from apps.core.idnumbers import check_agreement, parse_id_number
from apps.registry.demo import TABLES
from apps.registry.models import Birth, ContraceptiveUse, Death, Marriage, Move, Person
from apps.registry.rules import births_recompute

AS_OF = "2025-06-30"
N = 2000


def _seed(*args: str) -> tuple[dict, list[str]]:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    lines = out.getvalue().strip().splitlines()
    return json.loads(lines[-1]), lines


def _fails(*args: str) -> dict:
    out = StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("seed_demo", *args, stdout=out)
    assert exc.value.code == 1
    return json.loads(out.getvalue().strip().splitlines()[-1])


def _rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def _snapshot() -> dict[str, list[tuple]]:
    """The county as a user sees it, without primary keys (those depend on the sequences)."""
    return {
        "persons": _rows(
            "SELECT id_number, name, sex, birth_date, p.village_id, hukou_type, marital_status, death_date, phone,"
            " h.number FROM registry_person p LEFT JOIN registry_household h ON h.id = p.household_id"
            " ORDER BY id_number"
        ),
        "births": _rows(
            "SELECT m.id_number, c.id_number, b.date, b.birth_order, b.policy_status, b.village_id, b.entered_on"
            " FROM registry_birth b JOIN registry_person m ON m.id = b.mother_id"
            " JOIN registry_person c ON c.id = b.child_id ORDER BY 2"
        ),
        "marriages": _rows(
            "SELECT w.id_number, h.id_number, kind, date FROM registry_marriage m"
            " JOIN registry_person w ON w.id = m.wife_id JOIN registry_person h ON h.id = m.husband_id ORDER BY 1, 4"
        ),
        "moves": _rows(
            "SELECT p.id_number, kind, date, origin_code, destination_code, certificate_number"
            " FROM registry_move m JOIN registry_person p ON p.id = m.person_id ORDER BY 1, 3"
        ),
        "contraception": _rows(
            "SELECT p.id_number, method, start_date, end_date FROM registry_contraceptiveuse c"
            " JOIN registry_person p ON p.id = c.person_id ORDER BY 1, 3"
        ),
        "permits": _rows(
            "SELECT number, kind, child_order, issued_on, valid_until FROM registry_birthpermit ORDER BY 1"
        ),
    }


def _empty_registry() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(t[0] for t in TABLES)} CASCADE")


@pytest.fixture
def county(db) -> dict:
    # Dated, so that the fixture is the same county whatever day the suite runs (a random 2,000-person county
    # has only a handful of births beyond the rules; this one has approvals for some of them).
    summary, _ = _seed("--persons", str(N), "--seed", "12", "--as-of", AS_OF)
    return summary


def test_summary_is_the_last_line_and_counts_every_table(county):
    assert county["ok"] is True
    assert county["persons"] == N and county["seed"] == 12
    assert county["areas_loaded"] == 411  # the demo areas were missing, so fixtures/areas_demo.csv was loaded
    counts = {table: _rows(f"SELECT count(*) FROM {table}")[0][0] for table, _, _ in TABLES}  # noqa: S608 - constants
    assert county["tables"] == counts
    assert Person.objects.count() == N
    assert county["seconds"] > 0
    for table in ("registry_household", "registry_marriage", "registry_birth", "registry_death", "registry_move"):
        assert county["tables"][table] > 0, table
    assert county["tables"]["registry_birthpermit"] > 0
    assert county["recompute_changed_births"] == 0
    # the registry's rules (residence, death, marital status) run over the copied rows and find nothing to change
    assert county["recompute_changed_persons"] == {"residence": 0, "death": 0, "marital_status": 0}


def test_every_id_number_is_valid_and_agrees_with_birth_date_and_sex(county):
    persons = list(Person.objects.values_list("id_number", "birth_date", "sex"))
    assert len(persons) == N
    for number, born, sex in persons:
        parsed = parse_id_number(number)
        assert parsed.number == number
        check_agreement(parsed, birth_date=born, sex=sex)


def test_every_person_lives_in_a_village_of_the_demo_county(county):
    villages = set(Area.objects.filter(level="village").values_list("code", flat=True))
    assert len(villages) == 400
    assert set(Person.objects.values_list("village_id", flat=True)) <= villages
    assert set(Person.objects.values_list("household__village_id", flat=True)) - {None} <= villages
    assert set(Birth.objects.values_list("village_id", flat=True)) <= villages


def test_birth_order_and_policy_status_are_what_the_services_compute(county):
    stored = sorted(Birth.objects.values_list("id", "birth_order", "policy_status", "policy_status_computed"))
    Birth.objects.update(birth_order=1, policy_status="in_policy", policy_status_computed="in_policy")
    births_recompute(mother_ids=Birth.objects.values_list("mother_id", flat=True))
    assert sorted(Birth.objects.values_list("id", "birth_order", "policy_status", "policy_status_computed")) == stored
    orders = {order for _, order, _, _ in stored}
    assert {1, 2, 3} <= orders
    out_of_policy = sum(status == "out_of_policy" for _, _, status, _ in stored)
    assert 0 < out_of_policy < len(stored) / 5
    assert county["out_of_policy_births"] == out_of_policy


def test_permits_make_some_births_beyond_the_rules_in_policy(county):
    covered = Birth.objects.filter(permit__kind="second_birth_approval")
    assert covered.exists()
    assert set(covered.values_list("policy_status", flat=True)) == {"in_policy"}


def test_sex_ratio_at_birth_is_plausible(county):
    boys = Birth.objects.filter(sex="M").count()
    girls = Birth.objects.filter(sex="F").count()
    assert boys + girls > 500
    assert 100 <= boys / girls * 100 <= 118
    # Children's sex agrees with the birth record and with the ID number's sex digit (checked above).
    assert not Birth.objects.exclude(sex=F("child__sex")).exists()


def test_residence_follows_the_latest_move_and_deaths_close_everything(county):
    county_villages = set(Area.objects.filter(level="village").values_list("code", flat=True))
    latest: dict[int, tuple] = {}
    for person_id, destination in Move.objects.order_by("person_id", "date", "id").values_list(
        "person_id", "destination_code"
    ):
        if destination in county_villages:
            latest[person_id] = destination
    villages = dict(Person.objects.filter(pk__in=latest).values_list("pk", "village_id"))
    assert villages == latest  # what person_sync_residence leaves after each move
    kinds = set(Move.objects.values_list("kind", flat=True))
    assert kinds == {"move_in", "move_out", "float_in", "float_out"}

    deaths = dict(Death.objects.values_list("person_id", "date"))
    assert deaths == dict(Person.objects.filter(death_date__isnull=False).values_list("pk", "death_date"))
    for use in ContraceptiveUse.objects.filter(person__death_date__isnull=False).select_related("person"):
        assert use.end_date is not None and use.end_date <= use.person.death_date
    assert not Move.objects.filter(date__gt=F("person__death_date")).exists()
    assert not Birth.objects.filter(date__gt=F("mother__death_date")).exists()


def test_events_cover_ten_years_up_to_the_reference_date(county):
    today = date.fromisoformat(AS_OF)
    start = date(today.year - 10, 1, 1)
    assert county["births_since"] == start.isoformat()
    death_dates = list(Death.objects.values_list("date", flat=True))
    assert min(death_dates) >= start and max(death_dates) <= today
    assert {d.year for d in death_dates} >= set(range(start.year, today.year))
    assert Birth.objects.filter(date__gte=start).count() == county["births_recent"] > 0
    assert not Move.objects.filter(date__gt=today).exists()
    assert not Marriage.objects.filter(date__gt=today).exists()
    assert not Birth.objects.filter(entered_on__gt=today).exists()


def test_the_rows_carry_the_seed_demo_audit_context(county):
    PersonEvent = apps.get_model("registry", "PersonEvent")
    events = PersonEvent.objects.filter(pgh_label="insert", pgh_obj_id__in=Person.objects.values("pk"))
    assert events.count() == N
    (metadata,) = events.values_list("pgh_context__metadata", flat=True).distinct()
    assert metadata["reason"] == "seed_demo" and metadata["seed"] == 12 and metadata["persons"] == N


def test_same_seed_gives_the_same_county_and_another_seed_another(db):
    first, _ = _seed("--persons", str(N), "--seed", "3", "--as-of", AS_OF)
    before = _snapshot()
    _empty_registry()
    again, _ = _seed("--persons", str(N), "--seed", "3", "--as-of", AS_OF)
    assert again["tables"] == first["tables"]
    assert _snapshot() == before

    _empty_registry()
    _seed("--persons", str(N), "--seed", "4", "--as-of", AS_OF)
    other = _snapshot()
    assert len(other["persons"]) == N
    assert not {p[0] for p in other["persons"]} & {p[0] for p in before["persons"]}


def test_if_empty_does_nothing_when_persons_exist(county):
    summary, lines = _seed("--persons", "50", "--seed", "1", "--if-empty")
    assert summary == {"ok": True, "skipped": True, "persons_existing": N, "seconds": 0.0}
    assert len(lines) == 1
    assert Person.objects.count() == N


def test_without_if_empty_a_registry_with_persons_is_refused(county):
    summary = _fails("--persons", "50", "--seed", "1")
    assert summary == {
        "ok": False,
        "error": f"人口库中已有{N}人，演示数据只能载入空库（已有数据时可加 --if-empty 跳过）",
    }
    assert Person.objects.count() == N


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--persons", "0"), "人数应为正整数"),
        (("--persons", "10", "--as-of", "2999-01-01"), "参考日期不能晚于今天"),
    ],
)
def test_bad_options_are_refused(db, args, error):
    assert _fails(*args) == {"ok": False, "error": error}
    assert not Person.objects.exists()


def test_a_tiny_county_has_exactly_the_persons_asked_for(db):
    summary, _ = _seed("--persons", "3", "--seed", "5", "--as-of", AS_OF)
    assert summary["tables"]["registry_person"] == Person.objects.count() == 3
