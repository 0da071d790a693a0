"""Signing up, confirming the email address, and what happens before it is confirmed."""

from __future__ import annotations

import pytest
from django.core import mail
from freezegun import freeze_time

from localsocial.accounts.models import User
from tests.accounts.conftest import PRODUCTION_HASHERS, links_in, page_text, sign_in
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

GOOD = {"email": "Rhiannon@Example.org ", "display_name": "Rhi", "password": PASSWORD}


def sign_up(client, **overrides):
    return client.post("/accounts/sign-up/", {**GOOD, **overrides})


def confirmation_link(message) -> str:
    (link,) = [url for url in links_in(message.body) if "/confirm-email/" in url]
    return link


def test_sign_up_creates_an_unconfirmed_account_and_emails_a_link(client, settings):
    settings.SITE_URL = "https://social.example.gov.uk"
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS

    response = sign_up(client, email="Rhiannon@Example.org")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/sign-up/check-your-email/"
    user = User.objects.get()
    assert user.email == "rhiannon@example.org"
    assert user.display_name == "Rhi"
    assert user.email_verified_at is None
    assert user.password.startswith("argon2")
    (message,) = mail.outbox
    assert message.to == ["rhiannon@example.org"]
    assert message.subject == "Confirm your email address for Local Social"
    assert "Hello Rhi," in message.body
    assert confirmation_link(message).startswith("https://social.example.gov.uk/accounts/confirm-email/")
    page = page_text(client.get(response["Location"]))
    assert "Check your email" in page
    assert "We have sent an email to rhiannon@example.org." in page


def test_following_the_link_confirms_the_address_once(client):
    sign_up(client)
    path = confirmation_link(mail.outbox[0]).split("127.0.0.1:8000", 1)[-1]

    first = client.get(path)
    second = client.get(path)

    assert first.status_code == 200
    assert "Your email address is confirmed" in page_text(first)
    assert User.objects.get().email_verified_at is not None
    assert "already confirmed" in page_text(second)


def test_a_tampered_link_confirms_nothing(client):
    sign_up(client)
    path = confirmation_link(mail.outbox[0]).split("127.0.0.1:8000", 1)[-1]

    response = client.get(path.replace("/confirm-email/", "/confirm-email/x"))

    assert response.status_code == 400
    assert "This link has expired or has already been used" in page_text(response)
    assert User.objects.get().email_verified_at is None


def test_a_link_older_than_three_days_has_expired(client):
    with freeze_time("2026-03-01 10:00"):
        sign_up(client)
    path = confirmation_link(mail.outbox[0]).split("127.0.0.1:8000", 1)[-1]

    with freeze_time("2026-03-04 10:01"):
        response = client.get(path)

    assert response.status_code == 400
    assert User.objects.get().email_verified_at is None


def test_signing_up_with_a_registered_address_reveals_nothing_and_tells_the_owner(client):
    owner = UserFactory(email="rhiannon@example.org", display_name="Owner")
    old_hash = owner.password

    response = sign_up(client, email="RHIANNON@example.org", display_name="Someone else")

    # The same next page as for a new address...
    assert response["Location"] == "/accounts/sign-up/check-your-email/"
    # ...no second account, the first one unchanged...
    assert User.objects.count() == 1
    owner.refresh_from_db()
    assert owner.display_name == "Owner"
    assert owner.password == old_hash
    # ...and the owner hears about it, with ways to sign in or reset their password.
    (message,) = mail.outbox
    assert message.to == ["rhiannon@example.org"]
    assert message.subject == "You already have a Local Social account"
    assert any(link.endswith("/accounts/password-reset/") for link in links_in(message.body))


def test_signing_up_again_before_confirming_sends_a_fresh_link(client):
    UserFactory(email="rhiannon@example.org", email_verified_at=None)

    sign_up(client)

    (message,) = mail.outbox
    assert message.subject == "Confirm your email address for Local Social"
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"email": ""}, "email", "Enter your email address"),
        ({"email": "not-an-email"}, "email", "Enter an email address in the correct format, like name@example.com"),
        ({"display_name": ""}, "display_name", "Enter a display name"),
        ({"display_name": "me@example.org"}, "display_name", "Display name must not be an email address"),
        ({"password": ""}, "password", "Enter a password"),
        ({"password": "short"}, "password", "This password is too short"),
        ({"password": "password123"}, "password", "This password is too common"),
    ],
)
def test_sign_up_explains_each_mistake_and_creates_nothing(client, overrides, field, error):
    response = sign_up(client, **overrides)

    assert response.status_code == 200
    page = page_text(response)
    assert "There is a problem" in page
    assert error in page
    assert f'href="#id_{field}"' in response.content.decode()
    assert User.objects.count() == 0
    assert mail.outbox == []


def test_password_like_the_email_address_is_refused(client):
    response = sign_up(client, email="gwendolyn.jones@example.org", password="gwendolyn.jones")

    assert "too similar" in page_text(response)
    assert User.objects.count() == 0


def test_signing_in_before_confirming_offers_to_resend_the_link(client):
    sign_up(client)
    mail.outbox.clear()

    response = sign_in(client, "rhiannon@example.org")

    assert response["Location"] == "/accounts/sign-in/confirm-your-email/"
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"])
    assert "Confirm your email address first" in page_text(page)
    assert "rhiannon@example.org" in page_text(page)
    assert client.get("/accounts/profile/")["Location"].startswith("/accounts/sign-in/")

    resent = client.post("/accounts/sign-in/confirm-your-email/")

    assert "We have sent a new link to rhiannon@example.org" in page_text(resent)
    (message,) = mail.outbox
    client.get(confirmation_link(message).split("127.0.0.1:8000", 1)[-1])
    assert sign_in(client, "rhiannon@example.org")["Location"] == "/accounts/profile/"


def test_the_wrong_password_on_an_unconfirmed_account_reveals_nothing(client):
    UserFactory(email="rhiannon@example.org", email_verified_at=None)

    response = sign_in(client, "rhiannon@example.org", "wrong password here")

    assert response.status_code == 200
    assert "The email address or password is not right" in page_text(response)
    assert "confirm" not in page_text(response).lower()


def test_the_resend_page_needs_a_right_password_first(client):
    response = client.get("/accounts/sign-in/confirm-your-email/")

    assert response["Location"] == "/accounts/sign-in/"


def test_resending_the_link_is_rate_limited(client, settings):
    settings.ACCOUNT_EMAIL_RATE = "2/h"
    UserFactory(email="rhiannon@example.org", email_verified_at=None)
    sign_in(client, "rhiannon@example.org")

    statuses = [client.post("/accounts/sign-in/confirm-your-email/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert len(mail.outbox) == 2


def test_sign_up_is_rate_limited_per_address(client, settings):
    settings.SIGN_UP_RATE = "3/h"

    statuses = [sign_up(client, email=f"person{i}@example.org").status_code for i in range(4)]

    assert statuses == [302, 302, 302, 429]
    assert User.objects.count() == 3
    assert "Too many attempts" in page_text(sign_up(client, email="another@example.org"))


def test_signed_in_people_are_sent_from_sign_up_to_their_account(client, member):
    client.force_login(member)

    assert client.get("/accounts/sign-up/")["Location"] == "/accounts/profile/"
