"""Helpers for the accounts tests.

The ``client`` here behaves as production does at the end of each request: what was queued with
``transaction.on_commit`` (emails, tasks) runs when the request finishes.  (pytest-django wraps
each test in a transaction that never commits, so otherwise nothing would ever be sent.)
"""

from __future__ import annotations

import re

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD, UserFactory
from tests.helpers import CommittingClient

PRODUCTION_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


@pytest.fixture
def client():
    return CommittingClient()


@pytest.fixture
def other_client():
    return CommittingClient()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def member(db):
    return UserFactory(email="member@example.org", display_name="Maggie")


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post("/accounts/sign-in/", {"email": email, "password": password, **extra})


def totp_device(user, *, confirmed=True):
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=confirmed)


def totp_code(device) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def backup_device(user, codes=("abcd2345", "efgh6723")):
    device = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    for code in codes:
        StaticToken.objects.create(device=device, token=code)
    return device


def verified_sign_in(client, user):
    """Sign in with a session that has passed two-step verification (as after a code)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or totp_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


def page_text(response) -> str:
    """The visible words of a page, with tags removed and spaces squeezed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    import html as html_lib

    return " ".join(html_lib.unescape(text).split())
