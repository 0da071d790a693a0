"""The token ledger on PostgreSQL at scale: a circle with millions of ledger entries, then

(a) transfers per second from 16 concurrent clients, each a process with its own connection,
    calling the real services (``tokens_pay_for_help``, ``tokens_grant``) with random payers,
    payees and amounts and some retried keys, for ``--seconds`` (and one client alone first, for
    the cost of a transfer without waiting on others); then ``ledger verify`` and the check of
    ``localsocial circles_totals``, which must both find nothing wrong;
(b) the statement page's p50/p95 through Django's test client (the whole middleware stack, the
    view, the selector and the template), for a member with a long history (first page and a
    page deep in it) and a member with a handful of entries.

    .venv/bin/python bench/ledger.py --entries 5000000 [--fresh] [--database NAME] [--write bench/RESULTS.md]

It makes (or reuses) its own database, ``localsocial_bench_ledger`` (or ``--database``), on
the server in ``BENCH_PG`` (default postgres://postgres@127.0.0.1:5432).  The data comes from
``localsocial generate`` (circles' steps, ``circles/generate.py``): ``--circles 1
--circle-members 10000 --ledger-entries N`` and nothing else of note, written with COPY and
the ledger's triggers off, then every cached balance set from the sum of its entries and the
daily totals worked out, so ``ledger verify`` proves the load consistent before anything is
measured.  ``--write`` replaces the "## Circles ledger" section of the results file (and
nothing else).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchdb import database_ensure, django_setup, generated_data, section_write, timed

DB_NAME = "localsocial_bench_ledger"
# How long the last generation took, kept for the report of a later run that reuses the data.
GENERATION_LOG = Path("/tmp/localsocial-bench-ledger-generation.json")
MEMBERS = 10_000
CLIENTS = 16


def generate(entries: int, members: int = MEMBERS) -> dict[str, Any]:
    """The bench circle, from ``localsocial generate``: one circle of ``members`` members and
    ``entries`` more ledger entries (grant and help pairs; the circle's first member, the
    "busy" one, gets a twentieth of them), and a "quiet" member with three entries."""
    from django.core.management import call_command
    from django.db import connection

    from localsocial.circles.generate import generated_circles

    timings: list[tuple[str, float]] = []
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    started = timed("migrate", started, timings)
    circle = generated_circles().order_by("pk").first()
    if circle is not None:
        existing = {"circle_id": circle.pk, **_accounts_of(circle.pk)}
        print(f"Reusing the generated circle {circle.pk} ({_count('circles_entry'):,} entries)")
        timings = json.loads(GENERATION_LOG.read_text()) if GENERATION_LOG.exists() else []
        return {**existing, "timings": timings, "reused": True}
    generated_data({"circles": 1, "circle-members": members, "circle-helpers": 1, "circle-visits": 0,
                    "ledger-entries": entries}, people=members + 1, timings=timings)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE circles_entry")
        cursor.execute("VACUUM ANALYZE circles_transfer")
        cursor.execute("VACUUM ANALYZE circles_account")
    started = timed("vacuum analyse", started, timings)
    circle = generated_circles().order_by("pk").get()
    GENERATION_LOG.write_text(json.dumps(timings))
    return {"circle_id": circle.pk, **_accounts_of(circle.pk), "timings": timings, "reused": False}


def _quiet_member(circle_id: int) -> int:
    """The quiet member's account: a member of their own (not generated) with three entries,
    made through the services like any other; made once."""
    from localsocial.accounts.models import User
    from localsocial.circles.models import AccountKind, Circle, Member
    from localsocial.circles.services.ledger import (
        circle_accounts_ensure,
        member_account_ensure,
        tokens_grant,
        tokens_pay_for_help,
    )

    circle = Circle.objects.get(pk=circle_id)
    user, _created = User.objects.get_or_create(email="ledger-bench-quiet@example.org",
                                                defaults={"display_name": "Quiet member", "password": "!"})
    member, _created = Member.objects.get_or_create(
        circle=circle, user=user, defaults={"display_name": "Quiet member", "eligibility_confirmed": True})
    account = member_account_ensure(member=member)
    own = circle_accounts_ensure(circle=circle)
    tokens_grant(circle=circle, member=member, quarters=8, idempotency_key="quiet-1", memo="Welcome tokens")
    tokens_pay_for_help(circle=circle, payer=account, payee=own[AccountKind.HELP], quarters=3,
                        idempotency_key="quiet-2", memo="Lift to the surgery")
    tokens_grant(circle=circle, member=member, quarters=4, idempotency_key="quiet-3")
    return account.pk


def _accounts_of(circle_id: int) -> dict[str, Any]:
    from localsocial.circles.models import Account

    quiet = _quiet_member(circle_id)
    members = list(Account.objects.filter(circle_id=circle_id, kind="member").exclude(pk=quiet).order_by("id")
                   .values_list("id", flat=True))
    own = dict(Account.objects.filter(circle_id=circle_id, member=None, helper=None).values_list("kind", "id"))
    # The generator gives the circle's first member a twentieth of the ledger pairs.
    return {"busy": members[0], "quiet": quiet, "members": members, "issuance": own["issuance"],
            "sales": own["sales"], "help": own["help"]}


def _count(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return int(cursor.fetchone()[0])


def totals_check() -> tuple[list[str], float]:
    """What ``localsocial circles_totals`` checks: the reports' daily totals against the rows."""
    from localsocial.circles.services.help_totals import help_totals_differences
    from localsocial.circles.services.ledger_totals import ledger_totals_differences

    started = time.monotonic()
    differences = ledger_totals_differences() + help_totals_differences()
    return differences, time.monotonic() - started


def verify() -> tuple[int, float, list[str]]:
    from localsocial.circles.selectors.ledger import ledger_verify

    started = time.monotonic()
    results = ledger_verify()
    elapsed = time.monotonic() - started
    failures = [f"{r.name}: {r.violations} ({'; '.join(r.examples[:3])})" for r in results if not r.ok]
    return sum(r.violations for r in results), elapsed, failures


# --- (a) Transfers per second -----------------------------------------------------------------

def _client(number: int, url: str, world: dict[str, Any], seconds: float, start_at: float, queue: Any) -> None:
    django_setup(url, bench="ledger")
    from localsocial.circles.models import Account, Circle, Member
    from localsocial.circles.services.ledger import (
        NotEnoughTokensError,
        tokens_grant,
        tokens_pay_for_help,
    )

    circle = Circle.objects.get(pk=world["circle_id"])
    randomness = random.Random(number)
    # A few hundred members a client: payers compete for the same accounts across clients.
    pool = world["members"][2:602]
    help_account = Account.objects.get(pk=world["help"])
    counts = {"made": 0, "replayed": 0, "refused": 0, "failed": 0}
    latencies: list[float] = []
    sent: list[tuple[str, str, int, int, int]] = []
    while time.time() < start_at:
        time.sleep(0.01)
    deadline = time.monotonic() + seconds
    step = 0
    while time.monotonic() < deadline:
        step += 1
        roll = randomness.random()
        retry = bool(sent) and roll < 0.1
        if retry:
            operation = randomness.choice(sent)  # the same request again: same key, same transfer
        else:
            payer, payee = randomness.sample(pool, 2)
            kind = "grant" if roll < 0.2 else ("help" if roll < 0.3 else "member")
            operation = (f"run-{start_at:.0f}-c{number}-{step}", kind, payer, payee, randomness.randint(1, 4))
            sent.append(operation)
        key, kind, payer, payee, quarters = operation
        began = time.perf_counter()
        try:
            if kind == "grant":
                member = Member(pk=Account.objects.values_list("member_id", flat=True).get(pk=payer), circle=circle)
                tokens_grant(circle=circle, member=member, quarters=quarters, idempotency_key=key)
            else:
                target = help_account if kind == "help" else Account(pk=payee, circle_id=circle.pk)
                tokens_pay_for_help(
                    circle=circle, payer=Account(pk=payer, circle_id=circle.pk), payee=target, quarters=quarters,
                    idempotency_key=key,
                )
            counts["replayed" if retry else "made"] += 1
        except NotEnoughTokensError:
            counts["refused"] += 1
        except Exception as error:  # counted: the bench reports any failure
            counts["failed"] += 1
            print(f"client {number}: {type(error).__name__}: {error}", file=sys.stderr)
        latencies.append(time.perf_counter() - began)
    queue.put((counts, latencies))


def throughput(url: str, world: dict[str, Any], seconds: float, clients: int = CLIENTS) -> dict[str, Any]:
    from django.db import connections

    from localsocial.circles.models import Transfer

    connections.close_all()
    before = Transfer.objects.count()
    connections.close_all()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    start_at = time.time() + 3
    processes = [context.Process(target=_client, args=(n, url, world, seconds, start_at, queue)) for n in range(clients)]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    counts = {k: sum(r[0][k] for r in results) for k in results[0][0]}
    latencies = sorted(x for r in results for x in r[1])
    made = Transfer.objects.count() - before
    requests = sum(counts.values())
    return {
        "clients": clients, "seconds": seconds, "requests": requests, "transfers_made": made, **counts,
        "requests_per_second": requests / seconds, "transfers_per_second": made / seconds,
        "p50_ms": 1000 * latencies[len(latencies) // 2], "p95_ms": 1000 * latencies[int(len(latencies) * 0.95)],
    }


# --- (b) The statement page -------------------------------------------------------------------

def statement_times(world: dict[str, Any], requests: int) -> list[dict[str, Any]]:
    from django.test import Client
    from django.urls import reverse

    from localsocial.circles.models import Account, Entry
    from localsocial.circles.selectors.ledger import statement_cursor_at

    rows = []
    for label, account_id, deep in [
        ("busy member, first page", world["busy"], False),
        ("busy member, a page half way back", world["busy"], True),
        ("quiet member (3 entries)", world["quiet"], False),
    ]:
        account = Account.objects.select_related("member__user").get(pk=account_id)
        client = Client()
        client.force_login(account.member.user)  # type: ignore[union-attr]
        path = reverse("circles:statement", kwargs={"account_id": account_id})
        if deep:
            ids = Entry.objects.filter(account_id=account_id).order_by("id").values_list("id", flat=True)
            middle = ids[ids.count() // 2]
            path += f"?cursor={statement_cursor_at(middle)}"
        for _ in range(20):  # warm up
            response = client.get(path)
            assert response.status_code == 200, (response.status_code, response.get("Location"))
        times = []
        for _ in range(requests):
            began = time.perf_counter()
            response = client.get(path)
            times.append(1000 * (time.perf_counter() - began))
            assert response.status_code == 200
        times.sort()
        rows.append({
            "label": label, "entries": Entry.objects.filter(account_id=account_id).count(), "requests": requests,
            "p50": statistics.median(times), "p95": times[int(len(times) * 0.95)], "max": times[-1],
        })
        print(f"  {label}: p50 {rows[-1]['p50']:.1f} ms, p95 {rows[-1]['p95']:.1f} ms", flush=True)
    return rows


# --- Report -----------------------------------------------------------------------------------

def _load_average() -> str:
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def report(args: argparse.Namespace, world: dict[str, Any], checks: dict[str, Any]) -> str:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    t = checks["throughput"]
    lines = [
        "## Circles ledger",
        "",
        "Written by `bench/ledger.py`; every figure below was measured in the run described here.",
        "",
        f"- **Date:** {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- **Command:** `.venv/bin/python bench/ledger.py --entries {args.entries} --members {args.members} "
        f"--seconds {args.seconds:g} --clients {args.clients} "
        f"--requests {args.requests}{' --fresh' if args.fresh else ''} --write bench/RESULTS.md`",
        f"- **Machine:** {os.cpu_count()} cores, Linux {platform.release()}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, PostgreSQL {pg} (default settings, same machine); load average "
        f"before / after: {checks['load_before']} / {_load_average()} (shared with other work: expect noise)",
        f"- **Data:** one circle, {args.members:,} members, {checks['entries']:,} entries in {checks['transfers']:,} "
        f"transfers; the busy member has {checks['busy_entries']:,} entries; database {size}",
        "",
    ]
    if world["timings"]:
        reused = " (in an earlier run of the same command with --fresh; this run reused the data)" if world["reused"] else ""
        lines += [f"### Generating the ledger{reused}", "", "| Step | Seconds |", "|---|---:|"]
        lines += [f"| {label} | {seconds:.1f} |" for label, seconds in world["timings"]]
        lines.append("")
    lines += [
        f"### Transfers with {t['clients']} concurrent clients",
        "",
        f"{t['clients']} processes, each with its own connection, calling the services for {t['seconds']:g} s: "
        "70% member pays member, 10% member pays the circle's help account, 10% grants "
        "(issuance -> member), 10% retries of a request already sent (same key, same transfer); "
        "payers drawn from 600 members, 1 to 4 quarter hours each.",
        "",
        "| Clients | Requests | Req/s | Transfers made | Transfers/s | Replayed retries "
        "| Refused (not enough tokens) | Failed | p50 ms | p95 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {r['clients']} | {r['requests']:,} | {r['requests_per_second']:,.0f} | {r['transfers_made']:,} | "
            f"{r['transfers_per_second']:,.0f} | {r['replayed']:,} | {r['refused']:,} | {r['failed']:,} | "
            f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} |"
            for r in (checks["baseline"], t)
        ],
        "",
        f"The one-client row ({checks['baseline']['seconds']:g} s) is the same work one request at a time: "
        "the cost of a transfer without any waiting on other clients.",
        "",
        f"`ledger verify` afterwards: **{checks['violations_after']} violations** "
        f"({checks['verify_after_s']:.1f} s over {checks['entries_after']:,} entries); before the run: "
        f"{checks['violations_before']} violations ({checks['verify_before_s']:.1f} s).",
        "",
        f"`circles_totals` check afterwards: **{len(checks['totals_after'])} differences** "
        f"({checks['totals_after_s']:.1f} s){': ' + '; '.join(checks['totals_after'][:3]) if checks['totals_after'] else ''}.",
        "",
        "### The statement page",
        "",
        f"Django's test client in one process (middleware, session, view, selector, template; no network), "
        f"{args.requests} requests each after 20 unmeasured.",
        "",
        "| Account | Entries | Requests | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['label']} | {r['entries']:,} | {r['requests']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} |"
        for r in checks["statement"]
    ]
    lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=5_000_000, help="Ledger entries to generate (default 5,000,000).")
    parser.add_argument("--members", type=int, default=MEMBERS, help=f"Members of the circle (default {MEMBERS:,}).")
    parser.add_argument("--seconds", type=float, default=20, help="How long the clients make transfers (default 20).")
    parser.add_argument("--clients", type=int, default=CLIENTS, help=f"Concurrent clients (default {CLIENTS}).")
    parser.add_argument("--requests", type=int, default=300, help="Statement requests per account (default 300).")
    parser.add_argument("--fresh", action="store_true", help="Drop and re-create the bench database first.")
    parser.add_argument("--database", default=DB_NAME, help=f"The bench database's name (default {DB_NAME}).")
    parser.add_argument("--write", type=Path, default=None, help="Write the results section into this file.")
    args = parser.parse_args()
    server = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    url = database_ensure(server, args.database, fresh=args.fresh)
    django_setup(url, bench="ledger")
    load_before = _load_average()
    print(f"Database {args.database}: generating {args.entries:,} entries", flush=True)
    world = generate(args.entries, args.members)
    checks: dict[str, Any] = {"load_before": load_before}
    print("ledger verify", flush=True)
    checks["violations_before"], checks["verify_before_s"], failures = verify()
    print(f"  {checks['violations_before']} violations in {checks['verify_before_s']:.1f} s {failures}", flush=True)
    baseline = min(10.0, args.seconds)
    print(f"1 client for {baseline:g} s", flush=True)
    checks["baseline"] = throughput(url, world, baseline, clients=1)
    print(f"  {checks['baseline']}", flush=True)
    print(f"{args.clients} clients for {args.seconds:g} s", flush=True)
    checks["throughput"] = throughput(url, world, args.seconds, clients=args.clients)
    print(f"  {checks['throughput']}", flush=True)
    checks["violations_after"], checks["verify_after_s"], failures = verify()
    print(f"ledger verify after: {checks['violations_after']} violations in {checks['verify_after_s']:.1f} s {failures}",
          flush=True)
    checks["totals_after"], checks["totals_after_s"] = totals_check()
    print(f"circles_totals after: {len(checks['totals_after'])} differences in {checks['totals_after_s']:.1f} s "
          f"{checks['totals_after'][:3]}", flush=True)
    checks["entries"] = checks["entries_after"] = _count("circles_entry")
    checks["transfers"] = _count("circles_transfer")
    from localsocial.circles.models import Entry

    checks["busy_entries"] = Entry.objects.filter(account_id=world["busy"]).count()
    print("statement page", flush=True)
    if not (Path(os.environ["STATIC_ROOT"]) / "staticfiles.json").exists():
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)  # production's manifest storage
    checks["statement"] = statement_times(world, args.requests)
    section = report(args, world, checks)
    print(section)
    if args.write:
        section_write(args.write, "Circles ledger", section)
        print(f"Wrote the Circles ledger section of {args.write}")
    if checks["violations_before"] or checks["violations_after"] or checks["totals_after"] \
            or checks["throughput"]["failed"] \
            or checks["baseline"]["failed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
