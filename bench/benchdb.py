"""What the Python bench scripts share: their own PostgreSQL database, Django set up against it,
their data from ``localsocial generate`` (the generator's engine, with each module's steps),
timed generation steps, and writing their section of bench/RESULTS.md.

Imported by the scripts in this folder (``python bench/ledger.py`` puts bench/ on the path)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def database_ensure(server: str, name: str, *, fresh: bool) -> str:
    """Create the bench database ``name`` on ``server`` if it is missing (drop it first when
    ``fresh``); its URL."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if fresh:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


def django_setup(url: str, *, bench: str) -> None:
    """Django against ``url``, as in production (DEBUG off) but served to the test client."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "localsocial.config.settings")
    os.environ.setdefault("SECRET_KEY", f"bench-{bench}-" + "x" * 60)
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")  # no TLS in front of the test client
    os.environ.setdefault("STATIC_ROOT", f"/tmp/localsocial-bench-{bench}-static")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def generated_data(counts: dict[str, int], *, people: int, timings: list[tuple[str, float]]) -> None:
    """Run ``localsocial generate`` (its engine, in this process) with ``counts`` for the
    modules' options (``{"circle-members": 10_000, …}``; no stories unless asked) at a scale
    that makes at least ``people`` people for them; each step's time goes into ``timings``."""
    from localsocial.core.generate import StepTiming, generate

    def report(timing: StepTiming) -> None:
        timings.append((f"generate: {timing.name} ({timing.rows:,} rows)" if timing.rows
                        else f"generate: {timing.name}", timing.seconds))
        print(f"  {timings[-1][0]}: {timing.seconds:.1f} s", flush=True)

    # A scale's people are 100,000 times it; staff and moderators (about 1.5%) are not used.
    scale = max(0.01, round(people * 1.05 / 100_000 + 0.005, 2))
    generate(scale=scale, counts={"stories": 0, **counts}, report=report)


def timed(label: str, started: float, timings: list[tuple[str, float]]) -> float:
    """Record and print how long a generation step took since ``started``; the next start."""
    elapsed = time.monotonic() - started
    timings.append((label, elapsed))
    print(f"  {label}: {elapsed:.1f} s", flush=True)
    return time.monotonic()


def section_write(path: Path, heading: str, section: str) -> None:
    """Replace the "## ``heading``" section of ``path`` (up to the next "## " heading) with
    ``section``, or append it."""
    text = path.read_text() if path.exists() else ""
    start = text.find(f"\n## {heading}\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[: start + 1] + section + (text[end + 1:] if end != -1 else "")
    path.write_text(text)
