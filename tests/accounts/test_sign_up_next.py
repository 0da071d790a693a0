"""Signing up on the way somewhere (say, "Join this circle" → sign in → create an account) keeps
where the person was going, through the confirmation email and signing in, and only ever to a
page on this site."""

from __future__ import annotations

import html
import re

import pytest
from django.core import mail

from localsocial.accounts.models import User
from tests.accounts.conftest import links_in, page_text
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

JOIN = "/circles/riverside/join/"
GOOD = {"email": "rhiannon@example.org", "display_name": "Rhi", "password": PASSWORD}


def hrefs(response, text: str) -> list[str]:
    """The addresses of the links in the page's main part whose words are ``text``."""
    main = response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]
    found = re.findall(r'<a [^>]*href="([^"]*)"[^>]*>\s*([^<]*?)\s*</a>', main)
    return [html.unescape(href) for href, words in found if html.unescape(words) == text]


def local(url: str) -> str:
    return url.split("127.0.0.1:8000", 1)[-1]


def test_a_visitor_who_signs_up_from_sign_in_lands_where_they_were_going(client):
    # Given a visitor sent to sign in on their way to joining a circle
    sign_in_page = client.get(f"/accounts/sign-in/?next={JOIN}")
    (sign_up_href,) = hrefs(sign_in_page, "Create an account")
    assert sign_up_href == "/accounts/sign-up/?next=%2Fcircles%2Friverside%2Fjoin%2F"

    # When they create an account, confirm their address from the email and sign in
    assert f'name="next" value="{JOIN}"' in client.get(sign_up_href).content.decode()
    created = client.post(sign_up_href, GOOD)
    check_page = client.get(created["Location"])
    (confirm_url,) = [url for url in links_in(mail.outbox[0].body) if "/confirm-email/" in url]
    confirmed = client.get(local(confirm_url))
    (sign_in_href,) = hrefs(confirmed, "Sign in")
    signed_in = client.post(sign_in_href, {"email": GOOD["email"], "password": PASSWORD, "next": JOIN})

    # Then every step carried the circle's page along, and they end up on it
    assert created.status_code == 302
    assert hrefs(check_page, "Go to sign in") == ["/accounts/sign-in/?next=%2Fcircles%2Friverside%2Fjoin%2F"]
    assert confirm_url.endswith("?next=%2Fcircles%2Friverside%2Fjoin%2F")
    assert "Your email address is confirmed" in page_text(confirmed)
    assert sign_in_href == "/accounts/sign-in/?next=%2Fcircles%2Friverside%2Fjoin%2F"
    assert User.objects.get().is_email_verified
    assert signed_in["Location"] == JOIN


def test_the_confirmation_link_opened_in_another_browser_still_leads_on(client, other_client):
    # Given someone who signed up on their way to a circle
    client.post(f"/accounts/sign-up/?next={JOIN}", GOOD)
    (confirm_url,) = [url for url in links_in(mail.outbox[0].body) if "/confirm-email/" in url]

    # When they open the email's link on their phone (no session from the sign-up)
    confirmed = other_client.get(local(confirm_url))

    # Then signing in from there still goes on to the circle
    assert hrefs(confirmed, "Sign in") == ["/accounts/sign-in/?next=%2Fcircles%2Friverside%2Fjoin%2F"]


@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example/join/", "https:/\\evil.example"])
def test_a_next_address_on_another_site_is_ignored(client, evil):
    # Given a sign-up link that tries to send people to another site afterwards
    # When someone signs up with it and follows the email's link
    created = client.post("/accounts/sign-up/", {**GOOD, "next": evil})
    (confirm_url,) = [url for url in links_in(mail.outbox[0].body) if "/confirm-email/" in url]
    confirmed = client.get(local(confirm_url) + "?next=" + evil)

    # Then nothing points off the site: the usual pages, the usual sign-in link
    assert created["Location"] == "/accounts/sign-up/check-your-email/"
    assert "next=" not in confirm_url
    assert "evil" not in client.get("/accounts/sign-up/check-your-email/").content.decode()
    assert hrefs(confirmed, "Sign in") == ["/accounts/sign-in/"]
    sign_up_page = client.get(f"/accounts/sign-up/?next={evil}").content.decode()
    assert "evil" not in sign_up_page.split("<main", 1)[1].split("</main>", 1)[0]


def test_an_existing_account_is_told_how_to_sign_in_and_carry_on(client):
    # Given somebody who already has an account
    UserFactory(email=GOOD["email"])

    # When they try to sign up again on their way to a circle
    response = client.post(f"/accounts/sign-up/?next={JOIN}", GOOD)

    # Then the page is the same as for a new address, and the email's sign-in link carries on
    assert response["Location"] == "/accounts/sign-up/check-your-email/?next=%2Fcircles%2Friverside%2Fjoin%2F"
    (message,) = mail.outbox
    assert any(url.endswith("/accounts/sign-in/?next=%2Fcircles%2Friverside%2Fjoin%2F") for url in links_in(message.body))


def test_signing_in_without_a_next_page_offers_the_plain_sign_up_link(client):
    assert hrefs(client.get("/accounts/sign-in/"), "Create an account") == ["/accounts/sign-up/"]
