"""Requests per second of the public pages beside the bare view, in one run, with wrk.

gunicorn (2 workers, production settings, Redis, PostgreSQL) serves the pages to a visitor
(wrk sends no cookie), first with the page cache on, then off; ``/bench/bare`` (no template, no
query, the same middleware) is measured in each of the two runs, and every page's requests per
second are given as a fraction of the bare view's from the same run.  With the cache on, a Lua
script counts the ``X-Page-Cache`` answers, so the hit ratio is measured, not assumed.

    DATABASE_URL=postgres://…/ls_perf .venv/bin/python bench/page_speed.py [--seconds 10] [--connections 8] [--write bench/RESULTS.md]

The database must hold generated data (``localsocial generate``); nothing is written to it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
TITLE = "Public pages with wrk: cached and uncached beside the bare view"
LUA = """
hits, misses, other = 0, 0, 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body)
  local state = headers["X-Page-Cache"]
  if state == "hit" then hits = hits + 1 elseif state == "miss" then misses = misses + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local h, m, o = 0, 0, 0
  for _, t in ipairs(threads) do h = h + t:get("hits"); m = m + t:get("misses"); o = o + t:get("other") end
  io.write(string.format("CACHE %d %d %d\\n", h, m, o))
  io.write(string.format("LATENCY %f %f %f\\n", latency:percentile(50) / 1000, latency:percentile(95) / 1000,
                         latency:percentile(99) / 1000))
end
"""


def environment(port: int, cache_on: bool, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"LOCALSOCIAL_TESTING", "TASKS_BACKEND"}}
    env.update({
        "DJANGO_SETTINGS_MODULE": "localsocial.config.settings", "DEBUG": "0",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(40), "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0", "LOCALSOCIAL_BENCH": "1",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
        "CACHE_KEY_PREFIX": f"page-speed-{os.getpid()}-{int(cache_on)}",
        "STATIC_ROOT": str(work / "static"), "LOCALSOCIAL_VAR": str(work / "var"),
        "PAGE_CACHE_ENABLED": "1" if cache_on else "0", "PYTHONPATH": str(ROOT / "src"),
    })
    return env


def wait_healthy(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not become healthy within 60 s")


def urls(env: dict[str, str]) -> list[tuple[str, str]]:
    code = (
        "import django, json; django.setup();"
        "from localsocial.stories.models import Story;"
        "from localsocial.directory.models import Organisation, Service;"
        "from localsocial.circles.models import Circle;"
        "s = Story.objects.filter(status='published').order_by('-response_count', '-pk').first();"
        "o = Organisation.objects.filter(parent__isnull=True).order_by('pk').first();"
        "v = Service.objects.order_by('pk').first(); c = Circle.objects.order_by('pk').first();"
        "print(json.dumps([s.pk, o.slug, v.slug, c.slug if c else None]))"
    )
    out = subprocess.run([str(BIN / "python"), "-c", code], env=env, capture_output=True, text=True, check=True)
    story, org, service, circle = json.loads(out.stdout.strip().splitlines()[-1])
    found = [("home", "/"), ("story list", "/stories/"), ("story page", f"/stories/{story}/"),
             ("organisation stories", f"/stories/organisations/{org}/"),
             ("organisation", f"/directory/organisations/{org}/"), ("service", f"/directory/services/{service}/"),
             ("directory", "/directory/")]
    if circle:
        found.append(("circle", f"/circles/{circle}/"))
    return found


def wrk(port: int, path: str, seconds: int, connections: int, script: Path) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}{path}"
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    hits, misses, other = (int(n) for n in re.search(r"CACHE (\d+) (\d+) (\d+)", out).groups())  # type: ignore[union-attr]
    p50, p95, p99 = (float(n) for n in re.search(r"LATENCY ([\d.]+) ([\d.]+) ([\d.]+)", out).groups())  # type: ignore[union-attr]
    return {"rps": rate, "errors": int(errors.group(1)) if errors else 0, "hits": hits, "misses": misses,
            "other": other, "p50": p50, "p95": p95, "p99": p99}


def run_server(cache_on: bool, args: argparse.Namespace, work: Path, script: Path) -> list[dict[str, Any]]:
    env = environment(args.port, cache_on, work)
    subprocess.run([str(BIN / "localsocial"), "collectstatic", "--no-input", "-v", "0"], env=env, check=True)
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "localsocial.config.wsgi:application", "--workers", "2",
         "--bind", f"127.0.0.1:{args.port}", "--log-level", "warning", "--error-logfile", str(work / "gunicorn.log")],
        env=env, start_new_session=True,
    )
    try:
        wait_healthy(args.port)
        rows = []
        pages = [("bare view", "/bench/bare"), *urls(env)]
        for label, path in pages:
            wrk(args.port, path, 2, args.connections, script)  # warm-up (and, cached, the first store)
            result = wrk(args.port, path, args.seconds, args.connections, script)
            rows.append({"label": label, "path": path, "cache": "on" if cache_on else "off", **result})
        return rows
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def report(rows: list[dict[str, Any]], args: argparse.Namespace, loads: list[float]) -> str:
    lines = [
        f"## {TITLE}", "",
        "Written by `bench/page_speed.py`; every figure below was measured in the run described here.", "",
        f"- **Date:** {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- **Command:** `DATABASE_URL=…/{os.environ.get('DATABASE_URL', '').rsplit('/', 1)[-1]} .venv/bin/python "
        f"bench/page_speed.py --seconds {args.seconds} --connections {args.connections} --write bench/RESULTS.md`",
        f"- **Machine:** {os.cpu_count()} cores, {platform.system()} {platform.release()}; gunicorn 2 sync workers, "
        "production settings, Redis cache, PostgreSQL; wrk (1 thread) on the same machine; load average before / "
        "after: " + " / ".join(f"{v:.2f}" for v in loads),
        "- **Ratio:** the page's requests per second over the bare view's in the same server run "
        "(cache on, or cache off). Hits: the share of measured answers served from the page cache.",
        "",
        "| Page | Path | Page cache | Req/s | Ratio to bare | Hits | p50 ms | p95 ms | p99 ms | Errors |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cache in ("on", "off"):
        run = [row for row in rows if row["cache"] == cache]
        bare = next(row for row in run if row["path"] == "/bench/bare")
        for row in run:
            answered = row["hits"] + row["misses"] + row["other"]
            hits = f"{row['hits'] / answered:.1%}" if cache == "on" and row["path"] != "/bench/bare" and answered else ""
            lines.append(
                f"| {row['label']} | `{row['path']}` | {cache} | {row['rps']:,.0f} | {row['rps'] / bare['rps']:.2f} | "
                f"{hits} | {row['p50']:.1f} | {row['p95']:.1f} | {row['p99']:.1f} | {row['errors']} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database with generated data.")
    loads_before = list(os.getloadavg())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        script = work / "count.lua"
        script.write_text(LUA)
        rows = run_server(True, args, work, script) + run_server(False, args, work, script)
    text = report(rows, args, loads_before + list(os.getloadavg()))
    print(text)
    if args.write is not None:
        sys.path.insert(0, str(ROOT / "bench"))
        from benchdb import section_write

        section_write(args.write, TITLE, text)


if __name__ == "__main__":
    main()
