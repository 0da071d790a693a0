"""Full-text search of stories, on whichever database the suite runs on (run it on both:
SQLite by default, PostgreSQL with DATABASE_URL=postgres://…)."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localsocial.core.search import search_parse, sqlite_index_ensure, sqlite_match_text
from localsocial.stories.models import Story
from localsocial.stories.selectors import reading as selectors
from localsocial.stories.services.events import story_hidden_effects
from localsocial.stories.views import reading as reading_views
from tests.factories import ServiceFactory, StoryFactory

pytestmark = pytest.mark.django_db


def titles(response) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<h3 class="govuk-heading-s[^"]*"><a class="govuk-link" href="/stories/\d+/">([^<]+)</a>', response.content.decode())]


def next_link(response) -> str | None:
    match = re.search(r'<div class="govuk-pagination__next">\s*<a class="govuk-link govuk-pagination__link" href="([^"]+)"', response.content.decode())
    return html.unescape(match.group(1)) if match else None


def found(client, query: str, base: str = "/stories/") -> set[str]:
    response = client.get(base, {"q": query})
    assert response.status_code == 200, response.content.decode()[:2000]
    return set(titles(response))


@pytest.fixture
def stories():
    return {
        "parking": StoryFactory(title="Parking at the hospital", body="The car park was full and I waited an hour.", feelings="Cross."),
        "nurse": StoryFactory(title="A kind nurse", body="The nurse held my hand while I was waiting.", feelings="Grateful."),
        "park": StoryFactory(title="Lovely grounds", body="We walked in the park by the car.", feelings="Calm, thanks to the garden."),
        "meal": StoryFactory(title="Hospital food", body="The meals were cold and late.", feelings="Hungry and cross."),
    }


# --- The query syntax (no database) -----------------------------------------------------------

def test_parse_words_phrases_and_exclusions():
    query = search_parse('Car  "CAR park" -parking -"long wait" well-being A&E')
    assert query.include == (("car",), ("car", "park"), ("well", "being"), ("a", "e"))
    assert query.exclude == (("parking",), ("long", "wait"))
    assert query.display() == 'car "car park" "well being" "a e" -parking -"long wait"'


def test_parse_odd_input_never_fails():
    assert search_parse('"""').is_empty
    assert search_parse("-").is_empty
    assert search_parse('" unclosed phrase').include == (("unclosed", "phrase"),)
    assert search_parse("AND OR NOT * ( ) : ^ NEAR").include == (("and",), ("or",), ("not",), ("near",))
    assert not search_parse("-only -exclusions").has_positive_terms


def test_sqlite_match_text_quotes_every_term():
    assert sqlite_match_text(search_parse('nurse "car park" -parking')) == '("nurse" AND "car park") NOT "parking"'


# --- Searching --------------------------------------------------------------------------------

def test_every_word_must_match_and_words_are_stemmed(client, stories):
    assert found(client, "nurse") == {"A kind nurse"}
    assert found(client, "waiting hand") == {"A kind nurse"}
    # "waited" and "waiting" share a stem
    assert found(client, "wait") == {"Parking at the hospital", "A kind nurse"}
    assert found(client, "nurse parking") == set()


def test_a_phrase_must_appear_as_written(client, stories):
    assert found(client, '"car park"') == {"Parking at the hospital"}
    assert found(client, "car park") == {"Parking at the hospital", "Lovely grounds"}


def test_excluded_words_leave_stories_out(client, stories):
    assert found(client, "cross -meals") == {"Parking at the hospital"}
    assert found(client, 'car -"car park"') == {"Lovely grounds"}


def test_title_body_and_feelings_are_all_searched(client, stories):
    assert found(client, "lovely") == {"Lovely grounds"}
    assert found(client, "garden") == {"Lovely grounds"}


def test_nothing_found_says_so(client, stories):
    response = client.get("/stories/", {"q": "helicopter"})
    assert titles(response) == []
    assert "No published stories match your search." in response.content.decode()


def test_search_within_a_service_list(client):
    service = ServiceFactory(slug="a-and-e")
    StoryFactory(title="Nurse in A&E", body="A nurse helped.", services=[service])
    StoryFactory(title="Nurse elsewhere", body="A nurse helped.")
    assert found(client, "nurse", base="/stories/services/a-and-e/") == {"Nurse in A&E"}
    assert found(client, "nurse") == {"Nurse in A&E", "Nurse elsewhere"}


@pytest.mark.parametrize("status", ["withdrawn", "restricted", "rejected"])
def test_a_hidden_story_vanishes_from_search_at_once(client, stories, status):
    story = stories["nurse"]
    assert found(client, "nurse") == {"A kind nurse"}
    story.status = status
    story.withdrawn_at = timezone.now() if status == "withdrawn" else None
    story.save()
    story_hidden_effects(story=story)
    assert found(client, "nurse") == set()
    # Even asked directly, the index offers only published stories
    assert selectors.STORY_SEARCH.match_ids(search_parse("nurse"), limit=10) == []


def test_pending_stories_are_never_found(client):
    StoryFactory(title="Pending nurse", body="nurse", status="pending")
    assert found(client, "nurse") == set()
    assert selectors.STORY_SEARCH.match_ids(search_parse("nurse"), limit=10) == []


def test_an_edit_to_the_text_is_searchable_at_once(client, stories):
    story = stories["meal"]
    Story.objects.filter(pk=story.pk).update(body="The soup was excellent.")
    assert found(client, "soup") == {"Hospital food"}
    assert found(client, "meals") == set()


@pytest.mark.parametrize("query", ['"', '""', "-", "--", '-"', "'", "*", "nurse*", "NEAR(a b)", "a:b", "^nurse", "(", ")",
                                   "AND", "OR", "NOT nurse", "%", "_", "\\", "🙂", "x" * 600, "the", "nurse OR parking",
                                   "title:nurse", "{nurse}", "a & b | c", "!nurse", "<->", "nurse <-> hand"])
def test_odd_input_never_fails(client, stories, query):
    response = client.get("/stories/", {"q": query})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "There is a problem" in response.content.decode()


def test_only_exclusions_asks_for_a_word_to_look_for(client, stories):
    response = client.get("/stories/", {"q": "-parking"})
    assert response.status_code == 400
    assert "Enter a word to look for, as well as the words to leave out" in response.content.decode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=80))
def test_any_text_searches_without_an_error(stories, text):
    query = search_parse(text)
    filters = selectors.ListFilters(query=query)
    page = selectors.story_list_page(scope=selectors.ALL_STORIES, filters=filters, cursor=None, page_size=5)
    shown = [story.pk for story in page.items]
    assert set(Story.objects.filter(pk__in=shown).values_list("status", flat=True)) <= {"published"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(['"', "-", "nurse", "car", "park", "(", "OR", "*", ":", "the", "'"]), max_size=8))
def test_any_mix_of_operators_searches_without_an_error(stories, words):
    query = search_parse(" ".join(words) + "".join(words))
    page = selectors.story_list_page(
        scope=selectors.ALL_STORIES, filters=selectors.ListFilters(query=query), cursor=None, page_size=5
    )
    assert len(page.items) <= 4


# --- Common words: the bounded walk -----------------------------------------------------------

def test_common_words_walk_the_list_and_pages_have_no_repeats(client, monkeypatch):
    # With small limits, a word in 10 stories counts as "common": the list is walked in order
    monkeypatch.setattr(selectors, "SEARCH_FIRST_WINDOW", 5)
    monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 2)
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 5)
    monkeypatch.setattr(reading_views, "PAGE_SIZE", 3)
    for n in range(30):
        StoryFactory(title=f"Story {n}", body="The nurse was kind." if n % 3 == 0 else "The porter was kind.")
    seen: list[str] = []
    response = client.get("/stories/", {"q": "nurse"})
    pages = 0
    while True:
        seen += titles(response)
        pages += 1
        nxt = next_link(response)
        if not nxt:
            break
        response = client.get(nxt)
    expected = [f"Story {n}" for n in reversed(range(30)) if n % 3 == 0]
    assert seen == expected
    assert pages <= 30 // 5 + 1


def test_a_window_without_matches_says_so_and_offers_to_keep_looking(client, monkeypatch):
    # PostgreSQL: the index may not list more than SEARCH_CANDIDATES matches, so the walk goes on
    monkeypatch.setattr(selectors, "SEARCH_FIRST_WINDOW", 3)
    monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 1)
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 3)
    StoryFactory(title="Old nurse story", body="nurse")
    StoryFactory(title="Another nurse story", body="nurse")
    for n in range(8):  # more than the two windows of one page (3 + 3)
        StoryFactory(title=f"New {n}", body="porter")
    response = client.get("/stories/", {"q": "nurse"})
    if connection.vendor == "sqlite":
        # FTS5 answers the whole query at once: a small site never needs the window
        assert titles(response) == ["Another nurse story", "Old nurse story"]
        return
    assert titles(response) == []
    assert "None of the stories looked at so far match." in response.content.decode()
    later = client.get(next_link(response))
    seen = titles(later)
    while next_link(later) and len(seen) < 2:
        later = client.get(next_link(later))
        seen += titles(later)
    assert seen == ["Another nurse story", "Old nurse story"]


# --- The index itself -------------------------------------------------------------------------

def test_each_path_finds_the_same_stories(client, monkeypatch):
    # Given matches spread thinly through a longer list
    for n in range(40):
        StoryFactory(title=f"Story {n}", body="nurse on the ward" if n % 7 == 0 else "porter on the ward")
    expected = [f"Story {n}" for n in reversed(range(40)) if n % 7 == 0]
    # The walk alone (the whole list fits in the first window)
    assert titles(client.get("/stories/", {"q": "nurse"})) == expected
    # The index (the first window is too short to fill the page)
    monkeypatch.setattr(selectors, "SEARCH_FIRST_WINDOW", 4)
    assert titles(client.get("/stories/", {"q": "nurse"})) == expected
    # Filtered, the index is used only when the estimate allows; the answer is the same
    assert titles(client.get("/stories/", {"q": "nurse", "progress": "0"})) == expected


def test_sqlite_triggers_are_put_back_after_a_table_rebuild(stories):
    if connection.vendor != "sqlite":
        assert sqlite_index_ensure(table="stories_story", fts_table="stories_story_fts", columns=["title"]) is False
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER stories_story_fts_au")
    assert sqlite_index_ensure(table="stories_story", fts_table="stories_story_fts", columns=["title", "body", "feelings"]) is True
    Story.objects.filter(pk=stories["meal"].pk).update(body="Now about a xylophone.")
    assert selectors.STORY_SEARCH.match_ids(search_parse("xylophone"), limit=5) == [stories["meal"].pk]


# --- Fixed number of queries ------------------------------------------------------------------

@pytest.mark.parametrize("path", ["walk", "index", "window"])
def test_search_takes_the_same_queries_at_10_and_200_stories(client, django_assert_max_num_queries, monkeypatch, path):
    # "walk": the first stories checked fill the page; "index": they do not, and the index
    # lists every match; "window": the index has too many, so the walk goes on.
    if path in ("index", "window"):
        monkeypatch.setattr(selectors, "SEARCH_FIRST_WINDOW", 5)
    if path == "window":
        monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 5)
    services = ServiceFactory.create_batch(3)
    StoryFactory.create_batch(10, body="The nurse was kind.", services=services)
    with CaptureQueriesContext(connection) as ctx:
        assert len(titles(client.get("/stories/", {"q": "nurse kind"}))) == 10
    at_10 = len(ctx.captured_queries)
    StoryFactory.create_batch(190, body="The nurse was kind.", services=services)
    with django_assert_max_num_queries(at_10):
        response = client.get("/stories/", {"q": "nurse kind"})
    assert len(titles(response)) == 20
