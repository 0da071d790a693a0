"""Sending email: render now, send in the background once the transaction commits.

Every email the site sends goes through :func:`email_send`.  The message is rendered at once
(in the recipient's language, with links built from ``settings.SITE_URL``) and handed to the
task queue as plain strings, so a slow or broken mail server never slows down or breaks the page
that caused the email, and nothing is sent for a change that is rolled back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template import engines
from django.template.backends.jinja2 import Jinja2
from django.utils import translation
from jinja2 import Environment, TemplateNotFound


@lru_cache(maxsize=1)
def _environments() -> tuple[Environment, Environment]:
    """The project's Jinja2 environment, and an overlay of it that does not HTML-escape
    (plain-text email must keep ``&`` in links as it is)."""
    for engine in engines.all():
        if isinstance(engine, Jinja2):
            return engine.env, engine.env.overlay(autoescape=False)
    raise RuntimeError("No Jinja2 template engine is configured.")


def site_url(path: str) -> str:
    """An absolute address on this site, for links in emails: ``site_url("/accounts/…")``."""
    return f"{settings.SITE_URL}{path}"


def email_render(
    *, template: str, context: Mapping[str, Any], html_template: str | None = None
) -> tuple[str, str]:
    """Render the plain-text template (and the HTML one, if given or found beside it:
    ``x.txt`` → ``x.html``).  Returns ``(text, html)``; ``html`` is empty when there is none."""
    html_env, text_env = _environments()
    full_context = {"site_name": "Local Social", "site_url": settings.SITE_URL, **context}
    text = text_env.get_template(template).render(full_context)
    html = ""
    candidate = html_template or (template[:-4] + ".html" if template.endswith(".txt") else None)
    if candidate:
        try:
            html = html_env.get_template(candidate).render(full_context)
        except TemplateNotFound:
            if html_template:
                raise
    return text, html


def email_send(
    *,
    to: str | Sequence[str],
    subject: str,
    template: str,
    context: Mapping[str, Any] | None = None,
    html_template: str | None = None,
    language: str | None = None,
    reply_to: Sequence[str] | None = None,
) -> None:
    """Render an email now and send it in the background after the current transaction
    commits (at once, when there is no transaction).

    ``subject`` may be a lazy translation; it and the templates are rendered in ``language``
    (the recipient's preferred language) when given, otherwise in the current language.
    Nothing is sent if the transaction is rolled back.
    """
    from localsocial.core.tasks import send_email_task

    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        return
    with translation.override(language or translation.get_language()):
        subject_text = " ".join(str(subject).split())  # one line: headers cannot hold newlines
        body, html_body = email_render(
            template=template, context=context or {}, html_template=html_template
        )
    kwargs: dict[str, Any] = {
        "to": recipients,
        "subject": subject_text,
        "body": body,
        "html_body": html_body,
        "from_email": settings.DEFAULT_FROM_EMAIL,
        "reply_to": list(reply_to or []),
    }
    transaction.on_commit(lambda: send_email_task.enqueue(**kwargs))
