"""Area scoping through the API and the pages: outside the user's area is a 404."""

import pytest
from rest_framework.authtoken.models import Token

from apps.core.api import AreaScopedViewSetMixin
from config.api import router
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B


def test_every_api_viewset_reads_through_the_area_scope():
    for _prefix, viewset, _basename in router.registry:
        assert issubclass(viewset, AreaScopedViewSetMixin), viewset
        assert "get_queryset" not in vars(viewset), f"{viewset.__name__} bypasses the scope"


def test_township_clerk_lists_only_own_township(api_client, township_clerk):
    api_client.force_authenticate(township_clerk)
    response = api_client.get("/api/v1/areas/", {"page_size": 500})
    assert response.status_code == 200
    codes = [a["code"] for a in response.json()["results"]]
    assert response.json()["count"] == 1 + 40
    assert codes[0] == TOWNSHIP_A
    assert all(code.startswith("131025100") for code in codes)


def test_object_in_another_township_is_a_404_through_the_api(api_client, township_clerk):
    api_client.force_authenticate(township_clerk)
    assert api_client.get(f"/api/v1/areas/{VILLAGE_A}/").status_code == 200
    assert api_client.get(f"/api/v1/areas/{VILLAGE_B}/").status_code == 404
    assert api_client.get(f"/api/v1/areas/{TOWNSHIP_B}/").status_code == 404
    assert api_client.get(f"/api/v1/areas/{COUNTY}/").status_code == 404


def test_object_in_another_township_is_a_404_through_a_page(client, township_clerk):
    client.force_login(township_clerk)
    own = client.get(f"/areas/{VILLAGE_A}/")
    assert own.status_code == 200
    assert "南潘庄村委会" in own.content.decode()
    assert client.get(f"/areas/{VILLAGE_B}/").status_code == 404
    assert client.get(f"/history/areas.Area/{VILLAGE_B}/").status_code == 404


def test_county_viewer_sees_the_whole_county(api_client, county_viewer):
    api_client.force_authenticate(county_viewer)
    response = api_client.get("/api/v1/areas/", {"level": "township"})
    assert response.json()["count"] == 10
    assert api_client.get(f"/api/v1/areas/{VILLAGE_B}/").status_code == 200


def test_filters_and_bad_filter_values(api_client, county_viewer):
    api_client.force_authenticate(county_viewer)
    within = api_client.get("/api/v1/areas/", {"within": TOWNSHIP_B, "level": "village"})
    assert within.json()["count"] == 40
    bad = api_client.get("/api/v1/areas/", {"within": "13102"})
    assert bad.status_code == 400
    assert bad.json() == {"within": ["区划代码应为12位数字"]}
    assert api_client.get("/api/v1/areas/", {"level": "planet"}).status_code == 400
    assert api_client.get("/api/v1/areas/", {"page": "x"}).status_code == 404


def test_anonymous_requests_are_refused(api_client, areas):
    assert api_client.get("/api/v1/areas/").status_code in (401, 403)


def test_token_auth(api_client, township_clerk):
    token = Token.objects.create(user=township_clerk)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get(f"/api/v1/areas/{VILLAGE_A}/").status_code == 200
    assert api_client.get(f"/api/v1/areas/{VILLAGE_B}/").status_code == 404


def test_token_endpoint_issues_a_token_for_valid_credentials(api_client, township_clerk):
    from tests.conftest import PASSWORD

    ok = api_client.post("/api/v1/auth/token/", {"username": "clerk_a", "password": PASSWORD})
    assert ok.status_code == 200 and len(ok.json()["token"]) == 40
    bad = api_client.post("/api/v1/auth/token/", {"username": "clerk_a", "password": "nope"})
    assert bad.status_code in (400, 403, 429)


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_openapi_schema_and_docs(client, county_viewer, path):
    client.force_login(county_viewer)
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    if path == "/api/schema/":
        assert "/api/v1/areas/" in body
    else:
        assert "cdn" not in body.lower()  # assets come from the sidecar package, served locally


def test_area_list_page_is_paginated_and_filtered(client, county_viewer):
    client.force_login(county_viewer)
    first = client.get("/areas/", {"level": "village"}).content.decode()
    assert "第 1 / 8 页，共 400 条" in first
    assert "南潘庄村委会" in first
    last = client.get("/areas/", {"level": "village", "page": 8}).content.decode()
    assert "南潘庄村委会" not in last and "上一页" in last
