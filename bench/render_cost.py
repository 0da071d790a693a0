"""CPU per request of the public pages, in one process, beside the bare view.

Each page goes through Django's real WSGI handler (every middleware, the view, the template)
with production settings (DEBUG off, Redis cache) in three ways, side by side in one run:

* ``bare``: ``/bench/bare`` (no template, no query) — the framework's own cost;
* ``uncached``: a visitor with the page cache off, so every request renders the page;
* ``uncached, cold items``: the same with the remembered list items and dates emptied before
  each request (decision 0022), as for a page of stories no one has asked for yet;
* ``cached``: a visitor served from the page cache (every measured request a hit);
* ``signed in``: a signed-in person (never cached), for the pages they use.

It reports the mean and median CPU milliseconds per request (``time.process_time``; the load
of other work on the machine does not count, only its effect on caches) and each page's
requests per CPU-second as a fraction of the bare view's — the same ratio a server reaches
when the CPU is the limit.  Needs a database with generated data (``localsocial generate``):

    DATABASE_URL=postgres://…/ls_perf .venv/bin/python bench/render_cost.py [--requests 200] [--write bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "localsocial.config.settings")
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(40))
os.environ["ALLOWED_HOSTS"] = "127.0.0.1,testserver"
os.environ["SECURE_SSL_REDIRECT"] = "0"
os.environ["LOCALSOCIAL_BENCH"] = "1"
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
os.environ.setdefault("CACHE_KEY_PREFIX", f"render-cost-{os.getpid()}")
os.environ.setdefault("STATIC_ROOT", str(ROOT / "var" / "bench-static"))  # collected below
for name in ("LOCALSOCIAL_TESTING", "TASKS_BACKEND"):
    os.environ.pop(name, None)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

TITLE = "Render cost in one process"


def _environ(path: str, cookies: str = "") -> dict[str, Any]:
    url_path, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET", "PATH_INFO": url_path, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        "HTTP_COOKIE": cookies, "HTTP_ACCEPT_LANGUAGE": "en-GB",
    }


def request(handler: WSGIHandler, path: str, cookies: str = "") -> tuple[str, dict[str, str], bytes]:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"], captured["headers"] = status, dict(headers)

    body = b"".join(handler(_environ(path, cookies), start_response))
    return captured["status"], captured["headers"], body


def forget_items() -> None:
    """Empty the per-process tables of rendered list items and dates in words (decision 0022),
    so the next request renders every item as if no one had asked for it before."""
    from localsocial.core import jinja2env

    jinja2env._ITEM_HTML.clear()
    jinja2env._DATES.clear()


def measure(handler: WSGIHandler, path: str, *, requests: int, warmup: int, cookies: str = "",
            expect_cache: str | None = None, cold_items: bool = False) -> dict[str, Any]:
    for _ in range(warmup):
        status, headers, _body = request(handler, path, cookies)
        if not status.startswith("200"):
            raise SystemExit(f"{path}: {status}")
    cpu: list[float] = []
    for _ in range(requests):
        if cold_items:
            forget_items()
        started = time.process_time()
        status, headers, _body = request(handler, path, cookies)
        cpu.append((time.process_time() - started) * 1000)
        if expect_cache is not None and headers.get("X-Page-Cache") != expect_cache:
            raise SystemExit(f"{path}: expected a cache {expect_cache}, got {headers.get('X-Page-Cache')}")
    return {"mean_ms": statistics.fmean(cpu), "median_ms": statistics.median(cpu)}


def pages() -> list[tuple[str, str]]:
    from localsocial.circles.models import Circle
    from localsocial.directory.models import Organisation, Service
    from localsocial.stories.models import Story, StoryStatus

    story = Story.objects.filter(status=StoryStatus.PUBLISHED).order_by("-response_count", "-pk").first()
    org = Organisation.objects.filter(parent__isnull=True).order_by("pk").first()
    service = Service.objects.order_by("pk").first()
    circle = Circle.objects.order_by("pk").first()
    found = [("home", "/"), ("story list", "/stories/")]
    if story is not None:
        found.append(("story page", f"/stories/{story.pk}/"))
    if org is not None:
        found += [("organisation stories", f"/stories/organisations/{org.slug}/"),
                  ("organisation", f"/directory/organisations/{org.slug}/")]
    if service is not None:
        found.append(("service", f"/directory/services/{service.slug}/"))
    found.append(("directory", "/directory/"))
    if circle is not None:
        found.append(("circle", f"/circles/{circle.slug}/"))
    return found


def session_cookie(user: Any) -> str:
    """A session cookie for ``user``, two-step verified (staff need it)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cache import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_static.models import StaticDevice

    device, _ = StaticDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def signed_in_cookie() -> tuple[str, str] | None:
    """A session cookie for a generated moderator (two-step verified), and their queue."""
    from localsocial.accounts.models import RoleGrant, SiteRole

    grant = RoleGrant.objects.filter(role=SiteRole.MODERATOR).select_related("user").first()
    if grant is None:
        return None
    return session_cookie(grant.user), "/stories/moderation/"


def signed_in_pages() -> list[tuple[str, str, str]]:
    """(label, path, cookie) for the signed-in pages issue 11 names: the moderation queue and
    the story list as a moderator, the biggest organisation's dashboard as its staff, a
    circle's coordinator queue as its coordinator, and a member's statement as that member."""
    from django.db.models import Count

    from localsocial.circles.models import Account, CircleCoordinator
    from localsocial.directory.models import OrganisationMembership

    found: list[tuple[str, str, str]] = []
    moderator = signed_in_cookie()
    if moderator is not None:
        cookie, queue = moderator
        found += [("moderation queue", queue, cookie), ("story list", "/stories/", cookie)]
    staff = (OrganisationMembership.objects.filter(organisation__parent__isnull=True)
             .annotate(n=Count("organisation__memberships")).select_related("user", "organisation")
             .order_by("organisation_id").first())
    if staff is not None:
        found.append(("dashboard", f"/stories/organisations/{staff.organisation.slug}/dashboard/",
                      session_cookie(staff.user)))
    coordinator = CircleCoordinator.objects.select_related("user", "circle").order_by("pk").first()
    if coordinator is not None:
        found.append(("coordinator queue", f"/circles/{coordinator.circle.slug}/help/queue/",
                      session_cookie(coordinator.user)))
    account = (Account.objects.filter(member__user__isnull=False, member__status="active")
               .annotate(n=Count("entries")).select_related("member__user").order_by("-n", "pk").first())
    if account is not None:
        found.append(("statement", f"/circles/accounts/{account.pk}/statement/", session_cookie(account.member.user)))
    return found


def run(requests: int, warmup: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # the manifest storage needs it
    handler = WSGIHandler()
    load_before = os.getloadavg()
    bare = measure(handler, "/bench/bare", requests=requests, warmup=warmup)
    rows: list[dict[str, Any]] = [{"label": "bare view", "path": "/bench/bare", "how": "bare", **bare}]
    for label, path in pages():
        settings.PAGE_CACHE_ENABLED = False
        uncached = measure(handler, path, requests=requests, warmup=warmup)
        cold = measure(handler, path, requests=requests, warmup=warmup, cold_items=True)
        settings.PAGE_CACHE_ENABLED = True
        request(handler, path)  # stored
        cached = measure(handler, path, requests=requests, warmup=warmup, expect_cache="hit")
        rows.append({"label": label, "path": path, "how": "uncached", **uncached})
        rows.append({"label": label, "path": path, "how": "uncached, cold items", **cold})
        rows.append({"label": label, "path": path, "how": "cached", **cached})
    for label, path, cookie in signed_in_pages():
        result = measure(handler, path, requests=requests, warmup=warmup, cookies=cookie)
        rows.append({"label": label, "path": path, "how": "signed in", **result})
    load_after = os.getloadavg()
    for row in rows:
        row["ratio"] = bare["mean_ms"] / row["mean_ms"] if row["mean_ms"] else 0.0
    meta = {"load_before": load_before, "load_after": load_after}
    return rows, meta


def report(rows: list[dict[str, Any]], meta: dict[str, Any], requests: int, warmup: int, database: str) -> str:
    lines = [
        f"## {TITLE}", "",
        "Written by `bench/render_cost.py`; every figure below was measured in the run described here.", "",
        f"- **Date:** {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- **Command:** `DATABASE_URL=…/{database} .venv/bin/python bench/render_cost.py --requests {requests} "
        f"--warmup {warmup} --write bench/RESULTS.md`",
        f"- **Machine:** {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}, Django {django.get_version()}; load average before / after: "
        + " / ".join(f"{v:.2f}" for v in (*meta["load_before"], *meta["load_after"])),
        "- **What:** CPU milliseconds per request through Django's WSGI handler in one process "
        "(every middleware, view, template; Redis cache; PostgreSQL), production settings. "
        "`ratio` is the bare view's CPU per request over the page's: the fraction of the bare "
        "view's requests per second the page can serve when the CPU is the limit.",
        "",
        "| Page | Path | How | Mean ms | Median ms | Ratio to bare |",
        "|---|---|---|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(f"| {row['label']} | `{row['path']}` | {row['how']} | {row['mean_ms']:.2f} | "
                     f"{row['median_ms']:.2f} | {row['ratio']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--write", type=Path, default=None, help="replace this section of the results file")
    args = parser.parse_args()
    rows, meta = run(args.requests, args.warmup)
    database = str(settings.DATABASES["default"]["NAME"])
    text = report(rows, meta, args.requests, args.warmup, database)
    print(text)
    if args.write is not None:
        sys.path.insert(0, str(ROOT / "bench"))
        from benchdb import section_write

        section_write(args.write, TITLE, text)


if __name__ == "__main__":
    main()
