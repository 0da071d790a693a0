"""Staff alerts: setting them up, matching each newly published story to them, and sending
the emails, once each.

Once-only sending rests on the database, not on the task queue:

* a story matches an alert at most once: ``AlertDelivery`` is unique on (alert, story) and
  rows are inserted with ``ignore_conflicts``, so running the matching task twice, or two
  workers at once, adds nothing the second time;
* an email goes only after its delivery is *claimed* with a conditional UPDATE
  (``sent_at IS NULL`` → now), in the same transaction that queues the email, so a retry
  finds it claimed and sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from localsocial.accounts.models import User
from localsocial.core.email import email_send, site_url
from localsocial.core.services import audit_record
from localsocial.directory.models import Organisation, Service
from localsocial.stories.models import (
    AlertDelivery,
    AlertFrequency,
    AlertSubscription,
    Criticality,
    Story,
    Tag,
)
from localsocial.stories.selectors import alerts as selectors
from localsocial.stories.services.common import story_progress_mark

logger = logging.getLogger(__name__)

EXCERPT_WORDS = 60
NAME_MAX = 100


# --- Setting up alerts ------------------------------------------------------------------------

@dataclass
class AlertChoices:
    """What an alert is about and how it is sent: the fields a person chooses."""

    name: str
    organisation: Organisation | None
    services: list[Service]
    tags: list[Tag]
    min_criticality: int
    frequency: str


def _alert_check(*, user: User, choices: AlertChoices) -> None:
    """Refuse choices a person may not make: an organisation they do not work for, a service
    outside every organisation they work for, or an alert about nothing."""
    errors: dict[str, list[Any]] = {}
    if not choices.name.strip():
        errors["name"] = [_("Enter a name for this alert")]
    elif len(choices.name.strip()) > NAME_MAX:
        errors["name"] = [_("The name must be %(n)s characters or fewer") % {"n": NAME_MAX}]
    organisations = selectors.alert_organisations_for_user(user=user)
    if not organisations:
        raise ValidationError(_("Alerts are for people who work for an organisation in the directory."))
    if choices.organisation is not None and choices.organisation.pk not in {o.pk for o in organisations}:
        errors["organisation"] = [_("Choose an organisation you work for")]
    if choices.services:
        wanted = {s.pk for s in choices.services}
        allowed = set(
            selectors.alert_services_allowed(organisations=organisations)
            .filter(pk__in=wanted).values_list("pk", flat=True)
        )
        if wanted - allowed:
            errors["services"] = [_("Choose services run by the organisations you work for")]
    if choices.organisation is None and not choices.services and "organisation" not in errors:
        errors["organisation"] = [_("Choose an organisation or at least one service")]
    if not 0 <= choices.min_criticality <= 5:
        errors["min_criticality"] = [_("Choose how critical a story must be")]
    if choices.frequency not in AlertFrequency.values:
        errors["frequency"] = [_("Choose how often to get alerts")]
    if errors:
        raise ValidationError(errors)


def _alert_snapshot(alert: AlertSubscription) -> dict[str, Any]:
    return {
        "name": alert.name,
        "organisation": alert.organisation_id,
        "services": sorted(alert.services.values_list("pk", flat=True)),
        "tags": sorted(alert.tags.values_list("pk", flat=True)),
        "min_criticality": alert.min_criticality,
        "frequency": alert.frequency,
        "is_active": alert.is_active,
    }


@transaction.atomic
def alert_create(*, actor: User, choices: AlertChoices) -> AlertSubscription:
    """Set up an alert for ``actor`` (who must work for an organisation).  Raises
    ValidationError, by field, for choices they may not make."""
    _alert_check(user=actor, choices=choices)
    alert = AlertSubscription.objects.create(
        user=actor, name=choices.name.strip(), organisation=choices.organisation,
        min_criticality=choices.min_criticality, frequency=choices.frequency,
    )
    alert.services.set(choices.services)
    alert.tags.set(choices.tags)
    audit_record(actor=actor, action="stories.alert_create", target=alert, after=_alert_snapshot(alert))
    return alert


@transaction.atomic
def alert_update(
    *, actor: User, alert: AlertSubscription, choices: AlertChoices
) -> AlertSubscription:
    """Change one of the person's own alerts; from now on stories are matched with the new
    choices.  Stories already matched stay matched; when a daily alert becomes an "as each
    story is published" one, the stories waiting for its digest are sent at once, as a last
    digest."""
    alert = AlertSubscription.objects.select_for_update().get(pk=alert.pk, user=actor)
    _alert_check(user=actor, choices=choices)
    before = _alert_snapshot(alert)
    if alert.frequency == AlertFrequency.DAILY and choices.frequency == AlertFrequency.IMMEDIATE and alert.is_active:
        _send_one_digest(alert_id=alert.pk, now=timezone.now())
    alert.name = choices.name.strip()
    alert.organisation = choices.organisation
    alert.min_criticality = choices.min_criticality
    alert.frequency = choices.frequency
    alert.save(update_fields=["name", "organisation", "min_criticality", "frequency"])
    alert.services.set(choices.services)
    alert.tags.set(choices.tags)
    audit_record(
        actor=actor, action="stories.alert_update", target=alert, before=before, after=_alert_snapshot(alert),
    )
    return alert


@transaction.atomic
def alert_set_active(
    *, actor: User, alert: AlertSubscription, is_active: bool
) -> AlertSubscription:
    """Pause (``is_active=False``) or resume one of the person's own alerts.  Stories
    published while it is paused are never sent; a daily alert's waiting stories wait.
    Idempotent."""
    updated = AlertSubscription.objects.filter(pk=alert.pk, user=actor).exclude(is_active=is_active).update(
        is_active=is_active
    )
    alert.is_active = is_active
    if updated:
        audit_record(
            actor=actor, action="stories.alert_resume" if is_active else "stories.alert_pause", target=alert,
            before={"is_active": not is_active}, after={"is_active": is_active},
        )
    return alert


@transaction.atomic
def alert_delete(*, actor: User, alert: AlertSubscription) -> None:
    """Delete one of the person's own alerts, with what it matched."""
    alert = AlertSubscription.objects.select_for_update().get(pk=alert.pk, user=actor)
    before = _alert_snapshot(alert)
    audit_record(actor=actor, action="stories.alert_delete", target=alert, before=before)
    alert.delete()


# --- Matching a published story ---------------------------------------------------------------

def alerts_match_story(*, story_id: int, now: datetime | None = None) -> int:
    """Match a published story to every alert and send the immediate ones.  Returns the
    number of alert emails queued by this call.

    Idempotent and safe to run concurrently: matches are inserted once (the unique
    constraint), and each email is sent only by the run that claims its delivery.  A story
    that is no longer published (withdrawn before this ran) alerts nobody.
    """
    now = now or timezone.now()
    facts = selectors.alert_story_facts(story_id=story_id)
    if facts is None:
        return 0
    matches = selectors.alert_subscriptions_matching(facts=facts)
    if matches:
        AlertDelivery.objects.bulk_create(
            [AlertDelivery(subscription_id=sub_id, story_id=story_id, created_at=now) for sub_id, _freq in matches],
            ignore_conflicts=True,
        )
    return alerts_send_immediate(story_id=story_id, now=now)


def alerts_send_immediate(*, story_id: int, now: datetime | None = None) -> int:
    """Send the story's unsent "as each story is published" alerts, one email each, and mark
    the story heard when at least one went.  Each email is queued in the transaction that
    claims its delivery, so it goes once however often this runs."""
    now = now or timezone.now()
    pending = selectors.alert_deliveries_unsent_immediate(story_id=story_id)
    if not pending:
        return 0
    story = selectors.alert_story_for_email(story_id=story_id)
    if story is None:
        return 0
    summary = _story_summary(story)
    sent = 0
    for delivery in pending:
        with transaction.atomic():
            claimed = AlertDelivery.objects.filter(pk=delivery.pk, sent_at__isnull=True).update(sent_at=now)
            if not claimed:
                continue  # another run sent it
            _send_story_alert(alert=delivery.subscription, summary=summary)
            sent += 1
    if sent:
        _mark_heard(story_ids=[story_id], now=now)
    logger.info("alerts: story %s sent to %d alert(s)", story_id, sent)
    return sent


# --- Daily digests ----------------------------------------------------------------------------

def alerts_send_digests(*, now: datetime | None = None) -> int:
    """Send each active daily alert that has stories waiting one email listing them, and
    record ``last_digest_at``.  Returns the number of digests sent.

    Run it once a day (``localsocial stories_send_digests`` from cron).  Each alert is done
    in its own transaction, which locks the alert and claims its waiting deliveries: running
    it twice, or twice at once, sends nothing more.  Stories withdrawn since they matched
    are left out (and their deliveries closed); an alert with nothing left to list gets no
    email.
    """
    now = now or timezone.now()
    sent = 0
    for alert_id in list(selectors.alert_subscriptions_with_digest_due().values_list("pk", flat=True)):
        if _send_one_digest(alert_id=alert_id, now=now):
            sent += 1
    logger.info("alerts: %d daily digest(s) sent", sent)
    return sent


@transaction.atomic
def _send_one_digest(*, alert_id: int, now: datetime) -> bool:
    alert = (
        AlertSubscription.objects.select_for_update(of=("self",)).select_related("user")
        .filter(pk=alert_id, is_active=True, frequency=AlertFrequency.DAILY).first()
    )
    if alert is None:
        return False
    # Lock the waiting rows too: a match task still sending "as published" alerts to this
    # alert (it was switched to daily a moment ago) claims rows one by one, and either it
    # or this digest gets each row, never both.
    delivery_ids = list(
        AlertDelivery.objects.select_for_update()
        .filter(subscription_id=alert_id, sent_at__isnull=True, created_at__lte=now)
        .values_list("pk", flat=True)
    )
    if not delivery_ids:
        return False
    AlertDelivery.objects.filter(pk__in=delivery_ids).update(sent_at=now)
    stories = selectors.alert_digest_stories(delivery_ids=delivery_ids)
    AlertSubscription.objects.filter(pk=alert_id).update(last_digest_at=now)
    if not stories:
        return False
    listed = stories[: selectors.DIGEST_STORIES_LISTED]
    count = len(stories)
    _email_user(
        user=alert.user,
        subject=lambda: ngettext(
            "%(count)s new story for your alert “%(name)s”",
            "%(count)s new stories for your alert “%(name)s”",
            count,
        ) % {"count": count, "name": alert.name},
        template="stories/email/alerts_digest.txt",
        context={
            "alert_name": alert.name,
            "stories": [_story_summary(s) for s in listed],
            "count": count,
            "more": count - len(listed),
        },
    )
    _mark_heard(story_ids=[s.pk for s in stories], now=now)
    return True


# --- Emails -----------------------------------------------------------------------------------

def _story_path(story: Story) -> str:
    try:
        return story.get_absolute_url()
    except NoReverseMatch:  # the reading part's page is not there yet
        return f"/stories/{story.pk}/"


def story_excerpt(*, text: str, words: int = EXCERPT_WORDS) -> str:
    """The first ``words`` words of ``text``, with an ellipsis when there is more."""
    parts = text.split()
    if len(parts) <= words:
        return " ".join(parts)
    return " ".join(parts[:words]) + " …"


def _story_summary(story: Story) -> dict[str, Any]:
    """What an alert email says about a story (from a story fetched with its services)."""
    criticality = Criticality(story.criticality).label if story.criticality is not None else _("Not yet rated")
    return {
        "title": story.title,
        "services": [link.service.name for link in story.story_services.all()],
        "criticality": criticality,
        "excerpt": story_excerpt(text=story.body),
        "url": site_url(_story_path(story)),
        "published_at": story.published_at,
    }


def _send_story_alert(*, alert: AlertSubscription, summary: dict[str, Any]) -> None:
    _email_user(
        user=alert.user,
        subject=lambda: _("New story: %(title)s") % {"title": summary["title"]},
        template="stories/email/alerts_story.txt",
        context={"alert_name": alert.name, "story": summary},
    )


def _email_user(*, user: User, subject: Callable[[], str], template: str, context: dict[str, Any]) -> None:
    """Queue an alert email to ``user`` in their language, with the link to their alerts."""
    language = user.preferred_language or None
    with translation.override(language or translation.get_language()):
        subject_text = str(subject())
    email_send(
        to=user.email,
        subject=subject_text,
        template=template,
        context={"display_name": user.display_name, "alerts_url": site_url(reverse("stories:alerts")), **context},
        language=language,
    )


def _mark_heard(*, story_ids: list[int], now: datetime) -> None:
    """An alert about the story went to its organisation's staff: it has been heard."""
    for story_id in Story.objects.filter(pk__in=story_ids, heard_at__isnull=True).values_list("pk", flat=True):
        story_progress_mark(story_id=story_id, heard_at=now)
