"""Write bench/RESULTS.md from what bench/run.sh collected in its work directory.

    python bench/report.py WORK_DIR OUTPUT.md
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

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
    out.write_text("\n".join(parts))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
