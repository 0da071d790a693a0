"""/api/stories/ and /api/tags/ for reading: what the public may see, filters, cursors, stubs
for restricted and withdrawn stories, JSON errors and a fixed number of queries."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from localsocial.stories.models import Progress
from tests.api.problems import field_errors, problem
from tests.factories import (
    AreaFactory,
    OrganisationFactory,
    ResponseFactory,
    ServiceFactory,
    StoryFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

API = "/api"


def _ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def world(db):
    """A trust with a hospital and a ward service; a council with bins; tags; stories."""
    trust = OrganisationFactory(name="Riverside NHS Trust", slug="riverside-trust")
    hospital = OrganisationFactory(name="Riverside General", slug="riverside-general", parent=trust)
    council = OrganisationFactory(name="Northgate Council", slug="northgate", gss_code="E09000028")
    council.areas_served.add(AreaFactory(gss_code="E09000028", name="Northgate"))
    ward = ServiceFactory(organisation=hospital, name="Ward 7", slug="ward-7")
    bins = ServiceFactory(organisation=council, name="Bin collection", slug="bins")
    kind = TagFactory(name="Kind staff", slug="kind-staff", polarity="good")
    waiting = TagFactory(name="Waiting time", slug="waiting-time", polarity="improve")
    now = timezone.now()
    ward_story = StoryFactory(
        title="The night nurse on ward 7", body="She sat with my father all night.", services=[ward],
        tags=[kind], published_at=now - timedelta(days=3), progress=Progress.RESPONDED,
        author_email="private.person@example.org",
    )
    bins_story = StoryFactory(
        title="Bins left unemptied", body="Three weeks without a collection on Elm Road.", services=[bins],
        tags=[waiting], published_at=now - timedelta(days=1),
    )
    both = StoryFactory(
        title="A carer's week", body="Hospital visits and missed bin days.", services=[ward, bins],
        tags=[kind, waiting], published_at=now - timedelta(hours=1),
    )
    return {"trust": trust, "hospital": hospital, "council": council, "ward": ward, "bins": bins,
            "ward_story": ward_story, "bins_story": bins_story, "both": both}


def test_list_is_newest_first_with_the_public_fields(client, world):
    body = client.get(f"{API}/stories/").json()
    assert [item["id"] for item in body["items"]] == [world["both"].pk, world["bins_story"].pk, world["ward_story"].pk]
    item = body["items"][2]
    assert item["title"] == "The night nurse on ward 7"
    assert item["summary"] == "She sat with my father all night."
    assert item["progress"] == "responded"
    assert item["services"] == [
        {"slug": "ward-7", "name": "Ward 7", "organisation": {"slug": "riverside-general", "name": "Riverside General"}}
    ]
    assert item["tags"] == [{"slug": "kind-staff", "name": "Kind staff", "polarity": "good"}]
    assert item["url"] == f"/stories/{world['ward_story'].pk}/"
    assert body["next_cursor"] is None


def test_the_authors_email_never_appears(client, world):
    for url in (f"{API}/stories/", f"{API}/stories/{world['ward_story'].pk}",
                f"{API}/stories/{world['ward_story'].pk}/responses/"):
        response = client.get(url)
        assert response.status_code == 200
        assert "private.person@example.org" not in response.content.decode()
        assert "author_email" not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("organisation=riverside-trust", ["both", "ward_story"]),  # the whole subtree
        ("organisation=riverside-general", ["both", "ward_story"]),
        ("service=bins", ["both", "bins_story"]),
        ("tag=kind-staff", ["both", "ward_story"]),
        ("tag=kind-staff&service=bins", ["both"]),
        ("area=E09000028", ["both", "bins_story"]),
        ("area=e09000028", ["both", "bins_story"]),
        ("progress=responded", ["ward_story"]),
        ("q=nurse", ["ward_story"]),
        ("q=bin", ["both", "bins_story"]),
        ('q="night nurse"', ["ward_story"]),
        ("q=bins -carer", ["bins_story"]),
        ("service=&organisation=&tag=&q=&cursor=", ["both", "bins_story", "ward_story"]),
    ],
)
def test_filters(client, world, query, expected):
    assert _ids(client.get(f"{API}/stories/?{query}")) == [world[name].pk for name in expected]


def test_published_dates_filter_by_day(client, world):
    today = timezone.localdate()
    after = (today - timedelta(days=2)).isoformat()
    assert _ids(client.get(f"{API}/stories/?published_after={after}")) == [world["both"].pk, world["bins_story"].pk]
    assert _ids(client.get(f"{API}/stories/?published_before={after}")) == [world["ward_story"].pk]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("organisation=nowhere", "organisation: there is nothing with the slug 'nowhere'"),
        ("service=nowhere", "service: there is nothing with the slug 'nowhere'"),
        ("tag=nowhere", "tag: there is nothing with the slug 'nowhere'"),
        ("area=X123", "area is not valid"),
        ("area=E09000999", "area: there is nothing"),
        ("progress=finished", None),
        ("published_after=yesterday", None),
        ("published_before=2026-02-30", "published_before is not a real date"),
        ("published_after=0", None),
        ("q=!!!", "q needs at least one word"),
        ("q=" + "x" * 201, None),
        ("cursor=garbage", "cursor is not valid"),
        ("limit=0", None),
        ("limit=101", None),
    ],
)
def test_bad_filters_are_422_json(client, world, query, fragment):
    response = client.get(f"{API}/stories/?{query}")
    body = problem(response, 422, "invalid-request")
    if fragment:
        assert fragment in body["detail"]
    else:
        # ninja's validation: the parameter, where it was and why
        name = query.split("=")[0]
        assert f"query:{name}" in field_errors(response), body
        assert name in body["detail"]


def test_cursor_walks_every_story_once_and_back(client, db):
    service = ServiceFactory()
    start = timezone.now() - timedelta(days=10)
    # Some share a publication time: the id breaks the tie.
    for n in range(25):
        StoryFactory(services=[service], published_at=start + timedelta(hours=n // 3))
    seen, url, pages = [], f"{API}/stories/?limit=10", 0
    while url:
        body = client.get(url).json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        url = f"{API}/stories/?limit=10&cursor={body['next_cursor']}" if body["next_cursor"] else None
    assert len(seen) == 25 == len(set(seen))
    assert pages == 3
    back = client.get(f"{API}/stories/?limit=10&cursor={body['previous_cursor']}").json()
    assert [item["id"] for item in back["items"]] == seen[10:20]


def test_detail_has_services_tags_progress_counts_and_published_responses_in_order(client, world):
    story = world["ward_story"]
    first = ResponseFactory(story=story, body="We are sorry.", published_at=timezone.now() - timedelta(hours=5))
    ResponseFactory(story=story, status="pending", published_at=None, body="Not yet checked")
    reply = ResponseFactory(story=story, organisation=None, is_author_reply=True, responder=None,
                            signature="Author", body="Thank you.", published_at=timezone.now())
    body = client.get(f"{API}/stories/{story.pk}").json()
    assert body["status"] == "published"
    assert body["body"] == "She sat with my father all night."
    assert body["progress"] == "responded"
    assert [r["id"] for r in body["responses"]] == [first.pk, reply.pk]
    assert body["responses"][0]["organisation"] == {"slug": "riverside-general", "name": "Riverside General"}
    assert body["responses"][1]["is_author_reply"] is True
    assert body["responses"][1]["organisation"] is None
    assert body["more_responses"] is False
    listed = client.get(f"{API}/stories/{story.pk}/responses/").json()
    assert [r["id"] for r in listed["items"]] == [first.pk, reply.pk]
    assert "Not yet checked" not in json.dumps(listed)


def test_a_withdrawn_storys_text_is_gone_from_the_list_and_the_detail(client, world):
    from localsocial.stories.services.submission import story_withdraw

    story = world["ward_story"]
    ResponseFactory(story=story, body="Our reply to the nurse story")
    story_withdraw(story_id=story.pk)

    listed = client.get(f"{API}/stories/?organisation=riverside-trust")
    assert _ids(listed) == [world["both"].pk]
    response = client.get(f"{API}/stories/{story.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "withdrawn"
    assert body["title"] is None
    assert body["body"] is None
    assert body["feelings"] is None
    assert body["pseudonym"] is None
    assert body["services"] == []
    assert body["responses"] == []
    text = response.content.decode()
    for secret in ("night nurse", "sat with my father", "Our reply"):
        assert secret not in text
    assert client.get(f"{API}/stories/{story.pk}/responses/").json()["items"] == []
    assert world["ward_story"].pk not in _ids(client.get(f"{API}/stories/?q=nurse"))


def test_a_restricted_story_is_a_stub_saying_who_and_why(client, db):
    story = StoryFactory(status="restricted", title="Hidden title", body="Hidden text",
                         restricted_by="Local Social moderators", restriction_reason="A court case is under way.")
    body = client.get(f"{API}/stories/{story.pk}").json()
    assert body["status"] == "restricted"
    assert body["restricted_by"] == "Local Social moderators"
    assert body["restriction_reason"] == "A court case is under way."
    assert body["title"] is None
    assert body["body"] is None
    assert _ids(client.get(f"{API}/stories/")) == []


@pytest.mark.parametrize("status", ["pending", "held", "rejected"])
def test_stories_never_published_are_404_json(client, db, status):
    story = StoryFactory(status=status)
    for url in (f"{API}/stories/{story.pk}", f"{API}/stories/{story.pk}/responses/"):
        response = client.get(url)
        assert problem(response, 404, "not-found")["detail"] == f"There is no public story with the id {story.pk}."


def test_unknown_and_out_of_range_ids(client, db):
    assert client.get(f"{API}/stories/999999").status_code == 404
    assert client.get(f"{API}/stories/0").status_code == 422
    assert client.get(f"{API}/stories/{2**64}").status_code == 422
    assert client.get(f"{API}/stories/abc").status_code == 422


def test_tags_list_active_tags_by_name_with_a_polarity_filter(client, db):
    TagFactory(name="Waiting time", slug="waiting-time", polarity="improve")
    TagFactory(name="Kind staff", slug="kind-staff", polarity="good")
    TagFactory(name="Old tag", slug="old-tag", is_active=False)
    body = client.get(f"{API}/tags/").json()
    assert [t["slug"] for t in body["items"]] == ["kind-staff", "waiting-time"]
    assert [t["slug"] for t in client.get(f"{API}/tags/?polarity=improve").json()["items"]] == ["waiting-time"]
    assert client.get(f"{API}/tags/?polarity=neutral").status_code == 422


@pytest.mark.parametrize("count", [10, 200])
def test_each_read_endpoint_is_a_fixed_number_of_queries(client, db, django_assert_num_queries, count):
    trust = OrganisationFactory(slug="trust")
    service = ServiceFactory(organisation=OrganisationFactory(parent=trust), slug="svc")
    tags = [TagFactory(slug=f"t{n}") for n in range(3)]
    stories = [StoryFactory(services=[service, ServiceFactory()], tags=tags) for _ in range(count)]
    for story in stories[:5]:
        ResponseFactory(story=story)
    for n in range(count // 10):
        ResponseFactory(story=stories[0], published_at=timezone.now() + timedelta(seconds=n))
    # page of listing rows + stories + their services (with organisations) + tags
    with django_assert_num_queries(4):
        assert len(client.get(f"{API}/stories/?limit=100").json()["items"]) == min(count, 100)
    # + the organisation's id, the service's id, the tag's id
    with django_assert_num_queries(7):
        assert client.get(f"{API}/stories/?organisation=trust&service=svc&tag=t1&limit=100").status_code == 200
    # story + services + tags + responses
    with django_assert_num_queries(4):
        assert client.get(f"{API}/stories/{stories[0].pk}").status_code == 200
    with django_assert_num_queries(4):
        assert client.get(f"{API}/stories/{stories[0].pk}/responses/?limit=100").status_code == 200
    with django_assert_num_queries(1):
        assert client.get(f"{API}/tags/").status_code == 200


def test_search_that_matches_many_stories_walks_the_list_in_order(client, db, monkeypatch):
    from localsocial.stories.selectors import api as stories_api_selectors

    monkeypatch.setattr(stories_api_selectors, "SEARCH_ID_LIMIT", 2)
    service = ServiceFactory()
    start = datetime(2026, 10, 1, tzinfo=timezone.get_current_timezone())
    made = [StoryFactory(services=[service], body=f"The reception desk, visit {n}.",
                         published_at=start + timedelta(days=n)) for n in range(5)]
    StoryFactory(services=[service], body="Nothing about that desk word.", title="Other")
    ids = _ids(client.get(f"{API}/stories/?q=reception&limit=3"))
    assert ids == [made[4].pk, made[3].pk, made[2].pk]
