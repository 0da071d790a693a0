"""Lists of stories: all, organisation (with its subtree), service, tag and area; filters,
order, keyset pagination and a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from localsocial.directory.models import OrganisationType
from localsocial.stories.models import Progress, Story
from localsocial.stories.services.events import story_hidden_effects
from localsocial.stories.views import reading as reading_views
from tests.factories import (
    AreaFactory,
    OrganisationFactory,
    ServiceFactory,
    StoryFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


def titles(response) -> list[str]:
    """The story titles listed on a page, in order."""
    return [html.unescape(t) for t in re.findall(r'<h3 class="govuk-heading-s[^"]*"><a class="govuk-link" href="/stories/\d+/">([^<]+)</a>', response.content.decode())]


def link(response, rel: str) -> str | None:
    """The href of the "Previous" or "Next" pagination link."""
    match = re.search(rf'<div class="govuk-pagination__{rel}">\s*<a class="govuk-link govuk-pagination__link" href="([^"]+)"', response.content.decode())
    return html.unescape(match.group(1)) if match else None


def at(days_ago: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days_ago)


@pytest.fixture
def tree():
    """trust → hospital → department → ward, with a service of the ward (three levels down)."""
    trust = OrganisationFactory(name="Riverside NHS Trust", slug="riverside", org_type=OrganisationType.NHS_TRUST)
    hospital = OrganisationFactory(name="General", slug="general", org_type=OrganisationType.HOSPITAL, parent=trust)
    department = OrganisationFactory(name="Maternity", slug="maternity", org_type=OrganisationType.DEPARTMENT, parent=hospital)
    ward = OrganisationFactory(name="Ward 7", slug="ward-7", org_type=OrganisationType.DEPARTMENT, parent=department)
    service = ServiceFactory(organisation=ward, name="Ward 7 nursing", slug="ward-7-nursing")
    return trust, hospital, department, ward, service


def test_the_organisation_list_includes_its_whole_subtree(client, tree):
    trust, hospital, _department, _ward, service = tree
    deep = StoryFactory(title="Deep down in the ward", services=[service])
    elsewhere = StoryFactory(title="Somewhere else")
    assert titles(client.get("/stories/organisations/riverside/")) == [deep.title]
    assert titles(client.get(f"/stories/organisations/{hospital.slug}/")) == [deep.title]
    assert elsewhere.title in titles(client.get("/stories/"))
    assert deep.title in titles(client.get("/stories/"))
    assert trust.name in client.get("/stories/organisations/riverside/").content.decode()


def test_service_tag_and_area_lists(client):
    area = AreaFactory(gss_code="E09000022", name="Lambeth")
    org = OrganisationFactory()
    org.areas_served.add(area)
    service = ServiceFactory(organisation=org, slug="gp-surgery")
    tag = TagFactory(slug="kind-staff", name="Kind staff")
    mine = StoryFactory(title="At the surgery", services=[service], tags=[tag])
    StoryFactory(title="Not here")
    assert titles(client.get("/stories/services/gp-surgery/")) == [mine.title]
    assert titles(client.get("/stories/tags/kind-staff/")) == [mine.title]
    assert titles(client.get("/stories/areas/E09000022/")) == [mine.title]
    assert titles(client.get("/stories/areas/e09000022/")) == [mine.title]


@pytest.mark.parametrize("url", ["/stories/organisations/nope/", "/stories/services/nope/", "/stories/tags/nope/", "/stories/areas/E99999999/"])
def test_a_list_of_something_that_does_not_exist_is_not_found(client, url):
    assert client.get(url).status_code == 404


def test_a_list_item_shows_the_first_words_services_author_date_progress_and_responses(client):
    service = ServiceFactory(name="Antenatal clinic")
    StoryFactory(
        title="Long story", body=" ".join(f"word{n}" for n in range(100)), services=[service],
        pseudonym="Sam", progress=Progress.RESPONDED, response_count=2, published_at=timezone.make_aware(dt.datetime(2026, 3, 4, 12)),
    )
    text = client.get("/stories/").content.decode()
    assert " ".join(f"word{n}" for n in range(40)) + "…" in text
    assert "word40" not in text
    assert ">Antenatal clinic</a>" in text
    assert "Told by Sam, published 4 March 2026." in text
    assert "Responded</strong>" in text
    assert "2 responses" in text


def test_withdrawn_restricted_and_pending_stories_are_not_listed(client):
    shown = StoryFactory(title="Shown")
    gone = StoryFactory(title="Gone")
    gone.status, gone.withdrawn_at = "withdrawn", timezone.now()
    gone.save()
    story_hidden_effects(story=gone)
    held = StoryFactory(title="Restricted one")
    held.status = "restricted"
    held.save()
    story_hidden_effects(story=held)
    StoryFactory(title="Pending one", status="pending")
    assert titles(client.get("/stories/")) == [shown.title]


# --- Filters and order ------------------------------------------------------------------------

def test_filter_by_progress(client):
    StoryFactory(title="Unheard one", progress=Progress.UNHEARD)
    StoryFactory(title="Changed one", progress=Progress.CHANGED)
    assert titles(client.get("/stories/?progress=4")) == ["Changed one"]
    assert titles(client.get("/stories/?progress=0")) == ["Unheard one"]
    assert len(titles(client.get("/stories/?progress="))) == 2


def test_filter_by_published_dates_includes_both_days(client):
    for day in (1, 2, 3, 4):
        StoryFactory(title=f"March {day}", published_at=timezone.make_aware(dt.datetime(2026, 3, day, 23, 30)))
    assert titles(client.get("/stories/?published_from=2/3/2026&published_to=3/3/2026")) == ["March 3", "March 2"]
    assert titles(client.get("/stories/?published_from=2026-03-04")) == ["March 4"]


def test_sort_oldest_first(client):
    StoryFactory(title="Older", published_at=at(3))
    StoryFactory(title="Newer", published_at=at(1))
    assert titles(client.get("/stories/")) == ["Newer", "Older"]
    assert titles(client.get("/stories/?sort=oldest")) == ["Older", "Newer"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("published_from=31/2/2026", "Enter a real date, like 1/3/2026"),
        ("published_to=yesterday", "Enter a real date, like 31/3/2026"),
        ("published_from=1/1/1066", "Enter a date between 2000 and next year"),
        ("published_from=3/3/2026&published_to=1/3/2026", "The second date must be the same as or after the first"),
        ("progress=9", "Choose a stage of progress from the list"),
        ("progress=read", "Choose a stage of progress from the list"),
        ("sort=sideways", "Choose newest first or oldest first"),
    ],
)
def test_bad_filters_give_a_clear_message_and_the_unfiltered_list(client, query, message):
    StoryFactory(title="Still listed")
    response = client.get(f"/stories/?{query}")
    text = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in text
    assert message in text
    assert titles(response) == ["Still listed"]
    assert "<title>Error: " in text


def test_a_tampered_cursor_is_not_found(client):
    StoryFactory()
    assert client.get("/stories/?cursor=nonsense").status_code == 404


# --- Pagination -------------------------------------------------------------------------------

@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(reading_views, "PAGE_SIZE", 3)


def walk(client, url: str) -> tuple[list[str], list[str]]:
    """Follow "Next" to the end, then "Previous" back to the start: the titles seen each way."""
    forward: list[str] = []
    response = client.get(url)
    pages = [response]
    while True:
        forward += titles(response)
        nxt = link(response, "next")
        if not nxt:
            break
        response = client.get(nxt)
        pages.append(response)
    backward: list[str] = []
    while True:
        backward = titles(response) + backward
        prev = link(response, "prev")
        if not prev:
            break
        response = client.get(prev)
    return forward, backward


def test_pages_visit_every_story_once_forwards_and_backwards(client, small_pages):
    # Given eight stories, three published at the very same moment (the id breaks the tie)
    same = at(2)
    for n in range(5):
        StoryFactory(title=f"Story {n}", published_at=at(10 - n))
    for n in range(5, 8):
        StoryFactory(title=f"Story {n}", published_at=same)
    expected = list(Story.objects.order_by("-published_at", "-id").values_list("title", flat=True))
    forward, backward = walk(client, "/stories/")
    assert forward == expected
    assert backward == expected
    oldest_first, _ = walk(client, "/stories/?sort=oldest")
    assert oldest_first == expected[::-1]


def test_pages_keep_the_filters(client, small_pages):
    for n in range(7):
        StoryFactory(title=f"Changed {n}", progress=Progress.CHANGED)
        StoryFactory(title=f"Unheard {n}")
    forward, _ = walk(client, "/stories/?progress=4")
    assert sorted(forward) == [f"Changed {n}" for n in range(7)]


def test_microseconds_apart_are_not_lost_between_pages(client, small_pages):
    # Stories published within one millisecond of each other
    base = timezone.now().replace(microsecond=500_000)
    for n in range(7):
        StoryFactory(title=f"Close {n}", published_at=base + dt.timedelta(microseconds=n * 10))
    forward, _ = walk(client, "/stories/")
    assert forward == [f"Close {n}" for n in reversed(range(7))]


# --- Fixed number of queries ------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/stories/", "/stories/?progress=0&sort=oldest&published_from=1/1/2020", "/stories/services/{service}/", "/stories/organisations/{org}/"])
def test_list_pages_take_the_same_queries_at_10_and_200_stories(client, django_assert_max_num_queries, url):
    service = ServiceFactory(organisation=OrganisationFactory(parent=OrganisationFactory()))
    others = ServiceFactory.create_batch(2)
    StoryFactory.create_batch(10, services=[service, *others], tags=[TagFactory()])
    url = url.format(service=service.slug, org=service.organisation.parent.slug)
    with CaptureQueriesContext(connection) as ctx:
        assert len(titles(client.get(url))) == 10
    at_10 = len(ctx.captured_queries)
    StoryFactory.create_batch(190, services=[service, *others])
    # A page of 20 from 200, and a page deep in the list
    with django_assert_max_num_queries(at_10):
        response = client.get(url)
    assert len(titles(response)) == 20
    with django_assert_max_num_queries(at_10):
        assert len(titles(client.get(link(response, "next")))) == 20
