"""Helpers shared by tests of every app."""

from __future__ import annotations

from django.test import Client, TestCase
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice


class CommittingClient(Client):
    """A test client that behaves as production does at the end of each request: what was
    queued with ``transaction.on_commit`` (emails, tasks) runs when the request finishes.
    pytest-django wraps each test in a transaction that never commits, so otherwise nothing
    queued on commit would ever run."""

    def request(self, **request):  # type: ignore[no-untyped-def]
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


def sign_in_verified(client: Client, user) -> Client:
    """Sign ``user`` in as if they had also given a two-factor code (staff must), by giving
    them a confirmed device and recording it in the session as django-otp's login does."""
    device = StaticDevice.objects.create(user=user, name="Test backup codes", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
