"""WSGI entry point (gunicorn localsocial.config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "localsocial.config.settings")
application = get_wsgi_application()
