"""The platform's Idempotency-Key helper, the same for every module's POST: a retry gets what
the first request made, a key is refused for another operation or body, and a key whose
object is gone is forgotten.  (Each module's tests check it through its own endpoints.)"""

from __future__ import annotations

import pytest

from localsocial.api.idempotency import IdempotencyKeyReused, idempotent_call, request_fingerprint
from localsocial.api.models import ApiIdempotencyKey
from localsocial.api.services import api_token_create
from localsocial.directory.models import Organisation
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def token():
    made, _secret = api_token_create(user=UserFactory(), name="Kiosk", scopes=["stories:write"])
    return made


def _call(token, *, key="k", operation="tests.organisation_make", body=None, made=None):
    made = made if made is not None else []

    def perform(service_key):
        made.append(service_key)
        return OrganisationFactory()

    return idempotent_call(
        token=token, idempotency_key=key, operation=operation, fingerprint=request_fingerprint(body or {"n": 1}),
        perform=perform, load=lambda pk: Organisation.objects.filter(pk=pk).first(),
    )


def test_a_retried_key_gets_what_the_first_request_made_without_running_again(token):
    calls: list[str | None] = []
    first, first_replayed = _call(token, made=calls)
    again, again_replayed = _call(token, made=calls)
    assert again.pk == first.pk
    assert (first_replayed, again_replayed) == (False, True)
    assert len(calls) == 1
    assert calls[0] is not None
    assert calls[0].startswith(f"api:{token.pk}:")
    key = ApiIdempotencyKey.objects.get()
    assert (key.operation, key.object_id) == ("tests.organisation_make", first.pk)


def test_a_key_is_refused_for_another_body_or_another_operation(token):
    _call(token)
    with pytest.raises(IdempotencyKeyReused):
        _call(token, body={"n": 2})
    with pytest.raises(IdempotencyKeyReused):
        _call(token, operation="tests.something_else")
    assert Organisation.objects.count() == 1


def test_without_a_key_every_request_runs(token):
    calls: list[str | None] = []
    _call(token, key=None, made=calls)
    _call(token, key=None, made=calls)
    assert calls == [None, None]
    assert not ApiIdempotencyKey.objects.exists()


def test_a_key_whose_object_is_gone_is_forgotten_and_the_request_runs_again(token):
    first, _replayed = _call(token)
    Organisation.objects.filter(pk=first.pk).delete()
    again, replayed = _call(token)
    assert again.pk != first.pk
    assert replayed is False
    assert ApiIdempotencyKey.objects.get().object_id == again.pk
