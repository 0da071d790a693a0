"""Time ``directory_search`` at two scales in one process: the median and 95th percentile of
``--runs`` calls per search, common words, rare ones and prefixes (the last word typed), and how much slower the big directory
is (95th percentile at the big scale / at the small one).  Read-only.

Make the two databases first (see docs/directory.md, "Search"):

    createdb ls_search1; createdb ls_search30
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/ls_search30 localsocial migrate
    DEBUG=1 DATABASE_URL=…/ls_search30 localsocial generate --scale 30 --stories 0 --circles 0 \\
        --circle-members 0 --circle-helpers 0 --circle-visits 0 --ledger-entries 0
    (the same with ls_search1 and --scale 1)
    psql …/ls_search30 -c 'VACUUM ANALYZE directory_search_term'   (and ls_search1)

(generate only ANALYZEs: until a VACUUM, or autovacuum, sets the visibility map, every
index-only scan counts as heap reads, plans look costly and PostgreSQL compiles them with JIT,
which adds 100 ms and more to a search), then:

    .venv/bin/python bench/directory_search.py [--small ls_search1] [--big ls_search30] \\
        [--runs 50] [--write bench/RESULTS.md]

``--write`` replaces the "## Directory search" section of that file with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchdb import section_write

SERVER = "postgres://postgres@127.0.0.1:5432"
COMMON = ["hospital", "council", "school", "clinic", "general hospital"]
RARE = ["zebra crossing", "ashbury general hospital"]
# Searches as people type them: the last word is also the start of a word (3 letters or more).
PREFIX = ["hosp", "bro", "general hosp", "brightc", "the royal infirm"]
TARGET_P95_MS = 100.0
TARGET_GROWTH = 1.5


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _codes() -> list[str]:
    """A real ODS code and a postcode district from the database in use."""
    from localsocial.directory.models import Organisation

    found = []
    ods = Organisation.objects.exclude(ods_code=None).order_by("id").values_list("ods_code", flat=True).first()
    if ods:
        found.append(ods)
    postcode = Organisation.objects.exclude(postcode="").order_by("id").values_list("postcode", flat=True).first()
    if postcode:
        found.append(postcode.split()[0])
    return found


def _measure(databases: list[str], terms: list[str], runs: int) -> dict[str, dict[str, tuple[float, float, int, bool]]]:
    """For each database and term: (median ms, p95 ms, results on the first page, cut to the
    best N).  The databases take turns call by call (one open connection each), so that other
    work on the machine slows both alike and the growth between them stays fair."""
    from django.db import connections
    from django.db.utils import load_backend

    from localsocial.directory.models import Organisation, Service
    from localsocial.directory.selectors import directory_search

    base = connections["default"].settings_dict
    wrappers = {}
    for name in databases:
        settings_dict = {**base, "NAME": name}
        wrappers[name] = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")
    results: dict[str, dict[str, tuple[float, float, int, bool]]] = {name: {} for name in databases}
    for name in databases:
        connections["default"] = wrappers[name]
        size = Organisation.objects.count() + Service.objects.count()
        print(f"{name}: {size:,} organisations and services", flush=True)
        results[name]["_size"] = (size, 0, 0, False)
    for term in terms:
        times: dict[str, list[float]] = {name: [] for name in databases}
        pages = {}
        for run in range(runs + 3):  # the first 3 warm the caches
            for name in databases:
                connections["default"] = wrappers[name]
                started = time.perf_counter()
                pages[name] = directory_search(query=term, kind="all", cursor=None, page_size=20)
                if run >= 3:
                    times[name].append((time.perf_counter() - started) * 1000)
        for name in databases:
            results[name][term] = (
                statistics.median(times[name]), _p95(times[name]), len(pages[name].items), pages[name].cut_to is not None
            )
        print(f"  {term!r}: " + "; ".join(
            f"{name} median {results[name][term][0]:.1f} ms, p95 {results[name][term][1]:.1f} ms" for name in databases
        ), flush=True)
    for wrapper in wrappers.values():
        wrapper.close()
    return results


def _measure_loaded(database: str, terms: list[str], runs: int, threads: int) -> tuple[float, float, float]:
    """Every term ``runs`` times from each of ``threads`` threads at once (each with its own
    connection): (median ms, p95 ms, calls per second)."""
    from django.db import connection, connections

    from localsocial.directory.selectors import directory_search

    connection.close()
    connection.settings_dict["NAME"] = database  # the threads' connections read the same settings

    def worker(_: int) -> list[float]:
        times = []
        try:
            for _ in range(runs):
                for term in terms:
                    started = time.perf_counter()
                    directory_search(query=term, kind="all", cursor=None, page_size=20)
                    times.append((time.perf_counter() - started) * 1000)
        finally:
            connections.close_all()
        return times

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        times = [t for batch in pool.map(worker, range(threads)) for t in batch]
    elapsed = time.perf_counter() - started
    return statistics.median(times), _p95(times), len(times) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", default="ls_search1")
    parser.add_argument("--big", default="ls_search30")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--threads", type=int, default=4, help="for the run under load (0: none)")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = f"{SERVER}/{args.small}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "localsocial.config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-directory-search-" + "x" * 60)
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import django

    django.setup()

    load_before = " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    started = dt.datetime.now(dt.UTC)
    # The codes of the big directory are looked up in both (a code missing from the small one
    # is a rare search there).
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = args.big
    terms = COMMON + RARE + PREFIX + _codes()
    connection.close()
    connection.settings_dict["NAME"] = args.small
    measured = _measure([args.small, args.big], terms, args.runs)
    small, big = measured[args.small], measured[args.big]
    loaded = {}
    if args.threads:
        for name in (args.small, args.big):
            loaded[name] = _measure_loaded(name, COMMON + PREFIX, max(1, args.runs // 5), args.threads)
            print(f"  under load, {name}: median {loaded[name][0]:.1f} ms, p95 {loaded[name][1]:.1f} ms", flush=True)
    load_after = " / ".join(Path("/proc/loadavg").read_text().split()[:3])

    lines = [
        "## Directory search",
        "",
        f"`.venv/bin/python bench/directory_search.py --small {args.small} --big {args.big} --runs {args.runs} "
        f"--threads {args.threads}`"
        + (f" `--write {args.write}`" if args.write else ""),
        f"on {started:%Y-%m-%d %H:%M} UTC; load average (1 / 5 / 15 min) {load_before} before, {load_after} after.",
        f"`directory_search` called in one process (no web server), {args.runs} times per search after 3 to warm up "
        "(the two databases taking turns call by call),",
        f"first page of 20, kind \"all\"; PostgreSQL. Small: {int(small['_size'][0]):,} organisations and services; "
        f"big: {int(big['_size'][0]):,}. Target: p95 under {TARGET_P95_MS:.0f} ms at the big scale, "
        f"growth (p95 big / p95 small) at most {TARGET_GROWTH}x.",
        "",
        "| search | small median | small p95 | big median | big p95 | growth (p95) | cut to best 500 (big) |",
        "|---|---|---|---|---|---|---|",
    ]
    worst_p95 = 0.0
    worst_growth = 0.0
    for term in terms:
        s, b = small[term], big[term]
        growth = b[1] / s[1] if s[1] else float("inf")
        worst_p95 = max(worst_p95, b[1])
        worst_growth = max(worst_growth, growth)
        kind = "common" if term in COMMON else "prefix" if term in PREFIX else "rare"
        lines.append(
            f"| `{term}` ({kind}) | {s[0]:.1f} ms | {s[1]:.1f} ms | {b[0]:.1f} ms | {b[1]:.1f} ms | "
            f"{growth:.2f}x | {'yes' if b[3] else 'no'} |"
        )
    lines += [
        "",
        f"Worst p95 at the big scale: {worst_p95:.1f} ms ({'within' if worst_p95 < TARGET_P95_MS else 'over'} the "
        f"{TARGET_P95_MS:.0f} ms target); worst growth {worst_growth:.2f}x "
        f"({'within' if worst_growth <= TARGET_GROWTH else 'over'} the {TARGET_GROWTH}x target).",
        "",
    ]
    if loaded:
        lines += [
            f"Under load: {args.threads} threads at once (one connection each), each calling the common and prefix searches "
            f"{max(1, args.runs // 5)} times in turn:",
            "",
            "| database | median | p95 | calls per second |",
            "|---|---|---|---|",
            *(f"| {name} | {m:.1f} ms | {p:.1f} ms | {rate:.0f} |" for name, (m, p, rate) in loaded.items()),
            "",
        ]
    text = "\n".join(lines)
    print()
    print(text)
    if args.write:
        section_write(args.write, "Directory search", text)


if __name__ == "__main__":
    main()
