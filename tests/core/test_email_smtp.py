"""End to end through a real SMTP server: sign up, receive the link over SMTP, follow it, sign in.

aiosmtpd listens on a free localhost port in its own thread; Django's SMTP backend talks to it.
The test database really commits here (``transaction=True``), so the email is queued by
``transaction.on_commit`` exactly as in production.
"""

from __future__ import annotations

import email
import re
import socket
import threading
from email import policy

import pytest
from aiosmtpd.controller import Controller

from localsocial.accounts.models import User

pytestmark = pytest.mark.django_db(transaction=True)


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []
        self.received = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        self.received.set()
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "Local Social <no-reply@localsocial.test>"
    try:
        yield inbox
    finally:
        controller.stop()


def test_sign_up_email_arrives_over_smtp_and_its_link_lets_the_person_sign_in(client, smtp_server, settings):
    settings.SITE_URL = "https://social.example.test"
    password = "a-long-and-memorable-password"

    response = client.post(
        "/accounts/sign-up/",
        {"email": "Eirlys@Example.org", "display_name": "Eirlys", "password": password},
    )

    assert response.status_code == 302
    assert smtp_server.received.wait(timeout=10), "no message reached the SMTP server"
    ((mail_from, recipients, message),) = smtp_server.messages
    assert mail_from == "no-reply@localsocial.test"
    assert recipients == ["eirlys@example.org"]
    assert message["Subject"] == "Confirm your email address for Local Social"
    assert message["To"] == "eirlys@example.org"
    body = message.get_body(preferencelist=("plain",)).get_content()
    (link,) = re.findall(r"https://social\.example\.test(/accounts/confirm-email/\S+/)", body)

    # Not yet confirmed: the right password does not sign in.
    assert client.post("/accounts/sign-in/", {"email": "eirlys@example.org", "password": password})[
        "Location"
    ] == "/accounts/sign-in/confirm-your-email/"

    confirmed = client.get(link)
    assert confirmed.status_code == 200
    assert "Your email address is confirmed" in confirmed.content.decode()
    assert User.objects.get(email="eirlys@example.org").email_verified_at is not None

    signed_in = client.post("/accounts/sign-in/", {"email": "eirlys@example.org", "password": password})
    assert signed_in["Location"] == "/accounts/profile/"
    assert "eirlys@example.org" in client.get("/accounts/profile/").content.decode()
