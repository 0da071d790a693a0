"""Time the stories selectors directly, without the web server: the list, the biggest
organisation's list, searches and the dashboard without its cache (median of 7 calls).

    DEBUG=1 DATABASE_URL=postgres://…/localsocial_bench_stories_1000000 \\
        .venv/bin/python bench/stories_selectors.py [-v]

``-v`` prints every query with its time.  Read-only; run it against a generated database.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "localsocial.config.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from localsocial.directory.models import Organisation  # noqa: E402
from localsocial.stories.forms.alerts import DateRangeForm  # noqa: E402
from localsocial.stories.forms.reading import StoryListForm  # noqa: E402
from localsocial.stories.models import StoryListing  # noqa: E402
from localsocial.stories.selectors import reading  # noqa: E402
from localsocial.stories.selectors.dashboard import dashboard_for_organisation  # noqa: E402

RUNS = 7


def timed(label: str, call: Callable[[], Any], *, verbose: bool) -> None:
    times = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
    print(f"{label}: median {statistics.median(times):.1f} ms, min {min(times):.1f} ms, "
          f"{len(queries.captured_queries)} queries")
    if verbose:
        for query in queries.captured_queries:
            print(f"    {float(query['time']) * 1000:.1f} ms  {query['sql'][:200]}")


def main(verbose: bool) -> None:
    biggest = (StoryListing.objects.filter(scope="org").values("scope_id").annotate(n=Count("id"))
               .order_by("-n", "scope_id").first())
    if biggest is None:
        sys.exit("No published stories: run `localsocial generate --stories N` first.")
    org = Organisation.objects.get(pk=biggest["scope_id"])
    print(f"Biggest organisation: {org.name} ({biggest['n']:,} stories)")

    def page(scope: reading.ListScope, query: str = "") -> Any:
        form = StoryListForm({"q": query} if query else {})
        form.is_valid()
        return reading.story_list_page(scope=scope, filters=form.filters(), cursor=None, page_size=20)

    def dashboard() -> Any:
        start, end = DateRangeForm(None, today=timezone.localdate()).period()
        return dashboard_for_organisation(organisation=org, start=start, end=end)

    timed("story list (all)", lambda: page(reading.ALL_STORIES), verbose=verbose)
    organisation = reading.list_scope_for(kind="org", key=org.slug)
    timed("organisation list (biggest)", lambda: page(organisation), verbose=verbose)
    for word in ["staff", "waiting", "harmonica", "platypus"]:
        timed(f"search {word!r}", lambda word=word: page(reading.ALL_STORIES, word), verbose=verbose)
    timed("dashboard, uncached (biggest)", dashboard, verbose=verbose)

    def dashboard_part_months() -> Any:
        # From the 15th of a month to the 10th of another: both ends counted from the list rows.
        today = timezone.localdate()
        end = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=10)
        start = (today - dt.timedelta(days=330)).replace(day=15)
        return dashboard_for_organisation(organisation=org, start=start, end=end)

    timed("dashboard, uncached, part months (biggest)", dashboard_part_months, verbose=verbose)


if __name__ == "__main__":
    main(verbose="-v" in sys.argv[1:])
