"""What the benchmark needs from the database it just generated.

    python bench/inspect_db.py urls     # --url arguments for bench/load.py, one a line
    python bench/inspect_db.py counts   # row counts and database size, as JSON

Run with the same environment as the server (DATABASE_URL and so on).
"""

from __future__ import annotations

import json
import os
import random
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "localsocial.config.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402

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


if __name__ == "__main__":
    if sys.argv[1:] == ["urls"]:
        print("\n".join(urls()))
    elif sys.argv[1:] == ["counts"]:
        print(json.dumps(counts()))
    else:
        sys.exit(__doc__)
