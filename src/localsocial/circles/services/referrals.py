"""Referrals between a circle and its partner organisations.  Every write about referrals goes
through here (see docs/circles-referrals.md).

* **In** (``referral_in_create``): the staff of a partner organisation (any role, or a role in
  an organisation above it) or a coordinator refer someone to the circle, who agreed to it.
  Only an organisation that is a partner of the circle may refer.  The coordinators are
  emailed a link, never the person's details.
* **Out** (``referral_out_create``): a coordinator refers a member to a partner, with the
  member's agreement.  The partner's administrators and responders are emailed a link (those
  of the organisation itself, or, when it has none, of the nearest organisation above it that
  has some).
* ``referral_update``: what happened.  Coordinators answer referrals in; the partner's staff
  answer referrals out, and coordinators may close one.  Ending a referral (accepted,
  declined, closed) is final.
* ``referral_join``: a coordinator joins up the person referred in (``member_join_assisted``);
  the referral becomes accepted and points at the new member in the same transaction.
* ``referrals_redact_ended``: personal details leave referrals a year after they ended.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from localsocial.accounts.models import User
from localsocial.circles.models import (
    OPEN_REFERRAL_STATUSES,
    Circle,
    CirclePartner,
    Member,
    Referral,
    ReferralDirection,
    ReferralStatus,
)
from localsocial.circles.models.membership import email_is_placeholder
from localsocial.circles.selectors.membership import coordinator_emails, may_coordinate
from localsocial.circles.selectors.referrals import may_act_for_partner, referral_statuses_for
from localsocial.circles.services.membership import MemberDetails, member_join_assisted
from localsocial.core.email import email_send, site_url
from localsocial.core.services import audit_record
from localsocial.directory.models import (
    Organisation,
    OrganisationMembership,
    StaffRole,
    normalise_postcode,
    postcode_validator,
)

TEXT_MAX = 2000
# Ended referrals keep the person's details this long, then only the figures remain.
RETENTION = dt.timedelta(days=365)
REDACTED = "Removed"
# What a referral holds once its personal details are gone.  (A referral in must keep a way to
# reach the person, by a database rule: the phone number becomes the word too.)
REDACTED_FIELDS = {
    "person_name": REDACTED, "person_phone": REDACTED, "person_email": "", "person_postcode": "",
    "reason": REDACTED, "needs": "", "outcome": "",
}
ENDED_STATUSES = [s for s in ReferralStatus if s not in OPEN_REFERRAL_STATUSES]
# Who is emailed about a referral out: the roles that answer for an organisation.
ANSWERING_ROLES = [StaffRole.ADMINISTRATOR, StaffRole.RESPONDER]


@dataclass
class ReferredPerson:
    """Who is referred and why: what the referrer tells the other side."""

    name: str
    phone: str = ""
    email: str = ""
    postcode: str = ""
    reason: str = ""
    needs: str = ""

    def cleaned(self, *, reachable: bool) -> ReferredPerson:
        """The details tidied and checked (``reachable``: a phone number or an email address is
        needed); raises ValidationError naming the fields (``person_name``, ``reason`` …)."""
        errors: dict[str, str] = {}
        name = " ".join(self.name.split())[:200]
        phone = " ".join(self.phone.split())[:40]
        email = self.email.strip().lower()[:254]
        postcode = normalise_postcode(self.postcode)
        reason = self.reason.strip()
        needs = self.needs.strip()
        if not name:
            errors["person_name"] = _("Enter the person's name")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors["person_email"] = _("Enter an email address in the correct format, like name@example.com")
        if reachable and not phone and not email:
            errors["person_phone"] = _("Enter a phone number or an email address, so that we can get in touch")
        if postcode:
            try:
                postcode_validator(postcode)
            except ValidationError:
                errors["person_postcode"] = _("Enter a full UK postcode, like SE1 7EH")
        if not reason:
            errors["reason"] = _("Say why you are referring them")
        elif len(reason) > TEXT_MAX:
            errors["reason"] = _("Say why in %(max)s characters or fewer") % {"max": TEXT_MAX}
        if len(needs) > TEXT_MAX:
            errors["needs"] = _("Say what we should know in %(max)s characters or fewer") % {"max": TEXT_MAX}
        if errors:
            raise ValidationError(errors)
        return ReferredPerson(name=name, phone=phone, email=email, postcode=postcode, reason=reason, needs=needs)


def _check_partner(circle: Circle, organisation: Organisation) -> None:
    if not CirclePartner.objects.filter(circle=circle, organisation=organisation).exists():
        raise ValidationError({"partner": _(
            "%(organisation)s is not a partner of %(circle)s, so it cannot make or take referrals for it. "
            "Ask the circle's coordinators to add it as a partner."
        ) % {"organisation": organisation.name, "circle": circle.name}})


def _key(idempotency_key: str) -> str:
    key = (idempotency_key or "").strip()[:100]
    if not key:
        raise ValidationError(_("The form was missing a part. Go back, reload the page and try again."))
    return key


def _same_form(existing: Referral, *, direction: str, actor: User) -> Referral:
    """The referral this form already made, or a refusal when the key belongs to another."""
    if existing.direction != direction or existing.created_by_id != actor.pk:
        raise ValidationError(_("The form was missing a part. Go back, reload the page and try again."))
    return existing


def referral_link(*, referral: Referral) -> str:
    """The referral's page, behind sign-in (the only thing emails carry about it)."""
    return site_url(reverse("circles:referral", kwargs={"pk": referral.pk}))


def partner_answerers_emails(*, organisation: Organisation) -> list[str]:
    """The administrators and responders of ``organisation``; when it has none, those of the
    nearest organisation above it that has some.  One query."""
    rows = list(
        OrganisationMembership.objects.filter(
            organisation_id__in=organisation.lineage_ids, role__in=ANSWERING_ROLES, user__is_active=True
        ).values_list("organisation__depth", "user__email")
    )
    if not rows:
        return []
    nearest = max(depth for depth, _email in rows)
    return sorted({email for depth, email in rows if depth == nearest and not email_is_placeholder(email)})


@transaction.atomic
def referral_in_create(
    *, circle: Circle, partner: Organisation, actor: User, person: ReferredPerson, consent: bool,
    idempotency_key: str,
) -> tuple[Referral, bool]:
    """Refer someone to ``circle`` for ``partner``, by the partner's staff or a coordinator.
    The person must have agreed (``consent``: the time is recorded) and be reachable by phone
    or email.  Returns ``(referral, created)``: the same form sent twice (same key) makes one
    referral.  Raises PermissionDenied for anyone who works neither for the partner nor for
    the circle, ValidationError (by field) when ``partner`` is not a partner of the circle or
    the details are not right.  The coordinators get an email with a link."""
    if not (may_act_for_partner(actor, partner) or may_coordinate(actor, circle)):
        raise PermissionDenied(_("Only the staff of a partner organisation can refer people to the circle."))
    key = _key(idempotency_key)
    existing = Referral.objects.filter(circle=circle, idempotency_key=key).first()
    if existing is not None:
        return _same_form(existing, direction=ReferralDirection.IN, actor=actor), False
    _check_partner(circle, partner)
    errors: dict[str, list[str]] = {}
    if not consent:
        errors["consent"] = [_("Confirm that the person agreed to be referred")]
    try:
        person = person.cleaned(reachable=True)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                circle=circle, direction=ReferralDirection.IN, partner=partner, person_name=person.name,
                person_phone=person.phone, person_email=person.email, person_postcode=person.postcode,
                reason=person.reason, needs=person.needs, consent_given_at=timezone.now(), idempotency_key=key,
                created_by=actor,
            )
    except IntegrityError:  # the same form sent twice at once: the first one made it
        return Referral.objects.get(circle=circle, idempotency_key=key), False
    # The log names the parties, never the person's details: they may not be a user and the
    # log outlives the referral's retention.
    audit_record(actor=actor, action="circles.referral_in_create", target=referral,
                 after={"partner": partner.pk, "consent": True})
    emails = coordinator_emails(circle_id=circle.pk)
    if emails:
        email_send(
            to=emails, subject=_("New referral to %(circle)s") % {"circle": circle.name},
            template="circles/email/referral_in_new.txt",
            context={"circle": circle, "partner": partner, "link": referral_link(referral=referral)},
        )
    return referral, True


@transaction.atomic
def referral_out_create(
    *, member: Member, partner: Organisation, actor: User, reason: str, consent: bool, idempotency_key: str,
    needs: str = "", phone: str = "", email: str = "", postcode: str = "",
) -> tuple[Referral, bool]:
    """A coordinator refers ``member`` to ``partner`` with the member's agreement, sharing only
    the contact details given (``phone``, ``email``, ``postcode``: the coordinator leaves out
    what the partner does not need).  Audited as done for the member.  Returns
    ``(referral, created)``; the same key makes one referral.  The partner's administrators
    and responders get an email with a link."""
    circle = member.circle
    if not may_coordinate(actor, circle):
        raise PermissionDenied(_("Only the circle's coordinators can do this."))
    key = _key(idempotency_key)
    existing = Referral.objects.filter(circle=circle, idempotency_key=key).first()
    if existing is not None:
        return _same_form(existing, direction=ReferralDirection.OUT, actor=actor), False
    _check_partner(circle, partner)
    errors: dict[str, list[str]] = {}
    if not consent:
        errors["consent"] = [_("Confirm that %(name)s agreed to be referred") % {"name": member.display_name}]
    try:
        person = ReferredPerson(name=member.display_name, phone=phone, email=email, postcode=postcode, reason=reason,
                                needs=needs).cleaned(reachable=False)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                circle=circle, direction=ReferralDirection.OUT, partner=partner, member=member,
                person_name=person.name, person_phone=person.phone, person_email=person.email,
                person_postcode=person.postcode, reason=person.reason, needs=person.needs,
                consent_given_at=timezone.now(), idempotency_key=key, created_by=actor,
            )
    except IntegrityError:
        return Referral.objects.get(circle=circle, idempotency_key=key), False
    audit_record(actor=actor, action="circles.referral_out_create", target=referral, on_behalf_of=member.user,
                 after={"partner": partner.pk, "consent": True,
                        "shared": sorted(n for n in ("phone", "email", "postcode") if getattr(person, n))})
    emails = partner_answerers_emails(organisation=partner)
    if emails:
        email_send(
            to=emails, subject=_("New referral from %(circle)s") % {"circle": circle.name},
            template="circles/email/referral_out_new.txt",
            context={"circle": circle, "partner": partner, "link": referral_link(referral=referral)},
        )
    return referral, True


@transaction.atomic
def referral_update(
    *, referral: Referral, actor: User, status: str, outcome: str = "",
) -> Referral:
    """Say what happened: move the referral on (in touch) or end it (accepted, declined,
    closed; ``closed_at`` is set) with a note of the outcome, required when it is declined or
    closed.  Who may: see ``referral_statuses_for``.  Sending the same status again changes
    nothing (a new note replaces the old one while it is open); an ended referral stays ended."""
    locked = Referral.objects.select_for_update(of=("self",)).select_related("circle", "partner").get(pk=referral.pk)
    if actor is None or not actor.has_perm("circles.update_referral", locked):
        raise PermissionDenied(_("You cannot change this referral."))
    outcome = (outcome or "").strip()
    if locked.status == status and (not outcome or outcome == locked.outcome or not locked.is_open):
        return locked
    if not locked.is_open:
        raise ValidationError(_("This referral has ended, so it cannot be changed."))
    allowed = referral_statuses_for(actor, locked)
    if status not in allowed:
        if status == ReferralStatus.ACCEPTED and locked.direction == ReferralDirection.IN:
            raise ValidationError({"status": _("To accept this referral, join the person up.")})
        raise ValidationError({"status": _("Choose what happened")})
    errors: dict[str, str] = {}
    if status in (ReferralStatus.DECLINED, ReferralStatus.CLOSED) and not outcome:
        errors["outcome"] = _("Say what happened")
    if len(outcome) > TEXT_MAX:
        errors["outcome"] = _("Say what happened in %(max)s characters or fewer") % {"max": TEXT_MAX}
    if errors:
        raise ValidationError(errors)
    before = locked.status
    locked.status = status
    if outcome:
        locked.outcome = outcome
    if status in ENDED_STATUSES:
        locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "outcome", "closed_at", "updated_at"])
    audit_record(actor=actor, action="circles.referral_update", target=locked,
                 before={"status": before}, after={"status": status})
    _tell_the_other_side(locked, actor)
    return locked


def _tell_the_other_side(referral: Referral, actor: User) -> None:
    """The other side hears what happened, by email with a link and no personal details: for a
    referral in, the partner's staff member who made it (if they may still see it); for a
    referral out, the circle's coordinators.  The person who made the change is not told."""
    if referral.direction == ReferralDirection.IN:
        referrer = referral.created_by
        recipients = (
            [referrer.email] if referrer is not None and referrer.is_active and referrer.pk != actor.pk
            and not email_is_placeholder(referrer.email) and referrer.has_perm("circles.view_referral", referral)
            else []
        )
    else:
        recipients = [email for email in coordinator_emails(circle_id=referral.circle_id) if email != actor.email]
    if recipients:
        email_send(
            to=recipients, subject=_("A referral has moved on: %(status)s") % {"status": referral.get_status_display()},
            template="circles/email/referral_updated.txt",
            context={"circle": referral.circle, "partner": referral.partner, "status": referral.get_status_display(),
                     "incoming": referral.direction == ReferralDirection.IN, "link": referral_link(referral=referral)},
        )


@transaction.atomic
def referral_join(
    *, referral: Referral, actor: User, details: MemberDetails, email: str, eligibility_confirmed: bool,
    consent: bool,
) -> Member:
    """A coordinator joins up the person referred in (``member_join_assisted``: the same checks
    and the same audit), and the referral becomes accepted and points at the new member, in
    one transaction.  Doing it again for a referral already joined returns that member."""
    locked = Referral.objects.select_for_update(of=("self",)).select_related("circle", "member").get(pk=referral.pk)
    if not may_coordinate(actor, locked.circle):
        raise PermissionDenied(_("Only the circle's coordinators can do this."))
    if locked.direction != ReferralDirection.IN:
        raise ValidationError(_("Only someone referred to the circle can be joined up from a referral."))
    if locked.status == ReferralStatus.ACCEPTED and locked.member is not None:
        return locked.member
    if not locked.is_open:
        raise ValidationError(_("This referral has ended, so it cannot be changed."))
    member = member_join_assisted(
        circle=locked.circle, actor=actor, details=details, email=email, eligibility_confirmed=eligibility_confirmed,
        consent=consent,
    )
    locked.member = member
    locked.status = ReferralStatus.ACCEPTED
    locked.closed_at = timezone.now()
    locked.save(update_fields=["member", "status", "closed_at", "updated_at"])
    audit_record(actor=actor, action="circles.referral_join", target=locked, on_behalf_of=member.user,
                 after={"member": member.pk, "status": ReferralStatus.ACCEPTED})
    return member


@transaction.atomic
def referral_link_member(*, referral: Referral, member: Member, actor: User) -> Referral:
    """A coordinator records that the person referred in is already a member (they joined by
    themselves, or were joined up another way): the referral points at that member and is
    accepted.  The member must belong to the referral's circle.  Linking the same member
    again changes nothing."""
    locked = Referral.objects.select_for_update(of=("self",)).select_related("circle").get(pk=referral.pk)
    if not may_coordinate(actor, locked.circle):
        raise PermissionDenied(_("Only the circle's coordinators can do this."))
    if locked.direction != ReferralDirection.IN:
        raise ValidationError(_("Only someone referred to the circle can be linked to a member."))
    if locked.status == ReferralStatus.ACCEPTED and locked.member_id == member.pk:
        return locked
    if not locked.is_open:
        raise ValidationError(_("This referral has ended, so it cannot be changed."))
    if member.circle_id != locked.circle_id:
        raise ValidationError(_("That person is not a member of this circle."))
    locked.member = member
    locked.status = ReferralStatus.ACCEPTED
    locked.closed_at = timezone.now()
    locked.save(update_fields=["member", "status", "closed_at", "updated_at"])
    audit_record(actor=actor, action="circles.referral_link_member", target=locked,
                 after={"member": member.pk, "status": ReferralStatus.ACCEPTED})
    return locked


def referrals_redact_ended(*, now: dt.datetime | None = None) -> int:
    """Remove the personal details (name, contact details, reason, needs, outcome) of every
    referral that ended more than ``RETENTION`` ago; the partner, direction, status and dates
    stay for the figures.  Safe to run as often as you like.  Returns how many were redacted."""
    cutoff = (now or timezone.now()) - RETENTION
    return Referral.objects.filter(closed_at__lt=cutoff).exclude(person_name=REDACTED).update(**REDACTED_FIELDS)
