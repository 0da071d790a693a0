"""Atom and RSS feeds of lists and searches, the embeddable widget and the open data."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from localsocial.stories.services.events import story_hidden_effects
from tests.factories import OrganisationFactory, ServiceFactory, StoryFactory, TagFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def hide(story, status):
    story.status = status
    if status == "withdrawn":
        story.withdrawn_at = timezone.now()
    story.save()
    story_hidden_effects(story=story)


def atom_entries(client, url) -> list[ET.Element]:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return root.findall(f"{ATOM}entry")


def rss_items(client, url) -> list[ET.Element]:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "rss"
    return root.findall("channel/item")


# --- Feeds ------------------------------------------------------------------------------------

def test_the_atom_feed_lists_published_stories_with_a_summary_and_link(client):
    story = StoryFactory(title="Parking at the hospital", body="The car park was full.", pseudonym="Sam")
    StoryFactory(title="Waiting", status="pending")
    entries = atom_entries(client, "/stories/feed/atom/")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Parking at the hospital"]
    entry = entries[0]
    assert entry.find(f"{ATOM}link").get("href") == f"http://testserver/stories/{story.pk}/"
    assert "The car park was full." in entry.findtext(f"{ATOM}summary")
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Sam"


def test_the_rss_feed_of_an_organisation_includes_its_subtree(client):
    trust = OrganisationFactory(slug="trust")
    ward = OrganisationFactory(parent=OrganisationFactory(parent=trust))
    StoryFactory(title="On the ward", services=[ServiceFactory(organisation=ward)])
    StoryFactory(title="Elsewhere")
    items = rss_items(client, "/stories/organisations/trust/feed/rss/")
    assert [i.findtext("title") for i in items] == ["On the ward"]
    assert items[0].findtext("link").startswith("http://testserver/stories/")


def test_feeds_of_a_search_a_service_a_tag_and_an_area(client):
    from tests.factories import AreaFactory

    area = AreaFactory(gss_code="E09000022")
    org = OrganisationFactory()
    org.areas_served.add(area)
    service = ServiceFactory(slug="clinic", organisation=org)
    tag = TagFactory(slug="kind")
    StoryFactory(title="Kind nurse", body="A nurse helped.", services=[service], tags=[tag])
    StoryFactory(title="Porter", body="A porter helped.")
    for url in ("/stories/feed/atom/?q=nurse", "/stories/services/clinic/feed/atom/", "/stories/tags/kind/feed/atom/",
                "/stories/areas/E09000022/feed/atom/"):
        assert [e.findtext(f"{ATOM}title") for e in atom_entries(client, url)] == ["Kind nurse"], url
    assert [i.findtext("title") for i in rss_items(client, "/stories/feed/rss/?q=porter")] == ["Porter"]


def test_a_withdrawn_story_is_gone_from_every_feed(client):
    service = ServiceFactory(slug="clinic")
    story = StoryFactory(title="Soon withdrawn", body="Secret words", services=[service])
    hide(story, "withdrawn")
    for url in ("/stories/feed/atom/", "/stories/feed/rss/", "/stories/services/clinic/feed/atom/", "/stories/feed/atom/?q=secret"):
        response = client.get(url)
        assert b"Secret words" not in response.content
        assert b"Soon withdrawn" not in response.content


def test_the_summary_shows_html_from_an_author_as_text(client):
    StoryFactory(body='<script>alert("x")</script> <img src=x onerror=alert(1)>')
    summary = atom_entries(client, "/stories/feed/atom/")[0].findtext(f"{ATOM}summary")
    # The summary is HTML; the author's tags are escaped within it, so a reader shows them as text
    assert "<script>" not in summary
    assert "&lt;script&gt;" in summary
    assert "<img" not in summary


def test_bad_feed_filters_are_a_bad_request_and_unknown_lists_not_found(client):
    assert client.get("/stories/feed/atom/?progress=9").status_code == 400
    assert client.get("/stories/feed/atom/?q=-only").status_code == 400
    assert client.get("/stories/organisations/nope/feed/atom/").status_code == 404
    assert client.get("/stories/feed/json/").status_code == 404


def test_list_pages_name_their_feeds(client):
    StoryFactory()
    text = client.get("/stories/?q=nurse&progress=0").content.decode()
    assert '<link rel="alternate" type="application/atom+xml" title="All stories matching “nurse” (Atom)" href="/stories/feed/atom/?q=nurse&amp;progress=0">' in text
    assert 'type="application/rss+xml"' in text


# --- Widget -----------------------------------------------------------------------------------

def test_the_widget_may_be_framed_by_any_site_and_shows_the_latest_stories(client):
    service = ServiceFactory(slug="clinic", name="The clinic")
    for n in range(7):
        StoryFactory(title=f"Story {n}", services=[service])
    StoryFactory(title="Pending", services=[service], status="pending")
    response = client.get("/stories/widget/services/clinic/")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    text = response.content.decode()
    assert text.count('target="_blank" rel="noopener"') == 6  # five stories and "all stories"
    assert "Story 6" in text
    assert "Story 1" not in text
    assert "Pending" not in text
    assert "Story 1" in client.get("/stories/widget/services/clinic/?n=10").content.decode()
    assert client.get("/stories/widget/services/clinic/?n=lots").status_code == 200


def test_other_pages_still_refuse_to_be_framed(client):
    response = client.get("/stories/")
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_the_widget_of_an_unknown_service_is_not_found(client):
    assert client.get("/stories/widget/services/nope/").status_code == 404


def test_the_widget_help_gives_a_snippet_for_a_service(client):
    ServiceFactory(slug="clinic", name='The "best" clinic')
    text = client.get("/stories/widget/?service=clinic").content.decode()
    assert "http://127.0.0.1:8000/stories/widget/services/clinic/" in text
    # The snippet is shown as text to copy, its own quotes escaped for the attribute
    assert "&lt;iframe src=&#34;http://127.0.0.1:8000/stories/widget/services/clinic/&#34;" in text
    assert "&amp;quot;best&amp;quot;" in text
    missing = client.get("/stories/widget/?service=nope")
    assert "There is no service with the id “nope”" in missing.content.decode()


# --- Open data --------------------------------------------------------------------------------

@pytest.fixture
def open_stories():
    org = OrganisationFactory(name="Riverside Trust")
    service = ServiceFactory(organisation=org, name="Clinic")
    good, bad = TagFactory(name="Kind staff", polarity="good"), TagFactory(name="Waiting", polarity="improve")
    shown = StoryFactory(
        title="=Shown", body="What happened.", feelings="Fine.", services=[service], tags=[good, bad],
        author_email="private@example.org", submitted_ip="203.0.113.9", rejection_reason="moderator note",
        pseudonym="Sam", age_group="25_34", criticality=2,
    )
    withdrawn = StoryFactory(title="Withdrawn", body="Withdrawn text")
    hide(withdrawn, "withdrawn")
    StoryFactory(title="Pending", body="Pending text", status="pending")
    return shown


def _read(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def test_open_data_csv_has_published_stories_and_no_private_fields(client, open_stories):
    response = client.get("/stories/open-data/stories.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(_read(response).lstrip("\ufeff"))))
    assert len(rows) == 1
    row = rows[0]
    assert row["title"] == "'=Shown"  # a spreadsheet would run it as a formula otherwise
    assert row["text"] == "What happened."
    assert row["service_names"] == "Clinic"
    assert row["organisation_names"] == "Riverside Trust"
    assert row["tags_good"] == "Kind staff"
    assert row["tags_improve"] == "Waiting"
    assert row["age_group"] == "25_34"
    assert row["criticality"] == "2"
    assert row["progress"] == "unheard"
    assert row["url"].endswith(f"/stories/{open_stories.pk}/")
    whole = _read(client.get("/stories/open-data/stories.csv"))
    for private in ("private@example.org", "203.0.113.9", "moderator note", "Withdrawn text", "Pending text"):
        assert private not in whole


def test_open_data_json_has_published_stories_and_no_private_fields(client, open_stories):
    response = client.get("/stories/open-data/stories.json")
    data = json.loads(_read(response))
    assert data["licence"] == "Open Government Licence v3.0"
    assert len(data["stories"]) == 1
    story = data["stories"][0]
    assert story["title"] == "=Shown"
    assert story["services"][0]["name"] == "Clinic"
    assert {t["polarity"] for t in story["tags"]} == {"good", "improve"}
    assert set(story) == {
        "id", "url", "title", "text", "feelings", "services", "organisations", "tags", "pseudonym", "author_role",
        "age_group", "happened_month", "published_at", "progress", "response_count", "me_too_count", "criticality",
    }
    raw = json.dumps(data)
    for private in ("private@example.org", "203.0.113.9", "moderator note", "Withdrawn text", "Pending text"):
        assert private not in raw


def test_open_data_streams_in_id_order(client):
    stories = StoryFactory.create_batch(5)
    data = json.loads(_read(client.get("/stories/open-data/stories.json")))
    assert [s["id"] for s in data["stories"]] == sorted(s.pk for s in stories)


def test_the_open_data_page_describes_the_fields_and_licence(client):
    text = client.get("/stories/open-data/").content.decode()
    assert "Open Government Licence v3.0" in text
    for name in ("me_too_count", "criticality", "tags", "pseudonym"):
        assert f">{name}<" in text
