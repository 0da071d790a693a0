"""A new person signs up, confirms their address, signs in, is made staff, sets up two-step
verification with an authenticator app and reaches their account page: in Chromium, with axe
on every page.  And signing in works without JavaScript."""

from __future__ import annotations

import base64
import re

import pytest
from django.core import mail
from django_otp.oath import TOTP
from playwright.sync_api import expect

from localsocial.accounts.models import User
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "blue-kettle-orchard-lantern"


def totp_now(secret_text: str) -> str:
    key = base64.b32decode(secret_text.replace(" ", ""))
    return f"{TOTP(key, step=30, digits=6).token():06d}"


def test_sign_up_confirm_sign_in_and_set_up_two_step_verification(page, live_server, assert_accessible):
    # Sign up
    page.goto("/accounts/sign-up/")
    assert page.locator("h1").inner_text() == "Create an account"
    assert_accessible(page)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".govuk-error-summary").get_by_text("Enter your email address")).to_be_visible()
    assert_accessible(page)  # the error summary and inline errors too
    page.get_by_label("Email address").fill("Bronwen@Example.org")
    page.get_by_label("Display name").fill("Bron")
    page.get_by_label("Create a password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()

    # Check your email
    page.wait_for_url("**/accounts/sign-up/check-your-email/")
    assert page.locator("h1").inner_text() == "Check your email"
    assert "bronwen@example.org" in page.locator("main").inner_text()
    assert_accessible(page)

    # The email's link confirms the address
    (message,) = [m for m in mail.outbox if m.to == ["bronwen@example.org"]]
    (path,) = re.findall(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body)
    page.goto(path)
    assert page.locator("h1").inner_text() == "Your email address is confirmed"
    assert_accessible(page)

    # The person starts work for an organisation, so they will need two-step verification
    MembershipFactory(user=User.objects.get(email="bronwen@example.org"), organisation__name="Cardiff Council")

    # Sign in
    page.get_by_role("link", name="Sign in").first.click()
    page.wait_for_url("**/accounts/sign-in/**")
    assert_accessible(page)
    page.get_by_label("Email address").fill("bronwen@example.org")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Sent to set up two-step verification
    page.wait_for_url("**/accounts/two-factor/setup/**")
    assert page.locator("h1").inner_text() == "Set up two-step verification"
    assert page.locator(".ls-qr svg[role=img]").count() == 1
    assert_accessible(page)
    page.get_by_text("I cannot scan the QR code").click()
    secret = page.locator("#totp-secret").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{4})+", secret)
    page.get_by_label("Code from your app").fill(totp_now(secret))
    page.get_by_role("button", name="Continue").click()

    # Backup codes, shown once
    page.wait_for_url("**/accounts/two-factor/backup-codes/")
    assert page.locator("h1").inner_text() == "Save your backup codes"
    assert page.locator("#backup-codes li").count() == 10
    assert_accessible(page)
    page.get_by_role("button", name="I have saved my backup codes").click()

    # The account page
    page.wait_for_url("**/accounts/profile/")
    assert page.locator("h1").inner_text() == "Your account"
    main = page.locator("main").inner_text()
    assert "Two-step verification is set up." in main
    assert "Responder at Cardiff Council" in main
    assert_accessible(page)


def test_sign_in_without_javascript(no_js_page, live_server):
    # (axe needs JavaScript, so the accessibility checks run in the journey above.)
    UserFactory(email="nojs@example.org", display_name="Nia")
    page = no_js_page

    page.goto("/accounts/sign-in/")
    page.get_by_label("Email address").fill("nojs@example.org")
    page.get_by_label("Password", exact=True).fill("not the right password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_text("There is a problem")).to_be_visible()
    expect(page.locator(".govuk-error-summary").get_by_text("The email address or password is not right")).to_be_visible()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/accounts/profile/")
    assert page.locator("h1").inner_text() == "Your account"
    assert "Nia" in page.locator("main").inner_text()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(live_server.url + "/")
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()
