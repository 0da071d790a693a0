"""The person's own account page: details, language and changing the email address."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core import mail

from localsocial.accounts.models import User
from tests.accounts.conftest import links_in, page_text, sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def confirm_path(message) -> str:
    (link,) = [url for url in links_in(message.body) if "/confirm-email/" in url]
    return link.split("127.0.0.1:8000", 1)[-1]


def test_the_account_page_shows_the_persons_details(client, member):
    client.force_login(member)

    page = page_text(client.get("/accounts/profile/"))

    assert "Maggie" in page
    assert "member@example.org" in page
    assert "You are a member of the public" in page
    assert "Download your data" in page
    assert "Delete your account" in page
    # Members are not asked about two-step verification.
    assert "Two-step verification" not in page


def test_the_account_page_lists_organisation_roles(client):
    membership = MembershipFactory(organisation__name="Southwark Council")
    from tests.accounts.conftest import verified_sign_in

    verified_sign_in(client, membership.user)

    page = page_text(client.get("/accounts/profile/"))

    assert "Responder at Southwark Council" in page
    assert "Two-step verification" in page


def test_the_account_page_makes_a_fixed_number_of_queries(client, member, django_assert_max_num_queries):
    MembershipFactory.create_batch(3, user=member)
    from tests.accounts.conftest import verified_sign_in

    verified_sign_in(client, member)
    client.get("/accounts/profile/")

    # 7 for the account, 2 for the circles' "Your work" links (memberships, circles coordinated);
    # the stories links share the page's organisation memberships.
    with django_assert_max_num_queries(9):
        response = client.get("/accounts/profile/")
    assert response.status_code == 200


def test_changing_the_display_name_and_language(client, member):
    client.force_login(member)

    response = client.post("/accounts/profile/details/", {"display_name": "  Mags  ", "preferred_language": "cy"})

    assert response["Location"] == "/accounts/profile/"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "cy"
    member.refresh_from_db()
    assert member.display_name == "Mags"
    assert member.preferred_language == "cy"


def test_details_form_explains_mistakes(client, member):
    client.force_login(member)

    page = page_text(client.post("/accounts/profile/details/", {"display_name": "", "preferred_language": "fr"}))

    assert "Enter a display name" in page
    assert "Choose a language" in page


def test_changing_the_email_address_needs_the_new_address_confirmed(client, member):
    client.force_login(member)

    response = client.post(
        "/accounts/profile/email/", {"new_email": "New.Address@example.org", "current_password": PASSWORD},
        follow=True,
    )

    assert "We have sent a link to new.address@example.org" in page_text(response)
    member.refresh_from_db()
    assert member.email == "member@example.org"  # nothing changes yet
    to_new, to_old = mail.outbox
    assert to_new.to == ["new.address@example.org"]
    assert to_old.to == ["member@example.org"]
    assert "new.address@example.org" in to_old.body

    confirmed = client.get(confirm_path(to_new))

    assert "Your email address has changed" in page_text(confirmed)
    member.refresh_from_db()
    assert member.email == "new.address@example.org"
    assert mail.outbox[-1].to == ["member@example.org"]
    assert mail.outbox[-1].subject == "Your Local Social email address has changed"
    # The link works once only.
    assert client.get(confirm_path(to_new)).status_code == 400
    client.post("/accounts/sign-out/")
    assert sign_in(client, "new.address@example.org")["Location"] == "/accounts/profile/"


def test_changing_to_an_address_in_use_reveals_nothing_and_changes_nothing(client, member):
    UserFactory(email="taken@example.org")
    client.force_login(member)

    response = client.post(
        "/accounts/profile/email/", {"new_email": "taken@example.org", "current_password": PASSWORD}, follow=True
    )

    assert "We have sent a link to taken@example.org" in page_text(response)
    (message,) = mail.outbox
    assert message.to == ["taken@example.org"]
    assert message.subject == "You already have a Local Social account"
    member.refresh_from_db()
    assert member.email == "member@example.org"


def test_a_change_link_stops_working_if_the_address_was_taken_meanwhile(client, member):
    client.force_login(member)
    client.post("/accounts/profile/email/", {"new_email": "new@example.org", "current_password": PASSWORD})
    UserFactory(email="new@example.org")

    response = client.get(confirm_path(mail.outbox[0]))

    assert "That email address is already in use" in page_text(response)
    member.refresh_from_db()
    assert member.email == "member@example.org"


def test_changing_the_email_address_needs_the_password(client, member):
    client.force_login(member)

    page = page_text(client.post("/accounts/profile/email/", {"new_email": "new@example.org", "current_password": "nope"}))

    assert "Your current password is not right" in page
    assert mail.outbox == []


def test_the_new_address_must_differ(client, member):
    client.force_login(member)

    page = page_text(
        client.post("/accounts/profile/email/", {"new_email": "MEMBER@example.org", "current_password": PASSWORD})
    )

    assert "This is already your email address" in page
    assert User.objects.get(pk=member.pk).email == "member@example.org"
