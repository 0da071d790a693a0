"""Moderation figures with known data, worked out by hand; and the fixed number of queries
of the queue and the story moderation page however long they are."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from localsocial.accounts.models import SiteRole
from localsocial.core.models import AuditEvent
from localsocial.stories.models import ProviderNotice, StoryRevision, TagSuggestion
from localsocial.stories.selectors.moderation import (
    moderation_figures,
    percentile_nearest_rank,
    wait_text,
)
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    RoleGrantFactory,
    StoryFactory,
    TagFactory,
)
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _urls_loaded():
    # Load the URLconf before any test freezes the clock: the API's schemas, built on import,
    # cannot be made from freezegun's fake datetime class.
    from django.urls import get_resolver

    assert get_resolver().url_patterns

NOW = "2026-11-27 12:00:00"  # a Friday: this week began on Monday 23 November


@pytest.fixture
def moderator():
    return RoleGrantFactory(role=SiteRole.MODERATOR).user


def hours_ago(n: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=n)


def published(*, at: dt.datetime, after_hours: float, route: str = "web", **extra) -> None:
    StoryFactory(published_at=at, submitted_at=at - dt.timedelta(hours=after_hours), route=route, **extra)


@pytest.mark.parametrize(("delta", "text"), [
    (dt.timedelta(seconds=10), "1 minute"),
    (dt.timedelta(minutes=59), "59 minutes"),
    (dt.timedelta(hours=1), "1 hour"),
    (dt.timedelta(hours=23, minutes=59), "23 hours"),
    (dt.timedelta(days=1, hours=5), "1 day"),
    (dt.timedelta(days=2), "2 days"),
])
def test_wait_text(delta, text):
    assert wait_text(delta) == text


def test_the_90th_percentile_is_the_nearest_rank():
    assert percentile_nearest_rank(list(range(1, 11)), 90) == 9
    assert percentile_nearest_rank([1, 2, 3, 10], 90) == 10
    assert percentile_nearest_rank([5], 90) == 5


@pytest.mark.clock(NOW)
def test_figures_per_week_with_known_data(moderator, client):
    monday = timezone.make_aware(dt.datetime(2026, 11, 23, 9, 0))
    # This week: 1, 2, 3 and 10 hours → median (2 + 3) / 2 = 2.5; p90 is the 4th of 4 = 10.
    for hours in (1, 2, 3, 10):
        published(at=monday + dt.timedelta(days=1), after_hours=hours)
    # Last week: 4, 6 and 8 hours → median 6; p90 is the 3rd of 3 = 8.  One came by phone.
    published(at=monday - dt.timedelta(days=3), after_hours=4)
    published(at=monday - dt.timedelta(days=3), after_hours=6, route="api")
    published(at=monday - dt.timedelta(days=6), after_hours=8, route="phone",
              entered_by=moderator, consent_given_at=monday - dt.timedelta(days=7))
    # Published 13 weeks ago: outside the window.
    published(at=monday - dt.timedelta(weeks=13), after_hours=100)
    # Rejected: two this week, one last week.
    for at in (monday + dt.timedelta(hours=2), monday + dt.timedelta(days=2), monday - dt.timedelta(days=1)):
        StoryFactory(status="rejected", moderated_at=at, submitted_at=at - dt.timedelta(hours=1))
    # Waiting: two, the oldest for 3 days.
    StoryFactory(status="pending", submitted_at=hours_ago(72))
    StoryFactory(status="pending", submitted_at=hours_ago(1))

    figures = moderation_figures(user=moderator)
    assert len(figures.weeks) == 12
    assert figures.since == dt.date(2026, 9, 7)
    this_week, last_week, before = figures.weeks[-1], figures.weeks[-2], figures.weeks[-3]
    assert (this_week.week_start, this_week.published, this_week.median_hours, this_week.p90_hours,
            this_week.rejected) == (dt.date(2026, 11, 23), 4, 2.5, 10.0, 2)
    assert (last_week.week_start, last_week.published, last_week.median_hours, last_week.p90_hours,
            last_week.rejected) == (dt.date(2026, 11, 16), 3, 6.0, 8.0, 1)
    assert (before.published, before.median_hours, before.p90_hours, before.rejected) == (0, None, None, 0)
    assert (figures.waiting_count, figures.oldest_wait) == (2, "3 days")
    # Received in the window: 7 published + 3 rejected + 2 waiting; 1 by phone, 1 by API.
    assert dict(figures.routes) == {"Website": 10, "Phone call (assisted)": 1, "Paper form (assisted)": 0, "API": 1}

    sign_in_verified(client, moderator)
    html = client.get("/stories/moderation/figures/").content.decode()
    assert "<caption" in html
    assert "Stories published and rejected each week" in html
    assert "23 Nov 2026" in html
    assert ">2.5<" in html.replace("\n", "").replace(" ", "")
    assert 'src="data:image/svg+xml;base64,' in html
    assert "2 stories are waiting for moderation." in html
    assert "The oldest has waited 3 days." in html


def _count_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


def _queue_items(n: int, moderator) -> None:
    provider = OrganisationFactory(is_private_provider=True)
    for i in range(n):
        StoryFactory(status="pending", criticality=None, body="He died." if i % 3 == 0 else "Fine.")
        StoryFactory(status="held", criticality=4)
    notice_story = StoryFactory(status="notice")
    for _ in range(n // 10):
        ProviderNotice.objects.create(story=notice_story, organisation=OrganisationFactory(is_private_provider=True),
                                      deadline=timezone.now())
    ProviderNotice.objects.create(story=StoryFactory(status="notice"), organisation=provider, deadline=timezone.now(),
                                  decision="ask_review", decision_note="Please look")


def test_the_queue_takes_the_same_queries_however_long(client, moderator, django_assert_max_num_queries, settings):
    settings.PAGE_SIZE = 500
    sign_in_verified(client, moderator)
    _queue_items(10, moderator)
    small = _count_queries(client, "/stories/moderation/")
    _queue_items(190, moderator)
    with django_assert_max_num_queries(small):
        response = client.get("/stories/moderation/")
    # 200 stories waiting, the first 100 held ones, the provider notices.
    assert response.content.decode().count("/stories/moderation/") > 300


def _story_with(n: int, moderator):
    story = StoryFactory(status="pending", tags=[TagFactory() for _ in range(n)])
    StoryRevision.objects.bulk_create([
        StoryRevision(story=story, kind="moderator", title=f"Title {i}", body=f"Body {i} words", edited_by=moderator,
                      reason=f"Reason {i}")
        for i in range(n)
    ])
    TagSuggestion.objects.bulk_create([TagSuggestion(story=story, name=f"Idea {i}", polarity="good") for i in range(n)])
    AuditEvent.objects.bulk_create([
        AuditEvent(actor=moderator, actor_label=moderator.email, action="stories.story_tags",
                   target_type="stories.story", target_id=str(story.pk)) for _ in range(n)
    ])
    for _ in range(min(n, 20)):
        StoryFactory(status="rejected", text_hash=story.text_hash, author_email=story.author_email)
    for _ in range(n // 10):
        ProviderNotice.objects.create(story=story, organisation=OrganisationFactory(), deadline=timezone.now())
    MembershipFactory()  # unrelated staff
    return story


def test_the_story_page_takes_the_same_queries_however_long(client, moderator, django_assert_max_num_queries):
    sign_in_verified(client, moderator)
    small_story = _story_with(10, moderator)
    small = _count_queries(client, f"/stories/moderation/{small_story.pk}/")
    big_story = _story_with(200, moderator)
    with django_assert_max_num_queries(small):
        response = client.get(f"/stories/moderation/{big_story.pk}/")
    html = response.content.decode()
    assert "Reason 199" in html
    assert "Idea 199" in html
