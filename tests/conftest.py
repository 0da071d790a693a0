"""Shared test set-up: tasks run at once, email is captured, rate limits start empty; every
test that touched the database ends with the stories totals checked against the lists."""

from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM guard would
# otherwise refuse the database calls the browser tests make to arrange their data.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True, scope="session")
def _urls_loaded_before_any_clock_is_frozen():
    """Load the URLconf (and with it the API's pydantic schemas) once, at real time: a test
    whose first URL lookup happens under freezegun would otherwise fail in pydantic."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import is the point


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 takes about 0.2 s a hash by design and the suite hashes thousands of passwords.
    # tests/accounts/test_sign_up.py checks that production really uses Argon2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_unless_a_test_asks():
    # A request in Welsh leaves Welsh active in the thread; each test starts in English.
    from django.utils import translation

    translation.activate("en-gb")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _story_totals_match_the_lists(request):
    """Every test that used the database ends by checking that the dashboard's monthly totals
    still match the story list rows they summarise, and the circles reports' daily totals the
    ledger, requests and visits: whatever it did (publishing, withdrawing, re-tagging, paying,
    matching, completing), the totals kept along the way must equal the totals worked out afresh."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        yield
        return
    # Asked for here so that the database outlives this check.
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    yield
    from localsocial.circles.services.help_totals import help_totals_differences
    from localsocial.circles.services.ledger_totals import ledger_totals_differences
    from localsocial.stories.services.totals import story_totals_differences

    assert story_totals_differences() == []
    # And the circles reports' daily totals (decision 0013) still match the ledger, requests and visits.
    if request.node.get_closest_marker("ledger_written_raw") is None:
        assert ledger_totals_differences() == []
    assert help_totals_differences() == []


@pytest.fixture(autouse=True)
def _clock(request):
    """`@pytest.mark.clock("2026-11-27 10:00:00")`: the test runs on a clock stopped at that
    moment from before its fixtures are made, so the data they create and everything the code
    reads are on the same clock (the test may move it on with freeze_time).  A fixed date
    against data made at the real time stops working the day the real date passes it: a
    test owns its clock.  Defined after the checks above, so the database is set up (and the
    totals checked at the end) on the real clock."""
    marker = request.node.get_closest_marker("clock")
    if marker is None:
        yield None
        return
    from freezegun import freeze_time

    with freeze_time(*marker.args, **marker.kwargs) as clock:
        yield clock
