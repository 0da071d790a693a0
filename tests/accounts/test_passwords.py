"""Forgotten passwords and changing a password."""

from __future__ import annotations

import pytest
from django.core import mail

from tests.accounts.conftest import links_in, page_text, sign_in
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW = "purple-elephant-marmalade-42"


def reset_path(message) -> str:
    (link,) = [url for url in links_in(message.body) if "/password-reset/" in url]
    return link.split("127.0.0.1:8000", 1)[-1]


def test_asking_for_a_reset_emails_a_link_to_the_account(client, member):
    response = client.post("/accounts/password-reset/", {"email": "MEMBER@example.org"})

    assert response["Location"] == "/accounts/password-reset/check-your-email/"
    (message,) = mail.outbox
    assert message.to == ["member@example.org"]
    assert message.subject == "Reset your Local Social password"
    assert "If member@example.org has an account with us" in page_text(client.get(response["Location"]))


def test_an_unknown_address_gets_the_same_page_and_no_email(client):
    response = client.post("/accounts/password-reset/", {"email": "nobody@example.org"})

    assert response["Location"] == "/accounts/password-reset/check-your-email/"
    assert mail.outbox == []


def test_the_link_sets_a_new_password_once(client, member):
    client.post("/accounts/password-reset/", {"email": "member@example.org"})
    path = reset_path(mail.outbox[0])

    assert "Choose a new password" in page_text(client.get(path))
    response = client.post(path, {"new_password": NEW}, follow=True)

    assert "Your password has been changed. Sign in with your new password." in page_text(response)
    assert sign_in(client, "member@example.org", PASSWORD).status_code == 200
    assert sign_in(client, "member@example.org", NEW)["Location"] == "/accounts/profile/"
    # Used once, the link no longer works.
    assert client.get(path).status_code == 400
    assert mail.outbox[-1].subject == "Your Local Social password has changed"


def test_the_new_password_must_be_a_good_one(client, member):
    client.post("/accounts/password-reset/", {"email": "member@example.org"})

    response = client.post(reset_path(mail.outbox[0]), {"new_password": "123"})

    assert "There is a problem" in page_text(response)
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_a_made_up_link_is_refused(client, member):
    response = client.get("/accounts/password-reset/MQ/abc-def/")

    assert response.status_code == 400
    assert "Ask for a new link" in page_text(response)


def test_resetting_confirms_an_unconfirmed_address(client):
    user = UserFactory(email="late@example.org", email_verified_at=None)
    client.post("/accounts/password-reset/", {"email": "late@example.org"})

    client.post(reset_path(mail.outbox[0]), {"new_password": NEW})

    user.refresh_from_db()
    assert user.email_verified_at is not None


def test_reset_requests_are_rate_limited_per_address(client, member, settings):
    settings.ACCOUNT_EMAIL_RATE = "2/h"

    statuses = [
        client.post("/accounts/password-reset/", {"email": "member@example.org"}).status_code for _ in range(3)
    ]

    assert statuses == [302, 302, 429]
    assert len(mail.outbox) == 2


def test_reset_requests_are_rate_limited_per_ip(client, settings):
    settings.PASSWORD_RESET_RATE = "3/h"

    statuses = [
        client.post("/accounts/password-reset/", {"email": f"p{i}@example.org"}).status_code for i in range(4)
    ]

    assert statuses == [302, 302, 302, 429]


def test_changing_the_password_needs_the_current_one(client, member):
    client.force_login(member)

    response = client.post(
        "/accounts/profile/password/", {"current_password": "wrong-one-entirely", "new_password": NEW}
    )

    assert "Your current password is not right" in page_text(response)
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_changing_the_password_keeps_this_session_and_ends_the_others(client, other_client, member):
    client.force_login(member)
    other_client.force_login(member)

    response = client.post(
        "/accounts/profile/password/", {"current_password": PASSWORD, "new_password": NEW}, follow=True
    )

    assert "Your password has been changed." in page_text(response)
    assert client.get("/accounts/profile/").status_code == 200
    assert other_client.get("/accounts/profile/").status_code == 302
    assert mail.outbox[-1].subject == "Your Local Social password has changed"
    member.refresh_from_db()
    assert member.check_password(NEW)
