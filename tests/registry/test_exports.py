"""The persons list as Excel: scoped to the user's area, ID numbers and phones masked by role."""

import io
from datetime import date

from openpyxl import load_workbook

from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_B


def _rows(response):
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    return [[c.value for c in row] for row in sheet.iter_rows()][2:]  # the header and the rows, under the title


def test_export_is_scoped_and_masked_by_role(client, make_person, make_user):
    a = make_person("甲芳", "F", date(1990, 1, 1), phone="13812345678")
    make_person("乙芳", "F", date(1991, 1, 1), village=VILLAGE_B)
    clerk = make_user("clerk", TOWNSHIP_A, "township_clerk")
    viewer = make_user("viewer", COUNTY, "county_viewer")

    client.force_login(clerk)
    response = client.get("/registry/persons/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _rows(response)
    assert rows[0][:4] == ["身份证号", "姓名", "性别", "出生日期"]
    assert [r[1] for r in rows[1:]] == ["甲芳"]
    # Masked by default, even for a clerk who works with full numbers.
    assert rows[1][0] == a.id_number[:6] + "********" + a.id_number[-4:] and rows[1][11] == "138****5678"
    # Full numbers only with a stated purpose.
    response = client.post("/registry/persons/export/full/", {"purpose": "报送县公安局核对户籍信息"})
    assert response.status_code == 200
    rows = _rows(response)
    assert rows[1][0] == a.id_number and rows[1][11] == "13812345678"

    client.force_login(viewer)
    assert client.get("/registry/persons/export/full/").status_code == 403  # no role with need (role matrix)
    rows = _rows(client.get("/registry/persons/export/"))
    assert sorted(r[1] for r in rows[1:]) == ["乙芳", "甲芳"]
    first = next(r for r in rows[1:] if r[1] == "甲芳")
    assert first[0] == a.id_number[:6] + "********" + a.id_number[-4:]
    assert first[11] == "138****5678"
    assert first[2] == "女"

    only_b = _rows(client.get("/registry/persons/export/", {"area": VILLAGE_B}))
    assert [r[1] for r in only_b[1:]] == ["乙芳"]
    assert client.get("/registry/persons/export/", {"area": "bad"}).status_code == 404
