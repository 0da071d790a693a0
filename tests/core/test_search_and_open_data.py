"""The site-wide search (/search/), which asks every registered search source, and the open
data page (/open-data/), which lists every registered dataset."""

from __future__ import annotations

import csv
import io

import pytest

from tests.factories import OrganisationFactory, ServiceFactory, StoryFactory

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    from tests.accounts.conftest import page_text

    return page_text(response)


@pytest.fixture
def riverside():
    council = OrganisationFactory(name="Riverside Council", slug="riverside", email="clerk@riverside.example",
                                  phone="020 7946 0001")
    bins = ServiceFactory(organisation=council, name="Bin collection", slug="bin-collection")
    return council, bins


def test_the_search_page_without_words_shows_the_box_only(client):
    response = client.get("/search/")

    assert response.status_code == 200
    assert "Search Local Social" in text_of(response)
    assert 'role="search"' in response.content.decode()


def test_search_finds_stories_and_directory_entries_each_under_its_source(client, riverside):
    _council, bins = riverside
    story = StoryFactory(services=[bins], title="The bin men were kind")
    StoryFactory(services=[bins], title="Parking", status="pending")  # never shown

    response = client.get("/search/", {"q": "bin"})
    html, text = response.content.decode(), text_of(response)

    assert response.status_code == 200
    assert "Search results for “bin”" in text
    assert text.index("Stories") < text.index("The bin men were kind") < text.index("Organisations and services")
    assert f'href="/stories/{story.pk}/"' in html
    assert 'href="/directory/services/bin-collection/"' in html
    assert "Service from Riverside Council" in text
    assert 'href="/stories/?q=bin"' in html
    assert 'href="/directory/search/?q=bin"' in html
    assert "Parking" not in text


def test_a_source_with_nothing_says_so(client, riverside):
    response = client.get("/search/", {"q": "riverside"})
    text = text_of(response)

    assert "Nothing in Stories matches “riverside”." in text
    assert "Riverside Council" in text


def test_too_long_a_search_is_explained(client):
    response = client.get("/search/", {"q": "x" * 201})

    assert response.status_code == 400
    assert "Search words must be 200 characters or fewer" in text_of(response)


def test_the_search_costs_a_bounded_number_of_queries_however_many_results(client, riverside, django_assert_max_num_queries):
    _council, bins = riverside
    StoryFactory(services=[bins], title="Kind staff")
    ServiceFactory(organisation=bins.organisation, name="Kind words")
    # The stories search reads a bounded window of its index (decision 0007), the directory's
    # is one query: at most 6 and 1 whether the words are rare or common.
    with django_assert_max_num_queries(7):
        assert client.get("/search/", {"q": "kind"}).status_code == 200
    for n in range(30):
        StoryFactory(services=[bins], title=f"Kind people {n}")
        ServiceFactory(organisation=bins.organisation, name=f"Kind service {n}")
    with django_assert_max_num_queries(7):
        response = client.get("/search/", {"q": "kind"})
    assert text_of(response).count("Kind people") == 5


def test_the_search_page_in_welsh(client, riverside):
    client.post("/i18n/setlang/", {"language": "cy", "next": "/"})

    response = client.get("/search/", {"q": "riverside"})

    assert response.status_code == 200
    assert '<html lang="cy"' in response.content.decode()
    assert "Search Local Social" not in text_of(response)


def test_the_open_data_page_lists_every_registered_dataset_with_its_downloads(client):
    response = client.get("/open-data/")
    html, text = response.content.decode(), text_of(response)

    assert response.status_code == 200
    assert text.index("Stories") < text.index("Organisations and services")
    for href in ("/stories/open-data/stories.csv", "/stories/open-data/stories.json", "/stories/open-data/",
                 "/directory/open-data/directory.csv"):
        assert f'href="{href}"' in html
    assert "Open Government Licence v3.0" in text


def test_the_directory_open_data_is_public_and_leaves_out_contact_details(client, riverside):
    response = client.get("/directory/open-data/directory.csv")

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert "email" not in rows[0]
    assert "phone" not in rows[0]
    assert {(row["record_type"], row["id"]) for row in rows} >= {
        ("organisation", "riverside"), ("service", "bin-collection"),
    }
    assert "clerk@riverside.example" not in str(rows)


def test_every_page_links_to_the_search_and_the_open_data_from_its_footer(client):
    html = client.get("/privacy/").content.decode()
    footer = html[html.index('<footer class="govuk-footer">'):]

    assert 'href="/search/"' in footer
    assert 'href="/open-data/"' in footer
