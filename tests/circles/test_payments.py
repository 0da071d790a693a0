"""Payments: recorded by coordinators, and by card through the test provider."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from localsocial.circles.models import (
    Account,
    MembershipYear,
    MemberStatus,
    Payment,
    PaymentStatus,
    Transfer,
    TransferKind,
)
from localsocial.circles.services.payments import (
    TestPaymentProvider,
    payment_card_confirm,
    payment_card_start,
    payment_provider,
    payment_record,
)
from localsocial.core.models import AuditEvent
from tests.circles.factories import (
    CircleFactory,
    CoordinatorFactory,
    MemberFactory,
    TokenBundleFactory,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    coordinator = CoordinatorFactory(circle=CircleFactory(annual_fee_pence=2000))
    circle = coordinator.circle
    member = MemberFactory(circle=circle)
    today = timezone.localdate()
    MembershipYear.objects.create(member=member, starts_on=today, ends_on=today + dt.timedelta(days=365), fee_pence=2000)
    bundle = TokenBundleFactory(circle=circle, name="3 tokens", quarters=12, price_pence=3000)
    return circle, coordinator.user, member, bundle


def balance(member):
    account = Account.objects.filter(member=member).first()
    return account.balance_quarters if account else 0


def test_the_default_provider_is_the_test_double():
    assert isinstance(payment_provider(), TestPaymentProvider)


def test_the_provider_comes_from_the_setting(settings):
    settings.CIRCLES_PAYMENT_PROVIDER = "tests.circles.test_payments.AlwaysDeclines"
    assert isinstance(payment_provider(), AlwaysDeclines)


class AlwaysDeclines(TestPaymentProvider):
    name = "declines"

    def confirm(self, *, payment, outcome):
        return False


def test_a_cash_fee_pays_this_year(setup):
    circle, coordinator, member, _bundle = setup

    payment, created = payment_record(circle=circle, member=member, actor=coordinator, purpose="fee", method="cash",
                                      amount_pence=2000, idempotency_key="k1")

    assert created
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.completed_at is not None
    assert member.years.get().payment == payment
    event = AuditEvent.objects.get(action="circles.payment_record")
    assert event.actor == coordinator
    assert event.on_behalf_of == member.user


def test_a_second_fee_in_a_paid_year_pays_for_next_year(setup):
    circle, coordinator, member, _bundle = setup
    payment_record(circle=circle, member=member, actor=coordinator, purpose="fee", method="cash", amount_pence=2000,
                   idempotency_key="k1")

    renewal, _created = payment_record(circle=circle, member=member, actor=coordinator, purpose="fee",
                                       method="cheque", amount_pence=2000, idempotency_key="k2")

    this_year, next_year = sorted(member.years.all(), key=lambda y: y.starts_on)
    assert next_year.starts_on == this_year.ends_on
    assert next_year.payment == renewal


def test_a_fee_brings_a_lapsed_member_back_with_a_year_from_today(setup):
    circle, coordinator, member, _bundle = setup
    MembershipYear.objects.all().delete()
    old_start = timezone.localdate() - dt.timedelta(days=500)
    MembershipYear.objects.create(member=member, starts_on=old_start, ends_on=old_start + dt.timedelta(days=365),
                                  fee_pence=2000)
    member.status = MemberStatus.LAPSED
    member.save()

    payment_record(circle=circle, member=member, actor=coordinator, purpose="fee", method="cash", amount_pence=2000,
                   idempotency_key="k1")

    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE
    assert member.years.get(payment__isnull=False).starts_on == timezone.localdate()


def test_the_same_payment_form_sent_twice_records_one_payment_and_one_transfer(setup):
    circle, coordinator, member, bundle = setup
    kwargs = {"circle": circle, "member": member, "actor": coordinator, "purpose": "tokens", "method": "cheque",
              "amount_pence": 3000, "bundle": bundle, "idempotency_key": "same-key"}

    first, created_first = payment_record(**kwargs)
    second, created_second = payment_record(**kwargs)

    assert created_first
    assert not created_second
    assert first.pk == second.pk
    assert Payment.objects.count() == 1
    assert Transfer.objects.filter(kind=TransferKind.PURCHASE).count() == 1
    assert balance(member) == 12


def test_a_key_used_for_another_payment_is_refused(setup):
    circle, coordinator, member, bundle = setup
    payment_record(circle=circle, member=member, actor=coordinator, purpose="fee", method="cash", amount_pence=2000,
                   idempotency_key="key")

    with pytest.raises(ValidationError):
        payment_record(circle=circle, member=member, actor=coordinator, purpose="tokens", method="cash",
                       amount_pence=3000, bundle=bundle, idempotency_key="key")
    assert balance(member) == 0


def test_a_gift_recorded_by_a_coordinator_gives_the_tokens_and_tells_the_member(setup, django_capture_on_commit_callbacks):
    circle, coordinator, member, bundle = setup

    with django_capture_on_commit_callbacks(execute=True):
        payment_record(circle=circle, member=member, actor=coordinator, purpose="gift", method="bank_transfer",
                       amount_pence=3000, bundle=bundle, payer_name="Sarah", payer_email="sarah@example.org",
                       idempotency_key="g1")

    assert balance(member) == 12
    transfer = Transfer.objects.get(kind=TransferKind.GIFT)
    assert "Sarah" in transfer.memo
    assert transfer.on_behalf_of == member.user
    assert {message.to[0] for message in mail.outbox} == {member.user.email, "sarah@example.org"}
    assert "Sarah gave you time tokens" in next(m.subject for m in mail.outbox if m.to == [member.user.email])


@pytest.mark.parametrize(("changes", "field"), [
    ({"method": "card"}, "method"),
    ({"purpose": "tokens", "bundle": None}, "bundle"),
    ({"amount_pence": 0}, "amount"),
    ({"purpose": "gift", "payer_name": ""}, "payer_name"),
])
def test_payments_that_are_not_right_are_refused(setup, changes, field):
    circle, coordinator, member, bundle = setup
    kwargs = {"circle": circle, "member": member, "actor": coordinator, "purpose": "gift", "method": "cash",
              "amount_pence": 3000, "bundle": bundle, "payer_name": "Sarah", "idempotency_key": "k"}
    kwargs.update(changes)

    with pytest.raises(ValidationError) as error:
        payment_record(**kwargs)

    assert field in error.value.message_dict
    assert not Payment.objects.exists()


def test_a_withdrawn_bundle_or_one_of_another_circle_cannot_be_sold(setup):
    circle, coordinator, member, bundle = setup
    bundle.is_active = False
    bundle.save()
    foreign = TokenBundleFactory()

    for choice in (bundle, foreign):
        with pytest.raises(ValidationError):
            payment_record(circle=circle, member=member, actor=coordinator, purpose="tokens", method="cash",
                           amount_pence=3000, bundle=choice, idempotency_key=f"k{choice.pk}")


def test_a_coordinator_of_another_circle_cannot_record_payments(setup):
    circle, _coordinator, member, _bundle = setup
    other = CoordinatorFactory().user

    with pytest.raises(PermissionDenied):
        payment_record(circle=circle, member=member, actor=other, purpose="fee", method="cash", amount_pence=2000,
                       idempotency_key="k")
    assert not Payment.objects.exists()


def test_a_member_of_another_circle_cannot_be_paid_for_here(setup):
    circle, coordinator, _member, _bundle = setup
    stranger = MemberFactory()

    with pytest.raises(PermissionDenied):
        payment_record(circle=circle, member=stranger, actor=coordinator, purpose="fee", method="cash",
                       amount_pence=2000, idempotency_key="k")


def test_a_card_payment_for_a_bundle_gives_the_tokens_once_however_often_it_is_confirmed(setup):
    _circle, _coordinator, member, bundle = setup
    payment = payment_card_start(member=member, purpose="tokens", bundle=bundle, idempotency_key="c1",
                                 actor=member.user)
    assert payment.status == PaymentStatus.PENDING
    assert payment.provider == "test"
    assert payment.amount_pence == 3000
    assert balance(member) == 0

    payment_card_confirm(reference=payment.provider_reference, outcome={"result": "pay"})
    payment_card_confirm(reference=payment.provider_reference, outcome={"result": "pay"})

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert balance(member) == 12
    assert Transfer.objects.filter(payment=payment).count() == 1


def test_starting_the_same_card_payment_twice_starts_one(setup):
    _circle, _coordinator, member, _bundle = setup

    first = payment_card_start(member=member, purpose="fee", idempotency_key="c1", actor=member.user)
    second = payment_card_start(member=member, purpose="fee", idempotency_key="c1", actor=member.user)

    assert first.pk == second.pk
    assert first.provider_reference == second.provider_reference
    assert first.amount_pence == 2000


def test_a_declined_card_payment_gives_nothing(setup):
    _circle, _coordinator, member, bundle = setup
    payment = payment_card_start(member=member, purpose="tokens", bundle=bundle, idempotency_key="c1",
                                 actor=member.user)

    payment_card_confirm(reference=payment.provider_reference, outcome={"result": "decline"})

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    assert balance(member) == 0


def test_a_card_fee_pays_the_year(setup):
    _circle, _coordinator, member, _bundle = setup
    payment = payment_card_start(member=member, purpose="fee", idempotency_key="c1", actor=member.user)

    payment_card_confirm(reference=payment.provider_reference, outcome={"result": "pay"})

    assert member.years.get().payment_id == payment.pk


def test_a_card_gift_needs_the_givers_name(setup):
    _circle, _coordinator, member, bundle = setup

    with pytest.raises(ValidationError) as error:
        payment_card_start(member=member, purpose="gift", bundle=bundle, idempotency_key="g", payer_name=" ")

    assert "payer_name" in error.value.message_dict


def test_an_unknown_reference_is_not_a_payment():
    with pytest.raises(Payment.DoesNotExist):
        payment_card_confirm(reference="test_nothing", outcome={"result": "pay"})


def test_gift_and_member_keys_do_not_collide(setup):
    _circle, _coordinator, member, bundle = setup
    other = MemberFactory(circle=member.circle, user=UserFactory())

    mine = payment_card_start(member=member, purpose="tokens", bundle=bundle, idempotency_key="k", actor=member.user)
    theirs = payment_card_start(member=other, purpose="tokens", bundle=bundle, idempotency_key="k", actor=other.user)

    assert mine.pk != theirs.pk


@pytest.mark.django_db(transaction=True)
def test_the_same_payment_sent_by_two_clients_at_once_is_recorded_and_applied_once():
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    coordinator = CoordinatorFactory()
    circle = coordinator.circle
    member = MemberFactory(circle=circle)
    bundle = TokenBundleFactory(circle=circle, quarters=12, price_pence=3000)
    card = payment_card_start(member=member, purpose="tokens", bundle=bundle, idempotency_key="card",
                              actor=member.user)
    keys = [f"race-{n}" for n in range(5)]
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def client() -> None:
        try:
            start.wait()
            for key in keys:
                payment_record(circle=circle, member=member, actor=coordinator.user, purpose="tokens",
                               method="cash", amount_pence=3000, bundle=bundle, idempotency_key=key)
            payment_card_confirm(reference=card.provider_reference, outcome={"result": "pay"})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Payment.objects.count() == len(keys) + 1
    assert Transfer.objects.filter(payment__isnull=False).count() == len(keys) + 1
    assert balance(member) == 12 * (len(keys) + 1)
