"""Money: the membership fee, tokens bought, and tokens given as a gift.

Two ways in:

* ``payment_record``: a coordinator records cash, a cheque or a bank transfer that has
  already arrived.  The payment is paid at once and applied (the fee pays a membership year,
  a bundle puts tokens in the member's account).
* ``payment_card_start`` then ``payment_card_confirm``: a card payment through the payment
  provider interface.  The provider is chosen by ``settings.CIRCLES_PAYMENT_PROVIDER`` (a
  dotted path); the default, ``TestPaymentProvider``, never touches the network: its "hosted
  payment page" is a page of this site where the payer presses Pay or Decline.

Every payment is idempotent by ``(circle, idempotency_key)``: the key comes from a hidden field
in the form, so a form sent twice records one payment; and the tokens a payment buys move in
one ledger transfer keyed ``payment:<id>``, so applying it twice moves them once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from localsocial.accounts.models import User
from localsocial.circles.models import (
    QUARTERS_PER_TOKEN,
    Circle,
    Member,
    MembershipYear,
    MemberStatus,
    Payment,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    TokenBundle,
)
from localsocial.circles.models.membership import email_is_placeholder
from localsocial.circles.selectors.membership import coordinator_required, fee_year_next
from localsocial.circles.services.ledger import tokens_sell
from localsocial.core.email import email_send, site_url
from localsocial.core.services import audit_record

DEFAULT_PROVIDER = "localsocial.circles.services.payments.TestPaymentProvider"


# --- The payment provider interface ------------------------------------------------------------

@dataclass(frozen=True)
class CardSession:
    """A card payment begun with the provider: its reference, and where to send the payer."""

    reference: str
    redirect_url: str


class PaymentProvider(Protocol):
    """What a card payment provider must do.  ``start`` opens a payment for ``payment`` and
    says where to send the payer; ``confirm`` says whether the payer really paid, given what
    came back from the provider (the form of the test page, or a real provider's callback)."""

    name: str

    def start(self, *, payment: Payment) -> CardSession: ...

    def confirm(self, *, payment: Payment, outcome: dict[str, str]) -> bool: ...


class TestPaymentProvider:
    """A stand-in for a real provider, for development, demos and tests: no network, no money.
    Its hosted page is ``/circles/<slug>/pay/<reference>/`` on this site, with a Pay and a
    Decline button."""

    name = "test"
    __test__ = False  # its name starts with "Test"; tell pytest it is not a test class

    def start(self, *, payment: Payment) -> CardSession:
        reference = "test_" + secrets.token_urlsafe(18)
        slug = payment.circle.slug
        return CardSession(
            reference=reference,
            redirect_url=reverse("circles:card_page", kwargs={"slug": slug, "reference": reference}),
        )

    def confirm(self, *, payment: Payment, outcome: dict[str, str]) -> bool:
        return outcome.get("result") == "pay"


def payment_provider() -> PaymentProvider:
    """The configured provider (``settings.CIRCLES_PAYMENT_PROVIDER``, a dotted path)."""
    path = getattr(settings, "CIRCLES_PAYMENT_PROVIDER", "") or DEFAULT_PROVIDER
    provider: PaymentProvider = import_string(path)()
    return provider


# --- Helpers -----------------------------------------------------------------------------------

def tokens_text(quarters: int) -> str:
    """Quarter hours as a number of tokens for people to read: 3, 1.5, 0.25."""
    value = Decimal(quarters) / QUARTERS_PER_TOKEN
    return f"{value.normalize():f}"


def fee_year_for(*, member: Member, create: bool) -> MembershipYear | None:
    """The membership year the next fee pays for (``selectors.membership.fee_year_next``).
    With ``create`` a year that does not exist yet is made."""
    year = fee_year_next(member=member)
    if year is None or year.pk is not None or not create:
        return year
    year, _created = MembershipYear.objects.get_or_create(
        member=member, starts_on=year.starts_on, defaults={"ends_on": year.ends_on, "fee_pence": year.fee_pence},
    )
    return year


def _apply(payment: Payment, *, actor: User | None, on_behalf_of: User | None) -> None:
    """Give the member what a paid payment bought.  Runs once per payment: the member row is
    locked, a year is taken only while unpaid, and the ledger transfer is keyed by payment."""
    member = Member.objects.select_for_update(of=("self",)).select_related("circle", "user").get(pk=payment.member_id)
    if payment.purpose == PaymentPurpose.FEE:
        if MembershipYear.objects.filter(payment=payment).exists():
            return
        year = fee_year_for(member=member, create=True)
        if year is None:
            return  # this year and the next are paid already: the money stays recorded
        MembershipYear.objects.filter(pk=year.pk, payment__isnull=True).update(payment=payment)
        today = timezone.localdate()
        if member.status == MemberStatus.LAPSED and year.starts_on <= today < year.ends_on:
            Member.objects.filter(pk=member.pk).update(status=MemberStatus.ACTIVE)
        return
    assert payment.bundle is not None
    gift = payment.purpose == PaymentPurpose.GIFT
    memo = (
        _("from %(name)s, %(bundle)s") % {"name": payment.payer_name, "bundle": payment.bundle.name}
        if gift else payment.bundle.name
    )
    tokens_sell(
        circle=member.circle, member=member, quarters=payment.bundle.quarters, payment=payment, gift=gift,
        idempotency_key=f"payment:{payment.pk}", memo=memo, actor=actor, on_behalf_of=on_behalf_of,
    )
    if gift:
        _gift_emails(payment, member)


def _gift_emails(payment: Payment, member: Member) -> None:
    assert payment.bundle is not None
    context = {
        "member_name": member.display_name, "payer_name": payment.payer_name, "bundle": payment.bundle.name,
        "tokens": tokens_text(payment.bundle.quarters), "circle": member.circle.name,
        "statement_url": site_url(reverse("circles:membership", kwargs={"slug": member.circle.slug})),
    }
    if not email_is_placeholder(member.user.email):
        email_send(
            to=member.user.email, subject=_("%(name)s gave you time tokens") % {"name": payment.payer_name},
            template="circles/email/gift_received.txt", context=context,
            language=member.user.preferred_language or None,
        )
    if payment.payer_email and not email_is_placeholder(payment.payer_email):
        email_send(
            to=payment.payer_email, subject=_("Thank you for your gift of time tokens"),
            template="circles/email/gift_receipt.txt",
            context={**context, "amount": payment.amount_pence / 100},
        )


def _same_payment(payment: Payment, **expected: Any) -> bool:
    return all(getattr(payment, name) == value for name, value in expected.items())


def _claim(circle: Circle, key: str, fields: dict[str, Any]) -> tuple[Payment, bool]:
    """The payment with this key, created now from ``fields`` or found from an earlier
    submission of the same form.  A key already used for a different payment is refused."""
    key = key.strip()[:100]
    if not key:
        raise ValidationError(_("The form was missing a part. Go back, reload the page and try again."))
    compare = {k: v for k, v in fields.items() if k in {"member", "purpose", "bundle", "method"}}
    existing = Payment.objects.filter(circle=circle, idempotency_key=key).first()
    if existing is None:
        try:
            with transaction.atomic():
                return Payment.objects.create(circle=circle, idempotency_key=key, **fields), True
        except IntegrityError:
            existing = Payment.objects.filter(circle=circle, idempotency_key=key).first()
            if existing is None:
                raise
    if not _same_payment(existing, **compare):
        raise ValidationError(_("This form was already used for another payment. Go back, reload the page and try again."))
    return existing, False


def _bundle_check(circle: Circle, bundle: TokenBundle | None, purpose: str) -> None:
    if purpose == PaymentPurpose.FEE:
        return
    if bundle is None:
        raise ValidationError({"bundle": _("Choose a bundle of tokens")})
    if bundle.circle_id != circle.pk or not bundle.is_active:
        raise ValidationError({"bundle": _("Choose a bundle of tokens that is on sale")})


# --- Payments a coordinator records ------------------------------------------------------------

@transaction.atomic
def payment_record(
    *,
    circle: Circle,
    member: Member,
    actor: User,
    purpose: str,
    method: str,
    amount_pence: int,
    idempotency_key: str,
    bundle: TokenBundle | None = None,
    reference: str = "",
    payer_name: str = "",
    payer_email: str = "",
) -> tuple[Payment, bool]:
    """Record money a coordinator has received for ``member`` (cash, cheque or bank
    transfer), mark it paid and apply it: a fee pays the member's next unpaid year (and makes
    a lapsed member active again); a bundle or a gift puts its tokens in the member's account.
    Returns ``(payment, created)``; the same key again returns the payment already recorded
    and changes nothing.  Audited as done for the member."""
    coordinator_required(actor, circle)
    if member.circle_id != circle.pk:
        raise PermissionDenied(_("This member belongs to another circle."))
    if method not in {PaymentMethod.CASH, PaymentMethod.CHEQUE, PaymentMethod.BANK_TRANSFER}:
        raise ValidationError({"method": _("Choose cash, cheque or bank transfer")})
    if purpose not in PaymentPurpose.values:
        raise ValidationError({"purpose": _("Choose what the payment is for")})
    if purpose == PaymentPurpose.FEE:
        bundle = None
    _bundle_check(circle, bundle, purpose)
    if amount_pence <= 0:
        raise ValidationError({"amount": _("Enter an amount more than £0")})
    if purpose == PaymentPurpose.GIFT and not payer_name.strip():
        raise ValidationError({"payer_name": _("Enter the name of the person who gave the gift")})
    now = timezone.now()
    payment, created = _claim(circle, idempotency_key, {
        "member": member, "purpose": purpose, "method": method, "status": PaymentStatus.SUCCEEDED,
        "amount_pence": amount_pence, "bundle": bundle, "payer_name": payer_name.strip()[:200],
        "payer_email": payer_email.strip()[:254], "provider_reference": reference.strip()[:200],
        "recorded_by": actor, "completed_at": now,
    })
    if not created:
        return payment, False
    _apply(payment, actor=actor, on_behalf_of=member.user)
    audit_record(
        actor=actor, action="circles.payment_record", target=payment, on_behalf_of=member.user,
        after={"purpose": purpose, "method": method, "amount_pence": amount_pence,
               "bundle": bundle.pk if bundle else None, "reference": payment.provider_reference},
    )
    return payment, True


# --- Card payments -----------------------------------------------------------------------------

@transaction.atomic
def payment_card_start(
    *,
    member: Member,
    purpose: str,
    idempotency_key: str,
    actor: User | None = None,
    bundle: TokenBundle | None = None,
    payer_name: str = "",
    payer_email: str = "",
) -> Payment:
    """Begin a card payment for ``member``: the fee now due, a bundle they buy, or a bundle
    someone gives them (``purpose`` gift, with the payer's name).  Returns the pending payment
    with its provider reference; send the payer to ``payment.redirect_url``.  The same key
    again returns the same payment (a form sent twice starts one payment)."""
    circle = member.circle
    if purpose == PaymentPurpose.FEE:
        bundle = None
        year = fee_year_for(member=member, create=False)
        if year is None:
            raise ValidationError(_("Your membership is paid for this year and next year already."))
        amount = year.fee_pence
        if amount <= 0:
            raise ValidationError(_("There is no fee to pay."))
    else:
        _bundle_check(circle, bundle, purpose)
        assert bundle is not None
        amount = bundle.price_pence
    if purpose == PaymentPurpose.GIFT and not payer_name.strip():
        raise ValidationError({"payer_name": _("Enter your name")})
    key_prefix = "gift" if purpose == PaymentPurpose.GIFT else f"member:{member.pk}"
    payment, created = _claim(circle, f"{key_prefix}:{idempotency_key.strip()[:80]}", {
        "member": member, "purpose": purpose, "method": PaymentMethod.CARD, "amount_pence": amount,
        "bundle": bundle, "payer_name": payer_name.strip()[:200], "payer_email": payer_email.strip()[:254],
        "recorded_by": actor,
    })
    provider = payment_provider()
    if created:
        session = provider.start(payment=payment)
        payment.provider = provider.name
        payment.provider_reference = session.reference
        payment.save(update_fields=["provider", "provider_reference"])
        for_member = actor is not None and actor.pk != member.user_id and purpose != PaymentPurpose.GIFT
        on_behalf_of = member.user if for_member else None
        audit_record(
            actor=actor, action="circles.payment_card_start", target=payment, on_behalf_of=on_behalf_of,
            after={"purpose": purpose, "amount_pence": amount, "bundle": bundle.pk if bundle else None},
        )
    return payment


def payment_card_redirect_url(*, payment: Payment) -> str:
    """Where to send the payer to pay ``payment`` (the provider's page)."""
    return reverse("circles:card_page", kwargs={"slug": payment.circle.slug, "reference": payment.provider_reference})


@transaction.atomic
def payment_card_confirm(*, reference: str, outcome: dict[str, str], actor: User | None = None) -> Payment:
    """Finish the card payment with this provider reference, as the provider reports it.
    Paid: the payment is marked paid and applied; declined: marked failed.  A payment that is
    already finished is returned as it is (a page sent twice pays once).  Raises
    ``Payment.DoesNotExist`` for an unknown reference."""
    payment = (
        Payment.objects.select_for_update(of=("self",)).select_related("circle", "member__user", "bundle")
        .get(provider_reference=reference, method=PaymentMethod.CARD)
    )
    if payment.status != PaymentStatus.PENDING:
        return payment
    paid = payment_provider().confirm(payment=payment, outcome=outcome)
    payment.status = PaymentStatus.SUCCEEDED if paid else PaymentStatus.FAILED
    payment.completed_at = timezone.now()
    payment.save(update_fields=["status", "completed_at"])
    if paid:
        _apply(payment, actor=actor, on_behalf_of=None)
    audit_record(
        actor=actor, action="circles.payment_card_paid" if paid else "circles.payment_card_declined",
        target=payment, after={"status": payment.status},
    )
    return payment
