"""Responses: organisations answer stories, authors reply, changes are claimed and confirmed,
people rate responses as helpful, and organisations keep their settings and templates.

Rules the services keep (docs/stories-responding.md explains why):

* A responder answers for an organisation the story is about (``story_responder_memberships``).
* A response is published at once, unless its writer has fewer than
  ``STORIES_RESPONDER_TRUSTED_AFTER`` published responses, or it claims a change: then it waits
  for a moderator.  An author's reply always waits.
* Every publication goes through ``response_published_effects`` exactly once: publishing is a
  conditional UPDATE (``WHERE status = 'pending'``), so a second click does nothing.
* Helpful counts move with F() expressions under a row lock of the person's rating, so a change
  of mind never loses or doubles a count.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from localsocial.accounts.models import User
from localsocial.core.email import email_send
from localsocial.core.services import audit_record, model_snapshot
from localsocial.directory.models import Organisation, OrganisationMembership
from localsocial.stories.models import (
    ChangeKind,
    HelpfulRating,
    Response,
    ResponseStatus,
    ResponseTemplate,
    SignatureStyle,
    Story,
    StoryOrganisationSettings,
    StoryStatus,
)
from localsocial.stories.models.responses import RESPONSE_MAX_CHARS
from localsocial.stories.models.story import email_is_placeholder
from localsocial.stories.page_groups import story_pages_changed
from localsocial.stories.selectors.common import secret_hash, story_responder_memberships
from localsocial.stories.selectors.responses import (
    response_can_edit,
)
from localsocial.stories.services.common import (
    story_progress_mark,
)
from localsocial.stories.services.events import response_published_effects

CHANGE_DESCRIPTION_MAX_CHARS = 2_000
CONFIRMATION_NOTE_MAX_CHARS = 2_000
REJECTION_REASON_MAX_CHARS = 2_000
TEMPLATE_TITLE_MAX = 100
PROVIDER_NOTICE_HOURS_MAX = 24 * 30

# The fields an audit entry records for a response.
_AUDITED = ["status", "body", "change", "change_description", "signature", "organisation_id", "published_at"]

# Placeholders a response template may use; anything else in braces is left as it is.
TEMPLATE_PLACEHOLDERS = ("author_name", "story_title", "organisation_name", "responder_name", "job_title")
_PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")


# --- Small helpers ---------------------------------------------------------------------------


def organisation_story_settings(*, organisation: Organisation) -> StoryOrganisationSettings:
    """The organisation's story settings: its own, else the nearest organisation above it that
    has some (a trust's choice applies to its hospitals), else the defaults (unsaved).  One
    query."""
    rows = {
        row.organisation_id: row
        for row in StoryOrganisationSettings.objects.filter(organisation_id__in=organisation.lineage_ids)
    }
    for org_id in reversed(organisation.lineage_ids):
        if org_id in rows:
            return rows[org_id]
    return StoryOrganisationSettings(
        organisation=organisation, provider_notice_hours=settings.STORIES_PROVIDER_NOTICE_HOURS
    )


def response_signature(*, style: str, user: User, organisation: Organisation, job_title: str = "") -> str:
    """The signature shown under a response, as the organisation chose to sign:
    "Sam Patel, Ward manager, Riverside Hospital", "Ward manager, Riverside Hospital" or
    "Riverside Hospital".  A part that is missing (no job title) is left out."""
    if style == SignatureStyle.ORGANISATION_ONLY:
        parts = [organisation.name]
    elif style == SignatureStyle.TITLE_ONLY:
        parts = [job_title.strip(), organisation.name]
    else:
        parts = [user.public_name, job_title.strip(), organisation.name]
    return ", ".join(part for part in parts if part)[:300]


def author_reply_signature(*, story: Story) -> str:
    return _("%(pseudonym)s (the author)") % {"pseudonym": story.pseudonym}


def story_for_author_token(*, token: str) -> Story | None:
    """The story whose private link carries ``token`` (only its SHA-256 is stored)."""
    if not token:
        return None
    return Story.objects.filter(author_token_hash=secret_hash(token)).first()


def response_template_fill(*, text: str, story: Story, organisation: Organisation, user: User, job_title: str = "") -> str:
    """Fill a template's placeholders ({author_name}, {story_title}, {organisation_name},
    {responder_name}, {job_title}); unknown ones are left for the responder to see."""
    values = {
        "author_name": story.pseudonym,
        "story_title": story.title,
        "organisation_name": organisation.name,
        "responder_name": user.public_name,
        "job_title": job_title,
    }
    return _PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def responder_published_count(*, user: User) -> int:
    """How many of this person's responses have been published (author replies aside)."""
    return Response.objects.filter(responder=user, status=ResponseStatus.PUBLISHED, is_author_reply=False).count()


def responder_is_trusted(*, user: User) -> bool:
    return responder_published_count(user=user) >= settings.STORIES_RESPONDER_TRUSTED_AFTER


def _clean_text(
    *, body: str, change: str, change_description: str, allow_change: bool = True
) -> tuple[str, str, str]:
    """Check a response's text and change claim; raise ValidationError by field."""
    errors: dict[str, list[str]] = {}
    body = (body or "").strip()
    change = change or ""
    change_description = (change_description or "").strip()
    if not body:
        errors["body"] = [_("Enter your response")]
    elif len(body) > RESPONSE_MAX_CHARS:
        errors["body"] = [_("Your response must be %(max)s characters or fewer") % {"max": f"{RESPONSE_MAX_CHARS:,}"}]
    if change not in ChangeKind.values or (change and not allow_change):
        errors["change"] = [_("Choose whether this response describes a change")]
    elif change:
        if not change_description:
            errors["change_description"] = [_("Describe the change")]
        elif len(change_description) > CHANGE_DESCRIPTION_MAX_CHARS:
            errors["change_description"] = [
                _("The description of the change must be %(max)s characters or fewer")
                % {"max": f"{CHANGE_DESCRIPTION_MAX_CHARS:,}"}
            ]
    else:
        change_description = ""
    if errors:
        raise ValidationError(errors)
    return body, change, change_description


def _response_count_refresh(*, story_id: int) -> None:
    Story.objects.filter(pk=story_id).update(
        response_count=Response.objects.filter(story_id=story_id, status=ResponseStatus.PUBLISHED).count()
    )


# --- Responding -------------------------------------------------------------------------------


class ResponseEditClosed(PermissionDenied):
    """The edit window has passed, or the response was rejected: it can no longer change."""



def responder_membership_for(*, story: Story, user: User, organisation: Organisation) -> OrganisationMembership:
    """The membership through which ``user`` responds for ``organisation`` on ``story``;
    PermissionDenied when there is none, or the story is not published."""
    if story.status != StoryStatus.PUBLISHED:
        raise PermissionDenied(_("Only a published story can be answered."))
    for membership in story_responder_memberships(user=user, story=story):
        if membership.organisation_id == organisation.pk:
            return membership
    raise PermissionDenied(_("You cannot respond to this story for this organisation."))


@transaction.atomic
def response_create(
    *,
    story: Story,
    actor: User,
    organisation: Organisation,
    body: str,
    change: str = "",
    change_description: str = "",
) -> Response:
    """A response from ``organisation`` to ``story``, written by ``actor``.

    Raises PermissionDenied unless the story is published and ``actor`` is a responder (or
    administrator) of ``organisation``, which the story must be about; ValidationError (by
    field: ``body``, ``change``, ``change_description``) for an empty or too long text, an
    unknown change kind or a change without a description.

    Published at once when the writer is trusted (``STORIES_RESPONDER_TRUSTED_AFTER``
    published responses) and it claims no change; otherwise it waits for a moderator.
    """
    membership = responder_membership_for(story=story, user=actor, organisation=organisation)
    body, change, change_description = _clean_text(body=body, change=change, change_description=change_description)
    style = organisation_story_settings(organisation=organisation).signature_style
    publish = not change and responder_is_trusted(user=actor)
    now = timezone.now()
    response = Response.objects.create(
        story=story,
        organisation=organisation,
        responder=actor,
        signature=response_signature(style=style, user=actor, organisation=organisation, job_title=membership.job_title),
        body=body,
        change=change,
        change_description=change_description,
        status=ResponseStatus.PUBLISHED if publish else ResponseStatus.PENDING,
        created_at=now,
        published_at=now if publish else None,
    )
    audit_record(
        actor=actor, action="stories.response_create", target=response,
        after=model_snapshot(response, _AUDITED),
    )
    if publish:
        response_published_effects(response=response)
    return response


@transaction.atomic
def response_edit(
    *,
    response_id: int,
    actor: User,
    body: str,
    change: str = "",
    change_description: str = "",
) -> Response:
    """The writer changes their response within the edit window.

    Raises PermissionDenied when it is not theirs, ``ResponseEditClosed`` when the window has
    passed or it was rejected, ValidationError as ``response_create``.  A published response
    whose edit adds or alters a change claim goes back to moderation (its claim has not been
    checked).  Audited with the text before and after."""
    response = Response.objects.select_for_update().select_related("story").get(pk=response_id)
    if response.responder_id != actor.pk or response.is_author_reply:
        raise PermissionDenied(_("This is not your response."))
    if not response_can_edit(response=response, user=actor):
        raise ResponseEditClosed(_("This response can no longer be changed."))
    body, change, change_description = _clean_text(body=body, change=change, change_description=change_description)
    if (body, change, change_description) == (response.body, response.change, response.change_description):
        return response
    before = model_snapshot(response, _AUDITED)
    claim_altered = bool(change) and (change, change_description) != (response.change, response.change_description)
    response.body, response.change, response.change_description = body, change, change_description
    response.edited_at = timezone.now()
    fields = ["body", "change", "change_description", "edited_at"]
    back_to_moderation = response.status == ResponseStatus.PUBLISHED and claim_altered
    if back_to_moderation:
        response.status = ResponseStatus.PENDING
        response.published_at = None
        fields += ["status", "published_at"]
    response.save(update_fields=fields)
    if back_to_moderation:
        _response_count_refresh(story_id=response.story_id)
    story_pages_changed(story_id=response.story_id)
    audit_record(
        actor=actor, action="stories.response_edit", target=response,
        before=before, after=model_snapshot(response, _AUDITED),
    )
    return response


# --- Moderation -------------------------------------------------------------------------------


@transaction.atomic
def response_publish(*, response_id: int, actor: User) -> bool:
    """A moderator publishes a waiting response or author's reply.  True when this call
    published it; False when it was no longer waiting (published or rejected already), which
    makes a second click harmless."""
    now = timezone.now()
    claimed = Response.objects.filter(pk=response_id, status=ResponseStatus.PENDING).update(
        status=ResponseStatus.PUBLISHED, published_at=now, moderated_by=actor
    )
    if not claimed:
        return False
    response = Response.objects.get(pk=response_id)
    response_published_effects(response=response)
    audit_record(
        actor=actor, action="stories.response_publish", target=response,
        after={"status": response.status, "published_at": now},
    )
    return True


@transaction.atomic
def response_reject(*, response_id: int, actor: User, reason: str) -> bool:
    """A moderator declines a waiting response or reply, with a reason that is emailed to its
    writer (the responder, or the story's author).  True when this call rejected it."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Enter the reason, which is sent to the writer")]})
    if len(reason) > REJECTION_REASON_MAX_CHARS:
        raise ValidationError({"reason": [_("The reason must be %(max)s characters or fewer") % {"max": "2,000"}]})
    claimed = Response.objects.filter(pk=response_id, status=ResponseStatus.PENDING).update(
        status=ResponseStatus.REJECTED, rejection_reason=reason, moderated_by=actor
    )
    if not claimed:
        return False
    response = Response.objects.select_related("story", "responder", "organisation").get(pk=response_id)
    audit_record(
        actor=actor, action="stories.response_reject", target=response,
        after={"status": response.status, "rejection_reason": reason},
    )
    if response.is_author_reply and not email_is_placeholder(response.story.author_email):
        to, language = response.story.author_email, None
    elif not response.is_author_reply and response.responder is not None and response.responder.email:
        to, language = response.responder.email, response.responder.preferred_language or None
    else:
        return True
    email_send(
        to=to,
        subject=_("Your response was not published") if not response.is_author_reply
        else _("Your reply was not published"),
        template="stories/email/responses_rejected.txt",
        context={"response": response, "story": response.story, "reason": reason},
        language=language,
    )
    return True


# --- The author -------------------------------------------------------------------------------


@transaction.atomic
def author_reply_create(*, story: Story, body: str) -> Response:
    """The story's author replies in the conversation (they are authorised by their private
    link, so the caller has already found ``story`` from it).  Always waits for a moderator.
    Raises PermissionDenied when the story is not published, ValidationError for the text."""
    if story.status != StoryStatus.PUBLISHED:
        raise PermissionDenied(_("You can reply once your story is published."))
    body, _change, _description = _clean_text(body=body, change="", change_description="")
    return Response.objects.create(
        story=story, organisation=None, responder=None, is_author_reply=True,
        signature=author_reply_signature(story=story), body=body, status=ResponseStatus.PENDING,
    )


@transaction.atomic
def change_confirm(*, response_id: int, story_id: int, happened: bool, note: str = "") -> Response:
    """The author says whether a claimed change happened (they may change their answer:
    "not yet" may become "yes").  A planned change the author says has happened moves the
    story to *changed*.  Raises Response.DoesNotExist unless it is a published change claim
    on their story; ValidationError for a note that is too long."""
    note = (note or "").strip()
    if len(note) > CONFIRMATION_NOTE_MAX_CHARS:
        raise ValidationError({"note": [_("Your comment must be %(max)s characters or fewer") % {"max": "2,000"}]})
    response = (
        Response.objects.select_for_update()
        .filter(story_id=story_id, status=ResponseStatus.PUBLISHED, is_author_reply=False)
        .exclude(change="")
        .get(pk=response_id)
    )
    now = timezone.now()
    response.author_confirmed = happened
    response.author_confirmed_at = now
    response.author_confirmation_note = note
    response.save(update_fields=["author_confirmed", "author_confirmed_at", "author_confirmation_note"])
    if happened:
        story_progress_mark(story_id=story_id, changed_at=now)
    story_pages_changed(story_id=story_id)
    return response


# --- Helpful ratings --------------------------------------------------------------------------


@transaction.atomic
def response_rate(*, response_id: int, person_key: str, helpful: bool, by_author: bool = False) -> HelpfulRating:
    """Record whether this person found a published response helpful.  One rating per
    person: rating again replaces their earlier answer and moves the counts with it.  Raises
    Response.DoesNotExist unless the response is published."""
    story_id = Response.objects.filter(pk=response_id, status=ResponseStatus.PUBLISHED).values_list(
        "story_id", flat=True
    ).first()
    if story_id is None:
        raise Response.DoesNotExist
    story_pages_changed(story_id=story_id)  # the counts show on the story's page
    counts = {"helpful_count": F("helpful_count") + 1} if helpful else {"not_helpful_count": F("not_helpful_count") + 1}
    try:
        with transaction.atomic():
            rating = HelpfulRating.objects.create(
                response_id=response_id, person_key=person_key, helpful=helpful, by_author=by_author
            )
    except IntegrityError:
        pass  # They have rated it before (perhaps a moment ago, in another request).
    else:
        Response.objects.filter(pk=response_id).update(**counts)
        return rating
    # A change of mind: lock their rating so that two clicks at once move the counts once.
    rating = HelpfulRating.objects.select_for_update().get(response_id=response_id, person_key=person_key)
    if rating.helpful == helpful and (rating.by_author or not by_author):
        return rating
    if rating.helpful != helpful:
        if helpful:
            counts["not_helpful_count"] = F("not_helpful_count") - 1
        else:
            counts["helpful_count"] = F("helpful_count") - 1
        Response.objects.filter(pk=response_id).update(**counts)
    rating.helpful = helpful
    rating.by_author = rating.by_author or by_author
    rating.save(update_fields=["helpful", "by_author"])
    return rating


# --- Organisation settings and templates ------------------------------------------------------


@transaction.atomic
def organisation_settings_update(
    *, organisation: Organisation, actor: User, signature_style: str, provider_notice_hours: int,
) -> StoryOrganisationSettings:
    """Save an organisation's own story settings (creating its row).  Audited."""
    errors: dict[str, list[str]] = {}
    if signature_style not in SignatureStyle.values:
        errors["signature_style"] = [_("Choose how responses are signed")]
    if not 1 <= int(provider_notice_hours) <= PROVIDER_NOTICE_HOURS_MAX:
        errors["provider_notice_hours"] = [
            _("The notice window must be between 1 and %(max)s hours") % {"max": PROVIDER_NOTICE_HOURS_MAX}
        ]
    if errors:
        raise ValidationError(errors)
    row = StoryOrganisationSettings.objects.select_for_update().filter(organisation=organisation).first()
    fields = ["signature_style", "provider_notice_hours"]
    before = model_snapshot(row, fields) if row else {}
    if row is None:
        row = StoryOrganisationSettings(organisation=organisation)
    row.signature_style = signature_style
    row.provider_notice_hours = int(provider_notice_hours)
    row.save()
    audit_record(
        actor=actor, action="stories.organisation_settings_update", target=organisation,
        before=before, after=model_snapshot(row, fields),
    )
    return row


def _template_clean(*, organisation: Organisation, title: str, body: str, exclude_id: int | None = None) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        errors["title"] = [_("Enter a name for the template")]
    elif len(title) > TEMPLATE_TITLE_MAX:
        errors["title"] = [_("The name must be %(max)s characters or fewer") % {"max": TEMPLATE_TITLE_MAX}]
    elif ResponseTemplate.objects.filter(organisation=organisation, title=title).exclude(pk=exclude_id or 0).exists():
        errors["title"] = [_("There is already a template with this name")]
    if not body:
        errors["body"] = [_("Enter the text of the template")]
    elif len(body) > RESPONSE_MAX_CHARS:
        errors["body"] = [_("The text must be %(max)s characters or fewer") % {"max": f"{RESPONSE_MAX_CHARS:,}"}]
    if errors:
        raise ValidationError(errors)
    return title, body


@transaction.atomic
def response_template_create(
    *, organisation: Organisation, actor: User, title: str, body: str
) -> ResponseTemplate:
    """Add a response template for an organisation's responders.  Audited."""
    title, body = _template_clean(organisation=organisation, title=title, body=body)
    template = ResponseTemplate.objects.create(organisation=organisation, title=title, body=body)
    audit_record(
        actor=actor, action="stories.response_template_create", target=template,
        after={"organisation": organisation.pk, "title": title, "body": body},
    )
    return template


@transaction.atomic
def response_template_update(
    *, template_id: int, organisation: Organisation, actor: User, title: str, body: str,
) -> ResponseTemplate:
    """Change one of an organisation's templates.  Audited with before and after."""
    template = ResponseTemplate.objects.select_for_update().get(pk=template_id, organisation=organisation)
    title, body = _template_clean(organisation=organisation, title=title, body=body, exclude_id=template.pk)
    before = model_snapshot(template, ["title", "body"])
    template.title, template.body = title, body
    template.save()
    audit_record(
        actor=actor, action="stories.response_template_update", target=template,
        before=before, after=model_snapshot(template, ["title", "body"]),
    )
    return template


@transaction.atomic
def response_template_delete(
    *, template_id: int, organisation: Organisation, actor: User
) -> bool:
    """Delete one of an organisation's templates (responses written from it keep their
    text).  True when it was there to delete.  Audited."""
    template = ResponseTemplate.objects.filter(pk=template_id, organisation=organisation).first()
    if template is None:
        return False
    audit_record(
        actor=actor, action="stories.response_template_delete", target=template,
        before=model_snapshot(template, ["title", "body"]),
    )
    template.delete()
    return True
