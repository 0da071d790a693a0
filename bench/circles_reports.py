"""The circle reports' selectors on PostgreSQL at scale: one big circle (``--members``
members, ``--visits`` completed visits over two years, each paid by a ledger transfer of two
entries, a fee payment and a membership year per member, helpers of each kind, savings
proxies), then each selector of ``circles.selectors.reports`` timed over the default period
(the last twelve months) and over two years (median of 5 calls, with its query count), and the
whole reports page through Django's test client.

    .venv/bin/python bench/circles_reports.py [--members 20000] [--visits 200000] [--fresh] \\
        [--database NAME] [--write bench/RESULTS.md]

It makes (or reuses) its own database, ``localsocial_bench_circles_reports`` (or
``--database``), on the server in ``BENCH_PG`` (default postgres://postgres@127.0.0.1:5432).
The data comes from ``localsocial generate`` (circles' steps, ``circles/generate.py``:
``--circles 1 --circle-members M --circle-helpers 300 --circle-visits V``), which writes the
rows with COPY and the ledger's and totals' triggers off, with their times spread over two
years, then sets the balances and works the reports' daily totals out (decision 0013).  The page is timed over 20 requests
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

from benchdb import database_ensure, django_setup, generated_data, section_write, timed

DB_NAME = "localsocial_bench_circles_reports"
RUNS = 5
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
    """The bench circle, from ``localsocial generate``: one circle of ``members`` members (a
    fee payment and a membership year each, nine in ten paid), HELPERS helpers, ``visits``
    completed visits over two years with their requests, matches and help transfers, savings
    values and a coordinator; the reports' daily totals worked out by the generator."""
    from django.core.management import call_command
    from django.db import connection

    from localsocial.circles.generate import generated_circles

    timings: list[tuple[str, float]] = []
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    started = timed("migrate", started, timings)
    if generated_circles().exists():
        print("Reusing the generated circle", flush=True)
        return [tuple(step) for step in json.loads(GENERATION_LOG.read_text())] if GENERATION_LOG.exists() else []
    generated_data({"circles": 1, "circle-members": members, "circle-helpers": HELPERS, "circle-visits": visits,
                    "ledger-entries": 0}, people=members + HELPERS, timings=timings)
    started = time.monotonic()
    with connection.cursor() as cursor:
        for table in ("circles_member", "circles_helprequest", "circles_visit", "circles_transfer", "circles_entry",
                      "circles_payment", "circles_membershipyear", "circles_helper", "circles_account",
                      "circles_ledgerdaytotal", "circles_helprequestdaytotal", "circles_visitdaytotal",
                      "circles_visitwait", "circles_waitdaytotal"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    timed("vacuum analyse", started, timings)
    GENERATION_LOG.write_text(json.dumps(timings))
    return timings


def _circle() -> Any:
    from localsocial.circles.generate import generated_circles

    return generated_circles().order_by("pk").first()


def time_selectors() -> list[dict[str, Any]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from localsocial.circles.selectors import reports

    circle = _circle()
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

    if not (Path(os.environ["STATIC_ROOT"]) / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    circle = _circle()
    user = circle.coordinators.select_related("user").order_by("pk").first().user
    device, _created = StaticDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    url = f"/circles/{circle.slug}/coordinate/reports/"
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
        f"- **Data:** one circle, {args.members:,} members (a membership year each, nine in ten paid), {HELPERS} "
        f"helpers, {args.visits:,} completed visits spread evenly over two years, each with its request, match and "
        f"a help transfer of two ledger entries, the tokens members bought to pay for them and their welcome "
        f"tokens (`localsocial generate`); database {size}",
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
    parser.add_argument("--database", default=DB_NAME, help=f"The bench database's name (default {DB_NAME}).")
    parser.add_argument("--write", type=Path, default=None, help="Write the results section into this file.")
    args = parser.parse_args()
    server = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    url = database_ensure(server, args.database, fresh=args.fresh)
    django_setup(url, bench="reports")
    load_before = _load_average()
    print(f"Database {args.database}: {args.members:,} members, {args.visits:,} visits", flush=True)
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
