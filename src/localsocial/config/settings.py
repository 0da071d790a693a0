"""Local Social settings: one module, driven by environment variables (12-factor).

Every setting has a safe default for local use.  Production is ``DEBUG`` off, and then the
project refuses to start without a real ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
See ``.env.example`` and the configuration table in the README.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
import dj_email_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

SRC_DIR = Path(__file__).resolve().parent.parent  # src/localsocial
BASE_DIR = Path(os.environ.get("LOCALSOCIAL_HOME", SRC_DIR.parent.parent)).resolve()
VAR_DIR = Path(os.environ.get("LOCALSOCIAL_VAR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


TESTING = "pytest" in sys.modules or os.environ.get("LOCALSOCIAL_TESTING") == "1"
DEBUG = env_bool("DEBUG", False)

_INSECURE_KEY = "insecure-local-development-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = _INSECURE_KEY
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
elif not DEBUG and not TESTING and (len(SECRET_KEY) < 50 or SECRET_KEY == _INSECURE_KEY):
    raise ImproperlyConfigured("SECRET_KEY is too short or is the development key.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG or TESTING else "")
if not DEBUG and not TESTING and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rules.apps.AutodiscoverRulesConfig",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "localsocial.core",
    "localsocial.accounts",
    "localsocial.directory",
    "localsocial.stories",
    "localsocial.circles",
    "localsocial.green",
    "localsocial.communities",
    "localsocial.insight",
    "localsocial.engage",
    "localsocial.api",
]

MIDDLEWARE = [
    # First the real client address (behind our proxies), then the request id and the context
    # variables that carry both to log lines and the audit log.
    "localsocial.core.middleware.TrustedProxyMiddleware",
    "localsocial.core.middleware.RequestIdMiddleware",
    # /api/ only: slashes without redirects, CORS, rate-limit headers, problems for every error.
    "localsocial.api.middleware.ApiConventionsMiddleware",
    "localsocial.core.middleware.RejectNulCharactersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "localsocial.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "localsocial.config.urls"
WSGI_APPLICATION = "localsocial.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [SRC_DIR / "core" / "jinja2"],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "localsocial.core.jinja2env.environment",
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.messages.context_processors.messages",
                "localsocial.core.context_processors.site",
            ],
        },
    },
    {
        # Django's own templates: the admin and a few framework pages.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'localsocial.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL and a busy timeout let the web process and a task worker share the file.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions and rate limits ----------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "localsocial"),
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
elif TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
else:
    CACHES = {
        "default": {
            # A database table, so that rate limits hold across processes on one machine.
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "localsocial_cache",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "localsocial.core.views.rate_limited"
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)

# --- Background tasks -------------------------------------------------------------------------
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "rq" if REDIS_URL else "database")
if TASKS_BACKEND == "rq":
    if not REDIS_URL:
        raise ImproperlyConfigured("TASKS_BACKEND=rq needs REDIS_URL.")
    INSTALLED_APPS += ["django_rq"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    # django-tasks-rq stores its own job class; without it `rqworker` fails every task.  Our
    # worker class stops as soon as its work is done (see core/rq_worker.py).
    RQ = {"JOB_CLASS": "django_tasks_rq.Job", "WORKER_CLASS": "localsocial.core.rq_worker.Worker"}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
elif TASKS_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
elif TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
else:
    raise ImproperlyConfigured("TASKS_BACKEND must be one of: database, rq, immediate.")

# --- Email ------------------------------------------------------------------------------------
EMAIL_URL = os.environ.get("EMAIL_URL", "console://" if DEBUG else "smtp://localhost:25")
_email = dj_email_url.parse(EMAIL_URL)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"]
EMAIL_PORT = _email["EMAIL_PORT"]
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Local Social <no-reply@localsocial.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Accounts ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "accounts:profile"
LOGOUT_REDIRECT_URL = "core:home"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
OTP_TOTP_ISSUER = "Local Social"
# Sign-in attempts allowed per account and per address before a pause, e.g. "5/15m".
SIGN_IN_RATE = os.environ.get("SIGN_IN_RATE", "5/15m")
SIGN_UP_RATE = os.environ.get("SIGN_UP_RATE", "10/h")
# Emails about one address (confirmation links, password resets, story links) per hour.
ACCOUNT_EMAIL_RATE = os.environ.get("ACCOUNT_EMAIL_RATE", "3/h")
PASSWORD_RESET_RATE = os.environ.get("PASSWORD_RESET_RATE", "10/h")

# --- Circles ----------------------------------------------------------------------------------
# The card payment provider: "" for the built-in test double (no network, a page on this site
# that asks "pay or decline"); a real provider plugs in behind the same interface.
CIRCLES_PAYMENT_PROVIDER = os.environ.get("CIRCLES_PAYMENT_PROVIDER", "")
# Gifts of tokens bought by the public, per address (django-ratelimit rate).
CIRCLES_GIFT_RATE = os.environ.get("CIRCLES_GIFT_RATE", "10/h")
# Days between wellbeing check-ins: opted-in members are invited again after this many (a quarter).
CIRCLES_WELLBEING_INTERVAL_DAYS = env_int("CIRCLES_WELLBEING_INTERVAL_DAYS", 91)

# --- Stories ----------------------------------------------------------------------------------
# Telling a story: the word limit, and how long ago it may have happened.
STORIES_WORD_LIMIT = env_int("STORIES_WORD_LIMIT", 1000)
STORIES_MAX_AGE_MONTHS = env_int("STORIES_MAX_AGE_MONTHS", 24)
# Submissions allowed per address and per account (django-ratelimit rates).
STORIES_SUBMIT_RATE = os.environ.get("STORIES_SUBMIT_RATE", "5/h")
# Live personal-data checks while typing a story (the form calls them as the author types).
STORIES_CHECK_RATE = os.environ.get("STORIES_CHECK_RATE", "300/h")
# "Me too", helpful ratings and follows, per address.
STORIES_REACTION_RATE = os.environ.get("STORIES_REACTION_RATE", "60/h")
# Very critical stories may be held for this many working days before publication.
STORIES_HOLD_WORKING_DAYS = env_int("STORIES_HOLD_WORKING_DAYS", 2)
# Bank holidays (YYYY-MM-DD, comma-separated) that do not count as working days.
STORIES_NON_WORKING_DAYS = env_list("STORIES_NON_WORKING_DAYS")
# A private provider's default window to "go ahead" or "ask for review" (organisations may set their own).
STORIES_PROVIDER_NOTICE_HOURS = env_int("STORIES_PROVIDER_NOTICE_HOURS", 72)
# Responses from a responder are moderated until this many of theirs have been published.
STORIES_RESPONDER_TRUSTED_AFTER = env_int("STORIES_RESPONDER_TRUSTED_AFTER", 3)
# Minutes after publication in which a responder may edit their response.
STORIES_RESPONSE_EDIT_MINUTES = env_int("STORIES_RESPONSE_EDIT_MINUTES", 30)
# How long an organisation dashboard's figures are kept (seconds; 0 turns the cache off).
STORIES_DASHBOARD_CACHE_SECONDS = env_int("STORIES_DASHBOARD_CACHE_SECONDS", 300)
# Seconds to wait for a webhook receiver before counting the attempt as failed.
WEBHOOKS_TIMEOUT = env_int("WEBHOOKS_TIMEOUT", 10)
# API requests per token (or per address without one).
API_RATE = os.environ.get("API_RATE", "600/h")
API_WRITE_RATE = os.environ.get("API_WRITE_RATE", "60/h")

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", _("English")), ("cy", _("Cymraeg"))]
LOCALE_PATHS = [SRC_DIR / "locale"]
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static files and uploads -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [
    # GOV.UK Frontend's fonts-free assets (images, JavaScript), served from node_modules:
    # installed by the set-up, never copied into the repository.
    ("govuk", BASE_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"),
    BASE_DIR / "build" / "static",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# In development and tests WhiteNoise serves straight from the finders (node_modules, build/).
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", 5 * 1024 * 1024))

# --- Security ---------------------------------------------------------------------------------
SECURE = not DEBUG and not TESTING
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SECURE_SSL_REDIRECT = SECURE and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", SECURE) else None
# How many proxies we run in front of the app (load balancer = 1): their X-Forwarded-For entries
# are trusted to give the client's address for rate limits and the audit log.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", 0))
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000 if SECURE else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS: list[str] = []

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        # NONCE makes django-csp add this response's nonce ("'nonce-…'"); the literal string
        # "'nonce'" is not a valid source and blocked GOV.UK Frontend's inline start-up script.
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Logging ----------------------------------------------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "localsocial.core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "localsocial.core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.request": {"level": "ERROR", "propagate": True},
    },
}

# --- Product settings -------------------------------------------------------------------------
LOCALSOCIAL_PHASE = os.environ.get("LOCALSOCIAL_PHASE", "Beta")
LOCALSOCIAL_FEEDBACK_URL = os.environ.get("LOCALSOCIAL_FEEDBACK_URL", "/feedback/")
PAGE_SIZE = 20
# Whole public pages cached for visitors (core.page_cache, decision 0020).
PAGE_CACHE_ENABLED = env_bool("PAGE_CACHE_ENABLED", True)
PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", 600))
CSRF_FAILURE_VIEW = "localsocial.core.views.csrf_failure"
