"""Optional wellbeing check-ins: the three-item UCLA loneliness scale (Hughes et al. 2004).

* A member says yes or no to being asked (``Member.wellbeing_opt_in``), themself or through a
  coordinator on the phone (assisted: the coordinator confirms the member agreed, and the audit
  log records it as done for the member).
* Answers are kept once a day per member (the database's UNIQUE (member, taken_on)).  The
  same answers sent again (a double click, a retried form) change nothing; different answers
  the same day replace that day's answers: the member (or the coordinator on the phone)
  corrected a slip, and the last word of the day counts.  Both the old and new answers are
  in the audit log's ``before``/``after`` as scores only.
* The daily clock invites members whose last check-in is older than
  ``CIRCLES_WELLBEING_INTERVAL_DAYS``: by email, at most once per interval (the invitation is
  the audit log's ``circles.wellbeing_invite`` event, so a re-run sends nothing twice); members
  who prefer phone or post, or have no real email address, are listed for coordinators to
  phone instead (``wellbeing_checkins_due``).

Answers are health-related (special category) personal data: the audit log never holds the
answers themselves, only scores and who entered them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from localsocial.accounts.models import User
from localsocial.circles.models import (
    Circle,
    ContactPreference,
    LonelinessAnswer,
    Member,
    MemberStatus,
    WellbeingCheckIn,
)
from localsocial.circles.models.membership import email_is_placeholder
from localsocial.core.email import email_send, site_url
from localsocial.core.models import AuditEvent
from localsocial.core.services import audit_record

ACTION_OPT_IN = "circles.wellbeing_opt_in"
ACTION_OPT_OUT = "circles.wellbeing_opt_out"
ACTION_RECORD = "circles.wellbeing_checkin"
ACTION_INVITE = "circles.wellbeing_invite"
ANSWER_FIELDS = ("lack_companionship", "left_out", "isolated")
# A convention from research, not a diagnosis: on the 3-to-9 scale, 6 or more is often
# counted as "lonely" (see docs/circles-wellbeing.md).
def interval_days() -> int:
    return int(getattr(settings, "CIRCLES_WELLBEING_INTERVAL_DAYS", 91))


def _acting_for(actor: User, member: Member) -> bool:
    """True when ``actor`` acts for ``member`` (and may: a coordinator of the member's
    circle); PermissionDenied for anyone else."""
    if actor is not None and actor.pk == member.user_id:
        return False
    if actor is None or not actor.has_perm("circles.coordinate", member.circle):
        raise PermissionDenied(_("Only the member or the circle's coordinators can do this."))
    return True


@transaction.atomic
def wellbeing_opt_set(*, member: Member, actor: User, opt_in: bool, consent: bool = False) -> Member:
    """Say yes (``opt_in``) or no to wellbeing check-ins for ``member``, by the member or by a
    coordinator of their circle for them.  A coordinator saying yes for someone must confirm
    they agreed (``consent``); saying no needs no proof.  Setting what is already set changes
    nothing and logs nothing.  Past answers stay when someone says no (they can be erased with
    the account)."""
    acting_for = _acting_for(actor, member)
    if acting_for and opt_in and not consent:
        raise ValidationError({"consent": _("Confirm the member agreed to be asked these questions")})
    changed = Member.objects.filter(pk=member.pk).exclude(wellbeing_opt_in=opt_in).update(wellbeing_opt_in=opt_in)
    member.wellbeing_opt_in = opt_in
    if changed:
        after: dict[str, Any] = {"wellbeing_opt_in": opt_in}
        if acting_for:
            after["consent"] = bool(consent) if opt_in else None
        audit_record(actor=actor, action=ACTION_OPT_IN if opt_in else ACTION_OPT_OUT, target=member,
                     before={"wellbeing_opt_in": not opt_in}, after=after,
                     on_behalf_of=member.user if acting_for else None)
    return member


@dataclass(frozen=True)
class Answers:
    """The three answers, each 1 (hardly ever), 2 (some of the time) or 3 (often)."""

    lack_companionship: int
    left_out: int
    isolated: int

    def cleaned(self) -> Answers:
        errors = {}
        allowed = set(LonelinessAnswer.values)
        for name in ANSWER_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value not in allowed:
                errors[name] = _("Choose an answer")
        if errors:
            raise ValidationError(errors)
        return self

    @property
    def score(self) -> int:
        return self.lack_companionship + self.left_out + self.isolated


@dataclass(frozen=True)
class Recorded:
    checkin: WellbeingCheckIn
    outcome: str  # "created", "same" (nothing changed) or "changed" (the day's answers replaced)


@transaction.atomic
def wellbeing_checkin_record(*, member: Member, actor: User, answers: Answers,
                             taken_on: dt.date | None = None) -> Recorded:
    """Keep ``member``'s answers for ``taken_on`` (today by default), by the member or by a
    coordinator of their circle asking on the phone (then ``entered_by`` is the coordinator
    and the audit log records it as done for the member).

    Refuses (ValidationError) a member who has not said yes to check-ins or is not active, a
    day in the future, and answers out of range.  One row per member and day: the same answers
    again return the row unchanged (``same``); different answers replace the day's answers
    (``changed``)."""
    acting_for = _acting_for(actor, member)
    answers = answers.cleaned()
    today = timezone.localdate()
    day = taken_on or today
    # Re-read under a lock: an opt-out or a lapse that has just happened wins.
    locked = Member.objects.select_for_update().get(pk=member.pk)
    if locked.status != MemberStatus.ACTIVE:
        raise ValidationError(_("Only active members are asked these questions."))
    if not locked.wellbeing_opt_in:
        raise ValidationError(_("%(name)s has not said yes to these questions. Ask them first, and record that "
                                "they agreed.") % {"name": member.display_name} if acting_for
                              else _("Say yes to these questions first."))
    if day > today:
        raise ValidationError({"taken_on": _("The date cannot be in the future")})
    values = {name: getattr(answers, name) for name in ANSWER_FIELDS}
    entered_by = actor if acting_for else None
    existing = WellbeingCheckIn.objects.select_for_update().filter(member=member, taken_on=day).first()
    if existing is None:
        try:
            with transaction.atomic():
                checkin = WellbeingCheckIn.objects.create(
                    circle_id=member.circle_id, member=member, taken_on=day, score=answers.score,
                    entered_by=entered_by, **values,
                )
        except IntegrityError:  # the same form sent twice at once: the member lock makes this rare
            existing = WellbeingCheckIn.objects.select_for_update().get(member=member, taken_on=day)
        else:
            audit_record(actor=actor, action=ACTION_RECORD, target=member, after={
                "taken_on": day, "score": answers.score, "assisted": acting_for},
                on_behalf_of=member.user if acting_for else None)
            return Recorded(checkin, "created")
    if all(getattr(existing, name) == value for name, value in values.items()):
        return Recorded(existing, "same")
    before_score = existing.score
    for name, value in values.items():
        setattr(existing, name, value)
    existing.score = answers.score
    existing.entered_by = entered_by
    existing.save(update_fields=[*ANSWER_FIELDS, "score", "entered_by"])
    audit_record(actor=actor, action=ACTION_RECORD, target=member,
                 before={"taken_on": day, "score": before_score},
                 after={"taken_on": day, "score": answers.score, "assisted": acting_for, "replaced": True},
                 on_behalf_of=member.user if acting_for else None)
    return Recorded(existing, "changed")


# --- Reminders (the daily clock) -------------------------------------------------------------------

@dataclass(frozen=True)
class Due:
    """An opted-in member to ask again: by email (``by_email``) or by phone."""

    member: Member
    last_taken_on: dt.date | None
    last_invited_on: dt.date | None
    by_email: bool


def _reachable_by_email(member: Member) -> bool:
    return member.contact_preference == ContactPreference.EMAIL and not email_is_placeholder(member.user.email)


def _last_events(member_ids: list[int], actions: list[str]) -> dict[int, dt.date]:
    """The date of the last audit event of ``actions`` about each member (one query)."""
    if not member_ids:
        return {}
    rows = (
        AuditEvent.objects.filter(action__in=actions, target_type="circles.member",
                                  target_id__in=[str(pk) for pk in member_ids])
        .values("target_id").annotate(last=Max("created_at"))
    )
    return {int(row["target_id"]): timezone.localdate(row["last"]) for row in rows}


def wellbeing_checkins_due(*, today: dt.date | None = None, circle: Circle | None = None) -> list[Due]:
    """Active, opted-in members (of ``circle``, or of every circle) to ask again: their last
    check-in, and the day they said yes, are both ``CIRCLES_WELLBEING_INTERVAL_DAYS`` or more
    ago (or never).  Members we email are left out while an email invitation is less than an
    interval old; members to phone stay listed until a coordinator records answers or they
    say no.  Three queries, ordered by name."""
    today = today or timezone.localdate()
    cutoff = today - dt.timedelta(days=interval_days())
    members = Member.objects.filter(wellbeing_opt_in=True, status=MemberStatus.ACTIVE)
    if circle is not None:
        members = members.filter(circle=circle)
    candidates = list(
        members.annotate(last_taken_on=Max("wellbeing_checkins__taken_on"))
        .select_related("user", "circle").order_by("display_name", "id")
    )
    candidates = [m for m in candidates if m.last_taken_on is None or m.last_taken_on <= cutoff]  # type: ignore[attr-defined]
    ids = [m.pk for m in candidates]
    opted_in = _last_events(ids, [ACTION_OPT_IN])
    invited = _last_events(ids, [ACTION_INVITE])
    due = []
    for member in candidates:
        if opted_in.get(member.pk, cutoff) > cutoff:
            continue  # said yes lately: they were shown the questions then
        by_email = _reachable_by_email(member)
        last_invited = invited.get(member.pk)
        if by_email and last_invited is not None and last_invited > cutoff:
            continue
        due.append(Due(member=member, last_taken_on=member.last_taken_on,  # type: ignore[attr-defined]
                       last_invited_on=last_invited, by_email=by_email))
    return due


@dataclass
class ReminderResult:
    emailed: int = 0
    to_phone: int = 0


def _invite(member: Member) -> None:
    email_send(
        to=member.user.email,
        subject=_("Three short questions from %(circle)s") % {"circle": member.circle.name},
        template="circles/email/wellbeing_invitation.txt",
        context={"member_name": member.display_name, "circle": member.circle.name,
                 "wellbeing_url": site_url(reverse("circles:wellbeing", kwargs={"slug": member.circle.slug}))},
        language=member.user.preferred_language or None,
    )


def wellbeing_reminders_send(*, today: dt.date | None = None) -> ReminderResult:
    """What the daily clock does for check-ins, safe to run as often as you like: email each
    due member who can be emailed (at most once per interval: the invitation is recorded in
    the audit log, claimed under a lock on the member's row, so two clocks at once send one),
    and count those left for coordinators to phone."""
    today = today or timezone.localdate()
    cutoff = today - dt.timedelta(days=interval_days())
    result = ReminderResult()
    for due in wellbeing_checkins_due(today=today):
        if not due.by_email:
            result.to_phone += 1
            continue
        with transaction.atomic():
            member = Member.objects.select_for_update().filter(
                pk=due.member.pk, wellbeing_opt_in=True, status=MemberStatus.ACTIVE).first()
            if member is None:
                continue
            again = _last_events([member.pk], [ACTION_INVITE]).get(member.pk)
            if again is not None and again > cutoff:
                continue
            _invite(due.member)
            audit_record(actor=None, action=ACTION_INVITE, target=member, after={"by": "email"})
            result.emailed += 1
    return result
