"""Telling a story: every write of the "submit" part.

* ``story_submit`` checks everything itself (the web form, the assisted form and the API all
  call it) and stores a new story waiting for moderation, with its services, tags, suggested
  tags, the original revision and the author's consent; it emails the author their private
  link.
* ``story_author_edit`` and ``story_withdraw`` are what the author may do through that link.
* ``story_author_links_send`` answers "lost your link?".

Only a SHA-256 of each private link's secret is stored; the secret itself is derived from the
story and the site's SECRET_KEY (``services.common.story_author_secret``), so every email to
the author can carry the same, still-working link.
"""

from __future__ import annotations

import hashlib
import re
import secrets as pysecrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from localsocial.accounts.models import User
from localsocial.core.email import email_send
from localsocial.core.services import audit_record, client_ip
from localsocial.directory.models import Service
from localsocial.stories.models import (
    AgeGroup,
    AuthorRole,
    Story,
    StoryRevision,
    StoryService,
    StoryStatus,
    SubmissionRoute,
    Tag,
    TagPolarity,
    TagSuggestion,
)
from localsocial.stories.models.story import (
    ASSISTED_ROUTES,
    BODY_MAX_CHARS,
    EDITABLE_STATUSES,
    MAX_SERVICES,
    NO_EMAIL_DOMAIN,
    PSEUDONYM_MAX,
    TITLE_MAX,
    email_is_placeholder,
)
from localsocial.stories.services.common import private_link, secret_new, story_author_link_secret
from localsocial.stories.services.events import story_hidden_effects

MAX_SUGGESTED_TAGS = 5
TAG_NAME_MAX = 60
CONSENT_NOTE_MAX = 300
# The same text from the same address within this time is the same story sent twice.
SAME_AUTHOR_DUPLICATE_DAYS = 30
# Statuses from which the author may withdraw a story.
WITHDRAWABLE_STATUSES = (
    StoryStatus.PENDING,
    StoryStatus.HELD,
    StoryStatus.NOTICE,
    StoryStatus.PUBLISHED,
    StoryStatus.RESTRICTED,
)

# Control characters other than tab and newline: invisible, and NUL breaks PostgreSQL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- Checks shared by submit and edit ---------------------------------------------------------

def word_limit() -> int:
    """The most words "what happened" may have (``STORIES_WORD_LIMIT``)."""
    return int(getattr(settings, "STORIES_WORD_LIMIT", 1000))


def feelings_word_limit() -> int:
    """"How it felt" is a few sentences: a quarter of the story's limit."""
    return max(50, word_limit() // 4)


def max_age_months() -> int:
    return int(getattr(settings, "STORIES_MAX_AGE_MONTHS", 24))


def word_count(text: str) -> int:
    """Words as GOV.UK's character count counts them: runs of non-space characters."""
    return len(text.split())


def text_clean(text: str) -> str:
    """The text as we keep it: one kind of line ending, no invisible control characters, no
    space around it.  HTML is kept as the author typed it: it is only ever shown as text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def text_hash(*, title: str, body: str, feelings: str) -> str:
    """SHA-256 of the story's text, normalised so that a resend with different spacing,
    case or Unicode forms is recognised as the same text."""
    joined = "\n".join((title, body, feelings))
    normal = " ".join(unicodedata.normalize("NFKC", joined).casefold().split())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def month_add(month: date, months: int) -> date:
    index = month.year * 12 + (month.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def earliest_month(today: date | None = None) -> date:
    """The first month a story may be about: ``STORIES_MAX_AGE_MONTHS`` before this one."""
    today = today or timezone.localdate()
    return month_add(today.replace(day=1), -max_age_months())


def _month_label(month: date) -> str:
    from django.utils import formats

    return formats.date_format(month, "F Y")


def happened_month_errors(month: date | None, *, today: date | None = None) -> list[str]:
    """What is wrong with the month a story happened in (empty when it is fine)."""
    if month is None:
        return [_("Enter the month and year it happened")]
    today = today or timezone.localdate()
    this_month = today.replace(day=1)
    month = month.replace(day=1)
    if month > this_month:
        return [_("The month it happened must be this month or in the past")]
    earliest = earliest_month(today)
    if month < earliest:
        limit = max_age_months()
        return [
            ngettext(
                "We can only publish stories about the last %(count)d month. It must have happened in %(month)s or later",
                "We can only publish stories about the last %(count)d months. It must have happened in %(month)s or later",
                limit,
            )
            % {"count": limit, "month": _month_label(earliest)}
        ]
    return []


@dataclass
class StoryText:
    title: str
    body: str
    feelings: str


def _text_errors(title: str, body: str, feelings: str, errors: dict[str, list[str]]) -> StoryText:
    title = " ".join(text_clean(title or "").split())
    body = text_clean(body or "")
    feelings = text_clean(feelings or "")
    if not title:
        errors.setdefault("title", []).append(_("Enter a title for your story"))
    elif len(title) > TITLE_MAX:
        errors.setdefault("title", []).append(
            _("The title must be %(max)d characters or fewer") % {"max": TITLE_MAX}
        )
    if not body:
        errors.setdefault("body", []).append(_("Enter what happened"))
    elif word_count(body) > word_limit():
        errors.setdefault("body", []).append(
            _("What happened must be %(limit)s words or fewer. It has %(count)s words")
            % {"limit": f"{word_limit():,}", "count": f"{word_count(body):,}"}
        )
    elif len(body) > BODY_MAX_CHARS:
        errors.setdefault("body", []).append(
            _("What happened must be %(max)s characters or fewer") % {"max": f"{BODY_MAX_CHARS:,}"}
        )
    if word_count(feelings) > feelings_word_limit():
        errors.setdefault("feelings", []).append(
            _("How it felt must be %(limit)s words or fewer. It has %(count)s words")
            % {"limit": f"{feelings_word_limit():,}", "count": f"{word_count(feelings):,}"}
        )
    elif len(feelings) > BODY_MAX_CHARS:
        errors.setdefault("feelings", []).append(
            _("How it felt must be %(max)s characters or fewer") % {"max": f"{BODY_MAX_CHARS:,}"}
        )
    return StoryText(title=title, body=body, feelings=feelings)


def _about_errors(
    *, author_role: str, age_group: str, happened_month: date | None, pseudonym: str,
    errors: dict[str, list[str]],
) -> str:
    if author_role not in AuthorRole.values:
        errors.setdefault("author_role", []).append(_("Choose who you are"))
    if age_group and age_group not in AgeGroup.values:
        errors.setdefault("age_group", []).append(_("Choose an age group from the list"))
    for message in happened_month_errors(happened_month):
        errors.setdefault("happened_month", []).append(message)
    pseudonym = " ".join(text_clean(pseudonym or "").split())
    if not pseudonym:
        errors.setdefault("pseudonym", []).append(_("Enter a name to show with your story"))
    elif len(pseudonym) > PSEUDONYM_MAX:
        errors.setdefault("pseudonym", []).append(
            _("The name to show must be %(max)d characters or fewer") % {"max": PSEUDONYM_MAX}
        )
    return pseudonym


def _int_ids(values: Iterable[Any]) -> list[int] | None:
    ids: list[int] = []
    for value in values or []:
        try:
            number = int(value)
        except (TypeError, ValueError):
            return None
        if number not in ids:
            ids.append(number)
    return ids


def _tags_checked(tag_ids: Iterable[Any], errors: dict[str, list[str]]) -> list[Tag]:
    ids = _int_ids(tag_ids)
    if ids is None:
        errors.setdefault("tag_ids", []).append(_("Choose tags from the list"))
        return []
    tags = list(Tag.objects.filter(pk__in=ids, is_active=True)) if ids else []
    if len(tags) != len(ids):
        errors.setdefault("tag_ids", []).append(_("Choose tags from the list"))
    return tags


def _suggestions_checked(
    suggested: Iterable[Any], errors: dict[str, list[str]]
) -> list[tuple[str, str]]:
    """``suggested`` holds ``(name, polarity)`` pairs (or dicts with those keys)."""
    result: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for item in suggested or []:
        if isinstance(item, dict):
            name, polarity = item.get("name", ""), item.get("polarity", "")
        else:
            try:
                name, polarity = item
            except (TypeError, ValueError):
                errors.setdefault("suggested_tags", []).append(_("Suggest a tag as a name and whether it was good"))
                continue
        name = " ".join(text_clean(str(name)).split())
        if not name:
            continue
        field = "suggest_good" if polarity == TagPolarity.GOOD else "suggest_improve"
        if polarity not in TagPolarity.values:
            errors.setdefault("suggested_tags", []).append(_("Say whether a suggested tag is good or could be improved"))
        elif len(name) > TAG_NAME_MAX:
            errors.setdefault(field, []).append(
                _("Each suggested tag must be %(max)d characters or fewer") % {"max": TAG_NAME_MAX}
            )
        elif (name.casefold(), polarity) not in seen:
            seen.add((name.casefold(), polarity))
            result.append((name, polarity))
    if len(result) > MAX_SUGGESTED_TAGS:
        errors.setdefault("suggested_tags", []).append(
            _("Suggest up to %(max)d tags") % {"max": MAX_SUGGESTED_TAGS}
        )
    return result


def _services_checked(service_ids: Iterable[Any], errors: dict[str, list[str]]) -> list[Service]:
    ids = _int_ids(service_ids)
    if ids is None:
        errors.setdefault("service_ids", []).append(_("Choose services from the directory"))
        return []
    if not ids:
        errors.setdefault("service_ids", []).append(_("Choose at least one service your story is about"))
        return []
    if len(ids) > MAX_SERVICES:
        errors.setdefault("service_ids", []).append(
            _("Choose up to %(max)d services") % {"max": MAX_SERVICES}
        )
        return []
    found = {s.pk: s for s in Service.objects.filter(pk__in=ids)}
    missing = [i for i in ids if i not in found]
    inactive = [found[i] for i in ids if i in found and not found[i].is_active]
    if missing:
        errors.setdefault("service_ids", []).append(
            _("We could not find one of the services you chose. Search for it again")
        )
    for service in inactive:
        errors.setdefault("service_ids", []).append(
            _("%(name)s is no longer provided, so you cannot tell a story about it here") % {"name": service.name}
        )
    return [found[i] for i in ids if i in found]


# --- Telling a story --------------------------------------------------------------------------

def no_email_placeholder() -> str:
    """The address stored for an assisted story told by someone without email."""
    return f"assisted-{pysecrets.token_hex(8)}@{NO_EMAIL_DOMAIN}"


def _tags_and_suggestions(
    story: Story, tags: Sequence[Tag], suggestions: Sequence[tuple[str, str]]
) -> None:
    """Attach tags; a suggestion that names an existing tag of the same polarity becomes that
    tag, the rest are kept as suggestions for moderators."""
    chosen = {t.pk: t for t in tags}
    remaining: list[tuple[str, str]] = []
    if suggestions:
        existing = {
            (t.name.casefold(), t.polarity): t
            for t in Tag.objects.filter(is_active=True, name__in=[n for n, _p in suggestions])
        }
        # name__in is case-sensitive on PostgreSQL; compare the rest without case in Python.
        for name, polarity in suggestions:
            match = existing.get((name.casefold(), polarity))
            if match is None:
                match = next(
                    (t for t in Tag.objects.filter(is_active=True, polarity=polarity, name__iexact=name)),
                    None,
                )
            if match is not None:
                chosen[match.pk] = match
            else:
                remaining.append((name, polarity))
    story.tags.set(list(chosen.values()))
    TagSuggestion.objects.filter(story=story).delete()
    TagSuggestion.objects.bulk_create(
        [TagSuggestion(story=story, name=name, polarity=polarity) for name, polarity in remaining]
    )


def submission_was_duplicate(*, story: Story) -> bool:
    """After ``story_submit``: True when the story was already there (sent twice) and
    nothing new was stored."""
    return bool(getattr(story, "submitted_again", False))


@transaction.atomic
def story_submit(
    *,
    title: str,
    body: str,
    feelings: str,
    service_ids: Iterable[Any],
    tag_ids: Iterable[Any],
    suggested_tags: Iterable[Any],
    author_role: str,
    age_group: str,
    happened_month: date | None,
    pseudonym: str,
    email: str,
    actor: User | None = None,
    route: str = SubmissionRoute.WEB,
    consent_note: str = "",
    consent: bool | None = None,
) -> tuple[Story, str]:
    """Store a new story, waiting for moderation, and email the author their private link.

    Checks every input and raises ``ValidationError`` with a dict of field → messages (fields:
    title, body, feelings, service_ids, tag_ids, suggested_tags, author_role, age_group,
    happened_month, pseudonym, email, route, consent, consent_note).  Returns
    ``(story, secret)``; the private page is ``/stories/mine/<secret>/``.

    * ``suggested_tags`` holds ``(name, polarity)`` pairs.
    * ``actor``: who is acting.  On the web route, the signed-in author (None for a visitor,
      and for the API); their account address is used when ``email`` is empty.
    * On assisted routes (phone, paper) ``actor`` is the member of staff entering the story
      for someone (they must be allowed to enter assisted stories; it is stored as
      ``entered_by``), with ``consent=True`` and ``consent_note`` (how consent was given).
      The author may have no email: the story then gets a placeholder address and the
      private link goes to the member of staff.  The entry is written to the audit log.
    * The client's address is the current request's (``core.services.client_ip``; none in
      a task or a command).
    * The same text from the same address within 30 days is not stored again: the earlier
      story is returned with its private link and the author
      is told we already have it; ``submission_was_duplicate(story=story)`` is then True.
    """
    errors: dict[str, list[str]] = {}
    text = _text_errors(title, body, feelings, errors)
    pseudonym = _about_errors(
        author_role=author_role, age_group=age_group or "", happened_month=happened_month,
        pseudonym=pseudonym, errors=errors,
    )
    services = _services_checked(service_ids, errors)
    tags = _tags_checked(tag_ids, errors)
    suggestions = _suggestions_checked(suggested_tags, errors)

    if route not in SubmissionRoute.values:
        errors.setdefault("route", []).append(_("Choose how the story reached us"))
    assisted = route in ASSISTED_ROUTES
    # The actor is the author on the web, or the member of staff who enters the story for them.
    user = actor if not assisted else None
    entered_by = actor if assisted else None
    consent_note = " ".join(text_clean(consent_note or "").split())
    if assisted:
        if entered_by is None or not entered_by.has_perm("stories.enter_assisted"):
            raise PermissionDenied(_("Only moderators and staff may enter a story for someone."))
        if not consent:
            errors.setdefault("consent", []).append(
                _("Confirm that the person agreed to us sharing their story")
            )
        if not consent_note:
            errors.setdefault("consent_note", []).append(_("Say how the person gave their consent"))
    if len(consent_note) > CONSENT_NOTE_MAX:
        errors.setdefault("consent_note", []).append(
            _("How consent was given must be %(max)d characters or fewer") % {"max": CONSENT_NOTE_MAX}
        )

    email = (email or "").strip().lower()
    if not email and user is not None and user.is_authenticated:
        email = user.email.strip().lower()
    has_email = bool(email)
    if not email:
        if not assisted:
            errors.setdefault("email", []).append(_("Enter your email address"))
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors.setdefault("email", []).append(
                _("Enter an email address in the correct format, like name@example.com")
            )
        else:
            if email_is_placeholder(email):
                errors.setdefault("email", []).append(_("Enter a real email address"))
    if errors:
        raise ValidationError(errors)

    assert happened_month is not None  # checked above
    now = timezone.now()
    hashed = text_hash(title=text.title, body=text.body, feelings=text.feelings)

    # The same story sent twice (a double click, a retry, the API resending): keep one.
    earlier = Story.objects.select_for_update().filter(
        text_hash=hashed, submitted_at__gte=now - timedelta(days=SAME_AUTHOR_DUPLICATE_DAYS)
    )
    if has_email:
        earlier = earlier.filter(author_email=email)
    else:
        earlier = earlier.filter(author_email__endswith="@" + NO_EMAIL_DOMAIN, entered_by=entered_by)
    existing = earlier.order_by("submitted_at", "id").first()
    if existing is not None:
        secret = story_author_link_secret(story=existing)
        existing.submitted_again = True  # type: ignore[attr-defined]
        _email_author(story=existing, secret=secret, entered_by=entered_by if not has_email else None, again=True)
        return existing, secret

    # A placeholder until the story has its id: the real link is derived from id and time.
    _placeholder, token_hash = secret_new()
    author = user if user is not None and user.is_authenticated else None
    story = Story.objects.create(
        title=text.title,
        body=text.body,
        feelings=text.feelings,
        author=author,
        author_email=email if has_email else no_email_placeholder(),
        pseudonym=pseudonym,
        author_role=author_role,
        age_group=age_group or "",
        happened_month=happened_month.replace(day=1),
        author_token_hash=token_hash,
        route=route,
        entered_by=entered_by if assisted else None,
        consent_given_at=now,
        consent_note=consent_note,
        text_hash=hashed,
        submitted_ip=client_ip(),
        status=StoryStatus.PENDING,
        submitted_at=now,
        last_activity_at=now,
    )
    secret = story_author_link_secret(story=story)
    StoryService.objects.bulk_create(
        [StoryService(story=story, service=service, position=i) for i, service in enumerate(services)]
    )
    _tags_and_suggestions(story, tags, suggestions)
    StoryRevision.objects.create(
        story=story, kind=StoryRevision.Kind.ORIGINAL, title=story.title, body=story.body,
        feelings=story.feelings, edited_by=entered_by if assisted else author, created_at=now,
    )
    if assisted:
        audit_record(
            actor=entered_by,
            action="story.assisted_entry",
            target=story,
            after={
                "route": route,
                "consent_note": consent_note,
                "author_has_email": has_email,
                "services": [s.pk for s in services],
            },
        )
    _email_author(story=story, secret=secret, entered_by=entered_by if not has_email else None, again=False)
    return story, secret


def _email_author(*, story: Story, secret: str, entered_by: User | None, again: bool) -> None:
    """The private link, to the author, or (when they have no email) to the member of staff
    who entered the story for them."""
    context = {
        "story": story,
        "link": private_link(secret=secret),
        "again": again,
        "word_limit": word_limit(),
    }
    if entered_by is not None:
        email_send(
            to=entered_by.email,
            subject=_("The private link for the story you entered"),
            template="stories/email/submit_assisted_link.txt",
            context=context,
            language=getattr(entered_by, "preferred_language", "") or None,
        )
        return
    if email_is_placeholder(story.author_email):
        return
    subject = _("We already have your story") if again else _("Thank you for your story")
    email_send(
        to=story.author_email,
        subject=subject,
        template="stories/email/submit_received.txt",
        context=context,
    )


# --- What the author may do through their link ------------------------------------------------

@transaction.atomic
def story_author_edit(
    *,
    story_id: int,
    title: str,
    body: str,
    feelings: str,
    tag_ids: Iterable[Any],
    suggested_tags: Iterable[Any],
    author_role: str,
    age_group: str,
    happened_month: date | None,
    pseudonym: str,
) -> Story:
    """The author changes their story while it still waits for moderation.  Checks every
    input as ``story_submit`` does (``ValidationError`` with a dict); keeps the earlier
    text by adding an AUTHOR_EDIT revision.  Raises ``StoryNotEditable`` once a moderator
    has dealt with the story (the row is locked, so a moderator's decision at the same
    moment cannot be overwritten)."""
    story = Story.objects.select_for_update().get(pk=story_id)
    if story.status not in EDITABLE_STATUSES:
        raise StoryNotEditable(story.status)
    errors: dict[str, list[str]] = {}
    text = _text_errors(title, body, feelings, errors)
    pseudonym = _about_errors(
        author_role=author_role, age_group=age_group or "", happened_month=happened_month,
        pseudonym=pseudonym, errors=errors,
    )
    tags = _tags_checked(tag_ids, errors)
    suggestions = _suggestions_checked(suggested_tags, errors)
    if errors:
        raise ValidationError(errors)
    assert happened_month is not None
    text_changed = (text.title, text.body, text.feelings) != (story.title, story.body, story.feelings)
    story.title, story.body, story.feelings = text.title, text.body, text.feelings
    story.pseudonym = pseudonym
    story.author_role = author_role
    story.age_group = age_group or ""
    story.happened_month = happened_month.replace(day=1)
    story.text_hash = text_hash(title=text.title, body=text.body, feelings=text.feelings)
    story.last_activity_at = timezone.now()
    story.save()
    _tags_and_suggestions(story, tags, suggestions)
    if text_changed:
        StoryRevision.objects.create(
            story=story, kind=StoryRevision.Kind.AUTHOR_EDIT, title=story.title, body=story.body,
            feelings=story.feelings, edited_by=story.author,
        )
    return story


class StoryNotEditable(Exception):  # noqa: N818 -- reads as a sentence: raise StoryNotEditable
    """The story has been moderated (or withdrawn), so the author can no longer change it."""


class StoryNotWithdrawable(Exception):  # noqa: N818
    """The story was already withdrawn, or was not published."""


@transaction.atomic
def story_withdraw(*, story_id: int) -> Story:
    """The author withdraws their story: it leaves every list at once and its public page
    becomes a stub.  Its text and revisions are kept (moderators may still need them).
    Raises ``StoryNotWithdrawable`` when it is already withdrawn or was not published."""
    story = Story.objects.select_for_update().get(pk=story_id)
    if story.status not in WITHDRAWABLE_STATUSES:
        raise StoryNotWithdrawable(story.status)
    now = timezone.now()
    story.status = StoryStatus.WITHDRAWN
    story.withdrawn_at = now
    story.last_activity_at = now
    story.save(update_fields=["status", "withdrawn_at", "last_activity_at", "updated_at"])
    story_hidden_effects(story=story)
    return story


MAX_LINKS_SENT = 50


@transaction.atomic
def story_author_links_send(*, email: str) -> int:
    """"Lost your link?": email the address the private link to each of its stories (the
    newest 50).  Sends nothing when there are none; the caller
    must answer the same either way, so that nobody can find out whether an address told a
    story.  Returns how many links were sent."""
    email = (email or "").strip().lower()
    if not email or email_is_placeholder(email):
        return 0
    stories = list(
        Story.objects.select_for_update()
        .filter(author_email=email)
        .order_by("-submitted_at", "-id")[:MAX_LINKS_SENT]
    )
    if not stories:
        return 0
    links = []
    for story in stories:
        links.append({"story": story, "link": private_link(secret=story_author_link_secret(story=story))})
    email_send(
        to=email,
        subject=_("Links to your stories"),
        template="stories/email/submit_links.txt",
        context={"links": links},
    )
    return len(links)
