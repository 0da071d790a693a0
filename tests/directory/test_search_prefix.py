"""The directory search everywhere it is used: the last word typed as the start of a word,
stop words read the same way on both databases, and the API's ``q`` and the story form's
service search ranked like the search page (decision 0021).  These run on SQLite (FTS5) and,
with DATABASE_URL set, on PostgreSQL (tsvector and directory_search_term)."""

from __future__ import annotations

import pytest

from localsocial.directory.models import Organisation, OrganisationType, Service
from localsocial.directory.selectors import (
    MIN_PREFIX_LENGTH,
    PREFIX_WORDS_CAP,
    directory_search,
    name_query,
)
from localsocial.stories.selectors.submission import services_for_telling
from tests.factories import OrganisationFactory, ServiceFactory

pytestmark = pytest.mark.django_db

API = "/api/directory"


def _names(query: str, kind: str = "all", page_size: int = 50) -> list[str]:
    return [r.name for r in directory_search(query=query, kind=kind, cursor=None, page_size=page_size).items]


def _organisations(names: list[str]) -> None:
    Organisation.objects.bulk_create(
        Organisation(name=name, slug=f"org-{n}", org_type=OrganisationType.OTHER) for n, name in enumerate(names)
    )


# --- The last word as a prefix ------------------------------------------------------------------

def test_the_last_word_typed_finds_names_with_a_word_starting_with_it(db):
    _organisations(["Riverside Surgery", "Northgate General Hospital", "Hillside Clinic"])

    assert _names("river") == ["Riverside Surgery"]
    assert _names("northg") == ["Northgate General Hospital"]
    assert _names("Northgate gen") == ["Northgate General Hospital"]
    assert _names("hill") == ["Hillside Clinic"]


def test_only_the_last_word_is_a_prefix(db):
    _organisations(["Riverside Surgery", "River Surgery"])

    assert _names("river surg") == ["River Surgery"]
    assert _names("surgery river") == ["River Surgery", "Riverside Surgery"]


def test_a_whole_word_still_ranks_by_how_much_of_the_name_it_covers(db):
    _organisations(["Riverside General Hospital", "Riverside", "River Café"])

    assert _names("river") == ["Riverside", "River Café", "Riverside General Hospital"]


def test_a_quoted_or_excluded_last_word_is_whole(db):
    _organisations(["Riverside Surgery", "River Surgery"])

    assert _names('"river"') == ["River Surgery"]
    assert _names("surgery -river") == ["Riverside Surgery"]
    assert _names("surgery -\"river\"") == ["Riverside Surgery"]


def test_a_last_word_shorter_than_the_minimum_must_be_whole(db):
    _organisations(["Unit B", "Birchwood Clinic", "Riverside Surgery"])

    assert MIN_PREFIX_LENGTH == 3
    assert _names("b") == ["Unit B"]
    assert _names("ri") == []
    assert _names("riv") == ["Riverside Surgery"]
    assert name_query("ri").prefix is None
    assert name_query("riv").prefix == "riv"


def test_a_prefix_shared_by_many_words_keeps_the_best_of_them(db):
    # More different words than PREFIX_WORDS_CAP start with "zor": the search still answers,
    # with names from the first words (alphabetically) only, ranked as ever.
    _organisations([f"Zor{chr(97 + n // 26)}{chr(97 + n % 26)} Centre" for n in range(PREFIX_WORDS_CAP + 10)]
                   + ["Zoraa"])

    names = _names("zor", page_size=500)

    assert names[0] == "Zoraa"
    assert "Zoraa Centre" in names
    assert len(names) >= PREFIX_WORDS_CAP


def test_services_are_found_by_prefix_too(db):
    ServiceFactory(name="Physiotherapy", organisation=OrganisationFactory(name="Northgate Council"))

    assert _names("physio", kind="services") == ["Physiotherapy"]


# --- Stop words: the same on both databases -----------------------------------------------------

def test_stop_words_are_ignored_on_both_databases(db):
    _organisations(["The Library", "Central Library", "Friends of the Library", "Library of Things"])

    # "the" is no word to look for, on either database; "The Library" is still the whole name typed.
    assert _names("the library") == ["The Library", "Central Library", "Library of Things", "Friends of the Library"]
    assert _names("library of") == ["Central Library", "The Library", "Library of Things", "Friends of the Library"]
    assert _names("of the") == []
    assert _names("-the library") == _names("library")


def test_a_stop_word_typed_last_is_not_a_prefix(db):
    _organisations(["Theatre Royal", "Royal Infirmary"])

    assert _names("royal the") == ["Royal Infirmary", "Theatre Royal"]
    assert _names("royal thea") == ["Theatre Royal"]


def test_a_phrase_keeps_its_inner_stop_words_and_loses_those_at_its_ends(db):
    _organisations(["Friends of the Library", "Library Friends"])

    assert _names('"friends of the library"') == ["Friends of the Library"]
    assert _names('"the library"') == ["Library Friends", "Friends of the Library"]


# --- The API's q ---------------------------------------------------------------------------------

@pytest.fixture
def ranked(db):
    council = OrganisationFactory(name="Northgate Council", slug="northgate", org_type=OrganisationType.COUNCIL)
    OrganisationFactory(name="Riverside Central Library Trust", slug="long", org_type=OrganisationType.CHARITY)
    OrganisationFactory(name="Library", slug="library", org_type=OrganisationType.OTHER)
    OrganisationFactory(name="Central Library", slug="central", org_type=OrganisationType.OTHER)
    OrganisationFactory(name="Abbey Librarians Network", slug="abbey", org_type=OrganisationType.OTHER)
    for slug, name in (("long-svc", "Mobile library visits for housebound people"), ("lib-svc", "Library"),
                       ("hist-svc", "Local history library")):
        ServiceFactory(organisation=council, name=name, slug=slug)
    return council


def _slugs(response):
    assert response.status_code == 200, response.content
    return [item["slug"] for item in response.json()["items"]]


def test_the_api_q_ranks_organisations_like_the_search_page(client, ranked):
    # The last word is also the start of a word: "library" finds "Librarians".
    assert _slugs(client.get(f"{API}/organisations?q=library")) == ["library", "central", "abbey", "long"]
    assert _slugs(client.get(f"{API}/organisations?q=librar")) == ["library", "central", "abbey", "long"]
    assert _slugs(client.get(f"{API}/organisations?q=library central")) == ["central", "long"]
    assert _slugs(client.get(f"{API}/organisations?q=the central library")) == ["central", "long"]
    assert _slugs(client.get(f"{API}/organisations?q=library&type=charity")) == ["long"]


def test_the_api_q_ranks_services_like_the_search_page(client, ranked):
    assert _slugs(client.get(f"{API}/services?q=library")) == ["lib-svc", "hist-svc", "long-svc"]
    assert _slugs(client.get(f"{API}/services?q=histo")) == ["hist-svc"]


def test_the_api_q_pages_through_ranked_results_with_cursors(client, ranked):
    first = client.get(f"{API}/organisations?q=librar&limit=2").json()
    second = client.get(f"{API}/organisations?q=librar&limit=2&cursor={first['next_cursor']}").json()
    back = client.get(f"{API}/organisations?q=librar&limit=2&cursor={second['previous_cursor']}").json()

    assert [i["slug"] for i in first["items"]] == ["library", "central"]
    assert [i["slug"] for i in second["items"]] == ["abbey", "long"]
    assert second["next_cursor"] is None
    assert [i["slug"] for i in back["items"]] == ["library", "central"]


def test_a_cursor_from_the_unsearched_list_is_refused_with_q(client, ranked):
    cursor = client.get(f"{API}/organisations?limit=1").json()["next_cursor"]

    assert client.get(f"{API}/organisations?q=library&cursor={cursor}").status_code == 422


@pytest.mark.parametrize("count", [10, 200])
def test_the_api_q_costs_the_same_number_of_queries(client, ranked, django_assert_num_queries, count):
    Organisation.objects.bulk_create(
        Organisation(name=f"Library {n:03d}", slug=f"lib-{n}", org_type=OrganisationType.OTHER) for n in range(count)
    )
    with django_assert_num_queries(1):
        client.get(f"{API}/organisations?q=library&limit=100")
    with django_assert_num_queries(2):
        client.get(f"{API}/organisations?q=library&parent=northgate&limit=100")
    with django_assert_num_queries(1):
        client.get(f"{API}/services?q=librar&limit=100")


# --- The story form's service search -------------------------------------------------------------

def test_the_story_form_finds_services_by_prefix_best_first(ranked):
    choice = services_for_telling(query="librar", chosen_ids=[])

    assert [s.name for s in choice.results] == [
        "Library", "Local history library", "Mobile library visits for housebound people",
    ]


def test_the_story_form_leaves_out_chosen_and_inactive_services(ranked):
    chosen = Service.objects.get(slug="lib-svc")
    ServiceFactory(organisation=ranked, name="Library van", slug="van", is_active=False)

    choice = services_for_telling(query="library", chosen_ids=[chosen.pk])

    assert [s.name for s in choice.chosen] == ["Library"]
    assert [s.name for s in choice.results] == ["Local history library", "Mobile library visits for housebound people"]


def test_the_story_form_search_ignores_stop_words(ranked):
    assert [s.name for s in services_for_telling(query="the library", chosen_ids=[]).results] == [
        "Library", "Local history library", "Mobile library visits for housebound people",
    ]


# --- Common words that seldom meet ----------------------------------------------------------------

def test_two_common_words_that_seldom_meet_find_their_few_names(db):
    # Over WORD_COUNT_CAP entries each: on PostgreSQL the matches are counted and read from the
    # GIN index instead of walking every entry of one word.
    from localsocial.directory.selectors import WORD_COUNT_CAP

    _organisations(
        [f"Royal Place {n}" for n in range(WORD_COUNT_CAP + 1)]
        + [f"Infirmary Place {n}" for n in range(WORD_COUNT_CAP + 1)]
        + ["Royal Infirmary of Northgate", "Northgate Royal Infirmary Trust", "Royal Infirmary"]
    )

    expected = ["Royal Infirmary", "Northgate Royal Infirmary Trust", "Royal Infirmary of Northgate"]
    assert _names("royal infirmary") == expected
    assert _names("the royal infirm") == expected
    assert _names("royal infirmary -trust") == ["Royal Infirmary", "Royal Infirmary of Northgate"]
