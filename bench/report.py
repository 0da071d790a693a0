"""Write bench/RESULTS.md from what bench/run.sh (or bench/stories.sh) collected in its work
directory.

    python bench/report.py WORK_DIR OUTPUT.md             # the directory results (run.sh)
    python bench/report.py --stories WORK_DIR OUTPUT.md   # only the Stories section (stories.sh)

Each leaves the other's part of the file as it is: the Stories section sits between
``STORIES_START`` and ``STORIES_END``, with notes written by hand after ``NOTES_MARK``, which a
re-run keeps.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

STORIES_START = "<!-- stories:start (bench/stories.sh writes this section) -->"
STORIES_END = "<!-- stories:end -->"
NOTES_MARK = "<!-- stories:notes (written by hand; a re-run keeps them) -->"
STEP = re.compile(r"^\s+(?P<name>\S.*?)\s+(?P<rows>[\d,]+) rows\s+(?P<secs>[\d.]+) s")
TOTAL = re.compile(r"^Done: (?P<rows>[\d,]+) rows in (?P<secs>[\d.]+) s")


def generate_table(text: str) -> str:
    lines = ["| Step | Rows | Seconds | Rows/s |", "|---|---:|---:|---:|"]
    for line in text.splitlines():
        if match := STEP.match(line):
            rows = int(match["rows"].replace(",", ""))
            secs = float(match["secs"])
            rate = f"{rows / secs:,.0f}" if rows and secs else ""
            lines.append(f"| {match['name']} | {rows:,} | {secs:.2f} | {rate} |")
        elif match := TOTAL.match(line):
            rows = int(match["rows"].replace(",", ""))
            secs = float(match["secs"])
            lines.append(f"| **all** | **{rows:,}** | **{secs:.2f}** | **{rows / secs:,.0f}** |")
    return "\n".join(lines)


def load_table(results: list[dict]) -> str:
    base = next((r for r in results if r["label"] == "bare"), None)
    lines = [
        "| Page | Paths | Requests | Errors | Req/s | p50 ms | p95 ms | p99 ms | max ms | p50 - bare | p95 - bare |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        capped = " (time cap)" if r["capped"] else ""
        extra = (f"{r['p50_ms'] - base['p50_ms']:.1f} | {r['p95_ms'] - base['p95_ms']:.1f}"
                 if base else " | ")
        lines.append(
            f"| {r['label']}{capped} | {r['paths']} | {r['requests']} | {r['errors']} | "
            f"{r['rps']:.1f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['max_ms']:.1f} | {extra} |"
        )
    return "\n".join(lines)


def growth_table(scales: list[str], loads: dict[str, list[dict]]) -> str:
    small, large = scales[0], scales[-1]
    by_label = {r["label"]: r for r in loads[large]}
    lines = [
        f"| Page | p50 at {small} | p50 at {large} | ratio | p95 at {small} | p95 at {large} | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in loads[small]:
        big = by_label.get(r["label"])
        if not big:
            continue
        lines.append(
            f"| {r['label']} | {r['p50_ms']:.1f} | {big['p50_ms']:.1f} | "
            f"{big['p50_ms'] / r['p50_ms']:.2f}x | {r['p95_ms']:.1f} | {big['p95_ms']:.1f} | "
            f"{big['p95_ms'] / r['p95_ms']:.2f}x |"
        )
    return "\n".join(lines)


def main(work: Path, out: Path) -> None:
    meta = json.loads((work / "meta.json").read_text())
    scales: list[str] = meta["scales"]
    loads = {s: json.loads((work / f"load-{s}.json").read_text()) for s in scales}
    solos = {s: json.loads((work / f"solo-{s}.json").read_text()) for s in scales}
    counts = {s: json.loads((work / f"counts-{s}.json").read_text()) for s in scales}
    parts = [
        "# Benchmark results",
        "",
        "Written by `bench/run.sh` (`make bench`); every figure below was measured in the run "
        "described here. Re-run to refresh.",
        "",
        f"- **Date:** {meta['date']}",
        f"- **Command:** `{meta['command']}`",
        f"- **Machine:** {meta['machine']} — shared with other work, so expect noise of "
        "±20% between runs",
        f"- **Software:** {meta['software']}",
        f"- **Server:** gunicorn, {meta['workers']} sync workers on 127.0.0.1, DEBUG off, "
        "production settings (WhiteNoise manifest static files, Redis cache and sessions, "
        "JSON logs), PostgreSQL on the same machine",
        f"- **Load:** `bench/load.py` on the same machine, in two passes per scale: *one at a "
        f"time* ({meta['solo_requests']} requests per page from one thread: the page's own "
        f"time) and *under load* ({meta['requests']} requests per page from "
        f"{meta['concurrency']} threads against {meta['workers']} workers: requests queue); "
        f"{meta['warmup']} unmeasured warm-up requests first, a cap of {meta['duration']} s per "
        "page; each page rotates through up to 40 different records (or 10 search terms)",
        "- **Baseline:** `bare` is `/bench/bare`, a view that returns \"ok\" through the same "
        "middleware; `- bare` columns are a page's own cost over the framework's",
        "",
        "## Data",
        "",
        "| Scale | " + " | ".join(counts[scales[0]].keys()) + " |",
        "|---|" + "---:|" * len(counts[scales[0]]) + "",
    ]
    for s in scales:
        values = [f"{v:,}" if isinstance(v, int) else str(v) for v in counts[s].values()]
        parts.append(f"| {s} | " + " | ".join(values) + " |")
    parts += ["", "## Generating the data (`localsocial generate --scale N` on PostgreSQL)", ""]
    for s in scales:
        parts += [f"### Scale {s}", "", generate_table((work / f"generate-{s}.txt").read_text()), ""]
    parts += ["## Pages one at a time (concurrency 1)", ""]
    for s in scales:
        parts += [f"### Scale {s}", "", load_table(solos[s]), ""]
    parts += [f"## Pages under load (concurrency {meta['concurrency']})", ""]
    for s in scales:
        parts += [f"### Scale {s}", "", load_table(loads[s]), ""]
    if len(scales) > 1:
        parts += [f"## Growth from scale {scales[0]} to scale {scales[-1]}", "",
                  "One at a time:", "", growth_table(scales, solos), "",
                  "Under load:", "", growth_table(scales, loads), ""]
    if meta.get("notes"):
        parts += ["## Notes", "", *[f"- {note}" for note in meta["notes"]], ""]
    stories = _stories_section(out.read_text() if out.exists() else "")
    out.write_text("\n".join(parts) + ("\n" + stories + "\n" if stories else ""))


def _stories_section(text: str) -> str:
    start, end = text.find(STORIES_START), text.find(STORIES_END)
    return text[start:end + len(STORIES_END)] if start >= 0 and end > start else ""


def ratio_table(sizes: list[str], runs: dict[str, list[dict]]) -> str:
    """p95 of each page at every size, and its ratio to the smallest size's p95."""
    first = sizes[0]
    by_size = {size: {r["label"]: r for r in runs[size]} for size in sizes}
    titles = [f"p95 at {int(s):,}" for s in sizes] + [f"{int(s):,} ÷ {int(first):,}" for s in sizes[1:]]
    lines = ["| Page | " + " | ".join(titles) + " |", "|---|" + "---:|" * len(titles)]
    for r in runs[first]:
        cells = [by_size[s].get(r["label"]) for s in sizes]
        values = [f"{c['p95_ms']:.1f}" if c else "" for c in cells]
        ratios = [f"{c['p95_ms'] / r['p95_ms']:.2f}x" if c and r["p95_ms"] else "" for c in cells[1:]]
        lines.append(f"| {r['label']} | " + " | ".join(values + ratios) + " |")
    return "\n".join(lines)


def stories_section(work: Path, previous: str) -> str:
    meta = json.loads((work / "meta.json").read_text())
    sizes: list[str] = meta["scales"]
    loads = {s: json.loads((work / f"load-{s}.json").read_text()) for s in sizes}
    solos = {s: json.loads((work / f"solo-{s}.json").read_text()) for s in sizes}
    counts = {s: json.loads((work / f"counts-{s}.json").read_text()) for s in sizes}
    parts = [
        STORIES_START,
        "## Stories",
        "",
        "Written by `bench/stories.sh`; every figure in this section was measured in the run "
        "described here (the directory results above come from `bench/run.sh`).",
        "",
        f"- **Date:** {meta['date']}; **code:** commit `{meta['commit']}`",
        f"- **Command:** `{meta['command']}`",
        f"- **Machine:** {meta['machine']}; load average at the end of the run "
        f"{meta['load_average']} — shared with other work, so expect noise between runs",
        f"- **Software:** {meta['software']}",
        f"- **Server and load:** as above: gunicorn, {meta['workers']} sync workers, production "
        f"settings; *one at a time* is {meta['solo_requests']} requests per page from one "
        f"thread, *under load* {meta['requests']} requests per page from "
        f"{meta['concurrency']} threads; {meta['warmup']} warm-up requests, a cap of "
        f"{meta['duration']} s per page; each page rotates through up to 40 records or 10 words",
        "- **Pages:** `story list` is /stories/; `organisation story list` the 10 organisations "
        "with the most stories (trusts, hospitals and councils: each lists every story of every service "
        "below it); "
        "`story page` 40 published stories with responses; `search` /stories/?q= with 5 common "
        "words (in most stories) and 10 rare ones (in a few in ten thousand); `dashboard` the "
        "same 10 organisations' dashboards, signed in as a generated moderator",
        "- **Target:** p95 under 100 ms at 1,000,000 stories, and no more than 1.5x the "
        "10,000-story figure",
        "",
        "### Data",
        "",
        "| Stories | " + " | ".join(counts[sizes[0]].keys()) + " |",
        "|---|" + "---:|" * len(counts[sizes[0]]),
    ]
    for s in sizes:
        values = [f"{v:,}" if isinstance(v, int) else str(v) for v in counts[s].values()]
        parts.append(f"| {int(s):,} | " + " | ".join(values) + " |")
    parts += ["", "### Generating the stories (`localsocial generate --scale S --stories N`)", ""]
    for s in sizes:
        text = (work / f"generate-{s}.txt").read_text()
        table = generate_table(text)
        parts += [f"#### {int(s):,} stories", "", table if table.count("\n") > 1 else text.strip(), ""]
    parts += [f"### p95 against {int(sizes[0]):,} stories", "", "One at a time:", "", ratio_table(sizes, solos), "",
              f"Under load (concurrency {meta['concurrency']}):", "", ratio_table(sizes, loads), ""]
    parts += ["### Pages one at a time (concurrency 1)", ""]
    for s in sizes:
        parts += [f"#### {int(s):,} stories", "", load_table(solos[s]), ""]
    parts += [f"### Pages under load (concurrency {meta['concurrency']})", ""]
    for s in sizes:
        parts += [f"#### {int(s):,} stories", "", load_table(loads[s]), ""]
    notes = previous.find(NOTES_MARK)
    parts += [previous[notes:previous.find(STORIES_END)].rstrip() if notes >= 0 else NOTES_MARK, "",
              STORIES_END]
    return "\n".join(parts)


def main_stories(work: Path, out: Path) -> None:
    text = out.read_text() if out.exists() else ""
    previous = _stories_section(text)
    section = stories_section(work, previous)
    if previous:
        text = text.replace(previous, section)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    out.write_text(text)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--stories":
        main_stories(Path(sys.argv[2]), Path(sys.argv[3]))
    elif len(sys.argv) == 3:
        main(Path(sys.argv[1]), Path(sys.argv[2]))
    else:
        sys.exit(__doc__)
