"""The dashboard's daily totals: kept in step with the story lists whatever happens to the
stories, equal to counting the stories one by one for any period, mended when found out of
step, checked and rebuilt by
``localsocial stories_totals``, and right when many stories are published at once."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from dataclasses import dataclass

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localsocial.directory.models import path_ids
from localsocial.stories.models import Story, StoryDayTagTotal, StoryDayTotal, StoryStatus
from localsocial.stories.selectors.dashboard import dashboard_for_organisation
from localsocial.stories.services.listing import story_listing_refresh, story_listing_sync
from localsocial.stories.services.submission import story_withdraw
from localsocial.stories.services.totals import (
    story_totals_differences,
    story_totals_rebuild,
)
from tests.factories import OrganisationFactory, ServiceFactory, StoryFactory, TagFactory

pytestmark = pytest.mark.django_db

# 23:00 UTC is midnight in London in summer (BST), so moments near midnight test the time
# zone as well.
FIRST = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)
SPAN_HOURS = 14 * 31 * 24


@pytest.fixture
def world():
    trust = OrganisationFactory(name="Riverside NHS Trust")
    hospital = OrganisationFactory(name="Riverside Hospital", parent=trust)
    council = OrganisationFactory(name="Hilltown Council")
    services = [
        ServiceFactory(organisation=hospital, name="Children's ward"),
        ServiceFactory(organisation=hospital, name="Eye clinic"),
        ServiceFactory(organisation=trust, name="Patient advice"),
        ServiceFactory(organisation=council, name="Bin collection"),
    ]
    tags = [TagFactory(polarity="good"), TagFactory(polarity="good"), TagFactory(polarity="improve")]
    return {"organisations": [trust, hospital, council], "services": services, "tags": tags}


# --- Counting by hand -------------------------------------------------------------------------


@dataclass
class Expected:
    months: Counter[tuple[dt.date, str]]
    criticality: Counter[int | None]
    tags: Counter[int]


def count_by_hand(organisation, start: dt.date, end: dt.date) -> Expected:
    """The dashboard's counts worked out story by story in Python."""
    expected = Expected(months=Counter(), criticality=Counter(), tags=Counter())
    stories = Story.objects.filter(status=StoryStatus.PUBLISHED).prefetch_related(
        "story_services__service__organisation", "tags"
    )
    for story in stories:
        lineage = set()
        for link in story.story_services.all():
            org = link.service.organisation
            lineage.update(path_ids(org.path) or [org.pk])
        day = timezone.localtime(story.published_at).date()  # UK dates
        local = day.replace(day=1)
        if organisation.pk not in lineage or not start <= day <= end:
            continue
        expected.months[(local, "stories")] += 1
        expected.months[(local, "responded")] += story.first_response_at is not None
        expected.months[(local, "change_planned")] += story.change_planned_at is not None
        expected.months[(local, "changed")] += story.changed_at is not None
        expected.criticality[story.criticality] += 1
        for tag in story.tags.all():
            expected.tags[tag.pk] += 1
    return expected


def assert_dashboard_matches(organisation, start: dt.date, end: dt.date) -> None:
    expected = count_by_hand(organisation, start, end)
    figures = dashboard_for_organisation(organisation=organisation, start=start, end=end)
    for month in figures.months:
        assert month.stories == expected.months[(month.month, "stories")], month
        assert month.responded == expected.months[(month.month, "responded")], month
        assert month.change_planned == expected.months[(month.month, "change_planned")], month
        assert month.changed == expected.months[(month.month, "changed")], month
    assert figures.stories == sum(n for (_m, kind), n in expected.months.items() if kind == "stories")
    assert {row.value: row.count for row in figures.criticality if row.count} == {
        level: n for level, n in expected.criticality.items() if n
    }
    shown = {row.value: row.count for row in figures.good_tags + figures.improve_tags}
    assert shown == {pk: n for pk, n in expected.tags.items() if n}


# --- Whatever happens to the stories ------------------------------------------------------------

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["publish", "hide", "criticality", "answer", "plan", "change", "retag", "move"]),
        st.integers(min_value=0, max_value=5),  # which story
        st.integers(min_value=0, max_value=SPAN_HOURS),  # a moment, or a choice
    ),
    min_size=1,
    max_size=25,
)


def apply(operation: str, story: Story, number: int, world) -> None:
    moment = FIRST + dt.timedelta(hours=number)
    if operation == "publish":
        story.status, story.published_at, story.withdrawn_at = StoryStatus.PUBLISHED, moment, None
        story.save()
        story_listing_refresh(story=story)
    elif operation == "hide":
        story.status = [StoryStatus.WITHDRAWN, StoryStatus.RESTRICTED, StoryStatus.PENDING][number % 3]
        story.withdrawn_at = moment if story.status == StoryStatus.WITHDRAWN else None
        if story.status == StoryStatus.RESTRICTED and story.published_at is None:
            story.published_at = moment
        story.save()
        story_listing_refresh(story=story)
    elif operation == "retag":
        story.tags.set([tag for i, tag in enumerate(world["tags"]) if number >> i & 1])
        story_listing_refresh(story=story)
    elif operation == "move":
        services = world["services"]
        chosen = [services[number % len(services)], services[(number // 7) % len(services)]]
        story.story_services.all().delete()
        for position, service in enumerate(dict.fromkeys(chosen)):
            story.story_services.create(service=service, position=position)
        story_listing_refresh(story=story)
    else:
        if operation == "criticality":
            story.criticality = None if number % 7 == 6 else number % 6
        elif operation == "answer":
            story.first_response_at = None if number % 5 == 0 else (story.published_at or moment) + dt.timedelta(hours=3)
        elif operation == "plan":
            story.change_planned_at = None if number % 4 == 0 else moment
        else:
            story.changed_at = None if number % 4 == 0 else moment
        story.save()
        story_listing_sync(story=story)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS, start_hours=st.integers(0, SPAN_HOURS), length_days=st.integers(0, 500))
def test_the_totals_follow_every_change_and_the_dashboard_equals_counting_by_hand(
    world, operations, start_hours, length_days
):
    # Each example on its own: undone afterwards.
    with transaction.atomic():
        _every_change_example(world, operations, start_hours, length_days)
        transaction.set_rollback(True)


def _every_change_example(world, operations, start_hours, length_days):
    # Given six stories spread over the services and months
    stories = [
        StoryFactory(
            services=[world["services"][i % 4]], tags=world["tags"][: i % 3],
            published_at=FIRST + dt.timedelta(days=40 * i, hours=23), criticality=i % 6,
        )
        for i in range(6)
    ]
    # When they are published, hidden, re-tagged, moved, answered and changed in any order
    for operation, which, number in operations:
        apply(operation, stories[which], number, world)
    # Then the totals equal the totals worked out afresh from the lists
    assert story_totals_differences() == []
    # And every organisation's dashboard, for any period, equals counting the stories by hand
    start = (FIRST + dt.timedelta(hours=start_hours)).date()
    end = start + dt.timedelta(days=length_days)
    for organisation in world["organisations"]:
        assert_dashboard_matches(organisation, start, end)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2025-09-01", "2026-10-31"),  # whole months only
        ("2025-09-15", "2025-09-20"),  # inside one month
        ("2025-09-15", "2026-02-10"),  # part months at both ends
        ("2025-10-01", "2026-01-31"),  # exactly whole months in the middle
        ("2025-10-31", "2025-11-01"),  # two part months, one day of each
    ],
)
def test_whole_and_part_months_give_the_same_figures_as_counting_by_hand(world, start, end):
    services, tags = world["services"], world["tags"]
    for i in range(40):
        published = FIRST + dt.timedelta(days=9 * i, hours=(7 * i) % 24)
        StoryFactory(
            services=list(dict.fromkeys([services[i % 3], *([services[1]] if i % 5 == 0 else [])])),
            tags=tags[: i % 4],
            published_at=published, criticality=None if i % 9 == 0 else i % 6,
            first_response_at=published + dt.timedelta(hours=i) if i % 2 else None,
            change_planned_at=published if i % 3 == 0 else None, changed_at=published if i % 7 == 0 else None,
        )
    for organisation in world["organisations"]:
        assert_dashboard_matches(organisation, dt.date.fromisoformat(start), dt.date.fromisoformat(end))


def test_a_story_counts_on_the_day_it_was_published_in_uk_time(world):
    trust = world["organisations"][0]
    # 23:30 UTC on 31 May is 00:30 on 1 June in London.
    StoryFactory(services=[world["services"][2]], published_at=dt.datetime(2026, 5, 31, 23, 30, tzinfo=dt.UTC))
    row = StoryDayTotal.objects.get(organisation=trust)
    assert row.day == dt.date(2026, 6, 1)
    assert row.stories == 1


# --- Out of step, checked, rebuilt ----------------------------------------------------------------


def test_totals_found_out_of_step_are_counted_again_rather_than_stopping_a_withdrawal(world, caplog):
    trust = world["organisations"][0]
    story = StoryFactory(services=[world["services"][0]], tags=world["tags"][:2])
    StoryFactory(services=[world["services"][0]])
    # Someone emptied the trust's totals behind the services' back
    StoryDayTotal.objects.filter(organisation=trust).delete()
    StoryDayTagTotal.objects.filter(organisation=trust).delete()

    story_withdraw(story_id=story.pk)

    assert StoryDayTotal.objects.get(organisation=trust).stories == 1
    assert not StoryDayTagTotal.objects.filter(organisation=trust, stories__gt=0).exists()
    assert story_totals_differences() == []
    assert "out of step" in caplog.text


def test_the_command_says_when_the_totals_match(world, capsys):
    StoryFactory(services=[world["services"][0]], tags=world["tags"][:1])

    call_command("stories_totals")

    assert "The totals match the story lists: 2 organisation days, 2 tag days." in capsys.readouterr().out


def test_the_command_lists_differences_fails_and_rebuild_mends_them(world, capsys):
    hospital = world["organisations"][1]
    StoryFactory(services=[world["services"][0]], tags=world["tags"][:1], criticality=3)
    StoryDayTotal.objects.filter(organisation=hospital).update(stories=5, criticality_3=5)

    with pytest.raises(CommandError, match="do not match"):
        call_command("stories_totals")
    assert f"Organisation {hospital.pk}" in capsys.readouterr().err

    call_command("stories_totals", "--rebuild")
    assert "Rebuilt the totals: 2 organisation days, 2 tag days." in capsys.readouterr().out
    assert StoryDayTotal.objects.get(organisation=hospital).stories == 1
    assert story_totals_differences() == []


def test_a_rebuild_gives_the_totals_the_services_kept(world):
    for i in range(12):
        StoryFactory(
            services=[world["services"][i % 4]], tags=world["tags"][: i % 4],
            published_at=FIRST + dt.timedelta(days=17 * i), criticality=i % 6,
        )
    kept = sorted(StoryDayTotal.objects.values_list("organisation_id", "day", "stories", "criticality_2"))
    kept_tags = sorted(StoryDayTagTotal.objects.values_list("organisation_id", "day", "tag_id", "stories"))

    story_totals_rebuild()

    assert sorted(StoryDayTotal.objects.values_list("organisation_id", "day", "stories", "criticality_2")) == kept
    assert sorted(StoryDayTagTotal.objects.values_list("organisation_id", "day", "tag_id", "stories")) == kept_tags


# --- At once --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_stories_published_at_the_same_moment_are_all_counted(world):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    trust, ward, tag = world["organisations"][0], world["services"][0], world["tags"][0]
    moment = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
    stories = [StoryFactory(services=[ward], tags=[tag], status="pending") for _ in range(8)]
    start = threading.Barrier(len(stories))
    errors: list[BaseException] = []

    def publish(story: Story) -> None:
        try:
            story.status, story.published_at = StoryStatus.PUBLISHED, moment
            story.save()
            start.wait()
            story_listing_refresh(story=story)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish, args=(story,)) for story in stories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert StoryDayTotal.objects.get(organisation=trust, day=dt.date(2026, 3, 10)).stories == 8
    assert StoryDayTagTotal.objects.get(organisation=trust, day=dt.date(2026, 3, 10), tag=tag).stories == 8
    assert story_totals_differences() == []
