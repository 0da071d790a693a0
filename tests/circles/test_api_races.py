"""Races only PostgreSQL can show: two requests with the same Idempotency-Key at the same
moment pay or grant once, and both get the same answer."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from localsocial.api.idempotency import idempotent_call, request_fingerprint
from localsocial.api.models import ApiIdempotencyKey
from localsocial.api.services import api_token_create
from localsocial.circles.models import Account, Payment, Transfer
from localsocial.circles.services.membership import member_tokens_grant
from localsocial.circles.services.payments import payment_record
from tests.circles.factories import CircleFactory, MemberFactory
from tests.circles.test_help_support import coordinator_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")


def _at_once(target, count=2):
    start = threading.Barrier(count)
    results: list[object] = []
    errors: list[BaseException] = []

    def worker():
        try:
            start.wait()
            results.append(target())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.fixture
def setting():
    circle = CircleFactory()
    user = coordinator_of(circle)
    member = MemberFactory(circle=circle)
    token, _secret = api_token_create(user=user, name="Desk", scopes=["circles:coordinate"])
    return circle, user, member, token


def test_two_grants_with_the_same_key_at_once_grant_once(setting):
    _circle, user, member, token = setting

    def grant():
        return idempotent_call(
            token=token, idempotency_key="same", operation="circles.member_tokens_grant",
            fingerprint=request_fingerprint({"quarters": 8}),
            perform=lambda key: member_tokens_grant(member=member, actor=user, quarters=8, memo="",
                                                    idempotency_key=key),
            load=lambda pk: Transfer.objects.get(pk=pk),
        )

    results = _at_once(grant)
    assert len({transfer.pk for transfer, _replayed in results}) == 1
    assert Account.objects.get(member=member).balance_quarters == 8
    assert ApiIdempotencyKey.objects.count() == 1


def test_two_payments_with_the_same_key_at_once_are_recorded_once(setting):
    circle, user, member, token = setting

    def pay():
        return idempotent_call(
            token=token, idempotency_key="same", operation="circles.payment_record",
            fingerprint=request_fingerprint({"amount": 1000}),
            perform=lambda key: payment_record(circle=circle, member=member, actor=user, purpose="fee",
                                               method="cash", amount_pence=1000, idempotency_key=key)[0],
            load=lambda pk: Payment.objects.get(pk=pk),
        )

    results = _at_once(pay)
    assert len({payment.pk for payment, _replayed in results}) == 1
    assert Payment.objects.count() == 1
    assert member.years.filter(payment__isnull=False).count() == 1
