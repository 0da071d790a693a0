"""Moderation: every decision a moderator takes about a story, holding very critical stories,
advance notice to private providers, and the clock that publishes what has waited long enough.

Each service locks the story row (``select_for_update``) before it looks at the status, and
changes the status with a conditional UPDATE, so two moderators pressing "Publish" at once, or
a provider answering while the clock runs, publish once.  Every action is recorded in the audit
log.  See docs/stories-moderation.md for the status diagram.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from localsocial.accounts.models import RoleGrant, SiteRole, User
from localsocial.core.email import email_send, site_url
from localsocial.core.services import audit_record
from localsocial.directory.models import Organisation, OrganisationMembership
from localsocial.stories.models import (
    Criticality,
    ProviderDecision,
    ProviderNotice,
    RejectionTemplate,
    Story,
    StoryOrganisationSettings,
    StoryRevision,
    StoryStatus,
    Tag,
    TagSuggestion,
)
from localsocial.stories.models.story import VERY_CRITICAL, author_has_email
from localsocial.stories.page_groups import story_pages_changed
from localsocial.stories.selectors.common import RESPONDING_ROLES, story_organisation_ids
from localsocial.stories.services.common import private_link, story_author_link_secret
from localsocial.stories.services.events import story_hidden_effects, story_published_effects
from localsocial.stories.services.listing import story_listing_refresh, story_listing_sync

# Statuses a moderator may still publish from, and those the text may still be edited in.
PUBLISHABLE_STATUSES = (StoryStatus.PENDING, StoryStatus.HELD, StoryStatus.NOTICE)
MODERATOR_EDITABLE_STATUSES = (
    StoryStatus.PENDING, StoryStatus.HELD, StoryStatus.NOTICE, StoryStatus.PUBLISHED, StoryStatus.RESTRICTED,
)
DEFAULT_RESTRICTED_BY = gettext_lazy("the moderators")


# --- Small helpers ---------------------------------------------------------------------------

def _require_moderator(user: User) -> None:
    """Services check again what the views check: no caller can forget."""
    if not (getattr(user, "is_authenticated", False) and user.is_active and user.has_perm("stories.moderate")):
        raise PermissionDenied(_("Only moderators can do this."))


def _lock_story(story_id: int) -> Story:
    try:
        return Story.objects.select_for_update().get(pk=story_id)
    except Story.DoesNotExist as exc:
        raise ValidationError(_("There is no such story.")) from exc


def story_public_path(*, story: Story) -> str:
    """The address of the story's public page."""
    try:
        return reverse("stories:story", kwargs={"pk": story.pk})
    except NoReverseMatch:  # the reading part's page is not there yet
        return f"/stories/{story.pk}/"


def _author_private_url(story: Story) -> str:
    """The author's private link: the same one every email carries (derived from the story;
    see ``services.common.story_author_secret``)."""
    return private_link(secret=story_author_link_secret(story=story))


def _story_text(story: Story) -> dict[str, str]:
    return {"title": story.title, "body": story.body, "feelings": story.feelings}


def _emails_of(memberships: Iterable[OrganisationMembership]) -> list[str]:
    return sorted({m.user.email for m in memberships if m.user.email})


# --- Working days ----------------------------------------------------------------------------

def non_working_days() -> set[dt.date]:
    """The bank holidays from ``settings.STORIES_NON_WORKING_DAYS`` (YYYY-MM-DD each)."""
    days: set[dt.date] = set()
    for value in getattr(settings, "STORIES_NON_WORKING_DAYS", []) or []:
        value = str(value).strip()
        if value:
            days.add(dt.date.fromisoformat(value))
    return days


def is_working_day(day: dt.date, holidays: set[dt.date] | None = None) -> bool:
    holidays = non_working_days() if holidays is None else holidays
    return day.weekday() < 5 and day not in holidays


def working_days_add(start: dt.datetime, days: int, *, holidays: set[dt.date] | None = None) -> dt.datetime:
    """The same local time of day ``days`` working days after ``start``: Saturdays, Sundays
    and the configured bank holidays are skipped.  Friday 10:00 + 2 is Tuesday 10:00; Saturday
    10:00 + 1 is Monday 10:00.  ``days`` must be 0 or more (0 returns ``start``)."""
    if days < 0:
        raise ValueError("days must be 0 or more")
    holidays = non_working_days() if holidays is None else holidays
    aware = timezone.is_aware(start)
    local = timezone.localtime(start) if aware else start
    day = local.date()
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_working_day(day, holidays):
            counted += 1
    naive = dt.datetime.combine(day, local.time().replace(tzinfo=None))
    if aware:
        # Made aware again in local time, so a hold across the clocks changing keeps the hour.
        return timezone.make_aware(naive, timezone.get_current_timezone())
    return naive


# --- Editing, criticality and tags -----------------------------------------------------------

@transaction.atomic
def story_edit(
    *, story_id: int, actor: User, title: str, body: str, feelings: str, reason: str,
) -> StoryRevision | None:
    """Change the story's public text (to remove personal data or defamation) with a reason.
    The text as sent stays in its ORIGINAL revision; this edit becomes a MODERATOR_EDIT
    revision, and the audit log keeps the text before and after.  Returns the new revision, or
    None when nothing changed."""
    _require_moderator(actor)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Enter why you are changing the story")})
    title, body, feelings = title.strip(), body.strip(), feelings.strip()
    if not title or not body:
        raise ValidationError(_("A story needs a title and what happened."))
    story = _lock_story(story_id)
    if story.status not in MODERATOR_EDITABLE_STATUSES:
        raise ValidationError(_("This story can no longer be changed."))
    before = _story_text(story)
    after = {"title": title, "body": body, "feelings": feelings}
    if before == after:
        return None
    if not StoryRevision.objects.filter(story=story, kind=StoryRevision.Kind.ORIGINAL).exists():
        # Keep what the author sent before the first change, whatever made the story.
        StoryRevision.objects.create(
            story=story, kind=StoryRevision.Kind.ORIGINAL, created_at=story.submitted_at, **before
        )
    revision = StoryRevision.objects.create(
        story=story, kind=StoryRevision.Kind.MODERATOR_EDIT, edited_by=actor, reason=reason[:300], **after
    )
    Story.objects.filter(pk=story.pk).update(**after, updated_at=timezone.now())
    story_pages_changed(story_id=story.pk)
    audit_record(
        actor=actor, action="stories.story_edit", target=story,
        before=before, after={**after, "reason": reason},
    )
    return revision


@transaction.atomic
def story_criticality_set(
    *, story_id: int, actor: User, criticality: int
) -> Story:
    """Set how critical the story is (0 not critical … 5 severely critical) and copy it onto
    the story's list rows."""
    _require_moderator(actor)
    if criticality not in Criticality.values:
        raise ValidationError({"criticality": _("Choose how critical the story is, from 0 to 5")})
    story = _lock_story(story_id)
    before = story.criticality
    if before != criticality:
        story.criticality = criticality
        story.save(update_fields=["criticality", "updated_at"])
        story_listing_sync(story=story)
        audit_record(
            actor=actor, action="stories.story_criticality", target=story,
            before={"criticality": before}, after={"criticality": criticality},
        )
    return story


@transaction.atomic
def story_tags_set(
    *, story_id: int, actor: User, tag_ids: Iterable[int]
) -> Story:
    """Make the story's tags exactly ``tag_ids``.  New tags must be curated tags in use; a
    retired tag the story already has may stay.  The tag lists are rewritten."""
    _require_moderator(actor)
    story = _lock_story(story_id)
    wanted = set(tag_ids)
    current = set(story.tags.values_list("pk", flat=True))
    allowed = set(Tag.objects.filter(pk__in=wanted - current, is_active=True).values_list("pk", flat=True))
    if wanted - current - allowed:
        raise ValidationError({"tags": _("Choose tags from the list")})
    if wanted != current:
        story.tags.set(wanted)
        story_listing_refresh(story=story)
        audit_record(
            actor=actor, action="stories.story_tags", target=story,
            before={"tags": sorted(current)}, after={"tags": sorted(wanted)},
        )
    return story


def _tag_slug(name: str) -> str:
    base = slugify(name)[:70] or "tag"
    slug, n = base, 1
    while Tag.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def tag_suggestion_accept(*, suggestion_id: int, actor: User) -> Tag:
    """Turn an author's suggested tag into a curated tag (or reuse the one of that name and
    polarity), put it on the story and mark the suggestion decided.  A second call for the
    same suggestion changes nothing."""
    _require_moderator(actor)
    suggestion = TagSuggestion.objects.select_for_update(of=("self",)).select_related("accepted_tag").get(pk=suggestion_id)
    if suggestion.decided_at is not None:
        if suggestion.accepted_tag is None:
            raise ValidationError(_("This suggestion was already declined."))
        return suggestion.accepted_tag
    name = " ".join(suggestion.name.split())[:60]
    tag = Tag.objects.filter(polarity=suggestion.polarity, name__iexact=name).first()
    created = tag is None
    if tag is None:
        tag = Tag.objects.create(name=name, slug=_tag_slug(name), polarity=suggestion.polarity)
    suggestion.accepted_tag = tag
    suggestion.decided_at = timezone.now()
    suggestion.save(update_fields=["accepted_tag", "decided_at"])
    story = _lock_story(suggestion.story_id)
    story.tags.add(tag)
    story_listing_refresh(story=story)
    audit_record(
        actor=actor, action="stories.tag_suggestion_accept", target=story,
        after={"suggestion": suggestion.name, "tag": tag.pk, "tag_created": created},
    )
    return tag


@transaction.atomic
def tag_suggestion_decline(*, suggestion_id: int, actor: User) -> None:
    """Decline an author's suggested tag.  Harmless if it was already decided."""
    _require_moderator(actor)
    updated = TagSuggestion.objects.filter(pk=suggestion_id, decided_at__isnull=True).update(
        decided_at=timezone.now()
    )
    if updated:
        suggestion = TagSuggestion.objects.select_related("story").get(pk=suggestion_id)
        audit_record(
            actor=actor, action="stories.tag_suggestion_decline", target=suggestion.story,
            after={"suggestion": suggestion.name},
        )


# --- Rejecting -------------------------------------------------------------------------------

@transaction.atomic
def story_reject(
    *, story_id: int, actor: User, template_id: int, note: str = ""
) -> Story:
    """Decide not to publish a story waiting for moderation, held, or waiting for a provider.
    The reason is the chosen template's message (and the moderator's note); the author is
    emailed it with the private link to their story."""
    _require_moderator(actor)
    template = RejectionTemplate.objects.filter(pk=template_id, is_active=True).first()
    if template is None:
        raise ValidationError({"template": _("Choose a reason from the list")})
    story = _lock_story(story_id)
    if story.status not in PUBLISHABLE_STATUSES:
        raise ValidationError(_("Only a story that is not yet published can be rejected."))
    note = note.strip()
    reason = template.body.strip() + (f"\n\n{note}" if note else "")
    before = {"status": story.status}
    now = timezone.now()
    Story.objects.filter(pk=story.pk, status__in=PUBLISHABLE_STATUSES).update(
        status=StoryStatus.REJECTED, rejection_reason=reason, moderated_at=now, moderated_by=actor,
        held_until=None, updated_at=now,
    )
    story.refresh_from_db()
    story_hidden_effects(story=story)
    if author_has_email(story):
        email_send(
            to=story.author_email,
            subject=_("Your story was not published"),
            template="stories/email/moderation_rejected.txt",
            context={"story": story, "reason": reason, "private_url": _author_private_url(story)},
        )
    audit_record(
        actor=actor, action="stories.story_reject", target=story, before=before,
        after={"status": story.status, "template": template.pk, "reason": reason},
    )
    return story


# --- Publishing, holding and provider notice -------------------------------------------------

def private_providers_for(*, story: Story) -> list[Organisation]:
    """The private providers a story is about: every organisation on the lineage of its
    services' organisations that is marked as a private provider."""
    ids = story_organisation_ids(story=story)
    return list(Organisation.objects.filter(pk__in=ids, is_private_provider=True).order_by("depth", "name"))


def _notice_hours(organisation: Organisation) -> int:
    row = StoryOrganisationSettings.objects.filter(organisation=organisation).only("provider_notice_hours").first()
    return row.provider_notice_hours if row is not None else settings.STORIES_PROVIDER_NOTICE_HOURS


def _publish_now(*, story: Story, moderator: User | None, now: dt.datetime) -> bool:
    """Publish a locked story that is not yet public; False if it already was (or was decided
    otherwise).  Runs the effects and emails the author."""
    fields: dict[str, Any] = {"status": StoryStatus.PUBLISHED, "published_at": now, "updated_at": now,
                              "last_activity_at": now, "held_until": None}
    if moderator is not None:
        fields.update(moderated_at=now, moderated_by=moderator)
    updated = Story.objects.filter(pk=story.pk, status__in=PUBLISHABLE_STATUSES).update(**fields)
    if not updated:
        return False
    story.refresh_from_db()
    story_published_effects(story=story)
    if author_has_email(story):
        email_send(
            to=story.author_email,
            subject=_("Your story is published"),
            template="stories/email/moderation_published.txt",
            context={"story": story, "public_url": site_url(story_public_path(story=story))},
        )
    return True


def _hold(*, story: Story, moderator: User, now: dt.datetime) -> None:
    until = working_days_add(now, settings.STORIES_HOLD_WORKING_DAYS)
    Story.objects.filter(pk=story.pk, status=StoryStatus.PENDING).update(
        status=StoryStatus.HELD, held_until=until, moderated_at=now, moderated_by=moderator, updated_at=now,
    )
    story.refresh_from_db()
    memberships = OrganisationMembership.objects.filter(
        organisation_id__in=story_organisation_ids(story=story), role__in=RESPONDING_ROLES, user__is_active=True
    ).select_related("user")
    services = [link.service for link in story.story_services.select_related("service").order_by("position")]
    for email in _emails_of(memberships):
        email_send(
            to=email,
            subject=_("A very critical story about your service will be published soon"),
            template="stories/email/moderation_held.txt",
            context={"story": story, "services": services, "held_until": until},
        )


def _give_notice(*, story: Story, moderator: User, providers: list[Organisation], now: dt.datetime) -> None:
    Story.objects.filter(pk=story.pk, status=StoryStatus.PENDING).update(
        status=StoryStatus.NOTICE, moderated_at=now, moderated_by=moderator, updated_at=now,
    )
    story.refresh_from_db()
    services = [link.service for link in story.story_services.select_related("service").order_by("position")]
    for organisation in providers:
        notice, _created = ProviderNotice.objects.update_or_create(
            story=story, organisation=organisation,
            defaults={
                "sent_at": now, "deadline": now + dt.timedelta(hours=_notice_hours(organisation)),
                "decision": ProviderDecision.WAITING, "decision_note": "", "decided_by": None, "decided_at": None,
            },
        )
        memberships = OrganisationMembership.objects.filter(
            organisation_id__in=organisation.lineage_ids, role__in=RESPONDING_ROLES, user__is_active=True
        ).select_related("user")
        for email in _emails_of(memberships):
            email_send(
                to=email,
                subject=_("A story about %(name)s will be published: you can ask for a review")
                % {"name": organisation.name},
                template="stories/email/moderation_provider_notice.txt",
                context={
                    "story": story, "organisation": organisation, "services": services, "notice": notice,
                    "notice_url": site_url(reverse("stories:moderation_provider_notice", kwargs={"notice_id": notice.pk})),
                },
            )


@transaction.atomic
def story_publish(*, story_id: int, actor: User, hold: bool = False) -> Story:
    """A moderator's "publish" for a story.

    From the queue (pending): a story about a private provider waits for the provider
    (NOTICE, one ``ProviderNotice`` per provider, their staff emailed a link); otherwise, with
    ``hold`` (only for a very critical story) it is HELD for ``STORIES_HOLD_WORKING_DAYS``
    working days and the organisations' responders are told it is coming; otherwise it is
    published now and the author is told.  A held story, or one waiting for a provider, is
    published now: the moderator has decided.  Publishing a published story changes nothing.
    """
    _require_moderator(actor)
    story = _lock_story(story_id)
    if story.status == StoryStatus.PUBLISHED:
        return story
    if story.status not in PUBLISHABLE_STATUSES:
        raise ValidationError(
            _("This story cannot be published: it is “%(status)s”.") % {"status": story.get_status_display()}
        )
    now = timezone.now()
    before = {"status": story.status}
    action = "stories.story_publish"
    if story.status == StoryStatus.PENDING:
        providers = private_providers_for(story=story)
        if providers:
            _give_notice(story=story, moderator=actor, providers=providers, now=now)
            action = "stories.story_notice"
        elif hold:
            if story.criticality is None or story.criticality < VERY_CRITICAL:
                raise ValidationError(_("Only a very critical story can be held. Set its criticality first."))
            _hold(story=story, moderator=actor, now=now)
            action = "stories.story_hold"
        else:
            _publish_now(story=story, moderator=actor, now=now)
    else:
        _publish_now(story=story, moderator=actor, now=now)
    after: dict[str, Any] = {"status": story.status}
    if story.status == StoryStatus.HELD:
        after["held_until"] = story.held_until.isoformat() if story.held_until else None
    audit_record(actor=actor, action=action, target=story, before=before, after=after)
    return story


# --- Restricting -----------------------------------------------------------------------------

@transaction.atomic
def story_restrict(
    *, story_id: int, actor: User, reason: str, restricted_by: str = ""
) -> Story:
    """Take a published story's text down, leaving a public stub that says who restricted it
    and why ("Restricted by the moderators: legal advice").  It leaves every list."""
    _require_moderator(actor)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": _("Enter why the story is restricted")})
    restricted_by = " ".join(restricted_by.split()) or str(DEFAULT_RESTRICTED_BY)
    story = _lock_story(story_id)
    updated = Story.objects.filter(pk=story.pk, status=StoryStatus.PUBLISHED).update(
        status=StoryStatus.RESTRICTED, restricted_by=restricted_by[:200], restriction_reason=reason,
        updated_at=timezone.now(),
    )
    if not updated:
        if story.status == StoryStatus.RESTRICTED:
            return story
        raise ValidationError(_("Only a published story can be restricted."))
    story.refresh_from_db()
    story_hidden_effects(story=story)
    audit_record(
        actor=actor, action="stories.story_restrict", target=story, before={"status": StoryStatus.PUBLISHED},
        after={"status": story.status, "restricted_by": restricted_by, "reason": reason},
    )
    return story


@transaction.atomic
def story_unrestrict(*, story_id: int, actor: User) -> Story:
    """Publish a restricted story again.  It returns to its lists; staff already alerted about
    it are not alerted again (one alert per subscription and story)."""
    _require_moderator(actor)
    story = _lock_story(story_id)
    before = {"status": story.status, "restricted_by": story.restricted_by, "reason": story.restriction_reason}
    updated = Story.objects.filter(pk=story.pk, status=StoryStatus.RESTRICTED).update(
        status=StoryStatus.PUBLISHED, restricted_by="", restriction_reason="", updated_at=timezone.now(),
    )
    if not updated:
        if story.status == StoryStatus.PUBLISHED:
            return story
        raise ValidationError(_("Only a restricted story can be published again."))
    story.refresh_from_db()
    story_published_effects(story=story)
    audit_record(
        actor=actor, action="stories.story_unrestrict", target=story, before=before,
        after={"status": story.status},
    )
    return story


# --- Rejection templates ---------------------------------------------------------------------

def _template_snapshot(template: RejectionTemplate) -> dict[str, Any]:
    return {"title": template.title, "body": template.body, "is_active": template.is_active}


@transaction.atomic
def rejection_template_save(
    *, actor: User, title: str, body: str, template_id: int | None = None
) -> RejectionTemplate:
    """Add a rejection template (``template_id`` None) or change one.  Names are unique."""
    _require_moderator(actor)
    title, body = " ".join(title.split()), body.strip()
    if not title:
        raise ValidationError({"title": _("Enter a name for the reason")})
    if not body:
        raise ValidationError({"body": _("Enter the message to the author")})
    clash = RejectionTemplate.objects.filter(title__iexact=title)
    if template_id is not None:
        clash = clash.exclude(pk=template_id)
    if clash.exists():
        raise ValidationError({"title": _("There is already a reason with this name")})
    if template_id is None:
        template = RejectionTemplate.objects.create(title=title, body=body)
        audit_record(
            actor=actor, action="stories.rejection_template_create", target=template,
            after=_template_snapshot(template),
        )
        return template
    template = RejectionTemplate.objects.select_for_update().get(pk=template_id)
    before = _template_snapshot(template)
    template.title, template.body = title, body
    template.save()
    audit_record(
        actor=actor, action="stories.rejection_template_update", target=template,
        before=before, after=_template_snapshot(template),
    )
    return template


@transaction.atomic
def rejection_template_set_active(
    *, actor: User, template_id: int, is_active: bool
) -> RejectionTemplate:
    """Retire a rejection template (it is no longer offered; stories rejected with it keep
    their reason) or bring it back."""
    _require_moderator(actor)
    template = RejectionTemplate.objects.select_for_update().get(pk=template_id)
    if template.is_active != is_active:
        before = _template_snapshot(template)
        template.is_active = is_active
        template.save(update_fields=["is_active", "updated_at"])
        audit_record(
            actor=actor,
            action="stories.rejection_template_restore" if is_active else "stories.rejection_template_retire",
            target=template, before=before, after=_template_snapshot(template),
        )
    return template


# --- The provider's answer -------------------------------------------------------------------

def provider_may_answer(*, user: User, notice: ProviderNotice) -> bool:
    """An administrator or responder of the notice's organisation, or of one above it."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return OrganisationMembership.objects.filter(
        user=user, role__in=RESPONDING_ROLES, organisation_id__in=notice.organisation.lineage_ids
    ).exists()


def _lock_notice_for(*, user: User, notice_id: int) -> tuple[ProviderNotice, Story]:
    notice = ProviderNotice.objects.select_related("organisation").filter(pk=notice_id).first()
    if notice is None or not provider_may_answer(user=user, notice=notice):
        raise PermissionDenied(_("You cannot answer this notice."))
    story = _lock_story(notice.story_id)
    notice = ProviderNotice.objects.select_for_update().select_related("organisation").get(pk=notice_id)
    if story.status != StoryStatus.NOTICE:
        raise ValidationError(_("This story is no longer waiting for your answer."))
    if notice.decision != ProviderDecision.WAITING:
        raise ValidationError(_("Your organisation has already answered."))
    if notice.deadline <= timezone.now():
        raise ValidationError(_("The time to answer has passed."))
    return notice, story


@transaction.atomic
def provider_notice_go_ahead(*, notice_id: int, actor: User) -> Story:
    """The provider says "go ahead".  When every provider the story is about has said so, it
    is published at once; otherwise it waits for the others (or their deadline)."""
    notice, story = _lock_notice_for(user=actor, notice_id=notice_id)
    now = timezone.now()
    ProviderNotice.objects.filter(pk=notice.pk, decision=ProviderDecision.WAITING).update(
        decision=ProviderDecision.GO_AHEAD, decided_by=actor, decided_at=now,
    )
    audit_record(
        actor=actor, action="stories.provider_go_ahead", target=story,
        after={"notice": notice.pk, "organisation": notice.organisation_id},
    )
    others_waiting = ProviderNotice.objects.filter(story=story).exclude(decision=ProviderDecision.GO_AHEAD).exists()
    if not others_waiting:
        _publish_now(story=story, moderator=None, now=now)
    return story


@transaction.atomic
def provider_notice_ask_review(
    *, notice_id: int, actor: User, note: str
) -> Story:
    """The provider asks the moderators to look again, saying why.  The window stops: the
    story will not publish by itself, and goes to the top of the moderators' queue, where a
    moderator publishes or rejects it."""
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Enter what you would like the moderators to review")})
    notice, story = _lock_notice_for(user=actor, notice_id=notice_id)
    ProviderNotice.objects.filter(pk=notice.pk, decision=ProviderDecision.WAITING).update(
        decision=ProviderDecision.ASK_REVIEW, decision_note=note, decided_by=actor, decided_at=timezone.now(),
    )
    audit_record(
        actor=actor, action="stories.provider_ask_review", target=story,
        after={"notice": notice.pk, "organisation": notice.organisation_id, "note": note},
    )
    moderators = _moderator_emails()
    if moderators:
        email_send(
            to=moderators,
            subject=_("A provider asked for a review before publication"),
            template="stories/email/moderation_review_asked.txt",
            context={
                "story": story, "organisation": notice.organisation, "note": note,
                "moderation_url": site_url(reverse("stories:moderation_story", kwargs={"pk": story.pk})),
            },
        )
    return story


def _moderator_emails() -> list[str]:
    """The addresses of every active moderator and site administrator (they share the queue)."""
    return sorted(set(
        RoleGrant.objects.filter(
            role__in=[SiteRole.MODERATOR, SiteRole.SITE_ADMIN], user__is_active=True, user__erased_at__isnull=True
        ).values_list("user__email", flat=True)
    ))


# --- The clock -------------------------------------------------------------------------------

def _due_story_ids(now: dt.datetime) -> tuple[list[int], list[int]]:
    held = list(
        Story.objects.filter(status=StoryStatus.HELD, held_until__lte=now).order_by("held_until", "id")
        .values_list("pk", flat=True)
    )
    review = ProviderNotice.objects.filter(story=OuterRef("pk"), decision=ProviderDecision.ASK_REVIEW)
    open_window = ProviderNotice.objects.filter(
        story=OuterRef("pk"), decision=ProviderDecision.WAITING, deadline__gt=now
    )
    notice = list(
        Story.objects.filter(status=StoryStatus.NOTICE).filter(~Exists(review), ~Exists(open_window))
        .order_by("submitted_at", "id").values_list("pk", flat=True)
    )
    return held, notice


def _release_one(*, story_id: int, status: str, now: dt.datetime) -> bool:
    with transaction.atomic():
        # A story another worker has locked is that worker's to publish (skip_locked where the
        # database has it; SQLite has one writer at a time anyway).
        story = (
            Story.objects.select_for_update(skip_locked=connection.features.has_select_for_update_skip_locked)
            .filter(pk=story_id, status=status).first()
        )
        if story is None:
            return False
        if status == StoryStatus.HELD:
            if story.held_until is None or story.held_until > now:
                return False
        elif ProviderNotice.objects.filter(
            Q(decision=ProviderDecision.ASK_REVIEW) | Q(decision=ProviderDecision.WAITING, deadline__gt=now),
            story_id=story_id,
        ).exists():
            return False
        if not _publish_now(story=story, moderator=None, now=timezone.now()):
            return False
        audit_record(
            actor=None, action="stories.story_release", target=story,
            before={"status": status}, after={"status": story.status},
        )
        return True


def stories_release_due(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Publish what has waited long enough: HELD stories whose ``held_until`` has passed, and
    stories waiting for providers when every provider said "go ahead" or let its deadline pass
    without asking for a review.  Each story is published in its own transaction, locked, and
    checked again, so running this twice, or on two machines at once, publishes each once.
    Returns ``{"held": n, "notice": m}``: how many were published."""
    now = now or timezone.now()
    held_ids, notice_ids = _due_story_ids(now)
    held = sum(_release_one(story_id=pk, status=StoryStatus.HELD, now=now) for pk in held_ids)
    notice = sum(_release_one(story_id=pk, status=StoryStatus.NOTICE, now=now) for pk in notice_ids)
    return {"held": held, "notice": notice}
