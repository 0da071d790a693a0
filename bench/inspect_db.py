"""What the benchmark needs from the database it just generated.

    python bench/inspect_db.py urls           # --url arguments for bench/load.py, one a line
    python bench/inspect_db.py counts         # row counts and database size, as JSON
    python bench/inspect_db.py story-urls     # --url arguments for the stories pages
    python bench/inspect_db.py story-counts   # stories' row counts and database size, as JSON
    python bench/inspect_db.py session        # --cookie for the signed-in pages (a moderator)

Run with the same environment as the server (DATABASE_URL and so on).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "localsocial.config.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from localsocial.accounts.models import RoleGrant, User  # noqa: E402
from localsocial.directory.models import (  # noqa: E402
    Area,
    Organisation,
    OrganisationMembership,
    Service,
)

SAMPLE = 40
SEARCHES = ["waste", "clinic", "library", "carers assessment", "hospital", "parking permits",
            "food bank", "street lighting", "maternity", "council tax"]


def sample_slugs(queryset, rng: random.Random) -> list[str]:
    # Ids are dense in generated data, so a random sample of ids is cheap at any size
    # (ORDER BY random() would sort the whole table).
    ids = list(queryset.values_list("pk", flat=True).order_by("pk"))
    chosen = rng.sample(ids, min(SAMPLE, len(ids)))
    return list(queryset.filter(pk__in=chosen).values_list("slug", flat=True))


def urls() -> list[str]:
    rng = random.Random(7)
    generated = Organisation.objects.filter(slug__startswith="gen-")
    top = sample_slugs(generated.filter(depth=0, org_type__in=["council", "nhs_trust"]), rng)
    leaves = sample_slugs(generated.filter(depth=2), rng)
    services = sample_slugs(Service.objects.filter(slug__startswith="gen-"), rng)
    try:
        search = reverse("directory:search")
    except NoReverseMatch:
        search = reverse("directory:index")
    searches = [f"{search}?q={term.replace(' ', '+')}" for term in SEARCHES]

    def org(slug: str) -> str:
        return reverse("directory:organisation", kwargs={"slug": slug})

    def svc(slug: str) -> str:
        return reverse("directory:service", kwargs={"slug": slug})

    return [
        "bare=/bench/bare",
        "home=/",
        f"directory list={reverse('directory:index')}",
        "directory search=" + ",".join(searches),
        "organisation (council or trust)=" + ",".join(org(s) for s in top),
        "organisation (team or department)=" + ",".join(org(s) for s in leaves),
        "service=" + ",".join(svc(s) for s in services),
    ]


def counts() -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    return {
        "organisations": Organisation.objects.count(),
        "services": Service.objects.count(),
        "people": User.objects.count(),
        "areas": Area.objects.count(),
        "staff memberships": OrganisationMembership.objects.count(),
        "site roles": RoleGrant.objects.count(),
        "database size": size,
    }


# Words for the search pages: common ones are in a large share of the generated stories (from
# the sentence templates), rare ones in a few in ten thousand (generate.vocabulary.RARE_WORDS).
COMMON_WORDS = ["staff", "appointment", "waiting", "phone", "letter"]
RARE_WORDS = ["harmonica", "platypus", "marmalade", "kingfisher", "tortoise", "xylophone",
              "gramophone", "origami", "lighthouse", "puffin"]


def _biggest(scope: str, limit: int) -> list[int]:
    """The ids of the lists of ``scope`` with the most stories (one scan of the list rows)."""
    from django.db.models import Count

    from localsocial.stories.models import StoryListing

    rows = (StoryListing.objects.filter(scope=scope).values("scope_id").annotate(n=Count("id"))
            .order_by("-n", "scope_id")[:limit])
    return [row["scope_id"] for row in rows]


def story_urls() -> list[str]:
    """The stories pages: the list, the biggest organisations' lists (top-level councils and
    trusts, where the most stories meet), story pages with responses, search for common and
    rare words, and the biggest organisations' dashboards (signed in: see ``session``)."""
    from localsocial.stories.models import Story, StoryStatus

    rng = random.Random(7)
    orgs = dict(Organisation.objects.filter(pk__in=_biggest("org", 10)).values_list("pk", "slug"))
    big = [orgs[pk] for pk in _biggest("org", 10) if pk in orgs]
    answered = Story.objects.filter(status=StoryStatus.PUBLISHED, response_count__gte=1)
    top = answered.order_by("-pk").values_list("pk", flat=True).first() or 0
    # Ids are dense in generated data: probe random ones instead of sorting the table.
    stories: list[int] = []
    for _ in range(20):
        probe = [rng.randint(1, top) for _ in range(200)]
        stories += answered.filter(pk__in=probe).values_list("pk", flat=True)
        if len(stories) >= SAMPLE:
            break
    stories = sorted(set(stories))[:SAMPLE]
    index = reverse("stories:index")
    today = timezone.localdate()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    part_months = f"from={(today - dt.timedelta(days=330)).replace(day=15)}&to={last_month.replace(day=10)}"

    def path(name: str, **kwargs: object) -> str:
        return reverse(f"stories:{name}", kwargs=kwargs)

    return [
        "bare=/bench/bare",
        f"story list={index}",
        "organisation story list (10 biggest)=" + ",".join(path("organisation_stories", slug=s) for s in big),
        "story page (with responses)=" + ",".join(path("story", pk=pk) for pk in stories),
        "search (common word)=" + ",".join(f"{index}?q={w}" for w in COMMON_WORDS),
        "search (rare word)=" + ",".join(f"{index}?q={w}" for w in RARE_WORDS),
        "dashboard (10 biggest, signed in)=" + ",".join(path("dashboard", slug=s) for s in big),
        # A period that starts and ends part way through a month: those two months are
        # counted from the list rows, the rest read from the monthly totals.
        "dashboard, part months (10 biggest, signed in)="
        + ",".join(f"{path('dashboard', slug=s)}?{part_months}" for s in big),
    ]


def story_counts() -> dict[str, object]:
    from localsocial.stories.models import Response, Story, StoryListing, StoryStatus

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    return {
        "organisations": Organisation.objects.count(),
        "services": Service.objects.count(),
        "stories": Story.objects.count(),
        "published": Story.objects.filter(status=StoryStatus.PUBLISHED).count(),
        "responses": Response.objects.count(),
        "list rows": StoryListing.objects.count(),
        "stories of the biggest organisation": max(
            [StoryListing.objects.filter(scope="org", scope_id=pk).count() for pk in _biggest("org", 1)] or [0]
        ),
        "database size": size,
    }


def session() -> str:
    """A signed-in session for a generated moderator, verified by two-factor with a static
    (backup-code) device, as ``name=value`` for a Cookie header.  Made the way the sign-in pages make it
    (``login`` then ``django_otp.login``), straight in the session store the server uses."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import login
    from django.contrib.sessions.backends.base import SessionBase
    from django.http import HttpRequest
    from django.utils.module_loading import import_string
    from django_otp import login as otp_login
    from django_otp.plugins.otp_static.models import StaticDevice

    grant = (RoleGrant.objects.filter(role="moderator", user__email__endswith="@generated.invalid")
             .select_related("user").order_by("user_id").first())
    if grant is None:
        sys.exit("No generated moderator: run `localsocial generate` first.")
    user = grant.user
    device, _ = StaticDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore()
    request = HttpRequest()
    request.session = store
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    # The first backend that can load the user back from the session (the rules backend only
    # answers permission questions).
    backend = next(path for path in settings.AUTHENTICATION_BACKENDS
                   if hasattr(import_string(path), "get_user"))
    login(request, user, backend=backend)
    request.user = user  # what the middleware would have set; otp_login checks it
    otp_login(request, device)
    request.session.save()
    return f"{settings.SESSION_COOKIE_NAME}={request.session.session_key}"


if __name__ == "__main__":
    commands = {"urls": lambda: "\n".join(urls()), "counts": lambda: json.dumps(counts()),
                "story-urls": lambda: "\n".join(story_urls()),
                "story-counts": lambda: json.dumps(story_counts()), "session": session}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    print(commands[sys.argv[1]]())
