"""Staff alerts: which published stories reach which alerts, and that every email goes once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from freezegun import freeze_time

from localsocial.stories.models import (
    AlertDelivery,
    AlertFrequency,
    AlertSubscription,
    Progress,
    Story,
    StoryListing,
)
from localsocial.stories.selectors.alerts import alert_story_facts, alert_subscriptions_matching
from localsocial.stories.services.alerts import alerts_match_story, alerts_send_digests
from localsocial.stories.services.events import alerts_queue_for_story
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    ServiceFactory,
    StoryFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    """A trust with a hospital with a children's ward; another council elsewhere."""
    trust = OrganisationFactory(name="Riverside NHS Trust", slug="riverside-trust", org_type="nhs_trust")
    hospital = OrganisationFactory(name="Riverside Hospital", slug="riverside-hospital", parent=trust,
                                   org_type="hospital")
    ward = ServiceFactory(organisation=hospital, name="Children's ward", slug="childrens-ward")
    clinic = ServiceFactory(organisation=hospital, name="Eye clinic", slug="eye-clinic")
    council = OrganisationFactory(name="Hilltown Council", slug="hilltown")
    bins = ServiceFactory(organisation=council, name="Bin collection", slug="bins")
    return {"trust": trust, "hospital": hospital, "ward": ward, "clinic": clinic, "council": council, "bins": bins}


def staff_of(org, **user_fields):
    return MembershipFactory(organisation=org, user=UserFactory(**user_fields)).user


def alert_for(user, *, organisation=None, services=(), tags=(), min_criticality=0,
              frequency=AlertFrequency.IMMEDIATE, is_active=True, name="My alert"):
    alert = AlertSubscription.objects.create(
        user=user, name=name, organisation=organisation, min_criticality=min_criticality,
        frequency=frequency, is_active=is_active,
    )
    alert.services.set(services)
    alert.tags.set(tags)
    return alert


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    """Run what follows a publication for the alerts (the task, then the emails it queues)."""

    def run(story):
        with django_capture_on_commit_callbacks(execute=True):
            alerts_queue_for_story(story_id=story.pk)

    return run


@pytest.fixture
def digests(django_capture_on_commit_callbacks):
    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return alerts_send_digests(**kwargs)

    return run


def recipients():
    return sorted(address for message in mail.outbox for address in message.to)


# --- Who gets which story ---------------------------------------------------------------------

def test_an_alert_on_a_trust_gets_a_story_about_a_ward_of_one_of_its_hospitals(tree, publish):
    # Given an alert of a trust's member of staff on the trust (and so everything in it)
    user = staff_of(tree["trust"], email="sam@trust.example", display_name="Sam")
    alert_for(user, organisation=tree["trust"], name="All our stories")
    body = " ".join(f"word{i}" for i in range(80))
    story = StoryFactory(services=[tree["ward"], tree["clinic"]], title="Waiting with my son", body=body,
                         criticality=3)

    # When the story is published
    publish(story)

    # Then one plain email tells them about it, with how to change the alert
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["sam@trust.example"]
    assert message.subject == "New story: Waiting with my son"
    text = message.body
    assert "Hello Sam," in text
    assert "“All our stories”" in text
    assert "Children's ward, Eye clinic" in text
    assert "Criticality: Moderately critical" in text
    assert "word59 …" in text
    assert "word60" not in text  # the first 60 words
    assert f"{settings.SITE_URL}/stories/{story.pk}/" in text
    assert f"{settings.SITE_URL}/stories/alerts/" in text


def test_an_alert_on_an_organisation_gets_nothing_about_another_one(tree, publish):
    user = staff_of(tree["council"])
    alert_for(user, organisation=tree["council"])

    publish(StoryFactory(services=[tree["ward"]]))

    assert mail.outbox == []
    assert not AlertDelivery.objects.exists()


def test_an_alert_on_a_hospital_does_not_get_stories_about_the_rest_of_its_trust(tree, publish):
    other_hospital = OrganisationFactory(parent=tree["trust"])
    user = staff_of(tree["hospital"])
    alert_for(user, organisation=tree["hospital"])

    publish(StoryFactory(services=[ServiceFactory(organisation=other_hospital)]))

    assert mail.outbox == []


def test_an_alert_on_chosen_services_gets_only_stories_about_them(tree, publish):
    user = staff_of(tree["trust"], email="ward@trust.example")
    alert_for(user, services=[tree["ward"]])

    publish(StoryFactory(services=[tree["clinic"]], title="About the clinic"))
    publish(StoryFactory(services=[tree["clinic"], tree["ward"]], title="About the clinic and the ward"))

    assert [m.subject for m in mail.outbox] == ["New story: About the clinic and the ward"]


def test_an_alert_with_tags_gets_only_stories_with_one_of_them(tree, publish):
    waiting = TagFactory(name="Waiting time", slug="waiting", polarity="improve")
    parking = TagFactory(name="Parking", slug="parking", polarity="improve")
    kind = TagFactory(name="Kind staff", slug="kind", polarity="good")
    user = staff_of(tree["trust"])
    alert_for(user, organisation=tree["trust"], tags=[waiting, parking])

    publish(StoryFactory(services=[tree["ward"]], tags=[kind], title="Kind"))
    publish(StoryFactory(services=[tree["ward"]], title="No tags"))
    publish(StoryFactory(services=[tree["ward"]], tags=[kind, parking], title="Kind but parking"))

    assert [m.subject for m in mail.outbox] == ["New story: Kind but parking"]


@pytest.mark.parametrize(("criticality", "alerted"), [(2, False), (3, True), (5, True)])
def test_an_alert_gets_only_stories_at_or_above_its_criticality(tree, publish, criticality, alerted):
    user = staff_of(tree["trust"])
    alert_for(user, organisation=tree["trust"], min_criticality=3)

    publish(StoryFactory(services=[tree["ward"]], criticality=criticality))

    assert len(mail.outbox) == (1 if alerted else 0)


def test_a_story_not_yet_rated_counts_as_not_critical(tree, publish):
    user = staff_of(tree["trust"])
    alert_for(user, organisation=tree["trust"], min_criticality=1)
    alert_for(staff_of(tree["trust"]), organisation=tree["trust"], min_criticality=0)

    publish(StoryFactory(services=[tree["ward"]], criticality=None))

    assert len(mail.outbox) == 1


def test_a_paused_alert_gets_nothing(tree, publish):
    user = staff_of(tree["trust"])
    alert_for(user, organisation=tree["trust"], is_active=False)

    publish(StoryFactory(services=[tree["ward"]]))

    assert mail.outbox == []
    assert not AlertDelivery.objects.exists()


def test_someone_who_has_left_the_organisation_gets_nothing(tree, publish):
    user = staff_of(tree["trust"])
    alert_for(user, organisation=tree["trust"])
    user.organisation_memberships.all().delete()

    publish(StoryFactory(services=[tree["ward"]]))

    assert mail.outbox == []


@pytest.mark.parametrize("status", ["pending", "withdrawn", "rejected", "restricted"])
def test_a_story_that_is_not_published_alerts_nobody(tree, publish, status):
    user = staff_of(tree["trust"])
    alert_for(user, organisation=tree["trust"])
    story = StoryFactory(services=[tree["ward"]], status=status)

    publish(story)

    assert mail.outbox == []
    assert not AlertDelivery.objects.exists()


def test_a_story_withdrawn_before_the_task_runs_alerts_nobody(tree, publish):
    user = staff_of(tree["trust"])
    alert_for(user, organisation=tree["trust"])
    story = StoryFactory(services=[tree["ward"]])
    Story.objects.filter(pk=story.pk).update(status="withdrawn", withdrawn_at=story.published_at)

    publish(story)

    assert mail.outbox == []


def test_matching_is_one_query_however_many_alerts(tree, django_assert_num_queries):
    for _ in range(30):
        alert_for(staff_of(tree["trust"]), organisation=tree["trust"], tags=[TagFactory()], min_criticality=1)
        alert_for(staff_of(tree["hospital"]), services=[tree["ward"]])
    facts = alert_story_facts(story_id=StoryFactory(services=[tree["ward"]], criticality=2).pk)

    with django_assert_num_queries(1):
        matches = alert_subscriptions_matching(facts=facts)

    assert len(matches) == 30  # the untagged ones; the tagged ones need a tag the story lacks


# --- Once only ----------------------------------------------------------------------------------

def test_running_the_task_twice_sends_each_alert_once(tree, publish):
    alert_for(staff_of(tree["trust"]), organisation=tree["trust"])
    alert_for(staff_of(tree["hospital"]), services=[tree["ward"]])
    story = StoryFactory(services=[tree["ward"]])

    publish(story)
    publish(story)

    assert len(mail.outbox) == 2
    assert AlertDelivery.objects.filter(story=story).count() == 2
    assert not AlertDelivery.objects.filter(sent_at__isnull=True).exists()


def test_a_match_another_worker_already_inserted_is_not_duplicated_or_resent(tree, publish):
    # Given another worker has inserted and claimed this alert's delivery a moment ago
    alert = alert_for(staff_of(tree["trust"]), organisation=tree["trust"])
    story = StoryFactory(services=[tree["ward"]])
    AlertDelivery.objects.create(subscription=alert, story=story, sent_at=story.published_at)

    # When this worker runs the same task
    publish(story)

    # Then nothing is added and nothing is sent again
    assert AlertDelivery.objects.filter(story=story).count() == 1
    assert mail.outbox == []


def test_a_delivery_left_unsent_by_a_crashed_run_is_sent_by_the_next_one(tree, publish):
    alert = alert_for(staff_of(tree["trust"]), organisation=tree["trust"])
    story = StoryFactory(services=[tree["ward"]])
    AlertDelivery.objects.create(subscription=alert, story=story)  # inserted, never claimed

    publish(story)

    assert len(mail.outbox) == 1
    assert AlertDelivery.objects.get().sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_alert_once(tree):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    for _ in range(5):
        alert_for(staff_of(tree["trust"]), organisation=tree["trust"])
    story = StoryFactory(services=[tree["ward"]])
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker():
        try:
            start.wait()
            alerts_match_story(story_id=story.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert AlertDelivery.objects.filter(story=story).count() == 5
    assert len(mail.outbox) == 5


# --- Heard --------------------------------------------------------------------------------------

def test_a_story_is_heard_once_an_alert_about_it_is_sent(tree, publish):
    alert_for(staff_of(tree["trust"]), organisation=tree["trust"])
    # The test's own clock, stopped so that the moment can be compared exactly
    published = timezone.now().replace(microsecond=0)

    with freeze_time(published):
        story = StoryFactory(services=[tree["ward"]])
        publish(story)

    story.refresh_from_db()
    assert story.progress == Progress.HEARD
    assert story.heard_at == published
    assert set(StoryListing.objects.filter(story=story).values_list("progress", flat=True)) == {Progress.HEARD}


def test_a_story_nobody_was_alerted_about_stays_unheard(tree, publish):
    alert_for(staff_of(tree["council"]), organisation=tree["council"])
    story = StoryFactory(services=[tree["ward"]])

    publish(story)

    story.refresh_from_db()
    assert story.progress == Progress.UNHEARD
    assert story.heard_at is None


# --- Daily digests -----------------------------------------------------------------------------

def test_a_daily_alert_waits_for_the_digest_which_lists_every_story_once(tree, publish, digests):
    user = staff_of(tree["trust"], email="digest@trust.example")
    alert = alert_for(user, organisation=tree["trust"], frequency=AlertFrequency.DAILY, name="Daily")
    # One clock for the whole day, run by the test: the stories are published, and the
    # digest is sent the next morning, both on it (never a fixed date against real time)
    published = timezone.now().replace(microsecond=0)
    next_morning = published + dt.timedelta(hours=13, minutes=15)
    with freeze_time(published):
        first = StoryFactory(services=[tree["ward"]], title="First story", criticality=4)
        second = StoryFactory(services=[tree["clinic"]], title="Second story", criticality=0)
        publish(first)
        publish(second)
    assert mail.outbox == []  # nothing yet

    with freeze_time(next_morning):
        sent = digests()

    assert sent == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["digest@trust.example"]
    assert message.subject == "2 new stories for your alert “Daily”"
    assert "First story" in message.body
    assert "Second story" in message.body
    assert "Children's ward" in message.body
    assert "Eye clinic" in message.body
    assert "Strongly critical" in message.body
    assert "Not critical" in message.body
    assert f"/stories/{first.pk}/" in message.body
    assert "/stories/alerts/" in message.body
    alert.refresh_from_db()
    assert alert.last_digest_at == next_morning
    first.refresh_from_db()
    assert first.progress == Progress.HEARD
    assert first.heard_at == next_morning

    # When the digests run again the day after, nothing more is sent
    with freeze_time(next_morning + dt.timedelta(days=1)):
        assert digests() == 0
    assert len(mail.outbox) == 1


def test_each_daily_alert_gets_its_own_digest(tree, publish, digests):
    alert_for(staff_of(tree["trust"]), organisation=tree["trust"], frequency=AlertFrequency.DAILY)
    alert_for(staff_of(tree["hospital"]), services=[tree["clinic"]], frequency=AlertFrequency.DAILY)
    publish(StoryFactory(services=[tree["ward"]]))
    publish(StoryFactory(services=[tree["clinic"]]))

    digests()

    assert len(mail.outbox) == 2
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == ["1 new story for your alert “My alert”", "2 new stories for your alert “My alert”"]


def test_a_digest_leaves_out_stories_withdrawn_since_and_is_not_sent_for_none(tree, publish, digests):
    alert_for(staff_of(tree["trust"]), organisation=tree["trust"], frequency=AlertFrequency.DAILY)
    story = StoryFactory(services=[tree["ward"]])
    publish(story)
    Story.objects.filter(pk=story.pk).update(status="withdrawn", withdrawn_at=story.published_at)

    assert digests() == 0
    assert mail.outbox == []
    assert not AlertDelivery.objects.filter(sent_at__isnull=True).exists()


def test_a_paused_daily_alert_keeps_its_stories_until_it_is_on_again(tree, publish, digests):
    alert = alert_for(staff_of(tree["trust"]), organisation=tree["trust"], frequency=AlertFrequency.DAILY)
    publish(StoryFactory(services=[tree["ward"]], title="Before the pause"))
    AlertSubscription.objects.filter(pk=alert.pk).update(is_active=False)

    assert digests() == 0
    publish(StoryFactory(services=[tree["ward"]], title="During the pause"))
    AlertSubscription.objects.filter(pk=alert.pk).update(is_active=True)
    assert digests() == 1

    assert "Before the pause" in mail.outbox[0].body
    assert "During the pause" not in mail.outbox[0].body


def test_the_digest_command_sends_the_digests(tree, publish, django_capture_on_commit_callbacks, capsys):
    alert_for(staff_of(tree["trust"]), organisation=tree["trust"], frequency=AlertFrequency.DAILY)
    publish(StoryFactory(services=[tree["ward"]]))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("stories_send_digests")

    assert "Sent 1 daily digest(s)." in capsys.readouterr().out
    assert len(mail.outbox) == 1
