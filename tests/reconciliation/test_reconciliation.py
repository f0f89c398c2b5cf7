"""部门数据比对 on a hand-built county (issue 17): the hospitals' and the police's lists imported through the
import engine, matched to the registry, the two worklists, the ambiguous case and its review, the
capture–recapture estimate against hand computation, and the area scope of pages, API and imports.

The county, year 2024 (T-A = 平舒镇, T-B = the second township):

| mother | township | registry births        | hospital (出生医学证明)   | police (户籍登记)        |
|--------|----------|------------------------|---------------------------|--------------------------|
| m1     | A        | girl 03-10             | girl 03-10                | girl 03-10, child's ID   |
| m2     | A        | boy 04-01              | boy 04-03 (2 days off)    | –                        |
| m3     | A        | boy 05-05              | –                         | –                        |
| m4     | A        | twin girls 06-06       | two girls 06-06           | –                        |
| m5     | A        | –                      | boy 07-07                 | boy 07-08, no child's ID |
| m6     | A        | boy 08-08              | girl 08-08 (sex differs)  | –                        |
| m7     | B        | girl 02-02             | girl 02-02                | –                        |
| m8     | B        | –                      | boy 09-09                 | –                        |
"""

from __future__ import annotations

import contextlib
import csv
import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from apps.areas.models import Area
from apps.core.idnumbers import check_digit
from apps.imports.models import ImportJob
from apps.reconciliation.models import MatchStatus, MatchTolerance, OutsideBirth, Source
from apps.registry.services import ChildData, birth_record
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B
from tests.registry.conftest import make_person  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

HOSPITAL = ["出生医学证明编号", "母亲身份证号", "婴儿性别", "出生日期", "医院"]
POLICE = ["婴儿身份证号", "母亲身份证号", "婴儿性别", "出生日期", "户籍登记日期", "派出所"]
NOT_IN_SCOPE = "在您的管辖范围内没有该身份证号的人员"


def _csv(path, header, rows) -> str:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def _import(kind: str, path: str, user: str, *flags: str) -> dict:
    out = StringIO()
    with contextlib.suppress(SystemExit):
        call_command("import_sheet", kind, path, "--user", user, *flags, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def _child_number(born: date, sex: str) -> str:
    first17 = f"131025{born:%Y%m%d}05{1 if sex == 'M' else 2}"
    return first17 + check_digit(first17)


@pytest.fixture
def county(tmp_path, settings, make_user, make_person):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path
    # The tolerance in force (dated data; the data migration's row, which a flushing test elsewhere may remove).
    MatchTolerance.objects.get_or_create(days=3, valid_from=date(1990, 1, 1))
    make_user("clerk_a", TOWNSHIP_A, "township_clerk")
    make_user("clerk_b", TOWNSHIP_B, "township_clerk")
    make_user("admin", COUNTY, "county_admin")
    village_a, village_b = Area.objects.get(code=VILLAGE_A), Area.objects.get(code=VILLAGE_B)
    m = {}
    for i in range(1, 9):
        m[i] = make_person(f"母亲{i}", "F", date(1990, 1, i), village=VILLAGE_A if i <= 6 else VILLAGE_B)

    def born(mother, on, sex, village=village_a):
        return birth_record(mother=mother, on=on, village=village, by=None, confirmed=True,
                            child_data=ChildData(name=f"{mother.name}之子女", sex=sex))  # fmt: skip

    births = {
        "m1": born(m[1], date(2024, 3, 10), "F"),
        "m2": born(m[2], date(2024, 4, 1), "M"),
        "m3": born(m[3], date(2024, 5, 5), "M"),
        "m4a": born(m[4], date(2024, 6, 6), "F"),
        "m4b": born(m[4], date(2024, 6, 6), "F"),
        "m6": born(m[6], date(2024, 8, 8), "M"),
        "m7": born(m[7], date(2024, 2, 2), "F", village_b),
    }
    n = {i: p.id_number for i, p in m.items()}
    hospital_a = _csv(tmp_path / "hospital_a.csv", HOSPITAL, [
        ["H001", n[1], "女", "2024-03-10", "县医院"],
        ["H002", n[2], "男", "2024-04-03", "县医院"],
        ["H003", n[4], "女", "2024-06-06", "县妇幼保健院"],
        ["H004", n[4], "女", "2024-06-06", "县妇幼保健院"],
        ["H005", n[5], "男", "2024-07-07", "县医院"],
        ["H006", n[6], "女", "2024-08-08", "县医院"],
    ])  # fmt: skip
    hospital_b = _csv(tmp_path / "hospital_b.csv", HOSPITAL, [
        ["H101", n[7], "女", "2024-02-02", "县医院"],
        ["H102", n[8], "男", "2024-09-09", "县医院"],
    ])  # fmt: skip
    police_a = _csv(tmp_path / "police_a.csv", POLICE, [
        [_child_number(date(2024, 3, 10), "F"), n[1], "女", "2024-03-10", "2024-04-01", "平舒派出所"],
        ["", n[5], "男", "2024-07-08", "2024-08-01", "平舒派出所"],
    ])  # fmt: skip
    summaries = [
        _import("hospital_births", hospital_a, "clerk_a"),
        _import("hospital_births", hospital_b, "clerk_b"),
        _import("police_births", police_a, "clerk_a"),
    ]
    return {"mothers": m, "births": births, "numbers": n, "summaries": summaries,
            "files": {"hospital_a": hospital_a, "police_a": police_a}}  # fmt: skip


def _status(source, key):
    return OutsideBirth.objects.get(source=source, key=key)


def test_imports_match_one_to_one_and_send_the_twins_to_review(county):
    assert [s["created"] for s in county["summaries"]] == [6, 2, 2]
    assert all(s["errors"] == 0 for s in county["summaries"])
    births = county["births"]
    for key, birth in (("H001", "m1"), ("H002", "m2"), ("H101", "m7")):
        record = _status(Source.HOSPITAL, key)
        assert (record.status, record.birth_id) == (MatchStatus.MATCHED, births[birth].pk)
    for key in ("H003", "H004"):  # twins of one sex: each certificate has both girls as candidates
        record = _status(Source.HOSPITAL, key)
        assert (record.status, record.birth_id, record.candidates) == (MatchStatus.AMBIGUOUS, None, 2)
    for key in ("H005", "H006", "H102"):
        assert _status(Source.HOSPITAL, key).status == MatchStatus.UNMATCHED
    police = {r.mother_id: r for r in OutsideBirth.objects.filter(source=Source.POLICE)}
    assert police[county["mothers"][1].pk].birth_id == births["m1"].pk
    assert police[county["mothers"][5].pk].status == MatchStatus.UNMATCHED
    # A re-import of the same file changes nothing.
    again = _import("hospital_births", county["files"]["hospital_a"], "clerk_a")
    assert (again["rows"], again["created"], again["updated"], again["errors"]) == (6, 0, 0, 0)


def test_worklists_per_township(county, client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="clerk_a"))
    page = client.get("/reconciliation/worklists/", {"list": "register", "year": 2024})
    register = [(r.source, r.mother.name, r.date) for r, _ in page.context["rows"]]
    assert register == [
        ("hospital", "母亲5", date(2024, 7, 7)),
        ("police", "母亲5", date(2024, 7, 8)),
        ("hospital", "母亲6", date(2024, 8, 8)),
    ]
    # Masked for nobody here: a township clerk enters records and sees full numbers.
    verify = client.get("/reconciliation/worklists/", {"list": "verify", "year": 2024}).context["rows"]
    births = county["births"]
    assert [b.pk for b, _ in verify] == [births[k].pk for k in ("m3", "m4a", "m4b", "m6")]
    client.force_login(get_user_model().objects.get(username="clerk_b"))
    register_b = client.get("/reconciliation/worklists/", {"list": "register", "year": 2024}).context["rows"]
    assert [r.mother.name for r, _ in register_b] == ["母亲8"]
    assert client.get("/reconciliation/worklists/", {"list": "verify", "year": 2024}).context["rows"] == []


def _row(payload, code):
    return next(r for r in payload if r["area"] == code)


def test_capture_recapture_estimate_equals_hand_computation(county, api_client):
    from django.contrib.auth import get_user_model

    api_client.force_authenticate(get_user_model().objects.get(username="admin"))
    data = api_client.get("/api/v1/reconciliation/estimates/", {"year": 2024, "area": COUNTY}).json()
    a, b, total = _row(data, TOWNSHIP_A), _row(data, TOWNSHIP_B), _row(data, COUNTY)
    # T-A: n1 = 6 registry births, n2 = 6 certificates, m = 2 (the twins wait for review).
    assert (a["registered"], a["hospital"], a["matched"]) == (6, 6, 2)
    assert a["estimate"] == pytest.approx(7 * 7 / 3 - 1)  # 15.333…
    assert a["variance"] == pytest.approx(7 * 7 * 4 * 4 / (3**2 * 4))  # 21.777…
    half = 1.959964 * (784 / 36) ** 0.5  # 9.1466
    # 46/3 − 9.15 = 6.19 is fewer than the 10 births seen (6 + 6 − 2): the interval starts at 10.
    assert (a["low"], a["high"]) == (10, pytest.approx(46 / 3 + half))
    assert a["high"] == pytest.approx(24.4800, abs=1e-3)
    assert (a["completeness_low"], a["completeness_high"]) == (pytest.approx(600 / (46 / 3 + half)), 60)
    assert a["completeness"] == pytest.approx(6 / (46 / 3) * 100)  # 39.13 %
    # T-B: n1 = 1, n2 = 2, m = 1: N̂ = 2·3/2 − 1 = 2 with no variance; both seen, so the interval is [2, 2].
    assert (b["estimate"], b["variance"], b["low"], b["high"]) == (2, 0, 2, 2)
    assert b["completeness"] == pytest.approx(50)
    # The county: the sum of its townships' estimates and variances.
    assert (total["registered"], total["hospital"], total["matched"]) == (7, 8, 3)
    assert total["estimate"] == pytest.approx(46 / 3 + 2)
    assert total["variance"] == pytest.approx(784 / 36)
    assert total["low"] == 12  # 52/3 − 9.15 = 8.19 < 12 births seen (7 + 8 − 3)
    assert total["high"] == pytest.approx(52 / 3 + half)


def test_the_ambiguous_twins_reviewed_by_a_clerk(county, client):
    from django.contrib.auth import get_user_model

    from apps.core.audit import LABELS  # noqa: F401 (the audit trail exists for the model)

    clerk = get_user_model().objects.get(username="clerk_a")
    client.force_login(clerk)
    page = client.get("/reconciliation/review/")
    items = page.context["items"]
    births = county["births"]
    assert [(r.key, [b.pk for b in c]) for r, _, c in items] == [
        ("H003", [births["m4a"].pk, births["m4b"].pk]),
        ("H004", [births["m4a"].pk, births["m4b"].pk]),
    ]
    h003, h004 = (r for r, _, _ in items)
    # A birth that is not a candidate is refused and nothing changes.
    response = client.post("/reconciliation/review/decide/", {"record": h003.pk, "birth": births["m3"].pk}, follow=True)
    assert "所选出生登记不是该记录的候选登记" in response.content.decode()
    assert _status(Source.HOSPITAL, "H003").status == MatchStatus.AMBIGUOUS
    # Picking the first twin for H003 leaves H004 one candidate: matched by the rule.
    client.post("/reconciliation/review/decide/", {"record": h003.pk, "birth": births["m4a"].pk})
    h003, h004 = _status(Source.HOSPITAL, "H003"), _status(Source.HOSPITAL, "H004")
    assert (h003.status, h003.birth_id, h003.reviewed_by_id) == (MatchStatus.PICKED, births["m4a"].pk, clerk.pk)
    assert (h004.status, h004.birth_id) == (MatchStatus.MATCHED, births["m4b"].pk)
    # Audited: the pick is an update event of the record with the clerk in its context.
    event = h003.events.filter(pgh_label="update").order_by("pgh_id").last()
    assert event.status == "picked" and event.pgh_context.metadata["user"] == clerk.pk
    # The estimate now counts the twins as matched: m = 4, N̂ = 7·7/5 − 1 = 8.8.
    data = client.get("/api/v1/reconciliation/estimates/", {"year": 2024}).json()
    assert data[0]["matched"] == 4 and data[0]["estimate"] == pytest.approx(8.8)
    assert data[0]["variance"] == pytest.approx(7 * 7 * 2 * 2 / (5**2 * 6))
    verify = client.get("/reconciliation/worklists/", {"list": "verify", "year": 2024}).context["rows"]
    assert [b.pk for b, _ in verify] == [births["m3"].pk, births["m6"].pk]
    # Marking none is also possible (and undoes the pick).
    client.post("/reconciliation/review/decide/", {"record": h003.pk, "birth": ""})
    assert _status(Source.HOSPITAL, "H003").status == MatchStatus.NONE


def test_area_scope_of_pages_api_and_imports(county, client, api_client, tmp_path):
    from django.contrib.auth import get_user_model

    clerk_b = get_user_model().objects.get(username="clerk_b")
    h003 = _status(Source.HOSPITAL, "H003")  # township A's
    client.force_login(clerk_b)
    assert client.post("/reconciliation/review/decide/", {"record": h003.pk, "birth": ""}).status_code == 404
    assert _status(Source.HOSPITAL, "H003").status == MatchStatus.AMBIGUOUS
    assert client.get("/reconciliation/", {"area": TOWNSHIP_A}).status_code == 404
    assert client.get("/reconciliation/review/").context["items"] == []
    api_client.force_authenticate(clerk_b)
    listed = api_client.get("/api/v1/reconciliation/records/").json()["results"]
    assert sorted(r["certificate_number"] for r in listed) == ["H101", "H102"]
    assert api_client.get("/api/v1/reconciliation/estimates/", {"area": TOWNSHIP_A}).status_code == 404
    # Township A's clerk imports a certificate of township B's mother: refused, naming nothing of her.
    m7 = county["mothers"][7]
    path = _csv(tmp_path / "other.csv", HOSPITAL, [["H900", m7.id_number, "女", "2024-02-02", "县医院"]])
    before = OutsideBirth.objects.count()
    summary = _import("hospital_births", path, "clerk_a")
    assert (summary["created"], summary["errors"]) == (0, 1)
    job = ImportJob.objects.order_by("-pk").first()
    assert job.first_errors == [{"row": 2, "column": "母亲身份证号", "message": NOT_IN_SCOPE}]
    assert m7.name not in json.dumps(job.first_errors, ensure_ascii=False)
    assert OutsideBirth.objects.count() == before


def test_dry_run_and_row_errors_change_nothing(county, tmp_path):
    n = county["numbers"]
    path = _csv(tmp_path / "bad.csv", POLICE, [
        ["", n[3], "男", "2024-05-05", "2024-05-20", "平舒派出所"],
        ["", n[3], "未知", "2024-05-05", "2024-05-20", "平舒派出所"],
        [_child_number(date(2024, 5, 5), "M"), n[3], "男", "2024-05-05", "2024-05-01", "平舒派出所"],
    ])  # fmt: skip
    before = OutsideBirth.objects.count()
    summary = _import("police_births", path, "clerk_a", "--dry-run")
    assert (summary["rows"], summary["created"], summary["errors"]) == (3, 1, 2)
    job = ImportJob.objects.order_by("-pk").first()
    assert [(e["row"], e["column"]) for e in job.first_errors] == [(3, "婴儿性别"), (4, "户籍登记日期")]
    assert job.first_errors[1]["message"] == "户籍登记日期2024-05-01早于出生日期2024-05-05"
    assert OutsideBirth.objects.count() == before
    committed = _import("police_births", path, "clerk_a", "--valid-rows-only")
    assert committed["created"] == 1
    record = OutsideBirth.objects.get(source=Source.POLICE, mother=county["mothers"][3])
    assert (record.status, record.birth_id) == (MatchStatus.MATCHED, county["births"]["m3"].pk)
