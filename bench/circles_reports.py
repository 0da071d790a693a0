"""The circle reports' selectors on PostgreSQL at scale: one big circle (``--members``
members, ``--visits`` completed visits over two years, each paid by a ledger transfer of two
entries, a fee payment and a membership year per member, helpers of each kind, savings
proxies), then each selector of ``circles.selectors.reports`` timed over the default period
(the last twelve months) and over two years (median of 5 calls, with its query count), and the
whole reports page through Django's test client.

    .venv/bin/python bench/circles_reports.py [--members 20000] [--visits 200000] [--fresh] \\
        [--write bench/RESULTS.md]

It makes (or reuses) its own database, ``localsocial_bench_circles_reports``, on the server in
``BENCH_PG`` (default postgres://postgres@127.0.0.1:5432).  Rows are written with
``bulk_create`` (ledger triggers off during the load: session_replication_role = replica),
then the timestamps Django sets itself (``auto_now_add``) are spread over two years with one
UPDATE each (triggers still off), and the reports' daily totals are rebuilt
(``localsocial circles_totals --rebuild``, decision 0013).  The page is timed over 20 requests
(median and 95th percentile).  ``--write`` replaces the "## Circles reports" section of the results file (and
nothing else).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchdb import database_ensure, django_setup, section_write, timed

DB_NAME = "localsocial_bench_circles_reports"
SLUG = "bench-reports"
RUNS = 5
BATCH = 5000
HELPERS = 300
# The run before decision 0013 (2026-11-27 14:56 UTC, same data, load average 8.7 to 10.8): the
# selectors counted the raw rows.  Kept to show the change side by side.
BEFORE_RUN = "2026-11-27 14:56 UTC"
BEFORE_PAGE_MS = 2614
BEFORE_MEDIAN_MS = {
    ("members_report", "last 12 months"): 123.7, ("helpers_report", "last 12 months"): 11.3,
    ("help_report", "last 12 months"): 368.6, ("wait_report", "last 12 months"): 419.2,
    ("tokens_report", "last 12 months"): 990.5, ("money_report", "last 12 months"): 16.2,
    ("savings_estimate", "last 12 months"): 245.5, ("members_report", "2 years"): 84.7,
    ("helpers_report", "2 years"): 8.9, ("help_report", "2 years"): 936.2, ("wait_report", "2 years"): 845.5,
    ("tokens_report", "2 years"): 1190.9, ("money_report", "2 years"): 31.9, ("savings_estimate", "2 years"): 412.5,
}
# How long the last generation took, kept for the report of a later run that reuses the data.
GENERATION_LOG = Path("/tmp/localsocial-bench-circles-reports-generation.json")


def generate(members: int, visits: int) -> list[tuple[str, float]]:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from localsocial.accounts.models import User
    from localsocial.circles.models import (
        Account,
        AccountKind,
        Circle,
        CircleCoordinator,
        Entry,
        HelpCategory,
        Helper,
        HelperKind,
        HelpRequest,
        Match,
        Member,
        MembershipYear,
        Payment,
        SavingsProxy,
        Transfer,
        Visit,
    )
    from localsocial.circles.services.ledger import circle_accounts_ensure

    timings: list[tuple[str, float]] = []
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    started = timed("migrate", started, timings)
    if Circle.objects.filter(slug=SLUG).exists():
        print("Reusing the generated circle", flush=True)
        return [tuple(step) for step in json.loads(GENERATION_LOG.read_text())] if GENERATION_LOG.exists() else []
    circle = Circle.objects.create(name="Bench reports circle", slug=SLUG, minimum_balance_quarters=-1000)
    own = circle_accounts_ensure(circle=circle)
    coordinator = User.objects.create(email="reports-bench-coordinator@example.org", display_name="Coordinator",
                                      password="!")
    CircleCoordinator.objects.create(circle=circle, user=coordinator)
    now = timezone.now()
    today = timezone.localdate()
    users = User.objects.bulk_create(
        [User(email=f"reports-bench-{n}@example.org", display_name=f"Member {n}", password="!")
         for n in range(members + HELPERS)], batch_size=BATCH,
    )
    people = Member.objects.bulk_create(
        [Member(circle=circle, user=u, display_name=u.display_name, eligibility_confirmed=True,
                status="lapsed" if n % 10 == 0 else "active") for n, u in enumerate(users[:members])],
        batch_size=BATCH,
    )
    accounts = Account.objects.bulk_create(
        [Account(circle=circle, kind=AccountKind.MEMBER, member=m, minimum_quarters=-1000) for m in people],
        batch_size=BATCH,
    )
    started = timed(f"{members:,} users, members and accounts", started, timings)
    kinds = [HelperKind.VOLUNTEER, HelperKind.PAID, HelperKind.VOLUNTEER]
    helpers = Helper.objects.bulk_create(
        [Helper(circle=circle, user=u, kind=kinds[n % 3], display_name=f"Helper {n}",
                hourly_rate_pence=1200 if kinds[n % 3] == HelperKind.PAID else None, dbs_status="clear",
                dbs_checked_on=today - dt.timedelta(days=100), dbs_expires_on=today + dt.timedelta(days=n % 400),
                references_checked=True, training_completed_on=today - dt.timedelta(days=90))
         for n, u in enumerate(users[members:])],
        batch_size=BATCH,
    )
    payments = Payment.objects.bulk_create(
        [Payment(circle=circle, member=m, purpose="fee", method="cash", status="succeeded", amount_pence=1000,
                 idempotency_key=f"fee-{m.pk}", completed_at=now - dt.timedelta(days=(n * 7) % 730))
         for n, m in enumerate(people)],
        batch_size=BATCH,
    )
    MembershipYear.objects.bulk_create(
        [MembershipYear(member=m, starts_on=p.completed_at.date(), ends_on=p.completed_at.date() + dt.timedelta(days=365),
                        fee_pence=1000, payment=p if n % 10 else None)
         for n, (m, p) in enumerate(zip(people, payments, strict=True))],
        batch_size=BATCH,
    )
    SavingsProxy.objects.bulk_create(
        [SavingsProxy(circle=circle, category=c, value_pence=1500 + 100 * n, attribution_percent=50,
                      source="Example value for the bench", updated_by=coordinator)
         for n, c in enumerate(list(HelpCategory)[:5])]
    )
    started = timed(f"{HELPERS} helpers, {members:,} payments and years, proxies", started, timings)
    categories = list(HelpCategory)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")  # no ledger triggers during the load
        for first in range(0, visits, BATCH):
            count = min(BATCH, visits - first)
            done = [now - dt.timedelta(minutes=(first + i) * 525_600 * 2 // visits) for i in range(count)]
            requests = HelpRequest.objects.bulk_create([
                HelpRequest(circle=circle, member=people[(first + i) % members], category=categories[(first + i) % 7],
                            description="Bench help", starts_at=done[i], estimated_quarters=4, place="out",
                            status="done", idempotency_key=f"r-{first + i}")
                for i in range(count)
            ])
            matches = Match.objects.bulk_create([
                Match(request=r, helper=helpers[(first + i) % HELPERS], status="accepted", responded_at=done[i])
                for i, r in enumerate(requests)
            ])
            quarters = [2 + (first + i) % 7 for i in range(count)]
            transfers = Transfer.objects.bulk_create([
                Transfer(circle=circle, kind="help", idempotency_key=f"visit-load-{first + i}") for i in range(count)
            ])
            Entry.objects.bulk_create([
                Entry(transfer=t, account=account, quarters=q)
                for i, t in enumerate(transfers)
                for account, q in ((accounts[(first + i) % members], -quarters[i]), (own[AccountKind.HELP], quarters[i]))
            ])
            Visit.objects.bulk_create([
                Visit(circle=circle, request=r, match=m, helper=m.helper, planned_start=done[i] - dt.timedelta(hours=2),
                      planned_end=done[i] - dt.timedelta(hours=1), checked_in_at=done[i] - dt.timedelta(hours=2),
                      checked_out_at=done[i] - dt.timedelta(hours=1), coordinator_confirmed_at=done[i],
                      completed_at=done[i], quarters=quarters[i], payment="paid", transfer=transfers[i])
                for i, (r, m) in enumerate(zip(requests, matches, strict=True))
            ])
    started = timed(f"{visits:,} requests, matches, visits and help transfers ({2 * visits:,} entries)", started,
                    timings)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # ledger rows refuse updates otherwise
        # The times Django sets itself, spread over two years (requests a few days before their visit).
        cursor.execute("UPDATE circles_member SET joined_at = now() - (id %% 730) * interval '1 day' WHERE circle_id = %s",
                       [circle.pk])
        cursor.execute(
            "UPDATE circles_helprequest r SET created_at = v.checked_in_at - (r.id %% 240) * interval '1 hour' "
            "FROM circles_visit v WHERE v.request_id = r.id AND r.circle_id = %s", [circle.pk])
        cursor.execute(
            "UPDATE circles_transfer t SET created_at = v.completed_at FROM circles_visit v "
            "WHERE v.transfer_id = t.id AND t.circle_id = %s", [circle.pk])
        cursor.execute(
            "UPDATE circles_account a SET balance_quarters = s.total FROM (SELECT account_id, SUM(quarters) AS total "
            "FROM circles_entry GROUP BY account_id) s WHERE a.id = s.account_id AND a.circle_id = %s", [circle.pk])
    started = timed("timestamps and balances", started, timings)
    # The load ran with the triggers off: work the reports' daily totals out (decision 0013).
    call_command("circles_totals", "--rebuild", verbosity=0)
    started = timed("circles_totals --rebuild", started, timings)
    with connection.cursor() as cursor:
        for table in ("circles_member", "circles_helprequest", "circles_visit", "circles_transfer", "circles_entry",
                      "circles_payment", "circles_membershipyear", "circles_helper", "circles_account",
                      "circles_ledgerdaytotal", "circles_helprequestdaytotal", "circles_visitdaytotal",
                      "circles_visitwait", "circles_waitdaytotal"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    timed("vacuum analyse", started, timings)
    GENERATION_LOG.write_text(json.dumps(timings))
    return timings


def time_selectors() -> list[dict[str, Any]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from localsocial.circles.models import Circle
    from localsocial.circles.selectors import reports

    circle = Circle.objects.get(slug=SLUG)
    start, end = reports.default_period()
    two_years = (end - dt.timedelta(days=730), end)
    rows = []
    selectors = [
        ("members_report", reports.members_report), ("helpers_report", reports.helpers_report),
        ("help_report", reports.help_report), ("wait_report", reports.wait_report),
        ("tokens_report", reports.tokens_report), ("money_report", reports.money_report),
        ("savings_estimate", reports.savings_estimate),
    ]
    for label, period in (("last 12 months", (start, end)), ("2 years", two_years)):
        for name, select in selectors:
            times = []
            for _ in range(RUNS):
                with CaptureQueriesContext(connection) as queries:
                    began = time.perf_counter()
                    select(circle=circle, start=period[0], end=period[1])
                    times.append((time.perf_counter() - began) * 1000)
            rows.append({"selector": name, "period": label, "median": statistics.median(times), "min": min(times),
                         "queries": len(queries.captured_queries)})
            print(f"  {name} ({label}): median {rows[-1]['median']:.1f} ms, {rows[-1]['queries']} queries", flush=True)
    return rows


def time_page() -> dict[str, Any]:
    from django.core.management import call_command
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_static.models import StaticDevice

    from localsocial.accounts.models import User

    if not (Path(os.environ["STATIC_ROOT"]) / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    user = User.objects.get(email="reports-bench-coordinator@example.org")
    device, _created = StaticDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    url = f"/circles/{SLUG}/coordinate/reports/"
    times = []
    for n in range(RUNS * 4 + 1):
        began = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - began) * 1000
        if response.status_code != 200:
            raise SystemExit(f"The reports page answered {response.status_code}")
        if n:  # the first is a warm-up
            times.append(elapsed)
    p95 = statistics.quantiles(times, n=20, method="inclusive")[-1]
    print(f"  reports page: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms", flush=True)
    return {"median": statistics.median(times), "p95": p95, "min": min(times), "max": max(times)}


def _load_average() -> str:
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _before(row: dict[str, Any]) -> str:
    before = BEFORE_MEDIAN_MS.get((row["selector"], row["period"]))
    return f"{before:.1f}" if before is not None else ""


def report(args: argparse.Namespace, timings: list[tuple[str, float]], rows: list[dict[str, Any]],
           page: dict[str, Any], load_before: str) -> str:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    lines = [
        "## Circles reports",
        "",
        "Written by `bench/circles_reports.py`; every figure below was measured in the run described here.",
        "",
        f"- **Date:** {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- **Command:** `.venv/bin/python bench/circles_reports.py --members {args.members} --visits {args.visits}"
        f"{' --fresh' if args.fresh else ''} --write bench/RESULTS.md`",
        f"- **Machine:** {os.cpu_count()} cores, Linux {platform.release()}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, PostgreSQL {pg} (default settings, same machine); load average "
        f"before / after: {load_before} / {_load_average()} (shared with other work: expect noise)",
        f"- **Data:** one circle, {args.members:,} members (a fee payment and a membership year each), {HELPERS} "
        f"helpers, {args.visits:,} completed visits spread evenly over two years, each with its request, match and "
        f"a help transfer of two ledger entries; database {size}",
        "",
    ]
    if timings:
        reused = " (in an earlier run with --fresh; this run reused the data)" if not args.fresh else ""
        lines += [f"### Generating the data{reused}", "", "| Step | Seconds |", "|---|---:|"]
        lines += [f"| {label} | {seconds:.1f} |" for label, seconds in timings]
        lines.append("")
    lines += [
        f"### Selectors (median of {RUNS} calls, in one process, no cache)",
        "",
        f"| Selector | Period | Queries | Median ms | Min ms | Before: median ms ({BEFORE_RUN}) |",
        "|---|---|---:|---:|---:|---:|",
        *[f"| `{r['selector']}` | {r['period']} | {r['queries']} | {r['median']:.1f} | {r['min']:.1f} | "
          f"{_before(r)} |" for r in rows],
        "",
        f"Reports page (all seven, charts and template, Django's test client, signed in as the coordinator; "
        f"{RUNS * 4} requests after one warm-up): **median {page['median']:.0f} ms, p95 {page['p95']:.0f} ms** "
        f"(min {page['min']:.0f}, max {page['max']:.0f}). Before (counting the raw rows, {BEFORE_RUN}): "
        f"median {BEFORE_PAGE_MS} ms.",
        "",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--members", type=int, default=20_000, help="Members to generate (default 20,000).")
    parser.add_argument("--visits", type=int, default=200_000, help="Completed visits to generate (default 200,000).")
    parser.add_argument("--fresh", action="store_true", help="Drop and re-create the bench database first.")
    parser.add_argument("--write", type=Path, default=None, help="Write the results section into this file.")
    args = parser.parse_args()
    server = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    url = database_ensure(server, DB_NAME, fresh=args.fresh)
    django_setup(url, bench="reports")
    load_before = _load_average()
    print(f"Database {DB_NAME}: {args.members:,} members, {args.visits:,} visits", flush=True)
    timings = generate(args.members, args.visits)
    print("Selectors", flush=True)
    rows = time_selectors()
    page = time_page()
    section = report(args, timings, rows, page, load_before)
    print(section)
    if args.write:
        section_write(args.write, "Circles reports", section)
        print(f"Wrote the Circles reports section of {args.write}")


if __name__ == "__main__":
    main()
