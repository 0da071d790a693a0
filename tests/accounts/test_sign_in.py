"""Signing in and out, and the sign-in rate limit."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from tests.accounts.conftest import page_text, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-at-all"


def test_the_right_email_and_password_sign_in(client, member):
    response = sign_in(client, "member@example.org")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    assert client.session["_auth_user_id"] == str(member.pk)
    assert "Your account" in page_text(client.get("/accounts/profile/"))
    member.refresh_from_db()
    assert member.last_login is not None


def test_the_email_address_can_be_typed_in_any_case_with_spaces(client, member):
    response = sign_in(client, "  Member@EXAMPLE.org ")

    assert response["Location"] == "/accounts/profile/"


@pytest.mark.parametrize(("email", "password"), [("member@example.org", WRONG), ("nobody@example.org", WRONG)])
def test_a_wrong_password_or_unknown_address_gets_the_same_answer(client, member, email, password):
    response = sign_in(client, email, password)

    assert response.status_code == 200
    page = page_text(response)
    assert "There is a problem" in page
    assert "The email address or password is not right. Check them and try again." in page
    assert "_auth_user_id" not in client.session
    # The address is kept, the password is not.
    assert f'value="{email}"' in response.content.decode()
    assert WRONG not in response.content.decode()


def test_empty_fields_are_explained(client):
    page = page_text(sign_in(client, "", ""))

    assert "Enter your email address" in page
    assert "Enter your password" in page


def test_after_five_failures_the_sixth_attempt_is_refused_with_a_429(client, member):
    for _ in range(5):
        assert sign_in(client, "member@example.org", WRONG).status_code == 200

    # Even the right password is refused now, so guessing cannot go on.
    response = sign_in(client, "member@example.org")

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "Too many attempts" in page_text(response)
    assert "_auth_user_id" not in client.session


def test_the_limit_follows_the_account_across_addresses(client, other_client, member):
    for _ in range(5):
        sign_in(client, "member@example.org", WRONG, REMOTE_ADDR="10.0.0.1")

    response = other_client.post(
        "/accounts/sign-in/", {"email": "member@example.org", "password": WRONG}, REMOTE_ADDR="10.0.0.2"
    )

    assert response.status_code == 429


def test_the_limit_follows_the_ip_address_across_accounts(client):
    for i in range(5):
        sign_in(client, f"guess{i}@example.org", WRONG)

    assert sign_in(client, "another@example.org", WRONG).status_code == 429


def test_successful_sign_ins_do_not_count_towards_the_limit(client, member):
    for _ in range(8):
        assert sign_in(client, "member@example.org").status_code == 302
        client.post("/accounts/sign-out/")


def test_the_rate_comes_from_settings(client, member, settings):
    settings.SIGN_IN_RATE = "2/15m"
    sign_in(client, "member@example.org", WRONG)
    sign_in(client, "member@example.org", WRONG)

    assert sign_in(client, "member@example.org").status_code == 429


def test_the_default_rate_is_five_in_fifteen_minutes():
    assert django_settings.SIGN_IN_RATE == "5/15m"


def test_next_takes_people_back_where_they_were(client, member):
    response = sign_in(client, "member@example.org", next="/stories/")

    assert response["Location"] == "/stories/"


def test_next_cannot_send_people_to_another_site(client, member):
    response = sign_in(client, "member@example.org", next="https://evil.example.com/")

    assert response["Location"] == "/accounts/profile/"


def test_pages_that_need_an_account_send_people_to_sign_in_and_back(client, member):
    response = client.get("/accounts/profile/details/")

    assert response["Location"] == "/accounts/sign-in/?next=/accounts/profile/details/"
    page = client.get(response["Location"])
    assert 'name="next" value="/accounts/profile/details/"' in page.content.decode()


def test_signing_in_uses_the_persons_language(client):
    UserFactory(email="cymro@example.org", preferred_language="cy")

    response = sign_in(client, "cymro@example.org")

    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "cy"


def test_a_deactivated_account_cannot_sign_in(client):
    UserFactory(email="gone@example.org", is_active=False)

    response = sign_in(client, "gone@example.org")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_sign_out_needs_a_post_and_ends_the_session(client, member):
    client.force_login(member)

    assert client.get("/accounts/sign-out/").status_code == 405
    response = client.post("/accounts/sign-out/", follow=True)

    assert "_auth_user_id" not in client.session
    assert "You have signed out." in page_text(response)
    assert client.get("/accounts/profile/").status_code == 302


def test_sign_in_page_offers_password_reset_and_sign_up(client):
    page = page_text(client.get("/accounts/sign-in/"))

    assert "I have forgotten my password" in page
    assert "Create an account" in page


def test_a_signed_in_person_visiting_sign_in_goes_to_their_account(client, member):
    member.last_login = timezone.now()
    client.force_login(member)

    assert client.get("/accounts/sign-in/")["Location"] == "/accounts/profile/"
