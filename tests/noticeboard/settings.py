"""The site's settings with one module added: the only platform change a module needs."""

from localsocial.config.settings import *  # noqa: F403
from localsocial.config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.noticeboard"]
