"""A small, bounded HTTP load generator for Local Social's benchmarks.

Threads with ``http.client`` against 127.0.0.1 only: for each page in turn, a few warm-up
requests, then a fixed number of requests at a fixed concurrency, stopped early if a time cap
passes.  Prints requests/s and latency percentiles per page as a Markdown table (and writes
them as JSON with ``--json``).

    python bench/load.py --base http://127.0.0.1:8765 --requests 1000 --concurrency 8 \\
        --url "bare=/bench/bare" --url "organisation=/directory/organisations/a/,/directory/organisations/b/"

Each ``--url`` is ``label=path[,path…]``; several paths are requested in turn, so that a page
is measured across many records rather than one cached row.  ``--cookie label=name=value``
sends a cookie with that page's requests (a session, for signed-in pages).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import sys
import threading
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class PageResult:
    label: str
    paths: int
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    capped: bool


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


class Client:
    """One keep-alive connection per thread, reopened whenever the server closes it."""

    def __init__(self, host: str, port: int, timeout: float, cookie: str = "") -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.headers = {"Accept": "text/html", **({"Cookie": cookie} if cookie else {})}
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> int:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request("GET", path, headers=self.headers)
                response = self.conn.getresponse()
                response.read()
                if response.will_close:
                    self.conn.close()
                    self.conn = None
                return response.status
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    return 0
        return 0


def run_page(host: str, port: int, label: str, paths: list[str], *, requests: int,
             concurrency: int, duration: float, warmup: int, timeout: float,
             cookie: str = "") -> PageResult:
    """Warm up, then send ``requests`` GETs over ``concurrency`` threads (or stop at
    ``duration`` seconds) and return the figures."""
    warm = Client(host, port, timeout, cookie)
    for index in range(warmup):
        warm.get(paths[index % len(paths)])

    lock = threading.Lock()
    next_index = 0
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    deadline = time.perf_counter() + duration

    def worker() -> None:
        nonlocal next_index
        client = Client(host, port, timeout, cookie)
        while True:
            with lock:
                if next_index >= requests or time.perf_counter() > deadline:
                    return
                index = next_index
                next_index += 1
            started = time.perf_counter()
            status = client.get(paths[index % len(paths)])
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[str(status)] = statuses.get(str(status), 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    ordered = sorted(latencies)
    done = len(ordered)
    errors = sum(count for status, count in statuses.items() if status != "200")
    return PageResult(
        label=label, paths=len(paths), requests=done, errors=errors, seconds=round(seconds, 2),
        rps=round(done / seconds, 1) if seconds else 0.0,
        p50_ms=round(percentile(ordered, 0.50) * 1000, 1),
        p95_ms=round(percentile(ordered, 0.95) * 1000, 1),
        p99_ms=round(percentile(ordered, 0.99) * 1000, 1),
        max_ms=round((ordered[-1] if ordered else math.nan) * 1000, 1),
        statuses=statuses, capped=done < requests,
    )


def markdown(results: list[PageResult], baseline: str | None) -> str:
    """The figures as a Markdown table; with a baseline, each page's p50 beside it."""
    base = next((r for r in results if r.label == baseline), None)
    head = "| Page | Paths | Requests | Errors | Req/s | p50 ms | p95 ms | p99 ms | max ms |"
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    if base:
        head += " p50 - bare ms |"
        rule += "---:|"
    lines = [head, rule]
    for r in results:
        note = " (time cap)" if r.capped else ""
        line = (f"| {r.label}{note} | {r.paths} | {r.requests} | {r.errors} | {r.rps:.1f} | "
                f"{r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.p99_ms:.1f} | {r.max_ms:.1f} |")
        if base:
            line += f" {r.p50_ms - base.p50_ms:.1f} |"
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8765")
    parser.add_argument("--url", action="append", required=True, help="label=path[,path…]")
    parser.add_argument("--cookie", action="append", default=[],
                        help="label=name=value: a cookie for that page's requests")
    parser.add_argument("--requests", type=int, default=1000, help="requests per page")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60.0, help="time cap per page, s")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured requests per page")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--baseline", default="bare", help="label to compare pages with")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    base = urlsplit(args.base)
    if base.scheme != "http" or base.hostname not in LOOPBACK:
        parser.error("this load generator only talks to http on the loopback interface")
    if not (1 <= args.requests <= 100_000 and 1 <= args.concurrency <= 64
            and 0 < args.duration <= 600):
        parser.error("requests 1-100000, concurrency 1-64, duration up to 600 s")
    host, port = base.hostname or "127.0.0.1", base.port or 80

    cookies: dict[str, str] = {}
    for spec in args.cookie:
        label, _, cookie = spec.partition("=")
        if not label or "=" not in cookie:
            parser.error(f"bad --cookie {spec!r}: use label=name=value")
        cookies[label] = cookie
    results = []
    for spec in args.url:
        label, _, joined = spec.partition("=")
        paths = [p for p in joined.split(",") if p]
        if not label or not paths or not all(p.startswith("/") for p in paths):
            parser.error(f"bad --url {spec!r}: use label=/path[,/path…]")
        result = run_page(host, port, label, paths, requests=args.requests,
                          concurrency=args.concurrency, duration=args.duration,
                          warmup=args.warmup, timeout=args.timeout, cookie=cookies.get(label, ""))
        print(f"{label}: {result.requests} requests, {result.rps} req/s, "
              f"p50 {result.p50_ms} ms, p95 {result.p95_ms} ms, errors {result.errors} "
              f"{result.statuses}", file=sys.stderr)
        results.append(result)
    print(markdown(results, args.baseline))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump([asdict(r) for r in results], handle, indent=2)
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
