"""WSGI entry point (gunicorn localsocial.config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "localsocial.config.settings")
application = get_wsgi_application()


def _warm() -> None:
    """Compile every template and load the URLconf now, at worker start, so that a new
    worker's first request is not a second long (issue 11)."""
    from django.conf import settings
    from django.template import engines
    from django.urls import get_resolver

    if settings.DEBUG:
        return
    get_resolver().url_patterns  # noqa: B018 - loading it is the point
    from localsocial.core.jinja2env import templates_warm

    for engine in engines.all():
        env = getattr(engine, "env", None)
        if env is not None:
            templates_warm(env)


_warm()
