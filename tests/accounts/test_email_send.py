"""core.email.email_send: rendered now, sent by a task after the transaction commits."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.utils import translation

from localsocial.core.email import email_render, email_send, site_url

pytestmark = pytest.mark.django_db


def test_nothing_is_sent_until_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        email_send(to="a@example.org", subject="Hello", template="accounts/email/password_changed.txt",
                   context={"sign_in_url": "x", "password_reset_url": "https://example.org/r?a=1&b=2"})
        assert mail.outbox == []

    assert len(callbacks) == 1
    (message,) = mail.outbox
    assert message.to == ["a@example.org"]
    assert message.subject == "Hello"
    # Plain text is not HTML-escaped.
    assert "https://example.org/r?a=1&b=2" in message.body
    assert message.alternatives == []


def test_nothing_is_sent_when_the_transaction_is_rolled_back(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                email_send(to="a@example.org", subject="Hello", template="accounts/email/password_changed.txt",
                           context={})
                raise RuntimeError("something failed after the email was queued")
        except RuntimeError:
            pass

    assert mail.outbox == []


def test_subject_and_body_are_in_the_recipients_language(monkeypatch, django_capture_on_commit_callbacks):
    from django.utils.translation import gettext_lazy

    use_templates(monkeypatch, {"t.txt": "{{ _('Enter a valid email address.') }}"})
    with django_capture_on_commit_callbacks(execute=True), translation.override("en-gb"):
        email_send(to="a@example.org", subject=gettext_lazy("Enter a valid email address."),
                   template="t.txt", language="cy")

    (message,) = mail.outbox
    # Django ships Welsh for this sentence; our own strings follow once translated.
    assert message.subject == "Rhowch gyfeiriad ebost dilys."
    assert message.body == "Rhowch gyfeiriad ebost dilys."


def use_templates(monkeypatch, templates: dict[str, str]) -> None:
    """Render from these templates instead of the app directories."""
    from jinja2 import DictLoader

    from localsocial.core import email

    html_env, _text_env = email._environments()
    env = html_env.overlay(loader=DictLoader(templates))
    monkeypatch.setattr(email, "_environments", lambda: (env, env.overlay(autoescape=False)))


def test_an_html_part_is_sent_when_there_is_an_html_template(monkeypatch, django_capture_on_commit_callbacks):
    use_templates(monkeypatch, {
        "note.txt": "Hello {{ name }} & co: {{ link }}",
        "note.html": "<p>Hello {{ name }}: <a href=\"{{ link }}\">link</a></p>",
    })

    with django_capture_on_commit_callbacks(execute=True):
        email_send(to="a@example.org", subject="Hi", template="note.txt",
                   context={"name": "<Bo>", "link": "https://x.example/?a=1&b=2"})

    (message,) = mail.outbox
    assert message.body == "Hello <Bo> & co: https://x.example/?a=1&b=2"
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    assert html == '<p>Hello &lt;Bo&gt;: <a href="https://x.example/?a=1&amp;b=2">link</a></p>'


def test_without_an_html_template_only_plain_text_is_sent(django_capture_on_commit_callbacks):
    text, html = email_render(template="accounts/email/password_changed.txt", context={"display_name": "<Bo>"})

    assert text.startswith("Hello <Bo>,")
    assert html == ""


def test_site_links_use_the_configured_address(settings):
    settings.SITE_URL = "https://local.example"

    assert site_url("/accounts/sign-in/") == "https://local.example/accounts/sign-in/"


def test_subjects_are_one_line(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email_send(to=["a@example.org", "b@example.org"], subject="Two\nlines", template="accounts/email/password_changed.txt", context={})

    assert mail.outbox[0].subject == "Two lines"
    assert mail.outbox[0].to == ["a@example.org", "b@example.org"]
