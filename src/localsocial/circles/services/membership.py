"""Joining a circle (online, or by phone through a coordinator), members' details, welcome and
other granted tokens, renewal reminders and lapsing.

Assisted use: when a coordinator acts for a member, the audit log records the member's user
as ``on_behalf_of``; a member who joined through a coordinator agreed to it first
(``consent_given_at``, ``entered_by``: the database refuses an assisted member without them).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from dataclasses import asdict, dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from localsocial.accounts.models import User
from localsocial.accounts.selectors import user_get_by_email
from localsocial.circles.models import (
    Circle,
    ContactPreference,
    Helper,
    JoinRoute,
    Member,
    MembershipYear,
    MemberStatus,
    Transfer,
)
from localsocial.circles.models.membership import email_is_placeholder
from localsocial.circles.selectors.membership import coordinator_required
from localsocial.circles.services.ledger import LedgerError, member_account_ensure, tokens_grant
from localsocial.core.email import email_send, site_url
from localsocial.core.periods import year_after
from localsocial.core.services import audit_record
from localsocial.directory.models import normalise_postcode, postcode_validator
from localsocial.directory.selectors import postcode_locate

PLACEHOLDER_DOMAIN = "phone.invalid"
DETAIL_FIELDS = [
    "display_name", "phone", "postal_address", "postcode", "contact_preference", "accessibility_needs",
    "emergency_contact_name", "emergency_contact_phone",
]


@dataclass
class MemberDetails:
    """What a member tells the circle about themselves (the same for every route in)."""

    display_name: str
    phone: str = ""
    postal_address: str = ""
    postcode: str = ""
    contact_preference: str = ContactPreference.PHONE
    accessibility_needs: str = ""
    emergency_contact_name: str = ""
    emergency_contact_phone: str = ""

    def cleaned(self) -> MemberDetails:
        """The details tidied and checked; raises ValidationError naming the fields."""
        errors: dict[str, str] = {}
        values = {name: " ".join(str(value).split()) if name != "postal_address" else str(value).strip()
                  for name, value in asdict(self).items()}
        if not values["display_name"]:
            errors["display_name"] = _("Enter the member's name")
        if values["postcode"]:
            values["postcode"] = normalise_postcode(values["postcode"])
            try:
                postcode_validator(values["postcode"])
            except ValidationError:
                errors["postcode"] = _("Enter a full UK postcode, like SE1 7EH")
        if values["contact_preference"] not in ContactPreference.values:
            errors["contact_preference"] = _("Choose how we should contact you")
        if values["contact_preference"] == ContactPreference.PHONE and not values["phone"]:
            errors["phone"] = _("Enter a phone number, or choose another way to contact you")
        if values["contact_preference"] == ContactPreference.POST and not (values["postal_address"] and values["postcode"]):
            errors.setdefault("postal_address", _("Enter a postal address and postcode, or choose another way to contact you"))
        if bool(values["emergency_contact_name"]) != bool(values["emergency_contact_phone"]):
            name = "emergency_contact_phone" if values["emergency_contact_name"] else "emergency_contact_name"
            errors[name] = _("Enter both the emergency contact's name and their phone number, or neither")
        if errors:
            raise ValidationError(errors)
        return MemberDetails(**values)


def _check_joinable(circle: Circle, *, eligibility_confirmed: bool) -> None:
    if not circle.is_active:
        raise ValidationError(_("%(circle)s is not taking new members at the moment.") % {"circle": circle.name})
    if circle.minimum_age and not eligibility_confirmed:
        raise ValidationError({"eligibility_confirmed": _(
            "Only people aged %(age)d or over can join %(circle)s"
        ) % {"age": circle.minimum_age, "circle": circle.name}})


def _welcome(member: Member, *, actor: User, on_behalf_of: User | None) -> Transfer | None:
    circle = member.circle
    member_account_ensure(member=member)
    if circle.welcome_quarters <= 0:
        return None
    return tokens_grant(
        circle=circle, member=member, quarters=circle.welcome_quarters, idempotency_key=f"welcome:{member.pk}",
        memo=_("Welcome tokens"), actor=actor, on_behalf_of=on_behalf_of,
    )


def _member_create(
    *, circle: Circle, user: User, details: MemberDetails, route: str, entered_by: User | None,
    consent_given_at: dt.datetime | None,
    eligibility_confirmed: bool,
) -> tuple[Member, bool]:
    existing = Member.objects.filter(circle=circle, user=user).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            member = Member.objects.create(
                circle=circle, user=user, eligibility_confirmed=eligibility_confirmed, route=route, entered_by=entered_by,
                consent_given_at=consent_given_at, **asdict(details),
            )
    except IntegrityError:  # the same person joining twice at once: one membership
        return Member.objects.get(circle=circle, user=user), False
    today = timezone.localdate()
    MembershipYear.objects.create(member=member, starts_on=today, ends_on=year_after(today),
                                  fee_pence=circle.annual_fee_pence)
    return member, True


@transaction.atomic
def member_join(
    *, circle: Circle, user: User, details: MemberDetails, eligibility_confirmed: bool, terms_agreed: bool,
) -> tuple[Member, bool]:
    """Join ``circle`` online as ``user``.  Creates the member, their first membership year
    (from today, the circle's fee, unpaid), their account and the welcome tokens.  Returns
    ``(member, created)``: someone already a member gets their membership back and nothing
    changes.  Refuses (ValidationError) a closed circle, an unconfirmed eligibility, terms not
    agreed, or details that are not right."""
    existing = Member.objects.filter(circle=circle, user=user).first()
    if existing is not None:
        return existing, False
    _check_joinable(circle, eligibility_confirmed=eligibility_confirmed)
    if not terms_agreed:
        raise ValidationError({"terms_agreed": _("Agree to the circle's terms to join")})
    details = details.cleaned()
    member, created = _member_create(circle=circle, user=user, details=details, route=JoinRoute.ONLINE,
                                     entered_by=None, consent_given_at=None,
                                     eligibility_confirmed=eligibility_confirmed)
    if created:
        _welcome(member, actor=user, on_behalf_of=None)
        audit_record(actor=user, action="circles.member_join", target=member,
                     after={"route": JoinRoute.ONLINE})
    return member, created


@transaction.atomic
def member_join_assisted(
    *, circle: Circle, actor: User, details: MemberDetails, email: str, eligibility_confirmed: bool, consent: bool,
) -> Member:
    """A coordinator joins someone up on the phone or in person, with their agreement.
    Without an email address the person gets an account with a placeholder address
    (``member-<random>@phone.invalid``) and no password; with one, their existing account is
    used or a new one (no password yet) is made.  Audited as done for the new member."""
    coordinator_required(actor, circle)
    if not consent:
        raise ValidationError({"consent": _("Confirm the person agreed to you entering their details for them")})
    _check_joinable(circle, eligibility_confirmed=eligibility_confirmed)
    details = details.cleaned()
    email = email.strip().lower()
    user = user_get_by_email(email=email) if email else None
    if user is not None and Member.objects.filter(circle=circle, user=user).exists():
        raise ValidationError({"email": _("Someone with this email address is already a member of this circle")})
    if user is None:
        address = email or f"member-{secrets.token_hex(8)}@{PLACEHOLDER_DOMAIN}"
        user = User.objects.create_user(email=address, password=None, display_name=details.display_name[:80])
    member, _created = _member_create(
        circle=circle, user=user, details=details, route=JoinRoute.ASSISTED, entered_by=actor,
        consent_given_at=timezone.now(), eligibility_confirmed=eligibility_confirmed,
    )
    _welcome(member, actor=actor, on_behalf_of=user)
    audit_record(actor=actor, action="circles.member_join_assisted", target=member, on_behalf_of=user,
                 after={"route": JoinRoute.ASSISTED, "consent": True})
    return member


def _helper_follows_postcode(member: Member) -> None:
    """A member who also helps moved: their helper record (where matching measures distance
    from) moves with them, to the new postcode's place when it is known."""
    latitude, longitude = postcode_locate(member.postcode) or (None, None)
    Helper.objects.filter(member=member).update(postcode=member.postcode, latitude=latitude, longitude=longitude)


@transaction.atomic
def member_details_update(*, member: Member, actor: User, details: MemberDetails) -> Member:
    """Change a member's contact details, by the member or by a coordinator for them (then
    audited as done for the member)."""
    acting_for = actor.pk != member.user_id
    if acting_for:
        coordinator_required(actor, member.circle)
    details = details.cleaned()
    before = {name: getattr(member, name) for name in DETAIL_FIELDS}
    for name, value in asdict(details).items():
        setattr(member, name, value)
    member.save(update_fields=DETAIL_FIELDS)
    if before["postcode"] != member.postcode:
        _helper_follows_postcode(member)
    # The log names what changed, not the details themselves: they are personal data, and the
    # audit log outlives an erased account.
    changed = sorted(name for name, value in asdict(details).items() if before[name] != value)
    audit_record(actor=actor, action="circles.member_update", target=member, after={"changed": changed},
                 on_behalf_of=member.user if acting_for else None)
    return member


@transaction.atomic
def member_tokens_grant(
    *, member: Member, actor: User, quarters: int, memo: str, idempotency_key: str
) -> Transfer:
    """A coordinator gives a member tokens from the circle (a welcome, a thank-you).  Keyed
    by the form's hidden key, so a form sent twice grants once."""
    coordinator_required(actor, member.circle)
    if quarters <= 0:
        raise ValidationError({"tokens": _("Enter a number of tokens more than 0")})
    if not idempotency_key.strip():
        raise ValidationError(_("The form was missing a part. Go back, reload the page and try again."))
    try:
        transfer = tokens_grant(
            circle=member.circle, member=member, quarters=quarters,
            idempotency_key=f"grant:{idempotency_key.strip()[:80]}", memo=memo.strip() or _("Tokens from the circle"),
            actor=actor, on_behalf_of=member.user,
        )
    except LedgerError as error:  # the form's key was used for a different grant
        raise ValidationError(str(error)) from error
    audit_record(actor=actor, action="circles.tokens_grant", target=member, on_behalf_of=member.user,
                 after={"quarters": quarters, "transfer": transfer.pk})
    return transfer


# --- Gift codes ----------------------------------------------------------------------------------

def _gift_tag(member_id: int) -> str:
    digest = salted_hmac("localsocial.circles.gift_code", str(member_id)).digest()
    return base64.b32encode(digest[:5]).decode()


def member_gift_code(*, member: Member) -> str:
    """The code a member shares with family and friends so that they can buy them tokens:
    the member's number and a check that only this site can make, so nobody can guess a
    code or list the members from it."""
    return f"{member.pk}-{_gift_tag(member.pk)}"


def member_id_from_gift_code(*, code: str) -> int | None:
    """The member number in a genuine gift code (any case, spaces ignored), else None."""
    cleaned = "".join(code.split()).upper()
    number, _sep, tag = cleaned.partition("-")
    if not number.isdigit() or len(number) > 12 or not tag:
        return None
    member_id = int(number)
    return member_id if constant_time_compare(tag, _gift_tag(member_id)) else None


# --- The daily clock: reminders and lapsing -----------------------------------------------------

@dataclass
class TickResult:
    reminders_emailed: int = 0
    reminders_to_contact: int = 0
    lapsed: int = 0
    reactivated: int = 0


def _remind(year: MembershipYear) -> bool:
    """Send one renewal reminder (by email), or leave it for the coordinators to phone or
    write (it shows on their "to contact" list).  Returns True when emailed."""
    member = year.member
    if member.contact_preference != ContactPreference.EMAIL or email_is_placeholder(member.user.email):
        return False
    email_send(
        to=member.user.email, subject=_("Your membership of %(circle)s ends on %(date)s") % {
            "circle": member.circle.name, "date": formats.date_format(year.ends_on, "j F Y")},
        template="circles/email/renewal_reminder.txt",
        context={"member_name": member.display_name, "circle": member.circle.name, "ends_on": year.ends_on,
                 "fee": member.circle.annual_fee_pence / 100,
                 "membership_url": site_url(reverse("circles:membership", kwargs={"slug": member.circle.slug}))},
        language=member.user.preferred_language or None,
    )
    return True


def memberships_tick(*, today: dt.date | None = None) -> TickResult:
    """What the daily clock does, safe to run as often as you like:

    * a renewal reminder once per membership year, ``renewal_reminder_days`` before the
      member's last year ends (``reminder_sent_at`` is claimed first, so never twice);
    * members whose last year has ended become lapsed;
    * lapsed members with a paid year running today become active again."""
    today = today or timezone.localdate()
    result = TickResult()
    later_year = MembershipYear.objects.filter(member=OuterRef("member"), starts_on__gte=OuterRef("ends_on"))
    for circle in Circle.objects.all():
        window_end = today + dt.timedelta(days=circle.renewal_reminder_days)
        due = (
            MembershipYear.objects.filter(
                member__circle=circle, member__status=MemberStatus.ACTIVE, reminder_sent_at__isnull=True,
                ends_on__gt=today, ends_on__lte=window_end,
            )
            .exclude(Exists(later_year))
            .select_related("member__user", "member__circle")
        )
        for year in due:
            with transaction.atomic():
                claimed = MembershipYear.objects.filter(pk=year.pk, reminder_sent_at__isnull=True).update(
                    reminder_sent_at=timezone.now()
                )
                if not claimed:
                    continue
                if _remind(year):
                    result.reminders_emailed += 1
                else:
                    result.reminders_to_contact += 1
    ended = (
        Member.objects.filter(status=MemberStatus.ACTIVE)
        .annotate(last_day=Max("years__ends_on"))
        .filter(last_day__lte=today)
        .values_list("pk", flat=True)
    )
    result.lapsed = Member.objects.filter(pk__in=list(ended), status=MemberStatus.ACTIVE).update(
        status=MemberStatus.LAPSED
    )
    paid_now = MembershipYear.objects.filter(
        member=OuterRef("pk"), starts_on__lte=today, ends_on__gt=today, payment__isnull=False
    )
    result.reactivated = Member.objects.filter(status=MemberStatus.LAPSED).filter(Exists(paid_now)).update(
        status=MemberStatus.ACTIVE
    )
    return result
