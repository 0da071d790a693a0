"""/api/directory/: read endpoints with filters, opaque cursors, JSON errors, fixed queries."""

from __future__ import annotations

import pytest

from localsocial.directory.models import OrganisationType
from tests.api.problems import field_errors, problem
from tests.factories import AreaFactory, OrganisationFactory, ServiceFactory

pytestmark = pytest.mark.django_db

API = "/api/directory"


@pytest.fixture
def tree(db):
    trust = OrganisationFactory(name="Riverside NHS Trust", slug="riverside-trust", org_type=OrganisationType.NHS_TRUST,
                                ods_code="RJ1")
    hospital = OrganisationFactory(name="Riverside General Hospital", slug="riverside-general",
                                   org_type=OrganisationType.HOSPITAL, parent=trust, ods_code="RJ122", postcode="SE1 7EH")
    department = OrganisationFactory(name="Maternity", slug="maternity", org_type=OrganisationType.DEPARTMENT,
                                     parent=hospital)
    council = OrganisationFactory(name="Northgate Council", slug="northgate", org_type=OrganisationType.COUNCIL,
                                  gss_code="E09000028")
    council.areas_served.add(AreaFactory(gss_code="E09000028", name="Northgate"))
    ServiceFactory(organisation=department, name="Antenatal clinic", slug="antenatal", lgsl_id=None)
    ServiceFactory(organisation=hospital, name="Emergency department", slug="emergency")
    ServiceFactory(organisation=council, name="Bin collection", slug="bins", lgsl_id=524)
    ServiceFactory(organisation=council, name="Old library", slug="old-library", lgsl_id=524, is_active=False)
    return {"trust": trust, "hospital": hospital, "department": department, "council": council}


def _slugs(response):
    assert response.status_code == 200, response.content
    return [item["slug"] for item in response.json()["items"]]


def test_list_organisations_by_name(client, tree):
    body = client.get(f"{API}/organisations").json()
    assert [i["name"] for i in body["items"]] == [
        "Maternity", "Northgate Council", "Riverside General Hospital", "Riverside NHS Trust",
    ]
    first = body["items"][2]
    assert first == {
        "slug": "riverside-general", "name": "Riverside General Hospital", "type": "hospital", "type_label": "Hospital",
        "parent": "riverside-trust", "depth": 1, "ods_code": "RJ122", "gss_code": None, "postcode": "SE1 7EH",
        "url": "/directory/organisations/riverside-general/",
    }
    assert body["next_cursor"] is None
    assert body["previous_cursor"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=hospital", ["riverside-general"]),
        ("parent=riverside-trust", ["riverside-general"]),
        ("ods_code=rj122", ["riverside-general"]),
        ("gss_code=E09000028", ["northgate"]),
        ("q=riverside", ["riverside-general", "riverside-trust"]),
        ("q=se1", ["riverside-general"]),
        ("type=council&q=riverside", []),
    ],
)
def test_organisation_filters(client, tree, query, expected):
    assert _slugs(client.get(f"{API}/organisations?{query}")) == expected


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("type=spaceship", None),
        ("parent=nowhere", "no organisation with the slug 'nowhere'"),
        ("ods_code=R!", "ods_code is not valid"),
        ("gss_code=X1", "gss_code is not valid"),
        ("cursor=garbage", "cursor is not valid"),
        ("limit=0", None),
        ("limit=101", None),
    ],
)
def test_bad_filters_are_422_with_a_detail(client, tree, query, fragment):
    response = client.get(f"{API}/organisations?{query}")
    body = problem(response, 422, "invalid-request")
    if fragment:
        assert fragment in body["detail"]
    else:
        assert f"query:{query.split('=')[0]}" in field_errors(response), body


def test_cursor_pagination_walks_every_organisation_once(client, db):
    for n in range(25):
        OrganisationFactory(name=f"Org {n % 4}")
    seen, url, pages = [], f"{API}/organisations?limit=10", 0
    while url:
        body = client.get(url).json()
        seen += [item["slug"] for item in body["items"]]
        pages += 1
        url = f"{API}/organisations?limit=10&cursor={body['next_cursor']}" if body["next_cursor"] else None
    assert len(seen) == 25 == len(set(seen))
    assert pages == 3
    back = client.get(f"{API}/organisations?limit=10&cursor={body['previous_cursor']}").json()
    assert [item["slug"] for item in back["items"]] == seen[10:20]


def test_organisation_by_slug_with_children_areas_and_ancestors(client, tree):
    body = client.get(f"{API}/organisations/riverside-general").json()
    assert body["name"] == "Riverside General Hospital"
    assert body["ancestors"] == [{"slug": "riverside-trust", "name": "Riverside NHS Trust"}]
    assert [c["slug"] for c in body["children"]] == ["maternity"]
    assert body["more_children"] is False
    council = client.get(f"{API}/organisations/northgate").json()
    assert council["areas_served"] == [{"gss_code": "E09000028", "name": "Northgate", "area_type": "London borough"}]


def test_unknown_organisation_and_service_are_404_json(client, db):
    for url in (f"{API}/organisations/nope", f"{API}/services/nope"):
        response = client.get(url)
        assert "There is no" in problem(response, 404, "not-found")["detail"]


def test_services_of_an_organisation_include_its_subtree_unless_asked_not_to(client, tree):
    assert _slugs(client.get(f"{API}/services?organisation=riverside-trust")) == ["antenatal", "emergency"]
    assert _slugs(client.get(f"{API}/services?organisation=riverside-general&include_subtree=false")) == ["emergency"]
    assert _slugs(client.get(f"{API}/services?organisation=riverside-trust&include_subtree=false")) == []


def test_service_filters(client, tree):
    assert _slugs(client.get(f"{API}/services?lgsl_id=524")) == ["bins"]
    assert _slugs(client.get(f"{API}/services?lgsl_id=524&include_inactive=true")) == ["bins", "old-library"]
    assert _slugs(client.get(f"{API}/services?q=ANTENATAL")) == ["antenatal"]
    assert client.get(f"{API}/services?lgsl_id=abc").status_code == 422
    assert client.get(f"{API}/services?lgsl_id=0").status_code == 422
    assert client.get(f"{API}/services?organisation=nowhere").status_code == 422


def test_service_by_slug(client, tree):
    body = client.get(f"{API}/services/bins").json()
    assert body["organisation"] == {"slug": "northgate", "name": "Northgate Council"}
    assert body["lgsl_id"] == 524
    assert body["active"] is True
    assert body["url"] == "/directory/services/bins/"


@pytest.mark.parametrize("count", [10, 200])
def test_each_endpoint_is_a_fixed_number_of_queries(client, tree, django_assert_num_queries, count):
    for n in range(count):
        OrganisationFactory(parent=tree["hospital"], name=f"Ward {n:03d}")
        ServiceFactory(organisation=tree["hospital"], name=f"Clinic {n:03d}")
    with django_assert_num_queries(1):
        client.get(f"{API}/organisations?limit=100")
    with django_assert_num_queries(2):
        client.get(f"{API}/organisations?parent=riverside-general&limit=100")
    # organisation, areas, ancestors, children
    with django_assert_num_queries(4):
        body = client.get(f"{API}/organisations/riverside-general").json()
    assert len(body["children"]) == min(count + 1, 100)
    assert body["more_children"] is (count + 1 > 100)
    with django_assert_num_queries(2):
        client.get(f"{API}/services?organisation=riverside-trust&limit=100")
    with django_assert_num_queries(1):
        client.get(f"{API}/services/emergency")


def test_the_api_is_described_in_openapi(client, db):
    schema = client.get("/api/openapi.json").json()
    for path in ("/api/directory/organisations", "/api/directory/organisations/{slug}",
                 "/api/directory/services", "/api/directory/services/{slug}"):
        assert path in schema["paths"]
