"""Searching the directory by relevance: full-text matches of the name, the best first, a
bounded number of them, paged without gaps, at a fixed number of queries (decision 0021).
These run on SQLite (FTS5) and, with DATABASE_URL set, on PostgreSQL (tsvector)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from localsocial.core.pagination import InvalidCursorError
from localsocial.directory.apps import _search_index_ensure
from localsocial.directory.models import Organisation, OrganisationType, Service
from localsocial.directory.selectors import SEARCH_CANDIDATES, directory_search
from tests.directory.conftest import pagination_link
from tests.factories import OrganisationFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def _names(query: str, kind: str = "all", page_size: int = 50) -> list[str]:
    return [r.name for r in directory_search(query=query, kind=kind, cursor=None, page_size=page_size).items]


def _organisations(names: list[str]) -> None:
    """Many organisations at once (their tree fields do not matter to search)."""
    Organisation.objects.bulk_create(
        Organisation(name=name, slug=f"org-{n}", org_type=OrganisationType.OTHER) for n, name in enumerate(names)
    )


def _services(organisation: Organisation, names: list[str]) -> None:
    Service.objects.bulk_create(
        Service(organisation=organisation, name=name, slug=f"svc-{n}") for n, name in enumerate(names)
    )


def test_the_whole_name_ranks_above_names_with_more_words(db):
    # Given names that all contain "library", with more or fewer other words
    _organisations(["Riverside Central Library Trust", "Library", "Central Library", "Friends of the Library"])

    # Then the name that is the search comes first, then those with fewest other words
    assert _names("library") == ["Library", "Central Library", "Friends of the Library", "Riverside Central Library Trust"]


def test_an_exact_name_ranks_above_an_equally_short_one_earlier_in_name_order(db):
    _organisations(["Library North", "North Library"])

    assert _names("north library") == ["North Library", "Library North"]
    assert _names("NORTH  library") == ["North Library", "Library North"]


def test_equally_good_matches_come_in_name_order_organisations_and_services_together(db):
    org = OrganisationFactory(name="Zeta Org")
    _organisations(["Westfield Clinic", "Ashby Clinic"])
    _services(org, ["Moss Clinic", "Birch Clinic"])

    assert _names("clinic") == ["Ashby Clinic", "Birch Clinic", "Moss Clinic", "Westfield Clinic"]


def test_words_are_stemmed(db):
    _organisations(["Eye Clinic", "Walking group", "Riverside Hospital"])

    assert _names("clinics") == ["Eye Clinic"]
    assert _names("walk") == ["Walking group"]
    assert _names("hospitals") == ["Riverside Hospital"]


def test_a_code_match_comes_before_names(db):
    coded = OrganisationFactory(name="Zebra Crossing Trust", ods_code="CLINIC")
    _organisations(["Clinic"])

    # "clinic" is also a well-formed ODS code: the organisation with it comes first
    assert _names("clinic") == [coded.name, "Clinic"]


def test_a_phrase_and_an_excluded_word(db):
    _organisations(["Riverside General Hospital", "General Riverside Hospital", "Riverside Community Hospital"])

    assert _names('"riverside general"') == ["Riverside General Hospital"]
    assert _names("hospital -community") == ["General Riverside Hospital", "Riverside General Hospital"]


def test_renamed_organisations_are_found_by_their_new_name_only(db):
    org = OrganisationFactory(name="Old Mill Surgery")
    org.name = "New Bridge Surgery"
    org.save()

    assert _names("mill") == []
    assert _names("bridge") == ["New Bridge Surgery"]


def test_a_service_withdrawn_and_brought_back_is_found_only_while_provided(db):
    org = OrganisationFactory(name="Northgate Council")
    service = ServiceFactory(organisation=org, name="Mobile library", slug="mobile")

    service.is_active = False
    service.save()
    assert _names("library") == []

    service.is_active = True
    service.save()
    assert _names("library") == ["Mobile library"]


def test_a_deleted_organisation_is_no_longer_found(db):
    org = OrganisationFactory(name="Old Mill Surgery")
    org.delete()

    assert _names("mill") == []


def test_services_no_longer_provided_are_left_out_of_every_kind(db):
    org = OrganisationFactory(name="Northgate Council")
    ServiceFactory(organisation=org, name="Mobile library", slug="mobile", is_active=False)
    ServiceFactory(organisation=org, name="Central library", slug="central")

    assert _names("library", "services") == ["Central library"]
    assert _names("library", "all") == ["Central library"]
    assert _names("library", "organisations") == []


@pytest.mark.parametrize(
    "query",
    [
        '"', '""', "-", '- -"', "OR AND NOT", "* : ! & | ( ) ^ ~", "NEAR(riverside hospital)",
        "'; DROP TABLE directory_organisation; --", 'a"b', "-riverside", '"unclosed phrase', "x" * 500,
        "riverside:*", "hospital & !clinic", "\\", "%_%", "😀 hospital", "the and of", "col:riverside", "SE1%",
    ],
)
def test_a_hostile_query_never_fails(client, db, query):
    _organisations(["Riverside Hospital"])

    directory_search(query=query, kind="all", cursor=None, page_size=20)
    response = client.get(reverse("directory:search"), {"q": query[:200]})
    assert response.status_code == 200


def _walk(query: str, page_size: int) -> tuple[list[str], list[str]]:
    """Every result, following "next" cursors, and then back following "previous" ones."""
    forward: list[str] = []
    page = directory_search(query=query, kind="all", cursor=None, page_size=page_size)
    forward += [r.slug for r in page.items]
    while page.next_cursor:
        page = directory_search(query=query, kind="all", cursor=page.next_cursor, page_size=page_size)
        forward += [r.slug for r in page.items]
    backward = [r.slug for r in page.items]
    while page.previous_cursor:
        page = directory_search(query=query, kind="all", cursor=page.previous_cursor, page_size=page_size)
        backward = [r.slug for r in page.items] + backward
    return forward, backward


def test_pages_follow_each_other_without_gaps_or_repeats(db):
    # Given 23 matches of different lengths, organisations and services, with ties
    org = OrganisationFactory(name="Zeta", slug="zeta")
    _organisations([f"Park {'x ' * (n % 4)}{n:02d}".replace("  ", " ") for n in range(12)] + ["Park"])
    _services(org, [f"Park service {n:02d}" for n in range(10)])
    everything = [r.slug for r in directory_search(query="park", kind="all", cursor=None, page_size=100).items]
    assert len(everything) == 23

    # When walking five at a time, forwards and back
    forward, backward = _walk("park", 5)

    # Then every result shows once, in the same order as one long page
    assert forward == everything
    assert backward == everything


def test_a_cursor_not_made_here_is_refused(client, db):
    _organisations(["Park"])
    with pytest.raises(InvalidCursorError):
        directory_search(query="park", kind="all", cursor="not-a-cursor", page_size=5)
    assert client.get(reverse("directory:search"), {"q": "park", "cursor": "nonsense"}).status_code == 404


@pytest.mark.parametrize("count", [10, 500, SEARCH_CANDIDATES + 100])
def test_search_costs_a_fixed_number_of_queries_however_many_match(client, db, django_assert_max_num_queries, count):
    org = OrganisationFactory(name="Alpha")
    _organisations([f"Library trust {n:03d}" for n in range(count)])
    _services(org, [f"Library {n:03d}" for n in range(count)])

    with django_assert_max_num_queries(1):
        response = client.get(reverse("directory:search"), {"q": "library"})
    assert "Library 000" in response.content.decode()
    next_url = pagination_link(response.content.decode(), "next")
    if next_url:  # a later page costs the same
        with django_assert_max_num_queries(1):
            assert client.get(next_url).status_code == 200


def test_a_common_search_keeps_the_best_matches_and_says_so(client, db):
    # Given more matches than the search keeps, and one short name among them
    _organisations([f"Library trust number {n:03d}" for n in range(SEARCH_CANDIDATES + 5)] + ["Library"])

    page = directory_search(query="library", kind="all", cursor=None, page_size=20)
    html = client.get(reverse("directory:search"), {"q": "library"}).content.decode()

    assert page.cut_to == SEARCH_CANDIDATES
    assert page.items[0].name == "Library"
    assert f"“library” matches more than {SEARCH_CANDIDATES} organisations and services" in html
    assert f"These are the {SEARCH_CANDIDATES} that match it best" in html


def test_a_search_with_few_matches_says_nothing_about_a_limit(client, db):
    _organisations(["Library"])

    assert directory_search(query="library", kind="all", cursor=None, page_size=20).cut_to is None
    assert "that match it best" not in client.get(reverse("directory:search"), {"q": "library"}).content.decode()


def test_a_busy_postcode_district_is_cut_to_the_bound_too(db):
    Organisation.objects.bulk_create(
        Organisation(name=f"Surgery {n:03d}", slug=f"surgery-{n}", org_type=OrganisationType.GP_PRACTICE,
                     postcode=f"SE1 {n % 10}AA")
        for n in range(SEARCH_CANDIDATES + 20)
    )
    OrganisationFactory(name="Far away", slug="far", postcode="SE10 9AA")

    page = directory_search(query="se1", kind="all", cursor=None, page_size=20)

    assert page.cut_to == SEARCH_CANDIDATES
    assert len(page.items) == 20
    assert all(r.name.startswith("Surgery") for r in page.items)


def test_on_sqlite_the_triggers_are_put_back_after_migrating(db):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's full-text triggers; PostgreSQL keeps its own through table changes")
    org = OrganisationFactory(name="Old Mill Surgery")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER directory_organisation_fts_au")

    _search_index_ensure(sender=None)
    org.name = "New Bridge Surgery"
    org.save()

    assert _names("bridge") == ["New Bridge Surgery"]
    assert _names("mill") == []


@pytest.mark.django_db(transaction=True)
def test_after_the_tables_are_emptied_with_truncate_no_search_names_a_row_that_is_gone():
    # PostgreSQL's TRUNCATE (Django's flush between transactional tests, some restores) fires no
    # row triggers: the words of the rows it removed must go with them.
    from django.db import connection

    from localsocial.directory.selectors import directory_search
    from tests.factories import OrganisationFactory, ServiceFactory

    ServiceFactory(name="Ghost collection", organisation=OrganisationFactory(name="Ghost Council"))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE directory_service, directory_organisation CASCADE")
        else:
            cursor.execute("DELETE FROM directory_service")
            cursor.execute("DELETE FROM directory_organisation")
    ServiceFactory(name="Ghost tours", slug="ghost-tours", organisation=OrganisationFactory(name="Museum"))
    page = directory_search(query="ghost", kind="all", cursor=None, page_size=20)
    assert [(item.name, item.slug) for item in page.items] == [("Ghost tours", "ghost-tours")]
