"""Searching the directory: by name, code or postcode, any case, organisations and services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from localsocial.directory.selectors import directory_search, postcode_prefix
from tests.directory.conftest import pagination_link
from tests.factories import OrganisationFactory, ServiceFactory

pytestmark = pytest.mark.django_db

SEARCH_QUERIES = 1  # one UNION query for the page of results


def _names(query: str, kind: str = "all") -> list[str]:
    return [r.name for r in directory_search(query=query, kind=kind, cursor=None, page_size=50).items]


@pytest.fixture
def directory(tree):
    tree.hospital.ods_code, tree.hospital.postcode = "RJ122", "SE1 7EH"
    tree.hospital.save()
    tree.council.gss_code, tree.council.postcode = "E09000028", "SE10 9AA"
    tree.council.save()
    ServiceFactory(organisation=tree.hospital, name="Riverside antenatal clinic", slug="antenatal", postcode="SE1 9RT")
    ServiceFactory(organisation=tree.council, name="Bin collection", slug="bins", ods_code="ABC12")
    ServiceFactory(organisation=tree.council, name="Riverside library (closed)", slug="old-library", is_active=False)
    return tree


def test_search_by_part_of_a_name_in_any_case_finds_organisations_and_services(directory):
    names = _names("RIVERSIDE")
    assert sorted(names) == ["Riverside General Hospital", "Riverside NHS Trust", "Riverside antenatal clinic"]
    # In name order (by character code), organisations and services together
    assert names == sorted(names)


def test_every_word_must_be_in_the_name(directory):
    assert _names("general riverside") == ["Riverside General Hospital"]
    assert _names("riverside council") == []


def test_search_by_ods_and_gss_code(directory):
    assert _names("rj122") == ["Riverside General Hospital"]
    assert _names("E09000028") == ["Northgate Council"]
    assert _names("ABC12") == ["Bin collection"]


def test_search_by_postcode_district_sector_and_full_postcode(directory):
    # "SE1" is the SE1 district, not SE10
    assert set(_names("se1")) == {"Riverside antenatal clinic", "Riverside General Hospital"}
    assert _names("SE10") == ["Northgate Council"]
    assert _names("se1 7") == ["Riverside General Hospital"]
    assert _names("se17eh") == ["Riverside General Hospital"]


def test_services_no_longer_provided_are_not_found(directory):
    assert "Riverside library (closed)" not in _names("library")


def test_search_can_be_narrowed_to_organisations_or_services(directory):
    assert _names("riverside", "organisations") == ["Riverside General Hospital", "Riverside NHS Trust"]
    assert _names("riverside", "services") == ["Riverside antenatal clinic"]


def test_postcode_prefixes():
    assert postcode_prefix("se1") == "SE1 "
    assert postcode_prefix("SE1 7") == "SE1 7"
    assert postcode_prefix("se17eh") == "SE1 7EH"
    assert postcode_prefix("riverside") is None
    assert postcode_prefix("E09000028") is None


def test_search_page_shows_results_with_their_kind(client, directory):
    html = client.get(reverse("directory:search"), {"q": "riverside"}).content.decode()
    assert "Results for “riverside”" in html
    assert 'href="/directory/services/antenatal/"' in html
    assert "Service from Riverside General Hospital" in html
    assert 'href="/directory/organisations/riverside-nhs-trust/"' in html
    assert "NHS trust" in html


def test_search_page_without_a_query_shows_just_the_form(client, db):
    response = client.get(reverse("directory:search"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" not in html
    assert "Results for" not in html


@pytest.mark.parametrize("query", ["", " ", "a"])
def test_too_short_a_search_is_an_error_on_the_field(client, db, query):
    html = client.get(reverse("directory:search"), {"q": query}).content.decode()
    assert "There is a problem" in html
    assert '<a href="#id_q">Enter at least 2 characters to search for</a>' in html
    assert "<title>Error: Search the directory" in html


def test_no_results_says_so_and_suggests_what_to_try(client, directory):
    html = client.get(reverse("directory:search"), {"q": "zzzz"}).content.decode()
    assert "Nothing in the directory matches “zzzz”." in html
    assert "check the spelling" in html


def test_search_results_are_paginated_and_keep_the_query(client, db):
    org = OrganisationFactory(name="Alpha")
    for n in range(15):
        OrganisationFactory(name=f"Library trust {n:02d}")
        ServiceFactory(organisation=org, name=f"Library {n:02d}")
    html = client.get(reverse("directory:search"), {"q": "library", "kind": "all"}).content.decode()
    next_url = pagination_link(html, "next")
    assert "q=library" in next_url
    assert "kind=all" in next_url
    seen = []
    while True:
        seen += [line for line in html.splitlines() if "govuk-!-font-weight-bold" in line and "Library" in line]
        next_url = pagination_link(html, "next")
        if not next_url:
            break
        html = client.get(next_url).content.decode()
    assert len(seen) == 30
    assert len(set(seen)) == 30


@pytest.mark.parametrize("count", [10, 200])
def test_search_is_a_fixed_number_of_queries(client, db, django_assert_num_queries, count):
    org = OrganisationFactory(name="Alpha")
    for n in range(count):
        OrganisationFactory(name=f"Library trust {n:03d}")
        ServiceFactory(organisation=org, name=f"Library {n:03d}")
    with django_assert_num_queries(SEARCH_QUERIES):
        response = client.get(reverse("directory:search"), {"q": "library"})
    assert "Library 000" in response.content.decode()
