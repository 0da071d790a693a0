"""The circles module's part in "Download your data" and in erasing an account.

A person's circles data is their membership of each circle (details, years, payments made
for them, their answers to events) and the gifts they paid for with their confirmed email
address.  Erasing keeps the rows that money and tokens point at (membership years, payments,
the ledger) but removes every personal detail: the member becomes "Former member" with no contact details, and has left.
Their answers to events still to come are withdrawn (their places go to the waiting list) and
the notes on all their answers are emptied; past answers stay, without a name, for the
circle's attendance figures.

``register()`` is called from ``CirclesConfig.ready()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, Q

from localsocial.accounts.personal_data import eraser_register, export_section_register
from localsocial.circles.models import (
    EventRsvp,
    Member,
    MembershipYear,
    MemberStatus,
    Payment,
    PaymentPurpose,
    Referral,
    WellbeingCheckIn,
)
from localsocial.circles.services.events import rsvps_withdraw_for_person
from localsocial.circles.services.referrals import REDACTED_FIELDS

if TYPE_CHECKING:
    from localsocial.accounts.models import User

FORMER_MEMBER = "Former member"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _gift_condition(user: User) -> Q | None:
    if getattr(user, "email_verified_at", None) is None or not user.email:
        return None
    return Q(purpose=PaymentPurpose.GIFT, payer_email__iexact=user.email.strip())


def circles_export(user: User) -> dict[str, Any]:
    """Every membership of the person with their details, years and payments, and the gifts
    they gave, their wellbeing check-ins, the referrals about them and their answers to events.
    Seven queries."""
    members = (
        Member.objects.filter(user=user)
        .select_related("circle", "account")
        .prefetch_related(
            Prefetch("years", queryset=MembershipYear.objects.order_by("starts_on", "id")),
            Prefetch("payments", queryset=Payment.objects.select_related("bundle").order_by("created_at", "id")),
            # Health-related (special category) data: the person's own answers, oldest first.
            Prefetch("wellbeing_checkins", queryset=WellbeingCheckIn.objects.order_by("taken_on", "id")),
            # Referrals about them: to a partner, or the one that brought them to the circle.
            Prefetch("referrals", queryset=Referral.objects.select_related("partner").order_by("created_at", "id")),
            Prefetch("rsvps", queryset=EventRsvp.objects.select_related("event").order_by("event__starts_at", "id")),
        )
        .order_by("joined_at", "id")
    )
    gifts: list[dict[str, Any]] = []
    condition = _gift_condition(user)
    if condition is not None:
        gifts = [
            {"circle": p.circle.name, "amount_pence": p.amount_pence, "bundle": p.bundle.name if p.bundle else "",
             "status": p.status, "paid_at": _iso(p.completed_at)}
            for p in Payment.objects.filter(condition).select_related("circle", "bundle").order_by("created_at", "id")
        ]
    memberships = []
    for member in members:
        account = getattr(member, "account", None)
        memberships.append({
            "circle": member.circle.name,
            "name": member.display_name, "phone": member.phone, "postal_address": member.postal_address,
            "postcode": member.postcode, "contact_preference": member.contact_preference,
            "accessibility_needs": member.accessibility_needs,
            "emergency_contact_name": member.emergency_contact_name,
            "emergency_contact_phone": member.emergency_contact_phone,
            "eligibility_confirmed": member.eligibility_confirmed, "status": member.status, "route": member.route,
            "consent_given_at": _iso(member.consent_given_at), "joined_at": _iso(member.joined_at),
            "token_balance_quarter_hours": account.balance_quarters if account else 0,
            "years": [
                {"starts_on": _iso(y.starts_on), "ends_on": _iso(y.ends_on), "fee_pence": y.fee_pence,
                 "paid": y.payment_id is not None}
                for y in member.years.all()
            ],
            "payments": [
                {"purpose": p.purpose, "method": p.method, "status": p.status, "amount_pence": p.amount_pence,
                 "bundle": p.bundle.name if p.bundle else "", "from": p.payer_name, "created_at": _iso(p.created_at)}
                for p in member.payments.all()
            ],
            "wellbeing_opt_in": member.wellbeing_opt_in,
            "wellbeing_checkins": [
                {"taken_on": _iso(c.taken_on), "lack_companionship": c.lack_companionship, "left_out": c.left_out,
                 "isolated": c.isolated, "score": c.score, "asked_by_coordinator": c.entered_by_id is not None}
                for c in member.wellbeing_checkins.all()
            ],
            "referrals": [
                {"direction": r.direction, "partner": r.partner.name, "name": r.person_name, "phone": r.person_phone,
                 "email": r.person_email, "postcode": r.person_postcode, "reason": r.reason, "needs": r.needs,
                 "consent_given_at": _iso(r.consent_given_at), "status": r.status, "outcome": r.outcome,
                 "created_at": _iso(r.created_at), "closed_at": _iso(r.closed_at)}
                for r in member.referrals.all()
            ],
            "event_answers": [
                {"event": a.event.title, "starts_at": _iso(a.event.starts_at), "place": a.event.place_name,
                 "answer": a.status, "places": a.places, "note": a.note, "attended": a.attended,
                 "answered_by_coordinator": a.entered_by_id is not None, "answered_at": _iso(a.updated_at)}
                for a in member.rsvps.all()
            ],
        })
    return {"memberships": memberships, "gifts_given": gifts}


def circles_erase(user: User) -> None:
    """Remove the person's details from every membership (they have left) and their name and
    address from gifts they gave.  Payments, years and tokens stay, without personal data.
    Their wellbeing check-ins (health-related data) are deleted; referrals about them lose the
    person's details.  Their answers to events still to come are withdrawn and the notes on
    their answers emptied (see services.events.rsvps_withdraw_for_person).  (A gift's
    giver is someone else: their name stays on gifts to this person.)"""
    rsvps_withdraw_for_person(user=user)
    Member.objects.filter(user=user).update(
        display_name=FORMER_MEMBER, phone="", postal_address="", postcode="", accessibility_needs="",
        emergency_contact_name="", emergency_contact_phone="", status=MemberStatus.LEFT, wellbeing_opt_in=False,
    )
    # Wellbeing answers are health-related data with nothing else pointing at them: deleted.
    WellbeingCheckIn.objects.filter(member__user=user).delete()
    # Referrals about them keep only what the figures need (partner, direction, status, dates).
    Referral.objects.filter(member__user=user).update(**REDACTED_FIELDS)
    condition = _gift_condition(user)
    if condition is not None:
        Payment.objects.filter(condition).update(payer_name=FORMER_MEMBER, payer_email="")


def register() -> None:
    export_section_register("circles", circles_export)
    eraser_register("circles", circles_erase)
