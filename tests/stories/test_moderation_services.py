"""Moderation services: edits keep the original, criticality, tags, rejection, publishing,
holding over working days, provider notice, the clock, restriction, and the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase
from django.utils import timezone
from freezegun import freeze_time
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from localsocial.accounts.models import SiteRole
from localsocial.core.models import AuditEvent
from localsocial.stories.models import (
    ListingScope,
    ProviderDecision,
    ProviderNotice,
    RejectionTemplate,
    Story,
    StoryListing,
    StoryOrganisationSettings,
    StoryRevision,
    Tag,
    TagSuggestion,
)
from localsocial.stories.selectors.common import secret_hash
from localsocial.stories.services import moderation as services
from localsocial.stories.services.common import story_author_secret
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    RoleGrantFactory,
    ServiceFactory,
    StoryFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _urls_loaded():
    # Load the URLconf before any test freezes the clock: the API's schemas, built on import,
    # cannot be made from freezegun's fake datetime class.
    from django.urls import get_resolver

    assert get_resolver().url_patterns



@pytest.fixture
def moderator():
    return RoleGrantFactory(role=SiteRole.MODERATOR).user


@pytest.fixture
def template():
    return RejectionTemplate.objects.create(
        title="Not about a service", body="Your story is not about a public service, so we cannot publish it."
    )


def committing():
    """Run what is queued on commit (emails, tasks) when the block ends, as production does."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def audit_actions(story: Story) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="stories.story", target_id=str(story.pk))
        .order_by("id").values_list("action", flat=True)
    )


# --- Working days ------------------------------------------------------------------------------

def at(day: str, time: str = "10:00") -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(f"{day} {time}"))


def test_two_working_days_from_friday_is_tuesday():
    # 2026-11-27 is a Friday.
    assert services.working_days_add(at("2026-11-27"), 2, holidays=set()) == at("2026-12-01")


def test_working_days_from_a_saturday_start_on_monday():
    assert services.working_days_add(at("2026-11-28"), 1, holidays=set()) == at("2026-11-30")


def test_a_configured_holiday_is_skipped(settings):
    settings.STORIES_NON_WORKING_DAYS = ["2026-12-25", "2026-12-28"]
    # Thursday 24 December + 2 working days: Friday 25 and Monday 28 are holidays,
    # so Tuesday 29 and Wednesday 30.
    assert services.working_days_add(at("2026-12-24"), 2) == at("2026-12-30")


def test_zero_working_days_is_the_start_and_negative_is_refused():
    assert services.working_days_add(at("2026-11-27"), 0) == at("2026-11-27")
    with pytest.raises(ValueError, match="0 or more"):
        services.working_days_add(at("2026-11-27"), -1)


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 12, 31)),
    days=st.integers(min_value=1, max_value=30),
    holidays=st.sets(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2036, 6, 30)), max_size=40),
)
def test_working_days_add_properties(start, days, holidays):
    result = services.working_days_add(start, days, holidays=holidays)
    # It lands on a working day, at the same time of day, after the start ...
    assert result.weekday() < 5
    assert result.date() not in holidays
    assert result.time() == start.time()
    assert result.date() > start.date()
    # ... having passed exactly ``days`` working days.
    counted = 0
    day = start.date()
    while day < result.date():
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            counted += 1
    assert counted == days


# --- Permissions -------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["public", "staff", "author"])
def test_only_moderators_can_use_the_services(who, template):
    story = StoryFactory(status="pending")
    if who == "staff":
        user = MembershipFactory(organisation=story.story_services.first().service.organisation,
                                 role="administrator").user
    elif who == "author":
        user = UserFactory()
        Story.objects.filter(pk=story.pk).update(author=user)
    else:
        user = UserFactory()
    for call in (
        lambda: services.story_publish(story_id=story.pk, actor=user),
        lambda: services.story_reject(story_id=story.pk, actor=user, template_id=template.pk),
        lambda: services.story_criticality_set(story_id=story.pk, actor=user, criticality=3),
        lambda: services.story_edit(story_id=story.pk, actor=user, title="x", body="y", feelings="", reason="z"),
    ):
        with pytest.raises(PermissionDenied):
            call()
    story.refresh_from_db()
    assert story.status == "pending"


# --- Editing -----------------------------------------------------------------------------------

def test_an_edit_keeps_the_original_and_records_a_moderator_revision(moderator):
    story = StoryFactory(status="pending", body="Dr Patel was rude to me on ward 3.")
    revision = services.story_edit(
        story_id=story.pk, actor=moderator, title=story.title, body="The doctor was rude to me on ward 3.",
        feelings=story.feelings, reason="Removed a member of staff's name",
    )
    story.refresh_from_db()
    assert story.body == "The doctor was rude to me on ward 3."
    original = StoryRevision.objects.get(story=story, kind="original")
    assert original.body == "Dr Patel was rude to me on ward 3."
    assert revision is not None
    assert revision.kind == "moderator"
    assert revision.edited_by == moderator
    assert revision.reason == "Removed a member of staff's name"
    event = AuditEvent.objects.get(action="stories.story_edit", target_id=str(story.pk))
    assert event.before["body"] == "Dr Patel was rude to me on ward 3."
    assert event.after["body"] == "The doctor was rude to me on ward 3."
    assert event.actor == moderator


def test_an_edit_needs_a_reason(moderator):
    story = StoryFactory(status="pending")
    with pytest.raises(ValidationError):
        services.story_edit(story_id=story.pk, actor=moderator, title="T", body="B", feelings="", reason="  ")
    assert StoryRevision.objects.filter(story=story, kind="moderator").count() == 0


def test_an_edit_that_changes_nothing_records_nothing(moderator):
    story = StoryFactory(status="pending")
    assert services.story_edit(
        story_id=story.pk, actor=moderator, title=story.title, body=story.body, feelings=story.feelings,
        reason="No change",
    ) is None
    assert audit_actions(story) == []


def test_an_edit_of_a_story_without_revisions_keeps_its_text_as_the_original(moderator):
    story = StoryFactory(status="pending", body="Original words.")
    StoryRevision.objects.filter(story=story).delete()
    services.story_edit(story_id=story.pk, actor=moderator, title=story.title, body="New words.",
                        feelings="", reason="Because")
    assert StoryRevision.objects.get(story=story, kind="original").body == "Original words."


# --- Criticality and tags ----------------------------------------------------------------------

@pytest.mark.parametrize("value", [-1, 6, 99])
def test_criticality_outside_0_to_5_is_refused(moderator, value):
    story = StoryFactory(status="pending", criticality=None)
    with pytest.raises(ValidationError):
        services.story_criticality_set(story_id=story.pk, actor=moderator, criticality=value)
    story.refresh_from_db()
    assert story.criticality is None


@pytest.mark.parametrize("value", [0, 5])
def test_criticality_at_the_bounds_is_saved_on_the_story_and_its_list_rows(moderator, value):
    story = StoryFactory(criticality=2)
    services.story_criticality_set(story_id=story.pk, actor=moderator, criticality=value)
    story.refresh_from_db()
    assert story.criticality == value
    assert set(StoryListing.objects.filter(story=story).values_list("criticality", flat=True)) == {value}
    assert audit_actions(story) == ["stories.story_criticality"]


def test_changing_tags_rewrites_the_tag_lists(moderator):
    old, new = TagFactory(), TagFactory()
    story = StoryFactory(tags=[old])
    services.story_tags_set(story_id=story.pk, actor=moderator, tag_ids=[new.pk])
    tag_rows = set(StoryListing.objects.filter(story=story, scope=ListingScope.TAG).values_list("scope_id", flat=True))
    assert tag_rows == {new.pk}
    assert audit_actions(story) == ["stories.story_tags"]


def test_a_retired_tag_cannot_be_added(moderator):
    retired = TagFactory(is_active=False)
    story = StoryFactory(status="pending")
    with pytest.raises(ValidationError):
        services.story_tags_set(story_id=story.pk, actor=moderator, tag_ids=[retired.pk])
    assert story.tags.count() == 0


def test_accepting_a_suggestion_creates_a_tag_and_a_second_accept_reuses_it(moderator):
    story = StoryFactory()
    first = TagSuggestion.objects.create(story=story, name="Friendly porters", polarity="good")
    tag = services.tag_suggestion_accept(suggestion_id=first.pk, actor=moderator)
    assert tag.name == "Friendly porters"
    assert tag.is_active
    assert story.tags.filter(pk=tag.pk).exists()
    assert StoryListing.objects.filter(story=story, scope=ListingScope.TAG, scope_id=tag.pk).exists()
    other = StoryFactory(status="pending")
    second = TagSuggestion.objects.create(story=other, name="friendly porters", polarity="good")
    assert services.tag_suggestion_accept(suggestion_id=second.pk, actor=moderator) == tag
    assert Tag.objects.filter(name__iexact="friendly porters").count() == 1


def test_declining_a_suggestion_adds_no_tag(moderator):
    story = StoryFactory(status="pending")
    suggestion = TagSuggestion.objects.create(story=story, name="Rude", polarity="improve")
    services.tag_suggestion_decline(suggestion_id=suggestion.pk, actor=moderator)
    suggestion.refresh_from_db()
    assert suggestion.decided_at is not None
    assert suggestion.accepted_tag is None
    assert story.tags.count() == 0
    with pytest.raises(ValidationError):
        services.tag_suggestion_accept(suggestion_id=suggestion.pk, actor=moderator)


# --- Rejecting ---------------------------------------------------------------------------------

def test_rejecting_emails_the_author_the_reason_with_their_private_link(moderator, template):
    story = StoryFactory(status="pending", author_email="sam@example.org")
    with committing():
        services.story_reject(story_id=story.pk, actor=moderator, template_id=template.pk, note="Thank you.")
    story.refresh_from_db()
    assert story.status == "rejected"
    assert story.rejection_reason.startswith("Your story is not about a public service")
    assert story.moderated_by == moderator
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["sam@example.org"]
    assert "Your story is not about a public service, so we cannot publish it." in message.body
    assert "Thank you." in message.body
    # The link in the email opens the author's private page: its secret is the story's own.
    secret = message.body.split("/stories/mine/")[1].split("/")[0]
    assert secret == story_author_secret(story=story)
    assert story.author_token_hash == secret_hash(secret)
    assert audit_actions(story) == ["stories.story_reject"]


def test_a_retired_template_cannot_be_used(moderator, template):
    template.is_active = False
    template.save()
    story = StoryFactory(status="pending")
    with pytest.raises(ValidationError):
        services.story_reject(story_id=story.pk, actor=moderator, template_id=template.pk)


def test_a_published_story_cannot_be_rejected(moderator, template):
    story = StoryFactory()
    with pytest.raises(ValidationError):
        services.story_reject(story_id=story.pk, actor=moderator, template_id=template.pk)
    story.refresh_from_db()
    assert story.status == "published"


def test_an_assisted_story_without_an_email_is_rejected_without_an_email(moderator, template):
    story = StoryFactory(status="pending", author_email="assisted-abc@no-email.invalid")
    with committing():
        services.story_reject(story_id=story.pk, actor=moderator, template_id=template.pk)
    assert mail.outbox == []


# --- Publishing --------------------------------------------------------------------------------

def test_publishing_puts_it_in_its_lists_and_tells_the_author(moderator):
    story = StoryFactory(status="pending", author_email="sam@example.org")
    assert not StoryListing.objects.filter(story=story).exists()
    with committing():
        services.story_publish(story_id=story.pk, actor=moderator)
    story.refresh_from_db()
    assert story.status == "published"
    assert story.published_at is not None
    assert story.moderated_by == moderator
    assert story.moderated_at is not None
    assert StoryListing.objects.filter(story=story, scope=ListingScope.ALL).exists()
    assert [m.subject for m in mail.outbox] == ["Your story is published"]
    assert f"/stories/{story.pk}/" in mail.outbox[0].body
    assert audit_actions(story) == ["stories.story_publish"]


def test_publishing_twice_is_harmless(moderator):
    story = StoryFactory(status="pending")
    with committing():
        services.story_publish(story_id=story.pk, actor=moderator)
    story.refresh_from_db()
    first_published_at = story.published_at
    rows = StoryListing.objects.filter(story=story).count()
    with committing():
        services.story_publish(story_id=story.pk, actor=moderator)
    story.refresh_from_db()
    assert story.published_at == first_published_at
    assert StoryListing.objects.filter(story=story).count() == rows
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("status", ["rejected", "withdrawn", "restricted"])
def test_a_story_decided_otherwise_cannot_be_published(moderator, status):
    story = StoryFactory(status=status)
    with pytest.raises(ValidationError):
        services.story_publish(story_id=story.pk, actor=moderator)
    story.refresh_from_db()
    assert story.status == status


# --- Holding -----------------------------------------------------------------------------------

@pytest.mark.clock("2026-11-27 10:00:00")  # a Friday
def test_a_very_critical_story_is_held_for_working_days_and_the_service_told(moderator, settings):
    settings.STORIES_HOLD_WORKING_DAYS = 2
    service = ServiceFactory()
    responder = MembershipFactory(organisation=service.organisation, role="responder").user
    MembershipFactory(organisation=service.organisation, role="member")  # not told
    story = StoryFactory(status="pending", criticality=4, services=[service])
    with committing():
        services.story_publish(story_id=story.pk, actor=moderator, hold=True)
    story.refresh_from_db()
    assert story.status == "held"
    assert story.held_until == at("2026-12-01")  # Tuesday, over the weekend
    assert not StoryListing.objects.filter(story=story).exists()
    assert [m.to for m in mail.outbox] == [[responder.email]]
    assert "will be published on 1 December 2026" in mail.outbox[0].body
    assert audit_actions(story) == ["stories.story_hold"]


@pytest.mark.clock("2026-12-24 10:00:00")  # a Thursday
def test_a_hold_skips_configured_bank_holidays(moderator, settings):
    settings.STORIES_HOLD_WORKING_DAYS = 2
    settings.STORIES_NON_WORKING_DAYS = ["2026-12-25", "2026-12-28"]
    story = StoryFactory(status="pending", criticality=5)
    services.story_publish(story_id=story.pk, actor=moderator, hold=True)
    story.refresh_from_db()
    assert story.held_until == at("2026-12-30")


def test_a_story_that_is_not_very_critical_cannot_be_held(moderator):
    story = StoryFactory(status="pending", criticality=3)
    with pytest.raises(ValidationError):
        services.story_publish(story_id=story.pk, actor=moderator, hold=True)
    story.refresh_from_db()
    assert story.status == "pending"


@pytest.mark.clock("2026-11-27 10:00:00")  # the fixtures' data too
def test_the_clock_publishes_a_held_story_when_its_time_comes_and_only_once(moderator):
    with freeze_time("2026-11-27 10:00:00"):
        story = StoryFactory(status="pending", criticality=4)
        services.story_publish(story_id=story.pk, actor=moderator, hold=True)
    with freeze_time("2026-11-30 10:00:00"):
        assert services.stories_release_due() == {"held": 0, "notice": 0}
        story.refresh_from_db()
        assert story.status == "held"
    with freeze_time("2026-12-01 10:00:01"), committing():
        assert services.stories_release_due() == {"held": 1, "notice": 0}
        assert services.stories_release_due() == {"held": 0, "notice": 0}
    story.refresh_from_db()
    assert story.status == "published"
    assert StoryListing.objects.filter(story=story, scope=ListingScope.ALL).exists()
    assert audit_actions(story) == ["stories.story_hold", "stories.story_release"]


def test_a_moderator_can_publish_a_held_story_at_once(moderator):
    story = StoryFactory(status="pending", criticality=4)
    services.story_publish(story_id=story.pk, actor=moderator, hold=True)
    services.story_publish(story_id=story.pk, actor=moderator)
    story.refresh_from_db()
    assert story.status == "published"
    assert story.held_until is None


# --- Provider notice ---------------------------------------------------------------------------

@pytest.fixture
def provider_setup():
    """A private care group with a home; a story about the home's service; the group's
    administrator, the home's responder, and staff of an unrelated organisation."""
    group = OrganisationFactory(name="Sunrise Care Group", is_private_provider=True, org_type="care_provider")
    home = OrganisationFactory(name="Sunrise House", parent=group, org_type="care_provider")
    service = ServiceFactory(organisation=home, name="Residential care")
    admin = MembershipFactory(organisation=group, role="administrator").user
    responder = MembershipFactory(organisation=home, role="responder").user
    outsider = MembershipFactory(organisation=OrganisationFactory(), role="administrator").user
    story = StoryFactory(status="pending", services=[service], criticality=2)
    return {"group": group, "home": home, "service": service, "admin": admin, "responder": responder,
            "outsider": outsider, "story": story}


@pytest.mark.clock("2026-11-27 10:00:00")
def test_a_story_about_a_private_provider_waits_for_it(moderator, provider_setup):
    story = provider_setup["story"]
    with committing():
        services.story_publish(story_id=story.pk, actor=moderator)
    story.refresh_from_db()
    assert story.status == "notice"
    notice = ProviderNotice.objects.get(story=story)
    assert notice.organisation == provider_setup["group"]
    assert notice.deadline == timezone.now() + dt.timedelta(hours=72)
    assert not StoryListing.objects.filter(story=story).exists()
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == [provider_setup["admin"].email]  # the responder of the home is below the group
    assert f"/stories/moderation/notices/{notice.pk}/" in mail.outbox[0].body
    assert audit_actions(story) == ["stories.story_notice"]


@pytest.mark.clock("2026-11-27 10:00:00")
def test_an_organisation_sets_its_own_notice_window(moderator, provider_setup):
    StoryOrganisationSettings.objects.create(organisation=provider_setup["group"], provider_notice_hours=24)
    services.story_publish(story_id=provider_setup["story"].pk, actor=moderator)
    notice = ProviderNotice.objects.get(story=provider_setup["story"])
    assert notice.deadline == timezone.now() + dt.timedelta(hours=24)


def _give_notice(moderator, setup) -> ProviderNotice:
    services.story_publish(story_id=setup["story"].pk, actor=moderator)
    return ProviderNotice.objects.get(story=setup["story"])


def test_go_ahead_publishes_at_once(moderator, provider_setup):
    notice = _give_notice(moderator, provider_setup)
    services.provider_notice_go_ahead(notice_id=notice.pk, actor=provider_setup["admin"])
    story = Story.objects.get(pk=provider_setup["story"].pk)
    assert story.status == "published"
    notice.refresh_from_db()
    assert notice.decision == ProviderDecision.GO_AHEAD
    assert notice.decided_by == provider_setup["admin"]
    assert "stories.provider_go_ahead" in audit_actions(story)


def test_go_ahead_waits_for_every_provider(moderator, provider_setup):
    other = OrganisationFactory(is_private_provider=True)
    other_admin = MembershipFactory(organisation=other, role="administrator").user
    provider_setup["story"].story_services.create(service=ServiceFactory(organisation=other), position=1)
    services.story_publish(story_id=provider_setup["story"].pk, actor=moderator)
    first = ProviderNotice.objects.get(story=provider_setup["story"], organisation=provider_setup["group"])
    second = ProviderNotice.objects.get(story=provider_setup["story"], organisation=other)
    services.provider_notice_go_ahead(notice_id=first.pk, actor=provider_setup["admin"])
    assert Story.objects.get(pk=provider_setup["story"].pk).status == "notice"
    services.provider_notice_go_ahead(notice_id=second.pk, actor=other_admin)
    assert Story.objects.get(pk=provider_setup["story"].pk).status == "published"


def test_a_responder_below_the_provider_may_answer_but_other_organisations_may_not(moderator, provider_setup):
    notice = _give_notice(moderator, provider_setup)
    # The home's responder is below the group that got notice: a role applies downwards only.
    for user in (provider_setup["outsider"], provider_setup["responder"], UserFactory()):
        with pytest.raises(PermissionDenied):
            services.provider_notice_go_ahead(notice_id=notice.pk, actor=user)
    assert Story.objects.get(pk=provider_setup["story"].pk).status == "notice"


@pytest.mark.clock("2026-11-27 10:00:00")  # the fixtures' data too
def test_asking_for_a_review_stops_the_clock_until_a_moderator_decides(moderator, provider_setup):
    with freeze_time("2026-11-27 10:00:00"):
        notice = _give_notice(moderator, provider_setup)
        services.provider_notice_ask_review(notice_id=notice.pk, actor=provider_setup["admin"],
                                            note="It names our manager.")
    with freeze_time("2026-12-05 10:00:00"):
        assert services.stories_release_due() == {"held": 0, "notice": 0}
    story = Story.objects.get(pk=provider_setup["story"].pk)
    assert story.status == "notice"
    notice.refresh_from_db()
    assert notice.decision == ProviderDecision.ASK_REVIEW
    assert notice.decision_note == "It names our manager."
    services.story_publish(story_id=story.pk, actor=moderator)
    assert Story.objects.get(pk=story.pk).status == "published"


def test_asking_for_a_review_emails_the_moderators_what_to_look_at(
    moderator, provider_setup, django_capture_on_commit_callbacks
):
    notice = _give_notice(moderator, provider_setup)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.provider_notice_ask_review(notice_id=notice.pk, actor=provider_setup["admin"],
                                            note="It names our manager.")

    [email] = [m for m in mail.outbox if m.subject == "A provider asked for a review before publication"]
    assert moderator.email in email.to
    assert provider_setup["admin"].email not in email.to
    assert "It names our manager." in email.body
    assert f"/stories/moderation/{provider_setup['story'].pk}/" in email.body


def test_asking_for_a_review_needs_a_note(moderator, provider_setup):
    notice = _give_notice(moderator, provider_setup)
    with pytest.raises(ValidationError):
        services.provider_notice_ask_review(notice_id=notice.pk, actor=provider_setup["admin"], note=" ")
    notice.refresh_from_db()
    assert notice.decision == ProviderDecision.WAITING


@pytest.mark.clock("2026-11-27 10:00:00")  # the fixtures' data too
def test_after_the_deadline_the_story_publishes_by_itself(moderator, provider_setup):
    with freeze_time("2026-11-27 10:00:00"):
        notice = _give_notice(moderator, provider_setup)
    with freeze_time("2026-11-30 09:59:00"):
        assert services.stories_release_due() == {"held": 0, "notice": 0}
    with freeze_time("2026-11-30 10:00:00"):
        with pytest.raises(ValidationError):  # too late to answer
            services.provider_notice_ask_review(notice_id=notice.pk, actor=provider_setup["admin"], note="Wait")
        assert services.stories_release_due() == {"held": 0, "notice": 1}
    assert Story.objects.get(pk=provider_setup["story"].pk).status == "published"


@pytest.mark.clock("2026-11-27 10:00:00")  # the fixtures' data too
def test_a_moderator_rejection_wins_over_the_deadline(moderator, provider_setup, template):
    with freeze_time("2026-11-27 10:00:00"):
        _give_notice(moderator, provider_setup)
        services.story_reject(story_id=provider_setup["story"].pk, actor=moderator, template_id=template.pk)
    with freeze_time("2026-12-05 10:00:00"):
        assert services.stories_release_due() == {"held": 0, "notice": 0}
    assert Story.objects.get(pk=provider_setup["story"].pk).status == "rejected"


# --- Restricting -------------------------------------------------------------------------------

def test_restricting_takes_it_out_of_every_list_and_records_who_and_why(moderator):
    story = StoryFactory()
    assert StoryListing.objects.filter(story=story).exists()
    services.story_restrict(story_id=story.pk, actor=moderator, reason="Legal advice",
                            restricted_by="the moderators")
    story.refresh_from_db()
    assert story.status == "restricted"
    assert (story.restricted_by, story.restriction_reason) == ("the moderators", "Legal advice")
    assert not StoryListing.objects.filter(story=story).exists()
    services.story_unrestrict(story_id=story.pk, actor=moderator)
    story.refresh_from_db()
    assert story.status == "published"
    assert story.restricted_by == ""
    assert StoryListing.objects.filter(story=story, scope=ListingScope.ALL).exists()
    assert audit_actions(story) == ["stories.story_restrict", "stories.story_unrestrict"]


def test_restricting_needs_a_reason_and_a_published_story(moderator):
    story = StoryFactory()
    with pytest.raises(ValidationError):
        services.story_restrict(story_id=story.pk, actor=moderator, reason="  ")
    pending = StoryFactory(status="pending")
    with pytest.raises(ValidationError):
        services.story_restrict(story_id=pending.pk, actor=moderator, reason="Legal advice")


# --- Rejection templates -----------------------------------------------------------------------

def test_templates_are_added_changed_and_retired_with_an_audit_trail(moderator):
    template = services.rejection_template_save(actor=moderator, title="Too old", body="It happened too long ago.")
    with pytest.raises(ValidationError):
        services.rejection_template_save(actor=moderator, title="too old", body="Again")
    services.rejection_template_save(actor=moderator, template_id=template.pk, title="Too old",
                                     body="It happened more than two years ago.")
    services.rejection_template_set_active(actor=moderator, template_id=template.pk, is_active=False)
    template.refresh_from_db()
    assert template.body == "It happened more than two years ago."
    assert not template.is_active
    assert list(
        AuditEvent.objects.filter(target_type="stories.rejectiontemplate").order_by("id").values_list("action", flat=True)
    ) == ["stories.rejection_template_create", "stories.rejection_template_update",
          "stories.rejection_template_retire"]


# --- The command and the task ------------------------------------------------------------------

@pytest.mark.clock("2026-11-27 10:00:00")  # the fixtures' data too
def test_the_tick_command_publishes_what_is_due_and_says_how_many(moderator):
    from io import StringIO

    from django.core.management import call_command

    with freeze_time("2026-11-27 10:00:00"):
        story = StoryFactory(status="pending", criticality=4)
        services.story_publish(story_id=story.pk, actor=moderator, hold=True)
    with freeze_time("2026-12-02 10:00:00"):
        out = StringIO()
        call_command("stories_tick", stdout=out)
        assert out.getvalue().strip() == "Published 1 held and 0 after provider notice."
        out = StringIO()
        call_command("stories_tick", stdout=out)
        assert out.getvalue().strip() == "Published 0 held and 0 after provider notice."
    assert Story.objects.get(pk=story.pk).status == "published"


def test_the_task_publishes_what_is_due(moderator):
    from localsocial.stories.tasks.moderation import stories_release_due_task

    story = StoryFactory(status="pending", criticality=5)
    services.story_publish(story_id=story.pk, actor=moderator, hold=True)
    Story.objects.filter(pk=story.pk).update(held_until=timezone.now() - dt.timedelta(minutes=1))
    result = stories_release_due_task.enqueue()
    assert result.return_value == {"held": 1, "notice": 0}
    assert Story.objects.get(pk=story.pk).status == "published"


# --- Two at once (PostgreSQL: SQLite has one writer at a time) ---------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_moderators_publishing_at_once_publish_once():
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("Row locks need PostgreSQL.")
    first = RoleGrantFactory(role=SiteRole.MODERATOR).user
    second = RoleGrantFactory(role=SiteRole.MODERATOR).user
    story = StoryFactory(status="pending")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def publish(user) -> None:
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            services.story_publish(story_id=story.pk, actor=user)
        except BaseException as exc:
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=publish, args=(user,)) for user in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Story.objects.get(pk=story.pk).status == "published"
    assert audit_actions(story) == ["stories.story_publish"]
    assert [m.subject for m in mail.outbox] == ["Your story is published"]
